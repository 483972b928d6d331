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

JobRecord read_row(const sql::Statement& st) {
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
  j.launch_text = st.text(9);
  j.spec_yaml = st.text(10);
  j.commit = st.text(11);
  j.script = st.text(12);
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

Status JobStore::load() {
  return db_.with_db([this](sqlite3* db) -> Status {
    sql::Statement st(db, (std::string("SELECT ") + kColumns + " FROM jobs ORDER BY seq").c_str());
    if (!st.ok()) return st.error("load jobs");
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
      JobRecord j = read_row(st);
      jobs_.emplace(j.id, std::move(j));
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

// Runs `st` (kInsertSql or kUpdateSql, freshly prepared or reset) for `j`.
Status write_with(sqlite3* db, sql::Statement& st, const JobRecord& j, bool insert) {
  st.bind(1, j.seq);
  st.bind(2, j.id);
  st.bind(3, j.token);
  st.bind(4, j.project);
  st.bind(5, j.cluster);
  st.bind(6, j.slurm_id);
  st.bind(7, j.state);
  st.bind(8, j.reason);
  st.bind(9, j.exit_code ? std::optional<std::int64_t>(*j.exit_code) : std::nullopt);
  st.bind(10, j.launch_text);
  st.bind(11, j.spec_yaml);
  st.bind(12, j.commit);
  st.bind(13, j.script);
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
  // The new records, by kind; memory is replaced only after COMMIT.
  std::vector<JobRecord> rewritten, confirmed;
  for (const auto& [id, modify] : modifiers) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    JobRecord next = it->second;
    switch (modify(next)) {
      case Modified::kNothing:
        break;
      case Modified::kConfirmedOnly:
        confirmed.push_back(std::move(next));
        break;
      case Modified::kRecord:
        next.updated_at = now;
        rewritten.push_back(std::move(next));
        break;
    }
  }
  if (rewritten.empty() && confirmed.empty()) return std::vector<std::string>{};
  Status s = db_.with_db([&](sqlite3* db) -> Status {
    if (auto begin = sql::exec(db, "BEGIN IMMEDIATE"); !begin.ok()) return begin;
    Status body = [&]() -> Status {
      sql::Statement update(db, kUpdateSql);
      if (!update.ok()) return update.error("prepare job write");
      for (const JobRecord& j : rewritten) {
        update.reset();
        if (auto w = write_with(db, update, j, false); !w.ok()) return w;
      }
      sql::Statement st(db, "UPDATE jobs SET confirmed_at_ms = ?1 WHERE id = ?2");
      if (!st.ok()) return st.error("prepare confirm");
      for (const JobRecord& j : confirmed) {
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
  for (JobRecord& j : rewritten) {
    changed.push_back(j.id);
    jobs_[j.id] = std::move(j);
  }
  for (JobRecord& j : confirmed) jobs_[j.id] = std::move(j);
  return changed;
}

WallTime status_time(const JobRecord& job) { return job.confirmed_at.value_or(job.updated_at); }

Result<JobRecord> JobStore::insert(JobRecord job, const std::string& name_for_id) {
  std::lock_guard lock(mu_);
  // SQLite's AUTOINCREMENT record holds the highest seq ever inserted, so the
  // sequence never goes back, even after remove().
  std::int64_t seq = db_.with_db([](sqlite3* db) -> std::int64_t {
    sql::Statement st(db, "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'");
    return st.ok() && st.step() == SQLITE_ROW ? st.integer(0) + 1 : 1;
  });
  job.seq = seq;
  job.id = fmt::format("{:05d}-{}", seq, job_slug(name_for_id));
  job.token = new_token();
  job.submitted_at = job.updated_at = clock_.now();
  if (auto s = write(job, true); !s.ok()) return s.error();
  jobs_.emplace(job.id, job);
  return job;
}

Result<JobRecord> JobStore::insert_run(const JobRecord& sweep, int run, JobRecord job) {
  std::lock_guard lock(mu_);
  std::int64_t seq = db_.with_db([](sqlite3* db) -> std::int64_t {
    sql::Statement st(db, "SELECT seq FROM sqlite_sequence WHERE name = 'jobs'");
    return st.ok() && st.step() == SQLITE_ROW ? st.integer(0) + 1 : 1;
  });
  job.seq = seq;
  job.id = sweep.id + "." + std::to_string(run);
  job.token = sweep.token + "." + std::to_string(run);
  job.submitted_at = job.updated_at = clock_.now();
  if (auto s = write(job, true); !s.ok()) return s.error();
  jobs_.emplace(job.id, job);
  return job;
}

std::vector<JobRecord> JobStore::runs_of(const std::string& sweep_id) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  const std::string prefix = sweep_id + ".";
  for (auto it = jobs_.lower_bound(prefix); it != jobs_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
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
  it->second = std::move(updated);
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

std::optional<JobRecord> JobStore::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::optional<JobRecord> JobStore::find_by_token(const std::string& token) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, j] : jobs_) {
    if (j.token == token) return j;
  }
  return std::nullopt;
}

std::vector<JobRecord> JobStore::list(bool include_archived) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (include_archived || !j.archived) out.push_back(j);
  }
  return out;
}

std::vector<JobRecord> JobStore::list_project(const std::string& project) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (j.project == project && !j.archived) out.push_back(j);
  }
  return out;
}

std::vector<JobRecord> JobStore::in_state(const std::string& state) const {
  std::lock_guard lock(mu_);
  std::vector<JobRecord> out;
  for (const auto& [id, j] : jobs_) {
    if (j.state == state) out.push_back(j);
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
