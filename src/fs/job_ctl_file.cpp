// job_ctl_file.cpp — the ctl file and its open handles (see job_ctl_file.h).
#include "fs/job_ctl_file.h"

#include <fmt/format.h>

#include <mutex>

#include "common/text.h"

namespace mmcfs::fs {
namespace {

constexpr std::size_t kMaxCtlBytes = 4096;

std::string accepted_list() {
  std::string out;
  for (const auto& w : ctl_words()) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::string trim_copy(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// The written text as one line for `cat ctl` ("refresh; bogus").
std::string request_text(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = trim_copy(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (!line.empty()) out += (out.empty() ? "" : "; ") + line;
  }
  return out.size() > 80 ? out.substr(0, 80) + "..." : out;
}

// One open of ctl: reads show the text rendered at open; writes buffer until
// a line is complete, then act.
class CtlOpenFile final : public OpenFile {
 public:
  CtlOpenFile(JobController& controller, std::string job_id, std::string shown)
      : controller_(controller), job_id_(std::move(job_id)), shown_(std::move(shown)) {}

  Result<std::string> read(std::uint64_t offset, std::size_t size) override {
    if (offset >= shown_.size()) return std::string();
    return shown_.substr(static_cast<std::size_t>(offset), size);
  }

  Result<std::size_t> write(std::uint64_t /*offset*/, std::string_view data) override {
    // Offsets are ignored: ctl is a stream of words, not a file to edit.
    std::string complete;
    {
      std::lock_guard lock(mu_);
      if (pending_.size() + data.size() > kMaxCtlBytes) {
        pending_.clear();
        return refuse("write", make_error(Errc::kInvalidArgument,
                                           fmt::format("more than {} bytes written to ctl; write one word, "
                                                       "e.g. echo cancel > jobs/{}/ctl",
                                                       kMaxCtlBytes, job_id_)));
      }
      pending_.append(data);
      auto last_newline = pending_.rfind('\n');
      if (last_newline == std::string::npos) return data.size();
      complete = pending_.substr(0, last_newline + 1);
      pending_.erase(0, last_newline + 1);
    }
    if (Status s = act(complete); !s.ok()) return s.error();
    return data.size();
  }

  Status flush() override {
    std::string rest;
    {
      std::lock_guard lock(mu_);
      rest.swap(pending_);
    }
    return act(rest);
  }
  Status fsync() override { return flush(); }
  Status truncate(std::uint64_t /*size*/) override { return Status::Ok(); }  // `>` truncates; nothing to keep
  bool direct_io() const override { return true; }

 private:
  Status act(const std::string& text) {
    auto words = parse_ctl_words(text);
    if (!words.ok()) return refuse(request_text(text), words.error());
    for (const auto& word : *words) {
      if (Status s = controller_.control(job_id_, word); !s.ok()) return s;
    }
    return Status::Ok();
  }
  Error refuse(const std::string& request, Error why) {
    controller_.note_refusal(job_id_, request, why);
    return why;
  }

  JobController& controller_;
  const std::string job_id_;
  const std::string shown_;
  std::mutex mu_;
  std::string pending_;  // GUARDED_BY(mu_): text after the last complete line
};

}  // namespace

Result<FileContent> JobCtlFile::content() const {
  auto recent = controller_.recent_outcomes(job_id_);
  return FileContent{render_ctl(job_id_, recent), recent.empty() ? mounted_at_ : recent.back().at};
}

Result<FileStat> JobCtlFile::stat() const {
  auto c = content();
  if (!c.ok()) return c.error();
  return FileStat{c->data.size(), c->mtime, 0644};
}

Result<std::unique_ptr<OpenFile>> JobCtlFile::open(const OpenRequest& /*request*/) const {
  auto c = content();
  if (!c.ok()) return c.error();
  return std::unique_ptr<OpenFile>(std::make_unique<CtlOpenFile>(controller_, job_id_, std::move(c->data)));
}

Status JobCtlFile::change_attributes(const AttrChange& change) {
  if (change.mode) return make_error(Errc::kReadOnly, "ctl's mode is fixed");
  return Status::Ok();
}

const std::vector<std::string>& ctl_words() {
  static const std::vector<std::string> kWords = {"refresh", "cancel"};
  return kWords;
}

std::string render_ctl(const std::string& job_id, const std::vector<ControlOutcome>& recent) {
  std::string out = fmt::format(
      "# jobs/{0}/ctl: write one word to act on this job\n"
      "#   echo refresh > jobs/{0}/ctl   poll its cluster now and wait (a few seconds) for the answer\n"
      "#   echo cancel > jobs/{0}/ctl    cancel it with scancel; its files and parameters stay\n"
      "# One word per line; an unknown word is refused (EINVAL) and nothing runs.\n"
      "# Archive: mv jobs/{0} archive/   (back: mv archive/{0} jobs/)\n"
      "accepted: {1}\n",
      job_id, accepted_list());
  if (recent.empty()) return out + "recent: none\n";
  out += "recent (oldest first):\n";
  for (const auto& o : recent) {
    out += fmt::format("{} {}: {}: {}\n", iso8601_utc(o.at), o.request, o.ok ? "done" : "refused", o.message);
  }
  return out;
}

Result<std::vector<std::string>> parse_ctl_words(const std::string& text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string word = trim_copy(std::string_view(text).substr(start, end - start));
    start = end + 1;
    if (word.empty()) continue;
    bool known = false;
    for (const auto& w : ctl_words()) known = known || w == word;
    if (!known) {
      std::string shown = word.size() > 60 ? word.substr(0, 60) + "..." : word;
      return make_error(Errc::kInvalidArgument,
                        fmt::format("unknown word '{}' in ctl: accepted: {} (one per line, e.g. echo cancel > ctl)",
                                    shown, accepted_list()));
    }
    words.push_back(std::move(word));
  }
  return words;
}


}  // namespace mmcfs::fs
