// ssh_test_support.h — shared by the SshRemote integration tests: small
// local helpers and the fixture that loads the cluster named "alpha" from
// the clusters.yaml $MMCFS_TEST_CLUSTERS points at (every test skips, with
// the reason, without it).
//
// Thread rules: tests run sequentially.
#pragma once

#include "backend/ssh_remote.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "config/cluster_config.h"
#include "integration/test_clusters.h"


namespace mmcfs::backend::testing {


using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Runs a local shell command; returns its stdout ("" on failure).
inline std::string run_local(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "[host]:port" or "host", as known_hosts names it.
inline std::string known_hosts_name(const SshOptions& o) {
  return o.port == 22 ? o.hostname : "[" + o.hostname + "]:" + std::to_string(o.port);
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class SshRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!integration::have_test_clusters()) GTEST_SKIP() << integration::kNoTestClusters;
    auto alpha = integration::load_test_cluster("alpha");
    ASSERT_TRUE(alpha.ok()) << alpha.error().describe();
    options_ = ssh_options_for(*alpha);
    char dir[] = "/tmp/mmcfs-ssh-it-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    tmp_ = dir;
  }

  void TearDown() override {
    if (!tmp_.empty()) {
      std::error_code ignored;
      fs::remove_all(tmp_, ignored);
    }
  }

  // A freshly generated key pair of the given ssh-keygen type; returns the
  // private key path (public key beside it, ".pub").
  std::string fresh_key(const std::string& name, const std::string& type_args = "-t ed25519") {
    std::string key = tmp_ + "/" + name;
    run_local("ssh-keygen -q " + type_args + " -N '' -C mmcfs-test -f " + key + " </dev/null");
    EXPECT_TRUE(fs::exists(key)) << "ssh-keygen failed for " << key;
    return key;
  }

  // The key type (e.g. ssh-ed25519) of the first entry in alpha's known_hosts.
  std::string alpha_host_key_type() {
    std::istringstream lines(read_file(options_.known_hosts));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '@') continue;
      std::istringstream fields(line);
      std::string hosts, type;
      fields >> hosts >> type;
      return type;
    }
    return "ssh-ed25519";
  }

  Result<CommandResult> run(SshRemote& remote, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout = 20s) {
    return remote.run(argv, timeout);
  }

  SshOptions options_;
  std::string tmp_;
};


}  // namespace mmcfs::backend::testing
