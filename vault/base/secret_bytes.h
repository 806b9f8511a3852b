#pragma once
// SecretBytes: an owned buffer for key material, shares and tokens.
//
// Security properties: the storage comes from libsodium's guarded allocator
// (mlocked where the OS allows it, excluded from core dumps, guard pages around
// it) and is wiped when released. There is no implicit conversion to string and
// no operator<<: raw access goes through the greppable `expose_secret()`.
// Equality runs in constant time for buffers of the same length.
// Not thread-safe for concurrent mutation; const access from many threads is fine.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace coffer {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);  // zero-filled
  explicit SecretBytes(std::span<const std::uint8_t> bytes);
  static SecretBytes from_string(std::string_view text);
  static SecretBytes random(std::size_t size);  // CSPRNG

  SecretBytes(const SecretBytes& other);
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Raw access. Every call site is a place where the secret leaves this type.
  std::span<const std::uint8_t> expose_secret() const { return {data_, size_}; }
  std::span<std::uint8_t> expose_secret_mutable() { return {data_, size_}; }
  std::string_view expose_secret_view() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

  // Constant time in the contents; lengths are not secret.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

 private:
  void release() noexcept;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// Constant-time comparison of two byte strings (length is not hidden).
bool constant_time_equal(std::string_view a, std::string_view b);

// Wipes a buffer that held secret material.
void wipe(void* data, std::size_t size);

// Initialises libsodium once; safe to call from many places.
void ensure_crypto_initialised();

}  // namespace coffer
