#!/bin/bash
# Ringside against llama.cpp on this machine, same minutes, the product's default environment:
# prefill (pp512) and decode (tg128) of SmolLM2 and Gemma 3, and decode at 16 streams.
#
#   tools/llama-cpp/figures.sh [ROUNDS] [extra ringside flags...]     (make figures ROUNDS=3)
#
# Builds llama.cpp once from the llama-cpp-python 0.3.36 source distribution (pip download) into
# ~/.cache/ringside: natively where the CPU allows it; where it reports AMX (Sapphire Rapids
# class), with the ISA flags listed instead, since AMX faults in these VMs (PERFORMANCE.md).
# Rounds alternate the two engines: this machine is shared, so read the ratios, not the rates.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-1}
shift || true
EXTRA=("$@")
B=.build/release/ringside
SRC=$HOME/.cache/ringside/llama.cpp-0.3.36-src
BIN=$SRC/vendor/llama.cpp/build/bin

# The product's speed is the speed without variables set by hand.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS OMP_NUM_THREADS

[ -x "$B" ] || { echo "build ringside first (make build)" >&2; exit 1; }
for m in smollm2-135m-instruct gemma-3-270m; do $B models pull $m >/dev/null; done
SMOL=$($B models path smollm2-135m-instruct)
GEMMA=$($B models path gemma-3-270m)

if [ ! -x "$BIN/llama-batched-bench" ]; then
    command -v cmake >/dev/null || python3 -m pip install --user -q cmake || python3 -m pip install --user -q --break-system-packages cmake
    export PATH=$HOME/.local/bin:$PATH
    # The Swift toolchain's clang where the system has no C++ compiler.
    command -v c++ >/dev/null || export CC=clang CXX=clang++
    if [ ! -d "$SRC" ]; then
        tmp=$(mktemp -d)
        python3 -m pip download --no-deps --no-binary llama-cpp-python --disable-pip-version-check -q -d "$tmp" llama-cpp-python==0.3.36
        tar -xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"
        mkdir -p "$(dirname "$SRC")" && mv "$tmp"/llama_cpp_python-0.3.36 "$SRC" && rm -rf "$tmp"
    fi
    if grep -q -w amx_tile /proc/cpuinfo; then
        isa=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON
             -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON)
    else
        isa=(-DGGML_NATIVE=ON)
    fi
    echo "building llama.cpp (${isa[*]}), about 10 minutes on 2 cores" >&2
    (cd "$SRC/vendor/llama.cpp" && cmake -B build "${isa[@]}" -DLLAMA_CURL=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null &&
        cmake --build build -j2 --target llama-bench llama-batched-bench >/dev/null)
fi

json() { python3 -c "import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(' '.join(str(round(d[k],1)) for k in sys.argv[1:]))" "$@"; }
ours_pp_tg() { $B microbench --model "$1" --pp 512 --tg 128 --json "${EXTRA[@]}" 2>/dev/null | json prefill_tokens_per_s decode_tokens_per_s; }
theirs_pp_tg() { "$BIN/llama-bench" -m "$1" -p 512 -n 128 -t 2 -r 3 -o csv 2>/dev/null | tail -2 | awk -F, '{gsub(/"/, ""); printf "%s ", $(NF-1)} END {print ""}'; }
ours_c16() { $B engine-bench --model "$SMOL" --concurrency 16 --json "${EXTRA[@]}" 2>/dev/null | json decode_tokens_per_s; }
theirs_c16() { "$BIN/llama-batched-bench" -m "$SMOL" -c 4608 -b 2048 -ub 512 -npp 128 -ntg 128 -npl 16 -t 2 2>/dev/null | awk -F'|' '$2+0 == 128 {print $9+0}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f/%.1f = %.2fx", a, b, a / b}'; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $($B microbench --model "$SMOL" --pp 8 --tg 2 2>/dev/null | grep -m1 '^path' | grep -o 'OpenBLAS [^,]*')"
for r in $(seq "$ROUNDS"); do
    for m in "$SMOL" "$GEMMA"; do
        read -r opp otg < <(ours_pp_tg "$m")
        read -r tpp ttg < <(theirs_pp_tg "$m")
        echo "$(date +%H:%M) $(basename "$m"): pp512 $(ratio "$opp" "$tpp"), tg128 $(ratio "$otg" "$ttg")"
    done
    echo "$(date +%H:%M) $(basename "$SMOL"): c=16 decode $(ratio "$(ours_c16)" "$(theirs_c16)") (llama-batched-bench S_TG)"
done
