// gpu_inventory.cpp — per-type GPU availability (rules in gpu_inventory.h).
//
// Thread rules: pure functions over their arguments.
#include "backend/gpu_inventory.h"

#include <algorithm>
#include <map>
#include <string_view>

namespace mmcfs::backend {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Natural order: "node2" < "node10"; otherwise plain character order.
bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      while (na.size() > 1 && na.front() == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb.front() == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;
}

// Rows keyed by the lower-cased shown name, so "A100" and "a100" are one row.
class RowTable {
 public:
  // A row for a configured type, before anything was seen on the cluster.
  void seed(const std::string& shown) { entry(shown).summary.slurm_type = lower(shown); }

  // The row for `shown`; the first SLURM spelling seen becomes its slurm_type.
  GpuTypeSummary& row(const std::string& shown, const std::string& slurm_type) {
    Entry& e = entry(shown);
    if (!e.slurm_type_seen) {
      e.summary.slurm_type = slurm_type;
      e.slurm_type_seen = true;
    }
    return e.summary;
  }

  std::vector<GpuTypeSummary> take_sorted() {
    std::vector<GpuTypeSummary> out;
    for (auto& [key, e] : rows_) {
      auto& free_on = e.summary.free_on;
      std::sort(free_on.begin(), free_on.end(),
                [](const auto& x, const auto& y) { return natural_less(x.first, y.first); });
      out.push_back(std::move(e.summary));
    }
    return out;  // std::map keeps lower-cased names in order
  }

 private:
  struct Entry {
    GpuTypeSummary summary;
    bool slurm_type_seen = false;
  };
  Entry& entry(const std::string& shown) {
    auto [it, inserted] = rows_.try_emplace(lower(shown));
    if (inserted) it->second.summary.type = shown;
    return it->second;
  }
  std::map<std::string, Entry> rows_;
};

// The row name for a SLURM gres type, or "" if the type is not shown.
std::string shown_name(const std::string& slurm_type, const config::ClusterConfig& cluster) {
  if (slurm_type.empty()) return cluster.allowed_gpu_types.empty() ? kUntypedGpuName : "";
  return cluster.allowed_gpu_spelling(slurm_type);
}

bool any_partition_allowed(const std::vector<std::string>& partitions,
                           const config::ClusterConfig& cluster) {
  return std::any_of(partitions.begin(), partitions.end(),
                     [&](const std::string& p) { return cluster.partition_allowed(p); });
}

// "a,b" -> {"a", "b"}.
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    size_t end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Sums counts by lower-cased type (a node may list one type once per socket).
std::map<std::string, std::pair<std::string, int>> sum_by_type(const std::vector<GpuCount>& gpus) {
  std::map<std::string, std::pair<std::string, int>> sums;  // key -> (spelling, count)
  for (const GpuCount& g : gpus) {
    auto& [spelling, count] = sums[lower(g.type)];
    if (spelling.empty()) spelling = g.type;
    count += std::max(g.count, 0);
  }
  return sums;
}

void add_node(const SlurmNode& node, const config::ClusterConfig& cluster, RowTable& table) {
  std::map<std::string, std::pair<std::string, int>> used = sum_by_type(node.gpus_used);
  bool schedulable = node.schedulable();
  for (const auto& [key, total] : sum_by_type(node.gpus)) {
    std::string shown = shown_name(total.first, cluster);
    if (shown.empty()) continue;
    GpuTypeSummary& row = table.row(shown, total.first);
    auto u = used.find(key);
    int in_use = std::min(u == used.end() ? 0 : u->second.second, total.second);
    int rest = total.second - in_use;
    row.total += total.second;
    row.used += in_use;
    if (schedulable) {
      row.free += rest;
      if (rest > 0) row.free_on.emplace_back(node.name, rest);
    } else {
      row.unavailable += rest;
    }
  }
}

bool pending_counts(const PendingGpuRequest& request, const config::ClusterConfig& cluster) {
  return request.count > 0 && any_partition_allowed(split_commas(request.partition), cluster);
}

}  // namespace

std::vector<GpuTypeSummary> summarize_gpus(const std::vector<SlurmNode>& nodes,
                                           const std::vector<PendingGpuRequest>& pending,
                                           const config::ClusterConfig& cluster) {
  RowTable table;
  for (const std::string& type : cluster.allowed_gpu_types) table.seed(type);
  for (const SlurmNode& node : nodes) {
    if (any_partition_allowed(node.partitions, cluster)) add_node(node, cluster, table);
  }
  for (const PendingGpuRequest& request : pending) {
    if (request.type.empty() || !pending_counts(request, cluster)) continue;
    std::string shown = shown_name(request.type, cluster);
    if (!shown.empty()) table.row(shown, request.type).pending += request.count;
  }
  return table.take_sorted();
}

int count_untyped_pending(const std::vector<PendingGpuRequest>& pending,
                          const config::ClusterConfig& cluster) {
  int total = 0;
  for (const PendingGpuRequest& request : pending) {
    if (request.type.empty() && pending_counts(request, cluster)) total += request.count;
  }
  return total;
}

}  // namespace mmcfs::backend
