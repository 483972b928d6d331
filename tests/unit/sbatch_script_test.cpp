// sbatch_script_test.cpp — the batch script and the training command line,
// checked without a cluster: rendered scripts go through `bash -n` and a
// lexer that proves every dangerous string sits inside a quoted word; the
// data part of a script is evaluated by a real bash to prove the values come
// back byte for byte. (sbatch_script_run_test.cpp runs whole scripts and the
// submit command locally; tests/integration/sbatch_script_test.cpp runs them
// on real SLURM.)
//
// Thread rules: tests run sequentially; child processes only.
#include "unit/sbatch_test_support.h"

namespace mmcfs::launch {
namespace {

using namespace mmcfs::launch::testing;
namespace fs = std::filesystem;

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
      {"${model.lr}", true, false, "'\\${model.lr}'"},
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


}  // namespace
}  // namespace mmcfs::launch
