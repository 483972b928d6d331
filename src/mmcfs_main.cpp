// mmcfs_main.cpp — the mmcfs executable: parse arguments, load the config,
// build the MountService with SSH remotes, and hand it to the FUSE adapter.
//
//   mmcfs [-f] [-d] [--debug] [--allow-other] [--config FILE] [--state DIR] MOUNTPOINT
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "app/mount_service.h"
#include "backend/crash_remote.h"
#include "backend/ssh_remote.h"
#include "common/log.h"
#include "config/cluster_config.h"
#include "fs/fuse_adapter.h"
#include "launch/sbatch_script.h"

namespace {

constexpr const char* kUsage =
    "usage: mmcfs [options] MOUNTPOINT\n"
    "\n"
    "Mounts SLURM clusters, their GPUs and (later) your jobs as files.\n"
    "\n"
    "options:\n"
    "  -f, --foreground   stay in the foreground (logs go to stderr)\n"
    "  --config FILE      clusters.yaml (default ~/.config/mmcfs/clusters.yaml)\n"
    "  --state DIR        state directory (default ~/.local/state/mmcfs)\n"
    "  --sbatch-template FILE  the batch script template (default: the built-in\n"
    "                     one, config/sbatch_template.sh in the source tree)\n"
    "  --allow-other      let other users read the mount (needs user_allow_other)\n"
    "  --debug            verbose mmcfs logging\n"
    "  -d                 libfuse request trace (implies -f)\n"
    "  -h, --help         this text\n"
    "\n"
    "Unmount with: fusermount3 -u MOUNTPOINT (or Ctrl-C / SIGTERM with -f).\n"
    "The mount's README explains the tree.\n";

struct Args {
  mmcfs::fs::FuseOptions fuse;
  std::string config_path;
  std::string state_dir;
  std::string sbatch_template;  // a file; empty: built in
};

// Returns -1 to continue, else an exit code.
int parse_args(int argc, char** argv, Args* out) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mmcfs: %s needs a value\n%s", name, kUsage);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "-f" || a == "--foreground") {
      out->fuse.foreground = true;
    } else if (a == "-d") {
      out->fuse.debug = true;
      out->fuse.foreground = true;
    } else if (a == "--debug") {
      mmcfs::log::set_level(mmcfs::log::Level::kDebug);
    } else if (a == "--allow-other") {
      out->fuse.allow_other = true;
    } else if (a == "--config") {
      const char* v = value("--config");
      if (!v) return 2;
      out->config_path = v;
    } else if (a == "--sbatch-template") {
      const char* v = value("--sbatch-template");
      if (!v) return 2;
      out->sbatch_template = v;
    } else if (a == "--state") {
      const char* v = value("--state");
      if (!v) return 2;
      out->state_dir = v;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "mmcfs: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else if (out->fuse.mountpoint.empty()) {
      out->fuse.mountpoint = a;
    } else {
      std::fprintf(stderr, "mmcfs: more than one mountpoint given ('%s' and '%s')\n",
                   out->fuse.mountpoint.c_str(), a.c_str());
      return 2;
    }
  }
  if (out->fuse.mountpoint.empty()) {
    std::fprintf(stderr, "mmcfs: no mountpoint given\n%s", kUsage);
    return 2;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mmcfs;
  // Up to 16 FUSE worker threads plus the monitors and pollers would each
  // get a malloc arena of their own (glibc: 8 per core), every one keeping
  // freed memory resident; two suffice for this mostly idle, lock-serialised
  // process (bench/meta: the memory goal of issue 4). MALLOC_ARENA_MAX in
  // the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  Args args;
  if (int rc = parse_args(argc, argv, &args); rc >= 0) return rc;
  if (args.config_path.empty()) args.config_path = config::default_config_path();
  if (args.state_dir.empty()) args.state_dir = backend::default_state_dir();

  auto config = config::load_config_file(args.config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "mmcfs: %s\n", config.error().message.c_str());
    return 2;
  }
  struct stat st {};
  if (::stat(args.fuse.mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "mmcfs: mountpoint %s is not a directory; create it with: mkdir -p %s\n",
                 args.fuse.mountpoint.c_str(), args.fuse.mountpoint.c_str());
    return 2;
  }

  app::MountOptions options{args.state_dir, launch::default_sbatch_template()};
  if (!args.sbatch_template.empty()) {
    std::ifstream in(args.sbatch_template, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "mmcfs: cannot read --sbatch-template %s\n", args.sbatch_template.c_str());
      return 2;
    }
    options.sbatch_template.assign(std::istreambuf_iterator<char>(in), {});
  }

  SystemClock clock;
  const char* fault = std::getenv("MMCFS_FAULT");
  const bool crash_after_submit = fault != nullptr && std::string(fault) == "exit-after-submit";
  auto make_remote = [crash_after_submit](const config::ClusterConfig& cluster) -> std::shared_ptr<backend::Remote> {
    auto ssh = std::make_shared<backend::SshRemote>(backend::ssh_options_for(cluster));
    if (crash_after_submit) return std::make_shared<backend::CrashAfterSubmitRemote>(ssh);
    return ssh;
  };
  auto service = app::MountService::create(std::move(*config), options, clock, make_remote);
  if (!service.ok()) {
    std::fprintf(stderr, "mmcfs: %s\n", service.error().message.c_str());
    return 2;
  }
  // No threads exist yet: the adapter may daemonise (fork) before on_mounted.
  fs::FuseAdapter adapter((*service)->ns());
  (*service)->set_invalidator([&adapter](fs::InodeId ino) { adapter.invalidate(ino); },
                              [&adapter](fs::InodeId parent, const std::string& name) {
                                adapter.invalidate_entry(parent, name);
                              });
  int rc = adapter.run(args.fuse, [&service] { (*service)->start(); });
  (*service)->stop();
  return rc;
}
