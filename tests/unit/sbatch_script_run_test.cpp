// sbatch_script_run_test.cpp — whole rendered scripts run locally by bash
// (against a local repository and a fake conda), and the idempotent submit
// command run by /bin/sh against a fake `sbatch`, to prove it submits
// exactly once.
//
// Thread rules: tests run sequentially; child processes only.
#include "unit/sbatch_test_support.h"

namespace mmcfs::launch {
namespace {

using namespace mmcfs::launch::testing;
namespace fs = std::filesystem;

// ---- The whole script, run locally (no SLURM) --------------------------------

// Runs the rendered script with bash as SLURM would, minus SLURM: a local git
// repository as the remote, a fake conda, HOME in the test's directory.
class LocalRunTest : public SbatchScriptTest {
 protected:
  void SetUp() override {
    SbatchScriptTest::SetUp();
    repo_ = tmp_ + "/repo";
    fs::create_directories(repo_);
    write_file(repo_ + "/train.py",
               "import os, sys, time\n"
               "print('CONDA_SEEN=' + os.environ.get('FAKE_CONDA_ACTIVE', '<none>'))\n"
               "print('ARGS=' + repr(sys.argv[1:]))\n"
               "args = dict(a.split('=', 1) for a in sys.argv[1:] if '=' in a)\n"
               "time.sleep(float(args.get('sleep', 0)))\n"
               "sys.exit(int(args.get('exit_code', 0)))\n");
    const std::string git = "git -c user.name=t -c user.email=t@t.invalid -c init.defaultBranch=main -C " + shell_quote(repo_);
    ASSERT_EQ(std::system((git + " init -q && " + git + " add -A && " + git + " commit -q -m init").c_str()), 0);
    FILE* pipe = popen((git + " rev-parse HEAD").c_str(), "r");
    char sha[64] = {};
    ASSERT_NE(std::fgets(sha, sizeof sha, pipe), nullptr);
    pclose(pipe);
    commit_ = std::string(sha, 40);
    // A fake conda: `conda info --base`, and a conda.sh whose `conda activate` marks the env.
    fs::create_directories(tmp_ + "/conda/bin");
    fs::create_directories(tmp_ + "/conda/etc/profile.d");
    write_file(tmp_ + "/conda/bin/conda", "#!/bin/sh\n[ \"$1 $2\" = 'info --base' ] && echo " + shell_quote(tmp_ + "/conda") + "\n");
    chmod((tmp_ + "/conda/bin/conda").c_str(), 0755);
    write_file(tmp_ + "/conda/etc/profile.d/conda.sh",
               "conda() { [ \"$1\" = activate ] && export FAKE_CONDA_ACTIVE=\"$2\"; }\n");
    fs::create_directories(tmp_ + "/home");
  }

  ScriptInputs local_inputs() {
    ScriptInputs in = plain_inputs();
    in.repo_url = repo_;
    in.commit = commit_;
    in.workspace = tmp_ + "/ws";
    in.project_config.conda_env = "my env";
    return in;
  }

  // Renders, submits as sbatch would (the job directory exists), runs.
  Proc run_job(const ScriptInputs& in, bool with_conda = true) {
    auto script = render_script(default_sbatch_template(), in);
    EXPECT_TRUE(script.ok()) << script.error().describe();
    const std::string dir = job_dir(in.workspace, in.job_token);
    fs::create_directories(dir);
    write_file(dir + "/script.sh", script.ok() ? *script : "");
    const std::string path = (with_conda ? tmp_ + "/conda/bin:" : std::string()) + "/usr/bin:/bin";
    return run_process({"bash", dir + "/script.sh"}, "", {{"PATH", path}, {"HOME", tmp_ + "/home"}}, tmp_);
  }

  std::string job_file(const ScriptInputs& in, const std::string& name) {
    return read_file(job_dir(in.workspace, in.job_token) + "/" + name);
  }

  std::string repo_;
  std::string commit_;
};

TEST_F(LocalRunTest, RunsTheCommandAtTheCommitInTheCondaEnv) {
  ScriptInputs in = local_inputs();
  in.spec.params = {{"it's", "a b", true, false}};
  Proc p = run_job(in);
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "0\n");
  EXPECT_NE(job_file(in, "started").find("started_at="), std::string::npos);
  EXPECT_NE(p.out.find("setting up\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("CONDA_SEEN=my env\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("ARGS=[\"it's='a b'\"]\n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("Executing: python3 train.py it\\'s=\\'a\\ b\\' \n"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("Commit: " + commit_ + "\n"), std::string::npos);
  EXPECT_TRUE(fs::exists(tmp_ + "/ws/repos/example.git/HEAD"));  // the mirror
  EXPECT_TRUE(fs::exists(job_dir(in.workspace, in.job_token) + "/code/train.py"));

  // A second job reuses the mirror (no new clone) and records its own status.
  ScriptInputs second = local_inputs();
  second.job_token = "second";
  second.spec.params = {{"exit_code", "3", false, false}};
  fs::remove_all(in.repo_url + "/.git/refs");  // the remote is no longer needed: the mirror has the commit
  Proc q = run_job(second);
  EXPECT_EQ(q.exit_code, 3) << q.err;
  EXPECT_EQ(job_file(second, "exit_status"), "3\n");
}

TEST_F(LocalRunTest, MissingCondaIsAClearErrorWithExitStatus) {
  ScriptInputs in = local_inputs();
  Proc p = run_job(in, /*with_conda=*/false);
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("conda_env is 'my env' in .mlops-config.yaml, but conda was not found"), std::string::npos)
      << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "1\n");
}

TEST_F(LocalRunTest, UnknownCommitIsAClearError) {
  ScriptInputs in = local_inputs();
  in.commit = std::string(40, 'f');
  Proc p = run_job(in);
  EXPECT_EQ(p.exit_code, 1);
  EXPECT_NE(p.err.find("is not in " + repo_ + " (was it pushed?)"), std::string::npos) << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "1\n");
}

TEST_F(LocalRunTest, TerminationStillWritesTheExitStatus) {
  ScriptInputs in = local_inputs();
  in.spec.params = {{"sleep", "30", false, false}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok());
  const std::string dir = job_dir(in.workspace, in.job_token);
  fs::create_directories(dir);
  write_file(dir + "/script.sh", *script);
  // scancel signals the whole job: the batch shell and the training process.
  const std::string command = "PATH=" + shell_quote(tmp_ + "/conda/bin:/usr/bin:/bin") + " HOME=" +
                              shell_quote(tmp_ + "/home") + " setsid bash " + shell_quote(dir + "/script.sh") +
                              " >/dev/null 2>&1 & pid=$!; for i in $(seq 100); do [ -e " +
                              shell_quote(dir + "/code/train.py") + " ] && break; sleep 0.1; done; sleep 1; "
                              "kill -TERM -- -$pid; wait $pid; echo $?";
  Proc p = run_process({"bash", "-c", command}, "", {}, tmp_);
  EXPECT_EQ(p.out, "143\n") << p.err;
  EXPECT_EQ(job_file(in, "exit_status"), "143\n");
}

TEST_F(LocalRunTest, EachSweepTaskRunsItsOwnCommandInItsOwnRunDirectory) {
  ScriptInputs in = local_inputs();
  in.spec.params = {{"optimizer.lr", "0.5", false, false}, {"keep", "x", false, false}};
  in.spec.overrides = {"+extra=1"};
  const std::string hostile = "it's $(touch " + marker_ + ") `touch " + marker_ + "`";
  in.spec.sweep = {
      {"optimizer.lr", {{"optimizer.lr", "1e-3", false, false}, {"optimizer.lr", hostile, true, false}}},
      {"data.batch_size", {{"data.batch_size", "16", false, false}, {"data.batch_size", "32", false, false}}}};
  auto script = render_script(default_sbatch_template(), in);
  ASSERT_TRUE(script.ok()) << script.error().describe();
  EXPECT_NE(script->find("#SBATCH --array=0-3\n#SBATCH --output=slurm-%A_%a.out\n"), std::string::npos);
  const std::string dir = job_dir(in.workspace, in.job_token);
  fs::create_directories(dir);
  write_file(dir + "/script.sh", *script);
  Proc syntax = run_process({"bash", "-n", dir + "/script.sh"}, "", {}, tmp_);
  ASSERT_EQ(syntax.exit_code, 0) << syntax.err;

  const std::string path = tmp_ + "/conda/bin:/usr/bin:/bin";
  const std::vector<std::string> expected_args = {
      "ARGS=['optimizer.lr=1e-3', 'keep=x', 'data.batch_size=16', '+extra=1']\n",
      "ARGS=['optimizer.lr=1e-3', 'keep=x', 'data.batch_size=32', '+extra=1']\n",
      "data.batch_size=16', '+extra=1']\n",
      "data.batch_size=32', '+extra=1']\n"};
  for (int task = 0; task < 4; ++task) {
    SCOPED_TRACE("task " + std::to_string(task));
    Proc p = run_process({"bash", dir + "/script.sh"}, "",
                         {{"PATH", path}, {"HOME", tmp_ + "/home"}, {"SLURM_ARRAY_TASK_ID", std::to_string(task)}},
                         tmp_);
    EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
    EXPECT_NE(p.out.find(expected_args[static_cast<std::size_t>(task)]), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("mmcfs Job ID: 00042-lr-sweep." + std::to_string(task) + "\n"), std::string::npos) << p.out;
    const std::string run = dir + "/run-" + std::to_string(task);
    EXPECT_EQ(read_file(run + "/exit_status"), "0\n");
    EXPECT_NE(read_file(run + "/started").find("started_at="), std::string::npos);
    EXPECT_TRUE(fs::exists(run + "/code/train.py"));
  }
  // The hostile value arrived as one argument, as data (runs 2 and 3).
  EXPECT_FALSE(fs::exists(marker_));
  EXPECT_FALSE(fs::exists(dir + "/exit_status")) << "a sweep's markers are per run";

  // A task id outside the sweep (or none) is refused before anything runs.
  Proc wrong = run_process({"bash", dir + "/script.sh"}, "",
                           {{"PATH", path}, {"HOME", tmp_ + "/home"}, {"SLURM_ARRAY_TASK_ID", "4"}}, tmp_);
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("mmcfs: this sweep has runs 0-3, not '4'"), std::string::npos) << wrong.err;
  EXPECT_FALSE(fs::exists(dir + "/run-4"));
}

// ---- The submit command, against a fake sbatch --------------------------------

class SubmitTest : public SbatchScriptTest {
 protected:
  void SetUp() override {
    SbatchScriptTest::SetUp();
    home_ = tmp_ + "/home";
    fs::create_directories(home_);
    fs::create_directories(tmp_ + "/bin");
    write_file(tmp_ + "/bin/sbatch",
               "#!/bin/sh\n"
               "printf '%s|%s\\n' \"$PWD\" \"$*\" >> \"$FAKE_SBATCH_LOG\"\n"
               "if [ -e \"$FAKE_SBATCH_FAIL\" ]; then echo 'sbatch: error: invalid partition' >&2; exit 1; fi\n"
               "echo 4242\n");
    chmod((tmp_ + "/bin/sbatch").c_str(), 0755);
  }

  Proc submit(const std::string& workspace, const std::string& token, const std::string& script) {
    return run_process(submit_argv(workspace, token), script,
                       {{"HOME", home_},
                        {"PATH", tmp_ + "/bin:/usr/bin:/bin"},
                        {"FAKE_SBATCH_LOG", tmp_ + "/sbatch.log"},
                        {"FAKE_SBATCH_FAIL", tmp_ + "/fail"}},
                       tmp_);
  }
  int sbatch_calls() {
    std::string log = read_file(tmp_ + "/sbatch.log");
    return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
  }

  std::string home_;
};

TEST_F(SubmitTest, SubmitsOnceAndAnswersTheSameIdAfterwards) {
  const std::string workspace = "~/ws $(touch " + marker_ + ") `x` it's";
  Proc first = submit(workspace, "tok-1", "#!/bin/bash\necho first\n");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "4242\n");
  const std::string dir = home_ + "/ws $(touch " + marker_ + ") `x` it's/jobs/tok-1";
  EXPECT_EQ(read_file(dir + "/script.sh"), "#!/bin/bash\necho first\n");
  EXPECT_EQ(read_file(dir + "/slurm_job_id"), "4242\n");
  EXPECT_EQ(read_file(tmp_ + "/sbatch.log"), dir + "|--parsable script.sh\n");

  Proc again = submit(workspace, "tok-1", "#!/bin/bash\necho second\n");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "4242\n");
  EXPECT_EQ(sbatch_calls(), 1);
  EXPECT_EQ(read_file(dir + "/script.sh"), "#!/bin/bash\necho first\n");  // the submitted one stays
  EXPECT_FALSE(fs::exists(dir + "/script.sh.tmp"));
  EXPECT_FALSE(fs::exists(marker_));
}

TEST_F(SubmitTest, AbsoluteWorkspace) {
  const std::string workspace = tmp_ + "/abs ws";
  Proc p = submit(workspace, "tok-2", "x\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(read_file(workspace + "/jobs/tok-2/script.sh"), "x\n");
}

TEST_F(SubmitTest, RefusedSubmissionLeavesNoIdAndCanBeRetried) {
  write_file(tmp_ + "/fail", "");
  Proc refused = submit("~/ws", "tok-3", "x\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("invalid partition"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "");
  EXPECT_FALSE(fs::exists(home_ + "/ws/jobs/tok-3/slurm_job_id"));
  EXPECT_FALSE(fs::exists(home_ + "/ws/jobs/tok-3/slurm_job_id.tmp"));
  fs::remove(tmp_ + "/fail");
  Proc retried = submit("~/ws", "tok-3", "x\n");
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_EQ(retried.out, "4242\n");
  EXPECT_EQ(sbatch_calls(), 2);
}

TEST_F(SubmitTest, AnIdLeftInTheTemporaryFileIsTheJob) {
  // sbatch succeeded, then the connection died before the rename.
  fs::create_directories(home_ + "/ws/jobs/tok-4");
  write_file(home_ + "/ws/jobs/tok-4/slurm_job_id.tmp", "777\n");
  Proc p = submit("~/ws", "tok-4", "x\n");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "777\n");
  EXPECT_EQ(sbatch_calls(), 0);
}

TEST(SubmitArgv, TheJobDirectoryIsAnArgumentNotScriptText) {
  auto argv = submit_argv("~/w", "tok");
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[0], "sh");
  EXPECT_EQ(argv[1], "-c");
  EXPECT_EQ(argv[2].find("tok"), std::string::npos);
  EXPECT_EQ(argv[3], "sh");
  EXPECT_EQ(argv[4], "~/w/jobs/tok");
  EXPECT_EQ(submit_argv("/other", "t2")[2], argv[2]);  // the same fixed text for every job
}


}  // namespace
}  // namespace mmcfs::launch
