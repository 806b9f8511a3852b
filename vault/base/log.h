#pragma once
// Minimal leveled logging to stderr, one line per call, safe from any thread.
// Callers never pass secret values (tokens, keys, shares, passwords, request
// bodies) to it: the log is not a place secrets may reach.

#include <string_view>

namespace coffer::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// "trace" | "debug" | "info" | "warn" | "error"; false if unknown.
bool set_level(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { write(Level::kDebug, m); }
inline void info(std::string_view m) { write(Level::kInfo, m); }
inline void warn(std::string_view m) { write(Level::kWarn, m); }
inline void error(std::string_view m) { write(Level::kError, m); }

}  // namespace coffer::log
