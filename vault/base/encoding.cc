#include "vault/base/encoding.h"

#include <sodium.h>

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
  ensure_crypto_initialised();
  std::array<std::uint8_t, 16> b{};
  randombytes_buf(b.data(), b.size());
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const std::string hex = to_hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
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
