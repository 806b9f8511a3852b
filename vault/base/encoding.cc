#include "vault/base/encoding.h"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace coffer {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

std::optional<SecretBytes> secret_from_hex(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  SecretBytes out(text.size() / 2);
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.expose_secret_mutable().data(), out.size(), text.data(), text.size(),
                     nullptr, &written, &end) != 0 ||
      written != out.size() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return out;
}

std::optional<SecretBytes> secret_from_base64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const int variant = text.ends_with('=') ? sodium_base64_VARIANT_ORIGINAL
                                          : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
  SecretBytes buffer(text.size());
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_base642bin(buffer.expose_secret_mutable().data(), buffer.size(), text.data(),
                        text.size(), nullptr, &written, &end, variant) != 0 ||
      end != text.data() + text.size() || written == 0) {
    return std::nullopt;
  }
  return SecretBytes(buffer.expose_secret().first(written));
}

std::string random_uuid() {
  // Every response carries a fresh request id. UUIDs are identifiers, not
  // keys, so they come from a per-thread buffer of CSPRNG bytes refilled 64
  // ids at a time: one getrandom call per request was a measurable part of the
  // KV read hot path.
  constexpr std::size_t kPoolIds = 64;
  thread_local std::array<std::uint8_t, 16 * kPoolIds> pool{};
  thread_local std::size_t next = kPoolIds;
  if (next == kPoolIds) {
    ensure_crypto_initialised();
    randombytes_buf(pool.data(), pool.size());
    next = 0;
  }
  std::array<std::uint8_t, 16> b{};
  std::copy_n(pool.begin() + static_cast<std::ptrdiff_t>(16 * next), 16, b.begin());
  ++next;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t pos = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    out[pos++] = kHex[b[i] >> 4];
    out[pos++] = kHex[b[i] & 0x0f];
  }
  return out;
}

std::string random_base62(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  ensure_crypto_initialised();
  std::string out;
  out.reserve(length);
  while (out.size() < length) {
    out.push_back(kAlphabet[randombytes_uniform(kAlphabet.size())]);
  }
  return out;
}

}  // namespace coffer
