#include <doctest/doctest.h>

#include "vault/base/time_format.h"

namespace coffer {

TEST_CASE("rfc3339 renders UTC seconds like Go's time.RFC3339") {
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(951782400) == "2000-02-29T00:00:00Z");  // leap day of a century leap year
  CHECK(rfc3339(1795449589) == "2026-11-23T15:59:49Z");
  CHECK(rfc3339(4107542399) == "2100-02-28T23:59:59Z");  // 2100 is not a leap year
  CHECK(rfc3339(4107542400) == "2100-03-01T00:00:00Z");
  CHECK(rfc3339(-1) == "1969-12-31T23:59:59Z");
}

TEST_CASE("rfc3339_nano drops trailing zeros of the fraction like Go's RFC3339Nano") {
  CHECK(rfc3339_nano(std::int64_t{0}) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_nano(std::int64_t{1'795'449'589'123'456'789}) == "2026-11-23T15:59:49.123456789Z");
  CHECK(rfc3339_nano(std::int64_t{1'795'449'589'120'000'000}) == "2026-11-23T15:59:49.12Z");
  CHECK(rfc3339_nano(std::int64_t{1'795'449'589'000'000'001}) == "2026-11-23T15:59:49.000000001Z");
  CHECK(rfc3339_nano(std::int64_t{-1}) == "1969-12-31T23:59:59.999999999Z");
  const auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1795449589));
  CHECK(rfc3339_nano(t) == "2026-11-23T15:59:49Z");
}

}  // namespace coffer
