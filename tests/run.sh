#!/usr/bin/env bash
# run.sh — the one test command. Installs missing Debian packages, builds
# mmcfs (and again under AddressSanitizer + UBSan, and under ThreadSanitizer),
# starts the local test clusters, runs every test (unit and integration), stops
# what it started, and exits non-zero on any failure.
#
# Sanitizers: the unit tests run three times (plain, ASan+UBSan, TSan); the
# integration tests run with the plain build, and the load test
# (tests/integration/load_test.sh: 16 readers, the poller, launches and ctl
# writes at once) runs once more with the TSan build of mmcfs, which halts on
# the first report.
#
#   tests/run.sh            everything
#   tests/run.sh unit       unit tests only (fast; no clusters, no root)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tier="${1:-all}"
jobs=$(nproc)

say() { printf '\n==> %s\n' "$*" >&2; }

say "dependencies"
bash tests/install-deps.sh

say "build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

say "build unit tests with AddressSanitizer + UBSan (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMMCFS_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs" --target mmcfs_unit_tests

say "build with ThreadSanitizer (build-tsan/)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMCFS_TSAN=ON >/dev/null
cmake --build build-tsan -j "$jobs" --target mmcfs_unit_tests mmcfs
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp"

failed=0
run_ctest() {  # dir label
  if ! (cd "$1" && ctest -L "$2" --output-on-failure); then failed=1; fi
}

say "unit tests"
run_ctest build unit
say "unit tests under ASan/UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan unit
say "unit tests under ThreadSanitizer"
run_ctest build-tsan unit

if [[ "$tier" != unit ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: integration tests need root (they start SLURM, sshd and mount FUSE); run as root" >&2
    exit 1
  fi
  # Leave the clusters as we found them: stop them afterwards only if we started them.
  started_clusters=0
  if ! bash tests/cluster/testcluster.sh status >/dev/null 2>&1; then started_clusters=1; fi
  cleanup() {
    if ((started_clusters)); then bash "$root/tests/cluster/testcluster.sh" down || true; fi
  }
  trap cleanup EXIT
  say "start the local test clusters"
  MMCFS_TEST_CLUSTERS=$(bash tests/cluster/testcluster.sh up | tail -n 1)
  export MMCFS_TEST_CLUSTERS
  say "integration tests (clusters: $MMCFS_TEST_CLUSTERS)"
  run_ctest build integration
  say "load test with the ThreadSanitizer build of mmcfs"
  if ! bash tests/integration/load_test.sh build-tsan/mmcfs; then failed=1; fi
fi

if ((failed)); then
  say "FAILED"
  exit 1
fi
say "all tests passed"
