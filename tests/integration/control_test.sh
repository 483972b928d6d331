#!/usr/bin/env bash
# control_test.sh — acting on jobs through the real mount against the real
# test clusters: `echo cancel > jobs/<id>/ctl` and `echo refresh > ctl` (the
# status says CANCELLED at once, without waiting for the 30 s poll, and the
# writes return within a bound: no deadlock), an unknown word (EINVAL, and
# `cat ctl` explains), mv to archive/ and back (listings change, files stay
# readable), a refused rename, clusters/alpha/queue showing a held job
# submitted directly with sbatch (not by mmcfs) with its reason, and
# .mmcfs/stats counting remote commands.
#
#   bash tests/integration/control_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: control_test.sh path/to/mmcfs}")"
require_mount_env
command -v jq >/dev/null || skip "jq is missing (tests/install-deps.sh installs it)"

new_workspace control

# A poll interval far longer than the test: only ctl makes the poller look.
example_config "gpu_cache_seconds: 2" "job_poll_seconds: 600" "connect_timeout_seconds: 3" "command_timeout_seconds: 20"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
check "mounts" mountpoint -q "$mnt"
P="$mnt/projects/example"

# --- a long-sleeping job ----------------------------------------------------
printf 'name: sleeper\ncluster: alpha\npartition: general\ngpu_type: A100\ngpus_per_node: 1\ncpus_per_task: 1\nmemory: 200M\ntime_limit: "00:10:00"\nparams:\n  train.sleep_seconds: 600\n' >"$work/sleeper.yaml"
check "launch a long-sleeping job" cp "$work/sleeper.yaml" "$P/new/launch.yaml"
job=$(ls "$mnt/jobs" | head -n 1)
J="$mnt/jobs/$job"
check "the job is there" test -n "$job"
check "the job dir has ctl" test -f "$J/ctl"
check "cat ctl lists the accepted words" grep -q '^accepted: refresh, cancel$' "$J/ctl"
check "ctl is writable" bash -c "[[ \$(stat -c %a '$J/ctl') == 644 ]]"
check "the job starts running (refresh polls now)" wait_for 90 bash -c "timeout 10 bash -c 'echo refresh > \"$J/ctl\"' && grep -q '^RUNNING' '$J/status'"

# --- unknown word -----------------------------------------------------------
out=$(timeout 10 bash -c "echo frobnicate > '$J/ctl'" 2>&1); rc=$?
check "an unknown word fails (echo reports the error)" bash -c "[[ $rc -ne 0 && $rc -ne 124 ]]"
check "... as EINVAL" grep -q 'Invalid argument' <<<"$out"
check "cat ctl says what was refused and why" grep -q "frobnicate: refused: unknown word 'frobnicate' in ctl: accepted: refresh, cancel" "$J/ctl"
check "the job still runs" grep -q '^RUNNING' "$J/status"

# --- cancel, then refresh: CANCELLED without waiting for the poll --------------
start=$SECONDS
check "echo cancel > ctl returns (bounded)" timeout 20 bash -c "echo cancel > '$J/ctl'"
check "echo refresh > ctl returns (bounded)" timeout 20 bash -c "echo refresh > '$J/ctl'"
check "cat status says CANCELLED at once" grep -q '^CANCELLED' "$J/status"
check "within seconds, not the 600 s poll" bash -c "(( $SECONDS - $start < 30 ))"
check "SLURM agrees" bash -c "on_cluster alpha \"squeue -h -t all -j $(jq -r .slurm_id "$J/info.json") -o %T\" | grep -q CANCELLED"
check "cat ctl reports the cancel" grep -q 'cancel: done: SLURM job [0-9]* on alpha cancelled' "$J/ctl"
check "files and parameters stay" bash -c "grep -q 'sleep_seconds' '$J/launch.yaml' && test -s '$J/script' && jq -e .slurm_id '$J/info.json' >/dev/null"
check "cancel again: already ended, not an error" timeout 20 bash -c "echo cancel > '$J/ctl'"
check "... and ctl says so" grep -q 'already ended (CANCELLED' "$J/ctl"

# --- archive ------------------------------------------------------------------
# The kernel keeps a project's link to a job for long (its target never
# changes); archiving must drop it at once.
check "the project's link resolves" test -f "$P/jobs/$job/status"
check "ctl's size (long-lived in the kernel) follows its outcomes" wait_for 2 bash -c "[[ \$(stat -c %s '$J/ctl') == \$(cat '$J/ctl' | wc -c) ]]"
check "mv jobs/<id> archive/" mv "$J" "$mnt/archive/"
check "... the project's link is gone at once" bash -c "! stat '$P/jobs/$job' >/dev/null 2>&1"
check "jobs/ no longer lists it" bash -c "! ls '$mnt/jobs' | grep -qx '$job'"
check "projects/example/jobs no longer lists it" bash -c "! ls '$P/jobs' | grep -qx '$job'"
check "archive/ lists it" bash -c "ls '$mnt/archive' | grep -qx '$job'"
check "its files are readable there" bash -c "grep -q '^CANCELLED' '$mnt/archive/$job/status' && grep -q sleep_seconds '$mnt/archive/$job/launch.yaml'"
check "info.json says archived" bash -c "[[ \$(jq -r .archived '$mnt/archive/$job/info.json') == true ]]"
out=$(mv "$mnt/archive/$job" "$mnt/archive/other-name" 2>&1); rc=$?
check "renaming a job is refused" bash -c "[[ $rc -ne 0 ]]"
check "... with ENOTSUP" grep -q 'Operation not supported' <<<"$out"
check "... explained in ctl" grep -q 'job ids cannot be renamed' "$mnt/archive/$job/ctl"
check "... and nothing was copied" bash -c "[[ ! -e '$mnt/archive/other-name' ]]"
check "mv archive/<id> jobs/" mv "$mnt/archive/$job" "$mnt/jobs/"
check "jobs/ lists it again" test -f "$mnt/jobs/$job/status"
check "projects/example/jobs lists it again" bash -c "ls '$P/jobs' | grep -qx '$job'"
check "archive/ is empty" bash -c "[[ -z \$(ls '$mnt/archive') ]]"

# --- the user's whole queue ------------------------------------------------------
held=$(on_cluster alpha "sbatch --parsable --hold -J 'held outside mmcfs' -p general -n1 --mem=100M --wrap 'sleep 60'")
check "a held job submitted directly" bash -c "[[ '$held' =~ ^[0-9]+$ ]]"
check "clusters/alpha/queue shows it with its reason" wait_for 20 bash -c "grep -Eq '^$held +held_outside_mmcfs +general +PENDING .* JobHeldUser$' '$mnt/clusters/alpha/queue'"
check "the queue is one aligned table" bash -c "grep -Eq '^JOBID +NAME +PARTITION +STATE +TIME +NODES +GRES +REASON$' '$mnt/clusters/alpha/queue'"
check "the queue says when it was taken" grep -q '^# every job of mmcfsuser on alpha (squeue --me), taken ' "$mnt/clusters/alpha/queue"
on_cluster alpha scancel "$held" >/dev/null 2>&1

# --- stats ----------------------------------------------------------------------
S="$mnt/.mmcfs/stats"
stat_line() {  # stat_line REGEX — prints the stats when the line is missing
  grep -Eq "$1" "$S" || { echo "no line matching $1 in:"; cat "$S"; return 1; }
}
check ".mmcfs/stats counts scancel" stat_line '^mmcfs_remote_commands_total\{cluster="alpha",kind="scancel"\} 1$'
check ".mmcfs/stats counts squeue" stat_line '^mmcfs_remote_commands_total\{cluster="alpha",kind="squeue"\} [1-9][0-9]*$'
# At least 1: a monitor check that lands while the launch is in flight may
# also run the (idempotent) submit command to reconcile it.
check ".mmcfs/stats counts sbatch" stat_line '^mmcfs_remote_commands_total\{cluster="alpha",kind="sbatch"\} [1-9][0-9]*$'
check ".mmcfs/stats counts poll cycles" stat_line '^mmcfs_poll_cycles_total\{cluster="alpha"\} [1-9][0-9]*$'
check ".mmcfs/stats counts jobs by state" stat_line '^mmcfs_jobs\{state="CANCELLED"\} 1$'

finish
