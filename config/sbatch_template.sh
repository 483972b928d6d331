#!/bin/bash
# =============================================================================
# sbatch_template.sh — the batch script mmcfs submits for every job.
#
# mmcfs renders this file once per job and submits the result with
# `sbatch --parsable script.sh` from the job's directory on the cluster,
# <workspace>/jobs/<token>/. The rendered script is kept there as script.sh
# and shown under the mount as jobs/<id>/script. Copy this file, change it,
# and point mmcfs at the copy to run jobs your way (what you may change: all
# of it; what other parts of mmcfs rely on is listed under "Contract" below).
#
# -----------------------------------------------------------------------------
# Placeholders
# -----------------------------------------------------------------------------
# A placeholder is an upper-case name between double curly braces; mmcfs
# replaces it with the job's value. A name it does not know is an error (the
# launch fails and says which), so typos cannot slip through. Values are
# never read again after replacement: a value that itself looks like a
# placeholder stays as it is.
#
# Values for #SBATCH lines. These are plain words, checked by mmcfs to hold
# only safe characters ([A-Za-z0-9._:-]), because sbatch reads #SBATCH lines
# itself and no shell quoting applies there:
#   SBATCH_JOB_NAME       SLURM job name: a safe form of the mmcfs job id
#                         and name (at most 64 characters). The full name is
#                         below, as data.
#   SBATCH_PARTITION      partition
#   SBATCH_NODES          number of nodes
#   SBATCH_GRES           GPUs per node as gres: gpu:<type, lower-case>:<n>
#   SBATCH_CPUS_PER_TASK  CPUs per task
#   SBATCH_MEM            memory per node (as --mem takes it: 64G)
#   SBATCH_TIME           time limit (HH:MM:SS or D-HH:MM:SS)
#   SBATCH_COMMENT        the job's unique token. mmcfs finds the job by it
#                         (squeue --format=%k) if it lost track of the SLURM
#                         id, so keep --comment as it is.
#   SBATCH_ARRAY          a sweep's task ids, 0-<runs-1> (for the SWEEP section)
#
# Values for the shell. Each arrives ALREADY SHELL-QUOTED as one word
# ('...', or $'...' when it holds control characters such as newlines), always
# on one line, so it is data wherever it lands. Write the placeholder bare, as
# in `X=<placeholder>`; never put it inside quotes of your own.
#   JOB_ID         mmcfs job id (e.g. 00042-lr-sweep)
#   JOB_TOKEN      the unique token (also SBATCH_COMMENT)
#   JOB_NAME       the launch file's name, verbatim
#   DESCRIPTION    the launch file's description, verbatim
#   PROJECT        project name
#   CLUSTER        cluster name
#   COMMIT         full commit SHA the job runs at
#   REPO_URL       the git remote the cluster clones from
#   JOB_DIR        the job's directory (a leading ~/ becomes "$HOME"/...)
#   MIRROR_DIR     the project's bare mirror, shared by its jobs
#   CONDA_ENV      conda environment to activate ('' for none)
#   NUM_NODES      number of nodes
#   GPUS_PER_NODE  GPUs per node (0 for none)
#   GPU_TYPE       GPU type as configured ('' for none)
#   TRAINING_ARGV  the training command as quoted words:
#                  python train_script [--config-name X] overrides...
#                  (for a sweep: without the sweep's values; SWEEP_SELECT
#                  replaces it per run)
# Whole lines:
#   ENV_EXPORTS    one `export NAME=value` line per `env:` entry of the launch
#                  file (names checked, values quoted)
#   ENV_SETUP      the project's env_setup lines from .mlops-config.yaml,
#                  VERBATIM: they are the project's own shell code
#   SWEEP_SELECT   empty for a plain job. For a sweep (launch.yaml `sweep:`,
#                  submitted as one job array): a `case` on
#                  $SLURM_ARRAY_TASK_ID that sets mmcfs_args to that run's
#                  command (pre-quoted words), MMCFS_RUN_DIR to
#                  $MMCFS_JOB_DIR/run-<n> (created), MMCFS_JOB_ID to
#                  <id>.<n> and MMCFS_SWEEP_RUN to <n>. A template used for a
#                  sweep must have SWEEP_SELECT and SBATCH_ARRAY.
#
# Sections: lines between a line holding only {{#NAME}} and one holding only
# {{/NAME}} are kept when NAME is true, and dropped otherwise; {{^NAME}}
# keeps its lines when NAME is false. Names:
#   MULTI_NODE     more than one node
#   GPUS           at least one GPU per node
#   SWEEP          the launch is a sweep (a job array)
#
# -----------------------------------------------------------------------------
# Contract (what the rest of mmcfs reads; keep it when you adapt this file)
# -----------------------------------------------------------------------------
#   --output=slurm-%j.out      the log, relative to the job's directory
#                              (a sweep's run: slurm-%A_%a.out)
#   --comment=SBATCH_COMMENT   how a job is found again by its token
#   <run dir>/started          written when the job starts (id, host, time)
#   <run dir>/exit_status      the exit status, one integer, written when the
#                              script ends for any reason it can catch (not
#                              SIGKILL), so the outcome is known without sacct
#   (the run dir is $MMCFS_RUN_DIR: the job's directory, or a sweep run's
#   <job dir>/run-<n>)
# =============================================================================
#SBATCH --job-name={{SBATCH_JOB_NAME}}
#SBATCH --partition={{SBATCH_PARTITION}}
#SBATCH --nodes={{SBATCH_NODES}}
#SBATCH --ntasks-per-node=1
{{#GPUS}}
#SBATCH --gres={{SBATCH_GRES}}
{{/GPUS}}
#SBATCH --cpus-per-task={{SBATCH_CPUS_PER_TASK}}
#SBATCH --mem={{SBATCH_MEM}}
#SBATCH --time={{SBATCH_TIME}}
{{#SWEEP}}
#SBATCH --array={{SBATCH_ARRAY}}
#SBATCH --output=slurm-%A_%a.out
{{/SWEEP}}
{{^SWEEP}}
#SBATCH --output=slurm-%j.out
{{/SWEEP}}
#SBATCH --comment={{SBATCH_COMMENT}}

set -euo pipefail

# ---- The job, as data --------------------------------------------------------
MMCFS_JOB_DIR={{JOB_DIR}}
MMCFS_MIRROR_DIR={{MIRROR_DIR}}
MMCFS_REPO_URL={{REPO_URL}}
MMCFS_CONDA_ENV={{CONDA_ENV}}
MMCFS_NUM_NODES={{NUM_NODES}}
export MMCFS_JOB_ID={{JOB_ID}}
export MMCFS_JOB_TOKEN={{JOB_TOKEN}}
export MMCFS_JOB_NAME={{JOB_NAME}}
export MMCFS_DESCRIPTION={{DESCRIPTION}}
export MMCFS_PROJECT={{PROJECT}}
export MMCFS_CLUSTER={{CLUSTER}}
export MMCFS_COMMIT={{COMMIT}}
export MMCFS_GPUS_PER_NODE={{GPUS_PER_NODE}}
export MMCFS_GPU_TYPE={{GPU_TYPE}}
export PYTHONUNBUFFERED=1   # the log shows prints as they happen

# The training command, one array element per argument.
mmcfs_args=( {{TRAINING_ARGV}} )
# Where this run keeps its markers and its checkout: the job's directory, or
# for a sweep's run <job dir>/run-<n> (set by the selection below).
MMCFS_RUN_DIR=$MMCFS_JOB_DIR
{{SWEEP_SELECT}}

# Environment variables from the launch file's env: (they may override the above).
{{ENV_EXPORTS}}

# ---- Markers: started, and exit_status whatever happens ----------------------
cd -- "$MMCFS_RUN_DIR"
rm -f -- exit_status exit_status.tmp   # (a requeued job starts afresh)

mmcfs_write_exit_status() {
  local status=$?
  printf '%s\n' "$status" > "$MMCFS_RUN_DIR/exit_status.tmp" &&
    mv -f -- "$MMCFS_RUN_DIR/exit_status.tmp" "$MMCFS_RUN_DIR/exit_status"
  exit "$status"
}
trap mmcfs_write_exit_status EXIT
# Without these, bash would run the EXIT trap with status 0 after a signal.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM     # scancel, and the time limit's first warning

printf 'slurm_job_id=%s\nhost=%s\nstarted_at=%s\n' \
  "${SLURM_JOB_ID:-}" "$(hostname)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > started

# ---- The code at the exact commit --------------------------------------------
# One bare mirror per project in the workspace: cloned once, then fetched
# (only when the commit is not there yet). Concurrent jobs take turns on it
# with flock. Each job then gets a cheap clone that borrows the mirror's
# objects (--shared) and checks out the commit.
mmcfs_update_mirror() {
  if [[ -d $MMCFS_MIRROR_DIR ]]; then
    if git -C "$MMCFS_MIRROR_DIR" cat-file -e "$MMCFS_COMMIT^{commit}" 2>/dev/null; then
      return 0
    fi
    git -C "$MMCFS_MIRROR_DIR" remote set-url origin "$MMCFS_REPO_URL"
    git -C "$MMCFS_MIRROR_DIR" fetch --quiet origin
  else
    rm -rf -- "$MMCFS_MIRROR_DIR.tmp"
    git clone --quiet --mirror -- "$MMCFS_REPO_URL" "$MMCFS_MIRROR_DIR.tmp"
    mv -- "$MMCFS_MIRROR_DIR.tmp" "$MMCFS_MIRROR_DIR"
  fi
}
mkdir -p -- "$(dirname -- "$MMCFS_MIRROR_DIR")"
if command -v flock >/dev/null 2>&1; then
  (
    flock -w 900 9 || { echo "mmcfs: waited 15 min for the lock on $MMCFS_MIRROR_DIR; giving up" >&2; exit 1; }
    mmcfs_update_mirror
  ) 9>>"$MMCFS_MIRROR_DIR.lock"
else
  echo "mmcfs: warning: flock not found; updating $MMCFS_MIRROR_DIR without a lock" >&2
  mmcfs_update_mirror
fi
if ! git -C "$MMCFS_MIRROR_DIR" cat-file -e "$MMCFS_COMMIT^{commit}" 2>/dev/null; then
  echo "mmcfs: commit $MMCFS_COMMIT is not in $MMCFS_REPO_URL (was it pushed?)" >&2
  exit 1
fi
rm -rf -- "$MMCFS_RUN_DIR/code"
git clone --quiet --shared --no-checkout -- "$MMCFS_MIRROR_DIR" "$MMCFS_RUN_DIR/code"
git -C "$MMCFS_RUN_DIR/code" -c advice.detachedHead=false checkout --quiet --detach "$MMCFS_COMMIT"
cd -- "$MMCFS_RUN_DIR/code"

# ---- The project's environment setup (.mlops-config.yaml env_setup) ----------
# (run with set -e but without set -u: module and conda scripts read unset variables)
set +u
# >>> env_setup (verbatim from .mlops-config.yaml) >>>
{{ENV_SETUP}}
# <<< env_setup <<<
set -u

# ---- Conda -------------------------------------------------------------------
if [[ -n $MMCFS_CONDA_ENV ]]; then
  mmcfs_conda=$(command -v conda || true)
  for mmcfs_candidate in "${CONDA_EXE:-}" "$HOME/miniconda3/bin/conda" "$HOME/anaconda3/bin/conda" \
                         "$HOME/miniforge3/bin/conda" "$HOME/mambaforge/bin/conda"; do
    if [[ -z $mmcfs_conda && -n $mmcfs_candidate && -x $mmcfs_candidate ]]; then
      mmcfs_conda=$mmcfs_candidate
    fi
  done
  if [[ -z $mmcfs_conda ]]; then
    echo "mmcfs: conda_env is '$MMCFS_CONDA_ENV' in .mlops-config.yaml, but conda was not found on" \
         "$(hostname) (not on PATH, nor in ~/miniconda3, ~/anaconda3, ~/miniforge3, ~/mambaforge)." \
         "Load it in env_setup (e.g. 'module load anaconda'), or set conda_env to \"\"." >&2
    exit 1
  fi
  set +u
  # shellcheck disable=SC1091
  source "$("$mmcfs_conda" info --base)/etc/profile.d/conda.sh"
  conda activate "$MMCFS_CONDA_ENV"
  set -u
fi

# ---- Log header ----------------------------------------------------------------
echo "========================================="
echo "SLURM Job ID: ${SLURM_JOB_ID:-}"
echo "mmcfs Job ID: $MMCFS_JOB_ID"
echo "Running on: ${SLURM_JOB_NODELIST:-$(hostname)}"
echo "Started at: $(date)"
echo "========================================="
echo "Python: $(command -v -- "${mmcfs_args[0]}" || echo "${mmcfs_args[0]} (not found)")"
echo "Python version: $("${mmcfs_args[0]}" --version 2>&1 || true)"
echo "CUDA_VISIBLE_DEVICES: ${CUDA_VISIBLE_DEVICES-(not set)}"
echo "Commit: $MMCFS_COMMIT"
echo "========================================="
echo
printf 'Executing: '
printf '%q ' "${mmcfs_args[@]}"
printf '\n\n'

# ---- Training ------------------------------------------------------------------
{{#MULTI_NODE}}
# One task per node; each task runs the command once. PyTorch-style
# rendezvous: node 0 is the master; the port is derived from the job id so
# that jobs sharing a node do not collide.
mapfile -t mmcfs_hosts < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
export MASTER_ADDR=${mmcfs_hosts[0]}
export MASTER_PORT=$(( 10000 + SLURM_JOB_ID % 50000 ))
export WORLD_SIZE=$MMCFS_NUM_NODES   # one process per node; x GPUS_PER_NODE if you start one per GPU
export NNODES=$MMCFS_NUM_NODES
echo "MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT WORLD_SIZE=$WORLD_SIZE"
srun --nodes="$MMCFS_NUM_NODES" --ntasks="$MMCFS_NUM_NODES" --ntasks-per-node=1 --kill-on-bad-exit=1 \
  bash -c 'export NODE_RANK=$SLURM_NODEID RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID; exec "$@"' \
  mmcfs-task "${mmcfs_args[@]}"
{{/MULTI_NODE}}
{{^MULTI_NODE}}
"${mmcfs_args[@]}"
{{/MULTI_NODE}}
