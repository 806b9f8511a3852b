#include "cli/dev_certificates.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace coffer::cli {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using File = std::unique_ptr<FILE, FileClose>;

Status cert_error(const std::string& what) {
  return internal_error("dev certificate generation failed: " + what);
}

Pkey new_p256_key() { return Pkey(EVP_EC_gen("P-256")); }

Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return cert_error("extension " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? ok_status() : cert_error("extension " + value);
}

Result<Cert> make_certificate(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                              EVP_PKEY* issuer_key, bool is_ca, const std::string& san) {
  Cert cert(X509_new());
  if (!cert) return fail(cert_error("allocation"));
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // keep it positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Coffer dev"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (is_ca) {
    COFFER_TRY(add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"));
    COFFER_TRY(add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    COFFER_TRY(add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    COFFER_TRY(add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature"));
    COFFER_TRY(add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth"));
    COFFER_TRY(add_extension(cert.get(), signer, NID_subject_alt_name, san));
  }
  COFFER_TRY(add_extension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    return fail(cert_error("signing"));
  }
  return cert;
}

Status write_pem(const std::string& path, mode_t mode, const auto& writer) {
  std::filesystem::remove(path);
  File f(std::fopen(path.c_str(), "wx"));
  if (!f) return cert_error("cannot create " + path);
  ::chmod(path.c_str(), mode);
  if (writer(f.get()) != 1) return cert_error("cannot write " + path);
  return ok_status();
}

}  // namespace

Result<DevCertificatePaths> write_dev_certificates(const std::string& dir,
                                                   const std::string& host) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(cert_error("cannot create " + dir));
  Pkey ca_key = new_p256_key();
  Pkey server_key = new_p256_key();
  if (!ca_key || !server_key) return fail(cert_error("key generation"));

  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  unsigned char probe[16];
  const bool is_ipv4 = inet_pton(AF_INET, host.c_str(), probe) == 1;
  const bool is_ipv6 = inet_pton(AF_INET6, host.c_str(), probe) == 1;
  if (is_ipv4 || is_ipv6) {
    if (host != "127.0.0.1" && host != "::1") san += ",IP:" + host;
  } else if (!host.empty() && host != "localhost") {
    san += ",DNS:" + host;
  }

  COFFER_ASSIGN_OR_RETURN(
      Cert ca, make_certificate(ca_key.get(), "Coffer dev CA", nullptr, nullptr, true, ""));
  COFFER_ASSIGN_OR_RETURN(
      Cert server, make_certificate(server_key.get(), host, ca.get(), ca_key.get(), false, san));
  DevCertificatePaths paths{dir + "/ca.pem", dir + "/server.pem", dir + "/server-key.pem"};
  COFFER_TRY(write_pem(paths.ca_cert, 0644, [&](FILE* f) { return PEM_write_X509(f, ca.get()); }));
  COFFER_TRY(write_pem(paths.server_cert, 0644, [&](FILE* f) {
    return PEM_write_X509(f, server.get()) == 1 && PEM_write_X509(f, ca.get()) == 1 ? 1 : 0;
  }));
  COFFER_TRY(write_pem(paths.server_key, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }));
  return paths;
}

}  // namespace coffer::cli
