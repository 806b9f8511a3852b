#pragma once
// Vault-style durations, as written in TTL and timeout fields of configuration files and API
// requests.
//
// Thread safety: both functions are pure and safe to call concurrently.

#include <chrono>
#include <string>
#include <string_view>

#include "vault/base/status.h"

namespace coffer {

// Parses a duration the way Vault's "weak" duration fields do:
//  - a plain non-negative integer is a number of seconds: "90", "0";
//  - otherwise one or more <number><unit> pairs, Go style, where the number may have a
//    fraction and the unit is one of ns, us (or µs), ms, s, m, h, or d (24 hours):
//    "30s", "1h30m", "1.5h", "768h", "1d".
// Surrounding ASCII whitespace is ignored. The total is truncated to whole seconds, as Vault
// does ("1500ms" is 1s).
//
// Errors (invalid_argument; the message quotes the input, which is never secret): empty text,
// a sign (negative durations are refused), a missing or unknown unit, stray characters, or a
// total longer than Go's time.Duration can hold (about 292 years).
Result<std::chrono::seconds> parse_duration(std::string_view text);

// Formats a duration for messages: "0s", "45s", "1h30m", "768h", "2h5s". Zero components are
// left out, so the result is short; parse_duration(format_duration(d)) == d for d >= 0.
std::string format_duration(std::chrono::seconds duration);

}  // namespace coffer
