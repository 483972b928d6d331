// log_cache_test.cpp — LogCache over FakeRemote: only new bytes are fetched
// (the requested offsets are asserted), a shorter remote file is refetched
// from 0, a missing file is kNotFound, a finished job's log is served with
// the cluster gone, concurrent readers fetch each byte once; plus
// FakeRemote::read_range itself and FailingRemote passing read_range through
// (and faulting it). Parallel fetches over bulk remotes: the same bytes as
// a sequential fetch, each chunk once, the size only for the contiguous
// prefix, a failure or a bound keeps the prefix, truncation mid-way, the
// crash marker.
//
// Thread rules: one test spawns reader threads of its own.
#include "backend/log_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "backend/failing_remote.h"
#include "fakes/fake_remote.h"
#include "fakes/gated_remote.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;
using testing::FakeRemote;
using testing::GatedRemote;
namespace fs = std::filesystem;

constexpr const char* kLogPath = "~/ws/jobs/mmcfs-00000000000000aa/slurm-4242.out";

// Deterministic text of n bytes, different at every offset that matters.
std::string text_of(std::size_t n, char salt = 'a') {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>(salt + static_cast<char>((i * 7 + i / 4093) % 26));
  }
  return s;
}

std::string slurp(const std::string& path) {
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
    fs::remove_all(tmp_, ignored);
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

TEST_F(LogCacheTest, IncrementalAppendsFetchOnlyNewBytes) {
  LogCache cache(logs_dir());
  std::string content = "epoch 1 loss 0.9\n";
  remote_.set_file(kLogPath, content);

  auto first = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_EQ(first->size, content.size());
  EXPECT_EQ(first->remote_size, content.size());
  EXPECT_TRUE(first->caught_up);
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(cached(cache), content);
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0}));

  content += "epoch 2 loss 0.7\n";
  remote_.set_file(kLogPath, content);
  auto second = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(second->size, content.size());
  EXPECT_EQ(cached(cache), content);
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0, 17}));

  // Nothing new: one request at the end, nothing fetched again.
  auto third = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0, 17, 34}));
  EXPECT_EQ(cache.size(job_.id), content.size());

  // The local file holds exactly the log.
  EXPECT_EQ(slurp(logs_dir() + "/" + job_.id + ".log"), content);
  // Ranged reads of the cache.
  EXPECT_EQ(*cache.read(job_.id, 6, 3), "1 l");
  EXPECT_EQ(*cache.read(job_.id, 30, 100), "0.7\n");
  EXPECT_EQ(*cache.read(job_.id, 34, 10), "");
  EXPECT_EQ(*cache.read(job_.id, 1000, 10), "");
}

TEST_F(LogCacheTest, BigLogIsFetchedInChunks) {
  LogCache cache(logs_dir());
  const std::string content = text_of(2 * kLogChunkBytes + 12345);
  remote_.set_file(kLogPath, content);
  auto state = cache.refresh(remote_, job_, cluster_, 5s);
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_TRUE(state->caught_up);
  EXPECT_EQ(offsets_requested(),
            (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes}));
  for (const auto& call : remote_.read_calls()) EXPECT_EQ(call.max_bytes, kLogChunkBytes);
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(LogCacheTest, BoundThatPassesKeepsWhatArrived) {
  LogCache cache(logs_dir());
  const std::string content = text_of(3 * kLogChunkBytes);
  remote_.set_file(kLogPath, content);
  remote_.set_read_delay(60ms);
  auto state = cache.refresh(remote_, job_, cluster_, 100ms);  // room for about two chunks
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_FALSE(state->caught_up);
  EXPECT_LT(state->size, content.size());
  EXPECT_GT(state->size, 0u);
  EXPECT_EQ(state->size % kLogChunkBytes, 0u);
  const std::uint64_t had = state->size;

  remote_.set_read_delay(0ms);
  auto rest = cache.refresh(remote_, job_, cluster_, 5s);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->caught_up);
  EXPECT_EQ(remote_.read_calls().back().offset + kLogChunkBytes, content.size());
  EXPECT_EQ(offsets_requested()[had / kLogChunkBytes], had);  // resumed where it stopped
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(LogCacheTest, ABacklogThatIsArrivingIsFetchedPastTheBound) {
  // A first read of a long log: the short bound is for the cluster's answer;
  // once chunks arrive the fetch goes on to the end (within backlog_bound).
  LogCache cache(logs_dir());
  const std::string content = text_of(3 * kLogChunkBytes + 5);
  remote_.set_file(kLogPath, content);
  remote_.set_read_delay(60ms);
  auto state = cache.refresh(remote_, job_, cluster_, 100ms, 10s);  // 4 chunks: about 240 ms
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_TRUE(state->caught_up);
  EXPECT_EQ(state->size, content.size());
  EXPECT_EQ(offsets_requested(),
            (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes, 3 * kLogChunkBytes}));
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(LogCacheTest, ABacklogStillStopsAtTheBacklogBound) {
  LogCache cache(logs_dir());
  const std::string content = text_of(6 * kLogChunkBytes);
  remote_.set_file(kLogPath, content);
  remote_.set_read_delay(60ms);
  auto state = cache.refresh(remote_, job_, cluster_, 30ms, 150ms);  // room for about three chunks
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_FALSE(state->caught_up);
  EXPECT_GE(state->size, kLogChunkBytes);  // went on past the 30 ms bound
  EXPECT_LT(state->size, content.size());
  EXPECT_EQ(state->remote_size, content.size());
  EXPECT_EQ(cache.size(job_.id), state->size);
}

TEST_F(LogCacheTest, ShorterRemoteFileIsRefetchedFromZero) {
  LogCache cache(logs_dir());
  remote_.set_file(kLogPath, "old run: a long line of output\n");
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s).ok());
  ASSERT_EQ(cache.size(job_.id), 31u);

  remote_.set_file(kLogPath, "requeued\n");  // rewritten, shorter
  auto state = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(state.ok()) << state.error().describe();
  EXPECT_EQ(state->size, 9u);
  EXPECT_TRUE(state->caught_up);
  EXPECT_EQ(cached(cache), "requeued\n");
  EXPECT_EQ(offsets_requested(), (std::vector<std::uint64_t>{0, 31, 0}));
  EXPECT_FALSE(fs::exists(logs_dir() + "/" + job_.id + ".log.tmp"));

  remote_.set_file(kLogPath, "requeued\nstep 1\n");
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s).ok());
  EXPECT_EQ(cached(cache), "requeued\nstep 1\n");
  EXPECT_EQ(offsets_requested().back(), 9u);
}

TEST_F(LogCacheTest, TruncatedToEmptyIsRefetched) {
  LogCache cache(logs_dir());
  remote_.set_file(kLogPath, "something\n");
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s).ok());
  remote_.set_file(kLogPath, "");
  auto state = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->size, 0u);
  EXPECT_EQ(cache.size(job_.id), 0u);
  EXPECT_EQ(cached(cache), "");
}

TEST_F(LogCacheTest, MissingFileIsNotFound) {
  LogCache cache(logs_dir());
  auto state = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code, Errc::kNotFound) << state.error().describe();
  EXPECT_EQ(cache.size(job_.id), 0u);
  auto r = cache.read(job_.id, 0, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "");

  JobRecord unsubmitted = job_;
  unsubmitted.slurm_id = "";
  auto none = cache.refresh(remote_, unsubmitted, cluster_, 1s);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::kNotFound);
  EXPECT_EQ(remote_.read_calls().size(), 1u);  // no remote call without a SLURM id
}

TEST_F(LogCacheTest, BadJobIdIsRefused) {
  LogCache cache(logs_dir());
  JobRecord evil = job_;
  evil.id = "../escape";
  auto state = cache.refresh(remote_, evil, cluster_, 1s);
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(cache.read("../escape", 0, 1).ok());
  EXPECT_EQ(cache.size("a/b"), 0u);
}

TEST_F(LogCacheTest, FinishedJobIsServedLocallyWithTheClusterOffline) {
  const std::string content = "done\nexit 0\n";
  remote_.set_file(kLogPath, content);
  {
    LogCache cache(logs_dir());
    job_.state = job_state::kCompleted;
    auto state = cache.refresh(remote_, job_, cluster_, 1s);
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->complete);

    // The cluster goes away: no more remote calls, reads still work.
    FailingRemote dead(remote_);
    dead.fail_all(make_error(Errc::kUnreachable, "cluster offline"));
    auto again = cache.refresh(dead, job_, cluster_, 1s);
    ASSERT_TRUE(again.ok()) << again.error().describe();
    EXPECT_TRUE(again->complete);
    EXPECT_EQ(dead.run_calls(), 0);
    EXPECT_EQ(cached(cache), content);
  }
  // A new LogCache over the same directory (a restart) finds the log on disk,
  // knows it is complete, and never asks the cluster for it again.
  LogCache restarted(logs_dir());
  EXPECT_EQ(restarted.size(job_.id), content.size());
  EXPECT_TRUE(restarted.complete(job_.id));
  EXPECT_EQ(cached(restarted), content);
  FailingRemote dead(remote_);
  dead.fail_all(make_error(Errc::kUnreachable, "cluster offline"));
  const auto reads_before = remote_.read_calls().size();
  auto offline = restarted.refresh(dead, job_, cluster_, 1s);
  ASSERT_TRUE(offline.ok()) << offline.error().describe();
  EXPECT_TRUE(offline->complete);
  EXPECT_EQ(remote_.read_calls().size(), reads_before);
  EXPECT_EQ(restarted.stats().remote_reads, 0u);
  EXPECT_EQ(cached(restarted), content);
}

TEST_F(LogCacheTest, LocalStateForStatNeedsNoDisk) {
  LogCache cache(logs_dir());
  EXPECT_EQ(cache.local(job_.id).size, 0u);
  EXPECT_EQ(cache.local(job_.id).modified, std::chrono::system_clock::time_point{});
  remote_.set_file(kLogPath, "line 1\n");
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s).ok());
  LogCache::LocalLog local = cache.local(job_.id);
  EXPECT_EQ(local.size, 7u);
  EXPECT_FALSE(local.complete);
  // The local copy's own mtime, as a restart reads it back from the disk.
  EXPECT_EQ(local.modified, LogCache(logs_dir()).local(job_.id).modified);
  EXPECT_NE(local.modified, std::chrono::system_clock::time_point{});
}

TEST_F(LogCacheTest, AnIncompleteLogIsFetchedAfterARestart) {
  remote_.set_file(kLogPath, "line 1\n");
  {
    LogCache cache(logs_dir());
    ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s).ok());  // running: not complete
    EXPECT_FALSE(cache.complete(job_.id));
  }
  remote_.set_file(kLogPath, "line 1\nline 2\n");
  job_.state = job_state::kCompleted;
  LogCache restarted(logs_dir());
  EXPECT_FALSE(restarted.complete(job_.id));
  auto state = restarted.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->complete);
  EXPECT_EQ(remote_.read_calls().back().offset, 7u);  // only the new bytes
  EXPECT_EQ(restarted.stats().bytes_fetched, 7u);
  EXPECT_EQ(cached(restarted), "line 1\nline 2\n");
}

TEST_F(LogCacheTest, ACompletionMarkerThatDisagreesWithTheFileIsIgnored) {
  remote_.set_file(kLogPath, "all of it\n");
  job_.state = job_state::kCompleted;
  {
    LogCache cache(logs_dir());
    ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s)->complete);
  }
  {
    std::ofstream chopped(logs_dir() + "/" + job_.id + ".log", std::ios::trunc);
    chopped << "all";  // a crash lost the end of the local copy
  }
  LogCache restarted(logs_dir());
  EXPECT_FALSE(restarted.complete(job_.id));
  ASSERT_TRUE(restarted.refresh(remote_, job_, cluster_, 1s)->complete);
  EXPECT_EQ(cached(restarted), "all of it\n");
}

TEST_F(LogCacheTest, RequeuedJobIsFetchedAgain) {
  LogCache cache(logs_dir());
  remote_.set_file(kLogPath, "first attempt\n");
  job_.state = job_state::kFailed;
  ASSERT_TRUE(cache.refresh(remote_, job_, cluster_, 1s)->complete);
  job_.state = job_state::kRunning;  // SLURM requeued it; the log starts over
  remote_.set_file(kLogPath, "retry\n");
  auto state = cache.refresh(remote_, job_, cluster_, 1s);
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->complete);
  EXPECT_FALSE(cache.complete(job_.id));
  EXPECT_EQ(cached(cache), "retry\n");
  EXPECT_FALSE(LogCache(logs_dir()).complete(job_.id));  // the marker went too
}

TEST_F(LogCacheTest, RemoteErrorKeepsBytesFetchedBefore) {
  LogCache cache(logs_dir());
  const std::string content = text_of(2 * kLogChunkBytes + 10);
  remote_.set_file(kLogPath, content);
  FailingRemote flaky(remote_);
  flaky.fail_call(2, make_error(Errc::kIo, "connection broke"));
  auto state = cache.refresh(flaky, job_, cluster_, 5s);
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code, Errc::kIo);
  EXPECT_EQ(cache.size(job_.id), kLogChunkBytes);

  auto rest = cache.refresh(flaky, job_, cluster_, 5s);
  ASSERT_TRUE(rest.ok()) << rest.error().describe();
  EXPECT_TRUE(rest->caught_up);
  EXPECT_EQ(offsets_requested(),
            (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes}));
  EXPECT_TRUE(cached(cache) == content);
}

TEST_F(LogCacheTest, ConcurrentReadersFetchEachByteOnce) {
  LogCache cache(logs_dir());
  const std::string content = text_of(3 * kLogChunkBytes + 777);
  remote_.set_file(kLogPath, content);
  remote_.set_read_delay(30ms);

  constexpr int kReaders = 8;
  std::vector<std::thread> readers;
  std::vector<int> ok(kReaders, 0);
  std::atomic<bool> torn{false};
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&, i] {
      auto state = cache.refresh(remote_, job_, cluster_, 10s);
      ok[static_cast<std::size_t>(i)] = state.ok() ? 1 : 0;
      // Whatever size is visible, read() returns exactly those bytes.
      for (int k = 0; k < 20; ++k) {
        const std::uint64_t n = cache.size(job_.id);
        auto r = cache.read(job_.id, 0, static_cast<std::size_t>(n));
        if (!r.ok() || r->size() != n || content.compare(0, r->size(), *r) != 0) torn = true;
      }
    });
  }
  for (auto& t : readers) t.join();
  for (int i = 0; i < kReaders; ++i) EXPECT_EQ(ok[static_cast<std::size_t>(i)], 1) << i;
  EXPECT_FALSE(torn.load());
  EXPECT_TRUE(cached(cache) == content);

  // Every offset holding bytes was asked for once, in order: no byte crossed
  // twice. (A reader that came after the fetch may ask at the end, for none.)
  std::vector<std::uint64_t> offsets = offsets_requested();
  EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end()));
  std::vector<std::uint64_t> with_bytes;
  for (std::uint64_t off : offsets) {
    if (off < content.size()) with_bytes.push_back(off);
  }
  EXPECT_EQ(with_bytes, (std::vector<std::uint64_t>{0, kLogChunkBytes, 2 * kLogChunkBytes,
                                                    3 * kLogChunkBytes}));
}

TEST_F(LogCacheTest, ReadsDuringARefreshSeeAConsistentPrefix) {
  LogCache cache(logs_dir());
  std::string content;
  std::atomic<bool> stop{false};
  std::atomic<bool> bad{false};
  std::thread reader([&] {
    while (!stop) {
      const std::uint64_t n = cache.size(job_.id);
      auto r = cache.read(job_.id, 0, static_cast<std::size_t>(n) + 100);
      // A refetch may shrink the log between size() and read(), never tear it.
      if (!r.ok() || r->size() > n + 100) bad = true;
    }
  });
  for (int round = 0; round < 30; ++round) {
    content += text_of(1000 + static_cast<std::size_t>(round), static_cast<char>('a' + round % 3));
    if (round % 10 == 9) content = content.substr(0, 500);  // rewritten shorter now and then
    remote_.set_file(kLogPath, content);
    auto state = cache.refresh(remote_, job_, cluster_, 1s);
    ASSERT_TRUE(state.ok()) << state.error().describe();
    ASSERT_EQ(cached(cache), content) << "round " << round;
  }
  stop = true;
  reader.join();
  EXPECT_FALSE(bad.load());
}

// --- Parallel fetches over bulk remotes -----------------------------------

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
TEST(FakeRemoteReadRange, ServesRangesSizesAndNotFound) {
  FakeRemote fake;
  fake.set_file("/f", "0123456789");
  auto a = fake.read_range("/f", 2, 3, 100ms);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bytes, "234");
  EXPECT_EQ(a->file_size, 10u);
  auto end = fake.read_range("/f", 8, 100, 100ms);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->bytes, "89");
  auto past = fake.read_range("/f", 50, 10, 100ms);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->bytes, "");
  EXPECT_EQ(past->file_size, 10u);
  auto missing = fake.read_range("/nope", 0, 10, 100ms);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
  fake.set_connect_result(make_error(Errc::kUnreachable, "down"));
  fake.disconnect();
  auto down = fake.read_range("/f", 0, 10, 100ms);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, Errc::kUnreachable);
}

TEST(FailingRemoteReadRange, PassesThroughAndCountsWithRunCalls) {
  FakeRemote fake;
  fake.set_file("~/log", "hello world");
  FailingRemote failing(fake);
  auto r = failing.read_range("~/log", 6, 5, 100ms);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->bytes, "world");
  EXPECT_EQ(r->file_size, 11u);
  ASSERT_EQ(fake.read_calls().size(), 1u);
  EXPECT_EQ(fake.read_calls()[0].path, "~/log");
  EXPECT_EQ(fake.read_calls()[0].offset, 6u);
  EXPECT_EQ(fake.read_calls()[0].max_bytes, 5u);
  EXPECT_EQ(failing.run_calls(), 1);

  auto missing = failing.read_range("~/none", 0, 5, 100ms);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);  // the inner error, unchanged

  failing.fail_call(3, make_error(Errc::kIo, "injected"));
  auto faulted = failing.read_range("~/log", 0, 5, 100ms);
  ASSERT_FALSE(faulted.ok());
  EXPECT_EQ(faulted.error().code, Errc::kIo);
  EXPECT_EQ(fake.read_calls().size(), 2u);  // the faulted call never reached the fake

  failing.hang_all(std::chrono::seconds(10));
  const auto start = std::chrono::steady_clock::now();
  auto hung = failing.read_range("~/log", 0, 5, 50ms);
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().code, Errc::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  failing.heal();
  EXPECT_TRUE(failing.read_range("~/log", 0, 5, 100ms).ok());
}

}  // namespace
}  // namespace mmcfs::backend
