#pragma once
// The server configuration file: storage backend, listeners and server-wide settings, read from
// Vault's HCL form or its JSON form and validated in full before the server starts.
//
// Every problem is reported as invalid_argument("<source>:<line>: <what>") naming the offending
// key, e.g. `config.hcl:7: unknown key "tls_cert" in listener "tcp"`; problems without a line
// (a missing storage block) read "<source>: <what>". Messages never include string values from
// the file. Thread safety: the functions are pure apart from load_server_config reading a file.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vault/base/status.h"

namespace coffer::config {

struct ListenerConfig {
  std::string type = "tcp";  // the only supported type
  std::string address = "127.0.0.1:8200";
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  std::string tls_min_version = "tls12";  // "tls12" | "tls13"; tls10/tls11 are refused
  // Plain HTTP only when the file says so explicitly; otherwise cert and key files are required.
  bool tls_disable = false;
  bool tls_require_and_verify_client_cert = false;
  std::uint64_t max_request_size = 32ull
                                   << 20;  // bytes, > 0 (Vault's "negative = unlimited" is refused)
  std::chrono::seconds http_read_header_timeout{10}, http_read_timeout{30}, http_idle_timeout{300};
  std::uint32_t max_json_depth = 300, max_json_strings = 1000;  // request-body JSON limits, > 0
  int line = 0;  // where the block started, for messages
};

struct StorageConfig {
  std::string type;  // "rocksdb" | "inmem"
  std::string path;  // rocksdb only, required
  int line = 0;
};

struct ServerConfig {
  StorageConfig storage;
  std::vector<ListenerConfig> listeners;  // at least one, in file order
  std::string api_addr;
  bool disable_mlock = false;
  // OpenBao's gate after CVE-2025-6000: sys/audit cannot create devices unless this is set.
  bool unsafe_allow_api_audit_creation = false;
  std::chrono::seconds default_lease_ttl{std::chrono::hours{768}};
  std::chrono::seconds max_lease_ttl{std::chrono::hours{768}};
  std::string log_level = "info";  // trace|debug|info|warn|error
};

// Parses and validates a configuration. The text is JSON when its first non-space character is
// '{' (Vault's JSON form: {"storage": {"rocksdb": {"path": ...}}, "listener": {"tcp": {...}}},
// where a block value may also be a list of such objects), HCL otherwise. `source_name` prefixes
// every error message (usually the file path).
//
// Rules beyond the types of each key: exactly one storage block, of type rocksdb (which needs
// `path`) or inmem; at least one listener, of type tcp; a listener without `tls_disable = true`
// needs tls_cert_file and tls_key_file; two listeners may not share an address; client-cert
// verification needs TLS; tls_min_version is tls12 or tls13; durations are a number of seconds
// or a parse_duration string. Booleans take true/false, "true"/"false" or 1/0. Unknown keys,
// repeated keys and extra storage blocks are errors. Vault's `ui` (bool), `cluster_name` and
// `cluster_addr` (strings) are type-checked and otherwise ignored. A lease TTL of 0 means "the
// default", as in Vault; when default_lease_ttl is not set it becomes min(768h, max_lease_ttl), and
// an explicit default_lease_ttl longer than max_lease_ttl is an error.
Result<ServerConfig> parse_server_config(std::string_view text, std::string_view source_name);

// Reads `path` (at most 4 MiB) and parses it with the path as source name. An unreadable file is
// invalid_argument naming the path.
Result<ServerConfig> load_server_config(const std::string& path);

}  // namespace coffer::config
