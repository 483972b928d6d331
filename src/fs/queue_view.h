// queue_view.h — the text of clusters/<name>/queue: the user's whole queue
// on that cluster (every job of the login user, mmcfs's or not), with
// pending reasons, as one aligned table
//   JOBID  NAME  PARTITION  STATE  TIME  NODES  GRES  REASON
// below '#' lines saying when it was taken (it is fetched at each cluster
// check and not kept across restarts), and why it is older when the cluster
// is down or the last `squeue --me` failed.
//
// Thread rules: pure functions.
#pragma once

#include <string>

#include "common/clock.h"
#include "fs/cluster_views.h"

namespace mmcfs::fs {

std::string render_queue(const ClusterView& view, WallTime now);
// When the queue was last taken (the snapshot's check time if never).
WallTime queue_time(const ClusterView& view);

}  // namespace mmcfs::fs
