#pragma once
// Clock: the injectable source of wall time, so tests can move time.

#include <chrono>
#include <cstdint>

namespace coffer {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  std::int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

// The real clock; a process-wide immutable singleton, thread-safe.
const Clock& system_clock();

}  // namespace coffer
