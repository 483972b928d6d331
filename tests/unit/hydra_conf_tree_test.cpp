// Tests for src/hydra/conf_tree.h: listing, defaults lists, composition and
// the schema, on conf/ trees shaped like real projects (written here as
// in-memory fixtures), plus the disk and git sources.
#include "hydra/conf_tree.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "hydra/conf_source.h"

namespace mmcfs::hydra {
namespace {

std::string param_line(const Composition& c, const std::string& key) {
  const ParamInfo* p = c.find_param(key);
  if (p == nullptr) return "(absent)";
  return std::string(type_name(p->type)) + " " + p->default_text;
}

std::vector<std::string> problem_texts(const std::vector<ConfProblem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.text());
  return out;
}

// The example project's shape: three groups, two primary configs.
MemoryConfSource example_project() {
  return MemoryConfSource({
      {"config.yaml",
       "defaults:\n  - data: small\n  - model: mlp\n  - optimizer: adam\n  - _self_\n\n"
       "experiment_suffix: \"\"\nseed: 0\ntrain:\n  epochs: 1\n  use_amp: true\n"},
      {"config_small.yaml", "defaults:\n  - data: small\n  - model: mlp\n  - optimizer: sgd\n  - _self_\nseed: 1\n"},
      {"data/small.yaml", "name: small\nbatch_size: 32\n"},
      {"data/large.yaml", "name: large\nbatch_size: 256\n"},
      {"model/mlp.yaml", "name: mlp\nhidden_sizes: [64, 64]\ndropout: 0.1\n"},
      {"model/transformer.yaml", "name: transformer\nnum_layers: 2\n"},
      {"optimizer/adam.yaml", "lr: 1e-3\nbetas: [0.9, 0.999]\n"},
      {"optimizer/sgd.yaml", "lr: 0.01\nmomentum: 0.9\n"},
  });
}

TEST(HydraConfTree, ListsPrimaryConfigsGroupsAndOptions) {
  ConfTree tree = load_conf_tree(example_project());
  ASSERT_TRUE(tree.found);
  EXPECT_EQ(tree.configs, (std::vector<std::string>{"config", "config_small"}));
  EXPECT_EQ(tree.default_config, "config");
  ASSERT_EQ(tree.groups.size(), 3u);
  EXPECT_EQ(tree.groups[1].path, "model");
  EXPECT_EQ(tree.groups[1].options, (std::vector<std::string>{"mlp", "transformer"}));
  EXPECT_TRUE(tree.all_problems().empty()) << testing::PrintToString(problem_texts(tree.all_problems()));
}

TEST(HydraConfTree, SchemaOfTheDefaultCompositionIsTyped) {
  ConfTree tree = load_conf_tree(example_project());
  const Composition* c = tree.composition("");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->selection, (std::vector<std::pair<std::string, std::string>>{
                              {"data", "small"}, {"model", "mlp"}, {"optimizer", "adam"}}));
  EXPECT_EQ(param_line(*c, "data.batch_size"), "int 32");
  EXPECT_EQ(param_line(*c, "model.hidden_sizes"), "list [64, 64]");
  EXPECT_EQ(param_line(*c, "model.dropout"), "float 0.1");
  EXPECT_EQ(param_line(*c, "optimizer.lr"), "float 1e-3");
  EXPECT_EQ(param_line(*c, "experiment_suffix"), "string ''");
  EXPECT_EQ(param_line(*c, "train.use_amp"), "bool true");
  EXPECT_EQ(param_line(*c, "optimizer.momentum"), "(absent)");
  // Another primary config switches the schema.
  const Composition* small = tree.composition("config_small");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(param_line(*small, "optimizer.momentum"), "float 0.9");
  EXPECT_EQ(param_line(*small, "seed"), "int 1");
}

TEST(HydraConfTree, ChoicesReplaceTheDefaultSelection) {
  Composition c = compose(example_project(), "config", {{"model", "transformer"}});
  EXPECT_EQ(*c.selected("model"), "transformer");
  EXPECT_EQ(param_line(c, "model.num_layers"), "int 2");
  EXPECT_EQ(param_line(c, "model.dropout"), "(absent)");
}

TEST(HydraConfTree, SelfFirstLetsGroupsWinSelfLastLetsTheConfigWin) {
  MemoryConfSource first({{"config.yaml", "defaults:\n  - _self_\n  - db: mysql\ndb:\n  port: 1\n"},
                          {"db/mysql.yaml", "port: 3306\nhost: localhost\n"}});
  EXPECT_EQ(param_line(compose(first, "config"), "db.port"), "int 3306");
  MemoryConfSource last({{"config.yaml", "defaults:\n  - db: mysql\n  - _self_\ndb:\n  port: 1\n"},
                         {"db/mysql.yaml", "port: 3306\nhost: localhost\n"}});
  EXPECT_EQ(param_line(compose(last, "config"), "db.port"), "int 1");
  // Without _self_ the config's keys come last (Hydra 1.1).
  MemoryConfSource none({{"config.yaml", "defaults:\n  - db: mysql\ndb:\n  port: 1\n"},
                         {"db/mysql.yaml", "port: 3306\n"}});
  EXPECT_EQ(param_line(compose(none, "config"), "db.port"), "int 1");
}

TEST(HydraConfTree, NestedGroupsAreRelativeToTheirParentGroup) {
  MemoryConfSource source({
      {"config.yaml", "defaults:\n  - model: resnet\n  - _self_\n"},
      {"model/resnet.yaml", "defaults:\n  - encoder: small\n  - _self_\ndepth: 50\n"},
      {"model/encoder/small.yaml", "width: 64\n"},
      {"model/encoder/large.yaml", "width: 1024\n"},
  });
  ConfTree tree = load_conf_tree(source);
  ASSERT_NE(tree.find_group("model/encoder"), nullptr);
  EXPECT_EQ(tree.find_group("model/encoder")->options, (std::vector<std::string>{"large", "small"}));
  const Composition* c = tree.composition("");
  EXPECT_EQ(*c->selected("model/encoder"), "small");
  EXPECT_EQ(param_line(*c, "model.encoder.width"), "int 64");
  EXPECT_EQ(param_line(*c, "model.depth"), "int 50");
  Composition large = compose(source, "config", {{"model/encoder", "large"}});
  EXPECT_EQ(param_line(large, "model.encoder.width"), "int 1024");
}

TEST(HydraConfTree, OptionalMissingIsSkippedAndMissingIsReported) {
  MemoryConfSource source({
      {"config.yaml", "defaults:\n  - optional site: local\n  - db: postgres\n  - _self_\nx: 1\n"},
      {"db/mysql.yaml", "port: 3306\n"},
  });
  Composition c = compose(source, "config");
  ASSERT_EQ(c.problems.size(), 1u);
  EXPECT_EQ(c.problems[0].text(),
            "conf/config.yaml:3:5: group 'db' has no option 'postgres' (db/postgres.yaml is missing) — "
            "create it, choose another option, or mark the entry `optional`");
  EXPECT_EQ(param_line(c, "x"), "int 1");
}

TEST(HydraConfTree, OverrideEntriesAndPackageDirectives) {
  MemoryConfSource source({
      {"config.yaml",
       "defaults:\n  - model: small\n  - db@backup: mysql\n  - hydra/launcher@_global_: local\n"
       "  - override model: big\n  - _self_\n"},
      {"model/small.yaml", "size: 1\n"},
      {"model/big.yaml", "size: 100\n"},
      {"db/mysql.yaml", "port: 3306\n"},
      {"hydra/launcher/local.yaml", "# @package _global_\nlauncher_name: local\n"},
  });
  Composition c = compose(source, "config");
  EXPECT_TRUE(c.problems.empty()) << testing::PrintToString(problem_texts(c.problems));
  EXPECT_EQ(*c.selected("model"), "big");
  EXPECT_EQ(param_line(c, "model.size"), "int 100");
  EXPECT_EQ(param_line(c, "backup.port"), "int 3306");
  EXPECT_EQ(param_line(c, "launcher_name"), "string local");
}

TEST(HydraConfTree, NullAndMandatoryChoicesAndTypes) {
  MemoryConfSource source({
      {"config.yaml",
       "defaults:\n  - model: null\n  - data: ???\n  - _self_\n"
       "a: ~\nb: ???\nc: '42'\nd: 0x1F\ne: .inf\nf: yes\ng: {}\nh: 1_000\ni: hello world\n"},
      {"model/a.yaml", "x: 1\n"},
      {"data/a.yaml", "y: 1\n"},
  });
  Composition c = compose(source, "config");
  EXPECT_TRUE(c.problems.empty()) << testing::PrintToString(problem_texts(c.problems));
  EXPECT_EQ(*c.selected("model"), "");
  EXPECT_EQ(*c.selected("data"), "???");
  EXPECT_EQ(param_line(c, "a"), "null null");
  EXPECT_EQ(param_line(c, "b"), "missing ???");
  EXPECT_EQ(param_line(c, "c"), "string '42'");
  EXPECT_EQ(param_line(c, "d"), "int 0x1F");
  EXPECT_EQ(param_line(c, "e"), "float .inf");
  EXPECT_EQ(param_line(c, "f"), "bool yes");
  EXPECT_EQ(param_line(c, "g"), "map {}");
  EXPECT_EQ(param_line(c, "h"), "int 1_000");
  EXPECT_EQ(param_line(c, "i"), "string hello world");
}

TEST(HydraConfTree, MalformedYamlIsReportedWithItsPosition) {
  MemoryConfSource source({
      {"config.yaml", "defaults:\n  - model: a\n  - _self_\nx: 1\n"},
      {"model/a.yaml", "x: [1, 2\ny: 3\n"},
      {"broken.yaml", "- just\n- a list\n"},
      {"weird.yaml", "defaults:\n  - {a: 1, b: 2}\n  - model: {x: 1}\n"},
  });
  ConfTree tree = load_conf_tree(source);
  std::vector<std::string> problems = problem_texts(tree.all_problems());
  ASSERT_EQ(problems.size(), 4u) << testing::PrintToString(problems);
  EXPECT_EQ(problems[0],
            "conf/broken.yaml:1:1: the file is not a map of keys to values — a Hydra config is a YAML map "
            "(`key: value` lines)");
  EXPECT_TRUE(problems[1].starts_with("conf/model/a.yaml:2:")) << problems[1];
  EXPECT_NE(problems[1].find("YAML syntax error"), std::string::npos);
  EXPECT_TRUE(problems[2].starts_with("conf/weird.yaml:2:5: a defaults list entry should be")) << problems[2];
  EXPECT_TRUE(problems[3].starts_with("conf/weird.yaml:3:12: the option of group 'model' is a map")) << problems[3];
  // The rest still works.
  EXPECT_EQ(param_line(*tree.composition(""), "x"), "int 1");
}

TEST(HydraConfTree, NoConfigYamlMeansNoDefault) {
  ConfTree tree = load_conf_tree(MemoryConfSource(std::map<std::string, std::string>{{"train.yaml", "a: 1\n"}}));
  EXPECT_EQ(tree.default_config, "");
  EXPECT_EQ(tree.composition(""), nullptr);
  ASSERT_NE(tree.composition("train"), nullptr);
  ASSERT_EQ(tree.problems.size(), 1u);
  EXPECT_NE(tree.problems[0].text().find("no config.yaml"), std::string::npos);
}

TEST(HydraConfTree, MissingDirectoryIsNotFoundWithoutProblems) {
  ConfTree tree = load_conf_tree(DiskConfSource("/nonexistent/conf", "conf"));
  EXPECT_FALSE(tree.found);
  EXPECT_TRUE(tree.all_problems().empty());
}

TEST(HydraConfTree, DiskAndGitSourcesReadTheSameTree) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("hydra-conf-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "conf/model");
  std::ofstream(dir / "conf/config.yaml") << "defaults:\n  - model: a\n  - _self_\nlr: 0.1\n";
  std::ofstream(dir / "conf/model/a.yaml") << "width: 3\n";
  const std::string git = "git -C '" + dir.string() + "' ";
  ASSERT_EQ(std::system((git + "init -q && " + git + "add . && " + git +
                         "-c user.name=t -c user.email=t@t commit -qm init").c_str()),
            0);
  std::ofstream(dir / "conf/model/a.yaml") << "width: 4\n";  // uncommitted change
  ConfTree disk = load_conf_tree(DiskConfSource((dir / "conf").string(), "conf"));
  EXPECT_EQ(param_line(*disk.composition(""), "model.width"), "int 4");
  FILE* head = ::popen((git + "rev-parse HEAD").c_str(), "r");
  char sha[64] = {};
  ASSERT_NE(std::fgets(sha, sizeof sha, head), nullptr);
  ::pclose(head);
  GitConfSource at_commit(dir.string(), std::string(sha, 40), "conf");
  ConfTree committed = load_conf_tree(at_commit);
  ASSERT_TRUE(committed.found);
  EXPECT_EQ(committed.configs, (std::vector<std::string>{"config"}));
  EXPECT_EQ(param_line(*committed.composition(""), "model.width"), "int 3");
  EXPECT_EQ(param_line(*committed.composition(""), "lr"), "float 0.1");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mmcfs::hydra
