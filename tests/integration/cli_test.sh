#!/usr/bin/env bash
# cli_test.sh — the mmcfs binary's start-up contract: a malformed or invalid
# clusters.yaml stops it with "file:line:column: what is wrong" and a hint;
# bad arguments say what is wrong; nothing is mounted in those cases.
#
#   bash tests/integration/cli_test.sh path/to/mmcfs
set -uo pipefail
source "$(dirname "$0")/lib.sh"
MMCFS="$(realpath "${1:?usage: cli_test.sh path/to/mmcfs}")"
work=$(mktemp -d /tmp/mmcfs-cli-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/mnt"

# fails_with CODE PATTERN ARGS... — mmcfs must exit CODE and print PATTERN (ERE).
fails_with() {
  local code="$1" pattern="$2"; shift 2
  local out rc
  out=$(timeout 10 "$MMCFS" "$@" 2>&1); rc=$?
  [[ $rc -eq $code ]] || { echo "exit $rc, wanted $code: $out"; return 1; }
  grep -Eq -- "$pattern" <<<"$out" || { echo "output lacks /$pattern/: $out"; return 1; }
  ! mountpoint -q "$work/mnt" || { echo "something got mounted"; return 1; }
}

check "--help explains the options" fails_with 0 '--config FILE' --help
check "no mountpoint: usage" fails_with 2 'no mountpoint given' --config /nonexistent
check "unknown option: usage" fails_with 2 "unknown option '--frobnicate'" --frobnicate "$work/mnt"
check "missing config file names the path" fails_with 2 '/nonexistent/clusters.yaml' \
  --config /nonexistent/clusters.yaml "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: [unclosed\n' >"$work/syntax.yaml"
check "YAML syntax error: file:line:column" fails_with 2 "^mmcfs: $work/syntax.yaml:[0-9]+:[0-9]+: " \
  --config "$work/syntax.yaml" "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: u@h\n    workspace: /w\n    alowed_partitions: [gpu]\n' >"$work/typo.yaml"
check "unknown key: line:column and a suggestion" \
  fails_with 2 "typo.yaml:5:5: unknown key 'alowed_partitions'.*allowed_partitions" --config "$work/typo.yaml" "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: h\n    workspace: /w\n' >"$work/nouser.yaml"
check "host without user@ is refused with a hint" fails_with 2 "nouser.yaml:3:[0-9]+: .*user@" \
  --config "$work/nouser.yaml" "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: u@h\n    workspace: /w\n    ssh_key_path: /nonexistent/key\n' >"$work/nokey.yaml"
check "missing key file says which" fails_with 2 "nokey.yaml:5:[0-9]+: .*/nonexistent/key" \
  --config "$work/nokey.yaml" "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: u@h\n    workspace: /w\n  - name: alpha\n    host: u@h\n    workspace: /w\n' >"$work/dup.yaml"
check "duplicate cluster names point at both" fails_with 2 "dup.yaml:5:[0-9]+: .*alpha.*line 2" \
  --config "$work/dup.yaml" "$work/mnt"

printf 'clusters:\n  - name: alpha\n    host: u@h\n    workspace: /w\n' >"$work/good.yaml"
check "a mountpoint that is not a directory is refused" fails_with 2 'is not a directory' \
  --config "$work/good.yaml" "$work/nonexistent-mnt"

finish
