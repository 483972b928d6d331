// cluster_monitor.cpp — the check loop, backoff and publishing.
#include "backend/cluster_monitor.h"

#include <algorithm>

#include "backend/slurm_parsers.h"
#include "common/log.h"

namespace mmcfs::backend {
namespace {

std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  std::string line = text.substr(0, end);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

}  // namespace

ClusterMonitor::ClusterMonitor(config::ClusterConfig config, std::shared_ptr<Remote> remote,
                               const Clock& clock, StateStore* store)
    : config_(std::move(config)), remote_(std::move(remote)), clock_(clock), store_(store) {
  snapshot_.health.since = clock_.now();
  if (store_ == nullptr) return;
  auto raw = store_->load_inventory(config_.name);
  if (!raw.ok()) {
    log::warn("{}: cannot load saved inventory: {}", config_.name, raw.error().message);
    return;
  }
  if (!raw->has_value()) return;
  auto inv = parse_inventory(**raw);
  if (!inv.ok()) {
    log::warn("{}: ignoring saved inventory: {}", config_.name, inv.error().message);
    return;
  }
  snapshot_.inventory = std::make_shared<const ClusterInventory>(std::move(*inv));
}

ClusterMonitor::~ClusterMonitor() { stop(); }

void ClusterMonitor::set_listener(Listener listener) { listener_ = std::move(listener); }

void ClusterMonitor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run_loop(); });
}

void ClusterMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterMonitor::refresh_now() {
  {
    std::lock_guard lock(mu_);
    refresh_requested_ = true;
  }
  cv_.notify_all();
}

std::chrono::milliseconds ClusterMonitor::next_delay(int failures) const {
  using std::chrono::milliseconds;
  milliseconds ttl = config_.gpu_cache_ttl;
  if (failures == 0) return ttl;
  milliseconds cap = std::min<milliseconds>(ttl, std::chrono::seconds(30));
  milliseconds delay = std::chrono::seconds(1) * (1 << std::min(failures - 1, 10));
  return std::clamp<milliseconds>(delay, std::chrono::seconds(1), std::max<milliseconds>(cap, std::chrono::seconds(1)));
}

void ClusterMonitor::run_loop() {
  while (true) {
    check_once();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, next_delay(failures_), [this] { return stopping_ || refresh_requested_; });
    if (stopping_) return;
    refresh_requested_ = false;
  }
}

Result<CommandResult> ClusterMonitor::run_checked(const std::vector<std::string>& argv) {
  auto result = remote_->run(argv, config_.command_timeout);
  if (!result.ok() && result.error().code == Errc::kIo) {
    // The connection broke (idle timeout, server restart): one fresh attempt.
    log::debug("{}: connection lost ({}); reconnecting", config_.name, result.error().message);
    result = remote_->run(argv, config_.command_timeout);
  }
  if (!result.ok()) return result;
  if (result->exit_code != 0) {
    std::string detail = first_line(result->err.empty() ? result->out : result->err);
    return make_error(Errc::kRemoteFailed, "SLURM did not answer: '" + describe_argv(argv) +
                                               "' exited with " + std::to_string(result->exit_code) +
                                               (detail.empty() ? "" : ": " + detail));
  }
  return result;
}

Result<RawInventory> ClusterMonitor::fetch(int* round_trip_ms) {
  RawInventory raw;
  auto started = std::chrono::steady_clock::now();
  auto version = run_checked(kScontrolVersionArgv);
  if (!version.ok()) return version.error();
  *round_trip_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count());
  raw.version = std::move(version->out);
  auto nodes = run_checked(kScontrolShowNodesArgv);
  if (!nodes.ok()) return nodes.error();
  raw.nodes = std::move(nodes->out);
  auto partitions = run_checked(kScontrolShowPartitionsArgv);
  if (!partitions.ok()) return partitions.error();
  raw.partitions = std::move(partitions->out);
  auto pending = run_checked(kSqueuePendingArgv);
  if (!pending.ok()) return pending.error();
  raw.pending = std::move(pending->out);
  raw.fetched_at = clock_.now();
  return raw;
}

std::shared_ptr<const UserQueue> ClusterMonitor::fetch_queue(const std::shared_ptr<const UserQueue>& last) {
  auto next = std::make_shared<UserQueue>(last ? *last : UserQueue{});
  auto out = run_checked(kSqueueMineArgv);
  Result<std::vector<QueueRow>> rows = out.ok() ? parse_user_queue(out->out) : Result<std::vector<QueueRow>>(out.error());
  if (rows.ok()) {
    next->rows = std::move(*rows);
    next->fetched_at = clock_.now();
    next->error.clear();
  } else {
    next->error = rows.error().message;
    next->failed_at = clock_.now();
    log::debug("{}: queue not fetched: {}", config_.name, next->error);
  }
  return next;
}

ClusterSnapshot ClusterMonitor::check_once() {
  ClusterHealth health;
  ClusterSnapshot before = snapshot();
  std::shared_ptr<const ClusterInventory> inventory = before.inventory;
  std::shared_ptr<const UserQueue> queue = before.queue;

  int round_trip_ms = 0;
  Status connected = remote_->connect();
  Result<RawInventory> raw = connected.ok() ? fetch(&round_trip_ms) : Result<RawInventory>(connected.error());
  Result<ClusterInventory> parsed =
      raw.ok() ? parse_inventory(*raw) : Result<ClusterInventory>(raw.error());

  if (parsed.ok()) {
    health.state = Health::kUp;
    health.round_trip_ms = round_trip_ms;
    health.slurm_version = parsed->slurm_version;
    inventory = std::make_shared<const ClusterInventory>(std::move(*parsed));
    queue = fetch_queue(queue);
    if (store_ != nullptr) {
      if (auto saved = store_->save_inventory(config_.name, *raw); !saved.ok()) {
        log::warn("{}: {}", config_.name, saved.error().message);
      }
    }
    failures_ = 0;
  } else {
    health.state = Health::kDown;
    health.error = parsed.error().code;
    health.reason = parsed.error().message;
    ++failures_;
  }
  health.checked_at = clock_.now();
  publish(std::move(health), std::move(inventory), std::move(queue));
  return snapshot();
}

void ClusterMonitor::publish(ClusterHealth health, std::shared_ptr<const ClusterInventory> inventory,
                             std::shared_ptr<const UserQueue> queue) {
  bool changed_state = false;
  {
    std::lock_guard lock(mu_);
    const ClusterHealth& old = snapshot_.health;
    changed_state = old.state != health.state || old.reason != health.reason;
    health.since = changed_state ? health.checked_at : old.since;
    snapshot_.health = std::move(health);
    snapshot_.inventory = std::move(inventory);
    snapshot_.queue = std::move(queue);
    checked_once_ = true;
  }
  cv_.notify_all();
  if (changed_state) {
    ClusterSnapshot now = snapshot();
    if (now.health.state == Health::kUp) {
      log::info("{}: up ({} ms, SLURM {})", config_.name, now.health.round_trip_ms,
                now.health.slurm_version);
    } else {
      log::warn("{}: down: {}", config_.name, now.health.reason);
    }
  }
  if (listener_) listener_(config_.name);
}

ClusterSnapshot ClusterMonitor::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

ClusterHealth ClusterMonitor::health() const {
  std::lock_guard lock(mu_);
  return snapshot_.health;
}

ClusterSnapshot ClusterMonitor::wait_first_check(std::chrono::milliseconds max_wait) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, max_wait, [this] { return checked_once_ || stopping_; });
  return snapshot_;
}

}  // namespace mmcfs::backend
