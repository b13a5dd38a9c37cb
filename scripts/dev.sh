#!/usr/bin/env bash
# dev.sh - the two things a new ptkit developer does, on a fresh Debian machine:
#   scripts/dev.sh demo   build, then run `ptctl demo`
#   scripts/dev.sh test   build and run every test: the plain build (with the
#                         QEMU test kernels), then the whole suite again
#                         under ASan+UBSan, the concurrency tests under
#                         ThreadSanitizer, the fuzzer for a minute, and
#                         a sample of scripts/mutate
#   scripts/dev.sh bench  a release build (no debug assertions): ptctl bench,
#                         then instructions per operation under callgrind
# Installs what is missing (apt-get, as root or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake make gcc pkg-config libcmocka-dev liburcu-dev spin python3)
# The QEMU test kernels (tests/qemu): emulators and cross compilers.
qemu_packages=(qemu-system-x86 qemu-system-misc qemu-system-arm
               gcc-riscv64-linux-gnu gcc-aarch64-linux-gnu)
# libFuzzer comes with clang's runtime.
fuzz_packages=(clang libclang-rt-14-dev)
# Frama-C's WP proofs of the pure and entry layers (tests/wp).
wp_packages=(frama-c-base why3 z3 cvc4)
jobs=$(nproc 2>/dev/null || echo 2)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "dev.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure() { # configure DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
}

build() { # build DIR [cmake args...]
  configure "$@"
  cmake --build "$1" -j "$jobs"
}

# Each phase of `test` says how long it took: CI has a budget.
phase_start=$SECONDS
phase() {
  echo "dev.sh: $1 ($((SECONDS - phase_start)) s since the start)"
}

case "${1:-}" in
  demo)
    install_missing
    build build
    ./build/tools/ptctl/ptctl demo
    ;;
  test)
    packages+=(graphviz "${qemu_packages[@]}" "${fuzz_packages[@]}" "${wp_packages[@]}")
    install_missing
    phase "plain build"
    build build
    phase "plain tests"
    ctest --test-dir build --output-on-failure -j "$jobs"
    # The Spin model, the WP proofs and the QEMU kernels do not change
    # under sanitizers: checked once above, not even built below.
    phase "ASan+UBSan build"
    build build-asan -DPTKIT_SANITIZE=ON -DPTKIT_QEMU_TESTS=OFF
    phase "ASan+UBSan tests"
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE 'spin|wp|qemu'
    # ThreadSanitizer (gcc's libtsan2 comes with gcc): only the concurrency
    # tests (label conc, target ptkit_conc_tests); liburcu's own internals
    # are suppressed, nothing of ptkit (tests/concurrency/tsan.supp).
    phase "TSan build"
    configure build-tsan -DPTKIT_TSAN=ON -DPTKIT_BUILD_TOOLS=OFF -DPTKIT_QEMU_TESTS=OFF
    cmake --build build-tsan -j "$jobs" --target ptkit_conc_tests
    phase "TSan tests"
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/concurrency/tsan.supp" \
      ctest --test-dir build-tsan -L conc --output-on-failure -j "$jobs"
    # libFuzzer over operation sequences (tests/fuzz), for a bounded time.
    phase "fuzzer build"
    # A minute: the corpus replay (fuzz_regress, in both trees above) is
    # the regression test; this run only looks further, within CI's budget.
    CC=clang configure build-fuzz -DPTKIT_SANITIZE=ON -DPTKIT_FUZZ=ON -DPTKIT_BUILD_TOOLS=OFF \
      -DPTKIT_QEMU_TESTS=OFF -DPTKIT_FUZZ_SECONDS=60
    cmake --build build-fuzz -j "$jobs" --target fuzz_ops
    phase "fuzzer run"
    ctest --test-dir build-fuzz -R fuzz_run --output-on-failure
    # Mutants of src/ the fast tests must kill (a fixed, seeded sample;
    # `scripts/mutate --full` runs them all, for hours).
    phase "mutation sample"
    scripts/mutate --sample 2 --seed 1
    phase "done"
    ;;
  bench)
    packages+=(valgrind)
    install_missing
    build build-release -DCMAKE_BUILD_TYPE=Release -DPTKIT_BUILD_TESTS=OFF
    ./build-release/tools/ptctl/ptctl bench
    bash bench/callgrind.sh build-release/tools/ptctl/ptctl
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test|bench" >&2
    exit 2
    ;;
esac
