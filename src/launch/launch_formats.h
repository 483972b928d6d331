// launch_formats.h — the format rules of single launch.yaml values (memory,
// time_limit, commit, config_name, Hydra param keys, env names, free text)
// and the hint for an unknown top-level key (internal to src/launch).
//
// Each check takes the value as written and returns nothing when it is
// fine, or a FormatProblem whose `what` names the value and whose `fix` says
// how to write it. Positions are the parser's business (launch_spec.cpp).
// Values that end up on #SBATCH lines (partition, gpu_type, memory,
// time_limit) are limited here to characters that need no quoting.
//
// Thread rules: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mmcfs::launch::detail {

struct FormatProblem {
  std::string what;
  std::string fix;
};
using FormatCheck = std::optional<FormatProblem>;

inline constexpr std::size_t kMaxNameChars = 200;

// name: 1..200 characters (UTF-8 code points), no newline or NUL.
FormatCheck check_name(const std::string& name);
// Free text (`field` names it): no NUL; with !newlines_allowed, no newline.
FormatCheck check_text(std::string_view field, const std::string& text, bool newlines_allowed);
// memory: digits and an optional K, M, G or T (any case).
FormatCheck check_memory(const std::string& memory);
// "64g" -> "64G"; call only on a value check_memory accepted.
std::string normalize_memory(const std::string& memory);
// time_limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, not zero.
FormatCheck check_time_limit(const std::string& time_limit);
// commit: "" (the local HEAD), a hex SHA prefix, or a branch/tag name.
FormatCheck check_commit(const std::string& commit);
// config_name: "" (Hydra's default) or a config file's name without ".yaml".
FormatCheck check_config_name(const std::string& config_name);
// A partition or GPU type on a cluster that does not restrict them.
FormatCheck check_slurm_word(std::string_view field, const std::string& value);
// A Hydra key under params:. `top_level` is false for the keys of a nested
// map, whose first segment may start with a digit ("layers: {0: ...}").
FormatCheck check_param_key(const std::string& key, bool top_level);
// A groups key or option: a Hydra group path (`model/encoder`) or option name.
FormatCheck check_group_name(const std::string& name);
// An env: variable name; refuses names SLURM, mmcfs or the login shell own.
FormatCheck check_env_name(const std::string& name);

// The hint for an unknown top-level key: the key the seeds' job model or a
// close spelling suggests, else where Hydra parameters go and the valid keys.
std::string unknown_key_fix(const std::string& key);

// An example line for a key, e.g. "memory: 64G", for "write it like ...".
std::string example_line(std::string_view key);

}  // namespace mmcfs::launch::detail
