// state_store.cpp — SQLite schema, migrations and queries.
#include "backend/state_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "backend/sqlite_util.h"

namespace mmcfs::backend {
namespace {

// Migration N (1-based) brings the schema from version N-1 to N. Append only.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> kMigrations = {
      // 1: last known inventory per cluster, as SLURM printed it.
      "CREATE TABLE cluster_inventory ("
      "  cluster TEXT PRIMARY KEY,"
      "  fetched_at_ms INTEGER NOT NULL,"
      "  version_text TEXT NOT NULL,"
      "  nodes_text TEXT NOT NULL,"
      "  partitions_text TEXT NOT NULL,"
      "  pending_text TEXT NOT NULL)",
      // 2: jobs, projects added from the shell, and each project's last launch.
      "CREATE TABLE jobs ("
      "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  id TEXT NOT NULL UNIQUE,"
      "  token TEXT NOT NULL UNIQUE,"
      "  project TEXT NOT NULL,"
      "  cluster TEXT NOT NULL,"
      "  slurm_id TEXT NOT NULL DEFAULT '',"
      "  state TEXT NOT NULL,"
      "  reason TEXT NOT NULL DEFAULT '',"
      "  exit_code INTEGER,"
      "  launch_text TEXT NOT NULL,"
      "  spec_yaml TEXT NOT NULL,"
      "  commit_sha TEXT NOT NULL,"
      "  script TEXT NOT NULL DEFAULT '',"
      "  command TEXT NOT NULL DEFAULT '',"
      "  source_file TEXT NOT NULL DEFAULT '',"
      "  submitted_at_ms INTEGER NOT NULL,"
      "  updated_at_ms INTEGER NOT NULL,"
      "  started_at_ms INTEGER,"
      "  ended_at_ms INTEGER,"
      "  archived INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX jobs_by_project ON jobs(project);"
      "CREATE TABLE projects ("
      "  name TEXT PRIMARY KEY,"
      "  path TEXT NOT NULL,"
      "  added_at_ms INTEGER NOT NULL);"
      "CREATE TABLE project_last_launch ("
      "  project TEXT PRIMARY KEY,"
      "  spec_yaml TEXT NOT NULL,"
      "  updated_at_ms INTEGER NOT NULL)",
      // 3: when SLURM last confirmed each job's state (the poller's last
      // cycle that saw it); NULL until then.
      "ALTER TABLE jobs ADD COLUMN confirmed_at_ms INTEGER",
  };
  return kMigrations;
}

Error sql_error(sqlite3* db, const std::string& what) {
  return make_error(Errc::kIo, what + ": " + sqlite3_errmsg(db));
}

using sql::exec;
using sql::Statement;

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/mmcfs";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.local/state/mmcfs";
}

int StateStore::latest_schema_version() { return static_cast<int>(migrations().size()); }

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return make_error(Errc::kIo, "cannot create state directory " + dir + ": " + ec.message() +
                                     "; choose another with --state DIR");
  }
  ::chmod(dir.c_str(), 0700);
  std::string path = dir + "/state.db";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    Error e = make_error(Errc::kIo, "cannot open state database " + path + ": " +
                                        (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<StateStore> store(new StateStore(db));
  sqlite3_busy_timeout(db, 5000);
  if (auto s = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) return s.error();
  if (auto s = store->migrate(); !s.ok()) {
    return make_error(s.error().code, path + ": " + s.error().message);
  }
  return store;
}

StateStore::~StateStore() { sqlite3_close(db_); }

int StateStore::schema_version() const {
  std::lock_guard lock(mu_);
  Statement st(db_, "PRAGMA user_version");
  if (!st.ok() || sqlite3_step(st.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int(st.get(), 0);
}

Status StateStore::migrate() {
  int current = schema_version();
  int latest = latest_schema_version();
  if (current < 0) return sql_error(db_, "cannot read schema version");
  if (current > latest) {
    return make_error(Errc::kIo, "schema version " + std::to_string(current) +
                                     " is newer than this mmcfs understands (" + std::to_string(latest) +
                                     "); upgrade mmcfs or point --state at another directory");
  }
  std::lock_guard lock(mu_);
  for (int v = current; v < latest; ++v) {
    if (auto s = exec(db_, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Status step = exec(db_, migrations()[static_cast<std::size_t>(v)]);
    if (step.ok()) step = exec(db_, ("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    if (!step.ok()) {
      (void)exec(db_, "ROLLBACK");
      return make_error(Errc::kIo, "migration to schema " + std::to_string(v + 1) +
                                       " failed: " + step.error().message);
    }
    if (auto s = exec(db_, "COMMIT"); !s.ok()) return s;
  }
  return Status::Ok();
}

Status StateStore::save_inventory(const std::string& cluster, const RawInventory& raw) {
  std::lock_guard lock(mu_);
  Statement st(db_,
               "INSERT INTO cluster_inventory(cluster, fetched_at_ms, version_text, nodes_text,"
               " partitions_text, pending_text) VALUES(?,?,?,?,?,?)"
               " ON CONFLICT(cluster) DO UPDATE SET fetched_at_ms=excluded.fetched_at_ms,"
               " version_text=excluded.version_text, nodes_text=excluded.nodes_text,"
               " partitions_text=excluded.partitions_text, pending_text=excluded.pending_text");
  if (!st.ok()) return sql_error(db_, "prepare save_inventory");
  st.bind(1, cluster);
  st.bind(2, to_ms(raw.fetched_at));
  st.bind(3, raw.version);
  st.bind(4, raw.nodes);
  st.bind(5, raw.partitions);
  st.bind(6, raw.pending);
  if (st.step() != SQLITE_DONE) return sql_error(db_, "save inventory of " + cluster);
  return Status::Ok();
}

Result<std::optional<RawInventory>> StateStore::load_inventory(const std::string& cluster) const {
  std::lock_guard lock(mu_);
  Statement st(db_,
               "SELECT fetched_at_ms, version_text, nodes_text, partitions_text, pending_text"
               " FROM cluster_inventory WHERE cluster = ?");
  if (!st.ok()) return sql_error(db_, "prepare load_inventory");
  st.bind(1, cluster);
  int rc = st.step();
  if (rc == SQLITE_DONE) return std::optional<RawInventory>();
  if (rc != SQLITE_ROW) return sql_error(db_, "load inventory of " + cluster);
  RawInventory raw;
  raw.fetched_at = WallTime(std::chrono::milliseconds(st.integer(0)));
  raw.version = st.text(1);
  raw.nodes = st.text(2);
  raw.partitions = st.text(3);
  raw.pending = st.text(4);
  return std::optional<RawInventory>(std::move(raw));
}

}  // namespace mmcfs::backend
