// launch_hydra_check_test.cpp — a launch checked against a Hydra conf
// directory (launch_hydra_check.h): config_name, groups, params keys and
// types, experiment_suffix, and the final command line; on the example
// project's real conf/ and on in-memory fixtures.
//
// Thread rules: single-threaded tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hydra/conf_source.h"
#include "launch/launch_spec.h"
#include "launch/sbatch_script.h"

namespace mmcfs::launch {
namespace {

using ::testing::HasSubstr;

const std::vector<config::ClusterConfig> kClusters = [] {
  config::ClusterConfig c;
  c.name = "alpha";
  c.allowed_partitions = {"general"};
  return std::vector<config::ClusterConfig>{c};
}();

const hydra::DiskConfSource& example_conf() {
  static const hydra::DiskConfSource conf(std::string(MMCFS_TEST_DATA_DIR) + "/../../examples/project/conf", "conf");
  return conf;
}

Result<LaunchSpec> parse(const std::string& text, const hydra::ConfSource& conf = example_conf(),
                         std::optional<LaunchSpec> last = std::nullopt) {
  ParseContext ctx{"new/l.yaml", &kClusters, LaunchDefaults{std::move(last), {}}};
  ctx.hydra_conf = &conf;
  return parse_launch(text, ctx);
}

std::vector<std::string> argv_of(const LaunchSpec& spec) {
  project::ProjectConfig config;
  std::vector<std::string> argv = training_argv(spec, config);
  return std::vector<std::string>(argv.begin() + 2, argv.end());  // without python3 train.py
}

std::string error_of(const std::string& text, const hydra::ConfSource& conf = example_conf()) {
  auto spec = parse(text, conf);
  EXPECT_FALSE(spec.ok()) << text;
  return spec.ok() ? "" : spec.error().message;
}

TEST(LaunchHydraCheck, GroupsOnlyWhereTheyDifferParamsTypedOverridesLast) {
  auto spec = parse(
      "description: use eos as mask token, but try lower LR\n"
      "groups: {model: transformer, data: small}\n"
      "params:\n  optimizer.lr: 1e-5\n  model.num_layers: 4\n  notes: \"a,b=c 'q' \\\"dq\\\" [x] $y \\\\z\"\n"
      "overrides: [\"optimizer.lr=2e-5\", \"+extra=1\"]\n");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(argv_of(*spec), (std::vector<std::string>{
                                "model=transformer", "optimizer.lr=1e-5", "model.num_layers=4",
                                "notes='a,b=c \\'q\\' \"dq\" [x] $y \\z'",
                                "experiment_suffix='use eos as mask token, but try lower LR'",
                                "optimizer.lr=2e-5", "+extra=1"}));
}

TEST(LaunchHydraCheck, ConfigNameMustExistAndSwitchesTheSchema) {
  EXPECT_EQ(error_of("config_name: config_smal\n"),
            "new/l.yaml:1:14: config_name 'config_smal' is not a primary config of the project (conf/config_smal.yaml "
            "does not exist) — did you mean 'config_small'? primary configs: config, config_small");
  EXPECT_EQ(error_of("config_name: config_big\n"),
            "new/l.yaml:1:14: config_name 'config_big' is not a primary config of the project (conf/config_big.yaml "
            "does not exist) — primary configs: config, config_small");
  // optimizer.momentum exists with sgd (config_small), not with adam (config).
  EXPECT_TRUE(parse("config_name: config_small\nparams: {optimizer.momentum: 0.5}\n").ok());
  EXPECT_THAT(error_of("params: {optimizer.momentum: 0.5}\n"),
              HasSubstr("new/l.yaml:1:10: params key 'optimizer.momentum' is not in config 'config'"));
  // ...and with optimizer=sgd chosen as a group it exists again.
  auto sgd = parse("groups: {optimizer: sgd}\nparams: {optimizer.momentum: 0.5}\n");
  ASSERT_TRUE(sgd.ok()) << sgd.error().message;
  EXPECT_EQ(argv_of(*sgd), (std::vector<std::string>{"optimizer=sgd", "optimizer.momentum=0.5"}));
}

TEST(LaunchHydraCheck, UnknownKeysNameTheClosestAndHowToAdd) {
  EXPECT_EQ(error_of("params:\n  optimizer.learning_rate: 1e-4\n  optimzer.lr: 1\n"),
            "new/l.yaml:2:3: params key 'optimizer.learning_rate' is not in config 'config' — keys under "
            "'optimizer': optimizer.name, optimizer.lr, optimizer.betas, optimizer.weight_decay. Hydra refuses keys that are not in the config; to add a new one, write "
            "`overrides: [\"+optimizer.learning_rate=...\"]` (see projects/<p>/hydra/params)\n"
            "new/l.yaml:3:3: params key 'optimzer.lr' is not in config 'config' — did you mean optimizer.lr? "
            "Hydra refuses keys that are not in the config; to add a new one, write `overrides: "
            "[\"+optimzer.lr=...\"]` (see projects/<p>/hydra/params)");
  EXPECT_THAT(error_of("params: {train: 1}\n"),
              HasSubstr("new/l.yaml:1:10: params 'train' is a map in config 'config' — set its keys one by one, "
                        "e.g. `train.epochs`"));
}

TEST(LaunchHydraCheck, GroupOptionsAreChecked) {
  EXPECT_EQ(error_of("groups:\n  model: transfromer\n  optimiser: sgd\n"),
            "new/l.yaml:2:10: group 'model' has no option 'transfromer' — did you mean 'transformer'? options: mlp, "
            "transformer (default: mlp)\n"
            "new/l.yaml:3:14: there is no group 'optimiser' in conf/ — did you mean 'optimizer'? groups: data, model, "
            "optimizer");
  // A params key naming a group is a group choice, checked the same way.
  EXPECT_THAT(error_of("params: {model: cnn}\n"), HasSubstr("new/l.yaml:1:10: group 'model' has no option 'cnn'"));
  auto as_param = parse("params: {model: transformer, data: small}\n");
  ASSERT_TRUE(as_param.ok()) << as_param.error().message;
  EXPECT_EQ(argv_of(*as_param), (std::vector<std::string>{"model=transformer"}));
}

TEST(LaunchHydraCheck, TypesMustFit) {
  EXPECT_EQ(error_of("params:\n  seed: 1.5\n  train.epochs: \"3\"\n  optimizer.lr: 1\n  model.dropout: high\n"
                     "  model.hidden_sizes: 5\n  data.name: [a]\n  notes: 7\n"),
            "new/l.yaml:2:3: params 'seed' is '1.5' (float) but config 'config' has an int there (default 0) — write a "
            "whole number without quotes, like the default 0\n"
            "new/l.yaml:3:3: params 'train.epochs' is '3' (string) but config 'config' has an int there (default 1) — "
            "write a whole number without quotes, like the default 1\n"
            "new/l.yaml:5:3: params 'model.dropout' is 'high' (string) but config 'config' has a float there (default "
            "0.1) — write a number without quotes, like the default 0.1\n"
            "new/l.yaml:6:3: params 'model.hidden_sizes' is '5' (int) but config 'config' has a list there (default "
            "[64, 64]) — write a YAML list, like the default [64, 64]\n"
            "new/l.yaml:7:3: params 'data.name' is '[a]' (list) but config 'config' has a string there (default "
            "small) — write text (in quotes if it looks like something else)");
  EXPECT_TRUE(parse("params: {seed: null, optimizer.lr: 1, train.epochs: 0x10}\n").ok());
}

TEST(LaunchHydraCheck, ExperimentSuffixOnlyWhenNotSetElsewhere) {
  auto set = parse("description: d1\nparams: {experiment_suffix: mine}\n");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(argv_of(*set), (std::vector<std::string>{"experiment_suffix=mine"}));
  auto by_override = parse("description: d1\noverrides: [\"experiment_suffix=x\"]\n");
  ASSERT_TRUE(by_override.ok());
  EXPECT_EQ(argv_of(*by_override), (std::vector<std::string>{"experiment_suffix=x"}));
  auto lines = parse("description: \"first line\\nit's ${x}\"\n");
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  EXPECT_EQ(argv_of(*lines), (std::vector<std::string>{"experiment_suffix='first line\nit\\'s \\${x}'"}));
  auto none = parse("name: x\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(argv_of(*none).empty());
  // Without that key in the schema, nothing is added.
  hydra::MemoryConfSource plain(std::map<std::string, std::string>{{"config.yaml", "lr: 1\n"}});
  auto other = parse("description: hello\n", plain);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(argv_of(*other).empty());
  // A suffix filled from the last description is not inherited by the next launch.
  auto next = parse("description: d2\n", example_conf(), *parse("description: d1\nparams: {seed: 3}\n"));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(argv_of(*next), (std::vector<std::string>{"seed=3", "experiment_suffix=d2"}));
}

TEST(LaunchHydraCheck, GroupsNotInTheDefaultsListNeedPlus) {
  hydra::MemoryConfSource conf({{"config.yaml", "defaults:\n  - _self_\nlr: 1\n"}, {"extra/a.yaml", "x: 1\n"}});
  EXPECT_EQ(error_of("groups: {extra: a}\n", conf),
            "new/l.yaml:1:17: config 'config' does not select group 'extra' in its defaults list, so Hydra refuses "
            "`extra=a` — to add it, write `overrides: [\"+extra=a\"]`");
}

TEST(LaunchHydraCheck, NestedGroupsAndNoConfigYaml) {
  hydra::MemoryConfSource conf({{"train.yaml", "defaults:\n  - model: a\n  - _self_\n"},
                                {"model/a.yaml", "defaults:\n  - encoder: small\nw: 1\n"},
                                {"model/encoder/small.yaml", "width: 1\n"},
                                {"model/encoder/big.yaml", "width: 9\nheads: 2\n"}});
  EXPECT_EQ(error_of("name: x\n", conf),
            "new/l.yaml:1:1: config_name is not set and conf/ has no config.yaml (no default config) — add "
            "`config_name: NAME` with one of: train");
  auto spec = parse("config_name: train\ngroups: {model/encoder: big}\nparams: {model.encoder.heads: 4}\n", conf);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(argv_of(*spec), (std::vector<std::string>{"--config-name", "train", "model/encoder=big",
                                                      "model.encoder.heads=4"}));
}

TEST(LaunchHydraCheck, NoConfDirectoryMeansNoChecks) {
  hydra::DiskConfSource none("/nonexistent/conf", "conf");
  auto spec = parse("config_name: anything\ngroups: {x: y}\nparams: {a.b: 1}\n", none);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(argv_of(*spec), (std::vector<std::string>{"--config-name", "anything", "x=y", "a.b=1"}));
}

}  // namespace
}  // namespace mmcfs::launch
