#pragma once
// Time-based one-time passwords: RFC 4226 (HOTP), RFC 6238 (TOTP), the RFC 4648
// base32 that authenticator apps use for secrets, and the otpauth:// key URI
// they scan from a QR code.
//
// Everything here is a pure function of its arguments (time is passed in, so
// callers use their injectable clock) and is safe to call from any thread.
//
// Security properties:
// - verify_totp compares in constant time and always computes and compares
//   every candidate step, so timing reveals neither how much of a passcode was
//   right nor which step matched.
// - verify_totp does not remember anything: replay protection is the caller's
//   job. It returns the matched step so the caller can refuse any step at or
//   below the last one it accepted for that key.
// - HMAC intermediates are wiped. The key spans are borrowed, never copied.
// - A passcode, the key and otpauth_url's result are secrets: never log them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vault/base/status.h"

namespace coffer::identity {

enum class TotpAlgorithm { kSha1, kSha256, kSha512 };

// "SHA1", "SHA256" or "SHA512", case-insensitive; anything else is invalid_argument.
Result<TotpAlgorithm> parse_totp_algorithm(std::string_view name);
// The canonical upper-case name ("SHA1", ...), as used in otpauth:// URIs.
std::string_view totp_algorithm_name(TotpAlgorithm algorithm);

struct TotpParams {
  TotpAlgorithm algorithm = TotpAlgorithm::kSha1;
  int digits = 6;            // 6 or 8
  std::int64_t period = 30;  // seconds, > 0
  int skew = 1;              // periods accepted either side of now: 0 or 1
};

// ok when `p` is within the ranges above; invalid_argument otherwise. Callers
// that take parameters from a client validate them with this once, at creation;
// the functions below treat invalid parameters as "no code" rather than failing.
Status check_totp_params(const TotpParams& p);

// The RFC 4226 HOTP value for `counter`, zero-padded to p.digits. Empty when the
// key is empty, `p` is invalid or HMAC fails (never a string that could match).
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, const TotpParams& p);

// The TOTP time step for unix time t: floor(t / period). 0 for t < 0 or an
// invalid period.
std::uint64_t totp_step(std::int64_t unix_seconds, const TotpParams& p);

// Verifies `passcode` at unix time `now`, accepting steps now-skew..now+skew.
// Spaces in the passcode ("123 456") are ignored; any other non-digit, a wrong
// length, an empty key, invalid `p` or now < 0 gives nullopt. Returns the
// matched step; if (improbably) the code matches several candidate steps, the
// latest, so that a caller refusing steps <= the last accepted one refuses a
// replay too.
std::optional<std::uint64_t> verify_totp(std::span<const std::uint8_t> key,
                                         std::string_view passcode, std::int64_t now,
                                         const TotpParams& p);

// RFC 4648 base32: upper-case, no '=' padding, as authenticator apps expect.
std::string base32_encode(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case, with no padding or with exactly the padding
// RFC 4648 prescribes. nullopt for characters outside the alphabet (including
// '0', '1', '8', '9' and spaces) or an impossible length. Unused bits of the
// last character are ignored, since some services mint secrets as random
// base32 characters rather than as encoded bytes.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=..&digits=..&period=..
// with issuer and account percent-encoded (RFC 3986 unreserved characters
// kept). An empty issuer drops both the label prefix and the issuer parameter.
// The result contains the secret.
std::string otpauth_url(std::string_view issuer, std::string_view account,
                        std::span<const std::uint8_t> key, const TotpParams& p);

}  // namespace coffer::identity
