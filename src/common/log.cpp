// log.cpp — stderr sink for log.h.
#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <string>

namespace mmcfs::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};  // the one process-wide setting: verbosity
const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "?";
}
}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(); }

void write(Level l, std::string_view message) {
  std::string line = "mmcfs: ";
  line += level_name(l);
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace mmcfs::log
