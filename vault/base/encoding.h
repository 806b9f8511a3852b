#pragma once
// Hex, base64 and random identifiers. Decoders write secrets into SecretBytes.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vault/base/secret_bytes.h"

namespace coffer {

std::string to_hex(std::span<const std::uint8_t> bytes);
std::string to_base64(std::span<const std::uint8_t> bytes);
// nullopt when the text is not valid hex / standard base64 (padding optional).
std::optional<SecretBytes> secret_from_hex(std::string_view text);
std::optional<SecretBytes> secret_from_base64(std::string_view text);

// A random RFC 4122 version-4 UUID.
std::string random_uuid();
// `length` characters from [A-Za-z0-9], uniformly, from the CSPRNG.
std::string random_base62(std::size_t length);

}  // namespace coffer
