#pragma once
// Shamir secret sharing over GF(2^8), in Vault's share format.
//
// Each byte of the secret is the constant term of its own random polynomial of
// degree threshold-1 over GF(2^8) with the AES reduction polynomial
// x^8 + x^4 + x^3 + x + 1 (the field Vault uses, so shares are interchangeable
// with Vault's). A share is the polynomial values at one x-coordinate, one byte
// per secret byte, followed by that x-coordinate as ONE trailing byte:
//   share = y[0] y[1] ... y[len-1] x        (len(secret) + 1 bytes, x in 1..255)
//
// Security properties:
// - Coefficients come from libsodium's CSPRNG; any threshold-1 shares reveal
//   nothing about the secret.
// - Field arithmetic on secret data is constant time: no table lookups indexed
//   by secret bytes and no branches on them (CVE-2023-25000 was a cache-timing
//   leak through Vault's log/exp tables). Only the x-coordinates, which are
//   public, and lengths decide control flow.
// - Intermediate secret material lives in SecretBytes (wiped on release).
// - Shares are NOT authenticated. combine() of well-formed but wrong shares
//   (a corrupted y-byte, a share from another split, a wrong x byte) silently
//   yields a wrong secret; callers detect that by failing to decrypt with it
//   (the barrier's AEAD check on the keyring).
//
// Thread safety: both functions are pure apart from reading the CSPRNG and may
// be called concurrently.

#include <cstdint>
#include <span>
#include <vector>

#include "vault/base/secret_bytes.h"
#include "vault/base/status.h"

namespace coffer::seal {

// Splits `secret` into `shares` shares, any `threshold` of which recover it.
// With shares == 1 (and so threshold == 1) the secret is not split: the single
// returned share is the secret itself, without an x-coordinate byte (Vault
// hands out the unsplit key in that case). Otherwise every share is
// secret.size() + 1 bytes with distinct, non-zero x-coordinates.
// Errors (invalid_argument), checked in Vault's order:
//   shares < 1                        "shares must be at least one"
//   threshold < 1                     "threshold must be at least one"
//   shares > 1 and threshold == 1     "threshold must be greater than one for multiple shares"
//   shares > 255                      "shares must be at most 255"
//   threshold > shares                "threshold cannot be larger than shares"
//   empty secret                      "cannot split an empty secret"
Result<std::vector<SecretBytes>> split(const SecretBytes& secret, int shares, int threshold);

// Recovers the secret from `parts` by Lagrange interpolation at x = 0.
// Exactly one part is returned unchanged (the shares == 1 case of split()).
// Otherwise all parts must be well-formed shares: the same length, at least two
// bytes, distinct non-zero trailing x-coordinates. The caller must pass at
// least `threshold` shares of one split; fewer, or wrong shares, produce a
// wrong secret rather than an error (see the file comment).
// Errors (invalid_argument):
//   no parts                          "less than two parts cannot be used to reconstruct the
//   secret" lengths differ                    "all parts must be the same length" length < 2 "parts
//   must be at least two bytes" an x-coordinate is zero           "part has an invalid x-coordinate
//   of zero" an x-coordinate repeats           "duplicate part detected"
Result<SecretBytes> combine(std::span<const SecretBytes> parts);

// GF(2^8) arithmetic, exposed for tests. Both run in constant time in their
// arguments.
namespace detail {
// Product of a and b modulo x^8 + x^4 + x^3 + x + 1.
std::uint8_t gf256_mul(std::uint8_t a, std::uint8_t b);
// Multiplicative inverse, computed as a^254; gf256_inv(0) == 0.
std::uint8_t gf256_inv(std::uint8_t a);
}  // namespace detail

}  // namespace coffer::seal
