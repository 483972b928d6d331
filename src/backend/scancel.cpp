// scancel.cpp — scancel's argv and verdicts (see scancel.h).
#include "backend/scancel.h"

#include <string_view>

namespace mmcfs::backend {
namespace {

// The first line of `text` holding "error", trimmed; else the first non-blank line.
std::string telling_line(const std::string& text) {
  std::string first;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line.find("error") != std::string::npos) return line;
    if (first.empty()) first = line;
  }
  return first;
}

}  // namespace

std::vector<std::string> scancel_argv(const std::string& slurm_id) { return {"scancel", "-v", slurm_id}; }

ScancelOutcome classify_scancel(const CommandResult& result) {
  ScancelOutcome out;
  const std::string& text = result.err.empty() ? result.out : result.err;
  bool has_error = text.find("error") != std::string::npos;
  out.detail = has_error || result.exit_code != 0 ? telling_line(result.err + "\n" + result.out) : "";
  if (text.find("already completing or completed") != std::string::npos) {
    out.verdict = ScancelVerdict::kAlreadyEnded;
  } else if (text.find("Invalid job id specified") != std::string::npos) {
    out.verdict = ScancelVerdict::kUnknownJob;
  } else if (result.exit_code == 0 && !has_error) {
    out.verdict = ScancelVerdict::kSignalled;
  } else {
    out.verdict = ScancelVerdict::kFailed;
    if (out.detail.empty()) out.detail = "scancel exited " + std::to_string(result.exit_code);
  }
  return out;
}

}  // namespace mmcfs::backend
