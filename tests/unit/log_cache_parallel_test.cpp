// log_cache_parallel_test.cpp — LogCache fetching a big backlog over bulk
// remotes in parallel: the same bytes as a sequential fetch, each chunk
// once, the size only for the contiguous prefix, a failure or a bound keeps
// the prefix, truncation mid-way, the crash marker.
//
// Thread rules: the cache's own fetch threads; the gates are thread-safe.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

#include "backend/failing_remote.h"
#include "backend/log_cache.h"
#include "fakes/fake_remote.h"
#include "fakes/gated_remote.h"
#include "log_cache_fixture.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;
using namespace log_cache_testing;
using testing::FakeRemote;
using testing::GatedRemote;
namespace fs = std::filesystem;

// The remote file as the bulk remotes see it: the same FakeRemote files.
class ParallelLogCacheTest : public LogCacheTest {
 protected:
  void SetUp() override {
    LogCacheTest::SetUp();
  }
  void set_file(const std::string& content) {
    remote_.set_file(kLogPath, content);
    bulk_a_.set_file(kLogPath, content);
    bulk_b_.set_file(kLogPath, content);
  }
  std::vector<Remote*> bulk() { return {&bulk_a_, &bulk_b_}; }
  std::vector<std::uint64_t> bulk_offsets() const {
    std::vector<std::uint64_t> out;
    for (const auto* fake : {&bulk_a_, &bulk_b_}) {
      for (const auto& call : fake->read_calls()) out.push_back(call.offset);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::uint64_t file_size_on_disk() const { return fs::file_size(logs_dir() + "/" + job_.id + ".log"); }
  bool partial_marker_exists() const { return fs::exists(logs_dir() + "/" + job_.id + ".log.partial"); }

  FakeRemote bulk_a_;
  FakeRemote bulk_b_;
};

TEST_F(ParallelLogCacheTest, ABigBacklogIsSharedByTheBulkRemotesAndMatchesTheRemoteFile) {
  LogCache cache(logs_dir());
  const std::string content = text_of(10 * kLogChunkBytes + 123);
  set_file(content);
  auto state = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_TRUE(state->caught_up);
  EXPECT_EQ(state->size, content.size());
  EXPECT_EQ(state->remote_size, content.size());
  EXPECT_TRUE(cached(cache) == content);
  EXPECT_TRUE(slurp(logs_dir() + "/" + job_.id + ".log") == content);
  // The main remote asked once (the first chunk, which tells the size); the
  // bulk remotes fetched every other chunk exactly once.
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0}));
  std::vector<std::uint64_t> expected;
  for (std::uint64_t off = kLogChunkBytes; off < content.size(); off += kLogChunkBytes) expected.push_back(off);
  EXPECT_EQ(bulk_offsets(), expected);
  EXPECT_FALSE(partial_marker_exists());
  EXPECT_EQ(cache.stats().remote_reads, 1 + expected.size());
  EXPECT_EQ(cache.stats().bytes_fetched, content.size());

  // A finished job's log fetched in parallel is complete and marked so.
  job_.state = job_state::kCompleted;
  auto again = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->complete);
  EXPECT_TRUE(LogCache(logs_dir()).complete(job_.id));
}

TEST_F(ParallelLogCacheTest, SmallLogsAndIncrementsStayOneReadOfTheMainRemote) {
  LogCache cache(logs_dir());
  // Less than kParallelFetchMinBytes past the first chunk: sequential.
  std::string content = text_of(kLogChunkBytes + kParallelFetchMinBytes - 1);
  set_file(content);
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk()).ok());
  content += "epoch 9 loss 0.1\n";
  set_file(content);
  auto state = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->caught_up);
  EXPECT_TRUE(cached(cache) == content);
  EXPECT_EQ(offsets_requested(),
            (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes, content.size() - 17}));
  EXPECT_TRUE(bulk_offsets().empty());
  EXPECT_EQ(bulk_a_.connect_count() + bulk_b_.connect_count(), 0);  // never opened
}

TEST_F(ParallelLogCacheTest, TheSizeGrowsOnlyWithTheContiguousPrefix) {
  LogCache cache(logs_dir());
  const std::string content = text_of(8 * kLogChunkBytes);
  set_file(content);
  GatedRemote gate_a(bulk_a_);
  GatedRemote gate_b(bulk_b_);
  gate_a.close_gate_at(kLogChunkBytes);  // the first chunk of the stretch waits
  gate_b.close_gate_at(kLogChunkBytes);
  std::optional<Result<LogState>> outcome;
  std::thread fetcher([&] { outcome = cache.refresh(remote_, job_, cluster_, 10s, 10s, {&gate_a, &gate_b}); });
  // The other thread fetches every later chunk meanwhile.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (gate_a.finished().size() + gate_b.finished().size() < 6 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(gate_a.finished().size() + gate_b.finished().size(), 6u);
  EXPECT_EQ(gate_a.waiting() + gate_b.waiting(), 1u);
  // Seven of eight chunks are on disk, but only the first is contiguous.
  EXPECT_EQ(cache.size(job_.id), kLogChunkBytes);
  auto visible = cache.read(job_.id, 0, 8 * kLogChunkBytes);
  ASSERT_TRUE(visible.ok());
  EXPECT_EQ(visible->size(), kLogChunkBytes);
  EXPECT_TRUE(*visible == content.substr(0, kLogChunkBytes));
  EXPECT_TRUE(partial_marker_exists());  // holes on disk: a crash now would be cut back

  gate_a.open_gate();
  gate_b.open_gate();
  fetcher.join();
  ASSERT_TRUE(outcome && outcome->ok());
  EXPECT_TRUE((*outcome)->caught_up);
  EXPECT_EQ(cache.size(job_.id), content.size());
  EXPECT_TRUE(cached(cache) == content);
  EXPECT_FALSE(partial_marker_exists());
}

TEST_F(ParallelLogCacheTest, AFailedChunkKeepsThePrefixAndReportsTheError) {
  LogCache cache(logs_dir());
  const std::string content = text_of(10 * kLogChunkBytes);
  set_file(content);
  GatedRemote flaky_a(bulk_a_);
  GatedRemote flaky_b(bulk_b_);
  flaky_a.fail_at(4 * kLogChunkBytes, make_error(Errc::kIo, "connection broke"));
  flaky_b.fail_at(4 * kLogChunkBytes, make_error(Errc::kIo, "connection broke"));
  auto state = cache.refresh(remote_, job_, cluster_, 5s, 10s, {&flaky_a, &flaky_b});
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code, Errc::kIo);
  // Every chunk before the failed one was handed out first and arrived.
  EXPECT_EQ(cache.size(job_.id), 4 * kLogChunkBytes);
  EXPECT_EQ(file_size_on_disk(), 4 * kLogChunkBytes);  // chunks after the gap were cut off
  EXPECT_TRUE(cached(cache) == content.substr(0, 4 * kLogChunkBytes));
  EXPECT_FALSE(partial_marker_exists());

  // The next refresh resumes at the prefix.
  auto rest = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(rest.ok()) << rest.error().describe();
  EXPECT_TRUE(rest->caught_up);
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0, 4 * kLogChunkBytes}));
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(ParallelLogCacheTest, BulkSessionsThatCannotConnectLeaveTheFetchToTheMainRemote) {
  LogCache cache(logs_dir());
  const std::string content = text_of(5 * kLogChunkBytes + 7);
  set_file(content);
  bulk_a_.set_connect_result(make_error(Errc::kUnreachable, "connection refused"));
  bulk_b_.set_connect_result(make_error(Errc::kUnreachable, "connection refused"));
  auto state = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_TRUE(state->caught_up);
  EXPECT_TRUE(cached(cache) == content);
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes,
                                                             3 * kLogChunkBytes, 4 * kLogChunkBytes,
                                                             5 * kLogChunkBytes}));
  // One attempt, or one each (the first failure stops the stretch).
  EXPECT_GE(bulk_offsets().size(), 1u);
  EXPECT_LE(bulk_offsets().size(), 2u);
  EXPECT_EQ(file_size_on_disk(), content.size());
  EXPECT_FALSE(partial_marker_exists());
}

TEST_F(ParallelLogCacheTest, ARemoteFileTruncatedDuringTheStretchIsRefetched) {
  LogCache cache(logs_dir());
  const std::string content = text_of(10 * kLogChunkBytes);
  const std::string rewritten = text_of(kLogChunkBytes / 2, 'k');
  set_file(content);
  GatedRemote cut_a(bulk_a_);
  GatedRemote cut_b(bulk_b_);
  // When the stretch reaches chunk 3, the job's log is rewritten shorter.
  auto truncate = [&] { set_file(rewritten); };
  cut_a.before_read_at(3 * kLogChunkBytes, truncate);
  cut_b.before_read_at(3 * kLogChunkBytes, truncate);
  auto state = cache.refresh(remote_, job_, cluster_, 5s, 10s, {&cut_a, &cut_b});
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_TRUE(state->caught_up);
  EXPECT_EQ(state->size, rewritten.size());
  EXPECT_TRUE(cached(cache) == rewritten);
  EXPECT_EQ(file_size_on_disk(), rewritten.size());
  EXPECT_TRUE(cache.local(job_.id).rewritten);
  EXPECT_FALSE(partial_marker_exists());
}

TEST_F(ParallelLogCacheTest, ABoundThatPassesMidStretchKeepsThePrefix) {
  LogCache cache(logs_dir());
  const std::string content = text_of(12 * kLogChunkBytes);
  set_file(content);
  bulk_a_.set_read_delay(50ms);
  bulk_b_.set_read_delay(50ms);
  auto state = cache.refresh(remote_, job_, cluster_, 100ms, 120ms, bulk());
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_FALSE(state->caught_up);
  EXPECT_GT(state->size, kLogChunkBytes);
  EXPECT_LT(state->size, content.size());
  EXPECT_EQ(state->size % kLogChunkBytes, 0u);
  EXPECT_EQ(cache.size(job_.id), state->size);
  EXPECT_EQ(file_size_on_disk(), state->size);
  EXPECT_TRUE(cached(cache) == content.substr(0, state->size));

  bulk_a_.set_read_delay(0ms);
  bulk_b_.set_read_delay(0ms);
  auto rest = cache.refresh(remote_, job_, cluster_, 5s, 10s, bulk());
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->caught_up);
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(ParallelLogCacheTest, ALogLeftWithHolesByACrashIsCutBackToItsMarker) {
  fs::create_directories(logs_dir());
  const std::string path = logs_dir() + "/" + job_.id + ".log";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(3000, 'x');
  }
  {
    std::ofstream marker(path + ".partial");
    marker << "1000\n";
  }
  LogCache cache(logs_dir());
  EXPECT_EQ(cache.size(job_.id), 1000u);
  EXPECT_EQ(fs::file_size(path), 1000u);
  EXPECT_FALSE(partial_marker_exists());
}

// FakeRemote's read_range, which the cache tests lean on, against its contract.
}  // namespace
}  // namespace mmcfs::backend
