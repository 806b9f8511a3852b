#include "vault/base/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace coffer {
namespace {

// Go's time.Duration is an int64 count of nanoseconds; Vault inherits that ceiling.
constexpr std::uint64_t kMaxNanos =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::uint64_t kNanosPerSecond = 1'000'000'000ULL;

struct Unit {
  std::string_view name;
  std::uint64_t nanos;
};

constexpr std::array<Unit, 8> kUnits = {{
    {"ns", 1ULL},
    {"us", 1'000ULL},
    {"\xC2\xB5s", 1'000ULL},  // U+00B5 micro sign, as Go accepts
    {"ms", 1'000'000ULL},
    {"s", kNanosPerSecond},
    {"m", 60 * kNanosPerSecond},
    {"h", 3600 * kNanosPerSecond},
    {"d", 86400 * kNanosPerSecond},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Quotes the input for an error message, cut short so a pasted blob cannot flood a log line.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  out.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out.append("...");
  out.push_back('"');
  return out;
}

Status invalid_duration(std::string_view text, std::string_view why) {
  return invalid_argument("invalid duration " + quoted(text) + ": " + std::string(why));
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.empty()) return fail(invalid_argument("invalid duration: empty value"));
  if (s.front() == '-') return fail(invalid_duration(text, "negative durations are not allowed"));
  if (s.front() == '+') return fail(invalid_duration(text, "unexpected sign"));

  std::uint64_t total = 0;  // nanoseconds, kept <= kMaxNanos
  auto add = [&](std::uint64_t nanos) {
    return !__builtin_add_overflow(total, nanos, &total) && total <= kMaxNanos;
  };
  const auto too_long = [&] { return invalid_duration(text, "longer than about 292 years"); };

  // A bare integer is seconds (Vault tries strconv.ParseInt before time.ParseDuration).
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    std::uint64_t seconds = 0;
    for (char c : s) {
      if (__builtin_mul_overflow(seconds, 10ULL, &seconds) ||
          __builtin_add_overflow(seconds, static_cast<std::uint64_t>(c - '0'), &seconds)) {
        return fail(too_long());
      }
    }
    if (seconds > kMaxNanos / kNanosPerSecond) return fail(too_long());
    return std::chrono::seconds(static_cast<std::int64_t>(seconds));
  }

  std::size_t i = 0;
  while (i < s.size()) {
    // <digits>[.<digits>]
    std::uint64_t whole = 0;
    const std::size_t whole_start = i;
    bool overflow = false;
    while (i < s.size() && is_digit(s[i])) {
      overflow = overflow || __builtin_mul_overflow(whole, 10ULL, &whole) ||
                 __builtin_add_overflow(whole, static_cast<std::uint64_t>(s[i] - '0'), &whole);
      ++i;
    }
    bool has_digits = i > whole_start;
    std::string_view fraction;
    if (i < s.size() && s[i] == '.') {
      const std::size_t frac_start = ++i;
      while (i < s.size() && is_digit(s[i])) ++i;
      fraction = s.substr(frac_start, i - frac_start);
      has_digits = has_digits || !fraction.empty();
    }
    if (!has_digits) return fail(invalid_duration(text, "expected a number"));

    const std::size_t unit_start = i;
    while (i < s.size() && !is_digit(s[i]) && s[i] != '.') ++i;
    const std::string_view unit_name = s.substr(unit_start, i - unit_start);
    if (unit_name.empty()) {
      return fail(invalid_duration(text, "missing unit (use s, m, h or d)"));
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return fail(invalid_duration(
          text, "unknown unit " + quoted(unit_name) + " (use ns, us, ms, s, m, h or d)"));
    }

    std::uint64_t nanos = 0;
    if (overflow || __builtin_mul_overflow(whole, unit->nanos, &nanos) || !add(nanos)) {
      return fail(too_long());
    }
    // Digits beyond the unit's nanosecond resolution cannot change the result.
    std::uint64_t scale = unit->nanos;
    std::uint64_t frac_nanos = 0;
    for (char c : fraction) {
      scale /= 10;
      if (scale == 0) break;
      frac_nanos += static_cast<std::uint64_t>(c - '0') * scale;
    }
    if (!add(frac_nanos)) return fail(too_long());
  }
  return std::chrono::seconds(static_cast<std::int64_t>(total / kNanosPerSecond));
}

std::string format_duration(std::chrono::seconds duration) {
  std::int64_t s = duration.count();
  if (s == 0) return "0s";
  std::string out;
  // Work in unsigned so the most negative value does not overflow when negated.
  std::uint64_t magnitude = static_cast<std::uint64_t>(s);
  if (s < 0) {
    out.push_back('-');
    magnitude = 0 - magnitude;
  }
  const std::uint64_t hours = magnitude / 3600;
  const std::uint64_t minutes = magnitude / 60 % 60;
  const std::uint64_t seconds = magnitude % 60;
  if (hours != 0) out += std::to_string(hours) + "h";
  if (minutes != 0) out += std::to_string(minutes) + "m";
  if (seconds != 0) out += std::to_string(seconds) + "s";
  return out;
}

}  // namespace coffer
