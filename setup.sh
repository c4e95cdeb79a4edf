#!/usr/bin/env bash
# One-step set-up on Debian 12 (as root): install what is missing, build,
# then run the seed example (`./setup.sh demo`) or the whole test suite
# (`./setup.sh test`: the tests, then the sanitizer build's tests and a short
# fuzzing run, as `./setup.sh sanitize` does alone; docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-demo}
case "$mode" in
  demo|test|build|sanitize) ;;
  *) echo "usage: $0 demo|test|build|sanitize" >&2; exit 2 ;;
esac

packages=(
  cmake ninja-build ccache
  llvm-19-dev clang-19 lld-19          # LLVM 19 (linked statically), guest toolchain
  libedit-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev libxml2-dev libz3-dev
  binaryen                             # libbinaryen.so + binaryen-c.h (108)
  wabt                                 # wat2wasm, wast2json (tests)
  libgtest-dev libexpected-dev libcli11-dev
  liblmdb-dev                          # the durable store
  pkgconf                              # pkg-config (tests: embedding with nomos.pc)
  wasi-libc libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 libclang-rt-19-dev-wasm32
                                       # guests with the C/C++ standard library
  libclang-rt-19-dev                   # sanitizers and libFuzzer (clang-19)
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=${NOMOS_JOBS:-2}

# ASan + UBSan (clang-19) over Nomos's own code, with the libFuzzer targets:
# the whole test suite (the spec suite included), each fuzzer for
# NOMOS_FUZZ_SECONDS, and NOMOS_DIFF_MODULES differential modules.
sanitize() {
  cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DNOMOS_SANITIZE=address,undefined -DNOMOS_FUZZ=ON >/dev/null
  cmake --build build-sanitize -j "$jobs"
  # ASan's defaults (leak checking included) need no suppression: see
  # docs/fuzzing.md. UBSan stops at its first report (-fno-sanitize-recover).
  # Left out: the second memory strategy's repeats, the installed package
  # (an embedder would need the sanitizer runtime) and the benchmark smoke test.
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
  ctest --test-dir build-sanitize -j "$jobs" --output-on-failure \
    -E '^(spec[.]explicit|explicit[.].*|install[.].*|bench[.].*)$'
  local seconds=${NOMOS_FUZZ_SECONDS:-45} seeds=build-sanitize/fuzz/seeds
  local corpus=build-sanitize/fuzz/corpus
  mkdir -p "$corpus"/{decode,run,cache}
  build-sanitize/fuzz/fuzz_decode -max_total_time="$seconds" -print_final_stats=1 \
    "$corpus/decode" "$seeds/decode"
  build-sanitize/fuzz/fuzz_run -max_total_time="$seconds" -print_final_stats=1 \
    "$corpus/run"
  build-sanitize/fuzz/fuzz_cache_entry -max_total_time="$seconds" \
    -print_final_stats=1 "$corpus/cache" "$seeds/cache"
  build-sanitize/fuzz/nomos_differential --count "${NOMOS_DIFF_MODULES:-200}" \
    --out build-sanitize/fuzz/mismatches
}

if [ "$mode" = sanitize ]; then
  sanitize
  exit 0
fi

build_type=${NOMOS_BUILD_TYPE:-Release}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j "$jobs"

case "$mode" in
  demo) build/tools/nomos demo ;;
  test)
    ctest --test-dir build -j "$jobs" --output-on-failure
    sanitize
    ;;
esac
