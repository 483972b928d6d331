// conf_source.h — where a Hydra config directory is read from.
//
// The parser (conf_tree.h) reads a conf/ directory only through ConfSource,
// so the same code reads it from the work tree on disk (DiskConfSource) or as
// it was in a commit (GitConfSource, conf_source_git.cpp), and tests give it
// an in-memory tree (MemoryConfSource). Paths are relative to the conf
// directory and use '/', with no leading slash; "" is the directory itself.
//
// Thread rules: a source is used by one caller at a time; DiskConfSource and
// MemoryConfSource hold no state besides their root/files, GitConfSource
// opens the repository on each call.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace mmcfs::hydra {

struct ConfEntry {
  std::string name;  // file or directory name, no '/'
  bool is_dir = false;
};

class ConfSource {
 public:
  virtual ~ConfSource() = default;
  // The entries of directory `dir`, sorted by name. kNotFound if it does
  // not exist; kNotDirectory if it is a file.
  virtual Result<std::vector<ConfEntry>> list(const std::string& dir) const = 0;
  // The text of file `path`. kNotFound if there is none.
  virtual Result<std::string> read(const std::string& path) const = 0;
  // How messages name the conf directory ("conf", "conf@1a2b3c4").
  virtual std::string label() const = 0;
};

// The directory `root` on the local disk. Files over 1 MiB are refused
// (kInvalidArgument): a Hydra config is not a data file.
class DiskConfSource final : public ConfSource {
 public:
  DiskConfSource(std::string root, std::string label) : root_(std::move(root)), label_(std::move(label)) {}
  Result<std::vector<ConfEntry>> list(const std::string& dir) const override;
  Result<std::string> read(const std::string& path) const override;
  std::string label() const override { return label_; }

 private:
  std::string root_;
  std::string label_;
};

// Files given as path -> text; directories are implied by the paths.
class MemoryConfSource final : public ConfSource {
 public:
  // Messages name the directory "conf".
  explicit MemoryConfSource(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  Result<std::vector<ConfEntry>> list(const std::string& dir) const override;
  Result<std::string> read(const std::string& path) const override;
  std::string label() const override { return label_; }

 private:
  std::map<std::string, std::string> files_;
  std::string label_ = "conf";
};

// `conf_dir` (relative to the repository root) as of commit `sha` of the
// repository at `repo_path`, read through libgit2.
class GitConfSource final : public ConfSource {
 public:
  GitConfSource(std::string repo_path, std::string sha, std::string conf_dir)
      : repo_path_(std::move(repo_path)), sha_(std::move(sha)), conf_dir_(std::move(conf_dir)) {}
  Result<std::vector<ConfEntry>> list(const std::string& dir) const override;
  Result<std::string> read(const std::string& path) const override;
  std::string label() const override { return conf_dir_ + "@" + sha_.substr(0, 12); }

 private:
  std::string repo_path_;
  std::string sha_;
  std::string conf_dir_;
};

}  // namespace mmcfs::hydra
