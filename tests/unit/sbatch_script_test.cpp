// sbatch_script_test.cpp — the batch script, the training command line and
// the idempotent submit command, checked without a cluster: rendered scripts
// go through `bash -n` and a lexer that proves every dangerous string sits
// inside a quoted word; the data part of a script is evaluated by a real bash
// to prove the values come back byte for byte; the submit command runs under
// /bin/sh against a fake `sbatch` to prove it submits exactly once.
// (tests/integration/sbatch_script_test.cpp runs the same on real SLURM.)
//
// Thread rules: tests run sequentially; child processes only.
#include "launch/sbatch_script.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/quote.h"

namespace mmcfs::launch {
namespace {

namespace fs = std::filesystem;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct Proc {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell in between) with `input` on stdin and extra
// environment variables; waits for it.
Proc run_process(const std::vector<std::string>& argv, const std::string& input,
                 const std::vector<std::pair<std::string, std::string>>& env, const std::string& tmp) {
  const std::string in_path = tmp + "/.stdin", out_path = tmp + "/.stdout", err_path = tmp + "/.stderr";
  write_file(in_path, input);
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Proc p;
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  p.out = read_file(out_path);
  p.err = read_file(err_path);
  return p;
}

class SbatchScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/mmcfs-sbatch-unit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    tmp_ = dir;
    marker_ = tmp_ + "/pwned";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(tmp_, ignored);
  }

  ScriptInputs plain_inputs() const {
    ScriptInputs in;
    in.spec.name = "lr sweep";
    in.spec.cluster = "alpha";
    in.spec.partition = "general";
    in.spec.gpu_type = "A100";
    in.spec.gpus_per_node = 1;
    in.spec.cpus_per_task = 2;
    in.spec.memory = "500M";
    in.spec.time_limit = "00:10:00";
    in.project_config.env_setup = {"echo setting up"};
    in.project_name = "example";
    in.repo_url = "/var/tmp/remotes/example.git";
    in.commit = kCommit;
    in.job_id = "00042-lr-sweep";
    in.job_token = "mmcfs-tok-42";
    in.workspace = "/home/u/mmcfs-jobs";
    return in;
  }

  // Strings a shell must never run: each would create marker_.
  std::vector<std::string> nasty() const {
    const std::string m = marker_;
    return {
        "it's \"quoted\" `touch " + m + "` $(touch " + m + ") ; touch " + m + " && touch " + m + " | cat",
        "line one\nline two $(touch " + m + ")\n'; touch " + m + "; echo '",
        "tab\there \\ back\\slash\\ ${HOME} $HOME $((1+1)) !! *",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80 \xe6\x97\xa5\xe6\x9c\xac",
        "\r\x01\x1b[31m\x7f control $(touch " + m + ")",
        "{{JOB_ID}} {{NOT_A_PLACEHOLDER}} {{#GPUS}}",
        "trailing backslash \\",
    };
  }

  ScriptInputs nasty_inputs() const {
    ScriptInputs in = plain_inputs();
    const auto n = nasty();
    in.spec.name = n[0];
    in.spec.description = n[1] + "\n" + n[3];
    for (std::size_t i = 0; i < n.size(); ++i) {
      in.spec.params.push_back({"p" + std::to_string(i), n[i], true, false});
      in.spec.env.push_back({"MMCFS_TEST_ENV_" + std::to_string(i), n[i]});
    }
    in.spec.overrides = {"+note=" + n[0], n[2]};
    return in;
  }

  std::string tmp_;
  std::string marker_;
};

// ---- The template file and its embedded copy --------------------------------

TEST(SbatchTemplate, EmbeddedCopyMatchesTheFile) {
  const fs::path file = fs::path(MMCFS_TEST_DATA_DIR).parent_path().parent_path() / "config/sbatch_template.sh";
  ASSERT_TRUE(fs::exists(file)) << file;
  EXPECT_TRUE(read_file(file) == default_sbatch_template())
      << "the built-in template (generated from config/sbatch_template.sh at build time) differs from the file";
}

// ---- Paths -------------------------------------------------------------------

TEST(SbatchPaths, JobAndMirrorDirectories) {
  EXPECT_EQ(job_dir("/scratch/u/mmcfs", "tok"), "/scratch/u/mmcfs/jobs/tok");
  EXPECT_EQ(job_dir("~/mmcfs-jobs/", "tok"), "~/mmcfs-jobs/jobs/tok");
  EXPECT_EQ(mirror_dir("~/w", "example"), "~/w/repos/example.git");
  EXPECT_EQ(mirror_dir("/w", "my project/../x"), "/w/repos/my_project_.._x.git");
  EXPECT_EQ(mirror_dir("/w", ".hidden"), "/w/repos/_.hidden.git");
}

// ---- Hydra overrides ---------------------------------------------------------

TEST(HydraOverride, ValuesAreWrittenInHydrasGrammar) {
  struct Case {
    std::string value;
    bool quoted;
    bool is_null;
    std::string expected;
  };
  const std::vector<Case> cases = {
      // Numbers YAML typed: bare, in a form Hydra reads as the same number.
      {"0.001", false, false, "0.001"},
      {"1e-5", false, false, "1e-5"},
      {"1e-05", false, false, "1e-5"},
      {"1.5E+03", false, false, "1.5e3"},
      {"-2.5", false, false, "-2.5"},
      {".5", false, false, "0.5"},
      {"5.", false, false, "5.0"},
      {"10", false, false, "10"},
      {"+3", false, false, "3"},
      {"007", false, false, "7"},
      {"0x1F", false, false, "31"},
      {"0o17", false, false, "15"},
      {".inf", false, false, "inf"},
      {"-.Inf", false, false, "-inf"},
      {".nan", false, false, "nan"},
      // Booleans and nulls YAML typed.
      {"true", false, false, "true"},
      {"False", false, false, "false"},
      {"null", true, true, "null"},
      {"~", false, false, "null"},
      {"", false, false, "null"},
      // Strings Hydra would read as something else: quoted.
      {"1e-5", true, false, "'1e-5'"},
      {"1.5", true, false, "'1.5'"},
      {"42", true, false, "'42'"},
      {"true", true, false, "'true'"},
      {"null", true, false, "'null'"},
      {"TrUe", false, false, "'TrUe'"},
      {"inf", false, false, "'inf'"},
      {"NaN", true, false, "'NaN'"},
      {"1_000", false, false, "'1_000'"},
      {"2024-01-01", false, false, "'2024-01-01'"},
      {"", true, false, "''"},
      // Plain words stay bare (group choices, names, paths).
      {"adam", false, false, "adam"},
      {"adam", true, false, "adam"},
      {"yes", false, false, "yes"},
      {"resnet-50", false, false, "resnet-50"},
      {"data/imagenet.v2", false, false, "data/imagenet.v2"},
      {"_private", true, false, "_private"},
      // Everything else: a single-quoted Hydra string.
      {"hello world", false, false, "'hello world'"},
      {"it's", true, false, "'it\\'s'"},
      {"C:\\dir\\", true, false, "'C:\\dir\\\\'"},
      {"a\\'b", true, false, "'a\\\\\\'b'"},
      {"a\\\\b", true, false, "'a\\\\b'"},
      {"$(touch x)", true, false, "'$(touch x)'"},
      {"${model.lr}", true, false, "'${model.lr}'"},
      {"a,b", true, false, "'a,b'"},
      {"line\nbreak", true, false, "'line\nbreak'"},
      {"h\xc3\xa9llo", true, false, "'h\xc3\xa9llo'"},
      // Lists come from the parser already in Hydra's syntax.
      {"[1,2,'a b']", false, false, "[1,2,'a b']"},
      {"[1,2]", true, false, "'[1,2]'"},
  };
  for (const Case& c : cases) {
    LaunchSpec::Param p{"k", c.value, c.quoted, c.is_null};
    EXPECT_EQ(hydra_override(p), "k=" + c.expected)
        << "value [" << c.value << "] quoted=" << c.quoted << " null=" << c.is_null;
  }
  EXPECT_EQ(hydra_override({"optimizer.lr", "3e-4", false, false}), "optimizer.lr=3e-4");
}

// ---- The training command ----------------------------------------------------

TEST(TrainingArgv, PythonScriptConfigNameParamsThenOverrides) {
  LaunchSpec spec;
  spec.config_name = "config_small";
  spec.params = {{"optimizer.lr", "1e-4", false, false}, {"experiment_suffix", "run 1", true, false},
                 {"model", "transformer", false, false}};
  spec.overrides = {"+extra=1", "~seed", "data=large"};
  project::ProjectConfig config;
  config.python = "python3";
  config.train_script = "src/train.py";
  EXPECT_EQ(training_argv(spec, config),
            (std::vector<std::string>{"python3", "src/train.py", "--config-name", "config_small",
                                      "optimizer.lr=1e-4", "experiment_suffix='run 1'", "model=transformer",
                                      "+extra=1", "~seed", "data=large"}));
  spec.config_name.clear();
  spec.params.clear();
  spec.overrides.clear();
  EXPECT_EQ(training_argv(spec, config), (std::vector<std::string>{"python3", "src/train.py"}));
}

// ---- Rendering ---------------------------------------------------------------

// Marks the bytes of `script` that are inside a single-quoted ('...') or
// ANSI-C quoted ($'...') word, as bash would read it.
std::vector<bool> quoted_mask(const std::string& s) {
  std::vector<bool> mask(s.size(), false);
  enum { kNormal, kSingle, kAnsi, kDouble, kComment } state = kNormal;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (state) {
      case kNormal:
        if (c == '\\') {
          ++i;
        } else if (c == '$' && i + 1 < s.size() && s[i + 1] == '\'') {
          state = kAnsi;
          ++i;
        } else if (c == '\'') {
          state = kSingle;
        } else if (c == '"') {
          state = kDouble;
        } else if (c == '#' && (i == 0 || std::string(" \t\n;(|&").find(s[i - 1]) != std::string::npos)) {
          state = kComment;
        }
        break;
      case kSingle:
        if (c == '\'') state = kNormal; else mask[i] = true;
        break;
      case kAnsi:
        if (c == '\\') {
          mask[i] = true;
          if (i + 1 < s.size()) mask[++i] = true;
        } else if (c == '\'') {
          state = kNormal;
        } else {
          mask[i] = true;
        }
        break;
      case kDouble:
        if (c == '\\') ++i; else if (c == '"') state = kNormal;
        break;
      case kComment:
        if (c == '\n') state = kNormal;
        break;
    }
  }
  return mask;
}

std::vector<std::string> non_comment_lines(const std::string& script) {
  std::vector<std::string> lines;
  std::istringstream in(script);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] != '#') lines.push_back(line);
  }
  return lines;
}

bool has_line_containing(const std::string& script, const std::string& needle) {
  for (const std::string& line : non_comment_lines(script)) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(SbatchScriptTest, NastyStringsAreDataOnly) {
  auto script = render_script(default_sbatch_template(), nasty_inputs());
  ASSERT_TRUE(script.ok()) << script.error().describe();
  const std::string path = tmp_ + "/script.sh";
  write_file(path, *script);

  Proc syntax = run_process({"bash", "-n", path}, "", {}, tmp_);
  EXPECT_EQ(syntax.exit_code, 0) << syntax.err;

  // Every occurrence of the marker path is inside a quoted word.
  const std::vector<bool> mask = quoted_mask(*script);
  int occurrences = 0;
  for (std::size_t at = script->find(marker_); at != std::string::npos; at = script->find(marker_, at + 1)) {
    ++occurrences;
    EXPECT_TRUE(mask[at]) << "unquoted occurrence at byte " << at << ": "
                          << script->substr(at > 60 ? at - 60 : 0, 120);
  }
  EXPECT_GE(occurrences, 20);
  // Values were not scanned for placeholders again, nor are section markers.
  EXPECT_NE(script->find("{{NOT_A_PLACEHOLDER}}"), std::string::npos);
  // No unreplaced placeholder is left outside the values.
  for (const std::string& line : non_comment_lines(*script)) {
    if (line.find("{{") == std::string::npos) continue;
    std::size_t at = script->find(line);
    ASSERT_NE(at, std::string::npos);
    EXPECT_TRUE(mask[at + line.find("{{")]) << line;
  }
  // #SBATCH lines carry only safe characters.
  std::istringstream lines(*script);
  std::string line;
  int sbatch_lines = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("#SBATCH", 0) != 0) continue;
    ++sbatch_lines;
    EXPECT_EQ(line.find_first_not_of("#SBATCH -=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:%"),
              std::string::npos)
        << line;
  }
  EXPECT_EQ(sbatch_lines, 10);
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(SbatchScriptTest, BashReadsBackEveryValueByteForByte) {
  const ScriptInputs in = nasty_inputs();
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  // The data part of the script: from its first line to the env exports.
  const std::size_t from = script->find("MMCFS_JOB_DIR=");
  const std::size_t to = script->find("# ---- Markers");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  std::string probe = "set -euo pipefail\n" + script->substr(from, to - from) +
                      "printf '%s\\0' \"$MMCFS_JOB_NAME\" \"$MMCFS_DESCRIPTION\" \"$MMCFS_JOB_ID\" "
                      "\"$MMCFS_COMMIT\" \"$MMCFS_JOB_DIR\" \"$MMCFS_MIRROR_DIR\"";
  for (std::size_t i = 0; i < in.spec.env.size(); ++i) probe += " \"$MMCFS_TEST_ENV_" + std::to_string(i) + "\"";
  probe += " \"${mmcfs_args[@]}\"\n";
  write_file(tmp_ + "/probe.sh", probe);
  Proc p = run_process({"bash", tmp_ + "/probe.sh"}, "", {{"HOME", "/home/someone"}}, tmp_);
  ASSERT_EQ(p.exit_code, 0) << p.err;

  std::vector<std::string> expected = {in.spec.name, in.spec.description, in.job_id, in.commit,
                                       "/home/u/mmcfs-jobs/jobs/mmcfs-tok-42",
                                       "/home/u/mmcfs-jobs/repos/example.git"};
  for (const auto& [name, value] : in.spec.env) expected.push_back(value);
  for (const std::string& arg : training_argv(in.spec, in.project_config)) expected.push_back(arg);
  std::vector<std::string> got;
  std::size_t start = 0;
  for (std::size_t nul = p.out.find('\0'); nul != std::string::npos; nul = p.out.find('\0', start)) {
    got.push_back(p.out.substr(start, nul - start));
    start = nul + 1;
  }
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == expected[i]) << i << ": " << got[i];
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(SbatchScriptTest, HomeRelativeWorkspaceResolvesUnderHome) {
  ScriptInputs in = plain_inputs();
  in.workspace = "~/my jobs";
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  EXPECT_NE(script->find("MMCFS_JOB_DIR=\"$HOME\"/'my jobs/jobs/mmcfs-tok-42'\n"), std::string::npos) << *script;
  EXPECT_NE(script->find("MMCFS_MIRROR_DIR=\"$HOME\"/'my jobs/repos/example.git'\n"), std::string::npos);
}

TEST_F(SbatchScriptTest, SbatchLinesForEveryResource) {
  auto script = render_script(default_sbatch_template(), plain_inputs());
  ASSERT_TRUE(script.ok()) << script.error().describe();
  for (const char* line :
       {"#SBATCH --job-name=00042-lr-sweep\n", "#SBATCH --partition=general\n", "#SBATCH --nodes=1\n",
        "#SBATCH --ntasks-per-node=1\n", "#SBATCH --gres=gpu:a100:1\n", "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --mem=500M\n", "#SBATCH --time=00:10:00\n", "#SBATCH --output=slurm-%j.out\n",
        "#SBATCH --comment=mmcfs-tok-42\n"}) {
    EXPECT_NE(script->find(line), std::string::npos) << line;
  }
  EXPECT_EQ(script->find("{{"), script->find("{{#NAME}}"));  // only the documentation mentions braces
  EXPECT_NE(script->find(">>> env_setup"), std::string::npos);
  EXPECT_NE(script->find("\necho setting up\n"), std::string::npos);
  EXPECT_NE(script->find("export MMCFS_COMMIT=" + kCommit + "\n"), std::string::npos);
}

TEST_F(SbatchScriptTest, NoGresWithoutGpus) {
  ScriptInputs in = plain_inputs();
  in.spec.gpus_per_node = 0;
  in.spec.gpu_type.clear();
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  EXPECT_EQ(script->find("--gres"), std::string::npos);
  EXPECT_NE(script->find("export MMCFS_GPUS_PER_NODE=0\n"), std::string::npos);
}

TEST_F(SbatchScriptTest, SlurmJobNameIsSafeAndShort) {
  ScriptInputs in = plain_inputs();
  in.job_id = "00043";
  in.spec.name = "Ünïcode & $(rm -rf ~) name; with `stuff` and a very long tail that goes on and on and on";
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  std::size_t at = script->find("#SBATCH --job-name=");
  ASSERT_NE(at, std::string::npos);
  std::string name = script->substr(at + 19, script->find('\n', at) - at - 19);
  EXPECT_LE(name.size(), 64u) << name;
  EXPECT_EQ(name.rfind("00043-", 0), 0u) << name;
  EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"),
            std::string::npos)
      << name;
}

TEST_F(SbatchScriptTest, MultiNodeLinesOnlyForMoreThanOneNode) {
  const std::vector<std::string> multi_node_markers = {"srun ", "MASTER_ADDR=", "MASTER_PORT=", "WORLD_SIZE=",
                                                       "NODE_RANK=", "scontrol show hostnames"};
  ScriptInputs in = plain_inputs();
  auto single = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(single.ok()) << single.error().describe();
  for (const std::string& m : multi_node_markers) EXPECT_FALSE(has_line_containing(*single, m)) << m;
  EXPECT_NE(single->find("\n\"${mmcfs_args[@]}\"\n"), std::string::npos);

  in.spec.num_nodes = 2;
  auto multi = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(multi.ok()) << multi.error().describe();
  for (const std::string& m : multi_node_markers) EXPECT_TRUE(has_line_containing(*multi, m)) << m;
  EXPECT_NE(multi->find("#SBATCH --nodes=2\n"), std::string::npos);
  EXPECT_NE(multi->find("MASTER_PORT=$(( 10000 + SLURM_JOB_ID % 50000 ))"), std::string::npos);
  EXPECT_EQ(multi->find("\n\"${mmcfs_args[@]}\"\n"), std::string::npos);  // launched by srun instead
  write_file(tmp_ + "/multi.sh", *multi);
  Proc syntax = run_process({"bash", "-n", tmp_ + "/multi.sh"}, "", {}, tmp_);
  EXPECT_EQ(syntax.exit_code, 0) << syntax.err;
}

TEST_F(SbatchScriptTest, UnknownPlaceholdersAndSectionsAreErrors) {
  const ScriptInputs in = plain_inputs();
  auto unknown = render_script("#!/bin/bash\necho {{JOB_ID}} {{JOB_IDD}}\necho {{NOPE}}\n", in);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("{{JOB_IDD}} (line 2)"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("{{NOPE}} (line 3)"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("JOB_ID"), std::string::npos);

  auto section = render_script("{{#FANCY}}\nx\n{{/FANCY}}\n", in);
  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.error().message.find("unknown section FANCY"), std::string::npos) << section.error().message;
  auto unclosed = render_script("{{#GPUS}}\nx\n", in);
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.error().message.find("never closed"), std::string::npos) << unclosed.error().message;
  auto stray = render_script("x\n{{/GPUS}}\n", in);
  ASSERT_FALSE(stray.ok());

  // Not placeholders: other brace uses pass through untouched.
  auto other = render_script("echo ${{x}} {{ lower }} {{lower}} {{#GPUS}} inline\n", in);
  ASSERT_TRUE(other.ok()) << other.error().describe();
  EXPECT_EQ(*other, "echo ${{x}} {{ lower }} {{lower}} {{#GPUS}} inline\n");
}

TEST_F(SbatchScriptTest, SectionsKeepOrDropTheirLines) {
  ScriptInputs in = plain_inputs();
  const std::string tmpl = "a\n  {{#GPUS}}\ngpu {{SBATCH_GRES}}\n{{/GPUS}}\n{{^GPUS}}\nno gpu\n{{/GPUS}}\nz";
  auto with = render_script(tmpl, in);
  ASSERT_TRUE(with.ok()) << with.error().describe();
  EXPECT_EQ(*with, "a\ngpu gpu:a100:1\nz");
  in.spec.gpus_per_node = 0;
  auto without = render_script(tmpl, in);
  ASSERT_TRUE(without.ok()) << without.error().describe();
  EXPECT_EQ(*without, "a\nno gpu\nz");
}

TEST_F(SbatchScriptTest, UnsafeSbatchValuesAreRefused) {
  using Mutate = void (*)(ScriptInputs&);
  const std::vector<std::pair<std::string, Mutate>> cases = {
      {"partition", [](ScriptInputs& in) { in.spec.partition = "gen eral"; }},
      {"partition", [](ScriptInputs& in) { in.spec.partition = "gpu\n#SBATCH --uid=0"; }},
      {"gpu_type", [](ScriptInputs& in) { in.spec.gpu_type = "a100:1 --x"; }},
      {"memory", [](ScriptInputs& in) { in.spec.memory = "64G;"; }},
      {"time_limit", [](ScriptInputs& in) { in.spec.time_limit = "1:2:3:4"; }},
      {"time_limit", [](ScriptInputs& in) { in.spec.time_limit = "$(x)"; }},
      {"job token", [](ScriptInputs& in) { in.job_token = "../../etc"; }},
      {"commit", [](ScriptInputs& in) { in.commit = "HEAD"; }},
      {"env name", [](ScriptInputs& in) { in.spec.env = {{"A B", "x"}}; }},
      {"NUL", [](ScriptInputs& in) { in.spec.description = std::string("a\0b", 3); }},
      {"num_nodes", [](ScriptInputs& in) { in.spec.num_nodes = 0; }},
      {"remote URL", [](ScriptInputs& in) { in.repo_url.clear(); }},
  };
  for (const auto& [what, mutate] : cases) {
    ScriptInputs in = plain_inputs();
    mutate(in);
    auto r = render_script(default_sbatch_template(), in);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
    EXPECT_NE(r.error().message.find(what), std::string::npos) << what << ": " << r.error().message;
  }
  ScriptInputs fine = plain_inputs();
  fine.spec.memory = "64g";
  fine.spec.time_limit = "7-00:00:00";
  auto r = render_script(default_sbatch_template(), fine);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_NE(r->find("#SBATCH --mem=64G\n"), std::string::npos);
  EXPECT_NE(r->find("#SBATCH --time=7-00:00:00\n"), std::string::npos);
}

// ---- The whole script, run locally (no SLURM) --------------------------------

// Runs the rendered script with bash as SLURM would, minus SLURM: a local git
// repository as the remote, a fake conda, HOME in the test's directory.
class LocalRunTest : public SbatchScriptTest {
 protected:
  void SetUp() override {
    SbatchScriptTest::SetUp();
    repo_ = tmp_ + "/repo";
    fs::create_directories(repo_);
    write_file(repo_ + "/train.py",
               "import os, sys, time\n"
               "print('CONDA_SEEN=' + os.environ.get('FAKE_CONDA_ACTIVE', '<none>'))\n"
               "print('ARGS=' + repr(sys.argv[1:]))\n"
               "args = dict(a.split('=', 1) for a in sys.argv[1:] if '=' in a)\n"
               "time.sleep(float(args.get('sleep', 0)))\n"
               "sys.exit(int(args.get('exit_code', 0)))\n");
    const std::string git = "git -c user.name=t -c user.email=t@t.invalid -c init.defaultBranch=main -C " + shell_quote(repo_);
    ASSERT_EQ(std::system((git + " init -q && " + git + " add -A && " + git + " commit -q -m init").c_str()), 0);
    FILE* pipe = popen((git + " rev-parse HEAD").c_str(), "r");
    char sha[64] = {};
    ASSERT_NE(std::fgets(sha, sizeof sha, pipe), nullptr);
    pclose(pipe);
    commit_ = std::string(sha, 40);
    // A fake conda: `conda info --base`, and a conda.sh whose `conda activate` marks the env.
    fs::create_directories(tmp_ + "/conda/bin");
    fs::create_directories(tmp_ + "/conda/etc/profile.d");
    write_file(tmp_ + "/conda/bin/conda", "#!/bin/sh\n[ \"$1 $2\" = 'info --base' ] && echo " + shell_quote(tmp_ + "/conda") + "\n");
    chmod((tmp_ + "/conda/bin/conda").c_str(), 0755);
    write_file(tmp_ + "/conda/etc/profile.d/conda.sh",
               "conda() { [ \"$1\" = activate ] && export FAKE_CONDA_ACTIVE=\"$2\"; }\n");
    fs::create_directories(tmp_ + "/home");
  }

  ScriptInputs local_inputs() {
    ScriptInputs in = plain_inputs();
    in.repo_url = repo_;
    in.commit = commit_;
    in.workspace = tmp_ + "/ws";
    in.project_config.conda_env = "my env";
    return in;
  }

  // Renders, submits as sbatch would (the job directory exists), runs.
  Proc run_job(const ScriptInputs& in, bool with_conda = true) {
    auto script = render_script(default_sbatch_template(), in);
    EXPECT_TRUE(script.ok()) << script.error().describe();
    const std::string dir = job_dir(in.workspace, in.job_token);
    fs::create_directories(dir);
    write_file(dir + "/script.sh", script.ok() ? *script : "");
    const std::string path = (with_conda ? tmp_ + "/conda/bin:" : std::string()) + "/usr/bin:/bin";
    return run_process({"bash", dir + "/script.sh"}, "", {{"PATH", path}, {"HOME", tmp_ + "/home"}}, tmp_);
  }

  std::string job_file(const ScriptInputs& in, const std::string& name) {
    return read_file(job_dir(in.workspace, in.job_token) + "/" + name);
  }

  std::string repo_;
  std::string commit_;
};

TEST_F(LocalRunTest, RunsTheCommandAtTheCommitInTheCondaEnv) {
  ScriptInputs in = local_inputs();
  in.spec.params = {{"it's", "a b", true, false}};
  Proc p = run_job(in);
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "0\n");
  EXPECT_NE(job_file(in, "started").find("started_at="), std::string::npos);
  EXPECT_NE(p.out.find("setting up\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("CONDA_SEEN=my env\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("ARGS=[\"it's='a b'\"]\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("Executing: python3 train.py it\\'s=\\'a\\ b\\' \n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("Commit: " + commit_ + "\n"), std::string::npos);
  EXPECT_TRUE(fs::exists(tmp_ + "/ws/repos/example.git/HEAD"));  // the mirror
  EXPECT_TRUE(fs::exists(job_dir(in.workspace, in.job_token) + "/code/train.py"));

  // A second job reuses the mirror (no new clone) and records its own status.
  ScriptInputs second = local_inputs();
  second.job_token = "second";
  second.spec.params = {{"exit_code", "3", false, false}};
  fs::remove_all(in.repo_url + "/.git/refs");  // the remote is no longer needed: the mirror has the commit
  Proc q = run_job(second);
  EXPECT_EQ(q.exit_code, 3) << q.err;
  EXPECT_EQ(job_file(second, "exit_status"), "3\n");
}

TEST_F(LocalRunTest, MissingCondaIsAClearErrorWithExitStatus) {
  ScriptInputs in = local_inputs();
  Proc p = run_job(in, /*with_conda=*/false);
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("conda_env is 'my env' in .mlops-config.yaml, but conda was not found"), std::string::npos)
      << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "1\n");
}

TEST_F(LocalRunTest, UnknownCommitIsAClearError) {
  ScriptInputs in = local_inputs();
  in.commit = std::string(40, 'f');
  Proc p = run_job(in);
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("is not in " + repo_ + " (was it pushed?)"), std::string::npos) << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "1\n");
}

TEST_F(LocalRunTest, TerminationStillWritesTheExitStatus) {
  ScriptInputs in = local_inputs();
  in.spec.params = {{"sleep", "30", false, false}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok());
  const std::string dir = job_dir(in.workspace, in.job_token);
  fs::create_directories(dir);
  write_file(dir + "/script.sh", *script);
  // scancel signals the whole job: the batch shell and the training process.
  const std::string command = "PATH=" + shell_quote(tmp_ + "/conda/bin:/usr/bin:/bin") + " HOME=" +
                              shell_quote(tmp_ + "/home") + " setsid bash " + shell_quote(dir + "/script.sh") +
                              " >/dev/null 2>&1 & pid=$!; for i in $(seq 100); do [ -e " +
                              shell_quote(dir + "/code/train.py") + " ] && break; sleep 0.1; done; sleep 1; "
                              "kill -TERM -- -$pid; wait $pid; echo $?";
  Proc p = run_process({"bash", "-c", command}, "", {}, tmp_);
  EXPECT_EQ(p.out, "143\n") << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "143\n");
}

// ---- The submit command, against a fake sbatch --------------------------------

class SubmitTest : public SbatchScriptTest {
 protected:
  void SetUp() override {
    SbatchScriptTest::SetUp();
    home_ = tmp_ + "/home";
    fs::create_directories(home_);
    fs::create_directories(tmp_ + "/bin");
    write_file(tmp_ + "/bin/sbatch",
               "#!/bin/sh\n"
               "printf '%s|%s\\n' \"$PWD\" \"$*\" >> \"$FAKE_SBATCH_LOG\"\n"
               "if [ -e \"$FAKE_SBATCH_FAIL\" ]; then echo 'sbatch: error: invalid partition' >&2; exit 1; fi\n"
               "echo 4242\n");
    chmod((tmp_ + "/bin/sbatch").c_str(), 0755);
  }

  Proc submit(const std::string& workspace, const std::string& token, const std::string& script) {
    return run_process(submit_argv(workspace, token), script,
                       {{"HOME", home_},
                        {"PATH", tmp_ + "/bin:/usr/bin:/bin"},
                        {"FAKE_SBATCH_LOG", tmp_ + "/sbatch.log"},
                        {"FAKE_SBATCH_FAIL", tmp_ + "/fail"}},
                       tmp_);
  }
  int sbatch_calls() {
    std::string log = read_file(tmp_ + "/sbatch.log");
    return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
  }

  std::string home_;
};

TEST_F(SubmitTest, SubmitsOnceAndAnswersTheSameIdAfterwards) {
  const std::string workspace = "~/ws $(touch " + marker_ + ") `x` it's";
  Proc first = submit(workspace, "tok-1", "#!/bin/bash\necho first\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "4242\n");
  const std::string dir = home_ + "/ws $(touch " + marker_ + ") `x` it's/jobs/tok-1";
  EXPECT_EQ(read_file(dir + "/script.sh"), "#!/bin/bash\necho first\n");
  EXPECT_EQ(read_file(dir + "/slurm_job_id"), "4242\n");
  EXPECT_EQ(read_file(tmp_ + "/sbatch.log"), dir + "|--parsable script.sh\n");

  Proc again = submit(workspace, "tok-1", "#!/bin/bash\necho second\n");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "4242\n");
  EXPECT_EQ(sbatch_calls(), 1);
  EXPECT_EQ(read_file(dir + "/script.sh"), "#!/bin/bash\necho first\n");  // the submitted one stays
  EXPECT_FALSE(fs::exists(dir + "/script.sh.tmp"));
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(SubmitTest, AbsoluteWorkspace) {
  const std::string workspace = tmp_ + "/abs ws";
  Proc p = submit(workspace, "tok-2", "x\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(read_file(workspace + "/jobs/tok-2/script.sh"), "x\n");
}

TEST_F(SubmitTest, RefusedSubmissionLeavesNoIdAndCanBeRetried) {
  write_file(tmp_ + "/fail", "");
  Proc refused = submit("~/ws", "tok-3", "x\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("invalid partition"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_FALSE(fs::exists(home_ + "/ws/jobs/tok-3/slurm_job_id"));
  EXPECT_FALSE(fs::exists(home_ + "/ws/jobs/tok-3/slurm_job_id.tmp"));
  fs::remove(tmp_ + "/fail");
  Proc retried = submit("~/ws", "tok-3", "x\n");
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_EQ(retried.out, "4242\n");
  EXPECT_EQ(sbatch_calls(), 2);
}

TEST_F(SubmitTest, AnIdLeftInTheTemporaryFileIsTheJob) {
  // sbatch succeeded, then the connection died before the rename.
  fs::create_directories(home_ + "/ws/jobs/tok-4");
  write_file(home_ + "/ws/jobs/tok-4/slurm_job_id.tmp", "777\n");
  Proc p = submit("~/ws", "tok-4", "x\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "777\n");
  EXPECT_EQ(sbatch_calls(), 0);
}

TEST(SubmitArgv, TheJobDirectoryIsAnArgumentNotScriptText) {
  auto argv = submit_argv("~/w", "tok");
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[0], "sh");
  EXPECT_EQ(argv[1], "-c");
  EXPECT_EQ(argv[2].find("tok"), std::string::npos);
  EXPECT_EQ(argv[3], "sh");
  EXPECT_EQ(argv[4], "~/w/jobs/tok");
  EXPECT_EQ(submit_argv("/other", "t2")[2], argv[2]);  // the same fixed text for every job
}

}  // namespace
}  // namespace mmcfs::launch
