#include "vault/audit/audit_hmac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>

namespace coffer::audit {
namespace {

constexpr std::size_t kBlock = 64;  // SHA-256 block size

void check(int ok) {
  // Digest operations on valid contexts do not fail; a failure is a broken crypto library.
  if (ok != 1) std::abort();
}

}  // namespace

void AuditHmac::Deleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

AuditHmac::AuditHmac(const SecretBytes& key) : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()) {
  if (!inner_ || !outer_) std::abort();
  std::array<unsigned char, kBlock> block{};
  auto k = key.expose_secret();
  if (k.size() > kBlock) {
    unsigned int n = 0;
    check(EVP_Digest(k.data(), k.size(), block.data(), &n, EVP_sha256(), nullptr));
  } else {
    std::copy(k.begin(), k.end(), block.begin());
  }
  std::array<unsigned char, kBlock> pad{};
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  check(EVP_DigestInit_ex(inner_.get(), EVP_sha256(), nullptr));
  check(EVP_DigestUpdate(inner_.get(), pad.data(), pad.size()));
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  check(EVP_DigestInit_ex(outer_.get(), EVP_sha256(), nullptr));
  check(EVP_DigestUpdate(outer_.get(), pad.data(), pad.size()));
  sodium_memzero(block.data(), block.size());
  sodium_memzero(pad.data(), pad.size());
}

AuditHmac::~AuditHmac() = default;

std::string AuditHmac::hash(std::string_view value) const {
  thread_local std::unique_ptr<evp_md_ctx_st, Deleter> work(EVP_MD_CTX_new());
  if (!work) std::abort();
  std::array<unsigned char, 32> digest{};
  unsigned int n = 0;
  check(EVP_MD_CTX_copy_ex(work.get(), inner_.get()));
  check(EVP_DigestUpdate(work.get(), value.data(), value.size()));
  check(EVP_DigestFinal_ex(work.get(), digest.data(), &n));
  check(EVP_MD_CTX_copy_ex(work.get(), outer_.get()));
  check(EVP_DigestUpdate(work.get(), digest.data(), digest.size()));
  check(EVP_DigestFinal_ex(work.get(), digest.data(), &n));
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out = "hmac-sha256:";
  out.reserve(out.size() + 64);
  for (unsigned char b : digest) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

}  // namespace coffer::audit
