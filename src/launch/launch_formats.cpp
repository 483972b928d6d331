// launch_formats.cpp — format rules of single launch.yaml values and the
// unknown-key hint (see launch_formats.h).
//
// Thread rules: pure functions; safe from any thread.
#include "launch/launch_formats.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "common/suggest.h"
#include "launch/launch_spec.h"

namespace mmcfs::launch::detail {
namespace {

constexpr std::string_view kTimeForms =
    "accepted forms are MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM and D-HH:MM:SS, e.g. "
    "`time_limit: \"24:00:00\"` or `time_limit: \"2-00:00:00\"`";

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool all_of(std::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}
bool is_digits(std::string_view s) { return !s.empty() && all_of(s, is_digit); }

std::size_t utf8_length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Dotted segments of word characters; the first may not start with a digit
// when `letter_first`.
bool is_dotted_key(std::string_view key, bool letter_first) {
  const std::vector<std::string_view> segments = split(key, '.');
  for (std::string_view segment : segments) {
    if (segment.empty() || !all_of(segment, is_word_char)) return false;
  }
  return !letter_first || !is_digit(segments.front().front());
}

FormatProblem time_problem(const std::string& value, std::string what) {
  return FormatProblem{fmt::format("time_limit '{}' {}", value, what), std::string(kTimeForms)};
}

}  // namespace

FormatCheck check_text(std::string_view field, const std::string& text, bool newlines_allowed) {
  if (text.find('\0') != std::string::npos) {
    return FormatProblem{fmt::format("{} contains a NUL character", field),
                         "remove the \\0 escape from the text"};
  }
  if (!newlines_allowed && text.find_first_of("\r\n") != std::string::npos) {
    return FormatProblem{fmt::format("{} contains a line break", field),
                         "keep it on one line"};
  }
  return std::nullopt;
}

FormatCheck check_name(const std::string& name) {
  if (name.empty()) {
    return FormatProblem{"name is empty",
                         "give the job a name, e.g. `name: lr-sweep`, or remove the line to use "
                         "config_name (else 'run')"};
  }
  if (FormatCheck bad = check_text("name", name, false)) {
    if (bad->what.ends_with("line break")) bad->fix = "keep the name on one line; longer text "
                                                      "belongs in description";
    return bad;
  }
  if (const std::size_t length = utf8_length(name); length > kMaxNameChars) {
    return FormatProblem{
        fmt::format("name is {} characters long (at most {})", length, kMaxNameChars),
        "shorten it; longer text belongs in description"};
  }
  return std::nullopt;
}

FormatCheck check_memory(const std::string& memory) {
  std::string_view digits = memory;
  if (!digits.empty() && std::string_view("KMGTkmgt").find(digits.back()) != std::string::npos) {
    digits.remove_suffix(1);
  }
  if (is_digits(digits) && digits.size() <= 12) return std::nullopt;
  std::string fix =
      "write a whole number with an optional unit K, M, G or T (megabytes if none), e.g. "
      "`memory: 64G`";
  if (memory.size() > 2 && (memory.ends_with('B') || memory.ends_with('b')) &&
      !check_memory(memory.substr(0, memory.size() - 1))) {
    fix = fmt::format("SLURM takes no 'B': write `memory: {}`",
                      normalize_memory(memory.substr(0, memory.size() - 1)));
  }
  return FormatProblem{fmt::format("memory '{}' is not a SLURM memory size", memory), fix};
}

std::string normalize_memory(const std::string& memory) {
  std::string normal = memory;
  if (!normal.empty() && !is_digit(normal.back())) {
    normal.back() = static_cast<char>(std::toupper(static_cast<unsigned char>(normal.back())));
  }
  return normal;
}

FormatCheck check_time_limit(const std::string& value) {
  std::string_view rest = value;
  std::optional<std::string_view> days;
  if (const std::size_t dash = rest.find('-'); dash != std::string_view::npos) {
    days = rest.substr(0, dash);
    rest = rest.substr(dash + 1);
  }
  const std::vector<std::string_view> parts = split(rest, ':');
  const bool digits_ok =
      (!days || (is_digits(*days) && days->size() <= 4)) &&
      std::all_of(parts.begin(), parts.end(),
                  [](std::string_view p) { return is_digits(p) && p.size() <= 6; });
  if (!digits_ok || parts.size() > 3) return time_problem(value, "is not a SLURM time");
  std::vector<long> numbers;
  for (std::string_view part : parts) numbers.push_back(std::stol(std::string(part)));
  // Which parts are bounded: with days, HH < 24 and then MM, SS < 60;
  // without, the first part is unbounded (MM, or HH of HH:MM:SS).
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (i == 0 && days && numbers[i] >= 24) {
      return time_problem(value, fmt::format("has {} hours after the days", numbers[i]));
    }
    if (i > 0 && numbers[i] >= 60) {
      const bool seconds = days ? i == 2 : i + 1 == numbers.size();
      return time_problem(value, fmt::format("has {} {}", numbers[i],
                                             seconds ? "seconds" : "minutes"));
    }
  }
  const bool zero = std::all_of(numbers.begin(), numbers.end(), [](long n) { return n == 0; }) &&
                    (!days || std::stol(std::string(*days)) == 0);
  if (zero) {
    return FormatProblem{fmt::format("time_limit '{}' is zero", value),
                         "SLURM reads zero as 'no limit', which partitions usually refuse; give "
                         "the time the job needs, e.g. `time_limit: \"24:00:00\"`"};
  }
  return std::nullopt;
}

FormatCheck check_commit(const std::string& commit) {
  if (commit.empty()) return std::nullopt;
  const bool safe = all_of(commit, [](char c) {
    return is_word_char(c) || c == '.' || c == '/' || c == '-';
  });
  const bool git_ref_rules = commit.size() <= 255 && !commit.starts_with('-') &&
                             !commit.starts_with('/') && !commit.ends_with('/') &&
                             !commit.ends_with('.') && !commit.ends_with(".lock") &&
                             commit.find("..") == std::string::npos &&
                             commit.find("//") == std::string::npos;
  if (safe && git_ref_rules) return std::nullopt;
  return FormatProblem{
      fmt::format("commit '{}' is neither a commit SHA nor a branch or tag name", commit),
      "give 4 to 40 hex digits (e.g. `commit: 3f9c2a1`) or a name of letters, digits and "
      "'._/-' not starting with '-'; remove the line to run the local HEAD"};
}

FormatCheck check_config_name(const std::string& name) {
  if (name.empty()) return std::nullopt;
  for (std::string_view suffix : {".yaml", ".yml"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return FormatProblem{fmt::format("config_name '{}' ends with '{}'", name, suffix),
                           fmt::format("drop the suffix: `config_name: {}`",
                                       name.substr(0, name.size() - suffix.size()))};
    }
  }
  if (name.find('/') != std::string::npos) {
    return FormatProblem{
        fmt::format("config_name '{}' contains '/'", name),
        "name a config file directly in the project's Hydra config directory; choose group "
        "options under params instead (e.g. `params: {model: resnet}`)"};
  }
  if (!all_of(name, [](char c) { return is_word_char(c) || c == '.' || c == '-'; })) {
    return FormatProblem{fmt::format("config_name '{}' is not a config file name", name),
                         "use letters, digits, '_', '.' and '-', e.g. `config_name: config_small`"};
  }
  return std::nullopt;
}

FormatCheck check_slurm_word(std::string_view field, const std::string& value) {
  if (!value.empty() &&
      all_of(value, [](char c) { return is_word_char(c) || c == '.' || c == '-'; })) {
    return std::nullopt;
  }
  return FormatProblem{fmt::format("{} '{}' is not a SLURM name", field, value),
                       "use letters, digits, '_', '.' and '-' only"};
}

FormatCheck check_param_key(const std::string& key, bool top_level) {
  if (key.starts_with('+') || key.starts_with('~')) {
    return FormatProblem{
        fmt::format("params key '{}' starts with '{}'", key, key.front()),
        fmt::format("params only set existing keys; '+', '++' and '~' belong in overrides, e.g. "
                    "`overrides: [\"{}=...\"]`",
                    key)};
  }
  if (key.find('/') != std::string::npos || key.find('@') != std::string::npos) {
    return FormatProblem{fmt::format("params key '{}' is a config group path", key),
                         fmt::format("write it in overrides, e.g. `overrides: [\"{}=...\"]`", key)};
  }
  if (is_dotted_key(key, top_level)) return std::nullopt;
  return FormatProblem{
      fmt::format("params key '{}' is not a Hydra key", key),
      "use dotted names of letters, digits and '_', e.g. `optimizer.lr: 1e-4`; anything else "
      "belongs in overrides"};
}

FormatCheck check_group_name(const std::string& name) {
  const bool shaped = !name.empty() && !name.starts_with('/') && !name.ends_with('/') &&
                      name.find("//") == std::string::npos && !name.starts_with('.') &&
                      all_of(name, [](char c) { return is_word_char(c) || c == '/' || c == '.' || c == '-'; });
  if (shaped) return std::nullopt;
  return FormatProblem{fmt::format("'{}' is not a Hydra group or option name", name),
                       "use letters, digits, '_', '.', '-' and '/' between nested groups, e.g. "
                       "`model/encoder: small`"};
}

FormatCheck check_env_name(const std::string& name) {
  const bool shaped = !name.empty() && !is_digit(name.front()) && all_of(name, is_word_char);
  if (!shaped) {
    return FormatProblem{fmt::format("env name '{}' is not a variable name", name),
                         "use letters, digits and '_', not starting with a digit, e.g. "
                         "`WANDB_MODE: offline`"};
  }
  if (name.starts_with("SLURM_")) {
    return FormatProblem{fmt::format("env name '{}' is reserved", name),
                         "SLURM sets SLURM_* for the job and srun reads them; choose another name"};
  }
  if (name.starts_with("MMCFS_")) {
    return FormatProblem{fmt::format("env name '{}' is reserved", name),
                         "mmcfs sets MMCFS_* in the job script; choose another name"};
  }
  if (name == "PATH" || name == "HOME" || name == "USER") {
    return FormatProblem{
        fmt::format("env name '{}' is reserved", name),
        "the login environment and the conda activation set it and the job depends on it; put "
        "changes in the project's .mlops-config.yaml setup lines instead"};
  }
  return std::nullopt;
}

std::string unknown_key_fix(const std::string& key) {
  // Names from the seeds' job model and common habits, mapped to ours.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kAliases = {{
      {"gpus", "gpus_per_node"},      {"num_gpus", "gpus_per_node"},
      {"nodes", "num_nodes"},         {"cpus", "cpus_per_task"},
      {"mem", "memory"},              {"time", "time_limit"},
      {"config", "config_name"},      {"commit_sha", "commit"},
      {"hydra_overrides", "params"},  {"raw_overrides", "overrides"},
      {"environment", "env"},         {"job_name", "name"},
  }};
  for (const auto& [alias, ours] : kAliases) {
    if (alias == key) return fmt::format("did you mean '{}'?", ours);
  }
  if (std::string close = closest_match(key, launch_keys()); !close.empty()) {
    return fmt::format("did you mean '{}'?", close);
  }
  return fmt::format("Hydra parameters go under `params:`; valid keys are: {}",
                     fmt::join(launch_keys(), ", "));
}

std::string example_line(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kExamples = {{
      {"name", "name: lr-sweep"},
      {"description", "description: \"try a lower learning rate\""},
      {"cluster", "cluster: alpha"},
      {"partition", "partition: general"},
      {"gpu_type", "gpu_type: A100"},
      {"num_nodes", "num_nodes: 1"},
      {"gpus_per_node", "gpus_per_node: 1"},
      {"cpus_per_task", "cpus_per_task: 8"},
      {"memory", "memory: 64G"},
      {"time_limit", "time_limit: \"24:00:00\""},
      {"commit", "commit: 3f9c2a1"},
      {"config_name", "config_name: config_small"},
      {"groups", "groups: {model: transformer}"},
      {"params", "params: {optimizer.lr: 1e-4}"},
      {"overrides", "overrides: [\"+trainer.fast_dev_run=true\"]"},
      {"env", "env: {WANDB_MODE: offline}"},
  }};
  for (const auto& [name, example] : kExamples) {
    if (name == key) return std::string(example);
  }
  return std::string(key) + ": ...";
}

}  // namespace mmcfs::launch::detail
