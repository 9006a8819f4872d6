#ifndef CNCURSESW_SHIM_H
#define CNCURSESW_SHIM_H
/* SwiftPM drops ncursesw.pc's -D_XOPEN_SOURCE=600, so the wide-character API must be enabled
 * here, before <ncurses.h>, or cchar_t and friends do not exist. */
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncurses.h>

/* Macros and globals Swift cannot import. */
static inline WINDOW *rs_stdscr(void) { return stdscr; }
static inline attr_t rs_a_bold(void) { return A_BOLD; }
static inline attr_t rs_a_dim(void) { return A_DIM; }
static inline attr_t rs_a_reverse(void) { return A_REVERSE; }
static inline attr_t rs_a_underline(void) { return A_UNDERLINE; }
static inline attr_t rs_a_italic(void) { return A_ITALIC; }
static inline int rs_key_f(int n) { return KEY_F(n); }
static inline int rs_colors(void) { return COLORS; }

/* Puts one cell: a grapheme (NUL-terminated wide string), attributes and an extended pair. */
static inline int rs_put_cell(WINDOW *w, int y, int x, const wchar_t *glyph, attr_t a, int pair) {
    cchar_t cc;
    setcchar(&cc, glyph, a, 0, &pair);
    return mvwadd_wch(w, y, x, &cc);
}
#endif
