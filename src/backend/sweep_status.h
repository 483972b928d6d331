// sweep_status.h — a sweep's own status, summarised from its runs' states.
//
// A sweep (backend/job_store.h) is final when every run is final or
// UNKNOWN. Its state is then COMPLETED if every run completed, else FAILED
// if any run failed in any other way than being cancelled (FAILED, TIMEOUT,
// OUT_OF_MEMORY, ...), else CANCELLED if any was cancelled, else UNKNOWN.
// Before that it is RUNNING if any run has started (RUNNING, COMPLETING, or
// already finished), else PENDING (SUBMITTING while every run is). The
// reason counts the runs by state, so that the status line reads
//   RUNNING (1/4 finished: COMPLETED 1, PENDING 1, RUNNING 2)
// (states in alphabetical order). started_at is the earliest run start;
// ended_at, once final, the latest run end (else `now`). No exit code: see
// each run's.
//
// Thread rules: a pure function.
#pragma once

#include <vector>

#include "backend/job_poller.h"
#include "backend/job_store.h"

namespace mmcfs::backend {

JobUpdate summarize_sweep(const std::vector<JobRecord>& runs, WallTime now);

}  // namespace mmcfs::backend
