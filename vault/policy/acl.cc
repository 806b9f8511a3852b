#include "vault/policy/acl.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

#include "vault/base/duration.h"

namespace coffer::policy {

// The compiled rules. Nested here (not in an anonymous namespace) because Acl holds them.
struct Acl::Compiled {
  // One policy's contribution to a pattern.
  struct Grant {
    std::string policy;
    std::uint32_t capabilities = 0;
    ParameterRules allowed;
    ParameterRules denied;
    std::vector<std::string> required;
    std::chrono::seconds min_wrapping_ttl{0};
    std::chrono::seconds max_wrapping_ttl{0};
    Conditions conditions;
  };

  // The merged view of a set of grants.
  struct Permissions {
    std::uint32_t capabilities = 0;
    ParameterRules allowed;
    ParameterRules denied;
    std::vector<std::string> required;
    std::chrono::seconds min_wrapping_ttl{0};
    std::chrono::seconds max_wrapping_ttl{0};
  };

  enum class Shape { kExact, kPrefix, kSegment };

  // One pattern, with every policy's contribution.
  struct Stanza {
    std::string pattern;
    Shape shape = Shape::kExact;
    // Priority inputs for non-exact patterns (Vault's wcPathDescr).
    std::string wildcard_path;          // pattern without its trailing '*'
    std::vector<std::string> segments;  // wildcard_path split on '/' (kSegment)
    int first_wildcard = 0;             // index of the first '+', or the prefix length
    int plus_segments = 0;              // segments that are exactly "+"
    bool is_prefix = false;             // ends in '*'

    bool denied = false;
    std::string deny_policy;
    std::vector<Grant> grants;  // empty when denied
    bool conditional = false;   // some grant has conditions
    Permissions merged;         // all grants merged; used when !conditional
  };

  bool root = false;
  std::vector<Stanza> stanzas;
  std::unordered_map<std::string, std::size_t> exact;  // pattern -> stanza index
  std::vector<std::size_t> wildcards;                  // prefix and segment stanzas
  bool has_segment_patterns = false;
};

namespace {

using Compiled = Acl::Compiled;
using Stanza = Compiled::Stanza;
using Grant = Compiled::Grant;
using Permissions = Compiled::Permissions;

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A request-supplied parameter name for a reason: names are not values, but bound their size.
std::string parameter_label(std::string_view name) {
  constexpr std::size_t kMax = 64;
  std::string out = to_lower(name.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"') c = '?';
  }
  if (name.size() > kMax) out += "...";
  return in_quotes(out);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    path.remove_prefix(slash + 1);
  }
}

void shape_stanza(Stanza& s) {
  const std::string& p = s.pattern;
  const bool segment = p == "+" || p.find("/+") != std::string::npos || p.starts_with("+/");
  s.is_prefix = p.ends_with('*');
  if (!segment && !s.is_prefix) {
    s.shape = Compiled::Shape::kExact;
    return;
  }
  s.wildcard_path = s.is_prefix ? p.substr(0, p.size() - 1) : p;
  if (segment) {
    s.shape = Compiled::Shape::kSegment;
    s.first_wildcard = static_cast<int>(p.find('+'));
    for (std::string_view part : split_path(s.wildcard_path)) {
      s.segments.emplace_back(part);
      if (part == "+") ++s.plus_segments;
    }
  } else {
    s.shape = Compiled::Shape::kPrefix;
    s.first_wildcard = static_cast<int>(s.wildcard_path.size());
  }
}

// Vault's order: true when `a` has lower priority than `b`.
bool lower_priority(const Stanza& a, const Stanza& b) {
  if (a.first_wildcard != b.first_wildcard) return a.first_wildcard < b.first_wildcard;
  if (a.is_prefix != b.is_prefix) return a.is_prefix;
  if (a.plus_segments != b.plus_segments) return a.plus_segments > b.plus_segments;
  if (a.wildcard_path.size() != b.wildcard_path.size()) {
    return a.wildcard_path.size() < b.wildcard_path.size();
  }
  return a.wildcard_path < b.wildcard_path;
}

bool wildcard_matches(const Stanza& s, std::string_view path,
                      const std::vector<std::string_view>& parts) {
  if (s.shape == Compiled::Shape::kPrefix) return path.starts_with(s.wildcard_path);
  if (parts.size() < s.segments.size()) return false;
  if (!s.is_prefix && parts.size() != s.segments.size()) return false;
  for (std::size_t i = 0; i < s.segments.size(); ++i) {
    const std::string& seg = s.segments[i];
    if (seg == "+" || seg == parts[i]) continue;
    if (s.is_prefix && i + 1 == s.segments.size() && parts[i].starts_with(seg)) continue;
    return false;
  }
  return true;
}

const Stanza* best_wildcard(const Compiled& c, std::string_view path) {
  std::vector<std::string_view> parts;
  if (c.has_segment_patterns) parts = split_path(path);
  const Stanza* best = nullptr;
  for (std::size_t index : c.wildcards) {
    const Stanza& s = c.stanzas[index];
    if (!wildcard_matches(s, path, parts)) continue;
    if (best == nullptr || lower_priority(*best, s)) best = &s;
  }
  return best;
}

const Stanza* find_exact(const Compiled& c, const std::string& path) {
  const auto it = c.exact.find(path);
  return it == c.exact.end() ? nullptr : &c.stanzas[it->second];
}

// The single stanza that governs `raw_path`.
const Stanza* find_stanza(const Compiled& c, std::string_view raw_path, bool list) {
  // Defence in depth: the router already strips leading slashes.
  while (raw_path.starts_with('/')) raw_path.remove_prefix(1);
  const std::string path(raw_path);
  if (const Stanza* s = find_exact(c, path)) return s;
  if (!list || !path.ends_with('/')) return best_wildcard(c, path);
  const std::string without_slash = path.substr(0, path.size() - 1);
  if (const Stanza* s = find_exact(c, without_slash)) return s;
  const Stanza* a = best_wildcard(c, without_slash);
  const Stanza* b = best_wildcard(c, path);
  if (a != nullptr && a->denied) return a;
  if (b != nullptr && b->denied) return b;
  if (a == nullptr) return b;
  if (b == nullptr) return a;
  return lower_priority(*a, *b) ? b : a;
}

void merge_parameters(ParameterRules& into, const ParameterRules& from) {
  for (const auto& [key, values] : from) {
    auto it = into.find(key);
    if (it == into.end()) {
      into.emplace(key, values);
    } else if (values.empty() || it->second.empty()) {
      it->second.clear();  // [] on either side: any value
    } else {
      it->second.insert(it->second.end(), values.begin(), values.end());
    }
  }
}

// Vault's merge of one more policy's permissions on the same pattern.
void merge(Permissions& into, const Grant& g) {
  into.capabilities |= g.capabilities;
  if (g.max_wrapping_ttl.count() > 0 &&
      (into.max_wrapping_ttl.count() == 0 || g.max_wrapping_ttl < into.max_wrapping_ttl)) {
    into.max_wrapping_ttl = g.max_wrapping_ttl;
  }
  if (g.min_wrapping_ttl.count() > 0 &&
      (into.min_wrapping_ttl.count() == 0 || g.min_wrapping_ttl < into.min_wrapping_ttl)) {
    into.min_wrapping_ttl = g.min_wrapping_ttl;
  }
  merge_parameters(into.allowed, g.allowed);
  merge_parameters(into.denied, g.denied);
  for (const std::string& r : g.required) {
    if (std::ranges::find(into.required, r) == into.required.end()) into.required.push_back(r);
  }
}

std::uint32_t capability_for(api::Operation op) {
  switch (op) {
    case api::Operation::kRead:
      return kRead;
    case api::Operation::kList:
      return kList;
    case api::Operation::kCreate:
      return kCreate;
    case api::Operation::kUpdate:
      return kUpdate;
    case api::Operation::kPatch:
      return kPatch;
    case api::Operation::kDelete:
      return kDelete;
    case api::Operation::kHead:
      return 0;
  }
  return 0;
}

template <typename T, typename F>
std::string join(const std::vector<T>& items, F&& to_text) {
  std::string out;
  for (const T& item : items) {
    if (!out.empty()) out += ", ";
    out += to_text(item);
  }
  return out;
}

// "" when every condition holds, else the first failing one, e.g.
// `condition time_window "Mon-Fri 07:00-19:00 UTC" not met`.
std::string failed_condition(const Conditions& c, const RequestContext& r) {
  if (!c.identity_kinds.empty()) {
    const std::optional<IdentityKind> kind = identity_kind_from_name(r.identity_kind);
    if (!kind.has_value() || std::ranges::find(c.identity_kinds, *kind) == c.identity_kinds.end()) {
      return "condition identity_kinds [" +
             join(c.identity_kinds,
                  [](IdentityKind k) { return std::string(identity_kind_name(k)); }) +
             "] not met";
    }
  }
  if (!c.source_cidrs.empty() && std::ranges::none_of(c.source_cidrs, [&](const IpNetwork& n) {
        return n.contains(r.source_ip);
      })) {
    return "condition source_cidrs [" +
           join(c.source_cidrs, [](const IpNetwork& n) { return n.to_string(); }) + "] not met";
  }
  if (!c.time_windows.empty() && std::ranges::none_of(c.time_windows, [&](const TimeWindow& w) {
        return w.contains(r.now);
      })) {
    return "condition time_window " +
           join(c.time_windows, [](const TimeWindow& w) { return in_quotes(w.text()); }) +
           " not met";
  }
  if (c.require_mfa && !r.mfa_validated) return "condition require_mfa not met";
  if (c.require_intent && trim(r.intent).empty()) return "condition require_intent not met";
  if (c.max_ttl.count() > 0 && r.requested_ttl > c.max_ttl) {
    return "condition max_ttl " + in_quotes(format_duration(c.max_ttl)) + " not met";
  }
  return "";
}

// Go's strutil.GlobbedStringsMatch: a leading and/or trailing '*' globs; a lone "*" is literal.
bool glob_match(std::string_view pattern, std::string_view value) {
  if (pattern.size() < 2) return value == pattern;
  const bool leading = pattern.front() == '*';
  const bool trailing = pattern.back() == '*';
  if (leading && trailing) {
    return value.find(pattern.substr(1, pattern.size() - 2)) != std::string_view::npos;
  }
  if (leading) return value.ends_with(pattern.substr(1));
  if (trailing) return value.starts_with(pattern.substr(0, pattern.size() - 1));
  return value == pattern;
}

bool element_matches(const nlohmann::json& rule, const nlohmann::json& value) {
  if (rule.is_string() && value.is_string()) {
    return glob_match(rule.get_ref<const std::string&>(), value.get_ref<const std::string&>());
  }
  return rule == value;  // numbers compare by value across integer/float
}

bool any_matches(const std::vector<nlohmann::json>& rules, const nlohmann::json& value) {
  return std::ranges::any_of(rules,
                             [&](const nlohmann::json& r) { return element_matches(r, value); });
}

// The non-empty, trimmed pieces of a comma-separated string.
std::vector<std::string> comma_pieces(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = s.find(',');
    const std::string_view piece = trim(s.substr(0, comma));
    if (!piece.empty()) out.emplace_back(piece);
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

bool value_allowed(const nlohmann::json& value, const std::vector<nlohmann::json>& rules) {
  if (rules.empty()) return true;
  if (value.is_array()) {
    if (any_matches(rules, value)) return true;
    return std::ranges::all_of(value,
                               [&](const nlohmann::json& v) { return any_matches(rules, v); });
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.find(',') != std::string::npos) {
      // Listed verbatim is fine; otherwise a glob must not cover "allowed,extra": each piece
      // must be allowed on its own.
      const bool verbatim = std::ranges::any_of(
          rules, [&](const nlohmann::json& r) { return r.is_string() && r == value; });
      if (verbatim) return true;
      return std::ranges::all_of(comma_pieces(s), [&](const std::string& piece) {
        return any_matches(rules, nlohmann::json(piece));
      });
    }
  }
  return any_matches(rules, value);
}

bool value_denied(const nlohmann::json& value, const std::vector<nlohmann::json>& rules) {
  if (rules.empty()) return true;
  if (any_matches(rules, value)) return true;
  if (value.is_array()) {
    return std::ranges::any_of(value,
                               [&](const nlohmann::json& v) { return value_denied(v, rules); });
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.find(',') != std::string::npos) {
      return std::ranges::any_of(comma_pieces(s), [&](const std::string& piece) {
        return any_matches(rules, nlohmann::json(piece));
      });
    }
  }
  return false;
}

// "" when the request's parameters satisfy `p`, else what is wrong.
std::string parameter_violation(const Permissions& p, const nlohmann::json* data) {
  const bool object = data != nullptr && data->is_object();
  for (const std::string& name : p.required) {
    if (!object || !data->contains(name))
      return "required parameter " + in_quotes(name) + " missing";
  }
  if (!object || data->empty()) return "";
  if (!p.denied.empty()) {
    if (p.denied.contains("*")) return "all parameters are denied";
    for (const auto& [key, value] : data->items()) {
      const auto it = p.denied.find(to_lower(key));
      if (it != p.denied.end() && value_denied(value, it->second)) {
        return "parameter " + parameter_label(key) + " denied";
      }
    }
  }
  if (p.allowed.empty()) return "";
  const bool any_key = p.allowed.contains("*");
  if (any_key && p.allowed.size() == 1) return "";
  for (const auto& [key, value] : data->items()) {
    const auto it = p.allowed.find(to_lower(key));
    if (it == p.allowed.end()) {
      if (!any_key) return "parameter " + parameter_label(key) + " not allowed";
      continue;
    }
    if (!value_allowed(value, it->second)) {
      return "value of parameter " + parameter_label(key) + " not allowed";
    }
  }
  return "";
}

std::string denied_by(const Stanza& s, std::string_view what) {
  return "denied by path " + in_quotes(s.pattern) + ": " + std::string(what);
}

}  // namespace

bool Decision::wrapping_ttl_allows(std::chrono::seconds wrap_ttl) const {
  const bool wrapped = wrap_ttl.count() > 0;
  if (max_wrapping_ttl.count() > 0 && (!wrapped || wrap_ttl > max_wrapping_ttl)) return false;
  if (min_wrapping_ttl.count() > 0 && (!wrapped || wrap_ttl < min_wrapping_ttl)) return false;
  // Possible after merging, though a single stanza is checked at parse time.
  if (min_wrapping_ttl.count() > 0 && max_wrapping_ttl.count() > 0 &&
      max_wrapping_ttl < min_wrapping_ttl) {
    return false;
  }
  return true;
}

Acl::Acl() : compiled_(std::make_shared<const Compiled>()) {}

Acl::Acl(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

bool Acl::is_root() const { return compiled_->root; }

Result<Acl> Acl::build(std::span<const Policy> policies, const TemplateContext& identity) {
  std::vector<const Policy*> pointers;
  pointers.reserve(policies.size());
  for (const Policy& p : policies) pointers.push_back(&p);
  return build(std::span<const Policy* const>(pointers), identity);
}

Result<Acl> Acl::build(std::span<const Policy* const> policies, const TemplateContext& identity) {
  auto c = std::make_shared<Compiled>();
  const auto present =
      std::ranges::count_if(policies, [](const Policy* p) { return p != nullptr; });
  std::unordered_map<std::string, std::size_t> by_pattern;

  for (const Policy* policy : policies) {
    if (policy == nullptr) continue;
    if (policy->is_root()) {
      if (present != 1) return fail(internal_error("other policies present along with root"));
      c->root = true;
      continue;
    }
    for (const PathRule& rule : policy->rules()) {
      std::string pattern = rule.path;
      if (rule.templated) {
        std::optional<std::string> rendered = render_path_template(rule.path, identity);
        if (!rendered.has_value()) continue;  // unresolvable or unsafe: the stanza never applies
        pattern = std::move(*rendered);
        if (pattern.starts_with('/')) pattern.erase(0, 1);
        if (pattern.empty() || pattern.find("+*") != std::string::npos) continue;
      }
      auto [slot, inserted] = by_pattern.try_emplace(pattern, c->stanzas.size());
      if (inserted) {
        Stanza s;
        s.pattern = pattern;
        shape_stanza(s);
        c->stanzas.push_back(std::move(s));
      }
      Stanza& s = c->stanzas[slot->second];
      if (s.denied) continue;  // deny already wins on this pattern
      if ((rule.capabilities & kDeny) != 0) {
        s.denied = true;
        s.deny_policy = policy->name();
        s.grants.clear();
        continue;
      }
      s.grants.push_back(Grant{policy->name(), rule.capabilities, rule.allowed_parameters,
                               rule.denied_parameters, rule.required_parameters,
                               rule.min_wrapping_ttl, rule.max_wrapping_ttl, rule.conditions});
    }
  }

  for (std::size_t i = 0; i < c->stanzas.size(); ++i) {
    Stanza& s = c->stanzas[i];
    s.conditional =
        std::ranges::any_of(s.grants, [](const Grant& g) { return !g.conditions.empty(); });
    for (const Grant& g : s.grants) merge(s.merged, g);
    if (s.shape == Compiled::Shape::kExact) {
      c->exact.emplace(s.pattern, i);
    } else {
      c->wildcards.push_back(i);
      if (s.shape == Compiled::Shape::kSegment) c->has_segment_patterns = true;
    }
  }
  return Acl(std::move(c));
}

Decision Acl::authorize(const RequestContext& request) const {
  Decision d;
  const Compiled& c = *compiled_;
  if (c.root) {
    d.allowed = true;
    d.root = true;
    d.capabilities = kAllCapabilities;
    d.policy_name = std::string(kRootPolicyName);
    d.granting_policies = {d.policy_name};
    d.reason = "granted by the root policy";
    return d;
  }
  const std::uint32_t needed = capability_for(request.operation);
  if (needed == 0) {
    d.reason = "operation is not subject to policy grants";
    return d;
  }
  const bool list = request.operation == api::Operation::kList;
  const Stanza* s = nullptr;
  if (list && !request.path.empty() && !request.path.ends_with('/')) {
    // LIST paths are canonical with the slash (Vault's HTTP layer appends it); a caller that
    // forgot must not get the laxer slash-less lookup alone.
    s = find_stanza(c, request.path + "/", list);
  } else {
    s = find_stanza(c, request.path, list);
  }
  if (s == nullptr) {
    d.reason = "no policy grants access to this path";
    return d;
  }
  d.matched_pattern = s->pattern;
  if (s->denied) {
    d.capabilities = kDeny;
    d.policy_name = s->deny_policy;
    d.reason = denied_by(*s, "explicit deny in policy " + in_quotes(s->deny_policy));
    return d;
  }

  // The grants that apply to this request: all of them, or those whose conditions hold.
  std::vector<const Grant*> applying;
  std::vector<std::pair<const Grant*, std::string>> failing;
  Permissions conditional_merge;
  const Permissions* perms = &s->merged;
  if (s->conditional) {
    for (const Grant& g : s->grants) {
      std::string why = failed_condition(g.conditions, request);
      if (why.empty()) {
        applying.push_back(&g);
        merge(conditional_merge, g);
      } else {
        failing.emplace_back(&g, std::move(why));
      }
    }
    perms = &conditional_merge;
  } else {
    for (const Grant& g : s->grants) applying.push_back(&g);
  }
  d.capabilities = perms->capabilities;

  const std::uint32_t wanted = needed | (request.sudo_required ? kSudo : 0u);
  if (const std::uint32_t missing = wanted & ~perms->capabilities; missing != 0) {
    for (const auto& [grant, why] : failing) {
      if ((grant->capabilities & missing) != 0) {
        d.policy_name = grant->policy;
        d.reason = denied_by(*s, why);
        return d;
      }
    }
    if ((missing & needed) != 0) {
      d.reason = denied_by(*s, "capability " +
                                   in_quotes(capability_name(static_cast<Capability>(needed))) +
                                   " not granted");
    } else {
      d.reason = denied_by(*s, "path is root-protected and \"sudo\" is not granted");
    }
    return d;
  }

  const bool writes = request.operation == api::Operation::kCreate ||
                      request.operation == api::Operation::kUpdate ||
                      request.operation == api::Operation::kPatch;
  if (writes) {
    if (std::string why = parameter_violation(*perms, request.data); !why.empty()) {
      d.reason = denied_by(*s, why);
      return d;
    }
  }

  d.allowed = true;
  bool unlimited_ttl = false;
  for (const Grant* g : applying) {
    if ((g->capabilities & needed) == 0) continue;
    if (std::ranges::find(d.granting_policies, g->policy) == d.granting_policies.end()) {
      d.granting_policies.push_back(g->policy);
    }
    if (g->conditions.max_ttl.count() == 0) {
      unlimited_ttl = true;
    } else {
      d.max_ttl = std::max(d.max_ttl, g->conditions.max_ttl);
    }
  }
  if (unlimited_ttl) d.max_ttl = std::chrono::seconds(0);
  if (!d.granting_policies.empty()) d.policy_name = d.granting_policies.front();
  d.min_wrapping_ttl = perms->min_wrapping_ttl;
  d.max_wrapping_ttl = perms->max_wrapping_ttl;
  d.reason = "granted by path " + in_quotes(s->pattern);
  return d;
}

std::uint32_t Acl::capabilities(std::string_view path) const {
  const Compiled& c = *compiled_;
  if (c.root) return kAllCapabilities;
  const Stanza* s = find_stanza(c, path, /*list=*/true);
  if (s == nullptr) return 0;
  if (s->denied) return kDeny;
  return s->merged.capabilities;
}

std::vector<std::string> Acl::capability_names(std::string_view path) const {
  if (compiled_->root) return {std::string(kRootPolicyName)};
  return policy::capability_names(capabilities(path));
}

}  // namespace coffer::policy
