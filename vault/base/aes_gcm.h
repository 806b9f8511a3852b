#pragma once
// AES-256-GCM sealing used by the barrier and the seal.
//
// Format of a sealed box: nonce (12 bytes, random per call) || ciphertext || tag (16 bytes).
// Security property: open() succeeds only for the exact key, AAD and bytes that
// seal() produced; any flipped bit, truncation or different AAD is an error, and
// no partial plaintext is ever returned. Thread-safe (no shared mutable state).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vault/base/secret_bytes.h"
#include "vault/base/status.h"

namespace coffer::crypto {

inline constexpr std::size_t kAesKeySize = 32;
inline constexpr std::size_t kGcmNonceSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;
inline constexpr std::size_t kGcmOverhead = kGcmNonceSize + kGcmTagSize;

// Appends the sealed box to `out` (which may already hold a header).
Status aes_gcm_seal(std::span<const std::uint8_t> key, std::string_view plaintext,
                    std::string_view aad, std::string& out);

// Opens `box` into `out`, which must be exactly box.size() - kGcmOverhead bytes.
// On failure `out` is wiped. The error message is generic on purpose.
Status aes_gcm_open(std::span<const std::uint8_t> key, std::string_view box, std::string_view aad,
                    std::span<std::uint8_t> out);

Result<std::string> aes_gcm_open_string(std::span<const std::uint8_t> key, std::string_view box,
                                        std::string_view aad);
Result<SecretBytes> aes_gcm_open_secret(std::span<const std::uint8_t> key, std::string_view box,
                                        std::string_view aad);

}  // namespace coffer::crypto
