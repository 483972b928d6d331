// scancel.h — cancelling one SLURM job, and what scancel's answer means.
//
// `scancel -v <id>` (verbose, so that SLURM says why nothing was cancelled):
// scancel exits 0 even for a job that already ended or that the controller
// no longer knows, and says so only on stderr with -v
// (tests/data/alpha-scancel-*.txt):
//   scancel: Terminating job 30
//   scancel: error: Kill job error on job id 30: Job/step already completing or completed
//   scancel: error: Kill job error on job id 999999: Invalid job id specified
//
// Thread rules: pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "backend/remote.h"

namespace mmcfs::backend {

std::vector<std::string> scancel_argv(const std::string& slurm_id);

enum class ScancelVerdict {
  kSignalled,     // SLURM accepted the cancel
  kAlreadyEnded,  // the job was already completing or completed
  kUnknownJob,    // the controller no longer knows the id (ended long ago)
  kFailed,        // anything else: scancel refused (detail says why)
};

struct ScancelOutcome {
  ScancelVerdict verdict = ScancelVerdict::kFailed;
  std::string detail;  // SLURM's own words (first error line), "" if none
};

ScancelOutcome classify_scancel(const CommandResult& result);

}  // namespace mmcfs::backend
