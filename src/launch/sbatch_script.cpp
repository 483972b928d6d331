// sbatch_script.cpp — rendering the batch script, the training command line
// and the idempotent submit command (see sbatch_script.h).
//
// Safety rests on two rules, both enforced here rather than trusted to the
// template: a value for a #SBATCH line must match a small safe character set
// (sbatch reads those lines itself, no shell quoting applies), and every other
// value becomes ONE quoted shell word on ONE line (script_word), so that it is
// data even if a template puts it somewhere odd, a comment included.
//
// Thread rules: pure functions over their arguments.
#include "launch/sbatch_script.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>

#include "common/quote.h"
#include "hydra/override_writer.h"
#include "launch/sweep.h"

namespace mmcfs::launch {
namespace {

constexpr std::size_t kMaxSlurmJobName = 64;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_char(char c) { return is_alpha(c) || is_digit(c) || c == '_'; }
bool is_safe_name_char(char c) { return is_word_char(c) || c == '.' || c == '-'; }

bool all_of(std::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}


// ---- Shell words ------------------------------------------------------------

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// One bash word on one line holding exactly `s` (which has no NUL): POSIX
// single quotes, or bash's $'...' when `s` holds control characters, so that
// a newline in the value never becomes a newline in the script.
std::string script_word(std::string_view s) {
  if (!has_control_char(s)) return shell_quote(s);
  std::string out = "$'";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char octal[8];
          std::snprintf(octal, sizeof octal, "\\%03o", u);  // always 3 digits
          out += octal;
        } else {
          out += c;
        }
    }
  }
  out += '\'';
  return out;
}

// A workspace-based path as a bash word: "~/x" and relative paths are under
// "$HOME" (the login directory, as over ssh), absolute paths stay.
std::string script_path_word(std::string_view path) {
  if (path == "~") return "\"$HOME\"";
  if (path.substr(0, 2) == "~/") path.remove_prefix(2);
  else if (!path.empty() && path[0] == '/') return script_word(path);
  if (path.empty()) return "\"$HOME\"";
  return "\"$HOME\"/" + script_word(path);
}

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// ---- Validation of what reaches #SBATCH lines and paths ----------------------

struct Problems {
  std::vector<std::string> lines;
  void add(std::string line) { lines.push_back(std::move(line)); }
};

bool valid_token(std::string_view t) {
  return !t.empty() && t.size() <= 128 && t[0] != '.' && t[0] != '-' && all_of(t, is_safe_name_char);
}

bool valid_memory(std::string_view m) {
  std::size_t digits = 0;
  while (digits < m.size() && is_digit(m[digits])) ++digits;
  if (digits == 0) return false;
  std::string_view unit = m.substr(digits);
  return unit.empty() || (unit.size() == 1 && std::string_view("KMGTkmgt").find(unit[0]) != std::string_view::npos);
}

// MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS
bool valid_time(std::string_view t) {
  std::size_t dash = t.find('-');
  if (dash != std::string_view::npos) {
    if (dash == 0 || !all_of(t.substr(0, dash), is_digit)) return false;
    t.remove_prefix(dash + 1);
  }
  int fields = 0;
  for (;;) {
    std::size_t colon = t.find(':');
    std::string_view field = t.substr(0, colon);
    if (field.empty() || !all_of(field, is_digit)) return false;
    ++fields;
    if (colon == std::string_view::npos) break;
    t.remove_prefix(colon + 1);
  }
  return fields <= 3;
}

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool valid_env_name(std::string_view n) {
  return !n.empty() && !is_digit(n[0]) && all_of(n, is_word_char);
}

// A safe SLURM job name: mmcfs's job id, plus the name's slug unless the id
// already holds it; [A-Za-z0-9._-], at most 64 characters.
std::string slurm_job_name(const std::string& job_id, const std::string& name) {
  auto slug = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (is_safe_name_char(c)) {
        out += c;
      } else if (!out.empty() && out.back() != '-') {
        out += '-';
      }
    }
    while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
    std::size_t start = out.find_first_not_of("-.");
    return start == std::string::npos ? std::string() : out.substr(start);
  };
  std::string result = slug(job_id);
  std::string name_slug = slug(name);
  if (!name_slug.empty() && result.find(name_slug) == std::string::npos) {
    result += result.empty() ? name_slug : "-" + name_slug;
  }
  if (result.size() > kMaxSlurmJobName) result = slug(result.substr(0, kMaxSlurmJobName));
  return result.empty() ? "mmcfs-job" : result;
}

// ---- Template expansion --------------------------------------------------------

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_token_name(std::string_view n) {
  if (n.empty() || !(n[0] >= 'A' && n[0] <= 'Z')) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'; });
}

// Keeps or drops the lines of {{#NAME}} / {{^NAME}} ... {{/NAME}} sections.
Result<std::string> apply_sections(const std::string& text, const std::map<std::string, bool>& flags) {
  std::string out;
  out.reserve(text.size());
  std::string open;       // name of the open section, "" if none
  bool keep = true;       // whether the open section's lines are kept
  int open_line = 0;
  std::vector<std::string> problems;
  int line_no = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    std::size_t next = end == std::string::npos ? text.size() : end + 1;
    std::string_view line(text.data() + pos, next - pos);
    pos = next;
    ++line_no;
    std::string_view t = trim(line.substr(0, line.size() - (line.back() == '\n' ? 1 : 0)));
    if (t.size() > 5 && t.substr(0, 2) == "{{" && t.substr(t.size() - 2) == "}}" &&
        (t[2] == '#' || t[2] == '^' || t[2] == '/') && is_token_name(t.substr(3, t.size() - 5))) {
      const char kind = t[2];
      const std::string name(t.substr(3, t.size() - 5));
      const std::string where = "template line " + std::to_string(line_no) + ": ";
      if (kind == '/') {
        if (open.empty()) {
          problems.push_back(where + "{{/" + name + "}} closes no section");
        } else if (name != open) {
          problems.push_back(where + "{{/" + name + "}} closes section " + open + " opened on line " +
                             std::to_string(open_line));
        }
        open.clear();
        keep = true;
        continue;
      }
      auto flag = flags.find(name);
      if (flag == flags.end()) {
        problems.push_back(where + "unknown section " + name + " (known: GPUS, MULTI_NODE, SWEEP)");
      }
      if (!open.empty()) {
        problems.push_back(where + "section " + name + " opens inside section " + open +
                           "; sections do not nest");
      }
      open = name;
      open_line = line_no;
      keep = flag == flags.end() ? true : (kind == '#' ? flag->second : !flag->second);
      continue;
    }
    if (keep) out.append(line);
  }
  if (!open.empty()) {
    problems.push_back("template line " + std::to_string(open_line) + ": section " + open +
                       " is never closed ({{/" + open + "}})");
  }
  if (!problems.empty()) {
    std::string message = "the sbatch template is not valid:";
    for (const std::string& p : problems) message += "\n  " + p;
    return make_error(Errc::kInvalidArgument, message);
  }
  return out;
}

// Replaces every {{NAME}} (NAME: [A-Z][A-Z0-9_]*) in one pass; values are
// never scanned again. Unknown names are an error listing them all.
Result<std::string> substitute(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size() * 2);
  std::vector<std::string> unknown;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string::npos) break;
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) break;
    std::string_view name(text.data() + open + 2, close - open - 2);
    if (!is_token_name(name)) {
      out.append(text, pos, open + 2 - pos);  // not a placeholder: keep "{{" and go on
      pos = open + 2;
      continue;
    }
    out.append(text, pos, open - pos);
    auto it = values.find(std::string(name));
    if (it == values.end()) {
      const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(open), '\n'));
      unknown.push_back("{{" + std::string(name) + "}} (line " + std::to_string(line) + ")");
    } else {
      out += it->second;
    }
    pos = close + 2;
  }
  out.append(text, pos, std::string::npos);
  if (!unknown.empty()) {
    std::string message = "the sbatch template uses unknown placeholders:";
    for (const std::string& u : unknown) message += " " + u;
    std::string known;
    for (const auto& [name, value] : values) known += (known.empty() ? "" : ", ") + name;
    return make_error(Errc::kInvalidArgument, message + " — known placeholders: " + known);
  }
  return out;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string argv_words(const std::vector<std::string>& argv) {
  std::string words;
  for (const std::string& arg : argv) {
    if (!words.empty()) words += ' ';
    words += script_word(arg);
  }
  return words;
}

// SWEEP_SELECT for a sweep: each array task takes its run's command (a
// table of pre-quoted words, one case per task id) and its own run dir.
std::string sweep_select(const LaunchSpec& spec, const project::ProjectConfig& config) {
  const std::size_t runs = sweep_run_count(spec);
  std::string out = "# This job is a sweep of " + std::to_string(runs) +
                    " runs (a SLURM job array): each task runs its own command.\n"
                    "case ${SLURM_ARRAY_TASK_ID-} in\n";
  for (std::size_t n = 0; n < runs; ++n) {
    out += "  " + std::to_string(n) + ") mmcfs_args=( " +
           argv_words(training_argv(sweep_run_spec(spec, n), config)) + " ) ;;\n";
  }
  out += "  *) echo \"mmcfs: this sweep has runs 0-" + std::to_string(runs - 1) +
         ", not '${SLURM_ARRAY_TASK_ID-(SLURM_ARRAY_TASK_ID unset)}'\" >&2; exit 1 ;;\n"
         "esac\n"
         "export MMCFS_SWEEP_RUN=$SLURM_ARRAY_TASK_ID\n"
         "export MMCFS_JOB_ID=$MMCFS_JOB_ID.$SLURM_ARRAY_TASK_ID\n"
         "MMCFS_RUN_DIR=$MMCFS_JOB_DIR/run-$SLURM_ARRAY_TASK_ID\n"
         "mkdir -p -- \"$MMCFS_RUN_DIR\"";
  return out;
}

}  // namespace

std::string job_dir(const std::string& workspace, const std::string& job_token) {
  return strip_trailing_slashes(workspace) + "/jobs/" + job_token;
}

std::string run_dir(const std::string& workspace, const std::string& sweep_token, int run) {
  return job_dir(workspace, sweep_token) + "/run-" + std::to_string(run);
}

std::string mirror_dir(const std::string& workspace, const std::string& project_name) {
  std::string safe;
  for (char c : project_name) safe += is_safe_name_char(c) ? c : '_';
  if (safe.empty() || safe[0] == '.') safe.insert(safe.begin(), '_');
  return strip_trailing_slashes(workspace) + "/repos/" + safe + ".git";
}

std::string hydra_override(const LaunchSpec::Param& param) {
  return hydra::write_override(param.key, param.value, param.quoted, param.is_null);
}

std::vector<std::string> training_argv(const LaunchSpec& spec, const project::ProjectConfig& config) {
  std::vector<std::string> argv = {config.python, config.train_script};
  if (!spec.config_name.empty()) {
    argv.push_back("--config-name");
    argv.push_back(spec.config_name);
  }
  for (const auto& [group, option] : spec.groups) argv.push_back(group + "=" + hydra::write_string(option));
  for (const LaunchSpec::Param& param : spec.params) argv.push_back(hydra_override(param));
  for (const std::string& raw : spec.overrides) argv.push_back(raw);
  return argv;
}

Result<std::string> render_script(const std::string& template_text, const ScriptInputs& in) {
  const LaunchSpec& spec = in.spec;
  Problems problems;

  // Nothing with a NUL can be a shell word (nor a C string on the cluster).
  std::vector<std::pair<std::string, const std::string*>> texts = {
      {"name", &spec.name}, {"description", &spec.description}, {"cluster", &spec.cluster},
      {"config_name", &spec.config_name}, {"project", &in.project_name}, {"repo_url", &in.repo_url},
      {"job_id", &in.job_id}, {"workspace", &in.workspace}, {"gpu_type", &spec.gpu_type},
      {"conda_env", &in.project_config.conda_env}, {"python", &in.project_config.python},
      {"train_script", &in.project_config.train_script}};
  for (const auto& p : spec.params) {
    texts.push_back({"params." + p.key, &p.value});
    texts.push_back({"a params key", &p.key});
  }
  for (const auto& o : spec.overrides) texts.push_back({"overrides", &o});
  for (const auto& axis : spec.sweep) {
    texts.push_back({"a sweep key", &axis.key});
    for (const auto& v : axis.values) texts.push_back({"sweep." + axis.key, &v.value});
  }
  for (const auto& [group, option] : spec.groups) texts.push_back({"groups." + group, &option});
  for (const auto& [name, value] : spec.env) texts.push_back({"env." + name, &value});
  for (const auto& line : in.project_config.env_setup) texts.push_back({"env_setup", &line});
  for (const auto& [field, text] : texts) {
    if (has_nul(*text)) problems.add(field + " contains a NUL byte");
  }

  if (!valid_token(in.job_token)) {
    problems.add("job token '" + in.job_token + "' must be 1-128 characters of [A-Za-z0-9._-], not starting with '.' or '-'");
  }
  const bool sha1 = in.commit.size() == 40, sha256 = in.commit.size() == 64;
  if (!(sha1 || sha256) || !std::all_of(in.commit.begin(), in.commit.end(), is_hex)) {
    problems.add("commit '" + in.commit + "' is not a full hexadecimal SHA");
  }
  if (in.repo_url.empty()) problems.add("the project has no remote URL for the cluster to clone from");
  if (in.workspace.empty()) problems.add("the cluster has no workspace");
  if (in.project_name.empty()) problems.add("the project has no name");
  if (spec.partition.empty() || !all_of(spec.partition, is_safe_name_char)) {
    problems.add("partition '" + spec.partition + "' must be letters, digits, '.', '_' or '-'");
  }
  if (spec.num_nodes < 1) problems.add("num_nodes must be at least 1");
  if (spec.cpus_per_task < 1) problems.add("cpus_per_task must be at least 1");
  if (spec.gpus_per_node < 0) problems.add("gpus_per_node must not be negative");
  const std::string gres_type = lower(spec.gpu_type);
  if (spec.gpus_per_node > 0 && (gres_type.empty() || !all_of(gres_type, is_safe_name_char))) {
    problems.add("gpu_type '" + spec.gpu_type + "' must be letters, digits, '.', '_' or '-' when GPUs are requested");
  }
  if (!valid_memory(spec.memory)) problems.add("memory '" + spec.memory + "' must be digits and an optional K, M, G or T");
  if (!valid_time(spec.time_limit)) {
    problems.add("time_limit '" + spec.time_limit + "' must be MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
  }
  for (const auto& [name, value] : spec.env) {
    if (!valid_env_name(name)) problems.add("env name '" + name + "' must be [A-Za-z_][A-Za-z0-9_]*");
  }
  const bool sweep = !spec.sweep.empty();
  const std::size_t runs = sweep_run_count(spec);
  if (sweep && (runs == 0 || runs >= kSweepTooLarge)) problems.add("the sweep has no runs or far too many");
  if (sweep && (template_text.find("{{SWEEP_SELECT}}") == std::string::npos ||
                template_text.find("{{SBATCH_ARRAY}}") == std::string::npos)) {
    problems.add("this launch is a sweep, but the sbatch template has no {{SWEEP_SELECT}} or no {{SBATCH_ARRAY}}: "
                 "copy the sweep lines of config/sbatch_template.sh into it");
  }
  if (!problems.lines.empty()) {
    std::string message = "cannot write the batch script:";
    for (const std::string& p : problems.lines) message += "\n  " + p;
    return make_error(Errc::kInvalidArgument, message);
  }

  std::string env_exports;
  for (const auto& [name, value] : spec.env) {
    env_exports += (env_exports.empty() ? "" : "\n") + std::string("export ") + name + "=" + script_word(value);
  }
  std::string env_setup;
  for (const std::string& line : in.project_config.env_setup) {
    env_setup += (env_setup.empty() ? "" : "\n") + line;
  }
  std::string memory = spec.memory;
  if (!memory.empty() && !is_digit(memory.back())) {
    memory.back() = static_cast<char>(std::toupper(static_cast<unsigned char>(memory.back())));
  }

  const std::map<std::string, std::string> values = {
      {"SBATCH_JOB_NAME", slurm_job_name(in.job_id, spec.name)},
      {"SBATCH_PARTITION", spec.partition},
      {"SBATCH_NODES", std::to_string(spec.num_nodes)},
      {"SBATCH_GRES", spec.gpus_per_node > 0 ? "gpu:" + gres_type + ":" + std::to_string(spec.gpus_per_node)
                                             : std::string("none")},
      {"SBATCH_CPUS_PER_TASK", std::to_string(spec.cpus_per_task)},
      {"SBATCH_MEM", memory},
      {"SBATCH_TIME", spec.time_limit},
      {"SBATCH_COMMENT", in.job_token},
      {"JOB_ID", script_word(in.job_id)},
      {"JOB_TOKEN", script_word(in.job_token)},
      {"JOB_NAME", script_word(spec.name)},
      {"DESCRIPTION", script_word(spec.description)},
      {"PROJECT", script_word(in.project_name)},
      {"CLUSTER", script_word(spec.cluster)},
      {"COMMIT", script_word(in.commit)},
      {"REPO_URL", script_word(in.repo_url)},
      {"JOB_DIR", script_path_word(job_dir(in.workspace, in.job_token))},
      {"MIRROR_DIR", script_path_word(mirror_dir(in.workspace, in.project_name))},
      {"CONDA_ENV", script_word(in.project_config.conda_env)},
      {"NUM_NODES", std::to_string(spec.num_nodes)},
      {"GPUS_PER_NODE", std::to_string(std::max(spec.gpus_per_node, 0))},
      {"GPU_TYPE", script_word(spec.gpus_per_node > 0 ? spec.gpu_type : std::string())},
      {"TRAINING_ARGV", argv_words(training_argv(spec, in.project_config))},
      {"SWEEP_SELECT", sweep ? sweep_select(spec, in.project_config) : std::string()},
      {"SBATCH_ARRAY", sweep ? "0-" + std::to_string(runs - 1) : std::string("0")},
      {"ENV_EXPORTS", env_exports},
      {"ENV_SETUP", env_setup},
  };
  const std::map<std::string, bool> flags = {
      {"MULTI_NODE", spec.num_nodes > 1},
      {"GPUS", spec.gpus_per_node > 0},
      {"SWEEP", sweep},
  };
  auto sectioned = apply_sections(template_text, flags);
  if (!sectioned.ok()) return sectioned.error();
  return substitute(*sectioned, values);
}

std::vector<std::string> submit_argv(const std::string& workspace, const std::string& job_token) {
  // Fixed text: the job directory arrives as $1, never inside the script.
  // Everything relative (and "~/...") starts at $HOME, as over ssh. The lock
  // makes a retry that overlaps a slow first attempt wait for it, and then
  // find its slurm_job_id. slurm_job_id.tmp holding an id means sbatch
  // succeeded but the rename did not happen: that id is the job.
  static const std::string kScript =
      "trap '' HUP\n"
      "d=$1\n"
      "case $d in\n"
      "  '~') d=. ;;\n"
      "  '~/'*) d=${d#'~/'} ;;\n"
      "esac\n"
      "cd || exit 1\n"
      "mkdir -p -- \"$d\" && cd -- \"$d\" || exit 1\n"
      "if command -v flock >/dev/null 2>&1; then exec 9>>submit.lock && flock 9 || exit 1; fi\n"
      "cat > script.sh.tmp || exit 1\n"
      "if [ -s slurm_job_id.tmp ] && [ ! -s slurm_job_id ]; then mv -f slurm_job_id.tmp slurm_job_id || exit 1; fi\n"
      "if [ -s slurm_job_id ]; then rm -f script.sh.tmp; cat slurm_job_id; exit 0; fi\n"
      "mv -f script.sh.tmp script.sh || exit 1\n"
      "sbatch --parsable script.sh > slurm_job_id.tmp || { s=$?; rm -f slurm_job_id.tmp; exit $s; }\n"
      "mv -f slurm_job_id.tmp slurm_job_id && cat slurm_job_id\n";
  return {"sh", "-c", kScript, "sh", job_dir(workspace, job_token)};
}

}  // namespace mmcfs::launch
