// slurm_text.h — the small text helpers every SLURM output parser needs:
// lines, trimming, whole-string numbers, and the error that quotes an
// unexpected line. Internal to src/backend's parsers.
//
// Thread rules: pure functions.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mmcfs::backend::slurm_text {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

enum class LineTrim {
  kBoth,          // trim both ends
  kTrailingOnly,  // keep leading space (so garbage before a field shows)
};

// The non-blank lines of `text`.
std::vector<std::string_view> lines_of(std::string_view text, LineTrim how);

// kRemoteFailed: "<what>: unexpected output line '<line, trimmed, cut to a
// terminal line>'".
Error bad_line(std::string_view what, std::string_view line);

// A non-negative integer spelling all of `s` (no sign, no space).
template <typename Int>
std::optional<Int> to_number(std::string_view s) {
  Int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace mmcfs::backend::slurm_text
