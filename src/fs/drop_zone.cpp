// drop_zone.cpp — a passthrough scratch directory with a launch trigger.
#include "fs/drop_zone.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace mmcfs::fs {
namespace {

Error os_error(const std::string& what) {
  int e = errno;
  Errc code = e == ENOENT ? Errc::kNotFound : e == EEXIST ? Errc::kExists : e == ENOTEMPTY ? Errc::kNotEmpty
              : e == EISDIR ? Errc::kIsDirectory : e == EACCES || e == EPERM ? Errc::kPermissionDenied : Errc::kIo;
  return make_error(code, what + ": " + std::strerror(e));
}

WallTime to_wall(const struct timespec& ts) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                 std::chrono::nanoseconds(ts.tv_nsec)));
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<std::string> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return os_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Status write_all(const std::string& path, const std::string& text) {
  std::string tmp = path + ".mmcfs-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return os_error("cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return os_error("cannot write " + path);
  return Status::Ok();
}

// A file of the drop zone, as stored on disk.
class DropZoneFile final : public FileNode {
 public:
  DropZoneFile(std::shared_ptr<DropZoneDir> zone, std::string name)
      : zone_(std::move(zone)), name_(std::move(name)) {}

  std::string path() const { return zone_->backing_dir() + "/" + name_; }

  Result<FileContent> content() const override {
    auto text = read_all(path());
    if (!text.ok()) return text.error();
    auto st = stat();
    if (!st.ok()) return st.error();
    return FileContent{std::move(*text), st->mtime};
  }

  Result<FileStat> stat() const override {
    struct stat st {};
    if (::lstat(path().c_str(), &st) != 0) return os_error("'" + name_ + "'");
    return FileStat{static_cast<std::uint64_t>(st.st_size), to_wall(st.st_mtim), st.st_mode & 07777u};
  }

  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override;

  Status change_attributes(const AttrChange& change) override {
    if (change.size && ::truncate(path().c_str(), static_cast<off_t>(*change.size)) != 0) {
      return os_error("truncate " + name_);
    }
    if (change.mode && ::chmod(path().c_str(), *change.mode) != 0) return os_error("chmod " + name_);
    if (change.mtime) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(change.mtime->time_since_epoch()).count();
      struct timespec times[2] = {{0, UTIME_OMIT},
                                  {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)}};
      if (::utimensat(AT_FDCWD, path().c_str(), times, 0) != 0) return os_error("touch " + name_);
    }
    return Status::Ok();
  }

  std::chrono::milliseconds attr_ttl() const override { return std::chrono::milliseconds(200); }

 private:
  std::shared_ptr<DropZoneDir> zone_;
  std::string name_;
};

// An open descriptor of a drop-zone file. Writing marks it dirty; the next
// fsync or close launches it (if its current name is a launch name) and
// reports the outcome; a failed outcome is reported again by the close that
// follows a failed fsync.
class DropZoneOpenFile final : public OpenFile {
 public:
  DropZoneOpenFile(std::shared_ptr<DropZoneDir> zone, int fd, bool dirty)
      : zone_(std::move(zone)), fd_(fd), dirty_(dirty) {}
  ~DropZoneOpenFile() override { ::close(fd_); }

  Result<std::string> read(std::uint64_t offset, std::size_t size) override {
    std::string buf(size, '\0');
    ssize_t n = ::pread(fd_, buf.data(), size, static_cast<off_t>(offset));
    if (n < 0) return os_error("read");
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }

  Result<std::size_t> write(std::uint64_t offset, std::string_view data) override {
    ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) return os_error("write");
    mark_dirty();
    return static_cast<std::size_t>(n);
  }

  Status truncate(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return os_error("truncate");
    mark_dirty();
    return Status::Ok();
  }

  Status flush() override { return launch_if_dirty(); }
  Status fsync() override {
    if (::fsync(fd_) != 0) return os_error("fsync");
    return launch_if_dirty();
  }

 private:
  void mark_dirty() {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }

  // The file's current name in the zone (it may have been renamed while open).
  std::string current_name() const {
    struct stat mine {};
    if (::fstat(fd_, &mine) != 0 || mine.st_nlink == 0) return "";
    DIR* dir = ::opendir(zone_->backing_dir().c_str());
    if (dir == nullptr) return "";
    std::string found;
    while (dirent* e = ::readdir(dir)) {
      if (e->d_ino == mine.st_ino) {
        found = e->d_name;
        break;
      }
    }
    ::closedir(dir);
    return found;
  }

  Status launch_if_dirty() {
    {
      std::lock_guard lock(mu_);
      if (!dirty_) return last_;
      dirty_ = false;
    }
    std::string name = current_name();
    Status outcome = DropZoneDir::is_launch_name(name) ? zone_->launch_file(name) : Status::Ok();
    std::lock_guard lock(mu_);
    last_ = outcome;
    return outcome;
  }

  std::shared_ptr<DropZoneDir> zone_;
  const int fd_;
  std::mutex mu_;
  bool dirty_;    // GUARDED_BY(mu_)
  Status last_;   // GUARDED_BY(mu_)
};

Result<std::unique_ptr<OpenFile>> DropZoneFile::open(const OpenRequest& request) const {
  int flags = request.write ? O_RDWR : O_RDONLY;
  if (request.truncate) flags |= O_TRUNC;
  if (request.append) flags |= O_APPEND;
  int fd = ::open(path().c_str(), flags | O_CLOEXEC);
  if (fd < 0) return os_error("open '" + name_ + "'");
  // Only writes (and explicit truncates) make a launch: a shell's `> file`
  // opens with O_TRUNC and closes a first descriptor before writing.
  return std::unique_ptr<OpenFile>(std::make_unique<DropZoneOpenFile>(zone_, fd, false));
}

}  // namespace

Result<std::shared_ptr<DropZoneDir>> DropZoneDir::open(std::string backing_dir, std::shared_ptr<LaunchTrigger> trigger) {
  std::error_code ec;
  std::filesystem::create_directories(backing_dir, ec);
  if (ec) return make_error(Errc::kIo, "cannot create " + backing_dir + ": " + ec.message());
  return std::shared_ptr<DropZoneDir>(new DropZoneDir(std::move(backing_dir), std::move(trigger)));
}

bool DropZoneDir::is_launch_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.front() == '#' || name.front() == '~') return false;
  return ends_with(name, ".yaml") || ends_with(name, ".yml");
}

Result<std::shared_ptr<Node>> DropZoneDir::file_node(std::string_view name) const {
  auto self = std::const_pointer_cast<DropZoneDir>(shared_from_this());
  return std::shared_ptr<Node>(std::make_shared<DropZoneFile>(self, std::string(name)));
}

std::vector<DirNode::Child> DropZoneDir::children() const {
  std::vector<Child> out;
  DIR* dir = ::opendir(dir_.c_str());
  if (dir == nullptr) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || ends_with(name, ".mmcfs-tmp")) continue;
    if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (auto& name : names) out.emplace_back(name, *file_node(name));
  return out;
}

Result<std::shared_ptr<Node>> DropZoneDir::child(std::string_view name) const {
  struct stat st {};
  if (::lstat(path(name).c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ends_with(name, ".mmcfs-tmp")) {
    return make_error(Errc::kNotFound, std::string(name));
  }
  return file_node(name);
}

WallTime DropZoneDir::mtime() const {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) return WallTime{};
  return to_wall(st.st_mtim);
}

Result<std::shared_ptr<Node>> DropZoneDir::create_file(std::string_view name, std::uint32_t mode) {
  int fd = ::open(path(name).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return os_error("create '" + std::string(name) + "'");
  ::close(fd);
  return file_node(name);
}

Status DropZoneDir::unlink(std::string_view name) {
  if (::unlink(path(name).c_str()) != 0) return os_error("remove");
  return Status::Ok();
}

Status DropZoneDir::make_directory(std::string_view) {
  return make_error(Errc::kPermissionDenied, "new/ holds launch files only, not directories");
}

Status DropZoneDir::rename(std::string_view name, DirNode& to, std::string_view new_name) {
  auto* target = dynamic_cast<DropZoneDir*>(&to);
  if (target == nullptr) {
    return make_error(Errc::kCrossDevice, "files can only be renamed within new/");
  }
  if (::rename(path(name).c_str(), target->path(new_name).c_str()) != 0) return os_error("rename");
  if (is_launch_name(new_name)) return target->launch_file(std::string(new_name));
  return Status::Ok();
}

Status DropZoneDir::launch_file(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    if (!launching_.insert(name).second) {
      return make_error(Errc::kBusy, "'" + name + "' is being launched already");
    }
  }
  struct Done {
    DropZoneDir* zone;
    const std::string& name;
    ~Done() {
      std::lock_guard lock(zone->mu_);
      zone->launching_.erase(name);
    }
  } done{this, name};

  auto text = read_all(path(name));
  if (!text.ok()) return text.error();
  auto outcome = trigger_->launch(name, *text);
  std::string error_file = path(name + ".error");
  if (!outcome.ok()) {
    std::string explanation = outcome.error().message + "\n\n" + name +
                              " was not launched and is unchanged. Fix it and save it again to retry.\n";
    if (auto s = write_all(error_file, explanation); !s.ok()) log::warn("{}", s.error().message);
    return outcome.error();
  }
  // The job keeps the file's text: it leaves new/.
  ::unlink(path(name).c_str());
  if (outcome->in_doubt) {
    if (auto s = write_all(error_file, outcome->message + "\n"); !s.ok()) log::warn("{}", s.error().message);
    return make_error(Errc::kIo, outcome->message);
  }
  ::unlink(error_file.c_str());
  if (auto s = write_all(path(name + ".submitted"), outcome->receipt); !s.ok()) log::warn("{}", s.error().message);
  return Status::Ok();
}

}  // namespace mmcfs::fs
