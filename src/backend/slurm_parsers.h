// slurm_parsers.h — pure functions from SLURM command output to slurm_model.h values.
//
// Each parser sits next to the exact argv whose output it understands, so the
// command and its parser change together. The backend runs the argv through
// Remote::run() and hands stdout to the parser; tests feed text captured from
// a real SLURM 22.05 cluster (tests/data/, commands named in its README.md).
//
// Parsers never throw. Empty output is an empty result (a cluster with no
// nodes is valid). Output that does not have the expected shape (garbage, a
// truncated line) is an Error with code kRemoteFailed whose message quotes the
// offending line, shortened.
//
// Thread rules: pure functions over their arguments; the argv constants are
// immutable after static initialisation. Safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backend/slurm_model.h"
#include "common/result.h"

namespace mmcfs::backend {

// `scontrol show node -d -o`: one node per line, "Key=Value" pairs separated
// by spaces, where a value runs until the next " Key=" (values such as OS= and
// Reason= contain spaces).
extern const std::vector<std::string> kScontrolShowNodesArgv;
Result<std::vector<SlurmNode>> parse_scontrol_nodes(std::string_view text);

// `scontrol show partition -o`: one partition per line, same syntax.
extern const std::vector<std::string> kScontrolShowPartitionsArgv;
Result<std::vector<SlurmPartition>> parse_scontrol_partitions(std::string_view text);

// Pending jobs, one per line: JobID|Partition|NumNodes|tres-per-node|Reason
// (the command of tests/data/alpha-squeue-pending-O.txt). Per-node GPU
// requests are multiplied by the node count, and by the element count of a
// pending array printed as one line ("12_[1-4]"). Jobs that ask for no GPU
// per node are skipped, which includes jobs that asked with --gpus (their
// request is in tres-per-job, not in this format). Partition is kept as
// printed: a job pending in several partitions has "a,b".
extern const std::vector<std::string> kSqueuePendingArgv;
Result<std::vector<PendingGpuRequest>> parse_squeue_pending(std::string_view text);

// `scontrol --version`: "slurm 22.05.8" (or "slurm-wlm 22.05.8") -> "22.05.8".
extern const std::vector<std::string> kScontrolVersionArgv;
Result<std::string> parse_slurm_version(std::string_view text);

// Building blocks, exposed for tests and for other parsers.

// One `scontrol -o` line split into (key, value) pairs in order. A key starts
// at the beginning of the line or after a space, begins with an upper-case
// letter, is made of [A-Za-z0-9_] and is followed by '='; its value runs to
// the next such key, trimmed. Returns false if the line does not start with a
// key.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};
bool split_scontrol_line(std::string_view line, std::vector<KeyValue>& out);

// GPU entries of a Gres=/GresUsed= value ("gpu:a100:2(S:0-1),gpu:a6000:0(IDX:N/A)",
// "gpu:2", "(null)"). Non-GPU gres are ignored. Returns false on a GPU entry
// whose count is not a number.
bool parse_gres_gpus(std::string_view value, std::vector<GpuCount>& out);

// GPU entries of a tres-per-node/-job value in any 22.05 spelling
// ("gres:gpu:a100:2", "gres/gpu:a100=2", "gres/gpu=2", "gpu:2", "N/A").
// Returns false on a GPU entry whose count is not a number.
bool parse_tres_gpus(std::string_view value, std::vector<GpuCount>& out);

}  // namespace mmcfs::backend
