#!/usr/bin/env bash
# mount_test.sh — the first mount against the real local clusters: clusters/,
# GPU figures from real SLURM, a job changing them, a dead cluster, bad host
# and user keys, read-only refusals, persistence across a restart, and a
# clean unmount on SIGTERM.
#
#   bash tests/integration/mount_test.sh path/to/mmcfs
# Needs root, /dev/fuse and MMCFS_TEST_CLUSTERS (tests/run.sh provides all).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: mount_test.sh path/to/mmcfs}")"
require_mount_env

new_workspace mount
test_cleanup() {
  bash "$TESTCLUSTER" sshd-start beta >/dev/null 2>&1 || true  # the test stops both
  bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1 || true
  [[ -n "${SSH_AGENT_PID:-}" ]] && ssh-agent -k >/dev/null 2>&1
}

# The test clusters' config, with a short GPU cache so a change shows quickly.
config="$work/clusters.yaml"
{ printf 'settings:\n  gpu_cache_seconds: 2\n  connect_timeout_seconds: 3\n  command_timeout_seconds: 10\n'; cat "$MMCFS_TEST_CLUSTERS"; } >"$config"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
check "mounts" mountpoint -q "$mnt"
cd "$mnt" || exit 1
wait_for 20 grep -q '^up:' clusters/alpha/status
wait_for 20 grep -q '^up:' clusters/beta/status

# --- the tree -------------------------------------------------------------
check "ls shows README archive clusters gpus jobs projects" expect_eq "README archive clusters gpus jobs projects" "$(ls | tr '\n' ' ' | sed 's/ $//')"
check "ls clusters shows alpha and beta" expect_eq "alpha beta" "$(ls clusters | tr '\n' ' ' | sed 's/ $//')"
check "cluster dir has its files" expect_eq "config.yaml gpus gpus.json partitions queue status" \
  "$(ls clusters/alpha | tr '\n' ' ' | sed 's/ $//')"
check "alpha status is up with round trip and SLURM version" \
  grep -Eq '^up: [0-9]+ ms round trip, SLURM 22\.05' clusters/alpha/status
check "status mtime is the last check (within a minute)" \
  bash -c "(( \$(date +%s) - \$(stat -c %Y clusters/alpha/status) < 60 ))"
check "config.yaml is the loaded entry" grep -Eq '^name: "?alpha"?$' clusters/alpha/config.yaml
check "README explains the tree" grep -q 'clusters/<name>/gpus' README

# --- partitions and GPUs --------------------------------------------------
check "alpha partitions: general and preempt" \
  expect_eq "general preempt" "$(awk 'NR>1 && !/^#/ {print $1}' clusters/alpha/partitions | tr '\n' ' ' | sed 's/ $//')"
check "general is up and the default" bash -c "awk '\$1==\"general\" && \$2==\"up\" && \$5==\"yes\"' clusters/alpha/partitions | grep -q ."
check "beta partitions: general only" \
  expect_eq "general" "$(awk 'NR>1 && !/^#/ {print $1}' clusters/beta/partitions | tr '\n' ' ' | sed 's/ $//')"
check "alpha A6000: 2 free" expect_eq 2 "$(table_field clusters/alpha/gpus A6000 4)"
check "alpha A100: 2 free" expect_eq 2 "$(table_field clusters/alpha/gpus A100 4)"
check "alpha A100 on the down/drained node is unavailable, never free" \
  expect_eq 2 "$(table_field clusters/alpha/gpus A100 6)"
check "alpha shows only allowed types" expect_eq "A100 A6000" \
  "$(awk 'NR>1 && !/^#/ {print $1}' clusters/alpha/gpus | tr '\n' ' ' | sed 's/ $//')"
check "gpus.json is valid JSON with the same figures" \
  expect_eq 2 "$(jq '.gpus[] | select(.type == "A100") | .free' clusters/alpha/gpus.json)"
check "ls gpus lists every type" expect_eq "A100 A6000 H100" "$(ls gpus | tr '\n' ' ' | sed 's/ $//')"
check "gpus/H100 shows beta with 2 free" expect_eq 2 "$(table_field gpus/H100 beta 4)"
check "gpus/H100 does not list alpha" bash -c "! grep -q '^alpha' gpus/H100"
check "gpus/h100 works regardless of case" grep -q '^beta' gpus/h100

# --- behaves like a normal read-only tree ---------------------------------
sizes_match() {
  local f
  while IFS= read -r f; do
    [[ $(stat -c %s "$f") -eq $(wc -c <"$f") ]] || { echo "size mismatch: $f"; return 1; }
  done < <(find . -type f)
}
check "stat size equals bytes read for every file" sizes_match
check "find lists every file" expect_eq 17 "$(find . -type f | wc -l)"  # + clusters/*/queue, .mmcfs/stats
check "grep -r finds the GPU types" bash -c "grep -rl A6000 . | grep -q clusters/alpha/gpus"
check "ls -l shows read-only modes" bash -c "ls -l clusters/alpha | grep -q '^-r--r--r--'"
check "jq reads every gpus.json" jq -e -s 'length == 2' clusters/alpha/gpus.json clusters/beta/gpus.json
refused() {  # refused ERRNO_TEXT COMMAND... — the command must fail with that error
  local want="$1"; shift
  local out; out=$("$@" 2>&1) && { echo "succeeded: $*"; return 1; }
  grep -q "$want" <<<"$out" || { echo "wrong error: $out"; return 1; }
}
check "writing a file is refused (EROFS)" refused "Read-only file system" bash -c 'echo x > clusters/alpha/status'
check "creating a file is refused" refused "Read-only file system" touch clusters/new
check "mkdir is refused" refused "Read-only file system" mkdir clusters/x
check "rm is refused" refused "Read-only file system" rm -f clusters/alpha/gpus
check "mv is refused" refused "Read-only file system" mv README README2
check "missing names are ENOENT" refused "No such file" cat clusters/gamma/status

# --- a running job changes the figures --------------------------------------
# ssh hands the remote shell one string: the --wrap script is quoted inside it.
job=$(on_cluster alpha "sbatch --parsable -p general --gres=gpu:a100:1 -c 1 --mem=100M --wrap 'sleep 300'")
check "a job holding one A100 was submitted" test -n "$job"
check "the job starts" wait_for 30 bash -c "[[ \$(on_cluster alpha squeue -h -j '$job' -o %T) == RUNNING ]]"
check "the next refresh shows A100 1 free" wait_for 20 bash -c "[[ \$(table_field clusters/alpha/gpus A100 4) == 1 ]]"
check "and A100 1 used" expect_eq 1 "$(table_field clusters/alpha/gpus A100 3)"
check "A6000 still 2 free" expect_eq 2 "$(table_field clusters/alpha/gpus A6000 4)"
on_cluster alpha scancel "$job"

# --- a dead cluster ---------------------------------------------------------
bash "$TESTCLUSTER" sshd-stop beta >/dev/null 2>&1
check "beta reads down once its sshd is gone" wait_for 30 grep -q '^down: ' clusters/beta/status
check "down names the reason" grep -Eqi 'refused|closed|connect' clusters/beta/status
fast() {  # fast COMMAND... — must finish within 1 s
  local start=$SECONDS
  timeout 2 "$@" >/dev/null || { echo "failed or hung: $*"; return 1; }
  ((SECONDS - start <= 1)) || { echo "took $((SECONDS - start)) s: $*"; return 1; }
}
check "the rest of the tree answers at once" fast cat clusters/alpha/gpus clusters/alpha/status gpus/A100
check "beta's last figures still read at once" fast cat clusters/beta/gpus gpus/H100
check "beta's figures say how old they are" grep -q '^# figures below are from' clusters/beta/gpus
check "gpus/H100 marks beta down" grep -Eq '^beta .*down' gpus/H100
bash "$TESTCLUSTER" sshd-start beta >/dev/null 2>&1
check "beta comes back up by itself" wait_for 40 grep -q '^up:' clusters/beta/status

# --- host key and user key failures ------------------------------------------
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"
ssh-keygen -q -t ed25519 -N '' -f "$work/other_host_key" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$work/wrong_user_key" >/dev/null
printf '[127.0.0.1]:%s %s\n' "$ALPHA_SSH_PORT" "$(cut -d' ' -f1-2 "$work/other_host_key.pub")" >"$work/changed_known_hosts"
: >"$work/empty_known_hosts"
entry() {  # entry NAME KEY KNOWN_HOSTS
  printf '  - name: %s\n    host: mmcfsuser@127.0.0.1\n    port: %s\n    ssh_key_path: "%s"\n    known_hosts: %s\n    workspace: /home/mmcfsuser/mmcfs-jobs\n' \
    "$1" "$ALPHA_SSH_PORT" "$2" "$3"
}
bad="$work/bad.yaml"
{ printf 'settings:\n  gpu_cache_seconds: 60\n  connect_timeout_seconds: 3\nclusters:\n'
  entry changedkey "$USER_KEY" "$work/changed_known_hosts"
  entry unknownkey "$USER_KEY" "$work/empty_known_hosts"
  entry wronguser "$work/wrong_user_key" "$KNOWN_HOSTS"
  entry viaagent "" "$KNOWN_HOSTS"; } >"$bad"
# The last entry has no key file: mmcfs must authenticate through ssh-agent.
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$USER_KEY" 2>/dev/null
mount_mmcfs "$MMCFS" "$bad" "$work/state-bad" "$work/mnt-bad" "$work/bad.log"
check "a second mount with bad keys" mountpoint -q "$work/mnt-bad"
check "changed host key: its own clear status" \
  wait_for 15 grep -Eq '^down: .*host key.*CHANGED' "$work/mnt-bad/clusters/changedkey/status"
check "unknown host key: its own clear status" \
  wait_for 15 grep -Eq '^down: .*host key.*not in' "$work/mnt-bad/clusters/unknownkey/status"
check "rejected user key: its own clear status" \
  wait_for 15 grep -Eq '^down: .*(refused|rejected|authentication)' "$work/mnt-bad/clusters/wronguser/status"
check "no key file: authenticates through ssh-agent" \
  wait_for 15 grep -q '^up:' "$work/mnt-bad/clusters/viaagent/status"
ssh-agent -k >/dev/null 2>&1
check "no GPU figures were fetched through a bad host key" grep -q '^# no figures yet' "$work/mnt-bad/clusters/changedkey/gpus"

# --- restart: the last figures are kept in SQLite --------------------------
cd /
fusermount3 -u "$mnt"
check "fusermount3 -u unmounts" bash -c "! mountpoint -q '$mnt'"
wait "${MOUNT_PIDS[0]}"
check "and mmcfs exits 0 after fusermount3 -u" expect_eq 0 "$?"
bash "$TESTCLUSTER" sshd-stop alpha >/dev/null 2>&1
mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs2.log"
check "remounts with the same state" mountpoint -q "$mnt"
check "with alpha down, its saved figures read at once" fast cat "$mnt/clusters/alpha/gpus"
check "saved figures are the real ones" bash -c "[[ \$(table_field '$mnt/clusters/alpha/gpus' A6000 4) == 2 ]]"
check "state database has a schema version (3 or later)" \
  bash -c "(( \$(sqlite3 '$work/state/state.db' 'PRAGMA user_version') >= 3 ))"
check "jobs keep when SLURM last confirmed them (schema 3)" \
  bash -c "sqlite3 '$work/state/state.db' 'PRAGMA table_info(jobs)' | grep -q '|confirmed_at_ms|'"
bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1

# --- SIGTERM unmounts cleanly --------------------------------------------
pid="${MOUNT_PIDS[-1]}"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM: mmcfs exits 0" expect_eq 0 "$?"
check "SIGTERM: the mount is gone" bash -c "! mountpoint -q '$mnt'"

finish
