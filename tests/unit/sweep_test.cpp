// sweep_test.cpp — launch.yaml `sweep:`: parsing and its errors (with
// file:line:column), the expansion order and each run's spec, the run-count
// limit (max_sweep_runs), the Hydra checks of sweep keys and values on the
// example project's conf/, the round trip through to_launch_yaml, the
// script's refusal of a template without the sweep placeholders, and the
// sweep's summary status (backend/sweep_status.h).
//
// Thread rules: single-threaded tests; pure functions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backend/sweep_status.h"
#include "hydra/conf_source.h"
#include "launch/launch_spec.h"
#include "launch/sbatch_script.h"
#include "launch/sweep.h"

namespace mmcfs::launch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Param = LaunchSpec::Param;

std::vector<config::ClusterConfig> clusters(int max_runs = 256) {
  config::ClusterConfig c;
  c.name = "alpha";
  c.allowed_partitions = {"general"};
  c.max_sweep_runs = max_runs;
  return {c};
}

const hydra::DiskConfSource& example_conf() {
  static const hydra::DiskConfSource conf(std::string(MMCFS_TEST_DATA_DIR) + "/../../examples/project/conf", "conf");
  return conf;
}

Result<LaunchSpec> parse(const std::string& text, int max_runs = 256, bool hydra = true) {
  static std::vector<config::ClusterConfig> kept;
  kept = clusters(max_runs);
  ParseContext ctx{"new/l.yaml", &kept, LaunchDefaults{}};
  if (hydra) ctx.hydra_conf = &example_conf();
  return parse_launch(text, ctx);
}

std::string error_of(const std::string& text, int max_runs = 256) {
  auto spec = parse(text, max_runs);
  EXPECT_FALSE(spec.ok()) << text;
  return spec.ok() ? "" : spec.error().message;
}

// The Hydra overrides of one run (without python3 train.py).
std::vector<std::string> run_argv(const LaunchSpec& spec, std::size_t run) {
  project::ProjectConfig config;
  std::vector<std::string> argv = training_argv(sweep_run_spec(spec, run), config);
  return std::vector<std::string>(argv.begin() + 2, argv.end());
}

TEST(Sweep, CartesianProductLastKeyFastestEachRunItsOwnOverrides) {
  auto spec = parse(
      "params: {seed: 7, optimizer.lr: 0.5}\n"
      "sweep:\n"
      "  optimizer.lr: [1e-3, 1e-4]\n"
      "  data:\n"
      "    batch_size: [16, 32, 64]\n"
      "overrides: [\"+extra=a b\"]\n");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(spec->sweep.size(), 2u);
  EXPECT_EQ(spec->sweep[0].key, "optimizer.lr");
  EXPECT_EQ(spec->sweep[1].key, "data.batch_size");  // nested maps are dotted keys
  EXPECT_EQ(sweep_run_count(*spec), 6u);
  // The swept param replaces the fixed one where it stood; new keys follow
  // the params; raw overrides stay last.
  EXPECT_THAT(run_argv(*spec, 0), ElementsAre("seed=7", "optimizer.lr=1e-3", "data.batch_size=16", "+extra=a b"));
  EXPECT_THAT(run_argv(*spec, 1), ElementsAre("seed=7", "optimizer.lr=1e-3", "data.batch_size=32", "+extra=a b"));
  EXPECT_THAT(run_argv(*spec, 2), ElementsAre("seed=7", "optimizer.lr=1e-3", "data.batch_size=64", "+extra=a b"));
  EXPECT_THAT(run_argv(*spec, 3), ElementsAre("seed=7", "optimizer.lr=1e-4", "data.batch_size=16", "+extra=a b"));
  EXPECT_THAT(run_argv(*spec, 5), ElementsAre("seed=7", "optimizer.lr=1e-4", "data.batch_size=64", "+extra=a b"));
  EXPECT_TRUE(sweep_run_spec(*spec, 4).sweep.empty());
}

TEST(Sweep, ValuesAreWrittenByTheOverrideWriter) {
  auto spec = parse("sweep:\n  notes: ['a,b', \"it's\", 'true', 12, null, [1, 2]]\n", 256, /*hydra=*/false);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(sweep_run_count(*spec), 6u);
  std::vector<std::string> got;
  for (std::size_t n = 0; n < 6; ++n) got.push_back(run_argv(*spec, n).at(0));
  // Quoted YAML strings stay strings for Hydra (a comma would start a Hydra sweep).
  EXPECT_THAT(got, ElementsAre("notes='a,b'", "notes='it\\'s'", "notes='true'", "notes=12", "notes=null",
                               "notes=[1,2]"));
}

TEST(Sweep, ErrorsNameTheLineAndTheFix) {
  EXPECT_EQ(error_of("sweep:\n  optimizer.lr: []\n"),
            "new/l.yaml:2:17: sweep 'optimizer.lr' is an empty list, but a sweep key needs a non-empty list of "
            "values — write it like `optimizer.lr: [1e-3, 1e-4]` (one run per value); a single value belongs in "
            "params");
  EXPECT_THAT(error_of("sweep:\n  optimizer.lr: 1e-3\n"),
              HasSubstr("new/l.yaml:2:17: sweep 'optimizer.lr' is "));
  EXPECT_THAT(error_of("sweep:\n  optimizer.lr:\n"), HasSubstr("new/l.yaml:2:3: sweep 'optimizer.lr' is "));
  EXPECT_THAT(error_of("sweep: [1, 2]\n"),
              HasSubstr("new/l.yaml:1:8: 'sweep' should be a map of Hydra keys to lists of values"));
  EXPECT_THAT(error_of("sweep:\n  notes: [{a: 1}]\n"), HasSubstr("new/l.yaml:2:11: a value of sweep 'notes' is a map"));
  EXPECT_THAT(error_of("sweep:\n  seed: [1]\n  seed: [2]\n"), HasSubstr("sweep key 'seed' is given twice"));
  // Keys and values are checked like params, against the conf of the launch.
  EXPECT_THAT(error_of("sweep:\n  optimizer.lrr: [1, 2]\n"),
              HasSubstr("new/l.yaml:2:3: sweep key 'optimizer.lrr' is not in config 'config' — did you mean "
                        "optimizer.lr?"));
  EXPECT_THAT(error_of("sweep:\n  seed: [1, abc]\n"),
              HasSubstr("new/l.yaml:2:3: sweep 'seed' has a value that is 'abc' (string) but config 'config' has an "
                        "int there"));
  EXPECT_TRUE(parse("sweep:\n  seed: [1, 2]\n").ok());
}

TEST(Sweep, MoreRunsThanTheClusterLimitIsRefused) {
  const std::string four = "sweep: {optimizer.lr: [1e-3, 1e-4], data.batch_size: [16, 32]}\n";
  EXPECT_TRUE(parse(four, 4).ok());
  EXPECT_EQ(error_of(four, 3),
            "new/l.yaml:1:8: sweep expands to 4 runs (2 optimizer.lr x 2 data.batch_size), more than the limit of 3 "
            "for cluster 'alpha' — sweep fewer values, or raise max_sweep_runs for that cluster in clusters.yaml "
            "(see config/clusters.yaml.example)");
  // The default limit is 256: 17 x 16 = 272 runs.
  std::string big = "sweep:\n  seed: [";
  for (int i = 0; i < 17; ++i) big += (i ? ", " : "") + std::to_string(i);
  big += "]\n  train.epochs: [";
  for (int i = 0; i < 16; ++i) big += (i ? ", " : "") + std::to_string(i);
  big += "]\n";
  EXPECT_EQ(config::ClusterConfig{}.max_sweep_runs, 256);
  EXPECT_THAT(error_of(big), HasSubstr("sweep expands to 272 runs (17 seed x 16 train.epochs), more than the "
                                       "limit of 256"));
}

TEST(Sweep, CountSaturatesInsteadOfOverflowing) {
  LaunchSpec spec;
  LaunchSpec::SweepAxis axis{"seed", std::vector<Param>(1000, Param{"seed", "1", false, false})};
  for (int i = 0; i < 8; ++i) spec.sweep.push_back(axis);
  EXPECT_EQ(sweep_run_count(spec), kSweepTooLarge);
  EXPECT_EQ(sweep_run_count(LaunchSpec{}), 1u);
}

TEST(Sweep, RoundTripsThroughTheRecordedLaunchYamlAndIsNeverInherited) {
  auto spec = parse("sweep:\n  notes: ['a b', \"x: y\", [1, 'c d']]\n  seed: [1, 2]\n", 256, /*hydra=*/false);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  const std::string yaml = to_launch_yaml(*spec);
  auto again = parse(yaml, 256, /*hydra=*/false);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << yaml;
  EXPECT_EQ(again->sweep, spec->sweep);
  // The last launch's sweep does not carry over to a file without one.
  auto kept = clusters();
  auto next = parse_launch("name: next\n", ParseContext{"l.yaml", &kept, LaunchDefaults{*spec}});
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_TRUE(next->sweep.empty());
}

TEST(Sweep, TemplateWithoutTheSweepPlaceholdersIsRefusedForASweep) {
  ScriptInputs in;
  in.spec.name = "s";
  in.spec.partition = "general";
  in.spec.sweep = {{"seed", {{"seed", "1", false, false}, {"seed", "2", false, false}}}};
  in.project_name = "p";
  in.repo_url = "/r.git";
  in.commit = std::string(40, 'a');
  in.job_id = "00001-s";
  in.job_token = "mmcfs-t";
  in.workspace = "/ws";
  auto ok = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_THAT(*ok, HasSubstr("#SBATCH --array=0-1\n#SBATCH --output=slurm-%A_%a.out\n"));
  EXPECT_THAT(*ok, Not(HasSubstr("#SBATCH --output=slurm-%j.out")));
  EXPECT_THAT(*ok, HasSubstr("case ${SLURM_ARRAY_TASK_ID-} in\n"));
  auto bad = render_script("#!/bin/bash\n#SBATCH --comment={{SBATCH_COMMENT}}\nargs=( {{TRAINING_ARGV}} )\n", in);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("this launch is a sweep, but the sbatch template has no "
                                             "{{SWEEP_SELECT}} or no {{SBATCH_ARRAY}}"));
  // A plain job keeps its one log and no array.
  in.spec.sweep.clear();
  auto plain = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(*plain, HasSubstr("#SBATCH --output=slurm-%j.out\n"));
  EXPECT_THAT(*plain, Not(HasSubstr("--array")));
  EXPECT_THAT(*plain, Not(HasSubstr("case ${SLURM_ARRAY_TASK_ID")));
  EXPECT_THAT(*plain, HasSubstr("\nMMCFS_RUN_DIR=$MMCFS_JOB_DIR\n\n"));  // SWEEP_SELECT is empty
}

backend::JobRecord run_in(const std::string& state, std::optional<int> started_s = std::nullopt,
                          std::optional<int> ended_s = std::nullopt) {
  backend::JobRecord r;
  r.state = state;
  if (started_s) r.started_at = WallTime(std::chrono::seconds(*started_s));
  if (ended_s) r.ended_at = WallTime(std::chrono::seconds(*ended_s));
  return r;
}

TEST(SweepStatus, SummarisesTheRunsStates) {
  const WallTime now(std::chrono::seconds(1000));
  auto u = backend::summarize_sweep({run_in("COMPLETED", 10, 20), run_in("RUNNING", 5), run_in("RUNNING", 12),
                                     run_in("PENDING")},
                                    now);
  EXPECT_EQ(u.state, "RUNNING");
  EXPECT_EQ(u.reason, "1/4 finished: COMPLETED 1, PENDING 1, RUNNING 2");
  EXPECT_EQ(u.started_at, WallTime(std::chrono::seconds(5)));
  EXPECT_FALSE(u.ended_at);

  u = backend::summarize_sweep({run_in("PENDING"), run_in("PENDING")}, now);
  EXPECT_EQ(u.state, "PENDING");
  EXPECT_EQ(u.reason, "0/2 finished: PENDING 2");
  EXPECT_EQ(backend::summarize_sweep({run_in("SUBMITTING")}, now).state, "SUBMITTING");

  u = backend::summarize_sweep({run_in("COMPLETED", 1, 30), run_in("COMPLETED", 2, 40)}, now);
  EXPECT_EQ(u.state, "COMPLETED");
  EXPECT_EQ(u.reason, "2/2 finished: COMPLETED 2");
  EXPECT_EQ(u.ended_at, WallTime(std::chrono::seconds(40)));
  EXPECT_FALSE(u.exit_code);

  EXPECT_EQ(backend::summarize_sweep({run_in("COMPLETED", 1, 2), run_in("TIMEOUT", 1, 2), run_in("CANCELLED")}, now)
                .state,
            "FAILED");
  u = backend::summarize_sweep({run_in("COMPLETED", 1, 2), run_in("CANCELLED")}, now);
  EXPECT_EQ(u.state, "CANCELLED");
  EXPECT_EQ(u.reason, "2/2 finished: CANCELLED 1, COMPLETED 1");
  EXPECT_EQ(backend::summarize_sweep({run_in("UNKNOWN")}, now).state, "UNKNOWN");
  // Cancelled while pending (no times): the sweep ends now.
  EXPECT_EQ(backend::summarize_sweep({run_in("CANCELLED")}, now).ended_at, now);
}

}  // namespace
}  // namespace mmcfs::launch
