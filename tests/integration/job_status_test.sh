#!/usr/bin/env bash
# job_status_test.sh — fresh status files through a real mount: with a 2 s
# poll interval, a running job's jobs/<id>/status mtime follows SLURM's
# confirmations; a quick job's next `cat status` shows COMPLETED within two
# poll cycles of its end (no stale kernel cache); while alpha's sshd is
# stopped, status still reads at once, saying since when alpha is
# unreachable and how old the state is, and the note goes once it is back.
#
#   bash tests/integration/job_status_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: job_status_test.sh path/to/mmcfs}")"
require_mount_env

new_workspace job-status
test_cleanup() { bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1 || true; }  # the test stops it
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"

example_config "gpu_cache_seconds: 2" "job_poll_seconds: 2" "connect_timeout_seconds: 3" "command_timeout_seconds: 20"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
P="$mnt/projects/example"

launch() {  # launch NAME SLEEP_SECONDS
  printf 'name: %s\ncluster: alpha\npartition: general\ngpu_type: ""\ngpus_per_node: 0\ncpus_per_task: 1\nmemory: 100M\ntime_limit: "00:05:00"\nparams:\n  train.sleep_seconds: %s\n' \
    "$1" "$2" >"$work/$1.yaml"
  cp "$work/$1.yaml" "$P/new/$1.yaml"
}
json_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("" if v is None else v)' "$@"; }
epoch() { date -d "$1" +%s; }

# --- a running job: the status mtime is SLURM's last confirmation ------------
check "a long job launches" launch long 300
long=$(ls "$mnt/jobs" | grep -- '-long$')
long_slurm_id=$(json_field "$mnt/jobs/$long/info.json" slurm_id)
check "it runs" wait_for 60 grep -q '^RUNNING' "$mnt/jobs/$long/status"
m1=$(stat -c %Y "$mnt/jobs/$long/status")
check "its status mtime moves with each confirmation, the text unchanged" \
  wait_for 10 bash -c "[[ \$(stat -c %Y '$mnt/jobs/$long/status') -gt $m1 ]] && grep -qx RUNNING '$mnt/jobs/$long/status'"
check "info.json has confirmed_at, the same time as the status mtime" \
  bash -c "c=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"confirmed_at\"])' '$mnt/jobs/$long/info.json');
           m=\$(stat -c %Y '$mnt/jobs/$long/status'); d=\$(( \$(date -d \"\$c\" +%s) - m )); (( d >= -3 && d <= 3 ))"

# --- a quick job: COMPLETED within two cycles of its end -----------------------
check "a quick job launches" launch quick 0
quick=$(ls "$mnt/jobs" | grep -- '-quick$')
cat "$mnt/jobs/$quick/status" >/dev/null  # the kernel now holds its attributes
check "the next cat shows COMPLETED" wait_for 90 grep -q '^COMPLETED' "$mnt/jobs/$quick/status"
seen=$(date +%s)
ended=$(json_field "$mnt/jobs/$quick/info.json" ended_at)
check "... within two 2 s cycles (+2 s) of SLURM's end time" \
  bash -c "lag=\$(( $seen - \$(date -d '$ended' +%s) )); echo \"lag \$lag s\"; (( lag <= 6 ))"
check "a final status has no note and says exit 0" grep -qx 'COMPLETED exit 0' "$mnt/jobs/$quick/status"

# --- alpha unreachable: cached state, with its age --------------------------------
bash "$TESTCLUSTER" sshd-stop alpha >/dev/null 2>&1
on_cluster alpha true >/dev/null 2>&1 && check "alpha's sshd stopped" false
check "status says alpha is unreachable and how old the state is" \
  wait_for 20 grep -Eq '^RUNNING \(alpha unreachable since [0-9]{2}:[0-9]{2}:[0-9]{2}; state as of [0-9]+ s ago\)$' "$mnt/jobs/$long/status"
start=$(date +%s%N)
text=$(cat "$mnt/jobs/$long/status")
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "it reads at once from cache (${took} ms)" bash -c "(( $took < 500 ))"
check "the quick job's final status is unchanged" grep -qx 'COMPLETED exit 0' "$mnt/jobs/$quick/status"
echo "      status while down: $text"
bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1
check "once alpha answers again the note goes" wait_for 40 grep -qx 'RUNNING' "$mnt/jobs/$long/status"

on_cluster alpha scancel "$long_slurm_id" >/dev/null 2>&1
check "a cancel shows at the next read" wait_for 20 grep -q '^CANCELLED' "$mnt/jobs/$long/status"
finish
