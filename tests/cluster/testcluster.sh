#!/usr/bin/env bash
# testcluster.sh - start and stop the local test clusters for mmcfs.
#
# Usage (as root):
#   testcluster.sh up              start everything; last stdout line = clusters.yaml path
#   testcluster.sh down            stop exactly what `up` started
#   testcluster.sh status          show each component; exit 0 only if all run
#   testcluster.sh sshd-stop NAME  stop only cluster NAME's sshd (simulates a dead cluster)
#   testcluster.sh sshd-start NAME start it again on the same port
#
# What `up` builds, all on 127.0.0.1 and all under one state directory
# ($MMCFS_TESTCLUSTER_DIR, default /var/tmp/mmcfs-testcluster; nothing in /etc/slurm):
#   - munged (only if none runs yet; `down` stops it only if `up` started it),
#   - the unprivileged user `mmcfsuser`, as whom mmcfs logs in and jobs run,
#   - two independent SLURM 22.05 clusters, each with its own slurmctld and slurmd:
#       alpha: partitions general (default) and preempt; node alpha-n1 with
#              gpu:a6000:2 and gpu:a100:2, plus node alpha-n2 (gpu:a100:2) that has
#              no slurmd and is kept DOWN+DRAIN,
#       beta:  partition general; node beta-n1 with gpu:h100:2,
#   - one sshd per cluster whose sessions get SLURM_CONF of that cluster, so the
#     plain SLURM commands run over ssh talk to the right cluster.
# The GPUs are fake: character devices /dev/nvidia0..5 made with mknod.
#
# Progress goes to stderr, so `cfg=$(testcluster.sh up | tail -1)` works.
# Ports are picked free at `up` time and kept in the state dir, so a second `up`
# (or `sshd-start`) reuses them. `up` is idempotent: it starts only what is not
# running and re-verifies everything.
#
# Caveat: slurmctld and slurmd have no option to bind to one address; they listen
# on all addresses of the (high, random) ports picked here. sshd listens on
# 127.0.0.1 only.

set -euo pipefail

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

STATE_DIR="${MMCFS_TESTCLUSTER_DIR:-/var/tmp/mmcfs-testcluster}"
readonly TEST_USER="mmcfsuser"
readonly TEST_HOME="/home/${TEST_USER}"
readonly WORKSPACE="${TEST_HOME}/mmcfs-jobs"
readonly CLUSTERS=(alpha beta)
readonly START_TIMEOUT=60   # seconds to wait for a node to become idle
readonly STOP_TIMEOUT=20    # seconds to wait for a daemon to exit
readonly PORT_MIN=20000     # ports are picked below Linux's ephemeral range
readonly PORT_MAX=29999

HOST_SHORT="$(hostname -s)"
readonly HOST_SHORT
NCPUS="$(nproc)"
readonly NCPUS

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

log() { printf 'testcluster: %s\n' "$*" >&2; }
die() { printf 'testcluster: ERROR: %s\n' "$*" >&2; exit 1; }

# Print the last lines of a log file to stderr (used when something fails).
show_log_tail() {
  local file="$1"
  if [[ -f "$file" ]]; then
    printf '%s\n' "----- last lines of ${file} -----" >&2
    tail -n 25 "$file" >&2 || true
    printf '%s\n' "-----" >&2
  fi
}

# Start a daemon: no stdin, its stdout to our stderr (our stdout carries only
# the clusters.yaml path), and without our lock fd 9 (a daemon holding it would
# block every later run of this script).
spawn() { "$@" </dev/null >&2 9>&-; }

# Upper-case cluster name, for variable names: alpha -> ALPHA.
upper() { printf '%s' "${1^^}"; }

cluster_dir() { printf '%s/%s' "$STATE_DIR" "$1"; }
slurm_conf() { printf '%s/slurm.conf' "$(cluster_dir "$1")"; }

# The one real node (the one with a slurmd) of each cluster.
real_node() { printf '%s-n1' "$1"; }

# Read the port variable for cluster $1 and kind $2 (SSH, CTLD, SLURMD, N2).
port_of() {
  local var
  var="$(upper "$1")_$2_PORT"
  printf '%s' "${!var:-}"
}

# Run a SLURM client command against cluster $1 (as root, locally).
slurm_cmd() {
  local cluster="$1"
  shift
  SLURM_CONF="$(slurm_conf "$cluster")" "$@"
}

# ---------------------------------------------------------------------------
# Processes, tracked by pid files
# ---------------------------------------------------------------------------

# pid_alive PIDFILE NAME: print the pid and succeed if the pid file names a live
# process whose command name is NAME (guards against stale pid files and reuse).
pid_alive() {
  local pidfile="$1" name="$2" pid comm
  [[ -f "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  comm="$(cat "/proc/${pid}/comm" 2>/dev/null)" || return 1
  [[ "$comm" == "$name" ]] || return 1
  process_exists "$pid" || return 1
  printf '%s' "$pid"
}

# stop_pidfile PIDFILE NAME: SIGTERM the process, wait for it to exit (SIGKILL
# after STOP_TIMEOUT seconds), remove the pid file. Safe if it does not run.
stop_pidfile() {
  local pidfile="$1" name="$2" pid deadline
  if ! pid="$(pid_alive "$pidfile" "$name")"; then
    rm -f "$pidfile"
    return 0
  fi
  log "stopping ${name} (pid ${pid})"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while process_exists "$pid"; do
    if (( SECONDS >= deadline )); then
      log "${name} (pid ${pid}) ignores SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      process_exists "$pid" && die "${name} (pid ${pid}) does not exit"
      break
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
}

# A process exists unless it is gone or a zombie (exited; its parent, not us,
# reaps it).
process_exists() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != "Z" ]]
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

ports_file() { printf '%s/ports' "$STATE_DIR"; }
PICKED_PORTS=" "

port_is_free() {
  local port="$1"
  [[ "$PICKED_PORTS" != *" ${port} "* ]] || return 1
  # Any socket on the port makes it unusable, except TIME-WAIT leftovers of
  # closed connections (the daemons bind with SO_REUSEADDR), so a restart
  # usually gets its old ports back.
  [[ -z "$(ss -Hatn exclude time-wait "( sport = :${port} )" 2>/dev/null)" ]]
}

pick_free_port() {
  local port tries=0
  while (( tries < 200 )); do
    port=$(( PORT_MIN + RANDOM % (PORT_MAX - PORT_MIN + 1) ))
    if port_is_free "$port"; then
      printf '%s' "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  die "no free port found between ${PORT_MIN} and ${PORT_MAX}"
}

load_ports() {
  if [[ -f "$(ports_file)" ]]; then
    # shellcheck source=/dev/null
    source "$(ports_file)"
  fi
}

# Decide the ports for `up`. A cluster with any daemon still running keeps its
# ports; otherwise each saved port is kept if still free, else replaced.
choose_ports() {
  local cluster kind var port
  load_ports
  for cluster in "${CLUSTERS[@]}"; do
    for kind in SSH CTLD SLURMD N2; do
      [[ "$kind" == N2 && "$cluster" != alpha ]] && continue
      var="$(upper "$cluster")_${kind}_PORT"
      port="${!var:-}"
      if [[ -n "$port" ]] && { cluster_any_running "$cluster" || port_is_free "$port"; }; then
        :
      else
        port="$(pick_free_port)"
      fi
      printf -v "$var" '%s' "$port"
      PICKED_PORTS+="${port} "
    done
  done
  {
    echo "# Ports picked by testcluster.sh up (sourced by it again)."
    for cluster in "${CLUSTERS[@]}"; do
      for kind in SSH CTLD SLURMD N2; do
        [[ "$kind" == N2 && "$cluster" != alpha ]] && continue
        var="$(upper "$cluster")_${kind}_PORT"
        printf '%s=%q\n' "$var" "${!var}"
      done
    done
  } >"$(ports_file)"
}

# ---------------------------------------------------------------------------
# munge
# ---------------------------------------------------------------------------

munge_mark() { printf '%s/munged.started-by-us' "$STATE_DIR"; }

# A munged answers on the default socket (ours or a system one).
munge_running() { munge -n </dev/null >/dev/null 2>&1; }

ensure_munge() {
  if munge_running; then
    if pid_alive "$(munge_mark)" munged >/dev/null; then
      log "munged already runs (started by testcluster.sh)"
    else
      log "munged already runs (not ours; down will leave it)"
      rm -f "$(munge_mark)"
    fi
  else
    log "starting munged"
    install -d -o munge -g munge -m 0755 /run/munge
    spawn runuser -u munge -- /usr/sbin/munged
    # munged writes its pid file once it is ready; remember that we started it.
    local deadline=$((SECONDS + 10))
    until [[ -s /run/munge/munged.pid ]]; do
      (( SECONDS < deadline )) || die "munged wrote no /run/munge/munged.pid"
      sleep 0.1
    done
    cp /run/munge/munged.pid "$(munge_mark)"
  fi
  munge -n | unmunge >/dev/null || die "munge does not work (munge -n | unmunge)"
}

stop_munge_if_ours() {
  if [[ -f "$(munge_mark)" ]]; then
    stop_pidfile "$(munge_mark)" munged
  fi
}

# ---------------------------------------------------------------------------
# The test user and the ssh keys
# ---------------------------------------------------------------------------

ensure_user() {
  if ! id "$TEST_USER" >/dev/null 2>&1; then
    log "creating user ${TEST_USER}"
    # Password '*': no password login, but not "locked" (sshd without PAM refuses
    # key logins for accounts whose password starts with '!').
    useradd --create-home --home-dir "$TEST_HOME" --shell /bin/bash \
      --password '*' "$TEST_USER"
  fi
  local pw
  pw="$(getent shadow "$TEST_USER" | cut -d: -f2)"
  if [[ "$pw" == "!" || "$pw" == "!*" ]]; then
    log "unlocking ${TEST_USER} for key-only ssh (password field '*')"
    usermod --password '*' "$TEST_USER"
  fi
  install -d -o "$TEST_USER" -g "$TEST_USER" -m 0755 "$WORKSPACE"
  # Jobs clone the projects' "remotes", which the tests and the demo create
  # as root-owned bare repositories on this machine; git refuses to read a
  # repository owned by someone else unless told to trust it.
  local gitconfig="${TEST_HOME}/.gitconfig"
  if ! grep -qs 'directory = \*' "$gitconfig"; then
    printf '[safe]\n\tdirectory = *\n' >>"$gitconfig"
    chown "$TEST_USER:$TEST_USER" "$gitconfig"
  fi
}

ensure_keys() {
  local cluster dir
  if [[ ! -f "${STATE_DIR}/user_key" ]]; then
    log "generating the user key pair"
    ssh-keygen -q -t ed25519 -N '' -C "mmcfs-testcluster-user" -f "${STATE_DIR}/user_key"
  fi
  chmod 600 "${STATE_DIR}/user_key"
  # sshd reads the authorized keys file with the user's rights.
  install -m 0644 "${STATE_DIR}/user_key.pub" "${STATE_DIR}/authorized_keys"
  for cluster in "${CLUSTERS[@]}"; do
    dir="$(cluster_dir "$cluster")"
    if [[ ! -f "${dir}/ssh_host_ed25519_key" ]]; then
      log "generating the host key of ${cluster}"
      ssh-keygen -q -t ed25519 -N '' -C "mmcfs-testcluster-${cluster}" \
        -f "${dir}/ssh_host_ed25519_key"
    fi
  done
}

# known_hosts with the real host key of each cluster's sshd on its port.
write_known_hosts() {
  local cluster key_type key_data rest
  for cluster in "${CLUSTERS[@]}"; do
    read -r key_type key_data rest <"$(cluster_dir "$cluster")/ssh_host_ed25519_key.pub"
    printf '[127.0.0.1]:%s %s %s\n' "$(port_of "$cluster" SSH)" "$key_type" "$key_data"
  done >"${STATE_DIR}/known_hosts.tmp"
  chmod 644 "${STATE_DIR}/known_hosts.tmp"
  mv "${STATE_DIR}/known_hosts.tmp" "${STATE_DIR}/known_hosts"
}

# ---------------------------------------------------------------------------
# Configuration files
# ---------------------------------------------------------------------------

# Replace FILE by the content of stdin only if it differs (keeps mtimes stable
# while daemons run).
write_if_changed() {
  local file="$1" tmp
  tmp="${file}.new"
  cat >"$tmp"
  if [[ -f "$file" ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
  else
    mv "$tmp" "$file"
  fi
}

# Node and partition lines of each cluster. The real node's hostname is this
# machine's; NodeAddr pins traffic to 127.0.0.1.
slurm_nodes_alpha() {
  cat <<EOF
NodeName=alpha-n1 NodeHostname=${HOST_SHORT} NodeAddr=127.0.0.1 CPUs=${NCPUS} RealMemory=4000 Gres=gpu:a6000:2,gpu:a100:2 State=UNKNOWN
# A node without slurmd, kept DOWN (and drained by testcluster.sh up). Its own
# Port is a free port nobody listens on, so pings never reach alpha-n1's slurmd.
NodeName=alpha-n2 NodeHostname=alpha-n2 NodeAddr=127.0.0.1 Port=${ALPHA_N2_PORT} CPUs=${NCPUS} RealMemory=4000 Gres=gpu:a100:2 State=DOWN
PartitionName=general Nodes=alpha-n1,alpha-n2 Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
PartitionName=preempt Nodes=alpha-n1,alpha-n2 Default=NO MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

slurm_nodes_beta() {
  cat <<EOF
NodeName=beta-n1 NodeHostname=${HOST_SHORT} NodeAddr=127.0.0.1 CPUs=${NCPUS} RealMemory=4000 Gres=gpu:h100:2 State=UNKNOWN
PartitionName=general Nodes=beta-n1 Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

gres_conf_alpha() {
  cat <<EOF
NodeName=alpha-n1 Name=gpu Type=a6000 File=/dev/nvidia[0-1]
NodeName=alpha-n1 Name=gpu Type=a100 File=/dev/nvidia[2-3]
NodeName=alpha-n2 Name=gpu Type=a100 Count=2
EOF
}

gres_conf_beta() {
  cat <<EOF
NodeName=beta-n1 Name=gpu Type=h100 File=/dev/nvidia[4-5]
EOF
}

write_slurm_conf() {
  local cluster="$1" dir
  dir="$(cluster_dir "$cluster")"
  install -d -m 0755 "${dir}/state" "${dir}/spool"
  write_if_changed "$(slurm_conf "$cluster")" <<EOF
# Generated by tests/cluster/testcluster.sh - test cluster "${cluster}" of mmcfs.
ClusterName=${cluster}
SlurmctldHost=${HOST_SHORT}(127.0.0.1)
SlurmctldPort=$(port_of "$cluster" CTLD)
SlurmdPort=$(port_of "$cluster" SLURMD)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge

StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups: cgroup plugins do not work here, and there is no cgroup.conf.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none

# Cores and memory are consumable; GPUs are typed GRES.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
DefMemPerCPU=100

# No accounting database; finished jobs are recorded in a text file.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/jobcomp.log

# Short timers so tests do not wait long.
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=5,bf_interval=5
MessageTimeout=5
SlurmctldTimeout=30
SlurmdTimeout=60
KillWait=5
MinJobAge=300
InactiveLimit=0
ReturnToService=2

$("slurm_nodes_${cluster}")
EOF
  write_if_changed "${dir}/gres.conf" < <("gres_conf_${cluster}")
}

write_sshd_config() {
  local cluster="$1" dir
  dir="$(cluster_dir "$cluster")"
  write_if_changed "${dir}/sshd_config" <<EOF
# Generated by tests/cluster/testcluster.sh - sshd of test cluster "${cluster}".
Port $(port_of "$cluster" SSH)
ListenAddress 127.0.0.1
HostKey ${dir}/ssh_host_ed25519_key
PidFile ${dir}/sshd.pid
AuthorizedKeysFile ${STATE_DIR}/authorized_keys
AllowUsers ${TEST_USER}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
StrictModes no
X11Forwarding no
PrintMotd no
MaxSessions 32
MaxStartups 50
Subsystem sftp internal-sftp
# Every session talks to this cluster's slurmctld.
SetEnv SLURM_CONF=$(slurm_conf "$cluster")
EOF
}

# Fake NVIDIA devices for the GRES File= lines (only the ones missing).
ensure_gpu_devices() {
  local n
  for n in 0 1 2 3 4 5; do
    [[ -e "/dev/nvidia${n}" ]] || mknod -m 0666 "/dev/nvidia${n}" c 195 "$n"
  done
}

write_clusters_yaml() {
  local yaml="${STATE_DIR}/clusters.yaml"
  write_if_changed "$yaml" <<EOF
clusters:
  - name: alpha
    host: ${TEST_USER}@127.0.0.1
    port: ${ALPHA_SSH_PORT}
    ssh_key_path: ${STATE_DIR}/user_key
    known_hosts: ${STATE_DIR}/known_hosts
    workspace: ${WORKSPACE}
    allowed_partitions: [general, preempt]
    allowed_gpu_types: [A6000, A100]
  - name: beta
    host: ${TEST_USER}@127.0.0.1
    port: ${BETA_SSH_PORT}
    ssh_key_path: ${STATE_DIR}/user_key
    known_hosts: ${STATE_DIR}/known_hosts
    workspace: ${WORKSPACE}
    allowed_partitions: [general]
    allowed_gpu_types: [H100]
EOF
  chmod 644 "$yaml"
}

write_env_file() {
  {
    echo "# Sourceable description of the test clusters (written by testcluster.sh up)."
    printf 'STATE_DIR=%q\n' "$STATE_DIR"
    printf 'ALPHA_SSH_PORT=%q\n' "$ALPHA_SSH_PORT"
    printf 'BETA_SSH_PORT=%q\n' "$BETA_SSH_PORT"
    printf 'ALPHA_SLURM_CONF=%q\n' "$(slurm_conf alpha)"
    printf 'BETA_SLURM_CONF=%q\n' "$(slurm_conf beta)"
    printf 'USER_KEY=%q\n' "${STATE_DIR}/user_key"
    printf 'KNOWN_HOSTS=%q\n' "${STATE_DIR}/known_hosts"
    printf 'CLUSTERS_YAML=%q\n' "${STATE_DIR}/clusters.yaml"
    printf 'TEST_USER=%q\n' "$TEST_USER"
    printf 'ALPHA_SLURMCTLD_PORT=%q\n' "$ALPHA_CTLD_PORT"
    printf 'ALPHA_SLURMD_PORT=%q\n' "$ALPHA_SLURMD_PORT"
    printf 'BETA_SLURMCTLD_PORT=%q\n' "$BETA_CTLD_PORT"
    printf 'BETA_SLURMD_PORT=%q\n' "$BETA_SLURMD_PORT"
  } | write_if_changed "${STATE_DIR}/env"
  chmod 644 "${STATE_DIR}/env"
}

# ---------------------------------------------------------------------------
# Starting and stopping one cluster
# ---------------------------------------------------------------------------

ctld_pid() { pid_alive "$(cluster_dir "$1")/slurmctld.pid" slurmctld; }
slurmd_pid() { pid_alive "$(cluster_dir "$1")/slurmd.pid" slurmd; }
sshd_pid() { pid_alive "$(cluster_dir "$1")/sshd.pid" sshd; }

cluster_any_running() {
  ctld_pid "$1" >/dev/null || slurmd_pid "$1" >/dev/null || sshd_pid "$1" >/dev/null
}

# wait_for SECONDS DESCRIPTION LOGFILE COMMAND...: retry COMMAND every 0.2 s.
wait_for() {
  local seconds="$1" what="$2" logfile="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then
      show_log_tail "$logfile"
      die "timed out after ${seconds}s waiting for ${what}"
    fi
    sleep 0.2
  done
}

ctld_answers() { slurm_cmd "$1" scontrol ping | grep -q 'is UP'; }

# The real node serves jobs: idle on a fresh start; mixed/allocated when `up`
# runs again while test jobs run. (sinfo prints one line per partition.)
node_is_ready() {
  local state
  state="$(slurm_cmd "$1" sinfo -h -N -n "$(real_node "$1")" -o '%T' | sort -u)"
  [[ "$state" == "idle" || "$state" == "mixed" || "$state" == "allocated" ]]
}

start_slurm() {
  local cluster="$1" dir conf
  dir="$(cluster_dir "$cluster")"
  conf="$(slurm_conf "$cluster")"
  if ctld_pid "$cluster" >/dev/null; then
    log "${cluster}: slurmctld already runs"
  else
    log "${cluster}: starting slurmctld on port $(port_of "$cluster" CTLD)"
    spawn slurmctld -f "$conf" || { show_log_tail "${dir}/slurmctld.log"; die "${cluster}: slurmctld failed"; }
  fi
  wait_for "$START_TIMEOUT" "${cluster} slurmctld to answer" "${dir}/slurmctld.log" \
    ctld_answers "$cluster"

  if slurmd_pid "$cluster" >/dev/null; then
    log "${cluster}: slurmd already runs"
  else
    log "${cluster}: starting slurmd for node $(real_node "$cluster") on port $(port_of "$cluster" SLURMD)"
    spawn slurmd -f "$conf" -N "$(real_node "$cluster")" \
      || { show_log_tail "${dir}/slurmd.log"; die "${cluster}: slurmd failed"; }
  fi
}

# The node without slurmd stays out of service, with a reason tests can see.
# It is DOWN from slurm.conf; the DRAIN flag is set on every start because a
# restarted slurmctld keeps the saved reason but not the flag.
drain_dead_node() {
  if ! slurm_cmd alpha scontrol show node -o alpha-n2 | grep -q 'State=[^ ]*DRAIN'; then
    slurm_cmd alpha scontrol update NodeName=alpha-n2 State=DRAIN Reason="test: never free"
  fi
}

start_sshd() {
  local cluster="$1" dir
  dir="$(cluster_dir "$cluster")"
  install -d -m 0755 /run/sshd
  if sshd_pid "$cluster" >/dev/null; then
    log "${cluster}: sshd already runs"
    return 0
  fi
  log "${cluster}: starting sshd on 127.0.0.1:$(port_of "$cluster" SSH)"
  /usr/sbin/sshd -t -f "${dir}/sshd_config" || die "${cluster}: sshd_config is invalid"
  spawn /usr/sbin/sshd -f "${dir}/sshd_config" -E "${dir}/sshd.log" \
    || { show_log_tail "${dir}/sshd.log"; die "${cluster}: sshd failed to start"; }
  wait_for 10 "${cluster} sshd pid file" "${dir}/sshd.log" sshd_pid "$cluster"
}

# Print all descendants of a process, one pid per line (children first).
descendants() {
  local child
  local -a children
  mapfile -t children < <(pgrep -P "$1" || true)
  for child in "${children[@]}"; do
    printf '%s\n' "$child"
    descendants "$child"
  done
}

# Stop a cluster's sshd: first its open sessions and the commands they run
# (all descendants of the listener), then the listener, so that clients really
# see the cluster go away and no session command outlives it. Jobs submitted
# through ssh are not descendants (slurmd runs them) and are left alone.
# The listener is frozen (SIGSTOP) first: a client whose session just ended
# (mmcfs reconnects at once) must not get a new session between the scan
# for sessions and the listener's exit, or that session would outlive it. The
# listener gets its SIGTERM while frozen, so it exits as soon as it runs again.
stop_sshd() {
  local cluster="$1" pid p deadline
  local -a sessions
  if pid="$(sshd_pid "$cluster")"; then
    kill -STOP "$pid" 2>/dev/null || true
    mapfile -t sessions < <(descendants "$pid")
    if (( ${#sessions[@]} > 0 )); then
      log "${cluster}: ending ${#sessions[@]} ssh session process(es)"
      kill -TERM "${sessions[@]}" 2>/dev/null || true
      deadline=$((SECONDS + STOP_TIMEOUT))
      for p in "${sessions[@]}"; do
        while process_exists "$p" && (( SECONDS < deadline )); do sleep 0.1; done
        process_exists "$p" && kill -KILL "$p" 2>/dev/null || true
      done
    fi
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
  fi
  stop_pidfile "$(cluster_dir "$cluster")/sshd.pid" sshd
}

# Log in over ssh exactly as mmcfs will, with host key checking on.
ssh_check() {
  local cluster="$1" out
  out="$(ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="${STATE_DIR}/known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o ConnectTimeout=10 -i "${STATE_DIR}/user_key" \
    -p "$(port_of "$cluster" SSH)" "${TEST_USER}@127.0.0.1" sinfo 2>&1)" || {
      printf '%s\n' "$out" >&2
      show_log_tail "$(cluster_dir "$cluster")/sshd.log"
      die "${cluster}: ssh ${TEST_USER}@127.0.0.1 sinfo failed"
    }
  # The session must see this cluster (its own node names), not the other one.
  [[ "$out" == *"$(real_node "$cluster")"* ]] \
    || die "${cluster}: sinfo over ssh shows another cluster: ${out}"
}

# Cancel the jobs of our own test cluster and wait until none is left, so no
# job process outlives `down`. Only done while our slurmctld runs.
cancel_cluster_jobs() {
  local cluster="$1" deadline
  local -a jobs
  ctld_pid "$cluster" >/dev/null || return 0
  mapfile -t jobs < <(slurm_cmd "$cluster" squeue -h -o '%A' 2>/dev/null || true)
  (( ${#jobs[@]} > 0 )) || return 0
  log "${cluster}: cancelling the ${#jobs[@]} test job(s) still queued"
  slurm_cmd "$cluster" scancel "${jobs[@]}" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while [[ -n "$(slurm_cmd "$cluster" squeue -h -o '%A' 2>/dev/null || true)" ]]; do
    (( SECONDS < deadline )) || { log "${cluster}: jobs still completing, going on"; break; }
    sleep 0.5
  done
}

stop_cluster() {
  local cluster="$1" dir
  dir="$(cluster_dir "$cluster")"
  cancel_cluster_jobs "$cluster"
  stop_sshd "$cluster"
  stop_pidfile "${dir}/slurmd.pid" slurmd
  stop_pidfile "${dir}/slurmctld.pid" slurmctld
}

# ---------------------------------------------------------------------------
# Verbs
# ---------------------------------------------------------------------------

require_root() { [[ "$(id -u)" == 0 ]] || die "run me as root"; }

# Serialize concurrent runs of this script on the same state dir.
take_lock() {
  exec 9>"${STATE_DIR}/.lock"
  flock -w 120 9 || die "another testcluster.sh holds ${STATE_DIR}/.lock"
}

cmd_up() {
  local cluster
  install -d -m 0755 "$STATE_DIR"
  take_lock
  for cluster in "${CLUSTERS[@]}"; do
    install -d -m 0755 "$(cluster_dir "$cluster")"
  done

  ensure_munge
  ensure_user
  ensure_keys
  ensure_gpu_devices
  choose_ports
  for cluster in "${CLUSTERS[@]}"; do
    write_slurm_conf "$cluster"
    write_sshd_config "$cluster"
  done
  write_known_hosts

  for cluster in "${CLUSTERS[@]}"; do
    start_slurm "$cluster"
  done
  drain_dead_node
  for cluster in "${CLUSTERS[@]}"; do
    start_sshd "$cluster"
  done
  for cluster in "${CLUSTERS[@]}"; do
    wait_for "$START_TIMEOUT" "${cluster} node $(real_node "$cluster") to be idle" \
      "$(cluster_dir "$cluster")/slurmd.log" node_is_ready "$cluster"
    ssh_check "$cluster"
    log "${cluster}: up (ssh port $(port_of "$cluster" SSH))"
  done

  write_clusters_yaml
  write_env_file
  printf '%s\n' "${STATE_DIR}/clusters.yaml"
}

cmd_down() {
  local cluster
  [[ -d "$STATE_DIR" ]] || { log "nothing to stop (no ${STATE_DIR})"; return 0; }
  take_lock
  for cluster in "${CLUSTERS[@]}"; do
    stop_cluster "$cluster"
  done
  stop_munge_if_ours
  log "down"
}

cmd_status() {
  local cluster comp pid all_up=0
  load_ports
  if munge_running; then
    if pid="$(pid_alive "$(munge_mark)" munged)"; then
      printf '%-16s running (pid %s, started by testcluster.sh)\n' munged "$pid"
    else
      printf '%-16s running (not started by testcluster.sh)\n' munged
    fi
  else
    printf '%-16s stopped\n' munged
    all_up=1
  fi
  for cluster in "${CLUSTERS[@]}"; do
    for comp in slurmctld slurmd sshd; do
      case "$comp" in
        slurmctld) pid="$(ctld_pid "$cluster")" || pid="" ;;
        slurmd) pid="$(slurmd_pid "$cluster")" || pid="" ;;
        sshd) pid="$(sshd_pid "$cluster")" || pid="" ;;
      esac
      if [[ -n "$pid" ]]; then
        printf '%-16s running (pid %s)\n' "${cluster} ${comp}" "$pid"
      else
        printf '%-16s stopped\n' "${cluster} ${comp}"
        all_up=1
      fi
    done
    if [[ -n "$(port_of "$cluster" SSH)" ]]; then
      printf '%-16s ssh port %s, SLURM_CONF=%s\n' "$cluster" \
        "$(port_of "$cluster" SSH)" "$(slurm_conf "$cluster")"
    fi
  done
  return "$all_up"
}

check_cluster_name() {
  local name="${1:-}" c
  for c in "${CLUSTERS[@]}"; do
    [[ "$name" == "$c" ]] && return 0
  done
  die "unknown cluster '${name}' (expected one of: ${CLUSTERS[*]})"
}

cmd_sshd_stop() {
  check_cluster_name "${1:-}"
  take_lock
  stop_sshd "$1"
}

cmd_sshd_start() {
  check_cluster_name "${1:-}"
  [[ -f "$(cluster_dir "$1")/sshd_config" && -f "$(ports_file)" ]] \
    || die "run '$0 up' first"
  take_lock
  load_ports
  start_sshd "$1"
  ssh_check "$1"
  log "$1: sshd up again on port $(port_of "$1" SSH)"
}

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  [[ $# -ge 1 ]] || usage
  require_root
  # Everything below uses absolute paths (they end up in config files).
  STATE_DIR="$(realpath -m "$STATE_DIR")"
  readonly STATE_DIR
  local verb="$1"
  shift
  case "$verb" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    sshd-stop) cmd_sshd_stop "$@" ;;
    sshd-start) cmd_sshd_start "$@" ;;
    *) usage ;;
  esac
}

main "$@"
