// conf_tree.cpp — listing, defaults lists, composition and the schema of a
// Hydra conf directory (see conf_tree.h for the rules implemented).
//
// Thread rules: no shared state; every function works on its own values.
#include "hydra/conf_tree.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <regex>
#include <set>

namespace mmcfs::hydra {
namespace {

constexpr int kMaxDepth = 16;  // nested defaults lists deeper than this are a cycle

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

std::string dotted(std::string path) {
  std::replace(path.begin(), path.end(), '/', '.');
  return path;
}

std::string join_package(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool ends_with_yaml(const std::string& name) { return name.size() > 5 && name.ends_with(".yaml"); }
std::string strip_yaml(const std::string& name) { return name.substr(0, name.size() - 5); }

// A string as YAML text that reads back as the same string: plain when it
// is made of ordinary characters and does not look like another type, else
// single-quoted ('' for a quote).
std::string yaml_string_text(const std::string& text) {
  const bool ordinary =
      !text.empty() && text.front() != ' ' && text.back() != ' ' &&
      std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '/' || c == '-' ||
               c == '+' || c == ' ' || (static_cast<unsigned char>(c) >= 0x80);
      }) &&
      text.front() != '-' && text.front() != '.';
  if (ordinary && scalar_type(text, false) == ValueType::kString) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool written_as_string(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

// A YAML file read and parsed, or the problem that stopped it.
struct LoadedFile {
  YAML::Node root;      // a map (possibly empty)
  std::string package;  // the `# @package X` header, "" if none
  bool has_package = false;
  bool ok = false;
};

// `# @package X` in the comment lines at the top of the file.
void read_package_header(const std::string& text, LoadedFile& file) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    if (line[first] != '#') return;
    static const std::regex kHeader(R"(^\s*#\s*@package\s+(\S+)\s*$)");
    std::smatch m;
    if (std::regex_match(line, m, kHeader)) {
      file.package = m[1];
      file.has_package = true;
      return;
    }
  }
}

class Composer {
 public:
  Composer(const ConfSource& source, Composition& out, const std::map<std::string, std::string>& choices)
      : source_(source), out_(out), choices_(choices) {}

  void run(const std::string& config_name) {
    const std::string file = config_name + ".yaml";
    LoadedFile primary = load(file);
    if (!primary.ok) return;
    collect_overrides(primary.root, file, "");
    result_ = YAML::Node(YAML::NodeType::Map);
    compose_file(primary, file, "", primary.has_package ? header_package(primary.package, "") : "", 0);
    flatten(result_, "");
  }

 private:
  void problem(const std::string& file, const YAML::Mark& mark, std::string what, std::string fix) {
    ConfProblem p;
    p.file = source_.label() + "/" + file;
    if (!mark.is_null() && mark.line >= 0) {
      p.line = mark.line + 1;
      p.column = mark.column + 1;
    }
    p.what = std::move(what);
    p.fix = std::move(fix);
    out_.problems.push_back(std::move(p));
  }

  LoadedFile load(const std::string& file) {
    LoadedFile loaded;
    auto text = source_.read(file);
    if (!text.ok()) {
      problem(file, YAML::Mark::null_mark(), text.error().message, "");
      return loaded;
    }
    try {
      YAML::Node root = YAML::Load(*text);
      if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
      if (!root.IsMap()) {
        problem(file, root.Mark(), "the file is not a map of keys to values",
                "a Hydra config is a YAML map (`key: value` lines)");
        return loaded;
      }
      loaded.root = root;
    } catch (const YAML::Exception& e) {
      problem(file, e.mark, "YAML syntax error: " + e.msg, "fix the YAML at this position");
      return loaded;
    }
    read_package_header(*text, loaded);
    loaded.ok = true;
    return loaded;
  }

  // One parsed defaults-list entry.
  struct Entry {
    enum class Kind { kSelf, kGroup, kConfig, kBad } kind = Kind::kBad;
    std::string group;                 // absolute group path (kGroup) or config path (kConfig)
    std::vector<std::string> options;  // "" = null
    std::string package;               // from @pkg
    bool has_package = false;
    bool optional = false;
    bool is_override = false;
    YAML::Mark mark;
  };

  // `group_dir`: the group of the file holding the list ("" for a primary config).
  Entry parse_entry(const YAML::Node& item, const std::string& file, const std::string& group_dir) {
    Entry e;
    e.mark = item.Mark();
    if (item.IsScalar()) {
      std::string s = item.Scalar();
      if (s == "_self_") {
        e.kind = Entry::Kind::kSelf;
        return e;
      }
      split_package(s, e);
      e.kind = Entry::Kind::kConfig;
      e.group = s.starts_with('/') ? s.substr(1) : join_path(group_dir, s);
      return e;
    }
    if (!item.IsMap() || item.size() != 1) {
      problem(file, item.Mark(), "a defaults list entry should be `group: option`, `_self_` or a config name",
              "write it like `- model: transformer`");
      return e;
    }
    const YAML::Node key = item.begin()->first;
    const YAML::Node value = item.begin()->second;
    std::string k = key.IsScalar() ? key.Scalar() : "";
    // Keywords before the group: `override model`, `optional model`.
    for (;;) {
      if (k.starts_with("override ")) {
        e.is_override = true;
        k = k.substr(9);
      } else if (k.starts_with("optional ")) {
        e.optional = true;
        k = k.substr(9);
      } else {
        break;
      }
      k.erase(0, k.find_first_not_of(' '));
    }
    split_package(k, e);
    if (k.empty()) {
      problem(file, key.Mark(), "a defaults list entry has no group name", "write it like `- model: transformer`");
      return e;
    }
    e.group = k.starts_with('/') ? k.substr(1) : join_path(group_dir, k);
    if (value.IsNull()) {
      e.options.push_back("");
    } else if (value.IsScalar()) {
      e.options.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      for (const YAML::Node& option : value) {
        if (option.IsScalar()) e.options.push_back(option.Scalar());
        else problem(file, option.Mark(), "an option in a list of options is not a name", "list option names");
      }
    } else {
      problem(file, value.Mark(), fmt::format("the option of group '{}' is a map", e.group),
              "write the option's file name, e.g. `- " + k + ": NAME`");
      return e;
    }
    e.kind = Entry::Kind::kGroup;
    return e;
  }

  static void split_package(std::string& name, Entry& e) {
    if (auto at = name.find('@'); at != std::string::npos) {
      e.package = name.substr(at + 1);
      e.has_package = true;
      name.resize(at);
    }
  }

  std::vector<Entry> entries_of(const YAML::Node& root, const std::string& file, const std::string& group_dir) {
    std::vector<Entry> entries;
    const YAML::Node defaults = root["defaults"];
    if (!defaults) return entries;
    if (!defaults.IsSequence()) {
      if (!defaults.IsNull()) {
        problem(file, defaults.Mark(), "`defaults` should be a list", "write one `- group: option` per line");
      }
      return entries;
    }
    for (const YAML::Node& item : defaults) {
      Entry e = parse_entry(item, file, group_dir);
      if (e.kind != Entry::Kind::kBad) entries.push_back(std::move(e));
    }
    return entries;
  }

  // Pass one over the primary config: its `override group: option` entries.
  void collect_overrides(const YAML::Node& root, const std::string& file, const std::string& group_dir) {
    for (const Entry& e : entries_of(root, file, group_dir)) {
      if (e.kind == Entry::Kind::kGroup && e.is_override) overrides_[e.group] = e.options;
    }
  }

  std::string header_package(const std::string& header, const std::string& group) const {
    if (header == "_global_") return "";
    if (header == "_group_") return dotted(group);
    return header;
  }

  std::string entry_package(const Entry& e, const std::string& parent_package, const std::string& group) const {
    if (!e.has_package) return dotted(group);
    if (e.package == "_global_") return "";
    if (e.package == "_group_") return dotted(group);
    if (e.package == "_here_") return parent_package;
    if (e.package.starts_with("_global_.")) return e.package.substr(9);
    return join_package(parent_package, e.package);
  }

  void compose_file(const LoadedFile& loaded, const std::string& file, const std::string& group_dir,
                    const std::string& package, int depth) {
    if (depth > kMaxDepth) {
      problem(file, YAML::Mark::null_mark(), "defaults lists nest too deeply (a cycle?)", "break the cycle");
      return;
    }
    std::vector<Entry> entries = entries_of(loaded.root, file, group_dir);
    YAML::Node body(YAML::NodeType::Map);
    for (auto it = loaded.root.begin(); it != loaded.root.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == "defaults") continue;
      body[it->first] = it->second;
    }
    bool self_done = false;
    for (const Entry& e : entries) {
      switch (e.kind) {
        case Entry::Kind::kSelf:
          merge_at(body, package);
          self_done = true;
          break;
        case Entry::Kind::kGroup:
          if (!e.is_override) compose_group(e, file, package, depth);
          break;
        case Entry::Kind::kConfig:
          compose_config(e, file, package, depth);
          break;
        case Entry::Kind::kBad:
          break;
      }
    }
    if (!self_done) merge_at(body, package);
  }

  void compose_group(const Entry& e, const std::string& file, const std::string& parent_package, int depth) {
    std::vector<std::string> options = e.options;
    if (auto it = overrides_.find(e.group); it != overrides_.end()) options = it->second;
    if (auto it = choices_.find(e.group); it != choices_.end()) options = {it->second};
    std::string joined;
    for (const auto& o : options) joined += (joined.empty() ? "" : ",") + o;
    const bool first_time = out_.selected(e.group) == nullptr;
    if (first_time) out_.selection.emplace_back(e.group, joined);
    for (const std::string& option : options) {
      if (option.empty() || option == "???") continue;
      const std::string path = e.group + "/" + option + ".yaml";
      auto text = source_.read(path);
      if (!text.ok()) {
        if (e.optional) continue;
        problem(file, e.mark, fmt::format("group '{}' has no option '{}' ({} is missing)", e.group, option, path),
                "create it, choose another option, or mark the entry `optional`");
        continue;
      }
      LoadedFile loaded = load(path);
      if (!loaded.ok) continue;
      std::string package = loaded.has_package ? header_package(loaded.package, e.group)
                                               : entry_package(e, parent_package, e.group);
      if (e.has_package) package = entry_package(e, parent_package, e.group);
      compose_file(loaded, path, e.group, package, depth + 1);
    }
  }

  void compose_config(const Entry& e, const std::string& file, const std::string& parent_package, int depth) {
    const std::string path = e.group + ".yaml";
    LoadedFile loaded;
    if (!source_.read(path).ok()) {
      problem(file, e.mark, fmt::format("config '{}' is missing ({} does not exist)", e.group, path),
              "fix the name or create the file");
      return;
    }
    loaded = load(path);
    if (!loaded.ok) return;
    const std::string group = parent_dir(e.group);
    std::string package = loaded.has_package ? header_package(loaded.package, group) : dotted(group);
    if (e.has_package) package = entry_package(e, parent_package, group);
    compose_file(loaded, path, group, package, depth + 1);
  }

  // OmegaConf's merge: maps key by key, anything else replaces.
  static void merge_into(YAML::Node dst, const YAML::Node& src) {
    for (auto it = src.begin(); it != src.end(); ++it) {
      const std::string key = it->first.Scalar();
      YAML::Node existing = dst[key];
      if (it->second.IsMap() && existing.IsMap()) {
        merge_into(existing, it->second);
      } else {
        dst[key] = YAML::Clone(it->second);
      }
    }
  }

  void merge_at(const YAML::Node& body, const std::string& package) {
    YAML::Node target = result_;
    if (!package.empty()) {
      std::size_t start = 0;
      while (start <= package.size()) {
        std::size_t dot = package.find('.', start);
        std::string part = package.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        YAML::Node child = target[part];
        if (!child.IsMap()) {
          target[part] = YAML::Node(YAML::NodeType::Map);
          child = target[part];
        }
        target.reset(child);
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
    }
    merge_into(target, body);
  }

  void flatten(const YAML::Node& node, const std::string& prefix) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = prefix.empty() ? it->first.Scalar() : prefix + "." + it->first.Scalar();
      const YAML::Node value = it->second;
      if (value.IsMap() && value.size() > 0) {
        flatten(value, key);
        continue;
      }
      ParamInfo info;
      info.key = key;
      if (value.IsMap()) {
        info.type = ValueType::kMap;
        info.default_text = "{}";
      } else if (value.IsSequence()) {
        info.type = ValueType::kList;
        YAML::Emitter emitter;
        emitter << YAML::Flow << value;
        info.default_text = emitter.c_str();
      } else if (value.IsNull()) {
        info.type = ValueType::kNull;
        info.default_text = "null";
      } else {
        const bool quoted = written_as_string(value);
        info.type = scalar_type(value.Scalar(), quoted);
        info.default_text = value.Scalar();
        if (info.type == ValueType::kString) info.default_text = yaml_string_text(value.Scalar());
      }
      out_.params.push_back(std::move(info));
    }
  }

  const ConfSource& source_;
  Composition& out_;
  const std::map<std::string, std::string>& choices_;
  std::map<std::string, std::vector<std::string>> overrides_;
  YAML::Node result_;
};

void list_groups(const ConfSource& source, const std::string& dir, ConfTree& tree, int depth) {
  if (depth > kMaxDepth) return;
  auto entries = source.list(dir);
  if (!entries.ok()) return;
  ConfGroup group{dir, {}};
  for (const ConfEntry& e : *entries) {
    if (e.is_dir) {
      if (!e.name.starts_with('.')) list_groups(source, join_path(dir, e.name), tree, depth + 1);
    } else if (ends_with_yaml(e.name) && !dir.empty()) {
      group.options.push_back(strip_yaml(e.name));
    }
  }
  if (!group.options.empty()) tree.groups.push_back(std::move(group));
}

bool is_bool_word(const std::string& t) {
  static const std::set<std::string> kBools = {"true", "True", "TRUE", "false", "False", "FALSE",
                                               "yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                               "on",   "On",   "ON",   "off",   "Off",   "OFF"};
  return kBools.contains(t);
}

}  // namespace

const char* type_name(ValueType type) {
  switch (type) {
    case ValueType::kInt: return "int";
    case ValueType::kFloat: return "float";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kNull: return "null";
    case ValueType::kList: return "list";
    case ValueType::kMap: return "map";
    case ValueType::kMissing: return "missing";
  }
  return "?";
}

std::string ConfProblem::text() const {
  std::string out = line > 0 ? fmt::format("{}:{}:{}: {}", file, line, column, what) : file + ": " + what;
  if (!fix.empty()) out += " — " + fix;
  return out;
}

ValueType scalar_type(const std::string& t, bool quoted) {
  if (quoted) return ValueType::kString;
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return ValueType::kNull;
  if (t == "???") return ValueType::kMissing;
  if (is_bool_word(t)) return ValueType::kBool;
  // PyYAML's YAML 1.1 int resolver (sexagesimal left out).
  static const std::regex kInt(R"(^[-+]?(0b[0-1_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$)");
  // OmegaConf's float resolver (as examples/project/train.py's _Loader).
  static const std::regex kFloat(
      R"(^([-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+]?[0-9]+)?|[-+]?([0-9][0-9_]*)([eE][-+]?[0-9]+)|\.[0-9_]+([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$)");
  if (std::regex_match(t, kInt)) return ValueType::kInt;
  if (std::regex_match(t, kFloat)) return ValueType::kFloat;
  return ValueType::kString;
}

const ParamInfo* Composition::find_param(const std::string& key) const {
  for (const ParamInfo& p : params) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

const std::string* Composition::selected(const std::string& group) const {
  for (const auto& [g, option] : selection) {
    if (g == group) return &option;
  }
  return nullptr;
}

std::vector<std::string> Composition::param_keys() const {
  std::vector<std::string> keys;
  for (const ParamInfo& p : params) keys.push_back(p.key);
  return keys;
}

bool ConfTree::has_config(const std::string& name) const {
  return std::find(configs.begin(), configs.end(), name) != configs.end();
}

const ConfGroup* ConfTree::find_group(const std::string& path) const {
  for (const ConfGroup& g : groups) {
    if (g.path == path) return &g;
  }
  return nullptr;
}

const Composition* ConfTree::composition(const std::string& config_name) const {
  auto it = defaults.find(config_name.empty() ? default_config : config_name);
  return it == defaults.end() ? nullptr : &it->second;
}

std::vector<ConfProblem> ConfTree::all_problems() const {
  std::vector<ConfProblem> out = problems;
  std::set<std::string> seen;
  for (const auto& p : problems) seen.insert(p.text());
  for (const auto& [name, composition] : defaults) {
    for (const auto& p : composition.problems) {
      if (seen.insert(p.text()).second) out.push_back(p);
    }
  }
  return out;
}

Composition compose(const ConfSource& source, const std::string& config_name,
                    const std::map<std::string, std::string>& choices) {
  Composition out;
  out.config_name = config_name;
  try {
    Composer(source, out, choices).run(config_name);
  } catch (const std::exception& e) {  // a yaml-cpp accessor on an odd shape
    out.problems.push_back(ConfProblem{source.label() + "/" + config_name + ".yaml", 0, 0,
                                       std::string("cannot compose: ") + e.what(), ""});
  }
  return out;
}

ConfTree load_conf_tree(const ConfSource& source) {
  ConfTree tree;
  tree.label = source.label();
  auto top = source.list("");
  if (!top.ok()) return tree;
  tree.found = true;
  for (const ConfEntry& e : *top) {
    if (!e.is_dir && ends_with_yaml(e.name)) tree.configs.push_back(strip_yaml(e.name));
  }
  list_groups(source, "", tree, 0);
  std::sort(tree.groups.begin(), tree.groups.end(),
            [](const ConfGroup& a, const ConfGroup& b) { return a.path < b.path; });
  if (tree.has_config("config")) {
    tree.default_config = "config";
  } else if (!tree.configs.empty()) {
    tree.problems.push_back(ConfProblem{tree.label, 0, 0, "there is no config.yaml, so no default config",
                                        "launches must set config_name (one of the primary configs)"});
  }
  for (const std::string& name : tree.configs) tree.defaults.emplace(name, compose(source, name));
  return tree;
}

}  // namespace mmcfs::hydra
