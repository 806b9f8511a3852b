#pragma once
// RFC 3339 timestamps in UTC, as Vault renders them (Go's time.RFC3339 and
// time.RFC3339Nano). Formatted by arithmetic, not strftime: KV reads render
// one per response, and strftime's locale machinery showed in profiles.

#include <chrono>
#include <cstdint>
#include <string>

namespace coffer {

// "2026-11-23T16:09:49Z".
std::string rfc3339(std::int64_t unix_seconds);
// Go's RFC3339Nano: "2026-11-23T16:09:49.1234Z" - trailing zeros of the fraction, and a zero
// fraction, dropped.
std::string rfc3339_nano(std::int64_t unix_nanos);
std::string rfc3339_nano(std::chrono::system_clock::time_point t);

}  // namespace coffer
