// user_queue.h — the user's whole queue on a cluster (every job of the login
// user, not only mmcfs's), for clusters/<name>/queue.
//
// One `squeue --me` per cluster monitor check (kSqueueMineArgv), one line
// per job:
//   JobID|Partition|State|TimeUsed|NumNodes|tres-per-node|Reason|Name
// Name is last because it is the only field a user chooses freely (it may
// hold "|"); Reason holds spaces ("launch failed requeued held") but no "|"
// (tests/data/alpha-squeue-me-queue.txt).
//
// The parser is pure and never throws; a malformed line is kRemoteFailed
// quoting it. The table renderer is pure too.
//
// Thread rules: pure functions; UserQueue values are immutable once published
// (shared by shared_ptr<const UserQueue>).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::backend {

extern const std::vector<std::string> kSqueueMineArgv;

struct QueueRow {
  std::string job_id;
  std::string partition;
  std::string state;      // PENDING, RUNNING, ...
  std::string time_used;  // "0:00", "1:02:03", "1-00:00:00"
  std::string nodes;      // count
  std::string gres;       // tres-per-node ("gres:gpu:a100:1"), "" for none
  std::string reason;     // "Resources", "JobHeldUser", "" for None
  std::string name;
};

// What the last check learned of the queue.
struct UserQueue {
  WallTime fetched_at{};     // when the rows were fetched
  std::vector<QueueRow> rows;
  std::string error;         // why the last attempt failed ("" if it did not); rows are older then
  WallTime failed_at{};      // when it failed
};

Result<std::vector<QueueRow>> parse_user_queue(std::string_view text);

// The aligned table:
//   JOBID  NAME  PARTITION  STATE  TIME  NODES  GRES  REASON
// GRES shows "gpu:a100:1" (the "gres:" prefix dropped); an empty field "-".
std::string render_user_queue_table(const std::vector<QueueRow>& rows);

}  // namespace mmcfs::backend
