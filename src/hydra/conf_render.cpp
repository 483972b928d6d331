// conf_render.cpp — the text of projects/<p>/hydra/ files (see conf_render.h).
//
// Thread rules: pure functions.
#include "hydra/conf_render.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/text.h"

namespace mmcfs::hydra {
namespace {

// A value on one line: newlines and tabs shown escaped.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

}  // namespace

std::string group_file_name(const std::string& group) {
  std::string name = group;
  std::replace(name.begin(), name.end(), '/', '.');
  return name;
}

std::string render_configs(const ConfTree& tree) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& name : tree.configs) {
    rows.push_back(name == tree.default_config ? std::vector<std::string>{name, "default"}
                                               : std::vector<std::string>{name});
  }
  return format_table(rows);
}

std::string render_group(const ConfTree& tree, const std::string& group) {
  const ConfGroup* found = tree.find_group(group);
  if (found == nullptr) return "";
  const Composition* base = tree.composition("");
  const std::string* selected = base ? base->selected(group) : nullptr;
  std::vector<std::string> chosen;
  if (selected) {
    std::string rest = *selected;  // several options are joined with ','
    for (std::size_t start = 0; start <= rest.size();) {
      std::size_t comma = rest.find(',', start);
      chosen.push_back(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (const std::string& option : found->options) {
    const bool is_default = std::find(chosen.begin(), chosen.end(), option) != chosen.end();
    rows.push_back(is_default ? std::vector<std::string>{option, "default"} : std::vector<std::string>{option});
  }
  return format_table(rows);
}

std::string render_params(const Composition& composition) {
  std::string header = "# config " + composition.config_name;
  for (const auto& [group, option] : composition.selection) {
    header += " " + group + "=" + (option.empty() ? "null" : option);
  }
  std::vector<std::vector<std::string>> rows;
  for (const ParamInfo& p : composition.params) rows.push_back({p.key, type_name(p.type), one_line(p.default_text)});
  return header + "\n" + format_table(rows);
}

std::string render_selection(const Composition& composition) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [group, option] : composition.selection) rows.push_back({group, option.empty() ? "null" : option});
  return format_table(rows);
}

std::string render_problems(const ConfTree& tree) {
  std::string out;
  for (const ConfProblem& p : tree.all_problems()) out += one_line(p.text()) + '\n';
  return out;
}

}  // namespace mmcfs::hydra
