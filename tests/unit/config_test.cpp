// config_test.cpp — clusters.yaml loading: values, defaults, every kind of
// error with its exact line:column, to_yaml round trip, and the GPU/partition
// filters.
//
// Each test runs with HOME pointed at a fresh temporary directory holding
// .ssh/id_ed25519, so "~" expansion and key-file checks are hermetic.
//
// Thread rules: single-threaded tests (they set HOME).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/cluster_config.h"

namespace mmcfs::config {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A cluster entry that is valid on its own; tests append or vary lines.
constexpr const char* kMinimalFile = R"(clusters:
  - name: "alpha"
    host: "ann@login.alpha.edu"
    workspace: "/home/ann/jobs"
)";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* home = std::getenv("HOME")) saved_home_ = home;
    std::random_device random;
    home_ = fs::temp_directory_path() / ("mmcfs-config-test-" + std::to_string(random()));
    fs::create_directories(home_ / ".ssh");
    write_file(home_ / ".ssh" / "id_ed25519", "not really a key\n");
    write_file(home_ / ".ssh" / "id_ed25519.pub", "ssh-ed25519 AAAA test\n");
    setenv("HOME", home_.c_str(), 1);
  }

  void TearDown() override {
    if (saved_home_) {
      setenv("HOME", saved_home_->c_str(), 1);
    } else {
      unsetenv("HOME");
    }
    std::error_code ignored;
    fs::remove_all(home_, ignored);
  }

  static void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }

  static Result<Config> parse(const std::string& text) {
    return parse_config(text, "clusters.yaml");
  }

  // The error message of a file that must fail to load.
  static std::string error_of(const std::string& text) {
    Result<Config> result = parse(text);
    if (result.ok()) {
      ADD_FAILURE() << "expected an error for:\n" << text;
      return "";
    }
    EXPECT_EQ(result.error().code, Errc::kInvalidArgument);
    return result.error().message;
  }

  std::string home() const { return home_.string(); }

  fs::path home_;
  std::optional<std::string> saved_home_;
};

// ---------------------------------------------------------------------------
// Good files.

TEST_F(ConfigTest, FullFileGivesEveryField) {
  Result<Config> config = parse(R"(settings:
  gpu_cache_seconds: 90
  connect_timeout_seconds: 20
  command_timeout_seconds: 120
clusters:
  - name: "babel"
    host: "user@login.babel.cs.cmu.edu"
    port: 2222
    ssh_key_path: "~/.ssh/id_ed25519"
    known_hosts: "/etc/ssh/ssh_known_hosts"
    workspace: "/home/user/mlops-jobs"
    allowed_partitions: [general, preempt]
    allowed_gpu_types: [A6000, A100_40GB]
    requires_vpn: true
    vpn_protocol: "gp"
    vpn_portal: "https://portal-palo.pitt.edu"
    vpn_username: "user"
    vpn_gateway: "BYOD-GATEWAY-CL"
    gpu_cache_seconds: 5
    connect_timeout_seconds: 10
    command_timeout_seconds: 30
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->path, "clusters.yaml");
  ASSERT_EQ(config->clusters.size(), 1u);
  const ClusterConfig& c = config->clusters[0];
  EXPECT_EQ(c.name, "babel");
  EXPECT_EQ(c.user, "user");
  EXPECT_EQ(c.hostname, "login.babel.cs.cmu.edu");
  EXPECT_EQ(c.port, 2222);
  EXPECT_EQ(c.ssh_key_path, home() + "/.ssh/id_ed25519");
  EXPECT_EQ(c.known_hosts, "/etc/ssh/ssh_known_hosts");
  EXPECT_EQ(c.workspace, "/home/user/mlops-jobs");
  EXPECT_EQ(c.allowed_partitions, (std::vector<std::string>{"general", "preempt"}));
  EXPECT_EQ(c.allowed_gpu_types, (std::vector<std::string>{"A6000", "A100_40GB"}));
  EXPECT_TRUE(c.vpn.required);
  EXPECT_EQ(c.vpn.protocol, "gp");
  EXPECT_EQ(c.vpn.portal, "https://portal-palo.pitt.edu");
  EXPECT_EQ(c.vpn.username, "user");
  EXPECT_EQ(c.vpn.gateway, "BYOD-GATEWAY-CL");
  EXPECT_EQ(c.gpu_cache_ttl, std::chrono::seconds(5));
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.command_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.source_line, 6);
}

TEST_F(ConfigTest, MinimalEntryGetsDefaults) {
  Result<Config> config = parse(kMinimalFile);
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ClusterConfig& c = config->clusters.at(0);
  EXPECT_EQ(c.port, 22);
  EXPECT_EQ(c.ssh_key_path, "");
  EXPECT_EQ(c.known_hosts, home() + "/.ssh/known_hosts");
  EXPECT_TRUE(c.allowed_partitions.empty());
  EXPECT_TRUE(c.allowed_gpu_types.empty());
  EXPECT_FALSE(c.vpn.required);
  EXPECT_EQ(c.gpu_cache_ttl, std::chrono::seconds(60));
  EXPECT_EQ(c.connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.command_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.source_line, 2);
}

TEST_F(ConfigTest, SettingsApplyToEveryClusterUnlessOverridden) {
  Result<Config> config = parse(R"(clusters:
  - name: a
    host: u@a
    workspace: /w
  - name: b
    host: u@b
    workspace: /w
    gpu_cache_seconds: 7
settings:
  gpu_cache_seconds: 30
  command_timeout_seconds: 600
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->clusters[0].gpu_cache_ttl, std::chrono::seconds(30));
  EXPECT_EQ(config->clusters[0].command_timeout, std::chrono::seconds(600));
  EXPECT_EQ(config->clusters[1].gpu_cache_ttl, std::chrono::seconds(7));
  EXPECT_EQ(config->clusters[1].command_timeout, std::chrono::seconds(600));
  EXPECT_EQ(config->clusters[1].connect_timeout, std::chrono::seconds(10));
}

TEST_F(ConfigTest, EmptyListsAndEmptyKeyPathMeanAll) {
  Result<Config> config =
      parse(std::string(kMinimalFile) +
            "    allowed_partitions:\n    allowed_gpu_types: []\n    ssh_key_path: \"\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->clusters[0].allowed_partitions.empty());
  EXPECT_TRUE(config->clusters[0].allowed_gpu_types.empty());
  EXPECT_EQ(config->clusters[0].ssh_key_path, "");
}

TEST_F(ConfigTest, ExpandsTildeInLocalPathsButNotInTheRemoteWorkspace) {
  Result<Config> config = parse(R"(clusters:
  - name: a
    host: u@a
    ssh_key_path: ~/.ssh/id_ed25519
    known_hosts: ~/hosts
    workspace: ~/jobs
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->clusters[0].ssh_key_path, home() + "/.ssh/id_ed25519");
  EXPECT_EQ(config->clusters[0].known_hosts, home() + "/hosts");
  EXPECT_EQ(config->clusters[0].workspace, "~/jobs");
}

TEST_F(ConfigTest, ExpandHome) {
  EXPECT_EQ(expand_home("~/x/y"), home() + "/x/y");
  EXPECT_EQ(expand_home("~"), home());
  EXPECT_EQ(expand_home("/abs/~/x"), "/abs/~/x");
  EXPECT_EQ(expand_home("~bob/x"), "~bob/x");
  EXPECT_EQ(expand_home("relative"), "relative");
  EXPECT_EQ(expand_home(""), "");
  EXPECT_EQ(default_config_path(), home() + "/.config/mmcfs/clusters.yaml");
}

TEST_F(ConfigTest, FindByName) {
  Result<Config> config = parse(R"(clusters:
  - {name: a, host: u@a, workspace: /w}
  - {name: b, host: u@b, workspace: /w}
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_NE(config->find("b"), nullptr);
  EXPECT_EQ(config->find("b")->hostname, "b");
  EXPECT_EQ(config->find("c"), nullptr);
}

TEST_F(ConfigTest, LoadsFromAFile) {
  const fs::path path = home_ / "clusters.yaml";
  write_file(path, kMinimalFile);
  Result<Config> config = load_config_file(path.string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->path, path.string());
  EXPECT_EQ(config->clusters.at(0).name, "alpha");
}

TEST_F(ConfigTest, MissingFileIsNotFoundWithAHint) {
  const std::string path = (home_ / "absent.yaml").string();
  Result<Config> config = load_config_file(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::kNotFound);
  EXPECT_THAT(config.error().message,
              AllOf(StartsWith(path + ": "), HasSubstr("clusters.yaml.example")));
}

TEST_F(ConfigTest, ErrorsNameTheFileGiven) {
  const fs::path path = home_ / "mine.yaml";
  write_file(path, "clusters: 3\n");
  Result<Config> config = load_config_file(path.string());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message, StartsWith(path.string() + ":1:11: "));
}

#ifdef MMCFS_TEST_DATA_DIR
TEST_F(ConfigTest, ShippedExampleLoads) {
  // tests/data -> repository root, lexically (tests/data may not exist in a clone).
  const fs::path root = fs::path(MMCFS_TEST_DATA_DIR).parent_path().parent_path();
  const std::string example = (root / "config" / "clusters.yaml.example").string();
  Result<Config> config = load_config_file(example);
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->clusters.size(), 3u);
  EXPECT_TRUE(config->find("csb")->vpn.required);
  EXPECT_EQ(config->find("lab-gpu")->port, 2222);
}
#endif

// ---------------------------------------------------------------------------
// File-level errors.

TEST_F(ConfigTest, YamlSyntaxErrorGivesParserPosition) {
  EXPECT_THAT(error_of("clusters:\n  - name: [a\n    host: b\n"),
              AllOf(StartsWith("clusters.yaml:3:9: YAML syntax error: "),
                    HasSubstr("end of sequence flow"), HasSubstr("indentation")));
  EXPECT_THAT(error_of("clusters:\n  - name: a\n   host: b\n"),
              StartsWith("clusters.yaml:3:4: YAML syntax error: end of sequence not found"));
}

TEST_F(ConfigTest, TabIndentationSaysSo) {
  EXPECT_THAT(
      error_of("clusters:\n\t- name: a\n"),
      AllOf(StartsWith("clusters.yaml:2:2: YAML syntax error: "), HasSubstr("not allow tabs")));
}

TEST_F(ConfigTest, EmptyFile) {
  EXPECT_THAT(error_of(""), AllOf(StartsWith("clusters.yaml:1:1: "), HasSubstr("no content"),
                                  HasSubstr("clusters:")));
  EXPECT_THAT(error_of("# only a comment\n"),
              StartsWith("clusters.yaml:1:1: the file has no content"));
}

TEST_F(ConfigTest, TopLevelNotAMap) {
  EXPECT_THAT(error_of("- name: a\n"),
              AllOf(StartsWith("clusters.yaml:1:1: the top level is a list, not a map"),
                    HasSubstr("start the file with 'clusters:'")));
}

TEST_F(ConfigTest, MissingClusters) {
  EXPECT_THAT(error_of("settings:\n  gpu_cache_seconds: 5\n"),
              StartsWith("clusters.yaml:1:1: there is no 'clusters' list — add 'clusters:'"));
}

TEST_F(ConfigTest, EmptyClusters) {
  EXPECT_THAT(error_of("settings:\nclusters:\n"),
              StartsWith("clusters.yaml:2:1: 'clusters' is empty — add"));
  EXPECT_THAT(error_of("clusters: []\n"), StartsWith("clusters.yaml:1:11: 'clusters' is empty"));
}

TEST_F(ConfigTest, ClustersNotAList) {
  EXPECT_THAT(error_of("clusters:\n  name: a\n"),
              AllOf(StartsWith("clusters.yaml:2:3: 'clusters' is a map, not a list"),
                    HasSubstr("- name:")));
}

TEST_F(ConfigTest, EntryNotAMap) {
  EXPECT_THAT(error_of("clusters:\n  - babel\n"),
              StartsWith("clusters.yaml:2:5: cluster entry #1 is 'babel', not a map"));
}

TEST_F(ConfigTest, EmptyEntryPointsAtItsDash) {
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "  -   # nothing here\n\n  # comment\n"),
              StartsWith("clusters.yaml:5:3: cluster entry #2 is empty"));
}

// ---------------------------------------------------------------------------
// Unknown and repeated keys.

TEST_F(ConfigTest, UnknownClusterKeySuggestsTheClosest) {
  EXPECT_EQ(error_of(std::string(kMinimalFile) + "    alowed_partitions: [a]\n"),
            "clusters.yaml:5:5: unknown key 'alowed_partitions' in cluster 'alpha' — did you mean "
            "'allowed_partitions'?");
}

TEST_F(ConfigTest, UnknownKeyWithNothingCloseListsTheValidKeys) {
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    colour: blue\n"),
      AllOf(
          StartsWith(
              "clusters.yaml:5:5: unknown key 'colour' in cluster 'alpha' — valid keys here are: "),
          HasSubstr("allowed_gpu_types"), Not(HasSubstr("did you mean"))));
}

TEST_F(ConfigTest, UnknownTopLevelKey) {
  EXPECT_THAT(
      error_of(std::string("setings:\n  gpu_cache_seconds: 5\n") + kMinimalFile),
      StartsWith(
          "clusters.yaml:1:1: unknown key 'setings' in the top level — did you mean 'settings'?"));
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "gpu_cache_seconds: 5\n"),
              AllOf(StartsWith("clusters.yaml:5:1: unknown key 'gpu_cache_seconds'"),
                    HasSubstr("belongs under 'settings:'")));
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "host: u@h\n"),
              AllOf(StartsWith("clusters.yaml:5:1: unknown key 'host'"),
                    HasSubstr("belongs in a cluster entry")));
}

TEST_F(ConfigTest, UnknownSettingsKey) {
  EXPECT_THAT(
      error_of(std::string("settings:\n  gpu_cache_secs: 5\n") + kMinimalFile),
      StartsWith("clusters.yaml:2:3: unknown key 'gpu_cache_secs' in settings — did you mean "
                 "'gpu_cache_seconds'?"));
  EXPECT_THAT(error_of(std::string("settings:\n  port: 22\n") + kMinimalFile),
              AllOf(StartsWith("clusters.yaml:2:3: unknown key 'port' in settings"),
                    HasSubstr("belongs in a cluster entry")));
}

TEST_F(ConfigTest, RepeatedKey) {
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    port: 22\n    port: 23\n"),
      StartsWith(
          "clusters.yaml:6:5: key 'port' appears twice in cluster 'alpha' (first on line 5)"));
}

// ---------------------------------------------------------------------------
// Required keys and types.

TEST_F(ConfigTest, MissingRequiredKeysPointAtTheEntry) {
  const std::string message = error_of(R"(clusters:
  - name: alpha
    host: u@a
    workspace: /w
  - name: beta
    port: 22
)");
  EXPECT_EQ(message,
            "clusters.yaml:5:5: cluster 'beta' has no 'host' (required) — add `host: "
            "\"user@login.cluster.edu\"`\n"
            "clusters.yaml:5:5: cluster 'beta' has no 'workspace' (required) — add `workspace: "
            "\"/home/user/mlops-jobs\"`");
  EXPECT_THAT(error_of("clusters:\n  - host: u@a\n    workspace: /w\n"),
              StartsWith("clusters.yaml:2:5: cluster entry #1 has no 'name' (required)"));
}

TEST_F(ConfigTest, StringExpected) {
  EXPECT_THAT(
      error_of("clusters:\n  - name: [a, b]\n    host: u@a\n    workspace: /w\n"),
      AllOf(StartsWith(
                "clusters.yaml:2:11: 'name' in cluster entry #1 should be a string, not a list"),
            HasSubstr("write it like `name: \"babel\"`")));
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    vpn_portal: {a: 1}\n"),
      StartsWith(
          "clusters.yaml:5:17: 'vpn_portal' in cluster 'alpha' should be a string, not a map"));
}

TEST_F(ConfigTest, ValueMissingPointsAtTheKey) {
  EXPECT_THAT(error_of("clusters:\n  - name: alpha\n    host: u@a\n    workspace:\n"),
              AllOf(StartsWith("clusters.yaml:4:5: 'workspace' in cluster 'alpha' has no value"),
                    Not(HasSubstr("remove the line"))));
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "    vpn_gateway:\n"),
              AllOf(StartsWith("clusters.yaml:5:5: 'vpn_gateway' in cluster 'alpha' has no value"),
                    HasSubstr("remove the line")));
  EXPECT_THAT(error_of("clusters:\n  - name: \"\"\n    host: u@a\n    workspace: /w\n"),
              StartsWith("clusters.yaml:2:11: 'name' in cluster entry #1 is empty"));
}

TEST_F(ConfigTest, ListOfStringsExpected) {
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    allowed_partitions: general\n"),
      AllOf(StartsWith(
                "clusters.yaml:5:25: 'allowed_partitions' in cluster 'alpha' should be a list of "
                "strings, not 'general'"),
            HasSubstr("[general, preempt]")));
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    allowed_gpu_types:\n      - A6000\n      - [x]\n"),
      StartsWith("clusters.yaml:7:9: item #2 of 'allowed_gpu_types' in cluster 'alpha' should be a "
                 "non-empty string, not a list"));
}

TEST_F(ConfigTest, BoolExpected) {
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    requires_vpn: maybe\n"),
      AllOf(StartsWith(
                "clusters.yaml:5:19: 'requires_vpn' in cluster 'alpha' should be true or false, "
                "not 'maybe'"),
            HasSubstr("requires_vpn: false")));
}

TEST_F(ConfigTest, IntegerExpectedWithRange) {
  const std::string base = kMinimalFile;
  EXPECT_THAT(
      error_of(base + "    port: abc\n"),
      StartsWith(
          "clusters.yaml:5:11: 'port' in cluster 'alpha' should be a whole number from 1 to 65535, "
          "not 'abc'"));
  EXPECT_THAT(error_of(base + "    port: 0\n"), StartsWith("clusters.yaml:5:11: 'port'"));
  EXPECT_THAT(error_of(base + "    port: 65536\n"), HasSubstr("from 1 to 65535, not '65536'"));
  EXPECT_THAT(error_of(base + "    port: 22.5\n"), HasSubstr("not '22.5'"));
  EXPECT_THAT(
      error_of(base + "    connect_timeout_seconds: 301\n"),
      StartsWith(
          "clusters.yaml:5:30: 'connect_timeout_seconds' in cluster 'alpha' should be a whole "
          "number from 1 to 300, not '301'"));
  EXPECT_THAT(error_of(base + "    command_timeout_seconds: 3601\n"), HasSubstr("from 1 to 3600"));
  EXPECT_THAT(
      error_of(std::string("settings:\n  gpu_cache_seconds: 0\n") + base),
      StartsWith(
          "clusters.yaml:2:22: 'gpu_cache_seconds' in settings should be a whole number, at least "
          "1, not '0'"));
  EXPECT_THAT(error_of(base + "    port: 99999999999999999999\n"), HasSubstr("from 1 to 65535"));
}

// ---------------------------------------------------------------------------
// Field rules.

TEST_F(ConfigTest, BadNameCharacters) {
  EXPECT_THAT(error_of("clusters:\n  - name: \"my cluster\"\n    host: u@a\n    workspace: /w\n"),
              AllOf(StartsWith("clusters.yaml:2:11: cluster name 'my cluster' contains ' '"),
                    HasSubstr("letters, digits")));
  EXPECT_THAT(error_of("clusters:\n  - name: .hidden\n    host: u@a\n    workspace: /w\n"),
              StartsWith("clusters.yaml:2:11: cluster name '.hidden' contains '.'"));
  EXPECT_THAT(error_of("clusters:\n  - name: a/b\n    host: u@a\n    workspace: /w\n"),
              HasSubstr("contains '/'"));
}

TEST_F(ConfigTest, DuplicateNamePointsAtTheSecondAndNamesTheFirst) {
  EXPECT_THAT(
      error_of(R"(clusters:
  - name: alpha
    host: u@a
    workspace: /w
  - name: beta
    host: u@b
    workspace: /w
  - host: u@c
    name: alpha
    workspace: /w
)"),
      StartsWith("clusters.yaml:9:11: cluster name 'alpha' is used twice (first on line 2)"));
}

TEST_F(ConfigTest, HostNeedsAUser) {
  const std::string head = "clusters:\n  - name: a\n    workspace: /w\n    host: ";
  EXPECT_THAT(error_of(head + "login.a.edu\n"),
              AllOf(StartsWith("clusters.yaml:4:11: host 'login.a.edu' in cluster 'a' has no user"),
                    HasSubstr("user@login.a.edu")));
  EXPECT_THAT(error_of(head + "\"@login.a.edu\"\n"), HasSubstr("has no user"));
  EXPECT_THAT(error_of(head + "u@\n"), HasSubstr("is not user@hostname"));
  EXPECT_THAT(error_of(head + "u@a@b\n"), HasSubstr("is not user@hostname"));
  EXPECT_THAT(
      error_of(head + "u@login:2222\n"),
      AllOf(StartsWith("clusters.yaml:4:11: host 'u@login:2222' in cluster 'a' includes a port"),
            HasSubstr("port:")));
}

TEST_F(ConfigTest, MissingKeyFileSaysTheExpandedPathAndHowToFix) {
  const std::string message =
      error_of(std::string(kMinimalFile) + "    ssh_key_path: ~/.ssh/id_missing\n");
  const std::string expanded = home() + "/.ssh/id_missing";
  EXPECT_THAT(message,
              AllOf(StartsWith("clusters.yaml:5:19: ssh key file '" + expanded + "'"),
                    HasSubstr("does not exist"), HasSubstr("ssh-keygen -t ed25519 -f " + expanded),
                    HasSubstr("remove ssh_key_path to use ssh-agent")));
}

TEST_F(ConfigTest, KeyFileThatExistsIsAccepted) {
  char path_template[] = "/tmp/mmcfs-key-XXXXXX";
  const int fd = mkstemp(path_template);
  ASSERT_GE(fd, 0);
  close(fd);
  Result<Config> config =
      parse(std::string(kMinimalFile) + "    ssh_key_path: " + path_template + "\n");
  fs::remove(path_template);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->clusters[0].ssh_key_path, path_template);
}

TEST_F(ConfigTest, KeyPathMustBeAPrivateKeyFile) {
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "    ssh_key_path: ~/.ssh\n"),
              HasSubstr("is not a regular file"));
  EXPECT_THAT(error_of(std::string(kMinimalFile) + "    ssh_key_path: ~/.ssh/id_ed25519.pub\n"),
              AllOf(HasSubstr("is a public key"), HasSubstr("'~/.ssh/id_ed25519'")));
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    ssh_key_path: id_ed25519\n"),
      StartsWith(
          "clusters.yaml:5:19: ssh_key_path 'id_ed25519' in cluster 'alpha' is a relative path"));
}

TEST_F(ConfigTest, RelativeWorkspace) {
  EXPECT_THAT(
      error_of("clusters:\n  - name: a\n    host: u@a\n    workspace: mlops-jobs\n"),
      AllOf(StartsWith(
                "clusters.yaml:4:16: workspace 'mlops-jobs' in cluster 'a' is a relative path"),
            HasSubstr("~/")));
}

TEST_F(ConfigTest, VpnNeedsAPortal) {
  EXPECT_THAT(
      error_of(std::string(kMinimalFile) + "    requires_vpn: true\n    vpn_protocol: gp\n"),
      AllOf(
          StartsWith(
              "clusters.yaml:5:19: cluster 'alpha' sets requires_vpn: true but has no vpn_portal"),
          HasSubstr("add `vpn_portal:"), HasSubstr("requires_vpn: false")));
  EXPECT_TRUE(
      parse(std::string(kMinimalFile) + "    requires_vpn: false\n    vpn_protocol: gp\n").ok());
}

// ---------------------------------------------------------------------------
// Several problems at once.

TEST_F(ConfigTest, AllProblemsReportedInFileOrderOnePerLine) {
  const std::string message = error_of(R"(clusters:
  - name: a
    workspace: rel
    host: nouser
    port: 0
settings:
  gpu_cache_seconds: -1
)");
  std::vector<std::string> lines;
  std::istringstream stream(message);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << message;
  EXPECT_THAT(lines[0], StartsWith("clusters.yaml:3:16: workspace"));
  EXPECT_THAT(lines[1], StartsWith("clusters.yaml:4:11: host"));
  EXPECT_THAT(lines[2], StartsWith("clusters.yaml:5:11: 'port'"));
  EXPECT_THAT(lines[3], StartsWith("clusters.yaml:7:22: 'gpu_cache_seconds'"));
}

TEST_F(ConfigTest, ManyProblemsAreCapped) {
  std::string text = "clusters:\n";
  for (int i = 0; i < 30; ++i) text += "  - bad\n";
  const std::string message = error_of(text);
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 20);
  EXPECT_THAT(message, HasSubstr("clusters.yaml: ... and 10 more problems"));
}

// ---------------------------------------------------------------------------
// to_yaml.

TEST_F(ConfigTest, ToYamlHasEffectiveValuesAndParsesBack) {
  Result<Config> config = parse(R"(clusters:
  - name: csb
    host: user@cluster.csb.pitt.edu
    ssh_key_path: ~/.ssh/id_ed25519
    workspace: /net/galaxy/home/user/mlops-jobs
    allowed_gpu_types: [A6000, "yes"]
    requires_vpn: true
    vpn_protocol: gp
    vpn_portal: https://portal-palo.pitt.edu
    vpn_username: user
    vpn_gateway: BYOD-GATEWAY-CL
    command_timeout_seconds: 45
)");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ClusterConfig& original = config->clusters[0];
  const std::string text = original.to_yaml();

  YAML::Node node = YAML::Load(text);
  ASSERT_TRUE(node.IsMap()) << text;
  EXPECT_EQ(node["name"].as<std::string>(), "csb");
  EXPECT_EQ(node["host"].as<std::string>(), "user@cluster.csb.pitt.edu");
  EXPECT_EQ(node["port"].as<int>(), 22);
  EXPECT_EQ(node["ssh_key_path"].as<std::string>(), home() + "/.ssh/id_ed25519");
  EXPECT_EQ(node["known_hosts"].as<std::string>(), home() + "/.ssh/known_hosts");
  EXPECT_EQ(node["allowed_partitions"].size(), 0u);
  EXPECT_EQ(node["allowed_gpu_types"][1].as<std::string>(), "yes");
  EXPECT_TRUE(node["requires_vpn"].as<bool>());
  EXPECT_EQ(node["vpn_gateway"].as<std::string>(), "BYOD-GATEWAY-CL");
  EXPECT_EQ(node["gpu_cache_seconds"].as<int>(), 60);
  EXPECT_EQ(node["command_timeout_seconds"].as<int>(), 45);

  // Indented under "clusters:", the output is itself a valid entry.
  std::string wrapped = "clusters:\n  - ";
  for (char c : text) {
    wrapped += c;
    if (c == '\n') wrapped += "    ";
  }
  Result<Config> again = parse(wrapped);
  ASSERT_TRUE(again.ok()) << again.error().message << "\n" << wrapped;
  const ClusterConfig& copy = again->clusters[0];
  EXPECT_EQ(copy.name, original.name);
  EXPECT_EQ(copy.user, original.user);
  EXPECT_EQ(copy.hostname, original.hostname);
  EXPECT_EQ(copy.port, original.port);
  EXPECT_EQ(copy.ssh_key_path, original.ssh_key_path);
  EXPECT_EQ(copy.known_hosts, original.known_hosts);
  EXPECT_EQ(copy.workspace, original.workspace);
  EXPECT_EQ(copy.allowed_partitions, original.allowed_partitions);
  EXPECT_EQ(copy.allowed_gpu_types, original.allowed_gpu_types);
  EXPECT_EQ(copy.vpn.required, original.vpn.required);
  EXPECT_EQ(copy.vpn.protocol, original.vpn.protocol);
  EXPECT_EQ(copy.vpn.portal, original.vpn.portal);
  EXPECT_EQ(copy.vpn.username, original.vpn.username);
  EXPECT_EQ(copy.vpn.gateway, original.vpn.gateway);
  EXPECT_EQ(copy.gpu_cache_ttl, original.gpu_cache_ttl);
  EXPECT_EQ(copy.connect_timeout, original.connect_timeout);
  EXPECT_EQ(copy.command_timeout, original.command_timeout);
}

TEST_F(ConfigTest, ToYamlWithoutKeyPathSaysSshAgent) {
  Result<Config> config = parse(kMinimalFile);
  ASSERT_TRUE(config.ok()) << config.error().message;
  const std::string text = config->clusters[0].to_yaml();
  EXPECT_THAT(text, HasSubstr("ssh_key_path: \"\""));
  EXPECT_THAT(text, HasSubstr("ssh-agent"));
  EXPECT_THAT(text, Not(HasSubstr("vpn_portal")));
  EXPECT_EQ(YAML::Load(text)["ssh_key_path"].as<std::string>(), "");
}

// ---------------------------------------------------------------------------
// Partition and GPU filters.

TEST(ClusterConfigFilters, PartitionAllowed) {
  ClusterConfig c;
  EXPECT_TRUE(c.partition_allowed("anything"));
  c.allowed_partitions = {"general", "preempt"};
  EXPECT_TRUE(c.partition_allowed("general"));
  EXPECT_TRUE(c.partition_allowed("preempt"));
  EXPECT_FALSE(c.partition_allowed("debug"));
  EXPECT_FALSE(c.partition_allowed("General"));  // SLURM partition names are case-sensitive
}

TEST(ClusterConfigFilters, AllowedGpuSpellingIgnoresCaseAndKeepsConfiguredSpelling) {
  ClusterConfig c;
  c.allowed_gpu_types = {"A6000", "A100_40GB"};
  EXPECT_EQ(c.allowed_gpu_spelling("a6000"), "A6000");
  EXPECT_EQ(c.allowed_gpu_spelling("A6000"), "A6000");
  EXPECT_EQ(c.allowed_gpu_spelling("a100_40gb"), "A100_40GB");
  EXPECT_EQ(c.allowed_gpu_spelling("v100"), "");
  EXPECT_EQ(c.allowed_gpu_spelling("a600"), "");
  EXPECT_EQ(c.allowed_gpu_spelling(""), "");
}

TEST(ClusterConfigFilters, EmptyGpuListAllowsAllWithSlurmSpelling) {
  ClusterConfig c;
  EXPECT_EQ(c.allowed_gpu_spelling("a6000"), "a6000");
  EXPECT_EQ(c.allowed_gpu_spelling("L40S"), "L40S");
}

}  // namespace
}  // namespace mmcfs::config
