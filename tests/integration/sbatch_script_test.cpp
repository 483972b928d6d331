// sbatch_script_test.cpp — the rendered batch script and the submit command
// on a REAL SLURM cluster: alpha from the clusters.yaml that
// $MMCFS_TEST_CLUSTERS points at (`tests/cluster/testcluster.sh up`).
// Without that variable every test skips.
//
// The suite turns examples/project into a git repository with a bare remote
// under /var/tmp/mmcfs-test-remotes that the cluster's user can clone, then
// submits jobs whose name, description, params, overrides and env hold
// quotes, $(...), backticks, ;, newlines, control characters and non-ASCII
// text, and checks what the job saw (train.py prints its argv and env as
// JSON), that nothing else ran, that a second submit returns the same SLURM
// id without a second job, the exit_status marker, the log header, failing
// and multi-node jobs. Everything submitted is cancelled and every remote
// directory removed at the end.
//
// Thread rules: tests run sequentially.
#include "launch/sbatch_script.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend/ssh_remote.h"
#include "common/quote.h"
#include "config/cluster_config.h"
#include "integration/test_clusters.h"

namespace mmcfs::launch {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Runs a local shell command; returns its exit status (output to stderr).
int sh(const std::string& command) {
  int status = std::system(("{ " + command + " ; } 1>&2").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The JSON string Python's json.dumps (ensure_ascii=True) writes for the
// UTF-8 text `s`, so that train.py's output can be compared byte for byte.
std::string python_json(const std::string& s) {
  std::string out = "\"";
  auto u_escape = [&](unsigned cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    out += buf;
  };
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    unsigned cp = b;
    int len = 1;
    if (b >= 0xf0) { cp = b & 0x07; len = 4; }
    else if (b >= 0xe0) { cp = b & 0x0f; len = 3; }
    else if (b >= 0xc0) { cp = b & 0x1f; len = 2; }
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    i += static_cast<std::size_t>(len);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7f) {
      out += static_cast<char>(cp);
    } else if (cp > 0xffff) {
      cp -= 0x10000;
      u_escape(0xd800 + (cp >> 10));
      u_escape(0xdc00 + (cp & 0x3ff));
    } else {
      u_escape(cp);
    }
  }
  return out + "\"";
}

std::string python_json(const std::vector<std::string>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) out += (i ? ", " : "") + python_json(list[i]);
  return out + "]";
}

// The text after `prefix` on the first line of `text` that starts with it.
std::string line_value(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  }
  return "<no line starting with " + prefix + ">";
}

class SbatchOnClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!integration::have_test_clusters()) return;
    auto alpha = integration::load_test_cluster("alpha");
    if (!alpha.ok()) {
      setup_error_ = alpha.error().describe();
      return;
    }
    cluster_ = *alpha;
    remote_ = std::make_unique<backend::SshRemote>(backend::ssh_options_for(*alpha));

    unique_ = "sbatch-it-" + std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
    local_ = "/tmp/mmcfs-" + unique_;
    bare_ = "/var/tmp/mmcfs-test-remotes/" + unique_ + ".git";
    const fs::path source = fs::path(__FILE__).parent_path().parent_path().parent_path() / "examples/project";
    const std::string git = "git -c user.name=mmcfs-test -c user.email=test@mmcfs.invalid -c init.defaultBranch=main";
    const std::string work = local_ + "/work";
    // A bare repository owned by the cluster's user: git refuses to clone
    // from a repository owned by someone else ("dubious ownership").
    if (sh("mkdir -p " + shell_quote(work) + " && cp -a " + shell_quote(source.string() + "/.") + " " +
           shell_quote(work) + " && cd " + shell_quote(work) + " && " + git + " init -q && " + git +
           " add -A && " + git + " commit -q -m 'example project' && mkdir -p /var/tmp/mmcfs-test-remotes && " +
           git + " init -q --bare " + shell_quote(bare_) + " && " + git + " push -q " + shell_quote(bare_) +
           " HEAD:main && chmod -R a+rX " + shell_quote(bare_) + " && chmod a+rx /var/tmp/mmcfs-test-remotes && "
           "chown -R " + shell_quote(cluster_.user) + " " + shell_quote(bare_)) != 0) {
      setup_error_ = "could not make the example repository (see stderr)";
      return;
    }
    FILE* pipe = popen(("git -C " + shell_quote(work) + " rev-parse HEAD").c_str(), "r");
    char sha[64] = {};
    if (pipe != nullptr) {
      if (std::fgets(sha, sizeof sha, pipe) == nullptr) sha[0] = '\0';
      pclose(pipe);
    }
    commit_ = std::string(sha).substr(0, 40);
    if (commit_.size() != 40) setup_error_ = "could not read the example repository's commit";
  }

  static void TearDownTestSuite() {
    if (remote_ != nullptr) {
      for (const std::string& id : submitted_) (void)remote_->run({"scancel", id}, 20s);
      std::vector<std::string> rm = {"rm", "-rf", "--"};
      for (const std::string& token : tokens_) rm.push_back(job_dir(cluster_.workspace, token));
      const std::string mirror = mirror_dir(cluster_.workspace, unique_);
      rm.insert(rm.end(), {mirror, mirror + ".lock", mirror + ".tmp"});
      auto r = remote_->run(rm, 30s);
      if (!r.ok() || r->exit_code != 0) std::fprintf(stderr, "cleanup of the remote directories failed\n");
      remote_.reset();
    }
    if (!local_.empty()) sh("rm -rf " + shell_quote(local_) + " " + shell_quote(bare_));
  }

  void SetUp() override {
    if (!integration::have_test_clusters()) GTEST_SKIP() << integration::kNoTestClusters;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    marker_ = "/tmp/mmcfs-pwned-" + unique_;
  }

  ScriptInputs inputs(const std::string& token_suffix) {
    ScriptInputs in;
    in.spec.name = "plain";
    in.spec.cluster = "alpha";
    in.spec.partition = "general";
    in.spec.cpus_per_task = 1;
    in.spec.memory = "200M";
    in.spec.time_limit = "00:05:00";
    in.project_config.env_setup = {"echo setting up"};
    in.project_name = unique_;
    in.repo_url = bare_;
    in.commit = commit_;
    in.job_id = "0000" + token_suffix + "-it";
    in.job_token = "mmcfs-" + unique_ + "-" + token_suffix;
    in.workspace = cluster_.workspace;
    tokens_.push_back(in.job_token);
    return in;
  }

  // Uploads and submits; returns the SLURM id ("" on failure, with a test failure).
  std::string submit(const ScriptInputs& in, const std::string& script) {
    auto r = remote_->run_with_input(submit_argv(in.workspace, in.job_token), script, 60s);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err;
    std::string id = r->out;
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    id = id.substr(0, id.find(';'));
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(id.find_first_not_of("0123456789"), std::string::npos) << id;
    if (!id.empty()) submitted_.push_back(id);
    return id;
  }

  backend::CommandResult run(const std::vector<std::string>& argv) {
    auto r = remote_->run(argv, 30s);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() ? *r : backend::CommandResult{-1, "", r.error().describe()};
  }

  // Waits (at most `limit`) for the job's exit_status file; returns its text.
  std::string wait_for_exit_status(const ScriptInputs& in, const std::string& id,
                                   std::chrono::seconds limit = 180s) {
    const std::string file = job_dir(in.workspace, in.job_token) + "/exit_status";
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      auto r = remote_->run({"cat", file}, 20s);
      if (r.ok() && r->exit_code == 0) return r->out;
      std::this_thread::sleep_for(1s);
    }
    ADD_FAILURE() << "job " << id << " did not write " << file << " within " << limit.count() << " s; "
                  << run({"scontrol", "show", "job", id}).out;
    return "";
  }

  // Jobs SLURM knows (pending, running, or recently finished) with this comment.
  int jobs_with_comment(const std::string& token) {
    auto r = run({"squeue", "--states=all", "--noheader", "--format=%i|%k"});
    std::istringstream in(r.out);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.substr(line.find('|') + 1) == token) ++n;
    }
    return n;
  }

  static inline config::ClusterConfig cluster_;
  static inline std::unique_ptr<backend::SshRemote> remote_;
  static inline std::string setup_error_;
  static inline std::string unique_;
  static inline std::string local_;
  static inline std::string bare_;
  static inline std::string commit_;
  static inline std::vector<std::string> submitted_;
  static inline std::vector<std::string> tokens_;
  std::string marker_;
};

TEST_F(SbatchOnClusterTest, NastyStringsReachTheJobExactlyAndOnlyAsData) {
  const std::string m = marker_;
  const std::string quotes = "it's \"double\" 'single' \\' \\\" done";
  const std::string subst = "$(touch " + m + ") `touch " + m + "` ${HOME} $HOME";
  const std::string semis = "a; touch " + m + " && touch " + m + " | cat; #";
  const std::string lines = "line one\nline two\r\n\ttabbed $(touch " + m + ")\n";
  const std::string utf8 = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80 \xe6\x97\xa5\xe6\x9c\xac";
  const std::string control = "bell\x07 esc\x1b[31m del\x7f";

  ScriptInputs in = inputs("1");
  in.spec.name = "nasty " + quotes + " " + subst + " " + utf8;
  in.spec.description = quotes + "\n" + subst + "\n" + semis + "\n" + lines + utf8 + "\n" + control;
  in.spec.gpu_type = "A100";
  in.spec.gpus_per_node = 1;
  in.spec.params = {{"experiment_suffix", quotes + " " + subst + " " + semis, true, false},
                    {"notes", lines + utf8 + " \\ trailing backslash \\", true, false},
                    {"optimizer.lr", "1e-5", false, false},
                    {"seed", "7", false, false},
                    {"model", "transformer", false, false}};
  in.spec.overrides = {"+raw_note=\"raw " + subst + "; " + utf8 + "\"", "data=large"};
  in.spec.env = {{"EXAMPLE_QUOTES", quotes}, {"EXAMPLE_SUBST", subst}, {"EXAMPLE_SEMIS", semis},
                 {"EXAMPLE_LINES", lines}, {"EXAMPLE_UTF8", utf8}, {"EXAMPLE_CONTROL", control},
                 {"EXAMPLE_EMPTY", ""}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();

  const std::string id = submit(in, *script);
  ASSERT_FALSE(id.empty());
  // Exactly once: the same command again answers the same id, submits nothing.
  const std::string again = submit(in, *script);
  EXPECT_EQ(again, id);
  submitted_.pop_back();
  EXPECT_EQ(jobs_with_comment(in.job_token), 1);

  const std::string dir = job_dir(in.workspace, in.job_token);
  EXPECT_EQ(wait_for_exit_status(in, id), "0\n");
  auto listing = run({"env", "LC_ALL=C", "ls", dir});
  EXPECT_EQ(listing.out, "code\nexit_status\nscript.sh\nslurm-" + id + ".out\nslurm_job_id\nstarted\nsubmit.lock\n");
  EXPECT_EQ(jobs_with_comment(in.job_token), 1);
  EXPECT_EQ(run({"cat", dir + "/script.sh"}).out, *script);
  EXPECT_EQ(run({"cat", dir + "/slurm_job_id"}).out, id + "\n");
  EXPECT_TRUE(contains(run({"cat", dir + "/started"}).out, "slurm_job_id=" + id + "\n"));
  EXPECT_EQ(run({"git", "-C", dir + "/code", "rev-parse", "HEAD"}).out, commit_ + "\n");

  const std::string log = run({"cat", dir + "/slurm-" + id + ".out"}).out;
  SCOPED_TRACE("log:\n" + log);
  // The command line, argument for argument.
  const std::vector<std::string> argv = training_argv(in.spec, in.project_config);
  EXPECT_EQ(line_value(log, "MMCFS_ARGV="), python_json(std::vector<std::string>(argv.begin() + 2, argv.end())));
  // The environment, byte for byte.
  const std::map<std::string, std::string> expected_env = {
      {"MMCFS_JOB_NAME", in.spec.name}, {"MMCFS_DESCRIPTION", in.spec.description},
      {"MMCFS_JOB_ID", in.job_id},      {"MMCFS_COMMIT", commit_},
      {"MMCFS_JOB_TOKEN", in.job_token}, {"MMCFS_PROJECT", unique_}};
  for (const auto& [name, value] : expected_env) EXPECT_EQ(line_value(log, "ENV " + name + "="), python_json(value)) << name;
  for (const auto& [name, value] : in.spec.env) EXPECT_EQ(line_value(log, "ENV " + name + "="), python_json(value)) << name;
  // Hydra (or train.py's fallback) read the values back as the same strings.
  const std::string config = line_value(log, "MMCFS_CONFIG=");
  EXPECT_TRUE(contains(config, "\"experiment_suffix\": " + python_json(in.spec.params[0].value))) << config;
  EXPECT_TRUE(contains(config, "\"notes\": " + python_json(in.spec.params[1].value))) << config;
  EXPECT_TRUE(contains(config, "\"lr\": 1e-05")) << config;
  EXPECT_TRUE(contains(config, "\"raw_note\": " + python_json("raw " + subst + "; " + utf8))) << config;
  EXPECT_TRUE(contains(config, "\"name\": \"transformer\"")) << config;
  EXPECT_TRUE(contains(config, "\"name\": \"large\"")) << config;
  // The GPU was given to the job.
  const std::string cuda = line_value(log, "ENV CUDA_VISIBLE_DEVICES=");
  EXPECT_TRUE(cuda.size() > 2 && cuda.front() == '"' && cuda != "\"\"") << cuda;
  // The log header, as the seeds show it.
  EXPECT_TRUE(contains(log, "=========================================\nSLURM Job ID: " + id + "\n"));
  EXPECT_EQ(line_value(log, "mmcfs Job ID: "), in.job_id);
  EXPECT_NE(line_value(log, "Running on: "), "");
  EXPECT_TRUE(contains(log, "\nStarted at: "));
  EXPECT_TRUE(contains(line_value(log, "Python: "), "python3"));
  EXPECT_EQ(line_value(log, "Python version: ").rfind("Python 3.", 0), 0u);
  EXPECT_EQ("\"" + line_value(log, "CUDA_VISIBLE_DEVICES: ") + "\"", cuda);
  EXPECT_EQ(line_value(log, "Commit: "), commit_);
  EXPECT_EQ(line_value(log, "Executing: ").rfind("python3 train.py ", 0), 0u);
  EXPECT_TRUE(contains("\n" + log, "\nsetting up\n"));  // the project's env_setup line ran
  EXPECT_TRUE(contains(log, "\nwandb: \xf0\x9f\x9a\x80 View run at https://wandb.ai/mmcfs/example/runs/"));
  // Nothing the user wrote ran.
  EXPECT_EQ(run({"test", "-e", marker_}).exit_code, 1) << marker_ << " exists: a user string was executed";
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(SbatchOnClusterTest, FailingTrainingCommandWritesItsExitStatus) {
  ScriptInputs in = inputs("2");
  in.spec.name = "fails";
  in.spec.params = {{"exit_code", "3", false, false}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  const std::string id = submit(in, *script);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(wait_for_exit_status(in, id), "3\n");
  const std::string log = run({"cat", job_dir(in.workspace, in.job_token) + "/slurm-" + id + ".out"}).out;
  EXPECT_TRUE(contains(log, "\nexiting with 3\n")) << log;
  EXPECT_EQ(line_value(log, "ENV CUDA_VISIBLE_DEVICES "), "is not set") << log;  // no GPU asked
}

TEST_F(SbatchOnClusterTest, CancelledJobStillWritesItsExitStatus) {
  ScriptInputs in = inputs("5");
  in.spec.name = "cancelled";
  in.spec.params = {{"train.sleep_seconds", "120", false, false}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  const std::string id = submit(in, *script);
  ASSERT_FALSE(id.empty());
  const std::string log_file = job_dir(in.workspace, in.job_token) + "/slurm-" + id + ".out";
  const auto deadline = Clock::now() + 120s;
  while (Clock::now() < deadline && !contains(run({"cat", log_file}).out, "sleeping 120 s")) {
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(contains(run({"cat", log_file}).out, "sleeping 120 s")) << "the job never started training";
  EXPECT_EQ(run({"scancel", id}).exit_code, 0);
  EXPECT_EQ(wait_for_exit_status(in, id, 60s), "143\n");  // SIGTERM, caught by the script's trap
}

TEST_F(SbatchOnClusterTest, UnpushedCommitFailsWithAClearMessage) {
  ScriptInputs in = inputs("3");
  in.commit = "0123456789abcdef0123456789abcdef01234567";
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  const std::string id = submit(in, *script);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(wait_for_exit_status(in, id), "1\n");
  const std::string log = run({"cat", job_dir(in.workspace, in.job_token) + "/slurm-" + id + ".out"}).out;
  EXPECT_TRUE(contains(log, "mmcfs: commit " + in.commit + " is not in " + bare_ + " (was it pushed?)")) << log;
}

TEST_F(SbatchOnClusterTest, TwoNodeJobIsAcceptedBySbatch) {
  ScriptInputs in = inputs("4");
  in.spec.name = "two nodes";
  in.spec.num_nodes = 2;
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  const std::string id = submit(in, *script);
  ASSERT_FALSE(id.empty());
  // The test cluster may have only one node up: then the job waits, which is
  // all this can show here (the srun/MASTER_ADDR lines are unit-tested).
  auto job = run({"scontrol", "show", "job", id});
  EXPECT_TRUE(contains(job.out, "NumNodes=2")) << job.out;
  EXPECT_TRUE(contains(job.out, "Comment=" + in.job_token)) << job.out;
  EXPECT_EQ(jobs_with_comment(in.job_token), 1);
  if (contains(job.out, "JobState=PENDING")) {
    EXPECT_EQ(run({"scancel", id}).exit_code, 0);
  } else {
    // Both nodes were free: it ran; then it must have set up the rendezvous.
    EXPECT_EQ(wait_for_exit_status(in, id), "0\n");
    const std::string log = run({"cat", job_dir(in.workspace, in.job_token) + "/slurm-" + id + ".out"}).out;
    EXPECT_TRUE(contains(log, "MASTER_ADDR=")) << log;
  }
}

}  // namespace
}  // namespace mmcfs::launch
