#!/usr/bin/env bash
# One-step set-up on Debian 12 (as root): install what is missing, build,
# then run the seed example (`./setup.sh demo`) or the whole test suite
# (`./setup.sh test`).
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-demo}
case "$mode" in
  demo|test|build) ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
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

build_type=${NOMOS_BUILD_TYPE:-Release}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j "${NOMOS_JOBS:-2}"

case "$mode" in
  demo) build/tools/nomos demo ;;
  test) ctest --test-dir build -j "${NOMOS_JOBS:-2}" --output-on-failure ;;
esac
