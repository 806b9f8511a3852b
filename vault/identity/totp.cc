#include "vault/identity/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>

namespace coffer::identity {
namespace {

const char* digest_name(TotpAlgorithm algorithm) {
  switch (algorithm) {
    case TotpAlgorithm::kSha1:
      return "SHA1";
    case TotpAlgorithm::kSha256:
      return "SHA256";
    case TotpAlgorithm::kSha512:
      return "SHA512";
  }
  return nullptr;
}

char ascii_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_upper(a[i]) != ascii_upper(b[i])) return false;
  }
  return true;
}

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// -1 for characters outside the alphabet.
int base32_value(char c) {
  c = ascii_upper(c);
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

}  // namespace

Result<TotpAlgorithm> parse_totp_algorithm(std::string_view name) {
  for (auto algorithm : {TotpAlgorithm::kSha1, TotpAlgorithm::kSha256, TotpAlgorithm::kSha512}) {
    if (equals_ignore_case(name, totp_algorithm_name(algorithm))) return algorithm;
  }
  return fail(invalid_argument("unsupported TOTP algorithm; expected SHA1, SHA256 or SHA512"));
}

std::string_view totp_algorithm_name(TotpAlgorithm algorithm) {
  const char* name = digest_name(algorithm);
  return name == nullptr ? std::string_view() : std::string_view(name);
}

Status check_totp_params(const TotpParams& p) {
  if (digest_name(p.algorithm) == nullptr) return invalid_argument("unsupported TOTP algorithm");
  if (p.digits != 6 && p.digits != 8) return invalid_argument("TOTP digits must be 6 or 8");
  if (p.period <= 0) return invalid_argument("TOTP period must be positive");
  if (p.skew != 0 && p.skew != 1) return invalid_argument("TOTP skew must be 0 or 1");
  return ok_status();
}

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, const TotpParams& p) {
  if (key.empty() || !check_totp_params(p).ok()) return {};

  std::array<unsigned char, 8> message{};
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[message.size() - 1 - i] = static_cast<unsigned char>(counter >> (8 * i));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  // EVP_Q_mac fetches HMAC per call; verification runs a handful of times per
  // login, so a cached EVP_MAC_CTX would buy nothing worth its complexity.
  const bool ok =
      EVP_Q_mac(nullptr, "HMAC", nullptr, digest_name(p.algorithm), nullptr, key.data(), key.size(),
                message.data(), message.size(), mac.data(), mac.size(), &mac_len) != nullptr;
  if (!ok || mac_len < 20) {
    OPENSSL_cleanse(mac.data(), mac.size());
    return {};
  }

  // RFC 4226 section 5.3 dynamic truncation.
  const std::size_t offset = mac[mac_len - 1] & 0x0f;
  std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                         (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                         (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                         static_cast<std::uint32_t>(mac[offset + 3]);
  OPENSSL_cleanse(mac.data(), mac.size());

  std::string code(static_cast<std::size_t>(p.digits), '0');
  for (auto it = code.rbegin(); it != code.rend(); ++it) {
    *it = static_cast<char>('0' + binary % 10);
    binary /= 10;
  }
  return code;
}

std::uint64_t totp_step(std::int64_t unix_seconds, const TotpParams& p) {
  if (unix_seconds < 0 || p.period <= 0) return 0;
  return static_cast<std::uint64_t>(unix_seconds / p.period);
}

std::optional<std::uint64_t> verify_totp(std::span<const std::uint8_t> key,
                                         std::string_view passcode, std::int64_t now,
                                         const TotpParams& p) {
  if (key.empty() || now < 0 || !check_totp_params(p).ok()) return std::nullopt;

  // Passcode shape is not secret: rejecting it early reveals nothing about the key.
  std::string digits;
  digits.reserve(passcode.size());
  for (char c : passcode) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits.push_back(c);
  }
  if (digits.size() != static_cast<std::size_t>(p.digits)) return std::nullopt;

  const std::uint64_t current = totp_step(now, p);
  std::uint64_t matched_step = 0;
  std::uint64_t matched = 0;  // all ones once any candidate matched
  for (int delta = -p.skew; delta <= p.skew; ++delta) {
    // Only step 0 has no predecessor, i.e. within the first period of 1970.
    if (delta < 0 && current < static_cast<std::uint64_t>(-delta)) continue;
    const std::uint64_t step =
        current + static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
    std::string candidate = hotp(key, step, p);
    const bool equal = candidate.size() == digits.size() &&
                       CRYPTO_memcmp(candidate.data(), digits.data(), digits.size()) == 0;
    OPENSSL_cleanse(candidate.data(), candidate.size());
    // Select without branching on the comparison so every candidate costs the
    // same whichever one matched; later steps overwrite earlier ones.
    const std::uint64_t mask = std::uint64_t{0} - static_cast<std::uint64_t>(equal);
    matched_step = (matched_step & ~mask) | (step & mask);
    matched |= mask;
  }
  OPENSSL_cleanse(digits.data(), digits.size());
  if (matched == 0) return std::nullopt;
  return matched_step;
}

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(buffer >> bits) & 0x1f]);
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
  const std::size_t data_len = text.find('=');
  if (data_len != std::string_view::npos) {
    // Padding, when present, must be exactly what RFC 4648 would have written:
    // whole 8-character quanta, 1..7 '=' and nothing after them.
    if (text.size() % 8 != 0 || text.size() - data_len >= 8 ||
        text.find_first_not_of('=', data_len) != std::string_view::npos) {
      return std::nullopt;
    }
    text = text.substr(0, data_len);
  }
  // A quantum of 1, 3 or 6 characters cannot come from whole bytes.
  const std::size_t tail = text.size() % 8;
  if (tail == 1 || tail == 3 || tail == 6) return std::nullopt;

  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = base32_value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
    }
  }
  return out;
}

std::string otpauth_url(std::string_view issuer, std::string_view account,
                        std::span<const std::uint8_t> key, const TotpParams& p) {
  const std::string encoded_issuer = percent_encode(issuer);
  std::string url = "otpauth://totp/";
  if (!issuer.empty()) url += encoded_issuer + ":";
  url += percent_encode(account);
  url += "?secret=" + base32_encode(key);
  if (!issuer.empty()) url += "&issuer=" + encoded_issuer;
  url += "&algorithm=";
  url += totp_algorithm_name(p.algorithm);
  url += "&digits=" + std::to_string(p.digits);
  url += "&period=" + std::to_string(p.period);
  return url;
}

}  // namespace coffer::identity
