#include "vault/base/log.h"

#include "vault/base/time_format.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace coffer::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

const char* label(Level level) {
  switch (level) {
    case Level::kTrace:
      return "TRACE";
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO ";
    case Level::kWarn:
      return "WARN ";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

bool set_level(std::string_view name) {
  if (name == "trace")
    g_level = Level::kTrace;
  else if (name == "debug")
    g_level = Level::kDebug;
  else if (name == "info")
    g_level = Level::kInfo;
  else if (name == "warn")
    g_level = Level::kWarn;
  else if (name == "error")
    g_level = Level::kError;
  else
    return false;
  return true;
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  const std::string stamp = rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  std::string line;
  line.reserve(message.size() + 48);
  line.append(stamp).append(" [").append(label(level)).append("] ").append(message).push_back('\n');
  // One fwrite per line keeps lines from different threads whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace coffer::log
