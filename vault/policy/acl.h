#pragma once
// Acl: the policies attached to one token compiled into a decision function, with Vault's exact
// matching rules (vault-api.md §6.3-6.5) plus Coffer's conditions.
//
// Matching, for a request path:
//  1. an exact stanza wins outright;
//  2. otherwise, among the `*`-suffix (prefix) and `+` (one whole segment) stanzas that match,
//     exactly ONE is chosen, by Vault's ordered rules - the first `+`/`*` later in the pattern
//     wins; a pattern not ending in `*` beats one that does; fewer `+` segments win; the longer
//     pattern (without the trailing `*`) wins; the lexicographically larger wins - and only that
//     stanza applies, with no fallback to a lower one;
//  3. no match denies.
// The same pattern in several policies (or twice in one) is one stanza: capabilities are
// unioned, parameter rules merged (a key with `[]` on either side allows/denies any value),
// required parameters unioned, and the lowest non-zero wrapping TTL bounds kept. `deny` on a
// pattern in any policy makes that pattern deny-only.
//
// LIST: paths of list operations end in '/' (authorize() appends it when missing). An exact
// stanza for the path with or without the slash matches. Otherwise the best wildcard stanza is
// found both for the path with and without the slash; if either of the two is a deny, the request
// is denied (the OpenBao LIST bypass, GHSA-xp3c-3jw3-4vcr, came from taking the slash-less match
// alone); else the higher-priority of the two applies.
//
// Conditions belong to the grant of one policy on one pattern. Only the winning stanza's are
// evaluated: grants whose conditions fail are left out of the union, so a failing condition can
// only take away what its own grant gave. When the needed capability was offered only by grants
// whose conditions failed, the decision's reason names the pattern and the first failing
// condition.
//
// Parameter rules apply to create, update and patch (as in HashiCorp Vault). Deliberate
// hardening over Vault: a request value that is a list, or a string containing commas (Vault
// endpoints read both as lists), is checked element by element - every element must be allowed,
// and any denied element denies - so "default,root" cannot slip past a denied "root".
//
// Templated paths are rendered once, at build, for the given identity; a stanza whose template
// cannot be resolved, or whose substituted value could widen it, is dropped (see
// render_path_template).
//
// Thread safety: an Acl is immutable after build(); all const methods may run concurrently.
// Copies share the compiled rules.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"
#include "vault/core/api.h"
#include "vault/policy/policy.h"

namespace coffer::policy {

// What the core knows about a request when it authorizes it.
struct RequestContext {
  std::string path;  // logical path, no leading '/'; list paths end in '/'
  api::Operation operation = api::Operation::kRead;
  const nlohmann::json* data = nullptr;  // request parameters (object) or null; not retained
  bool sudo_required = false;            // root-protected path (vault-api.md §1.8)

  // For conditions.
  std::string identity_kind;  // "human", "workload", "automation", "agent" or "" (unknown)
  std::string source_ip;      // the client's address, e.g. "10.1.2.3" or "2001:db8::1"
  std::chrono::system_clock::time_point now{};  // the request time (from the core's Clock)
  bool mfa_validated = false;
  std::string intent;                     // X-Coffer-Intent, "" when absent
  std::chrono::seconds requested_ttl{0};  // TTL the request asks for; 0 = none asked
};

struct Decision {
  bool allowed = false;
  bool root = false;  // granted by the root policy (implies sudo everywhere)
  // Why: the winning pattern and what granted or failed. Names patterns, policies, capabilities,
  // conditions and parameter names - never request values.
  std::string reason;
  std::string matched_pattern;  // the winning stanza's pattern ("" when none matched, or root)
  std::string policy_name;      // first policy granting the operation, or the one denying it
  std::vector<std::string> granting_policies;  // every policy granting it (audit)
  std::uint32_t capabilities = 0;  // of the winning stanza, after conditions (kDeny if denied)
  // Response-wrapping bounds of the winning stanza (0 = unset); see wrapping_ttl_allows.
  std::chrono::seconds min_wrapping_ttl{0};
  std::chrono::seconds max_wrapping_ttl{0};
  // The largest TTL the granting stanzas allow (conditions max_ttl); 0 = no limit. The core
  // clamps the TTL it issues when the request did not ask for one.
  std::chrono::seconds max_ttl{0};

  // Vault's wrapping check: with a max (min) set, the response must be wrapped with a TTL no
  // longer (shorter) than it. `wrap_ttl` 0 = the request is not wrapped.
  bool wrapping_ttl_allows(std::chrono::seconds wrap_ttl) const;
};

class Acl {
 public:
  // An ACL that denies everything.
  Acl();

  // Compiles `policies` (null entries are skipped) for `identity`. The root policy must be the
  // only one (as in Vault). Errors: internal_error when root is combined with other policies.
  static Result<Acl> build(std::span<const Policy* const> policies,
                           const TemplateContext& identity);
  static Result<Acl> build(std::span<const Policy> policies, const TemplateContext& identity);

  Decision authorize(const RequestContext& request) const;

  // The capabilities the winning stanza grants on `path`, looked up as a LIST would be (Vault's
  // sys/capabilities behaviour). Conditions are not evaluated: a listed capability may still be
  // refused at request time. kDeny for a deny stanza; 0 for no match; kAllCapabilities for root.
  std::uint32_t capabilities(std::string_view path) const;
  // The same as sorted names: ["root"] for root, ["deny"] for deny or nothing.
  std::vector<std::string> capability_names(std::string_view path) const;

  bool is_root() const;

  struct Compiled;

 private:
  explicit Acl(std::shared_ptr<const Compiled> compiled);

  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace coffer::policy
