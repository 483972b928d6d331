// tracker_links_test.cpp — the tracker link parser on lines as WandB and
// MLflow print them (with the ANSI colours and emoji they really use), lines
// that must not yield links, and the two renderings.
#include "backend/tracker_links.h"

#include <gtest/gtest.h>

namespace mmcfs::backend {
namespace {

using Links = std::vector<TrackerLink>;

const char* kRun = "https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p";

TEST(TrackerLinks, WandbRunLineWithEmojiAndColons) {
  // wandb >= 0.16 at the end of a run.
  EXPECT_EQ(find_tracker_links("wandb: 🚀 View run glorious-sun-42 at: https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p"),
            (Links{{"wandb_run", kRun}, {"wandb_logs", std::string(kRun) + "/logs"}}));
}

TEST(TrackerLinks, WandbRunLineWithAnsiColours) {
  // As captured from a SLURM output file: wandb colours the URL blue and underlined.
  EXPECT_EQ(find_tracker_links("wandb: 🚀 View run at \x1b[34m\x1b[4mhttps://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p\x1b[0m"),
            (Links{{"wandb_run", kRun}, {"wandb_logs", std::string(kRun) + "/logs"}}));
}

TEST(TrackerLinks, WandbLineWithAColouredPrefix) {
  // wandb also colours its own "wandb" prefix (blue, bold) when it thinks it may.
  EXPECT_EQ(find_tracker_links("\x1b[34m\x1b[1mwandb\x1b[0m: 🚀 View run \x1b[33mglorious-sun-42\x1b[0m at: "
                               "\x1b[34m\x1b[4mhttp://wandb.lab.internal:8080/nlp-lab/qwen-sft/runs/3k9x2m1p\x1b[0m"),
            (Links{{"wandb_run", "http://wandb.lab.internal:8080/nlp-lab/qwen-sft/runs/3k9x2m1p"},
                   {"wandb_logs", "http://wandb.lab.internal:8080/nlp-lab/qwen-sft/runs/3k9x2m1p/logs"}}));
}

TEST(TrackerLinks, WandbProjectLine) {
  EXPECT_EQ(find_tracker_links("wandb: ⭐️ View project at \x1b[34m\x1b[4mhttps://wandb.ai/nlp-lab/qwen-sft\x1b[0m"),
            (Links{{"wandb_project", "https://wandb.ai/nlp-lab/qwen-sft"}}));
  EXPECT_EQ(find_tracker_links("wandb: ⭐️ View project at: https://wandb.ai/nlp-lab/qwen-sft"),
            (Links{{"wandb_project", "https://wandb.ai/nlp-lab/qwen-sft"}}));
}

TEST(TrackerLinks, WandbSweepLine) {
  EXPECT_EQ(find_tracker_links("wandb: 🧹 View sweep at https://wandb.ai/nlp-lab/qwen-sft/sweeps/ab12cd34"),
            (Links{{"wandb_sweep", "https://wandb.ai/nlp-lab/qwen-sft/sweeps/ab12cd34"}}));
}

TEST(TrackerLinks, OlderWandbWithoutEmoji) {
  EXPECT_EQ(find_tracker_links("wandb: View run at https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p")[0],
            (TrackerLink{"wandb_run", kRun}));
  EXPECT_EQ(find_tracker_links("wandb: Synced glorious-sun-42: https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p")[0],
            (TrackerLink{"wandb_run", kRun}));
}

TEST(TrackerLinks, RunUrlsAreCanonical) {
  // Newer wandb appends a query; tabs and trailing punctuation are not part of the run.
  EXPECT_EQ(find_tracker_links("wandb: 🚀 View run at https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p?nw=nwuserjdoe")[0],
            (TrackerLink{"wandb_run", kRun}));
  EXPECT_EQ(find_tracker_links("see https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p/overview.")[0],
            (TrackerLink{"wandb_run", kRun}));
  EXPECT_EQ(find_tracker_links("(run: https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p)")[0],
            (TrackerLink{"wandb_run", kRun}));
}

TEST(TrackerLinks, BareWandbUrlAnywhereOnALine) {
  EXPECT_EQ(find_tracker_links("[2026-11-30 03:01:02] INFO train.py:88 logging to https://wandb.ai/nlp-lab/qwen-sft/runs/3k9x2m1p")[0],
            (TrackerLink{"wandb_run", kRun}));
}

TEST(TrackerLinks, SelfHostedWandbOnlyOnWandbsOwnLines) {
  EXPECT_EQ(find_tracker_links("wandb: 🚀 View run at: http://wandb.lab.internal:8080/team/proj/runs/abc123")[0],
            (TrackerLink{"wandb_run", "http://wandb.lab.internal:8080/team/proj/runs/abc123"}));
  // The same URL shape elsewhere is not claimed as a WandB run.
  EXPECT_TRUE(find_tracker_links("GET http://example.org/team/proj/runs/abc123 200").empty());
}

TEST(TrackerLinks, MlflowRunAndExperimentLines) {
  // MLflow 2.x prints these when a run ends against a tracking server.
  EXPECT_EQ(find_tracker_links("🏃 View run sassy-snail-123 at: http://127.0.0.1:5000/#/experiments/3/runs/"
                               "8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60"),
            (Links{{"mlflow_run", "http://127.0.0.1:5000/#/experiments/3/runs/8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60"}}));
  EXPECT_EQ(find_tracker_links("🧪 View experiment at: http://127.0.0.1:5000/#/experiments/3"),
            (Links{{"mlflow_experiment", "http://127.0.0.1:5000/#/experiments/3"}}));
}

TEST(TrackerLinks, MlflowRunUrlWithTabsIsCutAtTheRun) {
  EXPECT_EQ(find_tracker_links("https://mlflow.lab.org/#/experiments/12/runs/8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60/artifacts")[0],
            (TrackerLink{"mlflow_run", "https://mlflow.lab.org/#/experiments/12/runs/8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60"}));
}

TEST(TrackerLinks, MlflowRunIdLines) {
  const std::string id = "8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60";
  const Links want{{"mlflow_run_id", id}};
  EXPECT_EQ(find_tracker_links("mlflow run id: " + id), want);
  EXPECT_EQ(find_tracker_links("MLflow run_id=" + id), want);
  EXPECT_EQ(find_tracker_links("INFO pipeline.tracking: MLflow run ID: '" + id + "' (hcrl_sa/teacher_autoencoder)"), want);
  EXPECT_EQ(find_tracker_links("export MLFLOW_RUN_ID=" + id), want);
}

TEST(TrackerLinks, LinesWithoutLinks) {
  EXPECT_TRUE(find_tracker_links("Epoch 3/10: loss=0.4312 lr=1e-4").empty());
  EXPECT_TRUE(find_tracker_links("wandb: Tracking run with wandb version 0.16.0").empty());
  EXPECT_TRUE(find_tracker_links("wandb: Run data is saved locally in /scratch/wandb/run-20261130_030102-3k9x2m1p").empty());
  EXPECT_TRUE(find_tracker_links("wandb: Currently logged in as: jdoe. Use `wandb login --relogin` to force relogin").empty());
  EXPECT_TRUE(find_tracker_links("Downloading https://huggingface.co/Qwen/Qwen2.5-1.5B/resolve/main/config.json").empty());
  // Not 32 hex digits, or no mention of MLflow: not a run id.
  EXPECT_TRUE(find_tracker_links("mlflow run id: 1234").empty());
  EXPECT_TRUE(find_tracker_links("teacher run id: 8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60").empty());
  EXPECT_TRUE(find_tracker_links("mlflow run id: 8c2b1f0f2a5d4e8f9e0a1b2c3d4e5f60ff").empty());
  EXPECT_TRUE(find_tracker_links("https://wandb.ai/site").empty());
  EXPECT_TRUE(find_tracker_links("").empty());
}

TEST(TrackerLinks, MergeKeepsFirstSeenOrderWithoutDuplicates) {
  Links links;
  EXPECT_TRUE(merge_tracker_links(links, {{"wandb_run", "a"}, {"wandb_logs", "a/logs"}}));
  EXPECT_FALSE(merge_tracker_links(links, {{"wandb_run", "a"}}));
  EXPECT_TRUE(merge_tracker_links(links, {{"wandb_run", "b"}}));
  EXPECT_EQ(links, (Links{{"wandb_run", "a"}, {"wandb_logs", "a/logs"}, {"wandb_run", "b"}}));
}

TEST(TrackerLinks, Renderings) {
  Links links{{"wandb_run", "https://wandb.ai/e/p/runs/1"}, {"wandb_project", "https://wandb.ai/e/p"},
              {"wandb_run", "https://wandb.ai/e/p/runs/2"}};
  EXPECT_EQ(render_links_text(links),
            "wandb_run https://wandb.ai/e/p/runs/1\nwandb_project https://wandb.ai/e/p\nwandb_run https://wandb.ai/e/p/runs/2\n");
  EXPECT_EQ(render_links_json(links, 1),
            "{\n    \"wandb_run\": \"https://wandb.ai/e/p/runs/2\",\n    \"wandb_project\": \"https://wandb.ai/e/p\"\n  }");
  EXPECT_EQ(render_links_json({}, 1), "{}");
  EXPECT_EQ(render_links_text({}), "");
}

}  // namespace
}  // namespace mmcfs::backend
