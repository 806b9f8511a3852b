#include "vault/base/aes_gcm.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <algorithm>

#include <memory>

namespace coffer::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

// Fetching the implementation once avoids OpenSSL 3's per-call provider lookup.
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// One context per thread, re-initialised for every operation: creating a context
// per call costs an allocation on the request path.
EVP_CIPHER_CTX* thread_context() {
  thread_local CipherCtx ctx(EVP_CIPHER_CTX_new());
  return ctx.get();
}

Status crypto_failure() { return internal_error("encryption failure"); }

}  // namespace

Status aes_gcm_seal(std::span<const std::uint8_t> key, std::string_view plaintext,
                    std::string_view aad, std::string& out) {
  if (key.size() != kAesKeySize || aes_256_gcm() == nullptr) return crypto_failure();
  const std::size_t header = out.size();
  out.resize(header + kGcmNonceSize + plaintext.size() + kGcmTagSize);
  auto* base = reinterpret_cast<unsigned char*>(out.data()) + header;
  unsigned char* nonce = base;
  unsigned char* cipher = base + kGcmNonceSize;
  unsigned char* tag = cipher + plaintext.size();
  ensure_crypto_initialised();
  randombytes_buf(nonce, kGcmNonceSize);

  EVP_CIPHER_CTX* ctx = thread_context();
  int len = 0;
  bool ok =
      ctx != nullptr && EVP_EncryptInit_ex2(ctx, aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, cipher, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, cipher + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagSize, tag) == 1;
  if (!ok) {
    out.resize(header);
    return crypto_failure();
  }
  return ok_status();
}

Status aes_gcm_open(std::span<const std::uint8_t> key, std::string_view box, std::string_view aad,
                    std::span<std::uint8_t> out) {
  if (key.size() != kAesKeySize || box.size() < kGcmOverhead ||
      out.size() != box.size() - kGcmOverhead || aes_256_gcm() == nullptr) {
    return internal_error("decryption failed");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  const auto* cipher = nonce + kGcmNonceSize;
  const std::size_t cipher_len = out.size();
  // OpenSSL takes a non-const tag pointer for SET_TAG; copy it out of the box.
  unsigned char tag[kGcmTagSize];
  std::copy_n(cipher + cipher_len, kGcmTagSize, tag);

  EVP_CIPHER_CTX* ctx = thread_context();
  int len = 0;
  bool ok =
      ctx != nullptr && EVP_DecryptInit_ex2(ctx, aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, out.data(), &len, cipher, static_cast<int>(cipher_len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag) == 1 &&
      EVP_DecryptFinal_ex(ctx, out.data() + len, &len) == 1;
  if (!ok) {
    wipe(out.data(), out.size());
    return internal_error("decryption failed");
  }
  return ok_status();
}

Result<std::string> aes_gcm_open_string(std::span<const std::uint8_t> key, std::string_view box,
                                        std::string_view aad) {
  if (box.size() < kGcmOverhead) return fail(internal_error("decryption failed"));
  std::string out(box.size() - kGcmOverhead, '\0');
  COFFER_TRY(
      aes_gcm_open(key, box, aad, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}));
  return out;
}

Result<SecretBytes> aes_gcm_open_secret(std::span<const std::uint8_t> key, std::string_view box,
                                        std::string_view aad) {
  if (box.size() < kGcmOverhead) return fail(internal_error("decryption failed"));
  SecretBytes out(box.size() - kGcmOverhead);
  COFFER_TRY(aes_gcm_open(key, box, aad, out.expose_secret_mutable()));
  return out;
}

}  // namespace coffer::crypto
