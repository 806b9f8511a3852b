#include "vault/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace coffer::http {
namespace {

// ECDHE only (forward secrecy) and AEAD only, for TLS 1.2. TLS 1.3 suites are
// all AEAD and keep OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const config::ListenerConfig& listener) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  const int min_version = listener.tls_min_version == "tls13" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(native, min_version);
  SSL_CTX_set_options(
      native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return fail(internal_error("listener " + listener.address +
                               ": cipher setup failed: " + openssl_error()));
  }
  if (SSL_CTX_use_certificate_chain_file(native, listener.tls_cert_file.c_str()) != 1) {
    return fail(invalid_argument("listener " + listener.address + ": cannot load tls_cert_file " +
                                 listener.tls_cert_file + ": " + openssl_error()));
  }
  // The key file's contents never reach a message; only its path does.
  if (SSL_CTX_use_PrivateKey_file(native, listener.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return fail(invalid_argument("listener " + listener.address + ": cannot load tls_key_file " +
                                 listener.tls_key_file +
                                 " (unreadable, not PEM, or not the certificate's key)"));
  }
  if (!listener.tls_client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, listener.tls_client_ca_file.c_str(), nullptr) != 1) {
      return fail(invalid_argument("listener " + listener.address +
                                   ": cannot load tls_client_ca_file " +
                                   listener.tls_client_ca_file + ": " + openssl_error()));
    }
    int mode = SSL_VERIFY_PEER;
    if (listener.tls_require_and_verify_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, nullptr);
  } else if (listener.tls_require_and_verify_client_cert) {
    return fail(invalid_argument("listener " + listener.address +
                                 ": tls_require_and_verify_client_cert needs tls_client_ca_file"));
  }
  return ctx;
}

}  // namespace coffer::http
