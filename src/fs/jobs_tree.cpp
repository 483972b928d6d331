// jobs_tree.cpp — rendering job records as files.
#include "fs/jobs_tree.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>


#include <algorithm>
#include <functional>

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

class JobFile final : public FileNode {
 public:
  using Render = std::function<std::string(const JobRecord&)>;
  // `confirmed_mtime`: the file shows the job's state (status, info.json),
  // so its mtime is when SLURM last confirmed it.
  JobFile(JobSource& source, std::string id, Render render, bool confirmed_mtime = false)
      : source_(source), id_(std::move(id)), render_(std::move(render)), confirmed_mtime_(confirmed_mtime) {}
  Result<FileContent> content() const override {
    auto job = source_.job(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    return FileContent{render_(*job), confirmed_mtime_ ? backend::status_time(*job) : job->updated_at};
  }
  std::chrono::milliseconds attr_ttl() const override {
    auto job = source_.job(id_);
    return job ? ttl_for(*job) : kDefaultAttrTtl;
  }

 private:
  JobSource& source_;
  std::string id_;
  Render render_;
  bool confirmed_mtime_;
};

// jobs/<id>/status: the record's state plus the source's staleness note.
class JobStatusFile final : public FileNode {
 public:
  JobStatusFile(JobSource& source, std::string id) : source_(source), id_(std::move(id)) {}
  Result<FileContent> content() const override {
    auto job = source_.job(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    return FileContent{render_job_status(*job, source_.status_note(*job)), backend::status_time(*job)};
  }
  // An active job's line may grow between a stat and a read (a new reason,
  // the age in the note), so it is served with direct I/O: the kernel never
  // trims it to a size it cached up to a second ago.
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override {
    if (request.write || request.truncate) return make_error(Errc::kReadOnly, "jobs/" + id_ + "/status is read-only");
    auto job = source_.job(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    bool active = !backend::job_state::is_final(job->state);
    return std::unique_ptr<OpenFile>(
        std::make_unique<SnapshotOpenFile>(render_job_status(*job, source_.status_note(*job)), active));
  }
  std::chrono::milliseconds attr_ttl() const override {
    auto job = source_.job(id_);
    return job ? ttl_for(*job) : kDefaultAttrTtl;
  }

 private:
  JobSource& source_;
  std::string id_;
};

std::string launch_text(const JobRecord& j) { return render_recorded_launch(j); }
std::string script_text(const JobRecord& j) { return j.script; }
std::string command_text(const JobRecord& j) { return j.command.empty() ? "" : j.command + "\n"; }

class JobDir final : public DirNode {
 public:
  JobDir(JobSource& source, std::string id) : source_(source), id_(std::move(id)) {}
  std::vector<Child> children() const override {
    std::vector<Child> out = {
        {"status", std::make_shared<JobStatusFile>(source_, id_)},
        {"info.json", std::make_shared<JobFile>(source_, id_,
                                                [&logs = source_.logs()](const JobRecord& j) {
                                                  return render_job_info(j, logs.tracker_links(j.id));
                                                },
                                                /*confirmed_mtime=*/true)},
        {"launch.yaml", std::make_shared<JobFile>(source_, id_, launch_text)},
        {"script", std::make_shared<JobFile>(source_, id_, script_text)},
        {"command", std::make_shared<JobFile>(source_, id_, command_text)},
        {"log", make_job_log_file(lookup(), source_.logs(), id_)},
        {"links", make_job_links_file(lookup(), source_.logs(), id_)},
    };
    // Sweeps: a run names its sweep, a sweep lists its runs.
    const std::string sweep = backend::sweep_of(id_);
    if (!sweep.empty()) {
      out.emplace_back("sweep", std::make_shared<JobFile>(source_, id_, [sweep](const JobRecord&) {
                         return sweep + "\n";
                       }));
    } else if (has_runs()) {
      out.emplace_back("runs", std::make_shared<JobFile>(source_, id_, [&source = source_](const JobRecord& j) {
                         return render_sweep_runs(j, source.jobs());
                       }, /*confirmed_mtime=*/true));
    }
    return out;
  }
  WallTime mtime() const override {
    auto job = source_.job(id_);
    return job ? job->submitted_at : WallTime{};
  }

 private:
  JobLookup lookup() const {
    return [&source = source_](const std::string& id) { return source.job(id); };
  }
  bool has_runs() const { return source_.job(id_ + ".0").has_value(); }

  JobSource& source_;
  std::string id_;
};

class JobsDir final : public DirNode {
 public:
  JobsDir(JobSource& source, WallTime mounted_at) : source_(source), mounted_at_(mounted_at) {}
  std::vector<Child> children() const override {
    std::vector<Child> out;
    for (const auto& job : source_.jobs()) out.emplace_back(job.id, std::make_shared<JobDir>(source_, job.id));
    return out;
  }
  Result<std::shared_ptr<Node>> child(std::string_view name) const override {
    auto job = source_.job(std::string(name));
    if (!job || job->archived) return make_error(Errc::kNotFound, "no job " + std::string(name));
    return std::shared_ptr<Node>(std::make_shared<JobDir>(source_, job->id));
  }
  WallTime mtime() const override {
    auto jobs = source_.jobs();
    return jobs.empty() ? mounted_at_ : std::max(mounted_at_, jobs.back().submitted_at);
  }

 private:
  JobSource& source_;
  WallTime mounted_at_;
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

std::string render_sweep_runs(const JobRecord& sweep, const std::vector<JobRecord>& jobs) {
  std::string out;
  const std::string prefix = sweep.id + ".";
  std::vector<const JobRecord*> runs;
  for (const JobRecord& j : jobs) {
    if (j.id.starts_with(prefix)) runs.push_back(&j);
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

std::shared_ptr<DirNode> make_job_dir(JobSource& source, const std::string& id) {
  return std::make_shared<JobDir>(source, id);
}

std::shared_ptr<DirNode> make_jobs_dir(JobSource& source, WallTime mounted_at) {
  return std::make_shared<JobsDir>(source, mounted_at);
}

}  // namespace mmcfs::fs
