#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/identity/totp.h"

namespace coffer::identity {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// RFC 6238 Appendix B seeds: the SHA1 seed repeated to each digest's length.
constexpr std::string_view kSeed20 = "12345678901234567890";
constexpr std::string_view kSeed32 = "12345678901234567890123456789012";
constexpr std::string_view kSeed64 =
    "1234567890123456789012345678901234567890123456789012345678901234";

TotpParams params(TotpAlgorithm algorithm, int digits, int skew = 1) {
  TotpParams p;
  p.algorithm = algorithm;
  p.digits = digits;
  p.skew = skew;
  return p;
}

}  // namespace

TEST_CASE("totp matches the RFC 6238 Appendix B test vectors") {
  struct Vector {
    std::int64_t time;
    std::string_view sha1, sha256, sha512;
  };
  const Vector vectors[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.time);
    const auto sha1 = params(TotpAlgorithm::kSha1, 8);
    const auto sha256 = params(TotpAlgorithm::kSha256, 8);
    const auto sha512 = params(TotpAlgorithm::kSha512, 8);
    CHECK(hotp(bytes_of(kSeed20), totp_step(v.time, sha1), sha1) == v.sha1);
    CHECK(hotp(bytes_of(kSeed32), totp_step(v.time, sha256), sha256) == v.sha256);
    CHECK(hotp(bytes_of(kSeed64), totp_step(v.time, sha512), sha512) == v.sha512);
    // The same codes are accepted by verify_totp at that time, at the exact step.
    CHECK(verify_totp(bytes_of(kSeed20), v.sha1, v.time, sha1) == totp_step(v.time, sha1));
    CHECK(verify_totp(bytes_of(kSeed32), v.sha256, v.time, sha256) == totp_step(v.time, sha256));
    CHECK(verify_totp(bytes_of(kSeed64), v.sha512, v.time, sha512) == totp_step(v.time, sha512));
  }
}

TEST_CASE("hotp matches the RFC 4226 Appendix D values") {
  const std::string_view expected[] = {"755224", "287082", "359152", "969429", "338314",
                                       "254676", "287922", "162583", "399871", "520489"};
  const TotpParams p;
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    CAPTURE(counter);
    CHECK(hotp(bytes_of(kSeed20), counter, p) == expected[counter]);
  }
}

TEST_CASE("hotp returns no code for an empty key or invalid parameters") {
  CHECK(hotp({}, 0, TotpParams{}).empty());
  auto p = TotpParams{};
  p.digits = 7;
  CHECK(hotp(bytes_of(kSeed20), 0, p).empty());
}

TEST_CASE("totp_step is floor(t / period) and clamps times before 1970") {
  const TotpParams p;
  CHECK(totp_step(0, p) == 0);
  CHECK(totp_step(29, p) == 0);
  CHECK(totp_step(30, p) == 1);
  CHECK(totp_step(59, p) == 1);
  CHECK(totp_step(1111111111, p) == 37037037);
  CHECK(totp_step(-1, p) == 0);
  auto minute = p;
  minute.period = 60;
  CHECK(totp_step(119, minute) == 1);
}

TEST_CASE("verify_totp accepts the current step and skew either side, nothing further") {
  const auto key = bytes_of(kSeed20);
  const TotpParams p;  // SHA1, 6 digits, 30 s, skew 1
  const std::int64_t now = 1111111111;
  const std::uint64_t step = totp_step(now, p);

  CHECK(verify_totp(key, hotp(key, step, p), now, p) == step);
  CHECK(verify_totp(key, hotp(key, step - 1, p), now, p) == step - 1);
  CHECK(verify_totp(key, hotp(key, step + 1, p), now, p) == step + 1);
  CHECK_FALSE(verify_totp(key, hotp(key, step - 2, p), now, p));
  CHECK_FALSE(verify_totp(key, hotp(key, step + 2, p), now, p));

  SUBCASE("skew 0 accepts only the current step") {
    const auto strict = params(TotpAlgorithm::kSha1, 6, 0);
    CHECK(verify_totp(key, hotp(key, step, strict), now, strict) == step);
    CHECK_FALSE(verify_totp(key, hotp(key, step - 1, strict), now, strict));
    CHECK_FALSE(verify_totp(key, hotp(key, step + 1, strict), now, strict));
  }
}

TEST_CASE("verify_totp in the first period of 1970 has no previous step") {
  const auto key = bytes_of(kSeed20);
  const TotpParams p;
  // Steps 0 and 1 are RFC 4226 counters 0 and 1.
  CHECK(verify_totp(key, "755224", 15, p) == 0u);
  CHECK(verify_totp(key, "287082", 15, p) == 1u);
  CHECK_FALSE(verify_totp(key, "359152", 15, p));
}

TEST_CASE("verify_totp ignores spaces and rejects any other malformed passcode") {
  const auto key = bytes_of(kSeed20);
  const TotpParams p;
  CHECK(verify_totp(key, "755 224", 0, p) == 0u);
  CHECK(verify_totp(key, " 755224 ", 0, p) == 0u);
  CHECK(verify_totp(key, "7 5 5 2 2 4", 0, p) == 0u);

  CHECK_FALSE(verify_totp(key, "75522a", 0, p));
  CHECK_FALSE(verify_totp(key, "755-224", 0, p));
  CHECK_FALSE(verify_totp(key, "755\t224", 0, p));
  CHECK_FALSE(verify_totp(key, "75522", 0, p));
  CHECK_FALSE(verify_totp(key, "7552240", 0, p));
  CHECK_FALSE(verify_totp(key, "", 0, p));
  CHECK_FALSE(verify_totp(key, "      ", 0, p));
  CHECK_FALSE(verify_totp(key, std::string_view("755224\0", 7), 0, p));
}

TEST_CASE("verify_totp refuses an empty key, invalid parameters and negative time") {
  const auto key = bytes_of(kSeed20);
  CHECK_FALSE(verify_totp({}, "755224", 0, TotpParams{}));
  CHECK_FALSE(verify_totp(key, "755224", -1, TotpParams{}));
  auto p = TotpParams{};
  p.skew = 2;
  CHECK_FALSE(verify_totp(key, "755224", 0, p));
  p = TotpParams{};
  p.period = 0;
  CHECK_FALSE(verify_totp(key, "755224", 0, p));
}

TEST_CASE("check_totp_params accepts the supported ranges only") {
  CHECK(check_totp_params(TotpParams{}).ok());
  CHECK(check_totp_params(params(TotpAlgorithm::kSha512, 8, 0)).ok());
  auto p = TotpParams{};
  p.digits = 7;
  CHECK(check_totp_params(p).code() == StatusCode::kInvalidArgument);
  p = TotpParams{};
  p.period = -30;
  CHECK(check_totp_params(p).code() == StatusCode::kInvalidArgument);
  p = TotpParams{};
  p.skew = -1;
  CHECK(check_totp_params(p).code() == StatusCode::kInvalidArgument);
  p = TotpParams{};
  p.algorithm = static_cast<TotpAlgorithm>(42);
  CHECK(check_totp_params(p).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("algorithm names parse case-insensitively and print canonically") {
  CHECK(parse_totp_algorithm("SHA1") == TotpAlgorithm::kSha1);
  CHECK(parse_totp_algorithm("sha256") == TotpAlgorithm::kSha256);
  CHECK(parse_totp_algorithm("Sha512") == TotpAlgorithm::kSha512);
  for (std::string_view bad : {"", "MD5", "SHA-1", "SHA1 ", "SHA384"}) {
    CAPTURE(bad);
    const auto parsed = parse_totp_algorithm(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == StatusCode::kInvalidArgument);
  }
  CHECK(totp_algorithm_name(TotpAlgorithm::kSha1) == "SHA1");
  CHECK(totp_algorithm_name(TotpAlgorithm::kSha256) == "SHA256");
  CHECK(totp_algorithm_name(TotpAlgorithm::kSha512) == "SHA512");
}

TEST_CASE("base32 matches the RFC 4648 test vectors") {
  struct Vector {
    std::string_view plain, encoded, padded;
  };
  const Vector vectors[] = {
      {"", "", ""},
      {"f", "MY", "MY======"},
      {"fo", "MZXQ", "MZXQ===="},
      {"foo", "MZXW6", "MZXW6==="},
      {"foob", "MZXW6YQ", "MZXW6YQ="},
      {"fooba", "MZXW6YTB", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.plain);
    const std::vector<std::uint8_t> plain(v.plain.begin(), v.plain.end());
    CHECK(base32_encode(plain) == v.encoded);
    CHECK(base32_decode(v.encoded) == plain);
    CHECK(base32_decode(v.padded) == plain);
    std::string lower(v.encoded);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    CHECK(base32_decode(lower) == plain);
  }
}

TEST_CASE("base32 round trips every length and byte value") {
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < 64; ++i) {
    CAPTURE(bytes.size());
    const std::string encoded = base32_encode(bytes);
    CHECK(encoded.find('=') == std::string::npos);
    CHECK(base32_decode(encoded) == bytes);
    bytes.push_back(static_cast<std::uint8_t>(i * 37 + 251));
  }
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  CHECK(base32_decode(base32_encode(all)) == all);
}

TEST_CASE("base32_decode rejects characters outside the alphabet and impossible lengths") {
  for (std::string_view bad :
       {"MY1", "MY8", "MY0", "MY9", "MZ XQ", "MZ-Q", "MZXQ\n", "M", "MZX", "MZXW6Y", "MZXW6YTBO",
        // Padding that RFC 4648 would not have written.
        "MY=", "MY==", "MY=====", "MY=======", "========", "MZXW6YTB========", "MY======MY",
        "MY=A====", "M======="}) {
    CAPTURE(bad);
    CHECK_FALSE(base32_decode(bad));
  }
}

TEST_CASE("base32_decode ignores unused trailing bits") {
  // "MZ" carries the 8 bits of 'f' plus 2 unused bits that are not zero ("MY" is canonical).
  const auto decoded = base32_decode("MZ");
  REQUIRE(decoded);
  CHECK(*decoded == std::vector<std::uint8_t>{'f'});
}

TEST_CASE("otpauth_url has the key URI shape with percent-encoded label and issuer") {
  const std::string url = otpauth_url("Coffer Inc", "alice@example.com", bytes_of(kSeed20), {});
  CHECK(url ==
        "otpauth://totp/Coffer%20Inc:alice%40example.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Coffer%20Inc"
        "&algorithm=SHA1&digits=6&period=30");

  SUBCASE("parameters other than the defaults") {
    auto p = params(TotpAlgorithm::kSha512, 8);
    p.period = 60;
    CHECK(otpauth_url("Acme", "bob", bytes_of("f"), p) ==
          "otpauth://totp/Acme:bob?secret=MY&issuer=Acme&algorithm=SHA512&digits=8&period=60");
  }
  SUBCASE("reserved and non-ASCII characters are escaped, unreserved ones kept") {
    CHECK(otpauth_url("a:b/c?d&e", "A-z_0.9~\xc3\xa9", bytes_of("f"), {}) ==
          "otpauth://totp/a%3Ab%2Fc%3Fd%26e:A-z_0.9~%C3%A9?secret=MY&issuer=a%3Ab%2Fc%3Fd%26e"
          "&algorithm=SHA1&digits=6&period=30");
  }
  SUBCASE("an empty issuer leaves out the label prefix and the issuer parameter") {
    CHECK(otpauth_url("", "bob", bytes_of("f"), {}) ==
          "otpauth://totp/bob?secret=MY&algorithm=SHA1&digits=6&period=30");
  }
}

}  // namespace coffer::identity
