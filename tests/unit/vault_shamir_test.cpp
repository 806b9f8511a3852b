#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vault/base/secret_bytes.h"
#include "vault/seal/shamir.h"

namespace coffer::seal {
namespace {

// Schoolbook carry-less multiplication into 16 bits, then long division by
// x^8 + x^4 + x^3 + x + 1. Slow and branchy on purpose: an independent oracle.
std::uint8_t reference_mul(std::uint8_t a, std::uint8_t b) {
  std::uint16_t wide = 0;
  for (int bit = 0; bit < 8; ++bit) {
    if ((b >> bit) & 1) wide ^= static_cast<std::uint16_t>(a << bit);
  }
  for (int bit = 15; bit >= 8; --bit) {
    if ((wide >> bit) & 1) wide ^= static_cast<std::uint16_t>(0x11b << (bit - 8));
  }
  return static_cast<std::uint8_t>(wide);
}

std::vector<SecretBytes> split_ok(const SecretBytes& secret, int shares, int threshold) {
  auto result = split(secret, shares, threshold);
  REQUIRE(result.has_value());
  return std::move(*result);
}

SecretBytes combine_ok(const std::vector<SecretBytes>& parts) {
  auto result = combine(parts);
  REQUIRE(result.has_value());
  return std::move(*result);
}

std::string split_error(const SecretBytes& secret, int shares, int threshold) {
  auto result = split(secret, shares, threshold);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == StatusCode::kInvalidArgument);
  return result.error().message();
}

std::string combine_error(const std::vector<SecretBytes>& parts) {
  auto result = combine(parts);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code() == StatusCode::kInvalidArgument);
  return result.error().message();
}

std::uint8_t x_of(const SecretBytes& share) { return share.expose_secret().back(); }

void set_byte(SecretBytes& share, std::size_t index, std::uint8_t value) {
  share.expose_secret_mutable()[index] = value;
}

}  // namespace

TEST_CASE("gf256_mul matches a slow reference for every pair of bytes") {
  int mismatches = 0;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const auto x = static_cast<std::uint8_t>(a);
      const auto y = static_cast<std::uint8_t>(b);
      if (detail::gf256_mul(x, y) != reference_mul(x, y)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("gf256_mul uses the AES field (FIPS-197 worked examples)") {
  CHECK(detail::gf256_mul(0x57, 0x83) == 0xc1);
  CHECK(detail::gf256_mul(0x57, 0x13) == 0xfe);
  CHECK(reference_mul(0x57, 0x83) == 0xc1);
}

TEST_CASE("gf256_inv gives a multiplicative inverse for every non-zero byte") {
  for (int a = 1; a < 256; ++a) {
    const auto x = static_cast<std::uint8_t>(a);
    CAPTURE(a);
    CHECK(detail::gf256_mul(x, detail::gf256_inv(x)) == 1);
  }
  CHECK(detail::gf256_inv(0) == 0);
}

TEST_CASE("shamir split and combine round-trip for several share counts and thresholds") {
  struct Case {
    int shares;
    int threshold;
    std::size_t secret_length;
  };
  const Case cases[] = {{5, 3, 32},    {3, 2, 32},  {2, 2, 32}, {10, 7, 17},
                        {255, 255, 4}, {255, 2, 8}, {5, 5, 1}};
  for (const Case& c : cases) {
    CAPTURE(c.shares);
    CAPTURE(c.threshold);
    const SecretBytes secret = SecretBytes::random(c.secret_length);
    const std::vector<SecretBytes> shares = split_ok(secret, c.shares, c.threshold);
    REQUIRE(shares.size() == static_cast<std::size_t>(c.shares));
    CHECK(combine_ok(shares) == secret);
    // Exactly `threshold` shares, taken from the end, are enough too.
    const std::vector<SecretBytes> subset(shares.end() - c.threshold, shares.end());
    CHECK(combine_ok(subset) == secret);
  }
}

TEST_CASE("shamir with one share returns the unsplit secret and combine returns it unchanged") {
  const SecretBytes secret = SecretBytes::random(32);
  const std::vector<SecretBytes> shares = split_ok(secret, 1, 1);
  REQUIRE(shares.size() == 1);
  CHECK(shares[0].size() == secret.size());
  CHECK(shares[0] == secret);
  CHECK(combine_ok(shares) == secret);
}

TEST_CASE("shamir shares are the secret length plus one distinct non-zero x byte") {
  const SecretBytes secret = SecretBytes::random(32);
  SUBCASE("5 of 3") {
    const std::vector<SecretBytes> shares = split_ok(secret, 5, 3);
    std::set<std::uint8_t> xs;
    for (const SecretBytes& share : shares) {
      CHECK(share.size() == secret.size() + 1);
      CHECK(x_of(share) != 0);
      xs.insert(x_of(share));
    }
    CHECK(xs.size() == shares.size());
  }
  SUBCASE("255 shares use every non-zero x exactly once") {
    const std::vector<SecretBytes> shares = split_ok(SecretBytes::random(2), 255, 2);
    std::set<std::uint8_t> xs;
    for (const SecretBytes& share : shares) xs.insert(x_of(share));
    CHECK(xs.size() == 255);
    CHECK(xs.count(0) == 0);
  }
}

TEST_CASE("shamir 5 of 3 recovers from every subset of at least three shares") {
  const SecretBytes secret = SecretBytes::random(32);
  const std::vector<SecretBytes> shares = split_ok(secret, 5, 3);
  int three_subsets = 0;
  for (unsigned mask = 0; mask < 32; ++mask) {
    std::vector<SecretBytes> subset;
    for (int i = 0; i < 5; ++i) {
      if (mask & (1u << i)) subset.push_back(shares[i]);
    }
    if (subset.size() < 3) continue;
    if (subset.size() == 3) ++three_subsets;
    CAPTURE(mask);
    CHECK(combine_ok(subset) == secret);
  }
  CHECK(three_subsets == 10);
}

TEST_CASE("shamir 5 of 3 with only two shares does not give the secret") {
  const SecretBytes secret = SecretBytes::random(32);
  const std::vector<SecretBytes> shares = split_ok(secret, 5, 3);
  for (int i = 0; i < 5; ++i) {
    for (int j = i + 1; j < 5; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      const SecretBytes recovered = combine_ok({shares[i], shares[j]});
      CHECK(recovered.size() == secret.size());
      CHECK_FALSE(recovered == secret);
    }
  }
}

TEST_CASE("shamir splits of the same secret use fresh randomness") {
  const SecretBytes secret = SecretBytes::random(32);
  const std::vector<SecretBytes> first = split_ok(secret, 3, 2);
  const std::vector<SecretBytes> second = split_ok(secret, 3, 2);
  // Same x in both splits but different random coefficients: different y's.
  bool any_equal_y = false;
  for (const SecretBytes& a : first) {
    for (const SecretBytes& b : second) {
      if (x_of(a) == x_of(b) && a == b) any_equal_y = true;
    }
  }
  CHECK_FALSE(any_equal_y);
}

TEST_CASE("shamir split draws every non-constant coefficient at random") {
  // Rebuild p(x) = c0 + c1 x + c2 x^2 for each byte of a 3-of-3 split from the
  // Lagrange basis L_i(x) = (x + a)(x + b) / ((x_i + a)(x_i + b)), where a, b
  // are the other two x's (minus is XOR in GF(2^8)).
  using detail::gf256_inv;
  using detail::gf256_mul;
  const SecretBytes secret = SecretBytes::random(64);
  const std::vector<SecretBytes> shares = split_ok(secret, 3, 3);
  std::uint8_t xs[3];
  for (int i = 0; i < 3; ++i) xs[i] = x_of(shares[i]);
  int zero_c1 = 0;
  int zero_c2 = 0;
  int wrong_c0 = 0;
  for (std::size_t byte = 0; byte < secret.size(); ++byte) {
    std::uint8_t c0 = 0, c1 = 0, c2 = 0;
    for (int i = 0; i < 3; ++i) {
      const std::uint8_t a = xs[(i + 1) % 3];
      const std::uint8_t b = xs[(i + 2) % 3];
      const std::uint8_t scale =
          gf256_mul(shares[i].expose_secret()[byte],
                    gf256_inv(gf256_mul(static_cast<std::uint8_t>(xs[i] ^ a),
                                        static_cast<std::uint8_t>(xs[i] ^ b))));
      c0 ^= gf256_mul(scale, gf256_mul(a, b));
      c1 ^= gf256_mul(scale, static_cast<std::uint8_t>(a ^ b));
      c2 ^= scale;
    }
    if (c0 != secret.expose_secret()[byte]) ++wrong_c0;
    if (c1 == 0) ++zero_c1;
    if (c2 == 0) ++zero_c2;
  }
  CHECK(wrong_c0 == 0);
  // Uniform coefficients are zero with probability 1/256 per byte; 16 of 64
  // would mean a broken generator (chance of a false alarm < 2^-90).
  CHECK(zero_c1 < 16);
  CHECK(zero_c2 < 16);
}

TEST_CASE("shamir combine of a share with any y bit flipped yields a different secret") {
  const SecretBytes secret = SecretBytes::random(16);
  const std::vector<SecretBytes> shares = split_ok(secret, 5, 3);
  const std::vector<SecretBytes> chosen(shares.begin(), shares.begin() + 3);
  for (std::size_t part = 0; part < chosen.size(); ++part) {
    for (std::size_t byte = 0; byte < secret.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<SecretBytes> tampered = chosen;
        set_byte(tampered[part], byte,
                 static_cast<std::uint8_t>(tampered[part].expose_secret()[byte] ^ (1u << bit)));
        const SecretBytes recovered = combine_ok(tampered);
        CAPTURE(part);
        CAPTURE(byte);
        CAPTURE(bit);
        // Interpolation is linear with non-zero basis values, so the error
        // always reaches the output, and only at this byte position.
        CHECK_FALSE(recovered == secret);
        CHECK(recovered.expose_secret()[byte] != secret.expose_secret()[byte]);
      }
    }
  }
}

TEST_CASE("shamir combine of a share with a changed x byte yields a different secret") {
  const SecretBytes secret = SecretBytes::random(32);
  const std::vector<SecretBytes> shares = split_ok(secret, 5, 3);
  const std::vector<SecretBytes> chosen(shares.begin(), shares.begin() + 3);
  std::set<std::uint8_t> used;
  for (const SecretBytes& share : chosen) used.insert(x_of(share));
  const std::size_t x_index = secret.size();
  for (int x = 1; x < 256; ++x) {
    if (used.count(static_cast<std::uint8_t>(x)) != 0) continue;
    std::vector<SecretBytes> tampered = chosen;
    set_byte(tampered[1], x_index, static_cast<std::uint8_t>(x));
    CAPTURE(x);
    CHECK_FALSE(combine_ok(tampered) == secret);
  }
}

TEST_CASE("shamir split rejects invalid parameters with Vault's messages") {
  const SecretBytes secret = SecretBytes::random(32);
  CHECK(split_error(secret, 0, 1) == "shares must be at least one");
  CHECK(split_error(secret, -3, 2) == "shares must be at least one");
  CHECK(split_error(secret, 5, 0) == "threshold must be at least one");
  CHECK(split_error(secret, 5, -1) == "threshold must be at least one");
  CHECK(split_error(secret, 5, 1) == "threshold must be greater than one for multiple shares");
  CHECK(split_error(secret, 256, 3) == "shares must be at most 255");
  CHECK(split_error(secret, 1000, 1000) == "shares must be at most 255");
  CHECK(split_error(secret, 3, 4) == "threshold cannot be larger than shares");
  CHECK(split_error(secret, 1, 2) == "threshold cannot be larger than shares");
  CHECK(split_error(SecretBytes(), 5, 3) == "cannot split an empty secret");
  CHECK(split_error(SecretBytes(), 1, 1) == "cannot split an empty secret");
}

TEST_CASE("shamir combine rejects malformed parts") {
  const std::vector<SecretBytes> shares = split_ok(SecretBytes::random(32), 5, 3);

  SUBCASE("no parts") {
    CHECK(combine_error({}) == "less than two parts cannot be used to reconstruct the secret");
  }
  SUBCASE("parts of different lengths") {
    const std::vector<SecretBytes> other = split_ok(SecretBytes::random(31), 5, 3);
    CHECK(combine_error({shares[0], shares[1], other[2]}) == "all parts must be the same length");
  }
  SUBCASE("parts shorter than two bytes") {
    SecretBytes a(1);
    SecretBytes b(1);
    set_byte(a, 0, 1);
    set_byte(b, 0, 2);
    CHECK(combine_error({a, b}) == "parts must be at least two bytes");
    CHECK(combine_error({SecretBytes(), SecretBytes()}) == "parts must be at least two bytes");
  }
  SUBCASE("a duplicated part") {
    CHECK(combine_error({shares[0], shares[1], shares[0]}) == "duplicate part detected");
  }
  SUBCASE("two different parts with the same x byte") {
    SecretBytes forged = shares[1];
    set_byte(forged, 32, x_of(shares[0]));
    CHECK(combine_error({shares[0], forged, shares[2]}) == "duplicate part detected");
  }
  SUBCASE("a part with x byte zero") {
    SecretBytes zero_x = shares[2];
    set_byte(zero_x, 32, 0);
    CHECK(combine_error({shares[0], shares[1], zero_x}) ==
          "part has an invalid x-coordinate of zero");
  }
}

}  // namespace coffer::seal
