// ssh_read_range_test.cpp — SshRemote::read_range over SFTP against a REAL
// sshd, on the same session as the commands: sizes, ranges, past the end,
// missing files, "~/" paths, 20 MB byte for byte and timed against `cat`,
// timeouts, sharing the session with commands across threads, and a job log
// fetched by LogCache over two extra sessions in parallel.
//
// Thread rules: tests run sequentially; one test spawns threads of its own.
#include "integration/ssh_test_support.h"

#include "backend/log_cache.h"

namespace mmcfs::backend {
namespace {

using namespace mmcfs::backend::testing;
namespace fs = std::filesystem;

// ---- read_range over SFTP, on the same session as the commands ----

class SshReadRangeTest : public SshRemoteTest {
 protected:
  void SetUp() override {
    SshRemoteTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    remote_ = std::make_unique<SshRemote>(options_);
    rel_dir_ = "mmcfs-read-range-" + std::to_string(getpid());
    auto home = run(*remote_, {"sh", "-c", "printf %s \"$HOME\""});
    ASSERT_TRUE(home.ok()) << home.error().describe();
    abs_dir_ = home->out + "/" + rel_dir_;
    auto made = run(*remote_, {"mkdir", "-p", abs_dir_});
    ASSERT_TRUE(made.ok() && made->exit_code == 0);
  }
  void TearDown() override {
    if (remote_ != nullptr && !abs_dir_.empty()) (void)run(*remote_, {"rm", "-rf", abs_dir_});
    SshRemoteTest::TearDown();
  }

  // Writes `content` to <dir>/<name> on the remote through a command's stdin.
  void put(const std::string& name, const std::string& content) {
    auto r = remote_->run_with_input({"sh", "-c", "cat > \"$1\"", "sh", abs_dir_ + "/" + name},
                                     content, 60s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ASSERT_EQ(r->exit_code, 0) << r->err;
  }

  std::unique_ptr<SshRemote> remote_;
  std::string rel_dir_;  // relative to the remote home
  std::string abs_dir_;
};

TEST_F(SshReadRangeTest, ReadsSizeRangesAndPastTheEnd) {
  const std::string content = "0123456789abcdef";
  put("f", content);
  const std::string path = abs_dir_ + "/f";

  auto all = remote_->read_range(path, 0, 1000, 10s);
  ASSERT_TRUE(all.ok()) << all.error().describe();
  EXPECT_EQ(all->bytes, content);
  EXPECT_EQ(all->file_size, 16u);

  auto mid = remote_->read_range(path, 4, 6, 10s);
  ASSERT_TRUE(mid.ok()) << mid.error().describe();
  EXPECT_EQ(mid->bytes, "456789");
  EXPECT_EQ(mid->file_size, 16u);

  auto tail = remote_->read_range(path, 14, 10, 10s);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->bytes, "ef");

  for (std::uint64_t offset : {16ull, 17ull, 1ull << 40}) {
    auto past = remote_->read_range(path, offset, 10, 10s);
    ASSERT_TRUE(past.ok()) << past.error().describe();
    EXPECT_EQ(past->bytes, "") << offset;
    EXPECT_EQ(past->file_size, 16u);
  }
  auto none = remote_->read_range(path, 0, 0, 10s);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->bytes, "");
  EXPECT_EQ(none->file_size, 16u);

  // Binary content arrives intact; an appended file shows its new size.
  std::string binary("\0\x01\xff\n\r\0zz", 8);
  put("bin", binary);
  auto bin = remote_->read_range(abs_dir_ + "/bin", 0, 100, 10s);
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(bin->bytes, binary);
  auto appended = run(*remote_, {"sh", "-c", "printf more >> \"$1\"", "sh", path});
  ASSERT_TRUE(appended.ok());
  auto grown = remote_->read_range(path, 16, 100, 10s);
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(grown->bytes, "more");
  EXPECT_EQ(grown->file_size, 20u);

  // Commands and reads shared one session.
  EXPECT_EQ(remote_->connections_made(), 1);
}

TEST_F(SshReadRangeTest, MissingFileIsNotFoundAndKeepsTheSession) {
  auto missing = remote_->read_range(abs_dir_ + "/nope", 0, 10, 10s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound) << missing.error().describe();
  auto no_dir = remote_->read_range(abs_dir_ + "/no/such/dir/f", 0, 10, 10s);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().code, Errc::kNotFound) << no_dir.error().describe();
  auto dir = remote_->read_range(abs_dir_, 0, 10, 10s);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, Errc::kIsDirectory) << dir.error().describe();
  auto bad = remote_->read_range("", 0, 10, 10s);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);

  put("there", "x");
  auto there = remote_->read_range(abs_dir_ + "/there", 0, 10, 10s);
  ASSERT_TRUE(there.ok()) << there.error().describe();
  EXPECT_EQ(there->bytes, "x");
  auto echo = run(*remote_, {"echo", "fine"});
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->out, "fine\n");
  EXPECT_EQ(remote_->connections_made(), 1);
}

TEST_F(SshReadRangeTest, TildePathIsRelativeToTheRemoteHome) {
  put("t", "from home\n");
  auto r = remote_->read_range("~/" + rel_dir_ + "/t", 5, 100, 10s);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->bytes, "home\n");
  EXPECT_EQ(r->file_size, 10u);
  auto missing = remote_->read_range("~/" + rel_dir_ + "/absent", 0, 1, 10s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kNotFound);
}

TEST_F(SshReadRangeTest, TwentyMegabytesInChunksMatchByteForByteAndAsFastAsCat) {
  constexpr std::size_t kSize = 20'000'000;
  const std::string path = abs_dir_ + "/big";
  auto made = run(*remote_, {"sh", "-c", "head -c " + std::to_string(kSize) + " /dev/urandom > \"$1\"",
                             "sh", path}, 60s);
  ASSERT_TRUE(made.ok() && made->exit_code == 0);

  // Both timed twice, best run kept: the first touches a cold page cache.
  std::string by_cat;
  double cat_s = 1e9, sftp_s = 1e9;
  for (int round = 0; round < 2; ++round) {
    auto t0 = Clock::now();
    auto cat = remote_->run({"cat", path}, 60s);
    cat_s = std::min(cat_s, std::chrono::duration<double>(Clock::now() - t0).count());
    ASSERT_TRUE(cat.ok()) << cat.error().describe();
    ASSERT_EQ(cat->out.size(), kSize);
    by_cat = std::move(cat->out);
  }
  std::string by_sftp;
  constexpr std::size_t kChunk = std::size_t{4} << 20;
  for (int round = 0; round < 2; ++round) {
    by_sftp.clear();
    auto t0 = Clock::now();
    for (std::uint64_t offset = 0;;) {
      auto chunk = remote_->read_range(path, offset, kChunk, 60s);
      ASSERT_TRUE(chunk.ok()) << chunk.error().describe();
      ASSERT_EQ(chunk->file_size, kSize);
      ASSERT_EQ(chunk->bytes.size(), std::min<std::uint64_t>(kChunk, kSize - offset));
      by_sftp += chunk->bytes;
      offset += chunk->bytes.size();
      if (offset >= kSize) break;
    }
    sftp_s = std::min(sftp_s, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  ASSERT_EQ(by_sftp.size(), kSize);
  EXPECT_TRUE(by_sftp == by_cat) << "read_range bytes differ from cat's";
  // Odd-sized, unaligned ranges too.
  auto odd = remote_->read_range(path, 12'345'677, 1'000'003, 30s);
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->bytes == by_cat.substr(12'345'677, 1'000'003));

  std::printf("[ figures  ] 20 MB: cat over exec %.3f s, read_range in 4 MiB chunks %.3f s "
              "(%.2fx cat's time; goal: about the same)\n", cat_s, sftp_s, sftp_s / cat_s);
  EXPECT_LT(sftp_s, cat_s * 2.0 + 0.25) << "read_range is much slower than cat over exec";
  EXPECT_EQ(remote_->connections_made(), 1);
}

TEST_F(SshReadRangeTest, ABigLogFetchedOverTwoExtraSessionsMatchesTheRemoteFile) {
  // A job log laid out as LogCache expects: <workspace>/jobs/<token>/slurm-<id>.out.
  constexpr std::size_t kSize = 7 * kLogChunkBytes + 12'345;  // the first chunk, then a parallel stretch
  const std::string token = "mmcfs-0000000000000bb0";
  const std::string dir = abs_dir_ + "/jobs/" + token;
  const std::string path = dir + "/slurm-77.out";
  auto made = run(*remote_, {"sh", "-c", "mkdir -p \"$1\" && head -c " + std::to_string(kSize) + " /dev/urandom > \"$2\"",
                             "sh", dir, path}, 60s);
  ASSERT_TRUE(made.ok() && made->exit_code == 0);
  auto whole = remote_->run({"cat", path}, 60s);
  ASSERT_TRUE(whole.ok() && whole->out.size() == kSize);

  config::ClusterConfig cluster;
  cluster.name = "alpha";
  cluster.workspace = abs_dir_;
  JobRecord job;
  job.id = "00001-parallel";
  job.cluster = "alpha";
  job.token = token;
  job.slurm_id = "77";
  job.state = job_state::kCompleted;
  ASSERT_EQ(LogCache::remote_log_path(job, cluster), path);

  char local[] = "/tmp/mmcfs-parallel-log-XXXXXX";
  ASSERT_NE(mkdtemp(local), nullptr);
  SshRemote bulk_a(options_);
  SshRemote bulk_b(options_);
  {
    LogCache cache(std::string(local) + "/logs");
    auto state = cache.refresh(*remote_, job, cluster, 60s, 60s, {&bulk_a, &bulk_b});
    ASSERT_TRUE(state.ok()) << state.error().describe();
    EXPECT_TRUE(state->complete);
    EXPECT_EQ(state->size, kSize);
    auto copy = cache.read(job.id, 0, kSize + 1);
    ASSERT_TRUE(copy.ok());
    EXPECT_TRUE(*copy == whole->out) << "the parallel fetch's bytes differ from cat's";
  }
  // Both extra sessions were opened (once each); the main one stayed the one session.
  EXPECT_EQ(bulk_a.connections_made(), 1);
  EXPECT_EQ(bulk_b.connections_made(), 1);
  EXPECT_EQ(remote_->connections_made(), 1);
  fs::remove_all(local);
}

TEST_F(SshReadRangeTest, TimeoutDropsTheSessionAndTheNextReadReconnects) {
  const std::string path = abs_dir_ + "/big";
  auto made = run(*remote_, {"sh", "-c", "head -c 30000000 /dev/zero > \"$1\"", "sh", path}, 60s);
  ASSERT_TRUE(made.ok() && made->exit_code == 0);
  auto slow = remote_->read_range(path, 0, 30'000'000, 5ms);
  if (slow.ok()) GTEST_SKIP() << "30 MB arrived within 5 ms: cannot provoke a timeout here";
  EXPECT_EQ(slow.error().code, Errc::kTimeout) << slow.error().describe();
  auto next = remote_->read_range(path, 29'999'990, 100, 10s);
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->bytes, std::string(10, '\0'));
  EXPECT_EQ(remote_->connections_made(), 2);
}

TEST_F(SshReadRangeTest, ReadsAndCommandsFromSeveralThreadsShareTheSession) {
  const std::string content = "shared session\n";
  put("s", content);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (t % 2 == 0) {
          auto r = remote_->read_range(abs_dir_ + "/s", 0, 100, 30s);
          if (!r.ok() || r->bytes != content) ++failures;
        } else {
          auto r = remote_->run({"echo", std::to_string(i)}, 30s);
          if (!r.ok() || r->out != std::to_string(i) + "\n") ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(remote_->connections_made(), 1);
}


}  // namespace
}  // namespace mmcfs::backend
