#include "vault/base/time_format.h"

#include <array>

namespace coffer {
namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian), after Howard
// Hinnant's days_from_civil inverse; valid for every int64 day count we meet.
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

void put_digits(std::string& out, std::int64_t value, int width) {
  std::array<char, 20> buffer{};
  int n = 0;
  do {
    buffer[static_cast<std::size_t>(n++)] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 || n < width);
  while (n > 0) out.push_back(buffer[static_cast<std::size_t>(--n)]);
}

// "YYYY-MM-DDTHH:MM:SS" (no zone) for non-negative-year times.
std::string date_time(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t rest = unix_seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    days -= 1;
  }
  const CivilDate date = civil_from_days(days);
  std::string out;
  out.reserve(32);
  put_digits(out, date.year < 0 ? 0 : date.year, 4);
  out.push_back('-');
  put_digits(out, date.month, 2);
  out.push_back('-');
  put_digits(out, date.day, 2);
  out.push_back('T');
  put_digits(out, rest / 3600, 2);
  out.push_back(':');
  put_digits(out, rest % 3600 / 60, 2);
  out.push_back(':');
  put_digits(out, rest % 60, 2);
  return out;
}

}  // namespace

std::string rfc3339(std::int64_t unix_seconds) { return date_time(unix_seconds) + 'Z'; }

std::string rfc3339_nano(std::int64_t unix_nanos) {
  std::int64_t seconds = unix_nanos / 1'000'000'000;
  std::int64_t fraction = unix_nanos % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    seconds -= 1;
  }
  std::string out = date_time(seconds);
  if (fraction != 0) {
    out.push_back('.');
    std::string digits;
    put_digits(digits, fraction, 9);
    while (digits.back() == '0') digits.pop_back();
    out += digits;
  }
  out.push_back('Z');
  return out;
}

std::string rfc3339_nano(std::chrono::system_clock::time_point t) {
  return rfc3339_nano(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace coffer
