#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
/* Debian: /usr/include/x86_64-linux-gnu/cblas.h (alternatives), openblas.pc adds -I.../openblas-pthread/ */
#include <cblas.h>
#endif
