// sbatch_test_support.h — helpers shared by the batch-script unit tests:
// file helpers, a child-process runner, and the fixture with sample inputs.
//
// Thread rules: tests run sequentially; child processes only.
#pragma once

#include "launch/sbatch_script.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/quote.h"


namespace mmcfs::launch::testing {

namespace fs = std::filesystem;

inline const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct Proc {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell in between) with `input` on stdin and extra
// environment variables; waits for it.
inline Proc run_process(const std::vector<std::string>& argv, const std::string& input,
                 const std::vector<std::pair<std::string, std::string>>& env, const std::string& tmp) {
  const std::string in_path = tmp + "/.stdin", out_path = tmp + "/.stdout", err_path = tmp + "/.stderr";
  write_file(in_path, input);
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  Proc p;
  p.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  p.out = read_file(out_path);
  p.err = read_file(err_path);
  return p;
}

class SbatchScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/mmcfs-sbatch-unit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    tmp_ = dir;
    marker_ = tmp_ + "/pwned";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(tmp_, ignored);
  }

  ScriptInputs plain_inputs() const {
    ScriptInputs in;
    in.spec.name = "lr sweep";
    in.spec.cluster = "alpha";
    in.spec.partition = "general";
    in.spec.gpu_type = "A100";
    in.spec.gpus_per_node = 1;
    in.spec.cpus_per_task = 2;
    in.spec.memory = "500M";
    in.spec.time_limit = "00:10:00";
    in.project_config.env_setup = {"echo setting up"};
    in.project_name = "example";
    in.repo_url = "/var/tmp/remotes/example.git";
    in.commit = kCommit;
    in.job_id = "00042-lr-sweep";
    in.job_token = "mmcfs-tok-42";
    in.workspace = "/home/u/mmcfs-jobs";
    return in;
  }

  // Strings a shell must never run: each would create marker_.
  std::vector<std::string> nasty() const {
    const std::string m = marker_;
    return {
        "it's \"quoted\" `touch " + m + "` $(touch " + m + ") ; touch " + m + " && touch " + m + " | cat",
        "line one\nline two $(touch " + m + ")\n'; touch " + m + "; echo '",
        "tab\there \\ back\\slash\\ ${HOME} $HOME $((1+1)) !! *",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80 \xe6\x97\xa5\xe6\x9c\xac",
        "\r\x01\x1b[31m\x7f control $(touch " + m + ")",
        "{{JOB_ID}} {{NOT_A_PLACEHOLDER}} {{#GPUS}}",
        "trailing backslash \\",
    };
  }

  ScriptInputs nasty_inputs() const {
    ScriptInputs in = plain_inputs();
    const auto n = nasty();
    in.spec.name = n[0];
    in.spec.description = n[1] + "\n" + n[3];
    for (std::size_t i = 0; i < n.size(); ++i) {
      in.spec.params.push_back({"p" + std::to_string(i), n[i], true, false});
      in.spec.env.push_back({"MMCFS_TEST_ENV_" + std::to_string(i), n[i]});
    }
    in.spec.overrides = {"+note=" + n[0], n[2]};
    return in;
  }

  std::string tmp_;
  std::string marker_;
};


}  // namespace mmcfs::launch::testing
