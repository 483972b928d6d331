// log_cache_fixture.h — what the LogCache unit tests share: a job, its
// cluster, a FakeRemote, a temporary log directory and a few helpers
// (log_cache_test.cpp, log_cache_parallel_test.cpp).
//
// Thread rules: as gtest fixtures (one test at a time).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "backend/log_cache.h"
#include "fakes/fake_remote.h"

namespace mmcfs::backend::log_cache_testing {

using testing::FakeRemote;

inline constexpr const char* kLogPath = "~/ws/jobs/mmcfs-00000000000000aa/slurm-4242.out";

// Deterministic text of n bytes, different at every offset that matters.
inline std::string text_of(std::size_t n, char salt = 'a') {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(salt + static_cast<char>((i * 7 + i / 4093) % 26));
  }
  return s;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class LogCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/mmcfs-logcache-unit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    tmp_ = dir;
    cluster_.name = "alpha";
    cluster_.workspace = "~/ws";
    job_.id = "00001-train";
    job_.token = "mmcfs-00000000000000aa";
    job_.cluster = "alpha";
    job_.slurm_id = "4242";
    job_.state = job_state::kRunning;
    ASSERT_EQ(LogCache::remote_log_path(job_, cluster_), kLogPath);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(tmp_, ignored);
  }

  std::string logs_dir() const { return tmp_ + "/logs"; }

  // The whole cached log as read() serves it.
  std::string cached(const LogCache& cache) {
    auto r = cache.read(job_.id, 0, static_cast<std::size_t>(cache.size(job_.id)) + 10);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() ? *r : "";
  }

  std::vector<std::uint64_t> offsets_requested() const {
    std::vector<std::uint64_t> out;
    for (const auto& call : remote_.read_calls()) out.push_back(call.offset);
    return out;
  }

  std::string tmp_;
  config::ClusterConfig cluster_;
  JobRecord job_;
  FakeRemote remote_;
};

}  // namespace mmcfs::backend::log_cache_testing
