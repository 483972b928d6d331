// hydra_tree_test.cpp — projects/<p>/hydra/ through the Namespace: the files'
// exact texts for the example project's real conf/, nested groups, problems,
// per-config templates, and no hydra/ without a conf directory.
#include "fs/hydra_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fs/namespace.h"
#include "fs/projects_tree.h"

namespace mmcfs::fs {
namespace {

class FakeProjects final : public ProjectSource {
 public:
  std::vector<backend::ProjectEntry> entries;
  std::vector<backend::ProjectEntry> projects() const override { return entries; }
  Status add_project(const std::string&, const std::string&) override { return Status::Ok(); }
  Status remove_project(const std::string&) override { return Status::Ok(); }
  std::string launch_template(const std::string& project) const override { return "template " + project + "\n"; }
  std::string launch_template(const std::string& project, const std::string& config) const override {
    return "template " + project + " config " + config + "\n";
  }
  std::vector<backend::JobSummaryRef> project_jobs(const std::string&) const override { return {}; }
  Result<std::shared_ptr<DropZoneDir>> drop_zone(const std::string&) override {
    return make_error(Errc::kNotFound, "no drop zone in this test");
  }
};

class HydraTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mmcfs-hydra-tree-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void add_project(const std::string& name, const std::string& path) {
    backend::ProjectEntry e;
    e.name = name;
    e.path = path;
    projects_.entries.push_back(e);
  }
  void write(const std::string& relative, const std::string& text) {
    std::filesystem::create_directories((dir_ / relative).parent_path());
    std::ofstream(dir_ / relative) << text;
  }

  Namespace make_ns() {
    std::vector<DirNode::Child> top = {{"projects", make_projects_dir(projects_, WallTime{})}};
    return Namespace(std::make_shared<StaticDir>(std::move(top), WallTime{}));
  }

  static Result<InodeId> walk(Namespace& ns, const std::string& path) {
    InodeId ino = kRootInode;
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      auto attr = ns.lookup(ino, path.substr(start, end - start));
      if (!attr.ok()) return attr.error();
      ino = attr->ino;
      start = end + 1;
    }
    return ino;
  }
  static std::string read(Namespace& ns, const std::string& path) {
    auto ino = walk(ns, path);
    if (!ino.ok()) return "ERROR " + ino.error().describe();
    auto h = ns.open(*ino, OpenRequest{});
    if (!h.ok()) return "ERROR " + h.error().describe();
    auto text = ns.read(h->handle, 0, 1 << 20);
    ns.release(h->handle);
    return text.ok() ? *text : "ERROR " + text.error().describe();
  }
  static std::vector<std::string> list(Namespace& ns, const std::string& path) {
    std::vector<std::string> names;
    auto ino = walk(ns, path);
    if (!ino.ok()) return {"ERROR " + ino.error().describe()};
    auto entries = ns.readdir(*ino);
    if (!entries.ok()) return {"ERROR " + entries.error().describe()};
    for (const auto& e : *entries) {
      if (e.name != "." && e.name != "..") names.push_back(e.name);
    }
    return names;
  }

  std::filesystem::path dir_;
  FakeProjects projects_;
};

TEST_F(HydraTreeTest, TheExampleProjectsConfAsFiles) {
  add_project("example", std::string(MMCFS_TEST_DATA_DIR) + "/../../examples/project");
  Namespace ns = make_ns();
  EXPECT_EQ(list(ns, "projects/example/hydra"),
            (std::vector<std::string>{"configs", "groups", "params", "problems", "config", "config_small"}));
  EXPECT_EQ(read(ns, "projects/example/hydra/configs"), "config        default\nconfig_small\n");
  EXPECT_EQ(list(ns, "projects/example/hydra/groups"), (std::vector<std::string>{"data", "model", "optimizer"}));
  EXPECT_EQ(read(ns, "projects/example/hydra/groups/model"), "mlp          default\ntransformer\n");
  EXPECT_EQ(read(ns, "projects/example/hydra/groups/optimizer"), "adam  default\nsgd\n");
  EXPECT_EQ(read(ns, "projects/example/hydra/params"),
            "# config config data=small model=mlp optimizer=adam\n"
            "data.name               string  small\n"
            "data.num_samples        int     1000\n"
            "data.batch_size         int     32\n"
            "data.num_workers        int     0\n"
            "model.name              string  mlp\n"
            "model.hidden_sizes      list    [64, 64]\n"
            "model.dropout           float   0.1\n"
            "model.activation        string  relu\n"
            "optimizer.name          string  adam\n"
            "optimizer.lr            float   1e-3\n"
            "optimizer.betas         list    [0.9, 0.999]\n"
            "optimizer.weight_decay  float   0.0\n"
            "experiment_suffix       string  ''\n"
            "notes                   string  ''\n"
            "seed                    int     0\n"
            "exit_code               int     0\n"
            "train.epochs            int     1\n"
            "train.sleep_seconds     int     0\n");
  EXPECT_NE(read(ns, "projects/example/hydra/config_small/params").find("optimizer.momentum      float   0.9\n"),
            std::string::npos);
  EXPECT_EQ(read(ns, "projects/example/hydra/config_small/groups"), "data       small\nmodel      mlp\noptimizer  sgd\n");
  EXPECT_EQ(read(ns, "projects/example/hydra/config_small/launch.yaml"), "template example config config_small\n");
  EXPECT_EQ(read(ns, "projects/example/hydra/problems"), "");
}

TEST_F(HydraTreeTest, NestedGroupsProblemsAndEdits) {
  write("repo/conf/config.yaml", "defaults:\n  - model: a\n  - db: missing\n  - _self_\nlr: 0.1\n");
  write("repo/conf/model/a.yaml", "defaults:\n  - encoder: small\nw: 1\n");
  write("repo/conf/model/encoder/small.yaml", "width: 1\n");
  write("repo/conf/model/encoder/big.yaml", "width: [\n");
  add_project("p", (dir_ / "repo").string());
  Namespace ns = make_ns();
  EXPECT_EQ(list(ns, "projects/p/hydra/groups"), (std::vector<std::string>{"model", "model.encoder"}));
  EXPECT_EQ(read(ns, "projects/p/hydra/groups/model.encoder"), "big\nsmall  default\n");
  EXPECT_EQ(read(ns, "projects/p/hydra/problems"),
            "conf/config.yaml:3:5: group 'db' has no option 'missing' (db/missing.yaml is missing) — create it, "
            "choose another option, or mark the entry `optional`\n");
  // An edit shows at once.
  write("repo/conf/config.yaml", "defaults:\n  - model: a\n  - _self_\nlr: 0.1\n");
  EXPECT_EQ(read(ns, "projects/p/hydra/problems"), "");
  EXPECT_EQ(read(ns, "projects/p/hydra/params"),
            "# config config model=a model/encoder=small\nmodel.encoder.width  int    1\nmodel.w              int    1\n"
            "lr                   float  0.1\n");
  // Read-only.
  auto params = walk(ns, "projects/p/hydra/params");
  ASSERT_TRUE(params.ok());
  EXPECT_FALSE(ns.open(*params, OpenRequest{true}).ok());
}

TEST_F(HydraTreeTest, NoConfDirectoryNoHydraDir) {
  write("bare/README", "x\n");
  add_project("bare", (dir_ / "bare").string());
  Namespace ns = make_ns();
  auto names = list(ns, "projects/bare");
  EXPECT_EQ(std::find(names.begin(), names.end(), "hydra"), names.end());
  // A .mlops-config.yaml pointing elsewhere is followed.
  write("bare/.mlops-config.yaml", "hydra_config_dir: configs/hydra\n");
  write("bare/configs/hydra/config.yaml", "x: 1\n");
  EXPECT_EQ(read(ns, "projects/bare/hydra/params"), "# config config\nx  int  1\n");
}

}  // namespace
}  // namespace mmcfs::fs
