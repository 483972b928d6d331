// tracker_links.h — experiment-tracker links found in a job's output: WandB
// runs, projects and sweeps, MLflow runs and experiments (URLs, or bare run
// ids when the job logs to a file store and prints only the id).
//
// Pure functions over one line of log text, tested on lines as the trackers
// print them (tests/unit/tracker_links_test.cpp): WandB's `wandb: 🚀 View run
// NAME at: URL` / `wandb: ⭐️ View project at: URL` (with or without ANSI
// colours, emoji or the colon), bare wandb.ai URLs anywhere, self-hosted W&B
// hosts when the line is one of wandb's own; MLflow's `🏃 View run NAME at:
// URL` and `🧪 View experiment at: URL`, any URL with `#/experiments/N/runs/ID`,
// and `mlflow ... run id: <32 hex>` / `MLFLOW_RUN_ID=<32 hex>` lines.
//
// Kinds: wandb_run, wandb_logs (the run's logs tab, derived from the run),
// wandb_project, wandb_sweep, mlflow_run, mlflow_experiment, mlflow_run_id.
//
// Thread rules: stateless; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mmcfs::backend {

struct TrackerLink {
  std::string kind;
  std::string url;  // a URL, or the run id for mlflow_run_id
  bool operator==(const TrackerLink&) const = default;
};

// The links on one line of output (no newline), in the order they appear.
std::vector<TrackerLink> find_tracker_links(std::string_view line);

// Adds `found` to `links` (first-seen order, no duplicates); true if any was new.
bool merge_tracker_links(std::vector<TrackerLink>& links, const std::vector<TrackerLink>& found);

// jobs/<id>/links: "kind url\n" for every link, in first-seen order.
std::string render_links_text(const std::vector<TrackerLink>& links);

// info.json's "links" object: each kind once, with its most recent URL
// ("{}" when there is none). `indent` is the object's own indentation level.
std::string render_links_json(const std::vector<TrackerLink>& links, int indent);

}  // namespace mmcfs::backend
