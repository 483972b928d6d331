#!/usr/bin/env bash
# capture.sh - re-capture the real SLURM 22.05 outputs in tests/data/.
#
# Needs the test clusters up (tests/cluster/testcluster.sh up) with empty
# queues; run as root. Every command runs as mmcfsuser over the real ssh of
# its cluster (host key checking on), exactly as mmcfs would run it. For each
# capture NAME.txt holds stdout, NAME.stderr.txt stderr (only if not empty),
# and README.md (rewritten) lists the command, cluster, state and exit code of
# every capture. It submits test jobs and cancels them at the end.

set -euo pipefail

HERE="$(dirname "$(realpath "$0")")"
# shellcheck source=/dev/null
source "${MMCFS_TESTCLUSTER_DIR:-/var/tmp/mmcfs-testcluster}/env"
LIST="${HERE}/README.md"
rm -f "${HERE}"/*.txt

readme_header() {
  cat <<'EOF'
# Real SLURM 22.05 output, captured for the parser unit tests

Every file here is the unedited output of one command, run as `mmcfsuser` over
the real ssh of a local test cluster (`tests/cluster/testcluster.sh up`), with
slurm-wlm 22.05.8 on Debian 12. `NAME.txt` is stdout; `NAME.stderr.txt`, when
present, is stderr. Regenerate everything (this README too) with
`tests/data/capture.sh` as root while the clusters are up and their queues empty.

The clusters (see testcluster.sh): `alpha` has partitions `general` (default)
and `preempt`, node `alpha-n1` with `gpu:a6000:2,gpu:a100:2` (A6000 = IDX 0-1,
A100 = IDX 2-3), and node `alpha-n2` (`gpu:a100:2`, no slurmd) that is down and
drained with reason `test: never free`. `beta` has partition `general` and node
`beta-n1` with `gpu:h100:2`. Partitions use `OverSubscribe=FORCE:4`.

States:
- **idle**: no job queued on either cluster.
- **finished**: a job that exited 0 (`finished-ok`) and one that exited 3
  (`finished-fail`) have just ended (within MinJobAge=300 s).
- **busy**: on alpha, `run-a100` (`--gres=gpu:a100:1`) and `run-a6000x2`
  (`--gres=gpu:a6000:2`) run; pending are `pend-a100x2-first` and
  `pend-a100x2-second` (`--gres=gpu:a100:2`, waiting for GPUs), `pend-preempt`
  (`-p preempt --gres=gpu:a100:2`), `pend-two-nodes` (`-N 2 --gres=gpu:a100:1`,
  can never run while alpha-n2 is drained), `pend-gpus-per-job` (`--gpus=a100:2`),
  a held job named `held name|with pipe` (`--hold --gres=gpu:a6000:1`) and
  `pend-dependency` (`-d afterok:<run-a100>`). On beta, `run-h100`
  (`--gres=gpu:h100:1`) runs and `pend-h100x2` (`--gres=gpu:h100:2`) pends.
- **cancelled**: the busy state after `scancel` of `pend-a100x2-second`.
- **queue**: an emptied queue, then jobs submitted directly with sbatch (not by
  mmcfs): `held by hand` (`--hold --gres=gpu:a100:1`), `run|pipe name`
  (`--gres=gpu:a6000:1`, running) and `pend-a6000x2` (`--gres=gpu:a6000:2`,
  pending on Resources); the running one is then cancelled with `scancel -v`.

## Files
EOF
}

readme_notes() {
  cat <<'EOF'

## What these outputs show (22.05.8)
- The down, drained node is `State=DOWN+DRAIN+NOT_RESPONDING` in
  `scontrol show node` (right after the first drain, before a failed ping:
  `DOWN+DRAIN`), `drained*` in `sinfo -O StateLong` (`*` = not responding).
  After a slurmctld restart it came back as `DOWN+NOT_RESPONDING` (reason kept,
  DRAIN flag lost) until testcluster.sh drained it again.
- `GresUsed` is `gpu:a6000:2(IDX:0-1),gpu:a100:1(IDX:2)`; an unused type shows
  `gpu:a6000:0(IDX:N/A)`; a node whose slurmd never registered shows
  `gpu:a100:0` without `(IDX:...)`. Same text in sinfo and scontrol.
- `%b` (squeue -o) and `tres-per-node` (squeue -O) print the same thing:
  `gres:gpu:a100:2` (with a `gres:` prefix), `N/A` when there is none. A job
  submitted with `--gpus=a100:2` has `N/A` there; its request is in
  `tres-per-job` (`gres:gpu:a100:2`). scontrol shows `TresPerNode=gres:gpu:a100:2`.
- squeue prints reasons with spaces (`ReqNodeNotAvail, UnavailableNodes:alpha-n2`,
  `Nodes required for job are DOWN, DRAINED or reserved for jobs in higher
  priority partitions`); scontrol replaces the spaces of that first reason by
  `_` (`Reason=ReqNodeNotAvail,_UnavailableNodes:alpha-n2`).
- A `|` in a job name is printed as is: `|`-separated formats that include
  `%j` cannot be split naively (see the held job in `alpha-squeue-all-busy.txt`).
- `sinfo -N` prints one line per node and partition; the order of a node's
  partitions is not stable (on the same cluster and config we saw `preempt`
  listed before `general` in one run and after it in the next).
- 22.05 has no `--helpformat`; the valid `-O` names are checked one by one in
  `squeue-O-fields.txt` / `sinfo-O-fields.txt`. An unknown `-O` field prints an
  error on stderr but exits 0 (`squeue-O-invalid-field`).
- `squeue -j <finished id>` prints nothing and exits 0; `squeue -j <unknown id>`
  exits 1 with `slurm_load_jobs error: Invalid job id specified`.
- `scancel` of an unknown or finished job exits 0 and prints nothing without
  `-v`.
- `sacct` prints `Slurm accounting storage is disabled` on stderr and exits 1.
- `CUDA_VISIBLE_DEVICES` in a job is the node-global index (`2` for the first
  A100) because there is no cgroup device constraint; `SLURM_JOB_GPUS` is the same.
EOF
}

readme_header >"$LIST"

# remote CLUSTER COMMAND: run COMMAND (a shell string) as mmcfsuser on CLUSTER.
remote() {
  local port
  case "$1" in
    alpha) port="$ALPHA_SSH_PORT" ;;
    beta) port="$BETA_SSH_PORT" ;;
  esac
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -i "$USER_KEY" -p "$port" mmcfsuser@127.0.0.1 "$2"
}

# capture CLUSTER STATE NAME COMMAND: save the output of COMMAND as NAME.txt.
capture() {
  local cluster="$1" state="$2" name="$3" cmd="$4" rc=0 bq='`'
  remote "$cluster" "$cmd" >"${HERE}/${name}.txt" 2>"${HERE}/${name}.stderr.txt" || rc=$?
  [[ -s "${HERE}/${name}.stderr.txt" ]] || rm -f "${HERE}/${name}.stderr.txt"
  {
    printf -- '- %s%s.txt%s' "$bq" "$name" "$bq"
    [[ -f "${HERE}/${name}.stderr.txt" ]] && printf ' (+ %s%s.stderr.txt%s)' "$bq" "$name" "$bq"
    printf ' - cluster %s, state %s, exit code %s\n' "$cluster" "$state" "$rc"
    printf '  %s%s%s\n' "$bq" "$cmd" "$bq"
  } >>"$LIST"
  echo "captured ${name} (rc ${rc})" >&2
}

# The -O field names listed in the man page of squeue or sinfo 22.05 (which
# have no --helpformat yet), one per line.
man_format_fields() {
  zcat "/usr/share/man/man1/$1.1.gz" \
    | sed -n '/^\\fB\\-O\\fR, \\fB\\-\\-Format/,/^\\fB\\-p\\fR, \\fB\\-\\-partition/p' \
    | grep -A1 '^\.TP' | grep '^\\fB' | grep -o '\\fB[A-Za-z0-9_\\-]*\\fR' \
    | sed 's/^\\fB//; s/\\fR$//; s/\\-/-/g' | grep -v '^-'
}

# A command that tries each -O field of TOOL and prints it, or "NAME INVALID: error".
field_check_command() {
  local tool="$1" fields
  fields="$(man_format_fields "$tool" | tr '\n' ' ')"
  # shellcheck disable=SC2016 # $f and $e expand on the remote side
  printf 'for f in %s; do e=$(%s -h -O "$f" 2>&1 >/dev/null); if [ -n "$e" ]; then echo "$f INVALID: $e"; else echo "$f"; fi; done' \
    "${fields% }" "$tool"
}

submit() { remote "$1" "sbatch --parsable $2"; }

# wait_until_empty CLUSTER COMMAND: until COMMAND prints nothing (30 s at most).
wait_until_empty() {
  local deadline=$((SECONDS + 30))
  while (( SECONDS < deadline )); do
    [[ -z "$(remote "$1" "$2")" ]] && return 0
    sleep 0.5
  done
  echo "timeout waiting for: $2" >&2
  return 1
}

SQUEUE_O_PENDING="squeue -h -t PENDING -o '%i|%P|%D|%b|%r'"
SQUEUE_BIGO_PENDING="squeue -h -t PENDING -O 'JobID:|,Partition:|,NumNodes:|,tres-per-node:|,Reason:'"
SQUEUE_ALL="squeue -h -o '%i|%P|%T|%D|%b|%r|%j|%u'"
SINFO_NODES="sinfo -N -h -O 'NodeList:|,Partition:|,StateLong:|,Gres:|,GresUsed:'"

# --- state 1: idle (no job queued) -----------------------------------------
for c in alpha beta; do
  [[ -z "$(remote "$c" 'squeue -h')" ]] || { echo "queue of $c is not empty" >&2; exit 1; }
  capture "$c" idle "${c}-scontrol-show-node-idle" 'scontrol show node -d -o'
  capture "$c" idle "${c}-scontrol-show-partition" 'scontrol show partition -o'
  capture "$c" idle "${c}-sinfo-nodes-idle" "$SINFO_NODES"
done
capture alpha idle alpha-squeue-all-idle "$SQUEUE_ALL"
capture alpha idle scontrol-version 'scontrol --version'
capture alpha idle sinfo-version 'sinfo --version'
capture alpha idle squeue-version 'squeue --version'
capture alpha idle squeue-helpformat 'squeue --helpformat'
capture alpha idle sinfo-helpformat 'sinfo --helpformat'
capture alpha idle squeue-O-invalid-field "squeue -h -O 'JobID:|,NoSuchField:|'"
capture alpha idle squeue-O-fields "$(field_check_command squeue)"
capture alpha idle sinfo-O-fields "$(field_check_command sinfo)"
capture alpha idle sacct 'sacct'
capture alpha idle sacct-job "sacct -j 1 -o JobID,State,ExitCode -P -n"

# Finished jobs: one that succeeds, one that fails with exit code 3.
JOB_OK="$(submit alpha "-J finished-ok -o /dev/null --wrap 'echo ok'")"
JOB_FAIL="$(submit alpha "-J finished-fail -o /dev/null --wrap 'echo failing; exit 3'")"
wait_until_empty alpha "squeue -h -j ${JOB_OK},${JOB_FAIL}"
capture alpha finished alpha-scontrol-show-job-completed "scontrol show job -o ${JOB_OK}"
capture alpha finished alpha-scontrol-show-job-failed "scontrol show job -o ${JOB_FAIL}"
capture alpha finished alpha-scontrol-show-job-unknown "scontrol show job -o 999999"
capture alpha finished alpha-squeue-finished-job "squeue -h -j ${JOB_OK} -o '%i|%T'"
capture alpha finished alpha-squeue-unknown-job "squeue -h -j 999999 -o '%i|%T'"

# --- state 2: busy ----------------------------------------------------------
# alpha-n1 has 2 A6000 + 2 A100; alpha-n2 (2 A100) is down+drained.
RUN_A100="$(submit alpha "-J run-a100 -o /tmp/mmcfs-capture-%j.out --gres=gpu:a100:1 --wrap 'echo CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES SLURM_JOB_GPUS=\$SLURM_JOB_GPUS; sleep 600'")"
RUN_A6000="$(submit alpha "-J run-a6000x2 -o /tmp/mmcfs-capture-%j.out --gres=gpu:a6000:2 --wrap 'echo CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES SLURM_JOB_GPUS=\$SLURM_JOB_GPUS; sleep 600'")"
PEND_A="$(submit alpha "-J pend-a100x2-first -o /dev/null --gres=gpu:a100:2 --wrap 'sleep 60'")"
PEND_B="$(submit alpha "-J pend-a100x2-second -o /dev/null --gres=gpu:a100:2 --wrap 'sleep 60'")"
PEND_P="$(submit alpha "-J pend-preempt -p preempt -o /dev/null --gres=gpu:a100:2 --wrap 'sleep 60'")"
PEND_N2="$(submit alpha "-J pend-two-nodes -N 2 -o /dev/null --gres=gpu:a100:1 --wrap 'sleep 60'")"
PEND_GPUS="$(submit alpha "-J pend-gpus-per-job -o /dev/null --gpus=a100:2 --wrap 'sleep 60'")"
PEND_HELD="$(submit alpha "-J 'held name|with pipe' --hold -o /dev/null --gres=gpu:a6000:1 --wrap 'sleep 60'")"
PEND_DEP="$(submit alpha "-J pend-dependency -d afterok:${RUN_A100} -o /dev/null --wrap 'sleep 60'")"
BETA_RUN="$(submit beta "-J run-h100 -o /tmp/mmcfs-capture-%j.out --gres=gpu:h100:1 --wrap 'echo CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES; sleep 600'")"
BETA_PEND="$(submit beta "-J pend-h100x2 -o /dev/null --gres=gpu:h100:2 --wrap 'sleep 60'")"
echo "alpha jobs: $RUN_A100 $RUN_A6000 $PEND_A $PEND_B $PEND_P $PEND_N2 $PEND_GPUS $PEND_HELD $PEND_DEP; beta: $BETA_RUN $BETA_PEND" >&2

# Wait until the two running jobs run and the scheduler gave every pending
# job a reason other than None.
wait_until_empty alpha "squeue -h -t PENDING -o '%r' | grep -x None; squeue -h -j ${RUN_A100},${RUN_A6000} -t PENDING"
wait_until_empty beta "squeue -h -t PENDING -o '%r' | grep -x None; squeue -h -j ${BETA_RUN} -t PENDING"
sleep 1

for c in alpha beta; do
  capture "$c" busy "${c}-scontrol-show-node-busy" 'scontrol show node -d -o'
  capture "$c" busy "${c}-sinfo-nodes-busy" "$SINFO_NODES"
  capture "$c" busy "${c}-squeue-pending-o" "$SQUEUE_O_PENDING"
  capture "$c" busy "${c}-squeue-pending-O" "$SQUEUE_BIGO_PENDING"
  capture "$c" busy "${c}-squeue-all-busy" "$SQUEUE_ALL"
done
capture alpha busy alpha-squeue-all-fields-busy "squeue -o '%all'"
capture alpha busy alpha-squeue-tres-fields-busy "squeue -h -O 'JobID:|,tres-per-job:|,tres-per-node:|,tres-per-task:|,tres-alloc:|,StateCompact:|,Reason:'"
capture alpha busy alpha-scontrol-show-job-running "scontrol show job -o ${RUN_A100}"
capture alpha busy alpha-scontrol-show-job-running-detail "scontrol show job -d -o ${RUN_A100}"
capture alpha busy alpha-scontrol-show-job-pending "scontrol show job -o ${PEND_A}"
capture alpha busy alpha-scontrol-show-job-pending-two-nodes "scontrol show job -o ${PEND_N2}"
capture alpha busy alpha-job-env-a100 "cat /tmp/mmcfs-capture-${RUN_A100}.out"
capture alpha busy alpha-job-env-a6000x2 "cat /tmp/mmcfs-capture-${RUN_A6000}.out"
capture beta busy beta-job-env-h100 "cat /tmp/mmcfs-capture-${BETA_RUN}.out"

# A cancelled job, as scontrol shows it afterwards.
remote alpha "scancel ${PEND_B}"
wait_until_empty alpha "squeue -h -j ${PEND_B}"
capture alpha cancelled alpha-scontrol-show-job-cancelled "scontrol show job -o ${PEND_B}"
capture alpha cancelled alpha-scancel-unknown-job "scancel 999999"
capture alpha cancelled alpha-scancel-unknown-job-verbose "scancel -v 999999"
capture alpha cancelled alpha-scancel-finished-job "scancel -v ${JOB_OK}"
capture alpha cancelled alpha-squeue-job-list-finished "squeue -h -j ${JOB_OK},${PEND_B},${RUN_A100} -o '%i|%T'"

# --- the user's own queue: jobs submitted directly with sbatch, not by mmcfs --
remote alpha "scancel -u mmcfsuser"
wait_until_empty alpha "squeue -h"
Q_HELD=$(submit alpha "--hold -J 'held by hand' -p general --gres=gpu:a100:1 -n1 --mem=100M --wrap 'sleep 600'")
Q_RUN=$(submit alpha "-J 'run|pipe name' -p general --gres=gpu:a6000:1 -n1 --mem=100M --wrap 'sleep 600'")
for _ in $(seq 1 60); do
  [[ "$(remote alpha "squeue -h -j ${Q_RUN} -o %T")" == RUNNING ]] && break
  sleep 0.5
done
Q_PEND=$(submit alpha "-J pend-a6000x2 -p general --gres=gpu:a6000:2 -n1 --mem=100M --wrap 'sleep 600'")
sleep 2  # let the scheduler give the pending job its reason
capture alpha queue alpha-squeue-me-queue "squeue --me -h -O 'JobID:|,Partition:|,State:|,TimeUsed:|,NumNodes:|,tres-per-node:|,Reason:|,Name:'"
capture alpha queue alpha-scancel-running-job-verbose "scancel -v ${Q_RUN}"
echo "queue jobs: held ${Q_HELD}, pending ${Q_PEND}" >&2

# --- clean up: cancel our test jobs -----------------------------------------
remote alpha "scancel -u mmcfsuser"
remote beta "scancel -u mmcfsuser"
wait_until_empty alpha "squeue -h"
wait_until_empty beta "squeue -h"
remote alpha "rm -f /tmp/mmcfs-capture-*.out"
readme_notes >>"$LIST"
echo "done; captures listed in ${LIST}" >&2
