// queue_view.cpp — rendering clusters/<name>/queue (see queue_view.h).
#include "fs/queue_view.h"

#include <fmt/format.h>

#include "common/text.h"

namespace mmcfs::fs {

std::string render_queue(const ClusterView& view, WallTime now) {
  const auto& health = view.snapshot.health;
  const auto& queue = view.snapshot.queue;
  const std::string& name = view.config->name;
  std::string out;
  if (!queue || queue->fetched_at == WallTime{}) {
    std::string why = health.state == backend::Health::kDown ? name + " is down: " + health.reason
                      : health.state == backend::Health::kChecking ? "first check of " + name + " in progress"
                      : queue && !queue->error.empty() ? "squeue --me failed: " + queue->error
                                                       : "not fetched yet";
    return fmt::format("# no queue yet: {}\n", why);
  }
  out += fmt::format("# every job of {} on {} (squeue --me), taken {} ({} ago)\n",
                     view.config->user.empty() ? "you" : view.config->user, name,
                     clock_time_local(queue->fetched_at), format_age(now - queue->fetched_at));
  if (health.state == backend::Health::kDown) {
    out += fmt::format("# {} is down: {}\n", name, health.reason);
  } else if (!queue->error.empty()) {
    out += fmt::format("# the last squeue --me failed ({} ago): {}\n", format_age(now - queue->failed_at),
                       queue->error);
  }
  return out + backend::render_user_queue_table(queue->rows);
}

WallTime queue_time(const ClusterView& view) {
  const auto& queue = view.snapshot.queue;
  if (queue && queue->fetched_at != WallTime{}) return queue->fetched_at;
  return view.snapshot.health.checked_at;
}

}  // namespace mmcfs::fs
