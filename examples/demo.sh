#!/usr/bin/env bash
# demo.sh — try mmcfs on this machine in one command.
#
#   examples/demo.sh         install what is missing, build, start the local
#                            test clusters, mount mmcfs at ./mnt, print a tour
#   examples/demo.sh stop    unmount and stop everything the demo started
#
# Safe to run again: whatever already runs is reused. Needs root (it starts
# SLURM, sshd and munge, and mounts FUSE), as on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo_dir="$root/.demo"
mnt="$root/mnt"
testcluster="$root/tests/cluster/testcluster.sh"

say() { printf '==> %s\n' "$*" >&2; }

stop() {
  if mountpoint -q "$mnt" 2>/dev/null; then
    say "unmounting $mnt"
    fusermount3 -u "$mnt" || umount -l "$mnt"
  fi
  if [[ -f "$demo_dir/mmcfs.pid" ]]; then
    kill "$(cat "$demo_dir/mmcfs.pid")" 2>/dev/null || true
    rm -f "$demo_dir/mmcfs.pid"
  fi
  rm -rf /var/tmp/mmcfs-demo
  if [[ -f "$demo_dir/started-clusters" ]]; then
    say "stopping the local test clusters"
    bash "$testcluster" down
    rm -f "$demo_dir/started-clusters"
  fi
  say "stopped"
}

start() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "demo.sh: run as root: it installs packages, starts SLURM and sshd, and mounts FUSE" >&2
    exit 1
  fi
  mkdir -p "$demo_dir"
  say "dependencies"
  bash tests/install-deps.sh
  say "build"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$(nproc)" --target mmcfs
  if ! bash "$testcluster" status >/dev/null 2>&1; then
    touch "$demo_dir/started-clusters"
  fi
  say "local test clusters (alpha: A6000 + A100, beta: H100)"
  clusters=$(bash "$testcluster" up | tail -n 1)
  say "example project (a git repository with a bare origin the clusters clone from)"
  repo=$(bash examples/make-example-repo.sh "$demo_dir/example" /var/tmp/mmcfs-demo/remotes/example.git)
  config="$demo_dir/clusters.yaml"
  { printf 'projects:\n  - name: example\n    path: %s\n' "$repo"; cat "$clusters"; } >"$config"
  if mountpoint -q "$mnt" 2>/dev/null; then
    say "mmcfs is already mounted at $mnt"
  else
    mkdir -p "$mnt"
    say "mounting mmcfs at $mnt (log: $demo_dir/mmcfs.log)"
    nohup "$root/build/mmcfs" -f --config "$config" --state "$demo_dir/state" "$mnt" \
      >"$demo_dir/mmcfs.log" 2>&1 </dev/null &
    echo $! >"$demo_dir/mmcfs.pid"
    for _ in $(seq 1 50); do mountpoint -q "$mnt" && break; sleep 0.2; done
    mountpoint -q "$mnt" || { cat "$demo_dir/mmcfs.log" >&2; echo "demo.sh: mount failed" >&2; exit 1; }
  fi
  source "$(dirname "$clusters")/env"
  cat <<TOUR

mmcfs is mounted at ./mnt, showing two real SLURM clusters on this machine.
Try:

  cat mnt/README                      what is where
  ls mnt/clusters                     alpha  beta
  cat mnt/clusters/*/status           up: N ms round trip, SLURM 22.05.8
  cat mnt/clusters/alpha/gpus         free GPUs by type (alpha-n2 is drained: never free)
  cat mnt/gpus/H100                   one GPU type across every cluster
  jq '.gpus[] | select(.free > 0) | .type' mnt/clusters/*/gpus.json

Launch a job from the example project ($repo):
  cat mnt/projects/example/info                   remote, branch, HEAD, dirty
  cp examples/launch.yaml mnt/projects/example/new/
  cat mnt/projects/example/new/launch.yaml.submitted   which job it became
  ls mnt/jobs/  &&  cat mnt/jobs/*/status
  cat mnt/projects/example/last/script            the exact script submitted
  cat mnt/projects/example/last/log               its output (train.py prints its arguments)
  echo 'clustr: alpha' > mnt/projects/example/new/bad.yaml   # refused: see new/bad.yaml.error

Follow, act on and tidy jobs:
  tail -f mnt/projects/example/last/log           follows the running job (new lines within ~2 s)
  cat mnt/jobs/*/links                            WandB/MLflow links found in the logs
  echo refresh > mnt/jobs/<id>/ctl                poll now;  echo cancel > .../ctl  cancels (cat ctl says what happened)
  mv mnt/jobs/<id> mnt/archive/                   archive (and mv back); every file is kept
  cat mnt/clusters/alpha/queue                    your whole queue there, with pending reasons
  cat mnt/.mmcfs/stats                            remote commands, poll cycles, jobs by state

Hydra: the example project's conf/ as files, and a sweep:
  cat mnt/projects/example/hydra/params           key  type  default
  cat mnt/projects/example/hydra/groups/model     the options, the default marked
  cp examples/launch-sweep.yaml mnt/projects/example/new/     4 runs as one job array
  cat mnt/jobs/*-lr-bs-sweep*/status | sort | uniq -c

Take an A100 and watch the figures change (GPU figures are cached for 60 s):
  ssh -i $USER_KEY -o UserKnownHostsFile=$KNOWN_HOSTS -p $ALPHA_SSH_PORT mmcfsuser@127.0.0.1 \\
      "sbatch --gres=gpu:a100:1 -c 1 --mem=100M --wrap 'sleep 600'"
  watch cat mnt/clusters/alpha/gpus

Config in use: $config
Stop everything: examples/demo.sh stop
TOUR
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: examples/demo.sh [start|stop]" >&2; exit 2 ;;
esac
