#pragma once
// Where the CLI connects and with which token: the vault CLI's flags and
// environment (VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, VAULT_CAPATH,
// VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME, VAULT_SKIP_VERIFY)
// plus the COFFER_* variants, which win over VAULT_* when both are set. Flags
// win over both.
//
// The token, when not in the environment, comes from the token file
// `$HOME/.coffer-token` (the vault CLI's ~/.vault-token), which `coffer login`
// writes with mode 0600.
//
// Thread safety: the functions read the process environment and are meant for
// the CLI's single thread.

#include <string>

#include "cli/flags.h"
#include "vault/base/status.h"

namespace coffer::cli {

inline constexpr const char* kDefaultAddress = "https://127.0.0.1:8200";

struct ClientConfig {
  std::string address = kDefaultAddress;
  std::string token;  // empty: send no token
  std::string ca_cert;
  std::string ca_path;
  std::string client_cert;
  std::string client_key;
  std::string tls_server_name;  // overrides the host name for SNI and verification
  bool tls_skip_verify = false;

  ClientConfig() = default;
  ClientConfig(const ClientConfig&) = default;
  ClientConfig& operator=(const ClientConfig&) = default;
  // The token is a credential: wiped when the config goes away.
  ~ClientConfig();
};

// COFFER_<name> if set and non-empty, else VAULT_<name>, else "".
std::string env_setting(const char* name);

// Resolves the configuration from the global flags of `flags` (-address,
// -ca-cert, -ca-path, -client-cert, -client-key, -tls-server-name,
// -tls-skip-verify), the environment and the token file. Errors:
// invalid_argument for a malformed boolean (-tls-skip-verify=maybe, or in
// VAULT_SKIP_VERIFY).
Result<ClientConfig> resolve_client_config(const ParsedFlags& flags);

// $HOME/.coffer-token (or the passwd entry's home when HOME is unset).
std::string token_file_path();

// The token stored by `coffer login`, trimmed; "" when there is none.
// not_found is never returned: a missing file simply means no token.
Result<std::string> read_token_file();

// Replaces the token file atomically (temp file + rename) with mode 0600.
// Errors: internal_error naming the file (never the token).
Status write_token_file(const std::string& token);

// Which environment variable currently supplies a token ("COFFER_TOKEN",
// "VAULT_TOKEN"), or "" when the token file would be used.
std::string token_env_variable();

}  // namespace coffer::cli
