#pragma once
// Certificates for `coffer server -dev`: a fresh CA and a server certificate for
// the listen address, so the dev server is HTTPS from the first request.

#include <string>

#include "vault/base/status.h"

namespace coffer::cli {

struct DevCertificatePaths {
  std::string ca_cert;      // <dir>/ca.pem — what clients trust (VAULT_CACERT)
  std::string server_cert;  // <dir>/server.pem
  std::string server_key;   // <dir>/server-key.pem, mode 0600
};

// Creates `dir` if needed and writes the three files. `host` is the listen host:
// an IP goes into the certificate as an IP SAN, a name as a DNS SAN; "localhost"
// and 127.0.0.1 are always included.
Result<DevCertificatePaths> write_dev_certificates(const std::string& dir, const std::string& host);

}  // namespace coffer::cli
