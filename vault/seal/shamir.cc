#include "vault/seal/shamir.h"

#include <sodium.h>

#include <array>
#include <cstddef>
#include <utility>

namespace coffer::seal {

namespace detail {

std::uint8_t gf256_mul(std::uint8_t a, std::uint8_t b) {
  // Russian-peasant multiplication. Every step runs regardless of the operand
  // bits: the conditional add and the conditional reduction are masks built
  // from a bit (0x00 or 0xff), never branches or table lookups, so timing and
  // memory access do not depend on the secret.
  std::uint8_t product = 0;
  for (int i = 0; i < 8; ++i) {
    product ^= static_cast<std::uint8_t>(a & -(b & 1));
    const auto high_bit_mask = static_cast<std::uint8_t>(-(a >> 7));
    a = static_cast<std::uint8_t>((a << 1) ^ (0x1b & high_bit_mask));
    b = static_cast<std::uint8_t>(b >> 1);
  }
  return product;
}

std::uint8_t gf256_inv(std::uint8_t a) {
  // a^254 == a^-1 in GF(2^8) (the multiplicative group has order 255), and it
  // maps 0 to 0 without a special case. The exponent is a public constant, so
  // the square-and-multiply schedule is the same for every input.
  // 254 = 0b11111110: a^254 = a^2 * a^4 * ... * a^128.
  std::uint8_t result = 1;
  std::uint8_t power = a;
  for (int bit = 1; bit < 8; ++bit) {
    power = gf256_mul(power, power);
    result = gf256_mul(result, power);
  }
  return result;
}

}  // namespace detail

namespace {

using detail::gf256_inv;
using detail::gf256_mul;

constexpr int kMaxShares = 255;

// Evaluates the polynomial with the given coefficients (constant term first)
// at x by Horner's rule.
std::uint8_t evaluate(std::span<const std::uint8_t> coefficients, std::uint8_t x) {
  std::uint8_t value = coefficients.back();
  for (std::size_t k = coefficients.size() - 1; k-- > 0;) {
    value = static_cast<std::uint8_t>(gf256_mul(value, x) ^ coefficients[k]);
  }
  return value;
}

Status validate_split_parameters(int shares, int threshold) {
  if (shares < 1) return invalid_argument("shares must be at least one");
  if (threshold < 1) return invalid_argument("threshold must be at least one");
  if (shares > 1 && threshold == 1) {
    return invalid_argument("threshold must be greater than one for multiple shares");
  }
  if (shares > kMaxShares) return invalid_argument("shares must be at most 255");
  if (threshold > shares) return invalid_argument("threshold cannot be larger than shares");
  return ok_status();
}

}  // namespace

Result<std::vector<SecretBytes>> split(const SecretBytes& secret, int shares, int threshold) {
  COFFER_TRY(validate_split_parameters(shares, threshold));
  if (secret.empty()) return fail(invalid_argument("cannot split an empty secret"));
  ensure_crypto_initialised();

  std::vector<SecretBytes> out;
  if (shares == 1) {
    // Vault's format for a single share is the unsplit key.
    out.push_back(secret);
    return out;
  }

  // x-coordinates are public; drawing them as a random permutation of 1..255
  // matches Vault and avoids a fixed share order.
  std::array<std::uint8_t, kMaxShares> xs;
  for (int i = 0; i < kMaxShares; ++i) xs[i] = static_cast<std::uint8_t>(i + 1);
  for (std::uint32_t i = kMaxShares - 1; i > 0; --i) {
    std::swap(xs[i], xs[randombytes_uniform(i + 1)]);
  }

  const std::span<const std::uint8_t> secret_bytes = secret.expose_secret();
  const std::size_t length = secret_bytes.size();
  out.reserve(static_cast<std::size_t>(shares));
  for (int j = 0; j < shares; ++j) {
    SecretBytes share(length + 1);
    share.expose_secret_mutable()[length] = xs[j];
    out.push_back(std::move(share));
  }

  // One polynomial per secret byte; the buffer is reused and wiped on release.
  SecretBytes coefficients(static_cast<std::size_t>(threshold));
  const std::span<std::uint8_t> coeffs = coefficients.expose_secret_mutable();
  for (std::size_t i = 0; i < length; ++i) {
    coeffs[0] = secret_bytes[i];
    randombytes_buf(coeffs.data() + 1, coeffs.size() - 1);
    for (int j = 0; j < shares; ++j) {
      out[j].expose_secret_mutable()[i] = evaluate(coeffs, xs[j]);
    }
  }
  return out;
}

Result<SecretBytes> combine(std::span<const SecretBytes> parts) {
  if (parts.empty()) {
    return fail(invalid_argument("less than two parts cannot be used to reconstruct the secret"));
  }
  // The unsplit key of a shares == 1 configuration.
  if (parts.size() == 1) return parts.front();

  const std::size_t part_length = parts.front().size();
  for (const SecretBytes& part : parts) {
    if (part.size() != part_length)
      return fail(invalid_argument("all parts must be the same length"));
  }
  if (part_length < 2) return fail(invalid_argument("parts must be at least two bytes"));

  // The trailing x-coordinates are public: checking them may branch.
  std::vector<std::uint8_t> xs;
  xs.reserve(parts.size());
  std::array<bool, 256> seen{};
  for (const SecretBytes& part : parts) {
    const std::uint8_t x = part.expose_secret()[part_length - 1];
    if (x == 0) return fail(invalid_argument("part has an invalid x-coordinate of zero"));
    if (seen[x]) return fail(invalid_argument("duplicate part detected"));
    seen[x] = true;
    xs.push_back(x);
  }

  // Lagrange basis at 0: L_j(0) = prod_{m != j} x_m / (x_m - x_j), where
  // subtraction in GF(2^8) is XOR. It depends only on the public x's, so it is
  // computed once and shared by every byte position. Distinct x's make every
  // denominator non-zero.
  std::vector<std::uint8_t> basis(xs.size());
  for (std::size_t j = 0; j < xs.size(); ++j) {
    std::uint8_t numerator = 1;
    std::uint8_t denominator = 1;
    for (std::size_t m = 0; m < xs.size(); ++m) {
      if (m == j) continue;
      numerator = gf256_mul(numerator, xs[m]);
      denominator = gf256_mul(denominator, static_cast<std::uint8_t>(xs[m] ^ xs[j]));
    }
    basis[j] = gf256_mul(numerator, gf256_inv(denominator));
  }

  const std::size_t length = part_length - 1;
  SecretBytes secret(length);
  const std::span<std::uint8_t> out = secret.expose_secret_mutable();
  for (std::size_t i = 0; i < length; ++i) {
    std::uint8_t value = 0;
    for (std::size_t j = 0; j < parts.size(); ++j) {
      value ^= gf256_mul(parts[j].expose_secret()[i], basis[j]);
    }
    out[i] = value;
  }
  return secret;
}

}  // namespace coffer::seal
