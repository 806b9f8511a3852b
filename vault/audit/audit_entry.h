#pragma once
// The audit entries of one request (Vault's schema, vault-api.md §7, plus
// Coffer's identity kind, intent and policy results), rendered for one device.
//
// Every string value in request and response data - and every number and
// boolean, which Vault leaves in clear - is replaced by the device's HMAC
// (unless the device logs raw), as are tokens and, by default, accessors.
// Map keys, paths, policies and times stay readable: they answer "who did what".

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/audit/audit_hmac.h"
#include "vault/core/api.h"

namespace coffer::audit {

struct AuditAuth {
  std::string client_token;  // as presented; hashed on output
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
};

struct EntryOptions {
  bool hmac_accessor = true;
  bool log_raw = false;
  bool elide_list_responses = false;
};

// One JSON object each (no chain framing), `time` in RFC 3339 with nanoseconds.
nlohmann::json request_entry(const AuditRecord& record, const AuditHmac& hmac,
                             const EntryOptions& options, const std::string& time);
nlohmann::json response_entry(const AuditRecord& record, const api::Response& response,
                              const AuditHmac& hmac, const EntryOptions& options,
                              const std::string& time);

}  // namespace coffer::audit
