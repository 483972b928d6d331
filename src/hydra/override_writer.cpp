// override_writer.cpp — Hydra's override grammar, written (see
// override_writer.h for the rules and where they come from).
//
// Thread rules: pure functions.
#include "hydra/override_writer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace mmcfs::hydra {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// YAML 1.2 core schema: what yaml-cpp's plain scalars mean as bool/null.
bool is_yaml_bool(std::string_view v) {
  return v == "true" || v == "True" || v == "TRUE" || v == "false" || v == "False" || v == "FALSE";
}

bool is_yaml_null(std::string_view v) {
  return v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL";
}

// ID and UNQUOTED_CHAR of the lexer, restricted to a safe subset: a letter or
// '_' first, then [A-Za-z0-9_./-]; never BOOL, NULL or FLOAT's inf/nan words.
bool is_bare_string(std::string_view v) {
  if (v.empty() || !(is_alpha(v[0]) || v[0] == '_')) return false;
  for (char c : v) {
    if (!(is_word_char(c) || c == '.' || c == '/' || c == '-')) return false;
  }
  const std::string l = lower(v);
  return l != "true" && l != "false" && l != "null" && l != "inf" && l != "nan";
}

}  // namespace

std::optional<std::string> yaml_number_as_hydra(std::string_view v) {
  std::string sign;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-') sign = "-";
    v.remove_prefix(1);
  }
  if (v.empty()) return std::nullopt;
  // FLOAT's [Ii][Nn][Ff] | [Nn][Aa][Nn].
  if (v == ".inf" || v == ".Inf" || v == ".INF") return sign + "inf";
  if (sign.empty() && (v == ".nan" || v == ".NaN" || v == ".NAN")) return "nan";
  // INT_UNSIGNED: '0' | [1-9]...: no leading zeros.
  auto strip_zeros = [](std::string_view digits) {
    std::size_t i = 0;
    while (i + 1 < digits.size() && digits[i] == '0') ++i;
    return std::string(digits.substr(i));
  };
  if (sign.empty() && v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'o')) {
    const bool hex = v[1] == 'x';
    std::string_view digits = v.substr(2);
    bool valid = std::all_of(digits.begin(), digits.end(), [hex](char c) {
      return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '7');
    });
    if (!valid || digits.size() > 15) return std::nullopt;
    return std::to_string(std::strtoull(std::string(digits).c_str(), nullptr, hex ? 16 : 8));
  }
  // YAML: [0-9]+ | [0-9]* . [0-9]* (not just "."), then an optional exponent.
  std::size_t i = 0;
  while (i < v.size() && is_digit(v[i])) ++i;
  std::string_view int_part = v.substr(0, i);
  std::string_view frac_part;
  bool point = false;
  if (i < v.size() && v[i] == '.') {
    point = true;
    std::size_t start = ++i;
    while (i < v.size() && is_digit(v[i])) ++i;
    frac_part = v.substr(start, i - start);
    if (int_part.empty() && frac_part.empty()) return std::nullopt;
  }
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  // EXPONENT_FLOAT: (INT_UNSIGNED | POINT_FLOAT) [eE] [+-]? DIGITS.
  std::string exponent;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    std::string exp_sign;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) exp_sign = v[i++] == '-' ? "-" : "";
    std::size_t start = i;
    while (i < v.size() && is_digit(v[i])) ++i;
    if (i == start) return std::nullopt;
    exponent = "e" + exp_sign + strip_zeros(v.substr(start, i - start));
  }
  if (i != v.size()) return std::nullopt;
  std::string whole = int_part.empty() ? "0" : strip_zeros(int_part);
  if (!point) return sign + whole + exponent;  // INT, or EXPONENT_FLOAT such as 1e5
  return sign + whole + "." + (frac_part.empty() ? "0" : std::string(frac_part)) + exponent;
}

std::string quote_string(std::string_view s) {
  std::string out = "'";
  std::size_t backslashes = 0;  // the run of backslashes not yet written
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '\'') {
      // QUOTED_VALUE: a quote inside is \' and the backslashes before it doubled.
      out.append(backslashes * 2, '\\');
      out += "\\'";
    } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      // OmegaConf: \${ is a literal ${, and backslashes before it are doubled.
      out.append(backslashes * 2, '\\');
      out += "\\$";
    } else {
      out.append(backslashes, '\\');
      out += c;
    }
    backslashes = 0;
  }
  out.append(backslashes * 2, '\\');  // before the closing quote: doubled
  out += '\'';
  return out;
}

std::string write_string(std::string_view text) {
  return is_bare_string(text) ? std::string(text) : quote_string(text);
}

std::string write_value(std::string_view v, bool quoted, bool is_null) {
  if (is_null) return "null";
  if (!quoted && !v.empty() && (v[0] == '[' || v[0] == '{')) return std::string(v);  // already Hydra text
  if (!quoted && is_yaml_null(v)) return "null";
  if (!quoted && is_yaml_bool(v)) return lower(v);
  if (!quoted) {
    if (auto number = yaml_number_as_hydra(v)) return *number;
  }
  return write_string(v);
}

}  // namespace mmcfs::hydra
