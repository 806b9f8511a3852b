#include <doctest/doctest.h>

#include <openssl/hmac.h>

#include "vault/audit/audit_hmac.h"
#include "vault/base/encoding.h"

namespace coffer::audit {

// Reference: OpenSSL's one-shot HMAC.
std::string reference(std::string_view key, std::string_view value) {
  unsigned char out[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(value.data()), value.size(), out, &n);
  return "hmac-sha256:" + to_hex(std::span<const std::uint8_t>(out, n));
}

TEST_CASE("AuditHmac matches HMAC-SHA256 for short, block-sized and long keys and values") {
  for (std::size_t key_size : {1u, 32u, 64u, 65u, 200u}) {
    const std::string key(key_size, 'k');
    AuditHmac hmac(SecretBytes::from_string(key));
    for (const std::string& value :
         {std::string(), std::string("CANARY"), std::string(1000, 'v')}) {
      CHECK(hmac.hash(value) == reference(key, value));
    }
  }
  // RFC 4231 test case 2.
  AuditHmac jefe(SecretBytes::from_string("Jefe"));
  CHECK(jefe.hash("what do ya want for nothing?") ==
        "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace coffer::audit
