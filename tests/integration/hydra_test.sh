#!/usr/bin/env bash
# hydra_test.sh — Hydra through a real mount: projects/<p>/hydra/ shows the
# example project's conf/; launches with groups, typed params, awkward
# strings and raw overrides run examples/project/train.py on the real
# cluster, and the argv it received, and the config it composed from it, are
# exactly what was meant; refusals (unknown key, bad group option, type
# mismatch, unknown config) fail close() with EINVAL and `.error` says why.
#
#   bash tests/integration/hydra_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: hydra_test.sh path/to/mmcfs}")"
require_mount_env
command -v jq >/dev/null || skip "jq is missing"

new_workspace hydra
source "$(dirname "$MMCFS_TEST_CLUSTERS")/env"

example_config "connect_timeout_seconds: 3" "command_timeout_seconds: 20"
mount_mmcfs "$MMCFS" "$config" "$work/state" "$mnt" "$work/mmcfs.log"
P="$mnt/projects/example"
H="$P/hydra"

# --- the conf/ tree as files -------------------------------------------------
check "hydra/ lists configs, groups, params, problems and one dir per config" \
  expect_eq "config config_small configs groups params problems" "$(ls "$H" | tr '\n' ' ' | sed 's/ $//')"
check "configs marks the default" expect_eq "config        default|config_small" "$(paste -sd'|' "$H/configs")"
check "groups/<g> lists options, the default marked" \
  expect_eq "mlp          default|transformer" "$(paste -sd'|' "$H/groups/model")"
check "params: key type default" bash -c "grep -qx 'optimizer.lr  *float  *1e-3' '$H/params' &&
  grep -qx 'model.hidden_sizes  *list  *\[64, 64\]' '$H/params' && grep -qx 'seed  *int  *0' '$H/params'"
check "another config's params" grep -qx 'optimizer.momentum  *float  *0.9' "$H/config_small/params"
check "no problems" expect_eq "" "$(cat "$H/problems")"
check "hydra/ is read-only" bash -c "! echo x >'$H/params' 2>/dev/null"

launch_file() {  # launch_file NAME DESCRIPTION [extra yaml lines...]
  local name="$1" desc="$2"; shift 2
  printf 'name: %s\ndescription: %s\ncluster: alpha\npartition: general\ncpus_per_task: 1\nmemory: 200M\ntime_limit: "00:05:00"\n' "$name" "$desc"
  local line; for line in "$@"; do printf '%s\n' "$line"; done
}
# job_json ID PREFIX JQ: a JSON line the job printed, decoded.
job_json() { grep -m1 "^$2" "$mnt/jobs/$1/log" | sed "s/^$2//" | jq -c "$3"; }

# --- groups, typed params, awkward strings, overrides last --------------------
awkward="a,b=c 'q' \"dq\" [x] {y: 1} \${oc.env:HOME} \\z ✓"   # what the YAML below means
launch_file awkward "use eos as mask token, but try lower LR" \
  'groups: {model: transformer, data: small}' \
  'params:' \
  '  optimizer.lr: 1e-5' \
  '  model.num_layers: 4' \
  "  notes: \"a,b=c 'q' \\\"dq\\\" [x] {y: 1} \${oc.env:HOME} \\\\z ✓\"" \
  '  train.epochs: 3' \
  'overrides: ["train.epochs=7", "+extra.tag=x"]' >"$work/awkward.yaml"
check "a launch with groups, params and overrides is accepted" cp "$work/awkward.yaml" "$P/new/awkward.yaml"
job1=$(ls "$mnt/jobs" | grep '^00001-')
check "it ran train.py on the cluster" wait_for 120 grep -q '^MMCFS_CONFIG=' "$mnt/jobs/$job1/log"
want_argv=$(jq -cn '[
  "model=transformer", "optimizer.lr=1e-5", "model.num_layers=4",
  "notes='"'"'a,b=c \\'"'"'q\\'"'"' \"dq\" [x] {y: 1} \\${oc.env:HOME} \\z ✓'"'"'",
  "train.epochs=3",
  "experiment_suffix='"'"'use eos as mask token, but try lower LR'"'"'",
  "train.epochs=7", "+extra.tag=x"]')
check "train.py received exactly the intended argv" expect_eq "$want_argv" "$(job_json "$job1" MMCFS_ARGV= .)"
check "the string arrived unchanged in the composed config" \
  expect_eq "$(jq -cn --arg v "$awkward" '$v')" "$(job_json "$job1" MMCFS_CONFIG= .notes)"
check "experiment_suffix was filled from the description" \
  expect_eq '"use eos as mask token, but try lower LR"' "$(job_json "$job1" MMCFS_CONFIG= .experiment_suffix)"
check "the group choice took effect" expect_eq '"transformer"' "$(job_json "$job1" MMCFS_CONFIG= .model.name)"
check "the float arrived as a float" expect_eq 'true' "$(job_json "$job1" MMCFS_CONFIG= '.optimizer.lr == 0.00001')"
check "the override came last and won" expect_eq '7' "$(job_json "$job1" MMCFS_CONFIG= .train.epochs)"
check "data=small (the default) was not passed" bash -c "! grep -q 'data=small' '$mnt/jobs/$job1/command'"
check "jobs/<id>/command is the shell-quoted command" \
  grep -qF "python3 train.py model=transformer optimizer.lr=1e-5 model.num_layers=4 'notes='\\''a,b=c" "$mnt/jobs/$job1/command"

# --- config_name switches the schema ------------------------------------------
launch_file small "small config" 'config_name: config_small' 'params: {optimizer.momentum: 0.5}' >"$work/small.yaml"
check "config_name with a key only that config has is accepted" cp "$work/small.yaml" "$P/new/small.yaml"
job2=$(ls "$mnt/jobs" | grep '^00002-')
check "it ran" wait_for 120 grep -q '^MMCFS_CONFIG=' "$mnt/jobs/$job2/log"
check "--config-name reached train.py" \
  expect_eq '["--config-name","config_small","optimizer.momentum=0.5","experiment_suffix='"'"'small config'"'"'"]' \
  "$(job_json "$job2" MMCFS_ARGV= .)"
check "and the value is in its config" expect_eq '0.5' "$(job_json "$job2" MMCFS_CONFIG= .optimizer.momentum)"
check "the per-config template remembers its params" grep -q 'optimizer.momentum: 0.5' "$H/config_small/launch.yaml"
check "the default config's template does not" bash -c "! grep -q 'momentum' '$H/config/launch.yaml'"

# --- refusals ------------------------------------------------------------------
refuse() {  # refuse NAME YAML-LINES... : the launch fails with EINVAL; prints the .error
  local name="$1"; shift
  launch_file "$name" refused "$@" >"$work/$name.yaml"
  local out rc
  out=$(cp "$work/$name.yaml" "$P/new/$name.yaml" 2>&1); rc=$?
  [[ $rc -ne 0 ]] && grep -q 'Invalid argument' <<<"$out" || { echo "rc=$rc out=$out"; return 1; }
  cat "$P/new/$name.yaml.error"
}
has() {  # has TEXT PATTERN... : every (fixed-string) pattern is in TEXT, else prints TEXT
  local text="$1" p; shift
  for p in "$@"; do grep -qF -- "$p" <<<"$text" || { echo "no '$p' in:"; echo "$text"; return 1; }; done
}
# (config_name is inherited from the last launch: config_small)
out=$(refuse unknownkey 'params: {optimizer.learnin_rate: 1e-4}')
check "an unknown params key: EINVAL, the closest keys and how to add one" has "$out" \
  "unknownkey.yaml:8:10: params key 'optimizer.learnin_rate' is not in config 'config_small'" \
  "keys under 'optimizer': optimizer.name, optimizer.lr, optimizer.momentum" '+optimizer.learnin_rate='
out=$(refuse misspelt 'params: {optimzer.lr: 1e-4}')
check "a misspelt params key: the closest key named" has "$out" "did you mean optimizer.lr?"
out=$(refuse badgroup 'groups: {model: transfromer}')
check "a bad group option: EINVAL, the options listed" has "$out" \
  "group 'model' has no option 'transfromer' — did you mean 'transformer'? options: mlp, transformer (default: mlp)"
out=$(refuse badtype 'params: {train.epochs: many}')
check "a type mismatch: EINVAL, what type is wanted" has "$out" \
  "params 'train.epochs' is 'many' (string) but config 'config_small' has an int there" "write a whole number"
out=$(refuse badconfig 'config_name: config_huge')
check "an unknown config_name: EINVAL, the configs listed" has "$out" \
  "config_name 'config_huge' is not a primary config" "primary configs: config, config_small"
check "nothing refused reached SLURM" expect_eq "2" "$(ls "$mnt/jobs" | wc -l)"

finish
