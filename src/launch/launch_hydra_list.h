// launch_hydra_list.h — a YAML list under params: as Hydra list text, and
// back (internal to src/launch).
//
// `params: {data.sizes: [1, 2, "a b"]}` becomes the Param value
// `[1,2,'a b']` (quoted = false): Hydra's override grammar for a list.
// Items that were plain YAML words of [A-Za-z0-9_.+-] stay bare; every other
// scalar (quoted in YAML, or holding spaces or punctuation) is written as a
// Hydra single-quoted string, `'` escaped as `\'` and backslashes doubled
// where they precede a quote; YAML nulls become `null`; lists nest. Maps
// inside lists are refused (they belong in overrides).
//
// emit_hydra_list() reads such text back into a YAML flow list that parses
// to the same text again; it is how to_launch_yaml writes list params.
//
// Thread rules: pure functions over their arguments.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

namespace mmcfs::launch::detail {

// An item that cannot be written, and the node to point at.
struct ListProblem {
  YAML::Node where;
  std::string what;
  std::string fix;
};

// The Hydra text of a YAML sequence; problems are appended to `problems`.
std::string hydra_list_text(const YAML::Node& sequence, std::vector<ListProblem>& problems);

// True for a value hydra_list_text could have produced (an unquoted value
// starting with '['; plain YAML scalars cannot start with one).
bool is_hydra_list_value(std::string_view value, bool quoted, bool is_null);

// Writes Hydra list text as a YAML flow sequence. False, with nothing
// written, if the text is not in the form hydra_list_text produces.
bool emit_hydra_list(YAML::Emitter& out, std::string_view text);

}  // namespace mmcfs::launch::detail
