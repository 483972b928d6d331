// yaml_diagnostics.h — where a problem in a YAML file is, and the collected
// problem list that becomes one error message (internal to src/config).
//
// Positions are 1-based line and column. yaml-cpp marks are 0-based and mark
// an empty value at the next token; SourceText maps them back to the `-` or
// `:` that was actually written. ProblemList sorts problems by position and
// formats them as "path:line:column: what — fix", one per line, at most
// kMaxReportedProblems then "... and N more problems".
//
// Thread rules: plain values; a SourceText or ProblemList belongs to the one
// loader call that made it. SourceText only reads the text it refers to,
// which must outlive it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mmcfs::config::detail {

inline constexpr std::size_t kMaxReportedProblems = 20;

struct Position {
  int line = 1;    // 1-based
  int column = 1;  // 1-based
};

bool operator<(const Position& a, const Position& b);

// The 1-based position of a yaml-cpp mark; 1:1 for a null mark.
Position from_mark(const YAML::Mark& mark);

struct Problem {
  Position where;
  std::string what;
  std::string fix;  // may be empty
};

class ProblemList {
 public:
  void add(Position where, std::string what, std::string fix);
  bool empty() const { return problems_.empty(); }

  // All problems, sorted by position, one "path:line:col: what — fix" per
  // line, as Errc::kInvalidArgument.
  Error to_error(const std::string& path) const;

 private:
  std::vector<Problem> problems_;
};

// The file's text with its lines, for positions and syntax-error hints.
class SourceText {
 public:
  explicit SourceText(const std::string& text);

  const std::string& text() const { return text_; }

  // Where a node is. For an empty value (`- ` or `key:` with nothing after
  // it) this is the `-` or `:` that introduced it, not the next token.
  Position position_of(const YAML::Node& node) const;

  // A hint for a YAML syntax error at `mark`.
  std::string syntax_error_fix(const YAML::Mark& mark) const;

 private:
  bool written_null_at(const YAML::Mark& mark) const;

  const std::string& text_;
  std::vector<std::string> lines_;
};

// Parses the source's text. On failure records the problem (a YAML syntax
// error with its position and a hint, or anything else yaml-cpp throws, with
// `not_this_kind_hint`) in `problems` and returns nothing.
std::optional<YAML::Node> load_yaml(const SourceText& source, ProblemList& problems,
                                    const std::string& not_this_kind_hint);

// "a list", "a map", "'value'" or "nothing", for "should be X, not Y".
std::string describe_node(const YAML::Node& node);

}  // namespace mmcfs::config::detail
