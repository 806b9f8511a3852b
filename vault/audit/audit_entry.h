#pragma once
// The audit entries of one request (Vault's schema, vault-api.md §7, plus
// Coffer's identity kind, intent and policy results), rendered for one device.
//
// Every string value in request and response data - and every number and
// boolean, which Vault leaves in clear - is replaced by the device's HMAC
// (unless the device logs raw), as are tokens and, by default, accessors.
// Map keys, paths, policies and times stay readable: they answer "who did what".

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/audit/audit_hmac.h"
#include "vault/core/api.h"

namespace coffer::audit {

struct AuditAuth {
  std::string client_token;  // as presented; hashed on output
  std::string token_key;     // the token's salted storage hash: keys per-thread HMAC caches
  std::string accessor;
  std::string display_name;
  std::string entity_id;
  std::string identity_kind;
  std::string token_type;
  std::vector<std::string> policies;
  std::vector<std::string> token_policies;
  std::vector<std::string> identity_policies;
  std::map<std::string, std::string> metadata;
};

struct PolicyResults {
  bool allowed = false;
  std::vector<std::string> granting_policies;
  std::string matched_pattern;
  std::string reason;
};

// What the core knows about a request when it records it.
struct AuditRecord {
  std::string id;  // request id, the same in the request and the response entry
  const api::Request* request = nullptr;
  std::optional<AuditAuth> auth;
  std::optional<PolicyResults> policy;
  std::string mount_point;
  std::string mount_type;
  std::string error;  // why the request was refused, when it was
  // The "auth" and "request" sections as each device rendered them for the request entry,
  // reused by the response entry (keyed by device serial).
  mutable std::vector<std::pair<std::uint64_t, std::string>> rendered_sections;
};

struct EntryOptions {
  bool hmac_accessor = true;
  bool log_raw = false;
  bool elide_list_responses = false;
};

// One device's way of hashing: its key, its options, and a serial number unique to the
// device for the life of the process (per-thread caches are keyed by it).
struct DeviceHashing {
  const AuditHmac& hmac;
  const EntryOptions& options;
  std::uint64_t serial;
};

// Entries as JSON object text (no chain framing), `time` in RFC 3339 with nanoseconds.
std::string request_entry(const AuditRecord& record, const DeviceHashing& device,
                          std::string_view time);
std::string response_entry(const AuditRecord& record, const api::Response& response,
                           const DeviceHashing& device, std::string_view time);
// The "auth" and "request" members of an entry (for lifecycle events), as JSON members text.
std::string entry_sections(const AuditRecord& record, const DeviceHashing& device);

}  // namespace coffer::audit
