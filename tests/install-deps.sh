#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages mmcfs needs to build, test
# and demo, if any are missing. Safe to run again: installs only what is not
# there. Needs root (or sudo) when something is missing.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config git
  libfuse3-dev fuse3 libssh2-1-dev libsqlite3-dev libgit2-dev libyaml-cpp-dev libfmt-dev
  libgtest-dev libgmock-dev
  # local test clusters and integration tests
  slurm-wlm munge openssh-server openssh-client jq procps iproute2 sqlite3
  # the example project runs on the test clusters; editors drive the drop-zone tests
  python3 python3-yaml vim nano tmux
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
