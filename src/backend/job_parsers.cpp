// job_parsers.cpp — job status commands and their parsers (see job_parsers.h).
//
// Thread rules: pure functions; no shared state besides the const argv tables.
#include "backend/job_parsers.h"

#include <charconv>
#include <chrono>
#include <cstdint>

#include "backend/slurm_parsers.h"
#include "backend/slurm_text.h"

namespace mmcfs::backend {

// "Field:|" is width 0 (no padding, no cutting) with the suffix "|".
const std::vector<std::string> kSqueuePollArgv = {
    "env", "SLURM_TIME_FORMAT=%s", "squeue", "--me", "-r", "-t", "all", "-h", "-O",
    "JobArrayID:|,State:|,SubmitTime:|,StartTime:|,EndTime:|,exit_code:|,Reason:|,Comment:"};

// Fixed text: the jobs arrive on stdin, never inside the script. Only shell
// builtins run per job (read, printf), so a thousand jobs cost no forks.
const std::vector<std::string> kMarkerArgv = {
    "sh", "-c",
    "cd || exit 1\n"
    "while IFS=' ' read -r t d; do\n"
    "  case $d in '~') d=. ;; '~/'*) d=${d#'~/'} ;; esac\n"
    "  s=-\n"
    "  if [ -f \"$d/exit_status\" ]; then\n"
    "    IFS=' ' read -r s _ < \"$d/exit_status\"\n"
    "    case $s in ''|*[!0-9]*) s=- ;; esac\n"
    "  fi\n"
    "  a=-\n"
    "  if [ -f \"$d/started\" ]; then\n"
    "    while IFS='=' read -r k v; do if [ \"$k\" = started_at ]; then a=${v:--}; fi; done < \"$d/started\"\n"
    "  fi\n"
    "  printf '%s %s %s\\n' \"$t\" \"$s\" \"$a\"\n"
    "done\n",
    "mmcfs-markers"};

const std::vector<std::string> kScontrolJobsArgv = {
    "sh", "-c",
    "SLURM_TIME_FORMAT=%s; export SLURM_TIME_FORMAT\n"
    "while read -r id; do\n"
    "  case $id in ''|*[!0-9_]*) continue ;; esac\n"
    "  scontrol show job -o \"$id\"\n"
    "done\n"
    "exit 0\n",
    "mmcfs-scontrol-jobs"};

namespace {

using slurm_text::bad_line;
using slurm_text::to_number;
using slurm_text::trim;

// Non-blank lines, with trailing white space (and \r) removed. Leading space
// is kept: it matters to nothing here, but trimming it would hide garbage.
std::vector<std::string_view> lines_of(std::string_view text) {
  return slurm_text::lines_of(text, slurm_text::LineTrim::kTrailingOnly);
}

// Splits off the first `n` fields at '|'; the rest of the line (which may
// hold '|') is the last field. False if there are fewer than n separators.
bool split_fields(std::string_view line, size_t n, std::vector<std::string_view>& out) {
  out.clear();
  for (size_t i = 0; i < n; ++i) {
    size_t bar = line.find('|');
    if (bar == std::string_view::npos) return false;
    out.push_back(line.substr(0, bar));
    line.remove_prefix(bar + 1);
  }
  out.push_back(line);
  return true;
}

bool is_job_id(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '[' || c == ']' || c == '-';
    if (!ok) return false;
  }
  return id.front() >= '0' && id.front() <= '9';
}

bool is_state_word(std::string_view state) {
  if (state.empty()) return false;
  for (char c : state) {
    if (!((c >= 'A' && c <= 'Z') || c == '_')) return false;
  }
  return true;
}

std::string none_to_empty(std::string_view v) {
  v = trim(v);
  if (v == "None" || v == "(null)" || v == "N/A") return "";
  return std::string(v);
}

// squeue's exit_code: the raw wait status.
std::optional<int> from_wait_status(std::string_view text) {
  auto raw = to_number<int>(trim(text));
  if (!raw) return std::nullopt;
  int signal = *raw & 0x7f;
  if (signal != 0) return 128 + signal;
  return (*raw >> 8) & 0xff;
}

}  // namespace

std::string base_job_state(std::string_view state) {
  state = trim(state);
  size_t end = state.find_first_of(" +");
  return std::string(state.substr(0, end));
}

std::optional<WallTime> parse_epoch_time(std::string_view text) {
  auto seconds = to_number<std::int64_t>(trim(text));
  if (!seconds || *seconds == 0) return std::nullopt;
  return WallTime(std::chrono::seconds(*seconds));
}

std::optional<WallTime> parse_utc_time(std::string_view text) {
  text = trim(text);
  // YYYY-MM-DDTHH:MM:SSZ
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  auto y = to_number<int>(text.substr(0, 4));
  auto mo = to_number<unsigned>(text.substr(5, 2));
  auto d = to_number<unsigned>(text.substr(8, 2));
  auto h = to_number<int>(text.substr(11, 2));
  auto mi = to_number<int>(text.substr(14, 2));
  auto s = to_number<int>(text.substr(17, 2));
  if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(*y), std::chrono::month(*mo), std::chrono::day(*d)};
  if (!date.ok()) return std::nullopt;
  return WallTime(std::chrono::sys_days(date)) + std::chrono::hours(*h) + std::chrono::minutes(*mi) +
         std::chrono::seconds(*s);
}

std::optional<int> parse_status_signal(std::string_view text) {
  text = trim(text);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto status = to_number<int>(text.substr(0, colon));
  auto signal = to_number<int>(text.substr(colon + 1));
  if (!status || !signal) return std::nullopt;
  return *signal != 0 ? 128 + *signal : *status;
}

Result<std::vector<SlurmJobStatus>> parse_squeue_poll(std::string_view text) {
  std::vector<SlurmJobStatus> jobs;
  std::vector<std::string_view> f;
  for (std::string_view line : lines_of(text)) {
    if (!split_fields(line, 7, f) || !is_job_id(trim(f[0])) || !is_state_word(trim(f[1]))) {
      return bad_line("squeue", line);
    }
    SlurmJobStatus job;
    job.slurm_id = std::string(trim(f[0]));
    job.state = base_job_state(f[1]);
    job.submit_time = parse_epoch_time(f[2]);
    job.start_time = parse_epoch_time(f[3]);
    job.end_time = parse_epoch_time(f[4]);
    job.exit_code = from_wait_status(f[5]);
    job.reason = none_to_empty(f[6]);
    job.comment = none_to_empty(f[7]);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<std::string> sacct_argv(const std::vector<std::string>& slurm_ids) {
  std::string ids;
  for (const std::string& id : slurm_ids) ids += (ids.empty() ? "" : ",") + id;
  return {"env", "SLURM_TIME_FORMAT=%s", "sacct", "-n", "-P", "-X", "-j", ids,
          "-o", "JobID,State,ExitCode,Submit,Start,End,Comment"};
}

Result<std::vector<SlurmJobStatus>> parse_sacct(std::string_view text) {
  std::vector<SlurmJobStatus> jobs;
  std::vector<std::string_view> f;
  for (std::string_view line : lines_of(text)) {
    if (!split_fields(line, 6, f) || !is_job_id(trim(f[0])) || !is_state_word(base_job_state(f[1]))) {
      return bad_line("sacct", line);
    }
    SlurmJobStatus job;
    job.slurm_id = std::string(trim(f[0]));
    job.state = base_job_state(f[1]);
    job.exit_code = parse_status_signal(f[2]);
    job.submit_time = parse_epoch_time(f[3]);
    job.start_time = parse_epoch_time(f[4]);
    job.end_time = parse_epoch_time(f[5]);
    job.comment = none_to_empty(f[6]);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

bool sacct_accounting_disabled(std::string_view err) {
  return err.find("accounting storage is disabled") != std::string_view::npos;
}

std::vector<std::string> scontrol_show_job_argv(const std::string& slurm_id) {
  return {"env", "SLURM_TIME_FORMAT=%s", "scontrol", "show", "job", "-o", slurm_id};
}

Result<std::vector<SlurmJobStatus>> parse_scontrol_jobs(std::string_view text) {
  std::vector<SlurmJobStatus> jobs;
  std::vector<KeyValue> kv;
  for (std::string_view line : lines_of(text)) {
    if (!split_scontrol_line(trim(line), kv) || kv.empty() || kv.front().key != "JobId") {
      return bad_line("scontrol show job", line);
    }
    SlurmJobStatus job;
    for (const KeyValue& p : kv) {
      if (p.key == "JobId") job.slurm_id = std::string(p.value);
      else if (p.key == "JobState") job.state = base_job_state(p.value);
      else if (p.key == "Reason") job.reason = none_to_empty(p.value);
      else if (p.key == "ExitCode") job.exit_code = parse_status_signal(p.value);
      else if (p.key == "SubmitTime") job.submit_time = parse_epoch_time(p.value);
      else if (p.key == "StartTime") job.start_time = parse_epoch_time(p.value);
      else if (p.key == "EndTime") job.end_time = parse_epoch_time(p.value);
      else if (p.key == "Comment") job.comment = none_to_empty(p.value);
    }
    if (!is_job_id(job.slurm_id) || !is_state_word(job.state)) return bad_line("scontrol show job", line);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::string scontrol_ids_input(const std::vector<std::string>& slurm_ids) {
  std::string input;
  for (const std::string& id : slurm_ids) {
    if (is_job_id(id)) input += id + "\n";
  }
  return input;
}

std::string marker_input(const std::vector<JobDirRef>& jobs) {
  std::string input;
  for (const JobDirRef& j : jobs) {
    if (j.token.empty() || j.dir.empty() || j.token.find_first_of(" \t\n") != std::string::npos ||
        j.dir.find('\n') != std::string::npos) {
      continue;
    }
    input += j.token + " " + j.dir + "\n";
  }
  return input;
}

Result<std::vector<JobMarker>> parse_markers(std::string_view text) {
  std::vector<JobMarker> markers;
  for (std::string_view line : lines_of(text)) {
    size_t a = line.find(' ');
    size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    if (a == 0 || b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos) {
      return bad_line("exit-status markers", line);
    }
    std::string_view status = line.substr(a + 1, b - a - 1);
    std::string_view started = line.substr(b + 1);
    JobMarker m;
    m.token = std::string(line.substr(0, a));
    if (status != "-") {
      m.exit_status = to_number<int>(status);
      if (!m.exit_status) return bad_line("exit-status markers", line);
    }
    if (started != "-") m.started_at = parse_utc_time(started);
    markers.push_back(std::move(m));
  }
  return markers;
}

}  // namespace mmcfs::backend
