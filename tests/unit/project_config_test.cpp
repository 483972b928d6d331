// project_config_test.cpp — .mlops-config.yaml: the missing file, a full
// file, every kind of error with its exact line:column, all problems reported
// together, and render_project_config round-tripping through the loader.
//
// Each test writes into its own temporary "repository" directory (no git
// needed: the loader only reads <repo>/.mlops-config.yaml).
//
// Thread rules: single-threaded tests.
#include "project/project_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace mmcfs::project {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ProjectConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    repo_ = fs::temp_directory_path() / ("mmcfs-project-config-test-" + std::to_string(random()));
    fs::create_directories(repo_);
    path_ = (repo_ / ".mlops-config.yaml").string();
  }

  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(repo_, ignored);
  }

  Result<ProjectConfig> load(const std::string& text) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    return load_project_config(repo_.string());
  }

  // The error message of loading `text`; fails the test if it loads.
  std::string error_of(const std::string& text) {
    Result<ProjectConfig> config = load(text);
    if (config.ok()) {
      ADD_FAILURE() << "loaded without error:\n" << text;
      return "";
    }
    EXPECT_EQ(config.error().code, Errc::kInvalidArgument);
    return config.error().message;
  }

  // "path:line:column: " for expectations.
  std::string at(int line, int column) const {
    return path_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }

  fs::path repo_;
  std::string path_;
};

void expect_defaults(const ProjectConfig& config) {
  EXPECT_EQ(config.conda_env, "");
  EXPECT_EQ(config.train_script, "train.py");
  EXPECT_EQ(config.python, "python3");
  EXPECT_THAT(config.env_setup, IsEmpty());
  EXPECT_EQ(config.hydra_config_dir, "conf");
}

// -- loading ------------------------------------------------------------------------

TEST_F(ProjectConfigTest, MissingFileGivesDefaults) {
  Result<ProjectConfig> config = load_project_config(repo_.string());
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_FALSE(config->from_file);
  expect_defaults(*config);
}

TEST_F(ProjectConfigTest, CommentsOnlyFileGivesDefaultsFromFile) {
  Result<ProjectConfig> config = load("# nothing set yet\n");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_TRUE(config->from_file);
  expect_defaults(*config);
}

TEST_F(ProjectConfigTest, FullFile) {
  Result<ProjectConfig> config = load(R"(# our project
conda_env: "pytorch"
train_script: "scripts/train.py"
python: /opt/conda/envs/pytorch/bin/python
env_setup:
  - "module load cuda/12.1"
  - source ~/.bashrc && export WANDB_MODE=offline
hydra_config_dir: configs/hydra
)");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_TRUE(config->from_file);
  EXPECT_EQ(config->conda_env, "pytorch");
  EXPECT_EQ(config->train_script, "scripts/train.py");
  EXPECT_EQ(config->python, "/opt/conda/envs/pytorch/bin/python");
  EXPECT_THAT(config->env_setup, ElementsAre("module load cuda/12.1",
                                             "source ~/.bashrc && export WANDB_MODE=offline"));
  EXPECT_EQ(config->hydra_config_dir, "configs/hydra");
}

TEST_F(ProjectConfigTest, PartialFileKeepsOtherDefaults) {
  Result<ProjectConfig> config = load("conda_env: ml\nenv_setup:\n");  // alone: no lines
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->conda_env, "ml");
  EXPECT_EQ(config->train_script, "train.py");
  EXPECT_THAT(config->env_setup, IsEmpty());
}

TEST_F(ProjectConfigTest, EmptyCondaEnvMeansNone) {
  Result<ProjectConfig> config = load("conda_env: \"\"\n");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->conda_env, "");
}

TEST_F(ProjectConfigTest, CondaEnvMayBeAnAbsolutePrefix) {
  Result<ProjectConfig> config = load("conda_env: /scratch/me/envs/ml\n");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->conda_env, "/scratch/me/envs/ml");
}

// -- errors, each at its line:column ---------------------------------------------------

TEST_F(ProjectConfigTest, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(error_of("conda_env: ml\ntrain_scrpt: train.py\n"),
            at(2, 1) + "unknown key 'train_scrpt' — did you mean 'train_script'?");
}

TEST_F(ProjectConfigTest, UnknownKeyListsValidKeys) {
  EXPECT_EQ(error_of("gpus: 4\n"),
            at(1, 1) +
                "unknown key 'gpus' — valid keys are: conda_env, train_script, python, "
                "env_setup, hydra_config_dir");
}

TEST_F(ProjectConfigTest, DuplicateKey) {
  EXPECT_EQ(error_of("python: python3\nconda_env: a\npython: python3.11\n"),
            at(3, 1) + "key 'python' appears twice (first on line 1) — remove one of them");
}

TEST_F(ProjectConfigTest, WrongTypes) {
  EXPECT_EQ(error_of("conda_env: [a, b]\n"),
            at(1, 12) +
                "'conda_env' should be a string, not a list — write it like "
                "`conda_env: \"pytorch\"`");
  EXPECT_EQ(error_of("python:\n  path: /usr/bin/python3\n"),
            at(2, 3) +
                "'python' should be a string, not a map — write it like "
                "`python: \"python3\"`");
  EXPECT_EQ(error_of("env_setup: module load cuda\n"),
            at(1, 12) +
                "'env_setup' should be a list of shell lines, not 'module load cuda' — "
                "write each line as a list item: `env_setup:` then `  - \"module load "
                "cuda/12.1\"` on the next line");
}

TEST_F(ProjectConfigTest, KeyWithoutValue) {
  EXPECT_EQ(error_of("conda_env: ml\ntrain_script:\n"),
            at(2, 1) +
                "'train_script' has no value — write it like "
                "`train_script: \"scripts/train.py\"`, or remove the line to use the "
                "default");
}

TEST_F(ProjectConfigTest, TrainScriptMustStayInsideTheRepository) {
  EXPECT_THAT(error_of("train_script: /home/me/train.py\n"),
              HasSubstr(at(1, 15) + "train_script '/home/me/train.py' is not relative to the "
                                    "repository"));
  EXPECT_THAT(error_of("train_script: ../other/train.py\n"),
              HasSubstr(at(1, 15) + "train_script '../other/train.py' leaves the repository "
                                    "through '..'"));
  EXPECT_THAT(error_of("train_script: scripts/../../x.py\n"), HasSubstr("leaves the repository"));
  EXPECT_THAT(error_of("train_script: \"\"\n"), HasSubstr(at(1, 15) + "'train_script' is empty"));
  Result<ProjectConfig> dots = load("train_script: scripts/..train.py\n");  // not a '..' part
  EXPECT_TRUE(dots.ok());
}

TEST_F(ProjectConfigTest, HydraConfigDirMustBeRelative) {
  EXPECT_THAT(error_of("\nhydra_config_dir: /etc/conf\n"),
              HasSubstr(at(2, 19) + "hydra_config_dir '/etc/conf' is not relative"));
  EXPECT_THAT(error_of("hydra_config_dir: ~/conf\n"), HasSubstr("is not relative"));
}

TEST_F(ProjectConfigTest, PythonIsANameOrAnAbsolutePath) {
  EXPECT_THAT(error_of("python: venv/bin/python\n"),
              HasSubstr(at(1, 9) + "python 'venv/bin/python' is a relative path"));
  EXPECT_THAT(error_of("python: python -u\n"),
              HasSubstr(at(1, 9) + "python 'python -u' is not a single interpreter"));
}

TEST_F(ProjectConfigTest, CondaEnvName) {
  EXPECT_THAT(error_of("conda_env: my env\n"),
              HasSubstr(at(1, 12) + "conda_env 'my env' is not a conda environment name"));
  EXPECT_THAT(error_of("conda_env: envs/ml\n"), HasSubstr("is not a conda environment name"));
  EXPECT_THAT(error_of("conda_env: \"a\\nb\"\n"), HasSubstr("contains a control character"));
}

TEST_F(ProjectConfigTest, EnvSetupItems) {
  const std::string message = error_of(R"(env_setup:
  - module load cuda/12.1
  - echo step: 1
  -
  - [a, b]
  - "two\nlines"
)");
  EXPECT_EQ(message,
            at(3, 5) +
                "item #2 of 'env_setup' is a map, not a shell line — YAML reads `word: "
                "value` as a map; put the whole line in quotes, e.g. `- \"echo step: 1\"`\n" +
                at(4, 3) +
                "item #3 of 'env_setup' should be a shell line, not nothing — write a "
                "command such as `- \"module load cuda/12.1\"`, or remove the item\n" +
                at(5, 5) +
                "item #4 of 'env_setup' should be a shell line, not a list — write a "
                "command such as `- \"module load cuda/12.1\"`, or remove the item\n" +
                at(6, 5) +
                "item #5 of 'env_setup' spans several lines — give each command its "
                "own list item");
}

TEST_F(ProjectConfigTest, EveryProblemIsReportedInOrder) {
  const std::string message = error_of(R"(python: venv/python
conda_env: [x]
train_scirpt: a.py
hydra_config_dir: ../conf
)");
  const std::vector<std::string> expected_starts = {at(1, 9), at(2, 12), at(3, 1), at(4, 19)};
  std::size_t from = 0;
  for (const std::string& start : expected_starts) {
    const std::size_t found = message.find(start, from);
    ASSERT_NE(found, std::string::npos) << start << " in\n" << message;
    from = found + start.size();
  }
  EXPECT_THAT(message, HasSubstr("did you mean 'train_script'?"));
}

TEST_F(ProjectConfigTest, SyntaxErrorHasAPosition) {
  EXPECT_THAT(error_of("conda_env: ml\ntrain_script: [a\n"),
              HasSubstr(path_ + ":3:1: YAML syntax error"));
  EXPECT_THAT(error_of("env_setup:\n\t- module load x\n"),
              HasSubstr("indent with spaces: YAML does not allow tabs for indentation"));
}

TEST_F(ProjectConfigTest, TopLevelMustBeAMap) {
  EXPECT_THAT(error_of("- conda_env: ml\n"),
              HasSubstr(at(1, 1) + "the top level is a list, not a map"));
  EXPECT_THAT(error_of("just some words\n"), HasSubstr("the top level is 'just some words'"));
}

TEST_F(ProjectConfigTest, DirectoryInsteadOfFile) {
  fs::create_directories(path_);
  Result<ProjectConfig> config = load_project_config(repo_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::kInvalidArgument);
  EXPECT_THAT(config.error().message, HasSubstr("is not a regular file"));
}

#ifdef MMCFS_TEST_DATA_DIR
TEST_F(ProjectConfigTest, ShippedExampleLoads) {
  // tests/data -> repository root, lexically (tests/data may not exist in a clone).
  const fs::path root = fs::path(MMCFS_TEST_DATA_DIR).parent_path().parent_path();
  fs::copy_file(root / "config" / "mlops-config.yaml.example", path_);
  Result<ProjectConfig> config = load_project_config(repo_.string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->conda_env, "pytorch");
  EXPECT_THAT(config->env_setup, ElementsAre("module load cuda/12.1", "export WANDB_MODE=offline"));
}
#endif

// -- rendering -------------------------------------------------------------------------

TEST_F(ProjectConfigTest, RenderSaysWhereValuesCameFrom) {
  ProjectConfig defaults;
  const std::string from_defaults = render_project_config(defaults);
  EXPECT_THAT(from_defaults, HasSubstr("Source: none"));
  EXPECT_THAT(from_defaults, HasSubstr("every value below\n# is a default"));
  ProjectConfig from_file;
  from_file.from_file = true;
  const std::string rendered = render_project_config(from_file);
  EXPECT_THAT(rendered, HasSubstr("Source: .mlops-config.yaml"));
  EXPECT_THAT(rendered, Not(HasSubstr("Source: none")));
  for (const char* key : {"conda_env: \"\"", "train_script: \"train.py\"", "python: \"python3\"",
                          "env_setup: []", "hydra_config_dir: \"conf\"", "project's own code"}) {
    EXPECT_THAT(rendered, HasSubstr(key));
  }
}

TEST_F(ProjectConfigTest, RenderedDefaultsLoadBack) {
  Result<ProjectConfig> loaded = load(render_project_config(ProjectConfig{}));
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_TRUE(loaded->from_file);
  expect_defaults(*loaded);
}

TEST_F(ProjectConfigTest, RenderedFullConfigLoadsBack) {
  ProjectConfig config;
  config.from_file = true;
  config.conda_env = "torch-2.1";
  config.train_script = "src/my project/train #1.py";
  config.python = "/opt/py/bin/python3";
  config.env_setup = {"module load cuda/12.1",
                      "echo \"step: 1\" \\ # not a comment",
                      "export A='x y'; [ -n \"$A\" ] && echo ok",
                      "\tindented: with tab",
                      "- dash",
                      "ünïcode ✓"};
  config.hydra_config_dir = "configs/hydra";
  const std::string rendered = render_project_config(config);
  Result<ProjectConfig> loaded = load(rendered);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe() << "\n" << rendered;
  EXPECT_TRUE(loaded->from_file);
  EXPECT_EQ(loaded->conda_env, config.conda_env);
  EXPECT_EQ(loaded->train_script, config.train_script);
  EXPECT_EQ(loaded->python, config.python);
  EXPECT_EQ(loaded->env_setup, config.env_setup);
  EXPECT_EQ(loaded->hydra_config_dir, config.hydra_config_dir);
  EXPECT_EQ(render_project_config(*loaded), rendered);
}

}  // namespace
}  // namespace mmcfs::project
