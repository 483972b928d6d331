// log_cache_test.cpp — LogCache over FakeRemote: only new bytes are fetched
// (the requested offsets are asserted), a shorter remote file is refetched
// from 0, a missing file is kNotFound, a finished job's log is served with
// the cluster gone, concurrent readers fetch each byte once; plus
// FakeRemote::read_range itself and FailingRemote passing read_range through
// (and faulting it). Parallel fetches: log_cache_parallel_test.cpp.
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
#include "log_cache_fixture.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;
using namespace log_cache_testing;
using testing::FakeRemote;
namespace fs = std::filesystem;

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
