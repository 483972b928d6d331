// job_store.cpp — jobs in SQLite, mirrored in memory.
#include "backend/job_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <random>

#include "backend/sqlite_util.h"

namespace mmcfs::backend {
namespace {

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
WallTime from_ms(std::int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }
std::optional<std::int64_t> to_ms(const std::optional<WallTime>& t) {
  if (!t) return std::nullopt;
  return to_ms(*t);
}
std::optional<WallTime> from_ms(const std::optional<std::int64_t>& ms) {
  if (!ms) return std::nullopt;
  return from_ms(*ms);
}

std::string new_token() {
  std::random_device rd;
  std::uniform_int_distribution<unsigned> byte(0, 255);
  std::string token = "mmcfs-";
  for (int i = 0; i < 8; ++i) token += fmt::format("{:02x}", byte(rd));
  return token;
}

constexpr const char* kColumns =
    "seq, id, token, project, cluster, slurm_id, state, reason, exit_code, launch_text, spec_yaml,"
    " commit_sha, script, command, source_file, submitted_at_ms, updated_at_ms, started_at_ms,"
    " ended_at_ms, archived, confirmed_at_ms";

// As kColumns, with the byte sizes of the texts kept on disk in place of
// the texts (columns 9, 10 and 12).
constexpr const char* kSummaryColumns =
    "seq, id, token, project, cluster, slurm_id, state, reason, exit_code, length(CAST(launch_text AS BLOB)),"
    " length(CAST(spec_yaml AS BLOB)), commit_sha, length(CAST(script AS BLOB)), command, source_file,"
    " submitted_at_ms, updated_at_ms, started_at_ms, ended_at_ms, archived, confirmed_at_ms";

JobRecord read_row(const sql::Statement& st, bool summary = false) {
  JobRecord j;
  j.seq = st.integer(0);
  j.id = st.text(1);
  j.token = st.text(2);
  j.project = st.text(3);
  j.cluster = st.text(4);
  j.slurm_id = st.text(5);
  j.state = st.text(6);
  j.reason = st.text(7);
  if (auto code = st.optional_integer(8)) j.exit_code = static_cast<int>(*code);
  if (!summary) {
    j.launch_text = st.text(9);
    j.spec_yaml = st.text(10);
    j.script = st.text(12);
  }
  j.commit = st.text(11);
  j.command = st.text(13);
  j.source_file = st.text(14);
  j.submitted_at = from_ms(st.integer(15));
  j.updated_at = from_ms(st.integer(16));
  j.started_at = from_ms(st.optional_integer(17));
  j.ended_at = from_ms(st.optional_integer(18));
  j.archived = st.integer(19) != 0;
  j.confirmed_at = from_ms(st.optional_integer(20));
  return j;
}

}  // namespace

bool job_state::is_final(const std::string& state) {
  static const std::array<const char*, 9> kFinal = {"COMPLETED", "FAILED",    "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY",
                                                    "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE"};
  for (const char* f : kFinal) {
    if (state == f) return true;
  }
  return false;
}

std::string job_slug(const std::string& name) {
  std::string slug;
  for (unsigned char c : name) {
    if (std::isalnum(c) && c < 0x80) {
      slug += static_cast<char>(std::tolower(c));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
    if (slug.size() >= 24) break;
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "job" : slug;
}

Result<std::unique_ptr<JobStore>> JobStore::open(StateStore& db, const Clock& clock) {
  std::unique_ptr<JobStore> store(new JobStore(db, clock));
  if (auto s = store->load(); !s.ok()) return s.error();
  return store;
}

JobSummaryRef JobStore::summarize(JobRecord job) {
  auto summary = std::make_shared<JobSummary>();
  summary->sizes = JobTextSizes{job.launch_text.size(), job.spec_yaml.size(), job.script.size()};
  job.launch_text = std::string();
  job.spec_yaml = std::string();
  job.script = std::string();
  summary->record = std::move(job);
  return summary;
}

JobRecord JobStore::with_texts(const JobSummary& summary) const {
  JobRecord j = summary.record;
  db_.with_db([&](sqlite3* db) {
    sql::Statement st(db, "SELECT launch_text, spec_yaml, script FROM jobs WHERE id = ?1");
    if (!st.ok()) return;
    st.bind(1, j.id);
    if (st.step() != SQLITE_ROW) return;
    j.launch_text = st.text(0);
    j.spec_yaml = st.text(1);
    j.script = st.text(2);
  });
  return j;
}

Status JobStore::load() {
  return db_.with_db([this](sqlite3* db) -> Status {
    sql::Statement st(db, (std::string("SELECT ") + kSummaryColumns + " FROM jobs ORDER BY seq").c_str());
    if (!st.ok()) return st.error("load jobs");
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      auto summary = std::make_shared<JobSummary>();
      summary->record = read_row(st, /*summary=*/true);
      summary->sizes = JobTextSizes{static_cast<std::uint64_t>(st.integer(9)),
                                    static_cast<std::uint64_t>(st.integer(10)),
                                    static_cast<std::uint64_t>(st.integer(12))};
      std::string id = summary->record.id;
      jobs_.emplace(std::move(id), std::move(summary));
    }
    if (rc != SQLITE_DONE) return st.error("load jobs");
    sql::Statement last(db, "SELECT project, spec_yaml FROM project_last_launch");
    if (!last.ok()) return last.error("load last launches");
    while ((rc = last.step()) == SQLITE_ROW) last_launch_[last.text(0)] = last.text(1);
    if (rc != SQLITE_DONE) return last.error("load last launches");
    return Status::Ok();
  });
}

Status JobStore::write(const JobRecord& j, bool insert) {
  return db_.with_db([&](sqlite3* db) -> Status { return write_row(db, j, insert); });
}

namespace {

const char* const kInsertSql =
    "INSERT INTO jobs(seq, id, token, project, cluster, slurm_id, state, reason, exit_code,"
    " launch_text, spec_yaml, commit_sha, script, command, source_file, submitted_at_ms,"
    " updated_at_ms, started_at_ms, ended_at_ms, archived, confirmed_at_ms)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)";
const char* const kUpdateSql =
    "UPDATE jobs SET token=?3, project=?4, cluster=?5, slurm_id=?6, state=?7, reason=?8,"
    " exit_code=?9, launch_text=?10, spec_yaml=?11, commit_sha=?12, script=?13, command=?14,"
    " source_file=?15, submitted_at_ms=?16, updated_at_ms=?17, started_at_ms=?18,"
    " ended_at_ms=?19, archived=?20, confirmed_at_ms=?21 WHERE seq=?1 AND id=?2";
// As kUpdateSql, leaving the texts kept on disk (?10, ?11, ?13) as they are:
// for records rebuilt from a summary, whose texts are empty.
const char* const kUpdateFieldsSql =
    "UPDATE jobs SET token=?3, project=?4, cluster=?5, slurm_id=?6, state=?7, reason=?8,"
    " exit_code=?9, commit_sha=?12, command=?14,"
    " source_file=?15, submitted_at_ms=?16, updated_at_ms=?17, started_at_ms=?18,"
    " ended_at_ms=?19, archived=?20, confirmed_at_ms=?21 WHERE seq=?1 AND id=?2";

// Runs `st` (kInsertSql, kUpdateSql or, with texts false, kUpdateFieldsSql;
// freshly prepared or reset) for `j`.
Status write_with(sqlite3* db, sql::Statement& st, const JobRecord& j, bool insert, bool texts = true) {
  st.bind(1, j.seq);
  st.bind(2, j.id);
  st.bind(3, j.token);
  st.bind(4, j.project);
  st.bind(5, j.cluster);
  st.bind(6, j.slurm_id);
  st.bind(7, j.state);
  st.bind(8, j.reason);
  st.bind(9, j.exit_code ? std::optional<std::int64_t>(*j.exit_code) : std::nullopt);
  if (texts) {
    st.bind(10, j.launch_text);
    st.bind(11, j.spec_yaml);
    st.bind(13, j.script);
  }
  st.bind(12, j.commit);
  st.bind(14, j.command);
  st.bind(15, j.source_file);
  st.bind(16, to_ms(j.submitted_at));
  st.bind(17, to_ms(j.updated_at));
  st.bind(18, to_ms(j.started_at));
  st.bind(19, to_ms(j.ended_at));
  st.bind(20, std::int64_t{j.archived ? 1 : 0});
  st.bind(21, to_ms(j.confirmed_at));
  if (st.step() != SQLITE_DONE) return st.error("write job " + j.id);
  if (!insert && sqlite3_changes(db) != 1) return make_error(Errc::kNotFound, "no job " + j.id);
  return Status::Ok();
}

}  // namespace

Status JobStore::write_row(sqlite3* db, const JobRecord& j, bool insert) {
  sql::Statement st(db, insert ? kInsertSql : kUpdateSql);
  if (!st.ok()) return st.error("prepare job write");
  return write_with(db, st, j, insert);
}

Result<std::vector<std::string>> JobStore::modify_batch(
    const std::vector<std::pair<std::string, Modifier>>& modifiers) {
  std::lock_guard lock(mu_);
  WallTime now = clock_.now();
  // The new records, by kind; memory is replaced only after COMMIT. They are
  // built from the summaries (texts empty), so the texts on disk are left
  // as they are (kUpdateFieldsSql) and the sizes carried over.
  std::vector<std::pair<JobRecord, JobTextSizes>> rewritten, confirmed;
  for (const auto& [id, modify] : modifiers) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    JobRecord next = it->second->record;
    switch (modify(next)) {
      case Modified::kNothing:
        break;
      case Modified::kConfirmedOnly:
        confirmed.emplace_back(std::move(next), it->second->sizes);
        break;
      case Modified::kRecord:
        next.updated_at = now;
        rewritten.emplace_back(std::move(next), it->second->sizes);
        break;
    }
  }
  if (rewritten.empty() && confirmed.empty()) return std::vector<std::string>{};
  Status s = db_.with_db([&](sqlite3* db) -> Status {
    if (auto begin = sql::exec(db, "BEGIN IMMEDIATE"); !begin.ok()) return begin;
    Status body = [&]() -> Status {
      sql::Statement update(db, kUpdateFieldsSql);
      if (!update.ok()) return update.error("prepare job write");
      for (const auto& [j, sizes] : rewritten) {
        update.reset();
        if (auto w = write_with(db, update, j, false, /*texts=*/false); !w.ok()) return w;
      }
      sql::Statement st(db, "UPDATE jobs SET confirmed_at_ms = ?1 WHERE id = ?2");
      if (!st.ok()) return st.error("prepare confirm");
      for (const auto& [j, sizes] : confirmed) {
        st.reset();
        st.bind(1, to_ms(j.confirmed_at));
        st.bind(2, j.id);
        if (st.step() != SQLITE_DONE) return st.error("confirm job " + j.id);
      }
      return Status::Ok();
    }();
    if (!body.ok()) {
      (void)sql::exec(db, "ROLLBACK");
      return body;
    }
    return sql::exec(db, "COMMIT");
  });
  if (!s.ok()) return s.error();
  std::vector<std::string> changed;
  auto keep = [this](JobRecord& j, const JobTextSizes& sizes) {
    auto summary = std::make_shared<JobSummary>();
    summary->sizes = sizes;
    std::string id = j.id;
    summary->record = std::move(j);
    jobs_[id] = std::move(summary);
  };
  for (auto& [j, sizes] : rewritten) {
    changed.push_back(j.id);
    keep(j, sizes);
  }
  for (auto& [j, sizes] : confirmed) keep(j, sizes);
  return changed;
}

WallTime status_time(const JobRecord& job) { return job.confirmed_at.value_or(job.updated_at); }

std::int64_t JobStore::next_seq_locked() const {
  // SQLite's AUTOINCREMENT record holds the highest seq ever inserted, so the
  // sequence never goes back, even after remove().
  return db_.with_db([](sqlite3* db) -> std::int64_t {
    sql::Statement st(db, "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'");
    return st.ok() && st.step() == SQLITE_ROW ? st.integer(0) + 1 : 1;
  });
}

Result<JobRecord> JobStore::insert_locked(JobRecord job) {
  job.submitted_at = job.updated_at = clock_.now();
  if (auto s = write(job, true); !s.ok()) return s.error();
  jobs_.emplace(job.id, summarize(job));
  return job;
}

Result<JobRecord> JobStore::insert(JobRecord job, const std::string& name_for_id) {
  std::lock_guard lock(mu_);
  job.seq = next_seq_locked();
  job.id = fmt::format("{:05d}-{}", job.seq, job_slug(name_for_id));
  job.token = new_token();
  return insert_locked(std::move(job));
}

Result<JobRecord> JobStore::insert_run(const JobRecord& sweep, int run, JobRecord job) {
  std::lock_guard lock(mu_);
  job.seq = next_seq_locked();
  job.id = sweep.id + "." + std::to_string(run);
  job.token = sweep.token + "." + std::to_string(run);
  return insert_locked(std::move(job));
}

std::vector<JobRecord> JobStore::runs_of(const std::string& sweep_id) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  const std::string prefix = sweep_id + ".";
  // Whole records (texts included): callers update() them.
  for (auto it = jobs_.lower_bound(prefix); it != jobs_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(with_texts(*it->second));
  }
  std::sort(out.begin(), out.end(),
            [](const JobRecord& a, const JobRecord& b) { return run_number(a.id) < run_number(b.id); });
  return out;
}

bool is_sweep_run(const JobRecord& job) { return job.id.find('.') != std::string::npos; }

std::string sweep_of(const std::string& job_id) {
  std::size_t dot = job_id.find('.');
  return dot == std::string::npos ? std::string() : job_id.substr(0, dot);
}

int run_number(const std::string& job_id) {
  std::size_t dot = job_id.find('.');
  if (dot == std::string::npos || dot + 1 >= job_id.size()) return -1;
  int n = 0;
  for (std::size_t i = dot + 1; i < job_id.size(); ++i) {
    if (job_id[i] < '0' || job_id[i] > '9' || n > 10'000'000) return -1;
    n = n * 10 + (job_id[i] - '0');
  }
  return n;
}

std::string slurm_token(const JobRecord& job) {
  if (!is_sweep_run(job)) return job.token;
  return job.token.substr(0, job.token.find('.'));
}

std::string array_task_id(const std::string& array_id, int run) { return array_id + "_" + std::to_string(run); }

Status JobStore::update(const JobRecord& job) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job.id);
  if (it == jobs_.end()) return make_error(Errc::kNotFound, "no job " + job.id);
  JobRecord updated = job;
  updated.updated_at = clock_.now();
  if (auto s = write(updated, false); !s.ok()) return s;
  it->second = summarize(std::move(updated));
  return Status::Ok();
}

Status JobStore::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  Status s = db_.with_db([&](sqlite3* db) -> Status {
    sql::Statement st(db, "DELETE FROM jobs WHERE id = ?1");
    if (!st.ok()) return st.error("prepare delete");
    st.bind(1, id);
    if (st.step() != SQLITE_DONE) return st.error("delete job " + id);
    return Status::Ok();
  });
  if (s.ok()) jobs_.erase(id);
  return s;
}

JobSummaryRef JobStore::summary(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

std::vector<JobSummaryRef> JobStore::summaries(bool include_archived) const {
  std::lock_guard lock(mu_);
  std::vector<JobSummaryRef> out;
  out.reserve(jobs_.size());
  for (const auto& [id, j] : jobs_) {
    if (include_archived || !j->record.archived) out.push_back(j);
  }
  return out;
}

std::vector<JobSummaryRef> JobStore::project_summaries(const std::string& project) const {
  std::lock_guard lock(mu_);
  std::vector<JobSummaryRef> out;
  for (const auto& [id, j] : jobs_) {
    if (j->record.project == project && !j->record.archived) out.push_back(j);
  }
  return out;
}

std::optional<JobRecord> JobStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return with_texts(*it->second);
}

std::optional<JobRecord> JobStore::find_by_token(const std::string& token) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, j] : jobs_) {
    if (j->record.token == token) return with_texts(*j);
  }
  return std::nullopt;
}

std::vector<JobRecord> JobStore::list(bool include_archived) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (include_archived || !j->record.archived) out.push_back(with_texts(*j));
  }
  return out;
}

std::vector<JobRecord> JobStore::list_project(const std::string& project) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (j->record.project == project && !j->record.archived) out.push_back(with_texts(*j));
  }
  return out;
}

std::vector<JobRecord> JobStore::in_state(const std::string& state) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (j->record.state == state) out.push_back(with_texts(*j));
  }
  return out;
}

std::size_t JobStore::size() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

std::string JobStore::last_launch(const std::string& project) const {
  std::lock_guard lock(mu_);
  auto it = last_launch_.find(project);
  return it == last_launch_.end() ? "" : it->second;
}

Status JobStore::set_last_launch(const std::string& project, const std::string& spec_yaml) {
  std::lock_guard lock(mu_);
  Status s = db_.with_db([&](sqlite3* db) -> Status {
    sql::Statement st(db,
                      "INSERT INTO project_last_launch(project, spec_yaml, updated_at_ms) VALUES(?1, ?2, ?3)"
                      " ON CONFLICT(project) DO UPDATE SET spec_yaml = excluded.spec_yaml,"
                      " updated_at_ms = excluded.updated_at_ms");
    if (!st.ok()) return st.error("prepare last launch");
    st.bind(1, project);
    st.bind(2, spec_yaml);
    st.bind(3, to_ms(clock_.now()));
    if (st.step() != SQLITE_DONE) return st.error("save last launch of " + project);
    return Status::Ok();
  });
  if (s.ok()) last_launch_[project] = spec_yaml;
  return s;
}

}  // namespace mmcfs::backend
