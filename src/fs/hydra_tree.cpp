// hydra_tree.cpp — projects/<p>/hydra/ (see hydra_tree.h).
//
// Thread rules: no shared mutable state; each render loads the tree afresh.
#include "fs/hydra_tree.h"

#include <set>

#include "hydra/conf_render.h"
#include "hydra/conf_tree.h"

namespace mmcfs::fs {
namespace {

using hydra::ConfTree;

class HydraDir final : public DirNode {
 public:
  HydraDir(std::string conf_dir, std::string label, std::function<std::string(const std::string&)> config_template,
           WallTime mtime)
      : conf_dir_(std::move(conf_dir)),
        label_(std::move(label)),
        config_template_(std::move(config_template)),
        mtime_(mtime) {}

  std::vector<Child> children() const override {
    const ConfTree tree = load();
    std::vector<Child> out;
    out.emplace_back("configs", file([](const ConfTree& t) { return hydra::render_configs(t); }));
    std::vector<Child> groups;
    for (const hydra::ConfGroup& g : tree.groups) {
      const std::string path = g.path;
      groups.emplace_back(hydra::group_file_name(path),
                          file([path](const ConfTree& t) { return hydra::render_group(t, path); }));
    }
    out.emplace_back("groups", fixed_dir(std::move(groups)));
    out.emplace_back("params", file([](const ConfTree& t) {
      const hydra::Composition* c = t.composition("");
      return c ? hydra::render_params(*c) : std::string("# no default config (no config.yaml)\n");
    }));
    out.emplace_back("problems", file([](const ConfTree& t) { return hydra::render_problems(t); }));
    static const std::set<std::string> kFixed = {"configs", "groups", "params", "problems"};
    for (const std::string& config : tree.configs) {
      if (kFixed.contains(config)) continue;
      out.emplace_back(config, config_dir(config));
    }
    return out;
  }
  WallTime mtime() const override { return mtime_; }

 private:
  ConfTree load() const { return hydra::load_conf_tree(hydra::DiskConfSource(conf_dir_, label_)); }

  std::shared_ptr<Node> file(std::function<std::string(const ConfTree&)> render) const {
    auto self_dir = conf_dir_;
    auto label = label_;
    WallTime at = mtime_;
    return std::make_shared<GeneratedFile>([self_dir, label, at, render]() -> Result<FileContent> {
      return FileContent{render(hydra::load_conf_tree(hydra::DiskConfSource(self_dir, label))), at};
    });
  }

  std::shared_ptr<Node> config_dir(const std::string& config) const {
    std::vector<Child> files;
    files.emplace_back("params", file([config](const ConfTree& t) {
      const hydra::Composition* c = t.composition(config);
      return c ? hydra::render_params(*c) : std::string();
    }));
    files.emplace_back("groups", file([config](const ConfTree& t) {
      const hydra::Composition* c = t.composition(config);
      return c ? hydra::render_selection(*c) : std::string();
    }));
    auto config_template = config_template_;
    WallTime at = mtime_;
    files.emplace_back("launch.yaml", std::make_shared<GeneratedFile>([config_template, config, at]() -> Result<FileContent> {
      return FileContent{config_template(config), at};
    }));
    return fixed_dir(std::move(files));
  }

  // Children fixed at this lookup, with the default (short) attribute TTL
  // so that a group or config added to conf/ shows within a second.
  std::shared_ptr<DirNode> fixed_dir(std::vector<Child> children) const {
    auto shared = std::make_shared<const std::vector<Child>>(std::move(children));
    WallTime at = mtime_;
    return std::make_shared<GeneratedDir>([shared] { return *shared; }, nullptr, [at] { return at; });
  }

  std::string conf_dir_;
  std::string label_;
  std::function<std::string(const std::string&)> config_template_;
  WallTime mtime_;
};

}  // namespace

std::shared_ptr<DirNode> make_hydra_dir(std::string conf_dir, std::string label,
                                        std::function<std::string(const std::string&)> config_template,
                                        WallTime mtime) {
  return std::make_shared<HydraDir>(std::move(conf_dir), std::move(label), std::move(config_template), mtime);
}

}  // namespace mmcfs::fs
