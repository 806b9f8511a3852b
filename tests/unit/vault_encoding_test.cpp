#include <doctest/doctest.h>

#include <array>
#include <regex>
#include <set>

#include "vault/base/encoding.h"

namespace coffer {

TEST_CASE("random_uuid: RFC 4122 version 4 shape, unique across pool refills") {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  // Several times the per-thread pool, so refills are crossed.
  for (int i = 0; i < 1000; ++i) {
    const std::string id = random_uuid();
    REQUIRE(std::regex_match(id, shape));
    REQUIRE(seen.insert(id).second);
  }
}

TEST_CASE("hex decoding round trips into secret bytes") {
  const std::array<std::uint8_t, 5> bytes{0x00, 0x01, 0xfe, 0xff, 0x20};
  CHECK(to_hex(bytes) == "0001feff20");
  auto back = secret_from_hex("0001feff20");
  REQUIRE(back);
  CHECK(back->size() == bytes.size());
  CHECK_FALSE(secret_from_hex("0g"));
}

}  // namespace coffer
