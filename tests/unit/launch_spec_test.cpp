// launch_spec_test.cpp — launch.yaml parsing: every kind of error with its
// exact line:column, the suggestions, defaults from the last launch and from
// the cluster, GPU-type spelling, Hydra params, the shipped examples, and the
// to_launch_yaml round trip with hostile strings.
//
// Thread rules: single-threaded tests; pure functions, no environment.
#include "launch/launch_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace mmcfs::launch {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Param = LaunchSpec::Param;
using Env = std::vector<std::pair<std::string, std::string>>;

config::ClusterConfig cluster(std::string name, std::vector<std::string> partitions,
                              std::vector<std::string> gpu_types) {
  config::ClusterConfig c;
  c.name = std::move(name);
  c.allowed_partitions = std::move(partitions);
  c.allowed_gpu_types = std::move(gpu_types);
  return c;
}

// As tests/cluster/testcluster.sh configures them, plus one that restricts nothing.
const std::vector<config::ClusterConfig> kClusters = {
    cluster("alpha", {"general", "preempt"}, {"A6000", "A100"}),
    cluster("beta", {"general"}, {"H100"}),
    cluster("open", {}, {}),
};

std::string examples_dir() { return std::string(MMCFS_TEST_DATA_DIR) + "/../../examples/"; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.is_open()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Result<LaunchSpec> parse(const std::string& text,
                         const std::vector<config::ClusterConfig>& clusters = kClusters,
                         std::optional<LaunchSpec> last = std::nullopt) {
  return parse_launch(text, ParseContext{"launch.yaml", &clusters, LaunchDefaults{last}});
}

LaunchSpec parse_ok(const std::string& text,
                    const std::vector<config::ClusterConfig>& clusters = kClusters,
                    std::optional<LaunchSpec> last = std::nullopt) {
  Result<LaunchSpec> result = parse(text, clusters, std::move(last));
  EXPECT_TRUE(result.ok()) << text << "\n=> " << result.error().message;
  return result.ok() ? result.value() : LaunchSpec{};
}

std::string error_of(const std::string& text,
                     const std::vector<config::ClusterConfig>& clusters = kClusters,
                     std::optional<LaunchSpec> last = std::nullopt) {
  Result<LaunchSpec> result = parse(text, clusters, std::move(last));
  EXPECT_FALSE(result.ok()) << text;
  if (result.ok()) return "";
  EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
  return result.error().message;
}

// -- the shipped examples ------------------------------------------------------

TEST(LaunchSpecExamples, FullExampleGivesEveryField) {
  const LaunchSpec spec = parse_ok(read_file(examples_dir() + "launch.yaml"));
  EXPECT_EQ(spec.name, "lr-sweep: 1e-4");
  EXPECT_THAT(spec.description, StartsWith("Small smoke run"));
  EXPECT_EQ(spec.cluster, "alpha");
  EXPECT_EQ(spec.partition, "general");
  EXPECT_EQ(spec.gpu_type, "A100");
  EXPECT_EQ(spec.num_nodes, 1);
  EXPECT_EQ(spec.gpus_per_node, 1);
  EXPECT_EQ(spec.cpus_per_task, 1);
  EXPECT_EQ(spec.memory, "1G");
  EXPECT_EQ(spec.time_limit, "00:10:00");
  EXPECT_EQ(spec.commit, "");
  EXPECT_EQ(spec.config_name, "config");
  EXPECT_THAT(spec.params, ElementsAre(Param{"optimizer.lr", "1e-4", false, false},
                                       Param{"data.batch_size", "16", false, false}));
  EXPECT_THAT(spec.overrides, ElementsAre("+trainer.fast_dev_run=true"));
  EXPECT_EQ(spec.env, (Env{{"WANDB_MODE", "offline"}}));
}

TEST(LaunchSpecExamples, MinimalExampleTakesDefaults) {
  const LaunchSpec spec = parse_ok(read_file(examples_dir() + "launch-minimal.yaml"));
  EXPECT_EQ(spec.name, "minimal");
  EXPECT_EQ(spec.cluster, "alpha");
  EXPECT_EQ(spec.partition, "general");  // the first allowed
  EXPECT_EQ(spec.gpu_type, "");
  EXPECT_EQ(spec.gpus_per_node, 0);
  EXPECT_EQ(spec.num_nodes, 1);
  EXPECT_EQ(spec.cpus_per_task, 8);
  EXPECT_EQ(spec.memory, "64G");
  EXPECT_EQ(spec.time_limit, "24:00:00");
  EXPECT_TRUE(spec.params.empty());
}

TEST(LaunchSpecExamples, MultinodeExample) {
  const LaunchSpec spec = parse_ok(read_file(examples_dir() + "launch-multinode.yaml"));
  EXPECT_EQ(spec.num_nodes, 2);
  EXPECT_EQ(spec.gpus_per_node, 2);
  EXPECT_EQ(spec.gpu_type, "A100");
  EXPECT_THAT(spec.params, ElementsAre(Param{"optimizer.lr", "2e-4", false, false},
                                       Param{"data.batch_size", "32", false, false}));
}

TEST(LaunchSpecExamples, ExamplesRoundTrip) {
  for (const char* name : {"launch.yaml", "launch-minimal.yaml", "launch-multinode.yaml"}) {
    const LaunchSpec spec = parse_ok(read_file(examples_dir() + name));
    EXPECT_EQ(parse_ok(to_launch_yaml(spec)), spec) << name;
  }
}

// -- defaults -----------------------------------------------------------------------

LaunchSpec last_launch() {
  LaunchSpec last;
  last.name = "old name";
  last.description = "old description";
  last.cluster = "alpha";
  last.partition = "preempt";
  last.gpu_type = "A6000";
  last.num_nodes = 2;
  last.gpus_per_node = 4;
  last.cpus_per_task = 16;
  last.memory = "128G";
  last.time_limit = "2-00:00:00";
  last.commit = "abc1234";
  last.config_name = "config_small";
  last.params = {Param{"optimizer.lr", "1e-3", false, false}};
  last.overrides = {"+x=1"};
  last.env = {{"A", "b"}};
  return last;
}

TEST(LaunchSpecDefaults, FromTheLastLaunchExceptNameDescriptionCommitOverridesEnv) {
  const LaunchSpec spec = parse_ok("memory: 8g\n", kClusters, last_launch());
  EXPECT_EQ(spec.cluster, "alpha");
  EXPECT_EQ(spec.partition, "preempt");
  EXPECT_EQ(spec.gpu_type, "A6000");
  EXPECT_EQ(spec.num_nodes, 2);
  EXPECT_EQ(spec.gpus_per_node, 4);
  EXPECT_EQ(spec.cpus_per_task, 16);
  EXPECT_EQ(spec.memory, "8G");  // from the file, unit upper-cased
  EXPECT_EQ(spec.time_limit, "2-00:00:00");
  EXPECT_EQ(spec.config_name, "config_small");
  EXPECT_EQ(spec.params, last_launch().params);
  EXPECT_EQ(spec.name, "config_small");  // not "old name": defaults to config_name
  EXPECT_EQ(spec.description, "");
  EXPECT_EQ(spec.commit, "");
  EXPECT_TRUE(spec.overrides.empty());
  EXPECT_TRUE(spec.env.empty());
}

TEST(LaunchSpecDefaults, NameIsRunWithoutConfigName) {
  EXPECT_EQ(parse_ok("cluster: alpha\n").name, "run");
  EXPECT_EQ(parse_ok("cluster: alpha\nconfig_name: big\n").name, "big");
}

TEST(LaunchSpecDefaults, EmptyParamsInTheFileReplaceTheLastOnes) {
  EXPECT_TRUE(parse_ok("params:\n", kClusters, last_launch()).params.empty());
  EXPECT_TRUE(parse_ok("params: {}\n", kClusters, last_launch()).params.empty());
}

TEST(LaunchSpecDefaults, OtherClusterGetsItsFirstPartitionAndNoForeignGpuType) {
  LaunchSpec last = last_launch();
  last.gpus_per_node = 0;
  last.gpu_type = "";
  const LaunchSpec spec = parse_ok("cluster: beta\n", kClusters, last);
  EXPECT_EQ(spec.partition, "general");
  EXPECT_EQ(error_of("cluster: beta\n", kClusters, last_launch()),
            "launch.yaml:1:10: gpus_per_node is 4 (from the last launch) but no gpu_type is set "
            "— add `gpu_type: H100` (allowed on 'beta': H100), or set `gpus_per_node: 0`");
}

TEST(LaunchSpecDefaults, LastPartitionFollowsIfTheOtherClusterAllowsIt) {
  LaunchSpec last = last_launch();
  last.partition = "general";
  last.gpu_type = "a100";  // stored as another cluster spelled it
  const LaunchSpec spec = parse_ok("name: x\n", kClusters, last);
  EXPECT_EQ(spec.partition, "general");
  EXPECT_EQ(spec.gpu_type, "A100");
}

TEST(LaunchSpecDefaults, UnrestrictedClusterInheritsOnlyItsOwnValues) {
  LaunchSpec last = last_launch();
  last.cluster = "open";
  last.partition = "weird";
  last.gpu_type = "L40";
  const LaunchSpec spec = parse_ok("name: x\n", kClusters, last);
  EXPECT_EQ(spec.partition, "weird");
  EXPECT_EQ(spec.gpu_type, "L40");
  EXPECT_THAT(error_of("cluster: open\n", kClusters, last_launch()),
              HasSubstr("launch.yaml:1:10: partition is missing and cluster 'open' has no "
                        "allowed_partitions to take a default from — add `partition: NAME`"));
}

TEST(LaunchSpecDefaults, TheOnlyClusterIsChosen) {
  const std::vector<config::ClusterConfig> one = {kClusters[1]};
  EXPECT_EQ(parse_ok("name: x\n", one).cluster, "beta");
}

TEST(LaunchSpecDefaults, ClusterMissingAmongSeveral) {
  EXPECT_EQ(error_of("# a comment\n\nname: x\n"),
            "launch.yaml:3:1: cluster is missing — add `cluster: NAME`, one of: alpha, beta, "
            "open");
}

TEST(LaunchSpecDefaults, NoClustersConfigured) {
  EXPECT_THAT(error_of("name: x\n", {}), HasSubstr("no clusters are configured"));
  EXPECT_THAT(error_of("cluster: alpha\n", {}),
              AllOf(StartsWith("launch.yaml:1:10: cluster 'alpha' is not configured"),
                    HasSubstr("clusters.yaml")));
}

// -- clusters, partitions, GPUs ------------------------------------------------------

TEST(LaunchSpecCluster, UnknownClusterSuggestsAndLists) {
  EXPECT_EQ(error_of("name: x\ncluster: alhpa\n"),
            "launch.yaml:2:10: cluster 'alhpa' is not configured — did you mean 'alpha'? "
            "configured clusters: alpha, beta, open");
}

TEST(LaunchSpecCluster, PartitionMustBeAllowed) {
  EXPECT_EQ(error_of("cluster: alpha\npartition: preemt\n"),
            "launch.yaml:2:12: partition 'preemt' is not allowed on cluster 'alpha' — did you "
            "mean 'preempt'? allowed partitions: general, preempt");
  EXPECT_EQ(parse_ok("cluster: open\npartition: anything\n").partition, "anything");
  EXPECT_THAT(error_of("cluster: open\npartition: \"a b\"\n"),
              StartsWith("launch.yaml:2:12: partition 'a b' is not a SLURM name"));
}

TEST(LaunchSpecCluster, GpuTypeIgnoresCaseAndKeepsTheConfiguredSpelling) {
  const LaunchSpec spec = parse_ok("cluster: alpha\ngpu_type: a100\n");
  EXPECT_EQ(spec.gpu_type, "A100");
  EXPECT_EQ(spec.gpus_per_node, 1);  // a type with no count means one GPU
  EXPECT_EQ(parse_ok("cluster: alpha\ngpu_type: A6000\ngpus_per_node: 3\n").gpus_per_node, 3);
  EXPECT_EQ(parse_ok("cluster: open\npartition: p\ngpu_type: l40s\n").gpu_type, "l40s");
}

TEST(LaunchSpecCluster, GpuTypeMustBeAllowed) {
  EXPECT_EQ(error_of("cluster: beta\ngpu_type: H200\n"),
            "launch.yaml:2:11: gpu_type 'H200' is not allowed on cluster 'beta' — did you mean "
            "'H100'? allowed GPU types: H100 (or `gpu_type: \"\"` for no GPUs)");
}

TEST(LaunchSpecCluster, GpuCountNeedsAType) {
  EXPECT_EQ(error_of("cluster: alpha\ngpus_per_node: 2\n"),
            "launch.yaml:2:16: gpus_per_node is 2 but no gpu_type is set — add `gpu_type: "
            "A6000` (allowed on 'alpha': A6000, A100), or set `gpus_per_node: 0`");
  EXPECT_THAT(error_of("cluster: alpha\ngpu_type: \"\"\ngpus_per_node: 2\n"),
              StartsWith("launch.yaml:3:16: gpus_per_node is 2 but no gpu_type is set"));
}

TEST(LaunchSpecCluster, ZeroGpusWithATypeInTheSameFileIsAnError) {
  EXPECT_EQ(error_of("cluster: alpha\ngpu_type: A100\ngpus_per_node: 0\n"),
            "launch.yaml:3:16: gpus_per_node is 0 but gpu_type is 'A100' — set gpus_per_node to "
            "1 or more, or set `gpu_type: \"\"` for a job without GPUs");
}

TEST(LaunchSpecCluster, ExplicitCountOrTypeOverridesTheInheritedOther) {
  LaunchSpec cpu_only = parse_ok("gpus_per_node: 0\n", kClusters, last_launch());
  EXPECT_EQ(cpu_only.gpu_type, "");
  EXPECT_EQ(cpu_only.gpus_per_node, 0);
  cpu_only = parse_ok("gpu_type: \"\"\n", kClusters, last_launch());
  EXPECT_EQ(cpu_only.gpus_per_node, 0);
  const LaunchSpec other_type = parse_ok("gpu_type: a100\n", kClusters, last_launch());
  EXPECT_EQ(other_type.gpu_type, "A100");
  EXPECT_EQ(other_type.gpus_per_node, 4);
}

// -- the file and its keys --------------------------------------------------------------

TEST(LaunchSpecErrors, YamlSyntaxError) {
  EXPECT_THAT(error_of("cluster: alpha\nparams: {a: 1\n"),
              AllOf(StartsWith("launch.yaml:3:1: YAML syntax error: "), HasSubstr("indentation")));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n\ta: 1\n"), HasSubstr("not allow tabs"));
}

TEST(LaunchSpecErrors, EmptyFileAndNonMapTopLevel) {
  EXPECT_EQ(error_of("# only a comment\n"),
            "launch.yaml:1:1: the file has no settings — write at least `cluster:` and `name:` "
            "lines; see examples/launch-minimal.yaml");
  EXPECT_THAT(error_of("\n- cluster: alpha\n"),
              StartsWith("launch.yaml:2:1: the top level is a list, not a map"));
}

TEST(LaunchSpecErrors, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(error_of("cluster: alpha\ngpu_typ: A100\n"),
            "launch.yaml:2:1: unknown key 'gpu_typ' — did you mean 'gpu_type'?");
  EXPECT_EQ(error_of("cluster: alpha\n  # indented comment\ngpus: 2\n"),
            "launch.yaml:3:1: unknown key 'gpus' — did you mean 'gpus_per_node'?");
  EXPECT_THAT(error_of("cluster: alpha\nhydra_overrides: {a: 1}\n"),
              HasSubstr("did you mean 'params'?"));
  EXPECT_THAT(error_of("cluster: alpha\noptimizer.lr: 1e-4\n"),
              AllOf(HasSubstr("unknown key 'optimizer.lr' — Hydra parameters go under "
                              "`params:`; valid keys are: name, description,"),
                    Not(HasSubstr("did you mean"))));
}

TEST(LaunchSpecErrors, DuplicateKey) {
  EXPECT_EQ(error_of("cluster: alpha\nname: a\nname: b\n"),
            "launch.yaml:3:1: key 'name' appears twice (first on line 2) — remove one of them");
}

TEST(LaunchSpecErrors, NonScalarKey) {
  EXPECT_THAT(error_of("cluster: alpha\n[a, b]: 1\n"),
              StartsWith("launch.yaml:2:1: a top-level key is a list, not a word"));
}

TEST(LaunchSpecErrors, AllProblemsSortedByPosition) {
  const std::string error = error_of(
      "cpus_per_task: 0\n"
      "cluster: alpha\n"
      "memory: lots\n"
      "colour: red\n"
      "time_limit: \"1:99\"\n");
  std::vector<std::string> lines;
  std::istringstream stream(error);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << error;
  EXPECT_THAT(lines[0], StartsWith("launch.yaml:1:16: 'cpus_per_task' should be a whole number "
                                   "from 1 to 256, not '0'"));
  EXPECT_THAT(lines[1], StartsWith("launch.yaml:3:9: memory 'lots' is not a SLURM memory size"));
  EXPECT_THAT(lines[2], StartsWith("launch.yaml:4:1: unknown key 'colour'"));
  EXPECT_THAT(lines[3], StartsWith("launch.yaml:5:13: time_limit '1:99' has 99 seconds"));
}

TEST(LaunchSpecErrors, MmcfsRecordKeyIsIgnored) {
  const LaunchSpec spec = parse_ok(
      "cluster: alpha\nname: clone\nmmcfs:\n  job: 00042\n  launched_at: "
      "2024-05-01T10:00:00Z\n  anything: [1, {x: y}]\n");
  EXPECT_EQ(spec.name, "clone");
}

// -- single values --------------------------------------------------------------------------

TEST(LaunchSpecValues, IntegersAndRanges) {
  EXPECT_EQ(error_of("cluster: alpha\nnum_nodes: 0\n"),
            "launch.yaml:2:12: 'num_nodes' should be a whole number from 1 to 64, not '0' — "
            "write it like `num_nodes: 1`");
  EXPECT_THAT(error_of("cluster: alpha\nnum_nodes: 65\n"), HasSubstr("from 1 to 64, not '65'"));
  EXPECT_THAT(error_of("cluster: alpha\nnum_nodes: two\n"),
              StartsWith("launch.yaml:2:12: 'num_nodes' should be a whole number"));
  EXPECT_THAT(error_of("cluster: alpha\ngpu_type: A100\ngpus_per_node: 17\n"),
              StartsWith("launch.yaml:3:16: 'gpus_per_node' should be a whole number from 0 to "
                         "16, not '17'"));
  EXPECT_THAT(error_of("cluster: alpha\ncpus_per_task: 257\n"), HasSubstr("from 1 to 256"));
  EXPECT_THAT(error_of("cluster: alpha\ncpus_per_task: [1]\n"), HasSubstr("not a list"));
  EXPECT_THAT(error_of("cluster: alpha\ncpus_per_task: 1.5\n"), HasSubstr("not '1.5'"));
  EXPECT_THAT(error_of("cluster: alpha\nnum_nodes:\n"),
              StartsWith("launch.yaml:2:1: 'num_nodes' should be a whole number"));
  EXPECT_EQ(parse_ok("cluster: alpha\ncpus_per_task: 256\nnum_nodes: 64\n").num_nodes, 64);
}

TEST(LaunchSpecValues, StringsHaveTheRightType) {
  EXPECT_EQ(error_of("cluster: alpha\nname: [a, b]\n"),
            "launch.yaml:2:7: 'name' should be text, not a list — write it like `name: "
            "lr-sweep`");
  EXPECT_EQ(error_of("cluster:\n"),
            "launch.yaml:1:1: 'cluster' has no value — write it like `cluster: alpha`, or remove "
            "the line for the default");
  EXPECT_THAT(error_of("cluster: \"\"\n"), StartsWith("launch.yaml:1:10: 'cluster' is empty"));
  // Empty means "the default" for these.
  const LaunchSpec spec =
      parse_ok("cluster: alpha\ndescription:\ncommit:\nconfig_name: \"\"\ngpu_type:\n");
  EXPECT_EQ(spec.description, "");
  EXPECT_EQ(spec.commit, "");
  EXPECT_EQ(spec.config_name, "");
  EXPECT_EQ(spec.gpu_type, "");
}

TEST(LaunchSpecValues, Name) {
  EXPECT_EQ(error_of("cluster: alpha\nname: \"\"\n"),
            "launch.yaml:2:7: name is empty — give the job a name, e.g. `name: lr-sweep`, or "
            "remove the line to use config_name (else 'run')");
  EXPECT_THAT(error_of("cluster: alpha\nname: \"a\\nb\"\n"),
              StartsWith("launch.yaml:2:7: name contains a line break — keep the name on one "
                         "line"));
  EXPECT_THAT(error_of("cluster: alpha\nname: \"a\\0b\"\n"), HasSubstr("NUL"));
  EXPECT_THAT(error_of("cluster: alpha\nname: " + std::string(201, 'x') + "\n"),
              HasSubstr("name is 201 characters long (at most 200)"));
  std::string long_utf8;
  for (int i = 0; i < 200; ++i) long_utf8 += "é";
  EXPECT_EQ(parse_ok("cluster: alpha\nname: " + long_utf8 + "\n").name, long_utf8);
  EXPECT_EQ(parse_ok("cluster: alpha\nname: 42\n").name, "42");
}

TEST(LaunchSpecValues, Description) {
  EXPECT_EQ(parse_ok("cluster: alpha\ndescription: |\n  one\n  two\n").description, "one\ntwo\n");
  EXPECT_THAT(error_of("cluster: alpha\ndescription: \"a\\0\"\n"),
              StartsWith("launch.yaml:2:14: description contains a NUL character"));
}

TEST(LaunchSpecValues, Memory) {
  EXPECT_EQ(parse_ok("cluster: alpha\nmemory: 512m\n").memory, "512M");
  EXPECT_EQ(parse_ok("cluster: alpha\nmemory: 4096\n").memory, "4096");
  EXPECT_EQ(parse_ok("cluster: alpha\nmemory: 1T\n").memory, "1T");
  EXPECT_EQ(error_of("cluster: alpha\nmemory: 64GB\n"),
            "launch.yaml:2:9: memory '64GB' is not a SLURM memory size — SLURM takes no 'B': "
            "write `memory: 64G`");
  for (const char* bad : {"1.5G", "G", "64 G", "-1G", "64X", "\"\""}) {
    EXPECT_THAT(error_of(std::string("cluster: alpha\nmemory: ") + bad + "\n"),
                StartsWith("launch.yaml:2:9: "))
        << bad;
  }
}

TEST(LaunchSpecValues, TimeLimitForms) {
  for (const char* good : {"30", "90", "30:00", "90:30", "24:00:00", "48:00:00", "1-0",
                           "7-00:00", "2-12:30:00", "0:0:1"}) {
    EXPECT_EQ(parse_ok(std::string("cluster: alpha\ntime_limit: \"") + good + "\"\n").time_limit,
              good);
  }
  EXPECT_EQ(parse_ok("cluster: alpha\ntime_limit: 120\n").time_limit, "120");
  EXPECT_EQ(error_of("cluster: alpha\ntime_limit: \"1:60\"\n"),
            "launch.yaml:2:13: time_limit '1:60' has 60 seconds — accepted forms are MM, MM:SS, "
            "HH:MM:SS, D-HH, D-HH:MM and D-HH:MM:SS, e.g. `time_limit: \"24:00:00\"` or "
            "`time_limit: \"2-00:00:00\"`");
  EXPECT_THAT(error_of("cluster: alpha\ntime_limit: \"10:75:00\"\n"), HasSubstr("has 75 minutes"));
  EXPECT_THAT(error_of("cluster: alpha\ntime_limit: \"1-24\"\n"),
              HasSubstr("has 24 hours after the days"));
  EXPECT_THAT(error_of("cluster: alpha\ntime_limit: \"1-2:60\"\n"), HasSubstr("has 60 minutes"));
  for (const char* bad : {"1h", "1:2:3:4", "1-", "-1", "1--2", "a:b", "1:2-3", "\"\"", "1 day"}) {
    EXPECT_THAT(error_of(std::string("cluster: alpha\ntime_limit: ") + bad + "\n"),
                StartsWith("launch.yaml:2:13: "))
        << bad;
  }
  EXPECT_THAT(error_of("cluster: alpha\ntime_limit: \"00:00:00\"\n"),
              HasSubstr("time_limit '00:00:00' is zero"));
}

TEST(LaunchSpecValues, Commit) {
  for (const char* good : {"3f9c", "3f9c2a1b3f9c2a1b3f9c2a1b3f9c2a1b3f9c2a1b", "main",
                           "feature/lr-sweep", "v1.0", "release_2"}) {
    EXPECT_EQ(parse_ok(std::string("cluster: alpha\ncommit: ") + good + "\n").commit, good);
  }
  EXPECT_EQ(error_of("cluster: alpha\ncommit: -x\n"),
            "launch.yaml:2:9: commit '-x' is neither a commit SHA nor a branch or tag name — "
            "give 4 to 40 hex digits (e.g. `commit: 3f9c2a1`) or a name of letters, digits and "
            "'._/-' not starting with '-'; remove the line to run the local HEAD");
  for (const char* bad : {"a..b", "\"a b\"", "\"$(x)\"", "a/", "/a", "a.lock", "\"a;b\"", "a//b"}) {
    EXPECT_THAT(error_of(std::string("cluster: alpha\ncommit: ") + bad + "\n"),
                StartsWith("launch.yaml:2:9: commit "))
        << bad;
  }
}

TEST(LaunchSpecValues, ConfigName) {
  EXPECT_EQ(error_of("cluster: alpha\nconfig_name: config_small.yaml\n"),
            "launch.yaml:2:14: config_name 'config_small.yaml' ends with '.yaml' — drop the "
            "suffix: `config_name: config_small`");
  EXPECT_THAT(error_of("cluster: alpha\nconfig_name: exp/a\n"), HasSubstr("contains '/'"));
  EXPECT_THAT(error_of("cluster: alpha\nconfig_name: \"a b\"\n"),
              HasSubstr("is not a config file name"));
  EXPECT_EQ(parse_ok("cluster: alpha\nconfig_name: config-v2.1\n").config_name, "config-v2.1");
}

// -- params, overrides, env ----------------------------------------------------------------------

TEST(LaunchSpecParams, NestedMapsAreDottedKeys) {
  const LaunchSpec nested =
      parse_ok("cluster: alpha\nparams:\n  optimizer:\n    lr: 1e-5\n    betas.b1: 0.9\n");
  const LaunchSpec dotted =
      parse_ok("cluster: alpha\nparams: {optimizer.lr: 1e-5, optimizer.betas.b1: 0.9}\n");
  EXPECT_EQ(nested.params, dotted.params);
  EXPECT_THAT(nested.params, ElementsAre(Param{"optimizer.lr", "1e-5", false, false},
                                         Param{"optimizer.betas.b1", "0.9", false, false}));
  EXPECT_THAT(parse_ok("cluster: alpha\nparams: {layers: {0: {size: 3}}}\n").params,
              ElementsAre(Param{"layers.0.size", "3", false, false}));
}

TEST(LaunchSpecParams, ValuesKeepTheirYamlType) {
  const LaunchSpec spec = parse_ok(
      "cluster: alpha\nparams:\n  a: \"1e-5\"\n  b: 1e-5\n  c: ~\n  d:\n  e: 'hello world'\n"
      "  f: true\n  g: |\n    two\n    lines\n  h: !!str 5\n  i: null\n");
  EXPECT_THAT(spec.params,
              ElementsAre(Param{"a", "1e-5", true, false}, Param{"b", "1e-5", false, false},
                          Param{"c", "null", false, true}, Param{"d", "null", false, true},
                          Param{"e", "hello world", true, false}, Param{"f", "true", false, false},
                          Param{"g", "two\nlines\n", true, false}, Param{"h", "5", true, false},
                          Param{"i", "null", false, true}));
}

TEST(LaunchSpecParams, ListsBecomeHydraListText) {
  const LaunchSpec spec = parse_ok(
      "cluster: alpha\nparams:\n  a: [1, 2]\n  b: [x, \"y z\", \"it's\", ~, [3, -4e-2]]\n"
      "  c: []\n  d: ['a\\b\\', \"q\\\\'\"]\n");
  EXPECT_THAT(spec.params,
              ElementsAre(Param{"a", "[1,2]", false, false},
                          Param{"b", "[x,'y z','it\\'s',null,[3,-4e-2]]", false, false},
                          Param{"c", "[]", false, false},
                          Param{"d", "['a\\b\\\\','q\\\\\\'']", false, false}));
}

TEST(LaunchSpecParams, KeyErrors) {
  EXPECT_EQ(error_of("cluster: alpha\nparams:\n  +trainer.x: 1\n"),
            "launch.yaml:3:3: params key '+trainer.x' starts with '+' — params only set existing "
            "keys; '+', '++' and '~' belong in overrides, e.g. `overrides: [\"+trainer.x=...\"]`");
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  ~x: 1\n"), HasSubstr("starts with '~'"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  model/enc: big\n"),
              StartsWith("launch.yaml:3:3: params key 'model/enc' is a config group path"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  1st: 1\n"),
              StartsWith("launch.yaml:3:3: params key '1st' is not a Hydra key"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  a:\n    \"b c\": 1\n"),
              StartsWith("launch.yaml:4:5: params key 'b c' is not a Hydra key"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  a..b: 1\n"), HasSubstr("is not a Hydra key"));
  EXPECT_EQ(error_of("cluster: alpha\nparams:\n  a.b: 1\n  a:\n    b: 2\n"),
            "launch.yaml:5:5: params key 'a.b' is given twice (first on line 3) — remove one of "
            "them");
}

TEST(LaunchSpecParams, ShapeErrors) {
  EXPECT_EQ(error_of("cluster: alpha\nparams:\n  - a=1\n"),
            "launch.yaml:3:3: 'params' should be a map of Hydra keys to values, not a list — "
            "write `key: value` lines under it; a list of \"key=value\" strings belongs in "
            "overrides");
  EXPECT_THAT(error_of("cluster: alpha\nparams: lr\n"), StartsWith("launch.yaml:2:9: 'params'"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  a: [1, {b: 2}]\n"),
              StartsWith("launch.yaml:3:10: a list under params holds a map"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  a: {}\n"),
              StartsWith("launch.yaml:3:6: params 'a' is an empty map"));
  EXPECT_THAT(error_of("cluster: alpha\nparams:\n  a: \"x\\0\"\n"), HasSubstr("NUL"));
}

TEST(LaunchSpecOverrides, ListOfOneLineStrings) {
  EXPECT_THAT(parse_ok("cluster: alpha\noverrides:\n  - \"+a=1\"\n  - ~b\n  - model=big\n")
                  .overrides,
              ElementsAre("+a=1", "~b", "model=big"));
  EXPECT_TRUE(parse_ok("cluster: alpha\noverrides:\n").overrides.empty());
  EXPECT_EQ(error_of("cluster: alpha\noverrides: \"+a=1\"\n"),
            "launch.yaml:2:12: 'overrides' should be a list of strings, not '+a=1' — write it "
            "like `overrides: [\"+trainer.fast_dev_run=true\"]`, one override per item");
  EXPECT_THAT(error_of("cluster: alpha\noverrides:\n  - ok=1\n  -\n"),
              StartsWith("launch.yaml:4:3: override #2 is empty — write each override as a "
                         "quoted string"));
  EXPECT_THAT(error_of("cluster: alpha\noverrides: [\"\"]\n"),
              StartsWith("launch.yaml:2:13: override #1 is empty"));;
  EXPECT_THAT(error_of("cluster: alpha\noverrides:\n  - \"a=1\\nb=2\"\n"),
              StartsWith("launch.yaml:3:5: override #1 contains a line break"));
  EXPECT_THAT(error_of("cluster: alpha\noverrides:\n  - {a: 1}\n"),
              StartsWith("launch.yaml:3:5: override #1 should be a string, not a map"));
}

TEST(LaunchSpecEnv, NamesAndValues) {
  EXPECT_EQ(parse_ok("cluster: alpha\nenv:\n  B: 1\n  A_2: \"x y\"\n  EMPTY: \"\"\n").env,
            (Env{{"B", "1"}, {"A_2", "x y"}, {"EMPTY", ""}}));
  EXPECT_EQ(error_of("cluster: alpha\nenv:\n  SLURM_NTASKS: 4\n"),
            "launch.yaml:3:3: env name 'SLURM_NTASKS' is reserved — SLURM sets SLURM_* for the "
            "job and srun reads them; choose another name");
  EXPECT_THAT(error_of("cluster: alpha\nenv:\n  MMCFS_JOB: x\n"), HasSubstr("mmcfs sets MMCFS_*"));
  for (const char* reserved : {"PATH", "HOME", "USER"}) {
    EXPECT_THAT(error_of(std::string("cluster: alpha\nenv:\n  ") + reserved + ": x\n"),
                HasSubstr("login environment"));
  }
  EXPECT_THAT(error_of("cluster: alpha\nenv:\n  1A: x\n"),
              StartsWith("launch.yaml:3:3: env name '1A' is not a variable name"));
  EXPECT_THAT(error_of("cluster: alpha\nenv:\n  A-B: x\n"), HasSubstr("is not a variable name"));
  EXPECT_EQ(error_of("cluster: alpha\nenv:\n  A:\n"),
            "launch.yaml:3:3: env 'A' has no value — write `A: \"\"` for an empty value");
  EXPECT_THAT(error_of("cluster: alpha\nenv:\n  A: [1]\n"),
              StartsWith("launch.yaml:3:6: env 'A' should be text, not a list"));
  EXPECT_THAT(error_of("cluster: alpha\nenv:\n  A: 1\n  A: 2\n"),
              StartsWith("launch.yaml:4:3: env 'A' is given twice (first on line 3)"));
  EXPECT_THAT(error_of("cluster: alpha\nenv: [A=1]\n"),
              StartsWith("launch.yaml:2:6: 'env' should be a map"));
}

// -- to_launch_yaml -----------------------------------------------------------------------------

LaunchSpec nasty_spec() {
  LaunchSpec spec;
  spec.name = "it's \"quoted\" $(rm -rf ~) `id`; echo: # ünïcödé 数据";
  spec.description = "line one\nline two: with colon # not a comment\n\ttab 'single' \"double\" \\ "
                     "backslash $(x) `y` ; z\n  indented\n";
  spec.cluster = "alpha";
  spec.partition = "preempt";
  spec.gpu_type = "A6000";
  spec.num_nodes = 3;
  spec.gpus_per_node = 2;
  spec.cpus_per_task = 4;
  spec.memory = "12G";
  spec.time_limit = "1-02:03:04";
  spec.commit = "feature/x";
  spec.config_name = "config_small";
  spec.params = {
      Param{"plain", "1e-5", false, false},
      Param{"quoted", "1e-5", true, false},
      Param{"null_value", "null", false, true},
      Param{"text", "a 'b' \"c\" $(d) `e`; f\ng", true, false},
      Param{"unicode", "naïve 数据", false, false},
      Param{"boolean", "true", false, false},
      Param{"quoted_true", "true", true, false},
      Param{"quoted_null", "null", true, false},
      Param{"list", "[1,'a b',null,[x,'it\\'s']]", false, false},
      Param{"deep.dotted.key_9", "-3", false, false},
      Param{"backslashes", "['a\\b\\\\','q\\\\\\'']", false, false},
  };
  spec.overrides = {"+a=\"$(whoami)\"", "~b", "c='x; y'", "d=`e`", "ü=数"};
  spec.env = {{"WANDB_NOTES", "quote ' \" and $HOME `x`\nnext line"}, {"EMPTY", ""}};
  return spec;
}

TEST(LaunchSpecYaml, RoundTripsHostileStrings) {
  const LaunchSpec spec = nasty_spec();
  const std::string yaml = to_launch_yaml(spec);
  const LaunchSpec back = parse_ok(yaml);
  EXPECT_EQ(back, spec) << yaml;
  EXPECT_EQ(to_launch_yaml(back), yaml);
}

TEST(LaunchSpecYaml, RoundTripsDefaultsAndEmptyValues) {
  LaunchSpec spec;
  spec.name = "x";
  spec.cluster = "beta";
  spec.partition = "general";
  const std::string yaml = to_launch_yaml(spec);
  EXPECT_THAT(yaml, AllOf(HasSubstr("cpus_per_task: 8\n"), HasSubstr("memory: \"64G\"\n"),
                          HasSubstr("time_limit: \"24:00:00\"\n"), HasSubstr("commit: \"\"\n"),
                          HasSubstr("params: {}\n"), HasSubstr("overrides: []\n"),
                          HasSubstr("env: {}\n")));
  EXPECT_EQ(parse_ok(yaml), spec) << yaml;
}

TEST(LaunchSpecYaml, HeaderCommentComesFirst) {
  const std::string yaml = to_launch_yaml(nasty_spec(), "job 00042\n\nran at abc123");
  EXPECT_THAT(yaml, StartsWith("# job 00042\n#\n# ran at abc123\n# "));
  EXPECT_EQ(parse_ok(yaml), nasty_spec());
}

TEST(LaunchSpecYaml, ARecordedCopyWithItsMmcfsBlockParsesAsTheSameSpec) {
  const std::string recorded = to_launch_yaml(nasty_spec()) +
                               "mmcfs:\n  job: \"00042\"\n  launched_at: 2024-05-01T10:00:00Z\n";
  EXPECT_EQ(parse_ok(recorded), nasty_spec());
}

TEST(LaunchSpecYaml, ListParamsAreWrittenAsYamlLists) {
  LaunchSpec spec = nasty_spec();
  spec.params = {Param{"a", "[1,'b c']", false, false}};
  EXPECT_THAT(to_launch_yaml(spec), HasSubstr("  a: [1, \"b c\"]\n"));
}

TEST(LaunchSpecKeys, DocumentationOrder) {
  EXPECT_THAT(launch_keys(),
              ElementsAre("name", "description", "cluster", "partition", "gpu_type", "num_nodes",
                          "gpus_per_node", "cpus_per_task", "memory", "time_limit", "commit",
                          "config_name", "groups", "params", "sweep", "overrides", "env", "mmcfs"));
}

}  // namespace
}  // namespace mmcfs::launch
