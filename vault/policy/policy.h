#pragma once
// One ACL policy document: Vault's policy language (HCL or JSON, optionally base64-encoded) plus
// Coffer's per-path `conditions`.
//
//   path "secret/data/app/*" {
//     capabilities        = ["create", "read", "update", "patch", "delete", "list"]
//     allowed_parameters  = { "foo" = [], "bar" = ["zip", "zap*"], "*" = [] }
//     denied_parameters   = { "baz" = [] }
//     required_parameters = ["foo"]
//     min_wrapping_ttl    = "1s"
//     max_wrapping_ttl    = "90s"
//     conditions {
//       identity_kinds = ["human", "agent"]
//       source_cidrs   = ["10.0.0.0/8", "2001:db8::/32"]
//       time_window    = "Mon-Fri 07:00-19:00 UTC"
//       require_mfa    = true
//       require_intent = true
//       max_ttl        = "1h"
//     }
//   }
//
// JSON form: {"path": {"secret/data/app/*": {"capabilities": ["read"]}}}. The legacy
// `policy = "deny"|"read"|"write"|"sudo"` key is accepted (read = read+list; write =
// create+read+update+delete+list; sudo = write+sudo). Top-level keys other than `path` and `name`,
// path keys other than the ones above plus `comment`, unknown capabilities, malformed durations,
// malformed identity templates and invalid conditions are parse errors. Vault Enterprise / OpenBao
// keys Coffer does not implement (`control_group`, `mfa_methods`, `expiration`,
// `pagination_limit`, `list_scan_response_keys_filter_path`) are refused rather than ignored, so a
// restriction is never silently dropped. Conditions cannot be combined with `deny`: a condition
// narrows a grant, and a deny is unconditional.
//
// Errors are invalid_argument("<policy name>:<line>: <what is wrong>"). Messages quote policy
// keys, paths and capability names (policy text is not secret) but never request data.
//
// Thread safety: everything here is a pure function or an immutable value type.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::policy {

// Capabilities as a bitmask. kDeny beats everything, including sudo.
enum Capability : std::uint32_t {
  kDeny = 1u << 0,
  kCreate = 1u << 1,
  kRead = 1u << 2,
  kUpdate = 1u << 3,
  kDelete = 1u << 4,
  kList = 1u << 5,
  kSudo = 1u << 6,
  kPatch = 1u << 7,
  kSubscribe = 1u << 8,  // HashiCorp Vault events; accepted so HV policies parse
  kRecover = 1u << 9,    // HashiCorp Vault 1.20
  kScan = 1u << 10,      // OpenBao
};

// Every grantable capability (everything but kDeny).
inline constexpr std::uint32_t kAllCapabilities =
    kCreate | kRead | kUpdate | kDelete | kList | kSudo | kPatch | kSubscribe | kRecover | kScan;

// "read" -> kRead; nullopt for an unknown name. Case-sensitive, as in Vault.
std::optional<Capability> capability_from_name(std::string_view name);
// kRead -> "read".
std::string_view capability_name(Capability capability);
// Sorted names of the bits in `bits`, Vault's sys/capabilities shape: ["deny"] when kDeny is set
// or no capability is.
std::vector<std::string> capability_names(std::uint32_t bits);

// Coffer identity kinds (ARCHITECTURE.md §5).
enum class IdentityKind { kHuman, kWorkload, kAutomation, kAgent };
std::optional<IdentityKind> identity_kind_from_name(std::string_view name);
std::string_view identity_kind_name(IdentityKind kind);

// An IPv4 or IPv6 network in CIDR form. A bare address is a host network (/32 or /128); host bits
// below the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).
class IpNetwork {
 public:
  static Result<IpNetwork> parse(std::string_view cidr);

  // Whether `address` (an IP literal, optionally "[v6]" or with a "%zone") lies inside. An
  // IPv4-mapped IPv6 address ("::ffff:10.1.2.3") is treated as the IPv4 address. Unparseable
  // text is never inside.
  bool contains(std::string_view address) const;

  // Canonical "address/prefix".
  std::string to_string() const;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 uses the first 4
  int prefix_length_ = 0;
};

// A weekly UTC time window: "[days ]HH:MM-HH:MM UTC".
//   days: a day ("Mon"), a range ("Mon-Fri", "Fri-Mon" wraps over the weekend), or a comma list
//   of those ("Mon,Wed,Fri-Sat"); case-insensitive three-letter names; absent = every day.
//   times: 00:00..23:59 start, 00:01..24:00 end; start == end is refused. A window whose end is
//   before its start crosses midnight and belongs to the day it starts on ("Fri 22:00-02:00 UTC"
//   covers Friday 22:00 to Saturday 02:00).
//   zone: only "UTC" (refused otherwise, so no policy depends on a local time-zone database).
class TimeWindow {
 public:
  static Result<TimeWindow> parse(std::string_view text);

  bool contains(std::chrono::system_clock::time_point when) const;

  // The window as written in the policy.
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::array<bool, 7> days_{};  // indexed like std::chrono::weekday::c_encoding(): 0 = Sunday
  int start_minute_ = 0;
  int end_minute_ = 0;
};

// Coffer's request-time conditions on one path stanza. Unset members impose nothing.
struct Conditions {
  std::vector<IdentityKind> identity_kinds;  // the caller's kind must be one of these
  std::vector<IpNetwork> source_cidrs;       // the caller's address must be inside one
  std::vector<TimeWindow> time_windows;      // now must be inside one (a string or a list)
  bool require_mfa = false;                  // the request must carry validated MFA
  bool require_intent = false;               // the request must state an intent
  std::chrono::seconds max_ttl{0};           // the requested TTL must not exceed this (0 = unset)

  bool empty() const {
    return identity_kinds.empty() && source_cidrs.empty() && time_windows.empty() && !require_mfa &&
           !require_intent && max_ttl.count() == 0;
  }
};

// Parameter name (lower-cased) -> allowed or denied values. An empty list means any value.
// String values may be globs with a leading and/or trailing `*`.
using ParameterRules = std::map<std::string, std::vector<nlohmann::json>>;

// One `path "<pattern>" { ... }` stanza as written (templates not yet rendered).
struct PathRule {
  std::string path;                // pattern with one leading '/' removed; may hold {{templates}}
  int line = 0;                    // line of the stanza in the policy text
  std::uint32_t capabilities = 0;  // exactly kDeny when the stanza denies
  ParameterRules allowed_parameters;
  ParameterRules denied_parameters;
  std::vector<std::string> required_parameters;  // lower-cased
  std::chrono::seconds min_wrapping_ttl{0};
  std::chrono::seconds max_wrapping_ttl{0};
  Conditions conditions;
  bool templated = false;  // path contains {{identity...}} templates
};

// The identity a templated policy is rendered for (vault-api.md §6.5).
struct TemplateContext {
  struct Alias {
    std::string id;
    std::string name;
    std::map<std::string, std::string> metadata;
    std::map<std::string, std::string> custom_metadata;
  };
  struct Group {
    std::string id;
    std::string name;
    std::map<std::string, std::string> metadata;
  };

  std::string entity_id;  // empty = no entity: every templated stanza is dropped
  std::string entity_name;
  std::map<std::string, std::string> entity_metadata;
  std::map<std::string, Alias> aliases;  // keyed by auth mount accessor
  std::vector<Group> groups;
};

// Renders the {{...}} templates in a policy path for `identity`. Supported selectors:
//   identity.entity.id | identity.entity.name | identity.entity.metadata.<key>
//   identity.entity.aliases.<mount accessor>.id | .name | .metadata.<key> | .custom_metadata.<key>
//   identity.groups.ids.<group id>.name | .metadata.<key>
//   identity.groups.names.<group name>.id | .metadata.<key>
// Returns nullopt - the stanza must be dropped - when a template cannot be resolved (no entity,
// missing key) or when a substituted value could widen the grant: a value that is empty, is or
// contains "..", or contains `*`, `+`, `/`, `,` or a control character (GHSA-59w7-v8rr-pr4p).
// Substitution is single-pass: a value that itself looks like a template stays literal.
std::optional<std::string> render_path_template(std::string_view path,
                                                const TemplateContext& identity);

// Checks template syntax and selectors without rendering; sets *templated when the path has any.
// Errors: invalid_argument describing the bad template (no line; the caller adds it).
Status validate_path_template(std::string_view path, bool* templated);

// A parsed policy. Immutable; cheap to share by pointer.
class Policy {
 public:
  const std::string& name() const { return name_; }
  // The policy text as stored and read back (base64 input is stored decoded, like Vault).
  const std::string& text() const { return text_; }
  const std::vector<PathRule>& rules() const { return rules_; }
  // Whether any path uses identity templates (the ACL must then be built per entity).
  bool templated() const { return templated_; }
  // Only root_policy() is root; no parsed text can produce it.
  bool is_root() const { return root_; }

 private:
  friend Result<Policy> parse_policy(std::string_view name, std::string_view text);
  friend Policy root_policy();

  std::string name_;
  std::string text_;
  std::vector<PathRule> rules_;
  bool templated_ = false;
  bool root_ = false;
};

inline constexpr std::string_view kRootPolicyName = "root";
inline constexpr std::string_view kDefaultPolicyName = "default";
inline constexpr std::string_view kResponseWrappingPolicyName = "response-wrapping";

// Trims surrounding whitespace and lower-cases (Vault does both; CVE-2025-5999 came from names
// that were not lower-cased). Valid names are 1..128 characters of [a-z0-9._@:-] and not "." or
// "..". Errors: invalid_argument naming the rule broken.
Result<std::string> normalize_policy_name(std::string_view name);

// A list of policy names as tokens, roles and entities keep it: lower-cased, without empty
// names, sorted, each once.
std::vector<std::string> normalize_policy_list(std::vector<std::string> names);

// Parses a policy. `name` is normalized as above; "root" is refused (the root policy is built in
// and immutable). `text` is HCL, JSON (first non-space character `{`), or either of those
// base64-encoded (standard alphabet, padded; tried first, as Vault does).
Result<Policy> parse_policy(std::string_view name, std::string_view text);

// The built-in root marker: an ACL containing it allows everything.
Policy root_policy();

// The text of Vault's built-in `default` policy (vault-api.md §6.6), used to seed a new vault.
std::string_view built_in_default_policy_text();

// The text of Vault's internal `response-wrapping` policy attached to wrapping tokens.
std::string_view built_in_response_wrapping_policy_text();

}  // namespace coffer::policy
