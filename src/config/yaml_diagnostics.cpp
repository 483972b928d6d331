// yaml_diagnostics.cpp — positions and the problem list (see yaml_diagnostics.h).
//
// Thread rules: no shared state; pure functions over the caller's objects.
#include "config/yaml_diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <utility>

namespace mmcfs::config::detail {
namespace {

std::string format_problem(const std::string& path, const Problem& p) {
  std::string line = fmt::format("{}:{}:{}: {}", path, p.where.line, p.where.column, p.what);
  if (!p.fix.empty()) line += " — " + p.fix;
  return line;
}

bool indented_with_tab(std::string_view line) {
  const std::size_t first = line.find_first_not_of(' ');
  return first != std::string_view::npos && line[first] == '\t';
}

// Column of the last character before any comment, or npos if none.
std::size_t last_written_column(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    const bool comment =
        line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])));
    if (comment) {
      line = line.substr(0, i);
      break;
    }
  }
  return line.find_last_not_of(" \t\r");
}

}  // namespace

bool operator<(const Position& a, const Position& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

Position from_mark(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Position{};
  return Position{mark.line + 1, mark.column + 1};
}

// ---------------------------------------------------------------------------
// ProblemList

void ProblemList::add(Position where, std::string what, std::string fix) {
  problems_.push_back(Problem{where, std::move(what), std::move(fix)});
}

Error ProblemList::to_error(const std::string& path) const {
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Problem& a, const Problem& b) { return a.where < b.where; });
  std::string message;
  const std::size_t shown = std::min(sorted.size(), kMaxReportedProblems);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) message += '\n';
    message += format_problem(path, sorted[i]);
  }
  if (sorted.size() > shown) {
    message += fmt::format("\n{}: ... and {} more problems", path, sorted.size() - shown);
  }
  return Error{Errc::kInvalidArgument, message};
}

// ---------------------------------------------------------------------------
// SourceText

SourceText::SourceText(const std::string& text) : text_(text) {
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines_.push_back(line);
}

// yaml-cpp marks an empty value (`- ` or `key:` with nothing after it) at
// the next token, often on a later line. Walk back to the last thing
// written before that mark: the `-` or `:` that introduced the empty value.
Position SourceText::position_of(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (!node.IsNull() || mark.is_null() || written_null_at(mark)) return from_mark(mark);
  for (int line = std::min<int>(mark.line, static_cast<int>(lines_.size()) - 1); line >= 0;
       --line) {
    std::string_view text = lines_[line];
    if (line == mark.line) text = text.substr(0, std::min<std::size_t>(mark.column, text.size()));
    const std::size_t last = last_written_column(text);
    if (last != std::string_view::npos) return Position{line + 1, static_cast<int>(last) + 1};
  }
  return from_mark(mark);
}

// True if the text at `mark` spells a null (~, null) rather than nothing.
bool SourceText::written_null_at(const YAML::Mark& mark) const {
  if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text_.size()) return false;
  std::string_view rest = std::string_view(text_).substr(mark.pos);
  return rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null") ||
         rest.starts_with("NULL");
}

std::string SourceText::syntax_error_fix(const YAML::Mark& mark) const {
  const bool on_a_line = mark.line >= 0 && static_cast<std::size_t>(mark.line) < lines_.size();
  if (on_a_line && indented_with_tab(lines_[mark.line])) {
    return "indent with spaces: YAML does not allow tabs for indentation";
  }
  return "check the indentation and quoting on this line and the one before it";
}

// ---------------------------------------------------------------------------

std::optional<YAML::Node> load_yaml(const SourceText& source, ProblemList& problems,
                                    const std::string& not_this_kind_hint) {
  try {
    return YAML::Load(source.text());
  } catch (const YAML::ParserException& e) {
    problems.add(from_mark(e.mark), "YAML syntax error: " + e.msg, source.syntax_error_fix(e.mark));
  } catch (const std::exception& e) {
    problems.add(Position{}, std::string("cannot parse YAML: ") + e.what(), not_this_kind_hint);
  }
  return std::nullopt;
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    default:
      return "nothing";
  }
}

}  // namespace mmcfs::config::detail
