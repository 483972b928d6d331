// slurm_text.cpp — lines and quoted errors for the SLURM output parsers.
#include "backend/slurm_text.h"

namespace mmcfs::backend::slurm_text {
namespace {
constexpr std::size_t kQuoteLimit = 120;
}  // namespace

std::vector<std::string_view> lines_of(std::string_view text, LineTrim how) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (how == LineTrim::kBoth) {
      line = trim(line);
    } else {
      while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    }
    if (!trim(line).empty()) lines.push_back(line);
  }
  return lines;
}

Error bad_line(std::string_view what, std::string_view line) {
  line = trim(line);
  std::string quoted(line.substr(0, kQuoteLimit));
  if (line.size() > kQuoteLimit) quoted += "...";
  return make_error(Errc::kRemoteFailed, std::string(what) + ": unexpected output line '" + quoted + "'");
}

}  // namespace mmcfs::backend::slurm_text
