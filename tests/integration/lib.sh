# lib.sh — helpers for the shell integration tests (sourced, not run).
#
# A test script calls `check NAME COMMAND...` for each assertion, and ends with
# `finish`, which prints "N passed, N failed" and exits non-zero on failure.
# Waiting is always bounded: `wait_for SECONDS COMMAND...` polls, never sleeps
# blindly past a condition.

passed=0
failed=0
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$TESTS_DIR/.." && pwd)"
TESTCLUSTER="$TESTS_DIR/cluster/testcluster.sh"

check() {  # check NAME COMMAND...
  local name="$1"; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); printf 'ok    %s\n' "$name"
  else
    failed=$((failed + 1)); printf 'FAIL  %s\n' "$name"
    [[ -n "$out" ]] && printf '%s\n' "$out" | sed 's/^/      | /' | head -40
  fi
}

wait_for() {  # wait_for SECONDS COMMAND... — polls every 0.2 s
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

skip() { echo "SKIP: $*"; exit 77; }

require_mount_env() {
  [[ $(id -u) -eq 0 ]] || skip "integration tests need root"
  [[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
  command -v fusermount3 >/dev/null || skip "fusermount3 is missing (apt-get install fuse3)"
  [[ -n "${MMCFS_TEST_CLUSTERS:-}" && -f "${MMCFS_TEST_CLUSTERS}" ]] ||
    skip "MMCFS_TEST_CLUSTERS is not set: start the clusters with tests/cluster/testcluster.sh up (tests/run.sh does this)"
}

# Field N (1-based) of the row whose first column is KEY in a table file.
table_field() {  # table_field FILE KEY N
  awk -v k="$2" -v n="$3" '!/^#/ && $1 == k { print $n; found=1 } END { exit !found }' "$1"
}

expect_eq() {  # expect_eq WANT GOT [WHAT]
  [[ "$1" == "$2" ]] || { echo "expected '${1}', got '${2}' ${3:-}"; return 1; }
}

# Runs a command as the test user on cluster NAME through the real sshd.
on_cluster() {  # on_cluster NAME COMMAND...
  local name="$1"; shift
  # shellcheck disable=SC1090
  source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"
  local port_var="${name^^}_SSH_PORT"
  ssh -q -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN_HOSTS" \
    -i "$USER_KEY" -p "${!port_var}" mmcfsuser@127.0.0.1 "$@"
}

export -f on_cluster table_field

MOUNT_PIDS=()
MOUNT_POINTS=()
# mount_mmcfs MMCFS_BINARY CONFIG STATE_DIR MOUNTPOINT LOGFILE
mount_mmcfs() {
  mkdir -p "$4"
  "$1" -f --config "$2" --state "$3" "$4" >"$5" 2>&1 &
  MOUNT_PIDS+=($!)
  MOUNT_POINTS+=("$4")
  wait_for 15 mountpoint -q "$4" || { echo "mount at $4 did not appear; log:"; cat "$5"; return 1; }
}

unmount_all() {
  local m
  for m in "${MOUNT_POINTS[@]}"; do
    if mountpoint -q "$m"; then fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done
  local p
  for p in "${MOUNT_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${MOUNT_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

# --- A test's workspace and config -------------------------------------------
# new_workspace NAME — a fresh work directory /tmp/mmcfs-NAME-test.XXXXXX
# (mode 755: the cluster user reads the example repository's remote), and a
# trap that cleans up on exit. Sets `work`, `mnt` ($work/mnt) and `remotes`
# (the test's bare git remotes, under /var/tmp/mmcfs-test-remotes where the
# test clusters can clone them). The cleanup runs the test's own
# `test_cleanup` first when it defines one (processes it started, an sshd it
# stopped), then unmounts every mount of the test, cancels the test user's
# jobs on alpha and removes both directories.
new_workspace() {
  work=$(mktemp -d "/tmp/mmcfs-$1-test.XXXXXX")
  chmod 755 "$work"
  mnt="$work/mnt"
  remotes="/var/tmp/mmcfs-test-remotes/$(basename "$work")"
  trap cleanup_workspace EXIT
}

cleanup_workspace() {
  cd /
  if declare -F test_cleanup >/dev/null; then test_cleanup; fi
  unmount_all
  on_cluster alpha scancel -u mmcfsuser >/dev/null 2>&1 || true
  rm -rf "$work" "$remotes"
}

# example_config [SETTING...] — the example project (examples/make-example-repo.sh,
# with its bare remote in $remotes) and $work/clusters.yaml: `settings:` with
# each SETTING ("key: value") as a line, the project, and the test clusters.
# Sets `repo` and `config`.
example_config() {
  repo=$(bash "$REPO_DIR/examples/make-example-repo.sh" "$work/example" "$remotes/example.git")
  config="$work/clusters.yaml"
  {
    echo "settings:"
    local setting; for setting in "$@"; do printf '  %s\n' "$setting"; done
    printf 'projects:\n  - name: example\n    path: %s\n' "$repo"
    cat "$MMCFS_TEST_CLUSTERS"
  } >"$config"
}

finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
