// conf_tree.h — a project's Hydra config directory, parsed: primary configs,
// their defaults lists, the config groups and their options, and the
// parameter schema of each primary config composed with its default
// selection.
//
// Choices made here (Hydra 1.1+ semantics where they differ from 1.0):
//   - Primary configs are EVERY top-level `*.yaml` of the conf directory (the
//     issue's `config*.yaml` would hide a `base.yaml` or `qwen_7b.yaml` that
//     `--config-name` accepts just as well). `config` is the default; without
//     a config.yaml there is no default and a launch must name one (a problem
//     says so).
//   - Groups are the sub-directories holding `*.yaml` options, nested ones
//     included as paths (`model/encoder`).
//   - Defaults list entries: `_self_`; `group: option` (option null = none,
//     `???` = must be chosen, a list = several); `optional group: option`
//     (a missing option file is skipped silently); `override group: option`
//     (changes the choice of an entry elsewhere, applied wherever that group
//     is selected); `/group: option` (absolute from a group file); nested
//     group files' own defaults (relative to their group: `encoder: small` in
//     model/x.yaml is group `model/encoder`); plain strings `other` or
//     `group/option` (a config by path); `group@pkg: option` places the
//     option at package `pkg` relative to the containing config's package
//     (`_global_`, `_group_`, `_here_` understood); a `# @package X` header
//     in an option file is honoured the same way (absolute). Anything else is
//     reported as a problem and skipped; nothing here throws.
//   - `_self_` order: a config's own keys are merged where `_self_` stands;
//     without `_self_` they come last (Hydra 1.1), so they win.
//   - Merging follows OmegaConf: maps merge key by key, anything else
//     replaces.
//   - Scalar types follow how OmegaConf loads YAML (PyYAML's YAML 1.1 with
//     OmegaConf's float fix): quoted -> string; null/~/empty -> null;
//     true/false/yes/no/on/off -> bool; decimal/0x/0o/0b ints (with `_`) ->
//     int; 1e-3, 1.5, .inf, .nan -> float; `???` -> missing (must be set);
//     anything else -> string.
// Problems (unreadable or malformed files, missing options, bad entries) are
// collected as "conf/file.yaml:line:column: what — fix", never thrown.
//
// Thread rules: load_conf_tree and compose are pure functions of the source.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hydra/conf_source.h"

namespace mmcfs::hydra {

enum class ValueType { kInt, kFloat, kBool, kString, kNull, kList, kMap, kMissing };
const char* type_name(ValueType type);  // "int", "float", ..., "missing"

struct ConfProblem {
  std::string file;  // "conf/model/x.yaml" (the source's label first)
  int line = 0;      // 1-based; 0 = the whole file
  int column = 0;
  std::string what;
  std::string fix;  // may be empty
  std::string text() const;  // "file:line:column: what — fix"
};

struct ConfGroup {
  std::string path;                  // "model", "model/encoder"
  std::vector<std::string> options;  // file names without .yaml, sorted
};

struct ParamInfo {
  std::string key;           // dotted: "optimizer.lr"
  ValueType type = ValueType::kString;
  std::string default_text;  // the value as YAML text ("1e-3", "'a b'" for strings needing quotes, "[64, 64]")
};

// One primary config composed with a given selection.
struct Composition {
  std::string config_name;
  // group -> chosen option, in the order the groups were met; "" = null
  // (none), "???" = must be chosen. Several options (a list) are joined with ",".
  std::vector<std::pair<std::string, std::string>> selection;
  std::vector<ParamInfo> params;  // leaves (and empty maps) in composition order
  std::vector<ConfProblem> problems;

  const ParamInfo* find_param(const std::string& key) const;
  // The chosen option of `group`, or nullptr if the defaults list never selects it.
  const std::string* selected(const std::string& group) const;
  std::vector<std::string> param_keys() const;
};

struct ConfTree {
  std::string label;                  // the conf directory as messages name it
  bool found = false;                 // the directory exists
  std::vector<std::string> configs;   // primary config names, sorted
  std::string default_config;         // "config", or "" when there is no config.yaml
  std::vector<ConfGroup> groups;      // sorted by path
  std::vector<ConfProblem> problems;  // listing problems
  // Every primary config composed with its own default selection.
  std::map<std::string, Composition> defaults;

  bool has_config(const std::string& name) const;
  const ConfGroup* find_group(const std::string& path) const;
  // The default composition of `config_name` ("" = the default config), or nullptr.
  const Composition* composition(const std::string& config_name) const;
  // Problems of the listing and of every default composition, each once.
  std::vector<ConfProblem> all_problems() const;
};

// Lists and composes the conf directory of `source`. A missing directory
// gives found = false and no problems.
ConfTree load_conf_tree(const ConfSource& source);

// `config_name` composed with `choices` (group -> option) replacing the
// defaults list's choices for those groups (as `group=option` on Hydra's
// command line does).
Composition compose(const ConfSource& source, const std::string& config_name,
                    const std::map<std::string, std::string>& choices = {});

// The schema type of a YAML scalar as OmegaConf would load it (see above).
ValueType scalar_type(const std::string& text, bool quoted);

}  // namespace mmcfs::hydra
