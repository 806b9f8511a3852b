#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "vault/base/duration.h"

using namespace std::chrono_literals;
using coffer::format_duration;
using coffer::parse_duration;

TEST_CASE("parse_duration accepts Vault's integer-seconds and Go-style forms") {
  struct Case {
    std::string_view text;
    std::chrono::seconds want;
  };
  const Case cases[] = {
      {"0", 0s},
      {"0s", 0s},
      {"90", 90s},
      {"30s", 30s},
      {"5m", 300s},
      {"1h", 3600s},
      {"1h30m", 5400s},
      {"1h30m15s", 5415s},
      {"1.5h", 5400s},
      {".5m", 30s},
      {"2.m", 120s},
      {"768h", 768h},
      {"1d", 24h},
      {"1d12h", 36h},
      {"1500ms", 1s},  // truncated to whole seconds, like Vault
      {"999ms", 0s},
      {"2000000us", 2s},
      {"3000000000ns", 3s},
      {"1\xC2\xB5s", 0s},
      {"  45s\n", 45s},
      {"9223372036", 9223372036s},  // the largest whole number of seconds in a Go duration
      {"0.0000000001s", 0s},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const auto got = parse_duration(c.text);
    REQUIRE(got.has_value());
    CHECK(*got == c.want);
  }
}

TEST_CASE("parse_duration rejects empty, negative, unitless, unknown-unit and overflowing input") {
  struct Case {
    std::string_view text;
    std::string_view message_part;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"-1", "negative"},
      {"-5m", "negative"},
      {"+5m", "sign"},
      {"1.5", "missing unit"},
      {"1h30", "missing unit"},
      {"5x", "unknown unit \"x\""},
      {"5 m", "unknown unit"},
      {"1y", "unknown unit \"y\""},
      {"abc", "expected a number"},
      {"h", "expected a number"},
      {"1h-5m", "unknown unit \"h-\""},
      {".s", "expected a number"},
      {"9223372037", "292 years"},
      {"99999999999999999999999", "292 years"},
      {"2562048h", "292 years"},
      {"106752d", "292 years"},
      {"99999999999999999999h", "292 years"},
      {"2562047h47m16s1s", "292 years"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const auto got = parse_duration(c.text);
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error().code() == coffer::StatusCode::kInvalidArgument);
    CHECK(got.error().message().find(c.message_part) != std::string::npos);
  }
}

TEST_CASE("parse_duration quotes the input in its message but cuts a long input short") {
  const auto got = parse_duration("12q");
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().message().find("\"12q\"") != std::string::npos);

  const std::string long_input(500, 'z');
  const auto long_got = parse_duration(long_input);
  REQUIRE_FALSE(long_got.has_value());
  CHECK(long_got.error().message().size() < 200);
}

TEST_CASE("format_duration writes short Go-style text that parses back to the same value") {
  struct Case {
    std::chrono::seconds value;
    std::string_view text;
  };
  const Case cases[] = {
      {0s, "0s"},     {45s, "45s"},    {60s, "1m"},      {5400s, "1h30m"},
      {768h, "768h"}, {3605s, "1h5s"}, {-90s, "-1m30s"}, {90061s, "25h1m1s"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(format_duration(c.value) == c.text);
    if (c.value >= 0s) {
      const auto back = parse_duration(format_duration(c.value));
      REQUIRE(back.has_value());
      CHECK(*back == c.value);
    }
  }
}
