// jobs_tree.cpp — rendering job records as files.
#include "fs/jobs_tree.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <mutex>

#include "common/text.h"

namespace mmcfs::fs {
namespace {

using backend::JobRecord;

std::chrono::milliseconds ttl_for(const JobRecord& job) {
  return backend::job_state::is_final(job.state) ? kStaticAttrTtl : kDefaultAttrTtl;
}

std::string json_scalar(const std::string& s) {
  return is_decimal_integer(s) ? s : json_string(s);
}

// A YAML node as JSON (scalars that look like integers become numbers).
std::string yaml_to_json(const YAML::Node& node, int indent) {
  std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (node.IsMap()) {
    if (node.size() == 0) return "{}";
    std::string out = "{\n";
    bool first = true;
    for (const auto& kv : node) {
      out += first ? "" : ",\n";
      first = false;
      out += inner + json_string(kv.first.as<std::string>()) + ": " + yaml_to_json(kv.second, indent + 1);
    }
    return out + "\n" + pad + "}";
  }
  if (node.IsSequence()) {
    if (node.size() == 0) return "[]";
    std::string out = "[";
    for (std::size_t i = 0; i < node.size(); ++i) out += (i ? ", " : "") + yaml_to_json(node[i], indent + 1);
    return out + "]";
  }
  if (node.IsScalar()) return node.Tag() == "!" ? json_string(node.Scalar()) : json_scalar(node.Scalar());
  return "null";
}

std::string optional_time(const std::optional<WallTime>& t) { return t ? json_string(iso8601_utc(*t)) : "null"; }

Error job_gone(const std::string& id) { return make_error(Errc::kNotFound, "job " + id + " is gone"); }

bool is_final(const backend::JobSummary& summary) { return backend::job_state::is_final(summary.record.state); }

// What every file of one job's directory shares: the source, the job's id,
// and one mutex for the files' remembered sizes (one per job, not per file:
// with 10,000 jobs every byte per job counts).
struct JobContext {
  JobSource& source;
  const std::string id;
  mutable std::mutex mu;

  backend::JobSummaryRef summary() const { return source.job(id); }
  // The job has ended: its files (but a log still arriving) never change.
  bool ended() const {
    auto job = summary();
    return job && is_final(*job);
  }
  // Long for a finished job's files, short while it runs (or is gone).
  std::chrono::milliseconds ttl() const {
    auto job = summary();
    return job ? ttl_for(job->record) : kDefaultAttrTtl;
  }
};

// A size rendered once per version of a job's record (an update makes a new
// summary) and, for info.json, of its tracker links.
struct RememberedSize {
  std::weak_ptr<const backend::JobSummary> sized_for;
  std::uint64_t size = 0;

  bool holds_for(const backend::JobSummaryRef& summary) const {
    return !sized_for.owner_before(summary) && !summary.owner_before(sized_for) && !sized_for.expired();
  }
};

// One of a job's rendered files that shows only the record (launch.yaml,
// script, command).
struct JobFileKind {
  std::string (*render)(const JobRecord&);
  bool needs_texts;  // renders from launch_text, spec_yaml or script (read from disk)
  // The size from the summary alone, where it is known there (else nullptr).
  std::uint64_t (*known_size)(const backend::JobSummary&);
};

class JobFile final : public FileNode {
 public:
  JobFile(const JobContext& job, const JobFileKind& kind) : job_(job), kind_(kind) {}
  Result<FileContent> content() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    auto text = render(*summary);
    if (!text.ok()) return text.error();
    remember_size(summary, text->size());
    return FileContent{std::move(*text), summary->record.updated_at};
  }
  // The size without reading the texts: known from the summary, or rendered
  // once per version of the record.
  Result<FileStat> stat() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    if (kind_.known_size != nullptr) return FileStat{kind_.known_size(*summary), summary->record.updated_at, 0444};
    {
      std::lock_guard lock(job_.mu);
      if (sized_.holds_for(summary)) return FileStat{sized_.size, summary->record.updated_at, 0444};
    }
    auto text = render(*summary);
    if (!text.ok()) return text.error();
    remember_size(summary, text->size());
    return FileStat{text->size(), summary->record.updated_at, 0444};
  }
  std::chrono::milliseconds attr_ttl() const override { return job_.ttl(); }
  bool stable() const override { return job_.ended(); }

 private:
  Result<std::string> render(const backend::JobSummary& summary) const {
    if (!kind_.needs_texts) return kind_.render(summary.record);
    auto whole = job_.source.job_record(job_.id);
    if (!whole) return job_gone(job_.id);
    return kind_.render(*whole);
  }
  void remember_size(const backend::JobSummaryRef& summary, std::uint64_t size) const {
    if (kind_.known_size != nullptr) return;
    std::lock_guard lock(job_.mu);
    sized_ = RememberedSize{summary, size};
  }

  const JobContext& job_;
  const JobFileKind& kind_;
  mutable RememberedSize sized_;  // GUARDED_BY(job_.mu)
};

const JobFileKind kLaunchFile{[](const JobRecord& j) { return render_recorded_launch(j); }, true, nullptr};
const JobFileKind kScriptFile{[](const JobRecord& j) { return j.script; }, true,
                              [](const backend::JobSummary& s) { return s.sizes.script; }};
const JobFileKind kCommandFile{[](const JobRecord& j) { return j.command.empty() ? std::string() : j.command + "\n"; },
                               false, nullptr};

// A file that shows a job's state: jobs/<id>/status (the state plus the
// source's staleness note) and a sweep's jobs/<id>/runs. Rendered from
// summaries (no disk) at each open; its mtime is when SLURM last confirmed
// the state. While the job is active its text may grow between a stat and a
// read (a new reason, the age in the note, a run's state), so it is served
// with direct I/O: the kernel never trims it to a size it cached up to a
// second ago. Stable once the job is final (the note is empty for final
// jobs: app/job_freshness.h; a sweep is final when all its runs are).
class JobStateFile final : public FileNode {
 public:
  using Render = std::string (*)(const JobSource&, const JobRecord&);
  JobStateFile(const JobContext& job, const char* name, Render render) : job_(job), name_(name), render_(render) {}
  Result<FileContent> content() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    const JobRecord& job = summary->record;
    return FileContent{render_(job_.source, job), backend::status_time(job)};
  }
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override {
    if (request.write || request.truncate) {
      return make_error(Errc::kReadOnly, "jobs/" + job_.id + "/" + name_ + " is read-only");
    }
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    return std::unique_ptr<OpenFile>(
        std::make_unique<SnapshotOpenFile>(render_(job_.source, summary->record), !is_final(*summary)));
  }
  std::chrono::milliseconds attr_ttl() const override { return job_.ttl(); }
  bool stable() const override { return job_.ended(); }

 private:
  const JobContext& job_;
  const char* const name_;
  const Render render_;
};

std::string status_text(const JobSource& source, const JobRecord& job) {
  return render_job_status(job, source.status_note(job));
}
std::string runs_text(const JobSource& source, const JobRecord& sweep) {
  return render_sweep_runs(sweep, source.jobs());
}

// jobs/<id>/info.json: the whole record (its launch read from disk) and the
// tracker links found in the log. Its size is rendered once per version of
// the record AND of the links (the log follower changes those without
// changing the record); its mtime is when SLURM last confirmed the state.
// Direct I/O while the job is active; stable only when the job is final and
// its log complete (no more links).
class JobInfoFile final : public FileNode {
 public:
  explicit JobInfoFile(const JobContext& job) : job_(job) {}
  Result<FileContent> content() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    auto links = job_.source.logs().tracker_links(job_.id);
    auto text = render(links);
    if (!text.ok()) return text.error();
    remember_size(summary, std::move(links), text->size());
    return FileContent{std::move(*text), backend::status_time(summary->record)};
  }
  Result<FileStat> stat() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    auto links = job_.source.logs().tracker_links(job_.id);
    const WallTime mtime = backend::status_time(summary->record);
    {
      std::lock_guard lock(job_.mu);
      if (sized_.holds_for(summary) && links == sized_links_) return FileStat{sized_.size, mtime, 0444};
    }
    auto text = render(links);
    if (!text.ok()) return text.error();
    std::uint64_t size = text->size();
    remember_size(summary, std::move(links), size);
    return FileStat{size, mtime, 0444};
  }
  // An active job's info.json changes with every poll cycle that confirms
  // its state (confirmed_at), and those cycles invalidate nothing: like
  // status, it is served with direct I/O so that the kernel never trims it
  // to a size it cached up to a second ago (readdirplus hands sizes out
  // with every listing).
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override {
    if (request.write || request.truncate) {
      return make_error(Errc::kReadOnly, "jobs/" + job_.id + "/info.json is read-only");
    }
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    auto text = render(job_.source.logs().tracker_links(job_.id));
    if (!text.ok()) return text.error();
    return std::unique_ptr<OpenFile>(std::make_unique<SnapshotOpenFile>(std::move(*text), !is_final(*summary)));
  }
  std::chrono::milliseconds attr_ttl() const override { return stable() ? kStaticAttrTtl : kDefaultAttrTtl; }
  bool stable() const override { return job_.ended() && job_.source.logs().log_view(job_.id).complete; }

 private:
  Result<std::string> render(const std::vector<backend::TrackerLink>& links) const {
    auto whole = job_.source.job_record(job_.id);
    if (!whole) return job_gone(job_.id);
    return render_job_info(*whole, links);
  }
  void remember_size(const backend::JobSummaryRef& summary, std::vector<backend::TrackerLink> links,
                     std::uint64_t size) const {
    std::lock_guard lock(job_.mu);
    sized_ = RememberedSize{summary, size};
    sized_links_ = std::move(links);
  }

  const JobContext& job_;
  mutable RememberedSize sized_;                           // GUARDED_BY(job_.mu)
  mutable std::vector<backend::TrackerLink> sized_links_;  // GUARDED_BY(job_.mu)
};

// jobs/<id>.<n>/sweep: the sweep a run belongs to (never changes).
class SweepOfRunFile final : public FileNode {
 public:
  explicit SweepOfRunFile(const JobContext& job) : job_(job) {}
  Result<FileContent> content() const override {
    auto summary = job_.summary();
    if (!summary) return job_gone(job_.id);
    return FileContent{backend::sweep_of(job_.id) + "\n", summary->record.submitted_at};
  }
  std::chrono::milliseconds attr_ttl() const override { return kStaticAttrTtl; }
  bool stable() const override { return true; }

 private:
  const JobContext& job_;
};

// jobs/<id>/: the directory and its files in ONE object. The files are
// members, handed out as aliasing shared_ptrs that keep the whole directory
// alive, so a job costs one allocation however many files it shows (with
// 10,000 jobs walked, per-file nodes and their control blocks were most of
// the mount's memory). Made once per job and kept.
class JobDir final : public DirNode, public std::enable_shared_from_this<JobDir> {
 public:
  JobDir(JobSource& source, const std::string& id, JobController* controller, WallTime mounted_at)
      : job_{source, id, {}},
        status_(job_, "status", status_text),
        info_(job_),
        launch_(job_, kLaunchFile),
        script_(job_, kScriptFile),
        command_(job_, kCommandFile),
        log_(source, source.logs(), job_.id),
        links_(source, source.logs(), job_.id),
        is_run_(!backend::sweep_of(id).empty()),
        sweep_(job_),
        runs_(job_, "runs", runs_text) {
    if (controller != nullptr) ctl_.emplace(*controller, job_.id, mounted_at);
  }
  std::vector<Child> children() const override {
    std::vector<Child> out;
    out.reserve(10);
    for (const auto& [name, file] : files(/*look_for_runs=*/true)) {
      if (file != nullptr) out.emplace_back(name, part(file));
    }
    return out;
  }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    // Whether a sweep has runs is a store lookup: asked only for "runs".
    for (const auto& [file_name, file] : files(/*look_for_runs=*/name == "runs")) {
      if (file_name == name && file != nullptr) return part(file);
    }
    return make_error(Errc::kNotFound, std::string(name));
  }
  WallTime mtime() const override {
    auto job = job_.summary();
    return job ? job->record.submitted_at : WallTime{};
  }
  // A finished job's directory never changes (its listing is fixed; the
  // files say for themselves whether their bytes may): long lifetimes,
  // cached listing.
  std::chrono::milliseconds attr_ttl() const override { return job_.ttl(); }
  bool stable() const override { return job_.ended(); }

 private:
  using Entry = std::pair<const char*, const FileNode*>;
  // The files in listing order; null where this job has none: a run names
  // its sweep, a sweep lists its runs (once it has any, and only when
  // `look_for_runs`), ctl only on a shelf.
  std::array<Entry, 9> files(bool look_for_runs) const {
    const FileNode* sweep_or_runs =
        is_run_ ? static_cast<const FileNode*>(&sweep_) : look_for_runs && has_runs() ? &runs_ : nullptr;
    return {{{"status", &status_},
             {"info.json", &info_},
             {"launch.yaml", &launch_},
             {"script", &script_},
             {"command", &command_},
             {"log", &log_},
             {"links", &links_},
             {is_run_ ? "sweep" : "runs", sweep_or_runs},
             {"ctl", ctl_ ? &*ctl_ : nullptr}}};
  }
  std::shared_ptr<Node> part(const FileNode* file) const {
    // The directory is only ever made by make_shared (below), and the
    // files are its (non-const) parts: the Namespace holds every node as
    // mutable (ctl accepts attribute changes).
    return std::shared_ptr<Node>(std::const_pointer_cast<JobDir>(shared_from_this()), const_cast<FileNode*>(file));
  }
  bool has_runs() const { return job_.source.job(job_.id + ".0") != nullptr; }

  const JobContext job_;
  JobStateFile status_;
  JobInfoFile info_;
  JobFile launch_, script_, command_;
  JobLogFile log_;
  JobLinksFile links_;
  const bool is_run_;
  SweepOfRunFile sweep_;  // shown by a run
  JobStateFile runs_;     // shown by a sweep
  std::optional<JobCtlFile> ctl_;
};

class JobsDir final : public DirNode {
 public:
  JobsDir(JobSource& source, WallTime mounted_at, JobController* controller)
      : source_(source), mounted_at_(mounted_at), controller_(controller) {}
  std::vector<Child> children() const override {
    auto jobs = source_.jobs();
    std::vector<Child> out;
    out.reserve(jobs.size());
    std::lock_guard lock(mu_);
    if (dirs_.size() > jobs.size()) dirs_.clear();  // jobs left (archived, removed): forget their nodes
    for (const auto& job : jobs) out.emplace_back(job->record.id, dir_locked(job->record.id));
    return out;
  }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    auto job = source_.job(std::string(name));
    if (!job || job->record.archived) return make_error(Errc::kNotFound, "no job " + std::string(name));
    std::lock_guard lock(mu_);
    return std::shared_ptr<Node>(dir_locked(job->record.id));
  }
  WallTime mtime() const override {
    auto jobs = source_.jobs();
    return jobs.empty() ? mounted_at_ : std::max(mounted_at_, jobs.back()->record.submitted_at);
  }

 private:
  std::shared_ptr<JobDir> dir_locked(const std::string& id) const {
    auto it = dirs_.find(id);
    if (it == dirs_.end()) it = dirs_.emplace(id, std::make_shared<JobDir>(source_, id, controller_, mounted_at_)).first;
    return it->second;
  }

  JobSource& source_;
  const WallTime mounted_at_;
  JobController* const controller_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<JobDir>, std::less<>> dirs_;  // GUARDED_BY(mu_)
};

}  // namespace

std::string render_job_status(const JobRecord& job, const std::string& note) {
  std::string line = job.state;
  if (job.exit_code && backend::job_state::is_final(job.state)) line += fmt::format(" exit {}", *job.exit_code);
  std::string paren = job.reason;
  if (!note.empty()) paren += (paren.empty() ? "" : "; ") + note;
  if (!paren.empty()) line += " (" + paren + ")";
  return line + "\n";
}

std::string render_sweep_runs(const JobRecord& sweep, const std::vector<backend::JobSummaryRef>& jobs) {
  std::string out;
  const std::string prefix = sweep.id + ".";
  std::vector<const JobRecord*> runs;
  for (const backend::JobSummaryRef& j : jobs) {
    if (j->record.id.starts_with(prefix)) runs.push_back(&j->record);
  }
  std::sort(runs.begin(), runs.end(), [](const JobRecord* a, const JobRecord* b) {
    return backend::run_number(a->id) < backend::run_number(b->id);
  });
  for (const JobRecord* run : runs) {
    out += fmt::format("{}\t{}\t{}\t{}\n", run->id, run->slurm_id.empty() ? "-" : run->slurm_id, run->state,
                       run->command);
  }
  return out;
}

std::string render_job_info(const JobRecord& job, const std::vector<backend::TrackerLink>& links) {
  std::string launch = "{}";
  try {
    launch = yaml_to_json(YAML::Load(job.spec_yaml), 1);
  } catch (const YAML::Exception&) {
  }
  return fmt::format(
      "{{\n"
      "  \"id\": {},\n  \"project\": {},\n  \"cluster\": {},\n  \"slurm_id\": {},\n  \"state\": {},\n"
      "  \"reason\": {},\n  \"exit_code\": {},\n  \"commit\": {},\n  \"token\": {},\n"
      "  \"submitted_at\": {},\n  \"updated_at\": {},\n  \"confirmed_at\": {},\n  \"started_at\": {},\n"
      "  \"ended_at\": {},\n"
      "  \"source_file\": {},\n  \"archived\": {},\n  \"launch\": {},\n  \"links\": {}\n}}\n",
      json_string(job.id), json_string(job.project), json_string(job.cluster),
      job.slurm_id.empty() ? "null" : json_string(job.slurm_id), json_string(job.state), json_string(job.reason),
      job.exit_code ? std::to_string(*job.exit_code) : "null", json_string(job.commit), json_string(job.token),
      json_string(iso8601_utc(job.submitted_at)), json_string(iso8601_utc(job.updated_at)),
      optional_time(job.confirmed_at), optional_time(job.started_at), optional_time(job.ended_at),
      json_string(job.source_file), job.archived ? "true" : "false", launch, backend::render_links_json(links, 1));
}

std::string render_recorded_launch(const JobRecord& job) {
  std::string text = job.launch_text;
  if (!text.empty() && text.back() != '\n') text += '\n';
  std::string block = fmt::format(
      "# --- recorded by mmcfs; launches ignore this block ---\n"
      "mmcfs:\n  job: {}\n  commit: {}  # the commit this job ran at (to pin a copy to it, set `commit:` above)\n"
      "  submitted_at: {}\n",
      json_string(job.id), job.commit, iso8601_utc(job.submitted_at));
  // Append as a top-level key when the result is still one YAML map;
  // otherwise record the same facts as comments only.
  try {
    YAML::Node combined = YAML::Load(text + block);
    if (combined.IsMap()) return text + block;
  } catch (const YAML::Exception&) {
  }
  return text + fmt::format("# mmcfs: job {}, ran at commit {}\n", job.id, job.commit);
}

std::shared_ptr<DirNode> make_job_dir(JobSource& source, const std::string& id, JobController* controller,
                                      WallTime mounted_at) {
  return std::make_shared<JobDir>(source, id, controller, mounted_at);
}

std::shared_ptr<DirNode> make_jobs_dir(JobSource& source, WallTime mounted_at, JobController* controller) {
  return std::make_shared<JobsDir>(source, mounted_at, controller);
}

}  // namespace mmcfs::fs
