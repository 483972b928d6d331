#!/usr/bin/env bash
# sweep_test.sh — sweeps through a real mount on the real test cluster: a
# launch with `sweep:` becomes ONE SLURM job array of 4 runs of
# examples/project/train.py; each run's argv has its own values; each run is
# jobs/<sweep>.<n>/ (sweep file, own command/status/log) and the sweep lists
# them (runs) and summarises them (status), so that
# `cat jobs/<sweep>*/status | sort | uniq -c` shows progress; a sweep over
# max_sweep_runs is refused with the count and the limit; plain jobs are
# unaffected; cancelling a sweep (jobs/<sweep>/ctl, when the mount has it)
# stops every run (checked with squeue over ssh).
#
#   bash tests/integration/sweep_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: sweep_test.sh path/to/mmcfs}")"
require_mount_env
command -v jq >/dev/null || skip "jq is missing"

new_workspace sweep
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"

example_config "connect_timeout_seconds: 3" "command_timeout_seconds: 20" "job_poll_seconds: 2" "max_sweep_runs: 6"
mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
P="$mnt/projects/example"

launch_file() {  # launch_file NAME [extra yaml lines...]
  local name="$1"; shift
  printf 'name: %s\ncluster: alpha\npartition: general\ncpus_per_task: 1\nmemory: 100M\ntime_limit: "00:05:00"\n' "$name"
  local line; for line in "$@"; do printf '%s\n' "$line"; done
}
job_json() { grep -m1 "^$2" "$mnt/jobs/$1/log" | sed "s/^$2//" | jq -c "$3"; }

# --- a 4-run sweep, one job array ----------------------------------------------------
launch_file lrsweep 'params: {seed: 3}' \
  'sweep: {optimizer.lr: [1e-3, 1e-4], data.batch_size: [16, 32]}' >"$work/sweep.yaml"
check "a sweep launch is accepted" cp "$work/sweep.yaml" "$P/new/sweep.yaml"
sweep=$(ls "$mnt/jobs" | grep -m1 '^00001-lrsweep$')
check "the sweep has a directory" expect_eq "00001-lrsweep" "$sweep"
check "and each run one, jobs/<sweep>.<n>" \
  expect_eq "$sweep $sweep.0 $sweep.1 $sweep.2 $sweep.3" "$(ls "$mnt/jobs" | grep "^$sweep" | sort -V | tr '\n' ' ' | sed 's/ $//')"
array=$(jq -r .slurm_id "$mnt/jobs/$sweep/info.json")
check "the sweep is ONE array job" expect_eq "${array}_2" "$(jq -r .slurm_id "$mnt/jobs/$sweep.2/info.json")"
check "it was submitted with --array=0-3" grep -qx '#SBATCH --array=0-3' "$mnt/jobs/$sweep/script"
check "each run names its sweep" expect_eq "$sweep" "$(cat "$mnt/jobs/$sweep.3/sweep")"
check "the sweep lists its runs" expect_eq "4" "$(wc -l <"$mnt/jobs/$sweep/runs")"
check "each run has its own command" \
  grep -qxF "python3 train.py seed=3 optimizer.lr=1e-4 data.batch_size=16" "$mnt/jobs/$sweep.2/command"

# The issue's progress view: cat jobs/<sweep>*/status | sort | uniq -c (C collation, one line).
progress() { cat "$mnt/jobs/$1"*/status | LC_ALL=C sort | uniq -c | sed 's/^ *//' | paste -sd'|'; }
all_completed="1 COMPLETED (4/4 finished: COMPLETED 4)|4 COMPLETED exit 0"
check "all 4 runs complete, and the sweep with them" \
  wait_for 180 eval '[[ "$(progress "$sweep")" == "$all_completed" ]]'
check "cat jobs/<sweep>*/status | sort | uniq -c shows 4 COMPLETED runs" expect_eq "$all_completed" "$(progress "$sweep")"
want=('["seed=3","optimizer.lr=1e-3","data.batch_size=16"]' '["seed=3","optimizer.lr=1e-3","data.batch_size=32"]'
      '["seed=3","optimizer.lr=1e-4","data.batch_size=16"]' '["seed=3","optimizer.lr=1e-4","data.batch_size=32"]')
for n in 0 1 2 3; do
  check "run $n received its own argv" expect_eq "${want[$n]}" "$(job_json "$sweep.$n" MMCFS_ARGV= .)"
done
check "run 3's values are in its composed config" \
  expect_eq '[0.0001,32]' "$(job_json "$sweep.3" MMCFS_CONFIG= '[.optimizer.lr, .data.batch_size]')"
check "each run's log is its own task's (slurm-<array>_<n>.out)" \
  grep -q "^SLURM Job ID: " "$mnt/jobs/$sweep.1/log"
check "each run knows its mmcfs id" grep -qx "mmcfs Job ID: $sweep.1" "$mnt/jobs/$sweep.1/log"

# --- a plain job is unaffected -------------------------------------------------------
launch_file plain 'params: {seed: 1}' >"$work/plain.yaml"
start=$SECONDS
check "a plain job still launches" cp "$work/plain.yaml" "$P/new/plain.yaml"
plain=$(ls "$mnt/jobs" | grep -m1 -- '-plain$')
check "and completes promptly (within 60 s)" wait_for 60 grep -q '^COMPLETED' "$mnt/jobs/$plain/status"
echo "      plain job COMPLETED after $((SECONDS - start)) s"
check "a plain job has neither runs nor sweep" bash -c "! ls '$mnt/jobs/$plain/runs' '$mnt/jobs/$plain/sweep' 2>/dev/null"

# --- the limit ------------------------------------------------------------------------
launch_file toobig 'sweep: {seed: [1, 2, 3], train.epochs: [1, 2, 3]}' >"$work/toobig.yaml"
out=$(cp "$work/toobig.yaml" "$P/new/toobig.yaml" 2>&1); rc=$?
check "a sweep over max_sweep_runs is refused (EINVAL)" bash -c "[[ $rc -ne 0 ]] && grep -q 'Invalid argument' <<<'$out'"
check "and .error names the count and the limit" grep -qF \
  "toobig.yaml:7:8: sweep expands to 9 runs (3 seed x 3 train.epochs), more than the limit of 6 for cluster 'alpha'" \
  "$P/new/toobig.yaml.error"
out=$(printf 'name: empty\ncluster: alpha\nsweep: {seed: []}\n' >"$work/empty.yaml"; cp "$work/empty.yaml" "$P/new/empty.yaml" 2>&1)
check "an empty sweep list is refused with its position" grep -qF \
  "empty.yaml:3:15: sweep 'seed' is an empty list" "$P/new/empty.yaml.error"
check "nothing refused reached SLURM" expect_eq "6" "$(ls "$mnt/jobs" | wc -l)"

# --- cancelling a sweep cancels every run --------------------------------------------
launch_file long 'params: {train.sleep_seconds: 300}' 'sweep: {seed: [1, 2, 3]}' >"$work/long.yaml"
check "a long sweep launches" cp "$work/long.yaml" "$P/new/long.yaml"
long=$(ls "$mnt/jobs" | grep -m1 -- '-long$')
long_array=$(jq -r .slurm_id "$mnt/jobs/$long/info.json")
check "its 3 runs run" wait_for 60 bash -c "[[ \$(cat '$mnt/jobs/$long'.*/status | grep -c '^RUNNING') == 3 ]]"
check "squeue shows the 3 tasks" \
  expect_eq "3" "$(on_cluster alpha squeue -h -r -j "$long_array" -t RUNNING -o %i | wc -l)"
if [[ -e "$mnt/jobs/$long/ctl" ]]; then
  check "echo cancel > jobs/<sweep>/ctl is accepted" bash -c "echo cancel >'$mnt/jobs/$long/ctl'"
  check "squeue no longer has any of its tasks" \
    wait_for 30 bash -c "[[ -z \$(on_cluster alpha squeue -h -r -j '$long_array' -t PENDING,RUNNING,COMPLETING -o %i) ]]"
  check "every run ends CANCELLED, and the sweep with them" \
    wait_for 60 eval '[[ $(cat "$mnt/jobs/$long"*/status | grep -c "^CANCELLED") == 4 ]]'
  check "the sweep says so" grep -qx "CANCELLED (3/3 finished: CANCELLED 3)" "$mnt/jobs/$long/status"
  echo "      after cancel: $(progress "$long")"
else
  echo "      (no jobs/<id>/ctl in this mount: cancelling a sweep is not tested)"
  failed=$((failed + 1)); echo "FAIL  jobs/<sweep>/ctl exists"
fi

finish
