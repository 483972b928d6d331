#!/usr/bin/env bash
# make-example-repo.sh — turn examples/project into a git repository with a
# bare "origin" that the (local test) cluster can clone from.
#
#   examples/make-example-repo.sh WORKTREE_DIR BARE_DIR
#
# WORKTREE_DIR gets a copy of examples/project committed on branch main and
# pushed to BARE_DIR (created, and made world-readable so the cluster's
# unprivileged user can clone it). Prints WORKTREE_DIR. Safe to run again: an
# existing WORKTREE_DIR is left as it is.
set -euo pipefail
src="$(cd "$(dirname "$0")" && pwd)/project"
work="${1:?usage: make-example-repo.sh WORKTREE_DIR BARE_DIR}"
bare="${2:?usage: make-example-repo.sh WORKTREE_DIR BARE_DIR}"
git_() { git -c user.name="mmcfs example" -c user.email="example@mmcfs.invalid" -c init.defaultBranch=main "$@"; }

if [[ ! -d "$work/.git" ]]; then
  mkdir -p "$work"
  cp -a "$src/." "$work/"
  git_ -C "$work" init -q
  git_ -C "$work" add -A
  git_ -C "$work" commit -q -m "example project"
fi
if [[ ! -d "$bare" ]]; then
  mkdir -p "$(dirname "$bare")"
  git_ init -q --bare "$bare"
fi
git_ -C "$work" remote get-url origin >/dev/null 2>&1 || git_ -C "$work" remote add origin "$bare"
git_ -C "$work" push -q origin HEAD:main
git_ -C "$work" fetch -q origin
git_ -C "$work" branch -q --set-upstream-to=origin/main 2>/dev/null || true
# The cluster's user must be able to read the remote (and reach it).
chmod -R a+rX "$bare"
d="$(dirname "$bare")"
while [[ "$d" != "/" ]]; do chmod a+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
echo "$work"
