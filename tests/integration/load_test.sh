#!/usr/bin/env bash
# load_test.sh — sixteen readers of logs and status files in parallel while the
# poller runs every second, launches land and ctl refreshes arrive: no
# deadlock (every read and ctl write returns within a bound), no torn read (a finished log
# reads back byte for byte every round; a running log only ever grows by
# appending; every status is one well-formed line; every info.json is valid
# JSON), no crash (the mount and the process are alive at the end).
# tests/run.sh also runs it with the ThreadSanitizer build of mmcfs; any
# report from TSan in mmcfs's log fails it.
#
#   bash tests/integration/load_test.sh path/to/mmcfs [SECONDS]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: load_test.sh path/to/mmcfs [SECONDS]}")"
duration="${2:-${MMCFS_LOAD_SECONDS:-15}}"
readers=16
read_bound=20   # seconds one read may take before it counts as a hang
require_mount_env

new_workspace load
test_cleanup() { on_cluster beta scancel -u mmcfsuser >/dev/null 2>&1 || true; }

example_config "gpu_cache_seconds: 1" "job_poll_seconds: 1" "connect_timeout_seconds: 3" "command_timeout_seconds: 20"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
check "mounts" mountpoint -q "$mnt"
P="$mnt/projects/example"

launch() {  # launch NAME CLUSTER SLEEP_SECONDS
  printf 'name: %s\ncluster: %s\npartition: general\ncpus_per_task: 1\nmemory: 100M\ntime_limit: "00:05:00"\nparams:\n  train.sleep_seconds: %s\n' \
    "$1" "$2" "$3" >"$work/$1.yaml"
  cp "$work/$1.yaml" "$P/new/$1.yaml"
}
job_named() { ls "$mnt/jobs" | grep -- "-$1\$" | head -n 1; }

# A job that finishes: its log is the reference every reader compares with.
check "a short job launches" launch done alpha 0
done_job=$(job_named done)
check "it completes" wait_for 120 grep -q '^COMPLETED' "$mnt/jobs/$done_job/status"
check "its whole log is there" wait_for 60 grep -q 'exiting with 0' "$mnt/jobs/$done_job/log"
cat "$mnt/jobs/$done_job/log" >"$work/reference.log"
# A job that keeps running on each cluster while the readers read.
check "a long job launches on alpha" launch longa alpha 300
check "a long job launches on beta" launch longb beta 300
long_a=$(job_named longa)

# --- the readers ---------------------------------------------------------------
reader() {  # reader N — loops until the stop file appears; writes rounds/failures
  local n="$1" rounds=0 prev="" cur
  local fail="$work/reader-$n.fail"
  while [[ ! -e "$work/stop" ]]; do
    # every status: one line, a state word first
    local s
    for s in "$mnt"/jobs/*/status; do
      cur=$(timeout "$read_bound" cat "$s") || { echo "read of $s failed or hung (rc $?)" >>"$fail"; continue; }
      [[ "$cur" =~ ^[A-Z_]+( |$) && "$cur" != *$'\n'* ]] || echo "malformed status in $s: '$cur'" >>"$fail"
    done
    # the finished log, byte for byte
    timeout "$read_bound" cat "$mnt/jobs/$done_job/log" >"$work/reader-$n.log" ||
      echo "read of the finished log failed or hung" >>"$fail"
    cmp -s "$work/reference.log" "$work/reader-$n.log" || echo "finished log differs in round $rounds" >>"$fail"
    # the running log only grows by appending
    cur=$(timeout "$read_bound" cat "$mnt/jobs/$long_a/log" | od -An -tx1 | tr -d ' \n') ||
      echo "read of the running log failed or hung" >>"$fail"
    [[ "$cur" == "$prev"* ]] || echo "running log is not an extension of the previous read in round $rounds" >>"$fail"
    prev="$cur"
    # listings, stat, JSON
    timeout "$read_bound" ls -l "$mnt/jobs" "$mnt/clusters/alpha" >/dev/null || echo "ls failed or hung" >>"$fail"
    timeout "$read_bound" jq -e .state "$mnt/jobs/$long_a/info.json" >/dev/null || echo "info.json unreadable" >>"$fail"
    timeout "$read_bound" cat "$mnt/clusters/alpha/gpus" "$mnt/gpus/H100" "$mnt/clusters/alpha/queue" \
      "$mnt/.mmcfs/stats" "$mnt/jobs/$long_a/ctl" "$mnt/jobs/$long_a/links" >/dev/null || echo "cluster, stats or ctl files failed" >>"$fail"
    rounds=$((rounds + 1))
  done
  echo "$rounds" >"$work/reader-$n.rounds"
}
for i in $(seq 1 "$readers"); do reader "$i" & done

# --- meanwhile: launches and refreshes -------------------------------------------
end=$((SECONDS + duration))
launched=0
refreshed=0
while ((SECONDS < end)); do
  if ((launched < 3)); then
    launch "busy$launched" alpha 0 2>>"$work/launch-errors" || echo "launch busy$launched failed" >>"$work/launch-errors"
    launched=$((launched + 1))
  fi
  for ctl in "$mnt"/jobs/*/ctl; do
    timeout "$read_bound" bash -c "echo refresh >'$ctl'" 2>>"$work/refresh-errors" && refreshed=$((refreshed + 1))
  done
  sleep 0.5
done
touch "$work/stop"
stopped_by=$((SECONDS + read_bound * 3))
while (($(jobs -rp | wc -l) > 0)) && ((SECONDS < stopped_by)); do sleep 0.2; done

check "every reader finished (no hang)" bash -c "[[ \$(ls '$work'/reader-*.rounds 2>/dev/null | wc -l) -eq $readers ]]"
total=$(cat "$work"/reader-*.rounds 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
echo "      $readers readers did $total rounds in ${duration} s"
check "readers made progress" bash -c "((${total:-0} >= $readers))"
check "no read failed, hung or tore" bash -c "! cat '$work'/reader-*.fail 2>/dev/null | grep -q ."
cat "$work"/reader-*.fail 2>/dev/null | sort | uniq -c | head -20
check "the launches during the load landed" bash -c "[[ ! -s '$work/launch-errors' ]] &&
  [[ \$(ls '$mnt/jobs' | grep -c -- '-busy[0-9]\$') -eq $launched ]]"
check "ctl refreshes were served during the load ($refreshed)" bash -c "(($refreshed > 0))"
check "mmcfs is alive and mounted" bash -c "kill -0 ${MOUNT_PIDS[0]} && mountpoint -q '$mnt'"

cd /
fusermount3 -u "$mnt"
check "unmounts cleanly" wait_for 20 bash -c "! kill -0 ${MOUNT_PIDS[0]} 2>/dev/null"
check "ThreadSanitizer reported nothing" bash -c "! grep -q 'ThreadSanitizer' '$work/mmcfs.log'"
grep -A40 -m1 'WARNING: ThreadSanitizer' "$work/mmcfs.log" | head -60
finish
