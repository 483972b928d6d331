// slurm_model.cpp — the little logic the SLURM value types carry.
//
// SlurmNode::schedulable() decides whether a node's free GPUs may be called
// free. SLURM prints a node state as a base state joined with flags by '+'
// ("IDLE", "MIXED+DRAIN", "DOWN*+DRAIN", "IDLE+CLOUD+POWERED_DOWN"), and sinfo
// style output appends a symbol to the base ('*' not responding, '~' powered
// down, '#' powering up, '%' powering down, '!' pending power down, '@' reboot
// pending, '^' reboot issued, '$' maintenance reservation, '-' planned).
//
// A node is schedulable unless one of its words says a plain `sbatch` could
// not start on it now. Unschedulable:
//   DOWN, FAIL/FAILING, ERROR, UNKNOWN, FUTURE, INVAL/INVALID_REG: not usable.
//   DRAIN, DRAINED, DRAINING, POWER_DRAIN: the admin said no new jobs.
//   NOT_RESPONDING or a trailing '*': the controller cannot reach slurmd.
//   POWERED_DOWN, POWERING_DOWN, POWER_DOWN ('~', '%', '!'): a job there
//     would first wait for a boot, so its GPUs are not free now.
//   REBOOT_REQUESTED, REBOOT_ISSUED ('@', '^'): no new jobs until rebooted.
//   MAINT ('$'), RESERVED, RESV: held by a reservation that an ordinary job
//     (without --reservation) cannot use; we cannot tell whether the user is
//     in it, so we do not promise its GPUs.
// Schedulable: IDLE, MIXED, ALLOCATED, COMPLETING, CLOUD, PLANNED ('-', held
// for a higher-priority job but still backfillable), POWERING_UP ('#', being
// booted for work), DYNAMIC_*, and any word we do not know (SLURM adds flags
// over time; an unknown flag should not hide a working node).
// An empty state is unschedulable.
//
// Thread rules: plain values.
#include "backend/slurm_model.h"

#include <array>
#include <string_view>

namespace mmcfs::backend {

namespace {

constexpr std::array<std::string_view, 25> kUnschedulableWords = {
    "DOWN",          "DRAIN",          "DRAINED",          "DRAINING",      "POWER_DRAIN",
    "FAIL",          "FAILING",        "ERROR",            "UNKNOWN",       "FUTURE",
    "INVAL",         "INVALID_REG",    "NOT_RESPONDING",   "NO_RESPOND",    "POWERED_DOWN",
    "POWERING_DOWN", "POWER_DOWN",     "REBOOT_REQUESTED", "REBOOT_ISSUED", "REBOOT",
    "MAINT",         "MAINTENANCE",    "RESERVED",         "RESV",          "BLOCKED",
};

// sinfo-style state suffixes that by themselves make a node unschedulable.
constexpr std::string_view kUnschedulableSuffixes = "*~%!@^$";
// All sinfo-style suffixes (stripped before looking the word up).
constexpr std::string_view kAllSuffixes = "*~#%!@^$-";

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// False if this '+'-separated word of a state marks the node unusable.
bool word_allows_jobs(std::string_view word) {
  while (!word.empty() && kAllSuffixes.find(word.back()) != std::string_view::npos) {
    if (kUnschedulableSuffixes.find(word.back()) != std::string_view::npos) return false;
    word.remove_suffix(1);
  }
  std::string w = upper(word);
  for (std::string_view bad : kUnschedulableWords) {
    if (w == bad) return false;
  }
  return true;
}

}  // namespace

bool SlurmNode::schedulable() const {
  std::string_view s = state;
  if (s.empty()) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t plus = s.find('+', start);
    size_t end = plus == std::string_view::npos ? s.size() : plus;
    if (!word_allows_jobs(s.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace mmcfs::backend
