#!/usr/bin/env bash
# logs_test.sh — streaming job logs through the real mount on the real
# clusters: `tail -f jobs/ID/log` sees each line of a running job within 2 s
# of its printing and loses none; stat size and read size agree while it
# grows; the finished log reads (cat, grep -r) with the cluster's sshd
# stopped, and after a restart of mmcfs with the cluster still down, with zero
# bytes fetched; a first cat of a running job's 256 MiB log returns all of
# it; a cancelled job keeps SLURM's "CANCELLED AT" line; the
# WandB URL the job printed shows in `links` and info.json.
#
#   bash tests/integration/logs_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: logs_test.sh path/to/mmcfs}")"
require_mount_env
command -v python3 >/dev/null || skip "python3 is missing"

new_workspace logs
test_cleanup() {
  [[ -n "${tail_pid:-}" ]] && kill "$tail_pid" 2>/dev/null
  bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1 || true  # the test stops it
}
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"

# A project whose "training" prints a WandB line, then a timestamped line
# every 0.5 s (`ticks=N` sets how many).
repo=$(bash "$REPO_DIR/examples/make-example-repo.sh" "$work/example" "$remotes/example.git")
cat >"$repo/ticker.py" <<'PY'
import os, sys, time
ticks = 40
for arg in sys.argv[1:]:
    if arg.startswith("ticks="):
        ticks = int(arg.split("=", 1)[1])
print("wandb: \U0001F680 View run at \x1b[34m\x1b[4mhttps://wandb.ai/mmcfs/logs-test/runs/tk%d\x1b[0m" % os.getpid(), flush=True)
for i in range(1, ticks + 1):
    print("tick %d %.3f" % (i, time.time()), flush=True)
    time.sleep(0.5)
print("ticker done", flush=True)
PY
sed -i 's/^train_script: .*/train_script: ticker.py/' "$repo/.mlops-config.yaml"
git -C "$repo" add -A && git -C "$repo" -c user.name=t -c user.email=t@t commit -qm ticker && git -C "$repo" push -q origin HEAD:main
config="$work/clusters.yaml"
{ printf 'settings:\n  gpu_cache_seconds: 2\n  job_poll_seconds: 2\n  connect_timeout_seconds: 3\n  command_timeout_seconds: 20\n'
  printf 'projects:\n  - name: example\n    path: %s\n' "$repo"
  cat "$MMCFS_TEST_CLUSTERS"; } >"$config"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
P="$mnt/projects/example"
launch() {  # launch NAME [extra yaml lines...]; prints the job id
  local name="$1"; shift
  { printf 'name: %s\ncluster: alpha\npartition: general\ncpus_per_task: 1\nmemory: 100M\ntime_limit: "00:05:00"\n' "$name"
    local line; for line in "$@"; do printf '%s\n' "$line"; done; } >"$work/$name.yaml"
  cp "$work/$name.yaml" "$P/new/$name.yaml" || return 1
  ls "$mnt/jobs" | grep -- "-$name\$"
}

# --- tail -f follows a running job ------------------------------------------
job=$(launch ticker)
check "the ticker job was launched" test -n "$job"
L="$mnt/jobs/$job/log"
check "the job has a links file" test -f "$mnt/jobs/$job/links"
# Stamp each line as it comes out of tail -f (tail polls a FUSE file every second).
mkfifo "$work/tail.fifo"
tail -n +1 -f "$L" >"$work/tail.fifo" &
tail_pid=$!
python3 -u -c '
import sys, time
for line in sys.stdin:
    print("%.3f %s" % (time.time(), line.rstrip("\n")), flush=True)
' <"$work/tail.fifo" >"$work/arrivals" &
stamp_pid=$!
check "the job starts running" wait_for 60 grep -q ' tick 1 ' "$work/arrivals"

# While it runs: a stat before a read never shows more than it reads, a stat
# after never less, and each read is a clean prefix of the next (no holes, no
# zeros, nothing rewritten).
check "stat size and read size agree while the log grows" python3 - "$L" <<'PY'
import os, sys, time
path = sys.argv[1]
last = b""
for _ in range(30):
    before = os.stat(path).st_size
    with open(path, "rb") as f:
        data = f.read()
    after = os.stat(path).st_size
    if not (before <= len(data) <= after):
        sys.exit("stat %d, read %d, stat %d" % (before, len(data), after))
    if b"\0" in data or not data.startswith(last):
        sys.exit("torn read: %r" % data[-80:])
    last = data
    time.sleep(0.3)
if b"tick" not in last or b"ticker done" in last:
    sys.exit("the checks did not all run while the job was running")
PY
check "the job finishes" wait_for 90 grep -q '^COMPLETED' "$mnt/jobs/$job/status"
check "tail -f saw the last line" wait_for 10 grep -q ' ticker done$' "$work/arrivals"
kill "$tail_pid" 2>/dev/null; wait "$tail_pid" "$stamp_pid" 2>/dev/null; tail_pid=
check "tail -f saw every line, in order, each within 2 s of its printing" python3 - "$work/arrivals" <<'PY'
import sys
ticks = []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 4 and parts[1] == "tick":
        ticks.append((int(parts[2]), float(parts[3]), float(parts[0])))
numbers = [t[0] for t in ticks]
if numbers != list(range(1, 41)):
    sys.exit("ticks seen: %s" % numbers)
late = [(n, round(seen - printed, 2)) for n, printed, seen in ticks if seen - printed > 2.0]
if late:
    sys.exit("late lines (tick, delay s): %s" % late)
PY
delays=$(awk '$2 == "tick" { d = $1 - $4; s += d; if (d > m) m = d; n++ } END { if (n) printf "mean %.2f s, worst %.2f s over %d lines", s / n, m, n }' "$work/arrivals")
echo "      tail -f delays: $delays"

# --- the log is complete and local -------------------------------------------
check "the finished log is marked complete" wait_for 20 test -e "$work/state/logs/$job.log.complete"
check "a complete log's stat size equals its bytes" \
  expect_eq "$(stat -c %s "$L")" "$(wc -c <"$L")"
check "links shows the WandB run the job printed" \
  grep -Eq '^wandb_run https://wandb.ai/mmcfs/logs-test/runs/tk[a-z0-9]+$' "$mnt/jobs/$job/links"
check "info.json's links has the run" \
  expect_eq "$(grep '^wandb_run ' "$mnt/jobs/$job/links" | cut -d' ' -f2)" "$(jq -r .links.wandb_run "$mnt/jobs/$job/info.json")"

# --- a cancelled job keeps SLURM's last line ---------------------------------
long=$(launch longticker 'overrides: ["ticks=400"]')
check "the long job is running" wait_for 60 grep -q '^tick 3 ' "$mnt/jobs/$long/log"
slurm_long=$(jq -r .slurm_id "$mnt/jobs/$long/info.json")

on_cluster alpha scancel "$slurm_long"
check "the cancel is seen" wait_for 30 grep -q '^CANCELLED' "$mnt/jobs/$long/status"
check "its log is completed" wait_for 20 test -e "$work/state/logs/$long.log.complete"
check "the cancelled log keeps the CANCELLED AT line" grep -q "CANCELLED AT" "$mnt/jobs/$long/log"

# --- a first cat of a long log of a running job returns all of it ------------
# 256 MiB appended on the cluster, more than the open's 2 s wait for the
# cluster fetches here: the open goes on while the bytes arrive (before, cat
# returned a prefix: 148 MiB of it on this machine). Bytes are only counted:
# the job's own prints land at its file offset, inside the appended text.
big=$(launch bigticker 'overrides: ["ticks=400"]')
check "the big job is running" wait_for 60 grep -q '^tick 2 ' "$mnt/jobs/$big/log"
slurm_big=$(jq -r .slurm_id "$mnt/jobs/$big/info.json")
out=$(on_cluster alpha scontrol show job "$slurm_big" | sed -n 's/^ *StdOut=//p')
on_cluster alpha "yes 'epoch 1 step 00001234 loss 0.123456 lr 3.0e-04 grad_norm 0.7781' | head -c 268435456 >> $(printf '%q' "$out")"
remote_size=$(on_cluster alpha stat -c %s "$out")
read_bytes=$(cat "$mnt/jobs/$big/log" | wc -c)
check "a first cat of a 256 MiB running log returns all of it ($read_bytes of $remote_size bytes)" \
  test "$read_bytes" -ge "$remote_size" -a "$remote_size" -gt 268435456
on_cluster alpha scancel "$slurm_big"
check "the big job's log is completed" wait_for 30 test -e "$work/state/logs/$big.log.complete"
on_cluster alpha "truncate -s 0 $(printf '%q' "$out")"  # the test clusters' disk (the log is local now)

# --- the cluster goes away -----------------------------------------------------
want=$(cat "$L")
bash "$TESTCLUSTER" sshd-stop alpha >/dev/null 2>&1
check "the cluster is down" bash -c "! on_cluster alpha true 2>/dev/null"
check "cat of a finished log works offline" expect_eq "$want" "$(cat "$L")"
check "grep -r across jobs works offline" bash -c "grep -r -l 'ticker done' '$mnt/jobs/' | grep -q '$job/log'"
check "grep -l over every log works offline" bash -c "grep -l 'CANCELLED AT' '$mnt'/jobs/*/log | grep -q '$long/log'"

# --- a restart with the cluster still down fetches nothing ---------------------
cd /
fusermount3 -u "$mnt"; wait "${MOUNT_PIDS[0]}" 2>/dev/null
check "the first run reported what it fetched" grep -Eq 'job logs: [1-9][0-9]* ranged reads' "$work/mmcfs.log"
mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/restart.log"
check "after a restart the log reads in full" expect_eq "$want" "$(cat "$L")"
check "the cancelled log too" grep -q "CANCELLED AT" "$mnt/jobs/$long/log"
check "grep -r still works" bash -c "grep -r -l 'tick 40 ' '$mnt/jobs/' | grep -q '$job/log'"
check "links survive the restart" grep -q '^wandb_run ' "$mnt/jobs/$job/links"
sleep 2  # let the follower run a few rounds: it must not fetch either
fusermount3 -u "$mnt"; wait "${MOUNT_PIDS[1]}" 2>/dev/null
check "zero bytes were fetched after the restart" grep -q 'job logs: 0 ranged reads, 0 bytes fetched' "$work/restart.log"
bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1

cd /
finish
