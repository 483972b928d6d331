#!/usr/bin/env bash
# run.sh — the one test command. Installs missing Debian packages, builds
# mmcfs (and the unit tests again under AddressSanitizer + UBSan), starts the
# local test clusters, runs every test (unit and integration), stops what it
# started, and exits non-zero on any failure.
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

failed=0
run_ctest() {  # dir label
  if ! (cd "$1" && ctest -L "$2" --output-on-failure); then failed=1; fi
}

say "unit tests"
run_ctest build unit
say "unit tests under ASan/UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan unit

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
fi

if ((failed)); then
  say "FAILED"
  exit 1
fi
say "all tests passed"
