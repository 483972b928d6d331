// quote.cpp — POSIX sh single-quote quoting (see quote.h).
#include "common/quote.h"

namespace mmcfs {
namespace {

bool is_safe_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '_': case '.': case '/': case '=': case ':':
    case ',': case '@': case '%': case '+':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string shell_quote(std::string_view arg) {
  if (arg.empty()) return "''";
  bool safe = true;
  for (char c : arg) safe = safe && is_safe_char(c);
  if (safe) return std::string(arg);

  std::string quoted;
  quoted.reserve(arg.size() + 2);
  quoted += '\'';
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";  // close, escaped quote, reopen
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& arg : argv) {
    if (!joined.empty()) joined += ' ';
    joined += shell_quote(arg);
  }
  return joined;
}

}  // namespace mmcfs
