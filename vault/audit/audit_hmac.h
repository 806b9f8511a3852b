#pragma once
// AuditHmac: HMAC-SHA256 under one audit device's key, as Vault's audit
// hashing ("hmac-sha256:<hex>").
//
// Every audited request hashes a dozen values or more, so the keyed inner and
// outer SHA-256 states are computed once and copied per value, instead of
// setting up a MAC (and re-hashing the key) every time.

#include <memory>
#include <string>
#include <string_view>

#include "vault/base/secret_bytes.h"

struct evp_md_ctx_st;

namespace coffer::audit {

class AuditHmac {
 public:
  explicit AuditHmac(const SecretBytes& key);
  ~AuditHmac();
  AuditHmac(const AuditHmac&) = delete;
  AuditHmac& operator=(const AuditHmac&) = delete;

  // "hmac-sha256:" + hex(HMAC-SHA256(key, value)). Thread-safe.
  std::string hash(std::string_view value) const;

 private:
  struct Deleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Deleter> inner_;
  std::unique_ptr<evp_md_ctx_st, Deleter> outer_;
};

}  // namespace coffer::audit
