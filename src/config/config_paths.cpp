// config_paths.cpp — home-directory expansion and the default config location
// (declared in cluster_config.h).
//
// "~" means $HOME, or the passwd entry's directory when HOME is unset or
// empty. Only the local home is expanded; remote paths such as a cluster's
// workspace keep their "~/" for the remote shell.
//
// Thread rules: reads the environment and the passwd database (getpwuid_r);
// safe from any thread as long as nobody calls setenv concurrently.
#include "config/cluster_config.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string>

namespace mmcfs::config {
namespace {

std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return "";
}

}  // namespace

std::string expand_home(const std::string& path) {
  if (path != "~" && !path.starts_with("~/")) return path;
  const std::string home = home_directory();
  if (home.empty()) return path;
  return home + path.substr(1);
}

std::string default_config_path() { return expand_home("~/.config/mmcfs/clusters.yaml"); }

}  // namespace mmcfs::config
