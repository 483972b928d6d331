// job_ctl_file.h — jobs/<id>/ctl: act on a job by writing a word to it.
//
//   echo refresh > jobs/<id>/ctl   poll the job's cluster now and wait (a few
//                                  seconds) for that cycle, so the next
//                                  `cat status` shows its answer
//   echo cancel > jobs/<id>/ctl    scancel the job; its files and parameters
//                                  stay, and the poller records CANCELLED
//   cat jobs/<id>/ctl              the accepted words, and the outcomes of the
//                                  last few actions (what was refused and why)
//
// Words are one per line. Each write() acts on the complete lines it
// completes, and its error is what write() returns: bash's builtin echo (the
// usual way to write here) never sees an error from close(), so acting only
// at close would hide an EINVAL. All words of a write are checked before any
// runs; then they run in order, stopping at the first that fails. Text
// without a final newline (printf cancel > ctl) is acted on at close/flush.
// An unknown word is EINVAL; the actions' own errors come from the
// JobController (app/job_control.h).
//
// Thread rules: the node and its open files may be used from any FUSE
// thread; an open file's buffer is guarded by its own mutex, which is not
// held while an action runs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "fs/node.h"

namespace mmcfs::fs {

// The words ctl accepts, in the order `cat ctl` lists them.
const std::vector<std::string>& ctl_words();

// What an action on a job did (for `cat ctl`).
struct ControlOutcome {
  WallTime at;
  std::string request;   // "cancel", "mv jobs/X archive/X", ...
  bool ok = true;
  std::string message;   // what happened, or what was refused and why
};

// The actions behind ctl and behind mv between jobs/ and archive/ (in
// production app::JobControl).
class JobController {
 public:
  virtual ~JobController() = default;
  // Runs one accepted word (see ctl_words()) on the job, bounded in time.
  virtual Status control(const std::string& job_id, const std::string& word) = 0;
  // Moves the job into archive/ (true) or back into jobs/ (false).
  virtual Status set_archived(const std::string& job_id, bool archived) = 0;
  // Remembers a refusal decided by the filesystem (an unknown word, a bad mv)
  // so that `cat ctl` can explain it.
  virtual void note_refusal(const std::string& job_id, const std::string& request, const Error& why) = 0;
  // The job's last few outcomes, oldest first.
  virtual std::vector<ControlOutcome> recent_outcomes(const std::string& job_id) const = 0;
  // Ids of archived jobs, in id order.
  virtual std::vector<std::string> archived_jobs() const = 0;
};

// What `cat jobs/<id>/ctl` shows.
std::string render_ctl(const std::string& job_id, const std::vector<ControlOutcome>& recent);

// Splits written text into words (one per line, blanks ignored) and checks
// them: kInvalidArgument naming the first unknown word and the accepted ones.
Result<std::vector<std::string>> parse_ctl_words(const std::string& text);

// jobs/<id>/ctl. Made by the job's directory, which owns the id it refers to
// (and outlives it: the directory hands its files out as parts of itself).
class JobCtlFile final : public FileNode {
 public:
  JobCtlFile(JobController& controller, const std::string& job_id, WallTime mounted_at)
      : controller_(controller), job_id_(job_id), mounted_at_(mounted_at) {}
  Result<FileContent> content() const override;
  Result<FileStat> stat() const override;
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override;
  // `echo word > ctl` may truncate (O_TRUNC or a size-0 setattr): harmless.
  Status change_attributes(const AttrChange& change) override;
  // Long: it changes only with an outcome, and the mount invalidates it
  // then (JobController's owner); reads are direct I/O.
  std::chrono::milliseconds attr_ttl() const override { return kStaticAttrTtl; }

 private:
  JobController& controller_;
  const std::string& job_id_;
  const WallTime mounted_at_;
};

}  // namespace mmcfs::fs
