// mount_stats.cpp — rendering .mmcfs/stats (see mount_stats.h).
#include "app/mount_stats.h"

#include <fmt/format.h>

namespace mmcfs::app {
namespace {

// A label value as Prometheus wants it: \ " and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return "\"" + out + "\"";
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string seconds(std::chrono::milliseconds ms) { return fmt::format("{:.3f}", static_cast<double>(ms.count()) / 1000.0); }

}  // namespace

std::string render_stats(const StatsInput& in) {
  std::string out;
  header(out, "mmcfs_remote_commands_total", "counter", "Remote commands run, by cluster and kind.");
  for (const auto& [key, count] : in.commands) {
    out += fmt::format("mmcfs_remote_commands_total{{cluster={},kind={}}} {}\n", label(key.first), label(key.second),
                       count.calls);
  }
  header(out, "mmcfs_remote_command_errors_total", "counter",
         "Remote commands that ended in an error (unreachable, timeout, broken connection).");
  for (const auto& [key, count] : in.commands) {
    out += fmt::format("mmcfs_remote_command_errors_total{{cluster={},kind={}}} {}\n", label(key.first),
                       label(key.second), count.failures);
  }
  header(out, "mmcfs_sftp_read_bytes_total", "counter", "Bytes read from remote files by ranged reads.");
  for (const auto& [cluster, bytes] : in.read_bytes) {
    out += fmt::format("mmcfs_sftp_read_bytes_total{{cluster={}}} {}\n", label(cluster), bytes);
  }
  header(out, "mmcfs_poll_cycles_total", "counter", "Job poller cycles.");
  for (const auto& [cluster, p] : in.polls) {
    out += fmt::format("mmcfs_poll_cycles_total{{cluster={}}} {}\n", label(cluster), p.cycles);
  }
  header(out, "mmcfs_poll_last_duration_seconds", "gauge", "Wall time of the last job poller cycle.");
  for (const auto& [cluster, p] : in.polls) {
    out += fmt::format("mmcfs_poll_last_duration_seconds{{cluster={}}} {}\n", label(cluster), seconds(p.last_duration));
  }
  header(out, "mmcfs_poll_duration_seconds_total", "counter", "Wall time of all job poller cycles.");
  for (const auto& [cluster, p] : in.polls) {
    out += fmt::format("mmcfs_poll_duration_seconds_total{{cluster={}}} {}\n", label(cluster),
                       seconds(p.total_duration));
  }
  header(out, "mmcfs_poll_last_remote_commands", "gauge", "Remote commands of the last job poller cycle.");
  for (const auto& [cluster, p] : in.polls) {
    out += fmt::format("mmcfs_poll_last_remote_commands{{cluster={}}} {}\n", label(cluster), p.last.remote_calls());
  }
  header(out, "mmcfs_poll_last_active_jobs", "gauge", "Jobs the last job poller cycle asked about.");
  for (const auto& [cluster, p] : in.polls) {
    out += fmt::format("mmcfs_poll_last_active_jobs{{cluster={}}} {}\n", label(cluster), p.last.active_jobs);
  }
  header(out, "mmcfs_jobs", "gauge", "Jobs in the store, by state (archived ones included).");
  for (const auto& [state, n] : in.jobs_by_state) {
    out += fmt::format("mmcfs_jobs{{state={}}} {}\n", label(state), n);
  }
  header(out, "mmcfs_jobs_archived", "gauge", "Jobs in archive/.");
  out += fmt::format("mmcfs_jobs_archived {}\n", in.jobs_archived);
  return out;
}

}  // namespace mmcfs::app
