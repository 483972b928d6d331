// slurm_parsers.cpp — parsers for scontrol/squeue output (see slurm_parsers.h).
//
// Thread rules: pure functions; no shared state besides the const argv tables.
#include "backend/slurm_parsers.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "backend/slurm_text.h"

namespace mmcfs::backend {

const std::vector<std::string> kScontrolShowNodesArgv = {"scontrol", "show", "node", "-d", "-o"};
const std::vector<std::string> kScontrolShowPartitionsArgv = {"scontrol", "show", "partition",
                                                              "-o"};
// The command of tests/data/alpha-squeue-pending-O.txt. "Field:|" means
// width 0 (no padding, no cutting) followed by the suffix "|". Reason is last
// because it may contain spaces and commas.
const std::vector<std::string> kSqueuePendingArgv = {
    "squeue", "-h", "-t", "PENDING", "-O",
    "JobID:|,Partition:|,NumNodes:|,tres-per-node:|,Reason:"};
const std::vector<std::string> kScontrolVersionArgv = {"scontrol", "--version"};

namespace {

using slurm_text::bad_line;
using slurm_text::is_space;
using slurm_text::trim;

// Non-blank lines of `text`, trimmed.
std::vector<std::string_view> lines_of(std::string_view text) {
  return slurm_text::lines_of(text, slurm_text::LineTrim::kBoth);
}

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_key_char(char c) {
  return is_upper(c) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of the key starting at `pos` ("Key" of "Key=..."), 0 if none.
size_t key_length_at(std::string_view line, size_t pos) {
  if (pos >= line.size() || !is_upper(line[pos])) return 0;
  size_t end = pos + 1;
  while (end < line.size() && is_key_char(line[end])) ++end;
  return (end < line.size() && line[end] == '=') ? end - pos : 0;
}

std::optional<int> to_int(std::string_view s) { return slurm_text::to_number<int>(trim(s)); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Splits on `sep` outside parentheses ("gpu:a100:2(IDX:0,2),gpu:b:1").
std::vector<std::string_view> split_top_level(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && depth > 0) --depth;
    if (s[i] == sep && depth == 0) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool is_null_value(std::string_view v) {
  v = trim(v);
  return v.empty() || v == "(null)" || v == "N/A" || v == "none" || v == "NONE";
}

// One GPU entry split into tokens after the name: ["a100","2"], ["2"], [].
// Sets `type`/`count`; false if the count is not a number.
bool gpu_from_tokens(const std::vector<std::string_view>& tokens, GpuCount& gpu) {
  std::vector<std::string_view> rest;
  for (std::string_view t : tokens) {
    t = trim(t);
    if (t == "no_consume") continue;  // a gres flag, not a type
    rest.push_back(t == "(null)" ? std::string_view() : t);
  }
  gpu = GpuCount{};
  if (rest.empty()) {
    gpu.count = 1;  // "gpu" alone means one
    return true;
  }
  std::optional<int> count = to_int(rest.back());
  if (rest.size() == 1) {
    if (count) {
      gpu.count = *count;
    } else {
      gpu.type = lower(rest[0]);  // "gpu:a100" means one a100
      gpu.count = 1;
    }
    return true;
  }
  if (!count) return false;
  gpu.type = lower(rest[0]);
  gpu.count = *count;
  return true;
}

// Value of the first `key` in `kvs`, or nullopt.
std::optional<std::string_view> find_value(const std::vector<KeyValue>& kvs,
                                           std::string_view key) {
  for (const KeyValue& kv : kvs) {
    if (kv.key == key) return kv.value;
  }
  return std::nullopt;
}

std::vector<std::string> split_names(std::string_view value) {
  std::vector<std::string> names;
  if (is_null_value(value)) return names;
  for (std::string_view part : split(value, ',')) {
    part = trim(part);
    if (!part.empty()) names.emplace_back(part);
  }
  return names;
}

Result<SlurmNode> node_from_line(std::string_view line) {
  constexpr std::string_view kWhat = "scontrol show node";
  std::vector<KeyValue> kvs;
  if (!split_scontrol_line(line, kvs) || kvs.front().key != "NodeName") {
    return bad_line(kWhat, line);
  }
  SlurmNode node;
  node.name = std::string(kvs.front().value);
  std::optional<std::string_view> state = find_value(kvs, "State");
  if (node.name.empty() || !state || state->empty()) {
    return bad_line(std::string(kWhat) + " (no NodeName or State)", line);
  }
  node.state = std::string(*state);
  if (auto reason = find_value(kvs, "Reason"); reason && !is_null_value(*reason)) {
    node.reason = std::string(*reason);
  }
  if (auto parts = find_value(kvs, "Partitions")) node.partitions = split_names(*parts);
  if (auto gres = find_value(kvs, "Gres"); gres && !parse_gres_gpus(*gres, node.gpus)) {
    return bad_line(std::string(kWhat) + " (bad Gres)", line);
  }
  if (auto used = find_value(kvs, "GresUsed"); used && !parse_gres_gpus(*used, node.gpus_used)) {
    return bad_line(std::string(kWhat) + " (bad GresUsed)", line);
  }
  return node;
}

Result<SlurmPartition> partition_from_line(std::string_view line) {
  constexpr std::string_view kWhat = "scontrol show partition";
  std::vector<KeyValue> kvs;
  if (!split_scontrol_line(line, kvs) || kvs.front().key != "PartitionName") {
    return bad_line(kWhat, line);
  }
  SlurmPartition part;
  part.name = std::string(kvs.front().value);
  std::optional<std::string_view> state = find_value(kvs, "State");
  if (part.name.empty() || !state || state->empty()) {
    return bad_line(std::string(kWhat) + " (no PartitionName or State)", line);
  }
  part.state = std::string(*state);
  part.is_default = find_value(kvs, "Default").value_or("NO") == "YES";
  if (auto total = find_value(kvs, "TotalNodes")) {
    std::optional<int> n = to_int(*total);
    if (!n) return bad_line(std::string(kWhat) + " (bad TotalNodes)", line);
    part.total_nodes = *n;
  }
  part.max_time = std::string(find_value(kvs, "MaxTime").value_or(""));
  if (auto nodes = find_value(kvs, "Nodes"); nodes && !is_null_value(*nodes)) {
    part.nodes = std::string(*nodes);
  }
  return part;
}

// "No nodes in the system" / "No partitions in the system": scontrol's way
// of printing an empty list.
bool is_empty_notice(std::string_view line) {
  return line.starts_with("No ") && line.ends_with(" in the system");
}

// Number of jobs one squeue line stands for: 1, or the element count of a
// pending array shown as one line ("12_[1-10%2]", "12_[1,3,5-9:2]").
constexpr int kMaxArrayElements = 1 << 20;  // keeps the arithmetic in range
int array_element_count(std::string_view job_id) {
  size_t open = job_id.find("_[");
  if (open == std::string_view::npos || !job_id.ends_with(']')) return 1;
  std::string_view ranges = job_id.substr(open + 2, job_id.size() - open - 3);
  ranges = ranges.substr(0, ranges.find('%'));  // "%2": at most two at a time
  int count = 0;
  for (std::string_view range : split(ranges, ',')) {
    std::string_view step_text = "1";
    if (size_t colon = range.find(':'); colon != std::string_view::npos) {
      step_text = range.substr(colon + 1);
      range = range.substr(0, colon);
    }
    size_t dash = range.find('-');
    std::optional<int> first = to_int(range.substr(0, dash));
    std::optional<int> last =
        dash == std::string_view::npos ? first : to_int(range.substr(dash + 1));
    std::optional<int> step = to_int(step_text);
    if (!first || !last || !step || *step == 0 || *last < *first) return 1;
    count += (*last - *first) / *step + 1;
    if (count > kMaxArrayElements) return kMaxArrayElements;
  }
  return count > 0 ? count : 1;
}

// Appends the pending GPU requests of one line of kSqueuePendingArgv's
// output: JobID|Partition|NumNodes|tres-per-node|Reason.
Status pending_from_line(std::string_view line, std::vector<PendingGpuRequest>& out) {
  constexpr std::string_view kWhat = "squeue pending";
  std::vector<std::string_view> fields;
  std::string_view rest = line;
  for (int i = 0; i < 4; ++i) {
    size_t bar = rest.find('|');
    if (bar == std::string_view::npos) return bad_line(kWhat, line);
    fields.push_back(trim(rest.substr(0, bar)));
    rest.remove_prefix(bar + 1);
  }
  std::string_view job_id = fields[0], partition = fields[1];
  std::optional<int> nodes = to_int(fields[2]);
  if (job_id.empty() || partition.empty() || !nodes) return bad_line(kWhat, line);
  std::vector<GpuCount> per_node;
  if (!parse_tres_gpus(fields[3], per_node)) {
    return bad_line(std::string(kWhat) + " (bad tres-per-node)", line);
  }
  int node_count = *nodes > 0 ? *nodes : 1;  // a pending job runs on at least one node
  int jobs = array_element_count(job_id);
  for (const GpuCount& g : per_node) {
    if (g.count <= 0) continue;
    long long wanted = static_cast<long long>(g.count) * node_count * jobs;
    int capped = static_cast<int>(std::min<long long>(wanted, std::numeric_limits<int>::max()));
    out.push_back({std::string(partition), g.type, capped, std::string(job_id),
                   std::string(trim(rest))});
  }
  return Status::Ok();
}

}  // namespace

bool split_scontrol_line(std::string_view line, std::vector<KeyValue>& out) {
  out.clear();
  line = trim(line);
  if (key_length_at(line, 0) == 0) return false;
  size_t key_start = 0;
  while (key_start < line.size()) {
    size_t key_len = key_length_at(line, key_start);
    size_t value_start = key_start + key_len + 1;
    // The value ends where a space is followed by the next key.
    size_t next = value_start;
    while (next < line.size() && !(is_space(line[next - 1]) && key_length_at(line, next) > 0)) {
      ++next;
    }
    out.push_back({line.substr(key_start, key_len),
                   trim(line.substr(value_start, next - value_start))});
    key_start = next;
  }
  return true;
}

bool parse_gres_gpus(std::string_view value, std::vector<GpuCount>& out) {
  out.clear();
  if (is_null_value(value)) return true;
  for (std::string_view item : split_top_level(trim(value), ',')) {
    item = trim(item);
    // Drop a trailing "(S:0-1)" / "(IDX:2-3)" but keep a "(null)" type.
    if (item.ends_with(')')) {
      size_t open = item.rfind('(');
      if (open != std::string_view::npos && item.substr(open) != "(null)") {
        item = item.substr(0, open);
      }
    }
    std::vector<std::string_view> tokens = split(item, ':');
    if (trim(tokens.front()) != "gpu") continue;  // other gres: mps, shard, ...
    GpuCount gpu;
    if (!gpu_from_tokens(std::vector<std::string_view>(tokens.begin() + 1, tokens.end()), gpu)) {
      return false;
    }
    out.push_back(gpu);
  }
  return true;
}

bool parse_tres_gpus(std::string_view value, std::vector<GpuCount>& out) {
  out.clear();
  if (is_null_value(value)) return true;
  for (std::string_view item : split(trim(value), ',')) {
    item = trim(item);
    // 22.05 spells "gres:gpu:a100:2"; later releases "gres/gpu:a100=2".
    if (item.starts_with("gres:") || item.starts_with("gres/")) item.remove_prefix(5);
    std::string normalised(item);
    for (char& c : normalised) {
      if (c == '=') c = ':';
    }
    std::vector<std::string_view> tokens = split(normalised, ':');
    if (trim(tokens.front()) != "gpu") continue;
    GpuCount gpu;
    if (!gpu_from_tokens(std::vector<std::string_view>(tokens.begin() + 1, tokens.end()), gpu)) {
      return false;
    }
    out.push_back(gpu);
  }
  return true;
}

Result<std::vector<SlurmNode>> parse_scontrol_nodes(std::string_view text) {
  std::vector<SlurmNode> nodes;
  for (std::string_view line : lines_of(text)) {
    if (is_empty_notice(line)) continue;
    Result<SlurmNode> node = node_from_line(line);
    if (!node) return node.error();
    nodes.push_back(std::move(node).value());
  }
  return nodes;
}

Result<std::vector<SlurmPartition>> parse_scontrol_partitions(std::string_view text) {
  std::vector<SlurmPartition> parts;
  for (std::string_view line : lines_of(text)) {
    if (is_empty_notice(line)) continue;
    Result<SlurmPartition> part = partition_from_line(line);
    if (!part) return part.error();
    parts.push_back(std::move(part).value());
  }
  return parts;
}

Result<std::vector<PendingGpuRequest>> parse_squeue_pending(std::string_view text) {
  std::vector<PendingGpuRequest> requests;
  for (std::string_view line : lines_of(text)) {
    if (Status s = pending_from_line(line, requests); !s) return s.error();
  }
  return requests;
}

Result<std::string> parse_slurm_version(std::string_view text) {
  std::vector<std::string_view> lines = lines_of(text);
  if (lines.empty()) {
    return make_error(Errc::kRemoteFailed, "scontrol --version printed nothing");
  }
  std::string_view line = lines.front();
  size_t space = line.rfind(' ');
  std::string_view name = space == std::string_view::npos ? "" : line.substr(0, space);
  std::string_view version = space == std::string_view::npos ? line : line.substr(space + 1);
  bool name_ok = name == "slurm" || name.starts_with("slurm-") || name.starts_with("slurm ");
  bool version_ok = !version.empty() && version.front() >= '0' && version.front() <= '9' &&
                    version.find('.') != std::string_view::npos;
  if (!name_ok || !version_ok) return bad_line("scontrol --version", line);
  return std::string(version);
}

}  // namespace mmcfs::backend
