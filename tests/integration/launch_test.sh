#!/usr/bin/env bash
# launch_test.sh — launching jobs for real: projects/, the drop zone driven by
# cp, cat >, echo >, tee, temp-then-rename, vim and nano; the generated script
# on the real cluster with hostile strings; refusals (invalid file, unpushed
# commit, unreachable cluster, sbatch refusing); cloning a job; adding and
# removing a project from the shell; and exactly-once across a crash between
# sbatch and recording the SLURM id.
#
#   bash tests/integration/launch_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: launch_test.sh path/to/mmcfs}")"
require_mount_env
command -v tmux >/dev/null || skip "tmux is missing (tests/install-deps.sh installs it)"

new_workspace launch
test_cleanup() {
  tmux kill-server 2>/dev/null || true
  bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1 || true  # the test stops it
}
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"

example_config "gpu_cache_seconds: 2" "connect_timeout_seconds: 3" "command_timeout_seconds: 20"

mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
check "mounts with a project" mountpoint -q "$mnt"
P="$mnt/projects/example"

# --- projects/ -------------------------------------------------------------
check "ls projects shows the configured project" expect_eq "example" "$(ls "$mnt/projects")"
check "project dir has its files" expect_eq "hydra info jobs launch.yaml mlops-config.yaml new" "$(ls "$P" | tr '\n' ' ' | sed 's/ $//')"
check "info: remote, branch, HEAD, clean" bash -c "grep -q '^remote_url: $remotes/example.git' '$P/info' &&
  grep -q '^branch: main' '$P/info' && grep -q \"^head: \$(git -C '$repo' rev-parse HEAD)\" '$P/info' && grep -q '^dirty: no' '$P/info'"
echo change >>"$repo/README.md"
check "info: dirty is read fresh" grep -q '^dirty: yes' "$P/info"
git -C "$repo" checkout -q -- README.md
check "mlops-config.yaml shows the project's settings" grep -q 'train_script: .*train.py' "$P/mlops-config.yaml"
check "launch.yaml is a ready template" grep -q '^cluster: ' "$P/launch.yaml"

# --- a launch, and the job it becomes -------------------------------------
launch_file() {  # launch_file NAME DESCRIPTION [extra yaml lines...]
  local name="$1" desc="$2"; shift 2
  printf 'name: %s\ndescription: %s\ncluster: alpha\npartition: general\ngpu_type: A100\ngpus_per_node: 1\ncpus_per_task: 1\nmemory: 200M\ntime_limit: "00:05:00"\n' "$name" "$desc"
  local line; for line in "$@"; do printf '%s\n' "$line"; done
}
launch_file first "first run" >"$work/first.yaml"
check "cp into new/ launches (close succeeds)" cp "$work/first.yaml" "$P/new/launch.yaml"
check "the file left new/" bash -c "[[ ! -e '$P/new/launch.yaml' ]]"
check "a receipt names the job" grep -q 'became job 00001-first' "$P/new/launch.yaml.submitted"
job1=00001-first
check "jobs/ shows the job" test -d "$mnt/jobs/$job1"
check "the job dir has its files" expect_eq "command ctl info.json launch.yaml links log script status" "$(ls "$mnt/jobs/$job1" | tr '\n' ' ' | sed 's/ $//')"
check "projects/example/last points at it" expect_eq "../../jobs/$job1" "$(readlink "$P/last")"
check "projects/example/jobs links it" test -f "$P/jobs/$job1/status"
check "status is a SLURM state" grep -Eq '^(PENDING|RUNNING|COMPLETED)' "$mnt/jobs/$job1/status"
slurm1=$(jq -r .slurm_id "$mnt/jobs/$job1/info.json")
check "info.json has the SLURM id, cluster and commit" bash -c "[[ '$slurm1' =~ ^[0-9]+$ ]] &&
  [[ \$(jq -r .cluster '$mnt/jobs/$job1/info.json') == alpha ]] &&
  [[ \$(jq -r .commit '$mnt/jobs/$job1/info.json') == \$(git -C '$repo' rev-parse HEAD) ]]"
token1=$(jq -r .token "$mnt/jobs/$job1/info.json")
check "SLURM knows that job by its token" bash -c "on_cluster alpha 'scontrol -o show job $slurm1' | grep -q 'Comment=$token1'"
check "script has #SBATCH lines for the resources" bash -c "grep -q '^#SBATCH --partition=general' '$mnt/jobs/$job1/script' &&
  grep -q '^#SBATCH --gres=gpu:a100:1' '$mnt/jobs/$job1/script' && grep -q '^#SBATCH --mem=200M' '$mnt/jobs/$job1/script'"
check "command is the training command" grep -q 'train.py' "$mnt/jobs/$job1/command"
check "launch.yaml records the commit" grep -q "commit: $(git -C "$repo" rev-parse HEAD)" "$mnt/jobs/$job1/launch.yaml"
check "the job runs and its log shows the header and train.py" \
  wait_for 120 bash -c "grep -q 'MMCFS_ARGV=' '$mnt/jobs/$job1/log' && grep -q 'CUDA_VISIBLE_DEVICES' '$mnt/jobs/$job1/log'"
check "log stat size equals bytes read" bash -c "cat '$mnt/jobs/$job1/log' >/dev/null; sleep 1.2;
  [[ \$(stat -c %s '$mnt/jobs/$job1/log') -eq \$(wc -c <'$mnt/jobs/$job1/log') ]]"

# --- hostile strings reach the job as data ---------------------------------
pwned="/tmp/mmcfs-pwned-$(basename "$work")"
cat >"$work/hostile.yaml" <<YAML
name: "hostile \$(touch $pwned) \`touch $pwned\`; touch $pwned"
description: "it's \"quoted\"\nsecond line; \$(touch $pwned) ünïcödé ✓"
cluster: alpha
partition: general
cpus_per_task: 1
memory: 200M
time_limit: "00:05:00"
params:
  experiment_suffix: "use eos as mask token, but try lower LR"
  optimizer.lr: 1e-4
overrides:
  - "+note='\$(touch $pwned)'"
env:
  EXAMPLE_HOSTILE: "a'b\"c \$(touch $pwned) \`id\` ; rm -rf /nonexistent ✓"
YAML
check "a launch full of shell metacharacters is accepted" cp "$work/hostile.yaml" "$P/new/hostile.yaml"
job2=$(ls "$mnt/jobs" | grep '^00002-')
check "its job finishes with output" wait_for 120 grep -q 'MMCFS_ARGV=' "$mnt/jobs/$job2/log"
# Values the job printed as JSON, decoded: they must equal what the file said.
job_value() { grep -m1 "^$1" "$mnt/jobs/$job2/log" | sed "s/^$1//" | jq -r "$2"; }
check "the raw override reached train.py verbatim" \
  expect_eq "+note='\$(touch $pwned)'" "$(job_value MMCFS_ARGV= '.[-1]')"
check "the description reached the job byte-exact" \
  expect_eq "$(printf 'it'"'"'s "quoted"\nsecond line; $(touch %s) ünïcödé ✓' "$pwned")" "$(job_value 'ENV MMCFS_DESCRIPTION=' .)"
check "the env value reached the job byte-exact" \
  expect_eq "a'b\"c \$(touch $pwned) \`id\` ; rm -rf /nonexistent ✓" "$(job_value 'ENV EXAMPLE_HOSTILE=' .)"
check "the name reached the job byte-exact" \
  expect_eq "hostile \$(touch $pwned) \`touch $pwned\`; touch $pwned" "$(job_value 'ENV MMCFS_JOB_NAME=' .)"
check "nothing was executed" bash -c "! on_cluster alpha test -e '$pwned' && ! test -e '$pwned'"

# --- every way of saving -----------------------------------------------------
n=3
expect_job() {  # the next job id exists and the drop zone is clean of NAME
  local name="$1"
  local id; id=$(printf '%05d' "$n")
  ls "$mnt/jobs" | grep -q "^$id-" || { echo "no job $id after $name"; ls "$mnt/jobs"; return 1; }
  [[ ! -e "$P/new/$name" ]] || { echo "$name still in new/"; return 1; }
  n=$((n + 1))
}
launch_file catjob "cat" >"$work/src.yaml"
cat "$work/src.yaml" >"$P/new/cat.yaml"; check "cat > launches" expect_job cat.yaml
echo "$(launch_file echojob echo)" >"$P/new/echo.yaml"; check "echo > launches" expect_job echo.yaml
launch_file teejob tee | tee "$P/new/tee.yaml" >/dev/null; check "tee launches" expect_job tee.yaml
launch_file renamejob rename >"$P/new/.tmp-save"
mv "$P/new/.tmp-save" "$P/new/renamed.yaml"; check "write-to-temp-then-rename launches" expect_job renamed.yaml
launch_file vimjob vim >"$work/vim-src.yaml"
tmux new-session -d -s vim -x 120 -y 40 "vim '$P/new/vim.yaml'"
sleep 1; tmux send-keys -t vim ":r $work/vim-src.yaml" Enter ":1d" Enter ":wq" Enter
wait_for 20 bash -c "! tmux has-session -t vim 2>/dev/null"
check "vim launches (swap and probe files ignored)" expect_job vim.yaml
check "vim left no scratch files" bash -c "[[ -z \$(ls -A '$P/new' | grep -v '\\.submitted$') ]]"
launch_file nanojob nano >"$work/nano-src.yaml"
tmux new-session -d -s nano -x 120 -y 40 "nano '$P/new/nano.yaml'"
sleep 1; tmux send-keys -t nano C-r; sleep 0.3; tmux send-keys -t nano "$work/nano-src.yaml" Enter; sleep 0.3
tmux send-keys -t nano C-o; sleep 0.3; tmux send-keys -t nano Enter; sleep 1; tmux send-keys -t nano C-x
wait_for 20 bash -c "! tmux has-session -t nano 2>/dev/null"
check "nano launches" expect_job nano.yaml

# --- refusals: the file stays, the explanation sits beside it --------------
printf 'name: typo\nclustr: alpha\n' >"$work/bad.yaml"
out=$(cp "$work/bad.yaml" "$P/new/bad.yaml" 2>&1); rc=$?
check "an invalid launch fails close() with EINVAL" bash -c "[[ $rc -ne 0 ]] && grep -q 'Invalid argument' <<<'$out'"
check "the invalid file stays exactly as written" cmp "$work/bad.yaml" "$P/new/bad.yaml"
check "bad.yaml.error gives line:column and a suggestion" \
  grep -Eq "projects/example/new/bad.yaml:2:1: unknown key 'clustr'.*cluster" "$P/new/bad.yaml.error"
launch_file fixed "fixed" >"$P/new/bad.yaml"
check "fixing and saving again launches" bash -c "[[ ! -e '$P/new/bad.yaml' && ! -e '$P/new/bad.yaml.error' ]]"
n=$((n + 1))

echo "unpushed" >>"$repo/README.md"
git -C "$repo" -c user.name=t -c user.email=t@t commit -qam unpushed
out=$(launch_file unpushed x 2>&1 | cp /dev/stdin "$P/new/unpushed.yaml" 2>&1); rc=$?
check "an unpushed commit is refused (EINVAL)" bash -c "[[ $rc -ne 0 ]] && grep -q 'Invalid argument' <<<'$out'"
check "and the explanation says to push" grep -qi 'push' "$P/new/unpushed.yaml.error"
git -C "$repo" push -q origin HEAD:main
check "after pushing, saving again launches" cp "$P/new/unpushed.yaml" "$work/u.yaml"
cp "$work/u.yaml" "$P/new/unpushed.yaml"; check "pushed launch accepted" expect_job unpushed.yaml

out=$(launch_file toomany x | sed 's/^memory: .*/memory: 100000G/' | cp /dev/stdin "$P/new/toomany.yaml" 2>&1); rc=$?
check "sbatch refusing the job fails close() with EIO" bash -c "[[ $rc -ne 0 ]] && grep -q 'Input/output error' <<<'$out'"
check "its error quotes sbatch" grep -q 'sbatch' "$P/new/toomany.yaml.error"
check "nothing was recorded for it" bash -c "! ls '$mnt/jobs' | grep -q toomany"

bash "$TESTCLUSTER" sshd-stop alpha >/dev/null 2>&1
out=$(launch_file offline x | cp /dev/stdin "$P/new/offline.yaml" 2>&1); rc=$?
check "an unreachable cluster fails close() with EHOSTUNREACH" bash -c "[[ $rc -ne 0 ]] && grep -q 'No route to host' <<<'$out'"
check "the file stays" test -s "$P/new/offline.yaml"
check "its error says the cluster is unreachable" grep -q 'not reachable' "$P/new/offline.yaml.error"
bash "$TESTCLUSTER" sshd-start alpha >/dev/null 2>&1
rm -f "$P/new/"*.error "$P/new/offline.yaml" "$P/new/toomany.yaml"

# --- cloning a job runs at the current HEAD -------------------------------
echo "newer" >>"$repo/README.md"
git -C "$repo" -c user.name=t -c user.email=t@t commit -qam newer && git -C "$repo" push -q origin HEAD:main
check "cp jobs/ID/launch.yaml into new/ clones the job" cp "$mnt/jobs/$job1/launch.yaml" "$P/new/clone.yaml"
clone=$(ls "$mnt/jobs" | tail -1)
check "the clone runs at the current HEAD" expect_eq "$(git -C "$repo" rev-parse HEAD)" "$(jq -r .commit "$mnt/jobs/$clone/info.json")"
check "with the original's resources" expect_eq "$(jq -r .launch.gpu_type "$mnt/jobs/$job1/info.json")" "$(jq -r .launch.gpu_type "$mnt/jobs/$clone/info.json")"

# --- adding and removing a project from the shell ---------------------------
repo2=$(bash "$REPO_DIR/examples/make-example-repo.sh" "$work/other" "$remotes/other.git")
check "ln -s adds a project" ln -s "$repo2" "$mnt/projects/other"
check "it shows as a project directory" test -f "$mnt/projects/other/info"
check "ln -s to a non-repository is refused" bash -c "! ln -s /tmp '$mnt/projects/notarepo' 2>/dev/null"
check "rmdir removes it" rmdir "$mnt/projects/other"
check "the repository is untouched" test -d "$repo2/.git"
check "rmdir of a configured project is refused" bash -c "! rmdir '$mnt/projects/example' 2>/dev/null"

# --- exactly once across a crash between sbatch and recording ---------------
cd /
fusermount3 -u "$mnt"; wait "${MOUNT_PIDS[0]}" 2>/dev/null
MMCFS_FAULT=exit-after-submit mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/crash.log"
launch_file crashjob crash 'params: {train.sleep_seconds: 120}' >"$work/crash.yaml"
cp "$work/crash.yaml" "$P/new/crash.yaml" 2>/dev/null
check "mmcfs died right after sbatch" wait_for 10 bash -c "! kill -0 ${MOUNT_PIDS[-1]} 2>/dev/null"
fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"
check "the launch file survived the crash" cmp "$work/crash.yaml" "$work/state/dropzone/example/crash.yaml"
mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/after.log"
crashed=$(ls "$mnt/jobs" | grep -- '-crashjob$')
token=$(jq -r .token "$mnt/jobs/$crashed/info.json")
check "after restart the job is confirmed" grep -Eq '^(PENDING|RUNNING|COMPLETED)' "$mnt/jobs/$crashed/status"
check "SLURM has exactly one job with its token" expect_eq 1 "$(on_cluster alpha "squeue -h -o %k" | grep -c "$token")"
check "the file left new/ with a receipt" bash -c "[[ ! -e '$P/new/crash.yaml' && -e '$P/new/crash.yaml.submitted' ]]"

cd /
finish
