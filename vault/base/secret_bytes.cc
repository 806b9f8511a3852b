#include "vault/base/secret_bytes.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace coffer {

void ensure_crypto_initialised() {
  static const bool initialised = [] {
    if (sodium_init() < 0) std::abort();  // no CSPRNG: nothing safe can run
    return true;
  }();
  (void)initialised;
}

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
  ensure_crypto_initialised();
  if (size_ == 0) return;
  data_ = static_cast<std::uint8_t*>(sodium_malloc(size_));
  if (data_ == nullptr) std::abort();
  sodium_memzero(data_, size_);
}

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes) : SecretBytes(bytes.size()) {
  if (size_ != 0) std::memcpy(data_, bytes.data(), size_);
}

SecretBytes SecretBytes::from_string(std::string_view text) {
  return SecretBytes(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

SecretBytes SecretBytes::random(std::size_t size) {
  SecretBytes out(size);
  if (size != 0) randombytes_buf(out.data_, size);
  return out;
}

SecretBytes::SecretBytes(const SecretBytes& other) : SecretBytes(other.expose_secret()) {}

SecretBytes& SecretBytes::operator=(const SecretBytes& other) {
  if (this != &other) {
    SecretBytes copy(other);
    *this = std::move(copy);
  }
  return *this;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { release(); }

void SecretBytes::release() noexcept {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before freeing
  data_ = nullptr;
  size_ = 0;
}

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  return constant_time_equal(a.expose_secret_view(), b.expose_secret_view());
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void wipe(void* data, std::size_t size) {
  if (size != 0) sodium_memzero(data, size);
}

}  // namespace coffer
