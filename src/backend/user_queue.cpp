// user_queue.cpp — the user's queue: command, parser, table (see user_queue.h).
#include "backend/user_queue.h"

#include <algorithm>

#include "backend/slurm_text.h"

namespace mmcfs::backend {

const std::vector<std::string> kSqueueMineArgv = {
    "squeue", "--me", "-h", "-O",
    "JobID:|,Partition:|,State:|,TimeUsed:|,NumNodes:|,tres-per-node:|,Reason:|,Name:"};

namespace {

using slurm_text::bad_line;
using slurm_text::trim;

std::string shown(std::string_view field) {
  field = trim(field);
  if (field.empty() || field == "N/A" || field == "(null)") return "";
  return std::string(field);
}

std::string gres_shown(const std::string& tres) {
  // "gres:gpu:a100:1,gres:gpu:a6000:1" -> "gpu:a100:1,gpu:a6000:1"
  std::string out;
  std::size_t start = 0;
  while (start <= tres.size() && !tres.empty()) {
    auto end = tres.find(',', start);
    if (end == std::string::npos) end = tres.size();
    std::string part = tres.substr(start, end - start);
    if (part.rfind("gres:", 0) == 0) part = part.substr(5);
    if (!part.empty()) out += (out.empty() ? "" : ",") + part;
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<QueueRow>> parse_user_queue(std::string_view text) {
  constexpr std::string_view kWhat = "squeue --me";
  std::vector<QueueRow> rows;
  for (std::string_view line : slurm_text::lines_of(text, slurm_text::LineTrim::kTrailingOnly)) {
    std::vector<std::string_view> f;
    std::string_view rest = line;
    for (int i = 0; i < 7; ++i) {
      auto bar = rest.find('|');
      if (bar == std::string_view::npos) return bad_line(kWhat, line);
      f.push_back(rest.substr(0, bar));
      rest.remove_prefix(bar + 1);
    }
    QueueRow row;
    row.job_id = shown(f[0]);
    row.partition = shown(f[1]);
    row.state = shown(f[2]);
    row.time_used = shown(f[3]);
    row.nodes = shown(f[4]);
    row.gres = gres_shown(shown(f[5]));
    row.reason = shown(f[6]);
    if (row.reason == "None") row.reason.clear();
    row.name = std::string(rest);
    bool id_ok = !row.job_id.empty() && row.job_id.front() >= '0' && row.job_id.front() <= '9';
    bool state_ok = !row.state.empty() && std::all_of(row.state.begin(), row.state.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || c == '_';
    });
    if (!id_ok || !state_ok) return bad_line(kWhat, line);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string render_user_queue_table(const std::vector<QueueRow>& rows) {
  std::vector<std::vector<std::string>> table;
  table.push_back({"JOBID", "NAME", "PARTITION", "STATE", "TIME", "NODES", "GRES", "REASON"});
  for (const auto& r : rows) {
    auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
    // Names may hold spaces or tabs; shown with them turned into '_' so that
    // columns stay columns (awk '{print $2}').
    std::string name = r.name;
    for (char& c : name) {
      if (c == ' ' || c == '\t') c = '_';
    }
    table.push_back({r.job_id, dash(name), dash(r.partition), r.state, dash(r.time_used), dash(r.nodes),
                     dash(r.gres), dash(r.reason)});
  }
  std::vector<std::size_t> width(table.front().size(), 0);
  for (const auto& row : table) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace mmcfs::backend
