#include "vault/policy/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "vault/base/duration.h"
#include "vault/config/hcl.h"

namespace coffer::policy {
namespace {

using config::HclMember;
using config::HclValue;

struct CapabilityName {
  Capability capability;
  std::string_view name;
};

constexpr std::array<CapabilityName, 11> kCapabilityNames = {{
    {kDeny, "deny"},
    {kCreate, "create"},
    {kRead, "read"},
    {kUpdate, "update"},
    {kDelete, "delete"},
    {kList, "list"},
    {kSudo, "sudo"},
    {kPatch, "patch"},
    {kSubscribe, "subscribe"},
    {kRecover, "recover"},
    {kScan, "scan"},
}};

constexpr std::array<std::string_view, 4> kIdentityKindNames = {"human", "workload", "automation",
                                                                "agent"};

constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7F;
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ---------------------------------------------------------------------------------------------
// IP addresses

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // A zone index ("fe80::1%eth0") names an interface, not part of the address.
  if (const auto pct = text.find('%'); pct != std::string_view::npos) text = text.substr(0, pct);
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

bool is_v4_mapped(const IpAddress& ip) {
  if (!ip.v6) return false;
  for (int i = 0; i < 10; ++i)
    if (ip.bytes[i] != 0) return false;
  return ip.bytes[10] == 0xFF && ip.bytes[11] == 0xFF;
}

// ---------------------------------------------------------------------------------------------
// Templates

bool unsafe_template_value(std::string_view v) {
  if (v.empty() || v.find("..") != std::string_view::npos) return true;
  return std::ranges::any_of(
      v, [](char c) { return c == '*' || c == '+' || c == '/' || c == ',' || is_control(c); });
}

const std::string* find_in(const std::map<std::string, std::string>& m, std::string_view key) {
  const auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : &it->second;
}

// Splits "a.rest" into ("a", "rest"); the first part must be non-empty and the dot present.
bool split_first(std::string_view s, std::string_view* head, std::string_view* rest) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  *head = s.substr(0, dot);
  *rest = s.substr(dot + 1);
  return true;
}

// Checks `selector` (the text between the braces, trimmed) and, when `identity` is given, looks
// its value up. *value stays nullopt when the identity has no such value.
Status resolve_selector(std::string_view selector, const TemplateContext* identity,
                        std::optional<std::string>* value) {
  const Status unknown = invalid_argument("unknown identity template " + in_quotes(selector));
  const bool has_entity = identity != nullptr && !identity->entity_id.empty();
  auto set = [&](const std::string* v) {
    if (has_entity && v != nullptr) *value = *v;
  };
  std::string_view s = selector;
  if (!s.starts_with("identity.")) return unknown;
  s.remove_prefix(std::string_view("identity.").size());

  if (s.starts_with("entity.")) {
    s.remove_prefix(std::string_view("entity.").size());
    if (s == "id") {
      if (has_entity) set(&identity->entity_id);
      return ok_status();
    }
    if (s == "name") {
      if (has_entity && !identity->entity_name.empty()) set(&identity->entity_name);
      return ok_status();
    }
    if (s.starts_with("metadata.")) {
      const std::string_view key = s.substr(std::string_view("metadata.").size());
      if (key.empty()) return unknown;
      if (has_entity) set(find_in(identity->entity_metadata, key));
      return ok_status();
    }
    if (s.starts_with("aliases.")) {
      std::string_view accessor, field;
      if (!split_first(s.substr(std::string_view("aliases.").size()), &accessor, &field)) {
        return unknown;
      }
      const TemplateContext::Alias* alias = nullptr;
      if (has_entity) {
        const auto it = identity->aliases.find(std::string(accessor));
        if (it != identity->aliases.end()) alias = &it->second;
      }
      if (field == "id" || field == "name") {
        if (alias != nullptr) {
          const std::string& v = field == "id" ? alias->id : alias->name;
          if (!v.empty()) set(&v);
        }
        return ok_status();
      }
      for (std::string_view map_name : {"metadata.", "custom_metadata."}) {
        if (field.starts_with(map_name)) {
          const std::string_view key = field.substr(map_name.size());
          if (key.empty()) return unknown;
          if (alias != nullptr) {
            set(find_in(map_name == "metadata." ? alias->metadata : alias->custom_metadata, key));
          }
          return ok_status();
        }
      }
      return unknown;
    }
    return unknown;
  }

  if (s.starts_with("groups.")) {
    s.remove_prefix(std::string_view("groups.").size());
    const bool by_id = s.starts_with("ids.");
    const bool by_name = s.starts_with("names.");
    if (!by_id && !by_name) return unknown;
    std::string_view group_key, field;
    if (!split_first(s.substr(by_id ? 4 : 6), &group_key, &field)) return unknown;
    const bool wants_metadata = field.starts_with("metadata.");
    if (!(by_id && field == "name") && !(by_name && field == "id") && !wants_metadata) {
      return unknown;
    }
    const std::string_view metadata_key =
        wants_metadata ? field.substr(std::string_view("metadata.").size()) : "";
    if (wants_metadata && metadata_key.empty()) return unknown;
    if (!has_entity) return ok_status();
    for (const TemplateContext::Group& g : identity->groups) {
      if ((by_id ? g.id : g.name) != group_key) continue;
      if (wants_metadata) {
        set(find_in(g.metadata, metadata_key));
      } else {
        const std::string& v = by_id ? g.name : g.id;
        if (!v.empty()) set(&v);
      }
      break;
    }
    return ok_status();
  }
  return unknown;
}

// Walks the templates in `path`. With `identity` null it only validates; otherwise it returns
// the rendered path, or nullopt when a template is unresolvable or its value unsafe.
Result<std::optional<std::string>> walk_templates(std::string_view path,
                                                  const TemplateContext* identity,
                                                  bool* templated) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = path.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(path.substr(pos));
      break;
    }
    out.append(path.substr(pos, open - pos));
    const std::size_t close = path.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return fail(invalid_argument("unterminated identity template (missing \"}}\")"));
    }
    const std::string_view inner = path.substr(open + 2, close - open - 2);
    if (inner.find("{{") != std::string_view::npos) {
      return fail(invalid_argument("nested \"{{\" in identity template"));
    }
    if (templated != nullptr) *templated = true;
    std::optional<std::string> value;
    COFFER_TRY(resolve_selector(trim(inner), identity, &value));
    if (identity != nullptr) {
      if (!value.has_value() || unsafe_template_value(*value)) {
        return std::optional<std::string>();
      }
      out.append(*value);
    }
    pos = close + 2;
  }
  return std::optional<std::string>(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// base64 (Go's base64.StdEncoding.DecodeString, which Vault tries on every policy text: standard
// alphabet, padding required, CR and LF ignored).

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : trim(text)) {
    if (c != '\r' && c != '\n') s.push_back(c);
  }
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int pad = 0;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = s[i + j];
      int d = 0;
      if (c == '=') {
        // Padding only in the last quartet, only in its last two places, and only trailing.
        if (!last || j < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        d = base64_digit(c);
        if (d < 0) return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((group >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((group >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(group & 0xFF));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The document walker

class PolicyParser {
 public:
  explicit PolicyParser(std::string source) : source_(std::move(source)) {}

  Result<std::vector<PathRule>> document(const HclValue& root) {
    if (!root.is_object()) {
      return fail(error(root.line, "a policy must be an object of \"path\" blocks, found " +
                                       std::string(root.kind_name())));
    }
    std::vector<PathRule> rules;
    for (const HclMember& m : root.members) {
      if (m.key == "name") continue;  // accepted and ignored, as in Vault
      if (m.key != "path") {
        return fail(error(
            m.line, "unknown key " + in_quotes(m.key) + " (a policy holds only \"path\" blocks)"));
      }
      if (m.value.is_object()) {
        COFFER_TRY(stanzas(m.value, rules));
      } else if (m.value.is_list()) {
        // JSON may list the path objects: {"path": [{"a/*": {...}}, {"b": {...}}]}.
        for (const HclValue& item : m.value.list) {
          if (!item.is_object()) {
            return fail(error(item.line,
                              "\"path\" must hold blocks, found " + std::string(item.kind_name())));
          }
          COFFER_TRY(stanzas(item, rules));
        }
      } else {
        return fail(
            error(m.line, "\"path\" must be a block, found " + std::string(m.value.kind_name())));
      }
    }
    return rules;
  }

 private:
  Status error(int line, std::string_view what) const {
    return invalid_argument(source_ + ":" + std::to_string(line) + ": " + std::string(what));
  }

  Status stanzas(const HclValue& object, std::vector<PathRule>& rules) {
    for (const HclMember& m : object.members) {
      COFFER_ASSIGN_OR_RETURN(PathRule rule, stanza(m));
      rules.push_back(std::move(rule));
    }
    return ok_status();
  }

  Result<PathRule> stanza(const HclMember& member) {
    PathRule rule;
    rule.line = member.line;
    rule.path = member.key;
    // Vault paths start after the '/' that follows /v1.
    if (rule.path.starts_with('/')) rule.path.erase(0, 1);
    const std::string where = "path " + in_quotes(member.key);
    if (rule.path.empty()) return fail(error(member.line, "empty path"));
    if (rule.path.find("+*") != std::string::npos) {
      return fail(error(member.line, where + ": invalid use of wildcards (\"+*\" is forbidden)"));
    }
    if (std::ranges::any_of(rule.path, is_control)) {
      return fail(error(member.line, where + ": control character in path"));
    }
    if (Status s = validate_path_template(rule.path, &rule.templated); !s.ok()) {
      return fail(error(member.line, where + ": " + s.message()));
    }
    if (!member.value.is_object()) {
      return fail(error(
          member.line, where + " must be a block, found " + std::string(member.value.kind_name())));
    }

    std::set<std::string, std::less<>> seen;
    std::vector<std::pair<std::string, int>> capability_names;
    std::optional<std::pair<std::string, int>> legacy;
    bool has_conditions = false;
    int conditions_line = 0;
    for (const HclMember& m : member.value.members) {
      if (!seen.insert(m.key).second) {
        return fail(error(m.line, where + ": duplicate key " + in_quotes(m.key)));
      }
      const std::string field = where + ": " + in_quotes(m.key);
      if (m.key == "comment") {
        if (!m.value.is_string()) return fail(error(m.line, field + " must be a string"));
      } else if (m.key == "capabilities") {
        COFFER_ASSIGN_OR_RETURN(std::vector<std::string> names, string_list(m, field));
        for (std::string& n : names) capability_names.emplace_back(std::move(n), m.line);
      } else if (m.key == "policy") {
        if (!m.value.is_string()) return fail(error(m.line, field + " must be a string"));
        legacy.emplace(m.value.string, m.line);
      } else if (m.key == "allowed_parameters") {
        COFFER_ASSIGN_OR_RETURN(rule.allowed_parameters, parameter_rules(m, field));
      } else if (m.key == "denied_parameters") {
        COFFER_ASSIGN_OR_RETURN(rule.denied_parameters, parameter_rules(m, field));
      } else if (m.key == "required_parameters") {
        COFFER_ASSIGN_OR_RETURN(rule.required_parameters, string_list(m, field));
        for (std::string& p : rule.required_parameters) p = to_lower(p);
      } else if (m.key == "min_wrapping_ttl") {
        COFFER_ASSIGN_OR_RETURN(rule.min_wrapping_ttl, duration(m, field));
      } else if (m.key == "max_wrapping_ttl") {
        COFFER_ASSIGN_OR_RETURN(rule.max_wrapping_ttl, duration(m, field));
      } else if (m.key == "conditions") {
        COFFER_ASSIGN_OR_RETURN(rule.conditions, conditions(m, where));
        has_conditions = !rule.conditions.empty();
        conditions_line = m.line;
      } else if (m.key == "control_group" || m.key == "mfa_methods" || m.key == "expiration" ||
                 m.key == "pagination_limit" || m.key == "list_scan_response_keys_filter_path") {
        return fail(error(m.line, field + " is not supported by Coffer"));
      } else {
        return fail(error(m.line, where + ": unknown key " + in_quotes(m.key)));
      }
    }

    if (legacy.has_value()) {
      const std::string& p = legacy->first;
      std::vector<std::string_view> implied;
      if (p == "deny") {
        implied = {"deny"};
      } else if (p == "read") {
        implied = {"read", "list"};
      } else if (p == "write") {
        implied = {"create", "read", "update", "delete", "list"};
      } else if (p == "sudo") {
        implied = {"create", "read", "update", "delete", "list", "sudo"};
      } else {
        return fail(error(legacy->second, where + ": invalid policy " + in_quotes(p)));
      }
      for (std::string_view n : implied) capability_names.emplace_back(n, legacy->second);
    }

    for (const auto& [n, line] : capability_names) {
      const std::optional<Capability> c = capability_from_name(n);
      if (!c.has_value()) {
        return fail(error(line, where + ": invalid capability " + in_quotes(n)));
      }
      rule.capabilities |= *c;
    }
    if ((rule.capabilities & kDeny) != 0) {
      // A deny stanza is only a deny; its other settings have no effect (as in Vault).
      if (has_conditions) {
        return fail(error(conditions_line,
                          where + ": conditions cannot be combined with the \"deny\" capability"));
      }
      rule.capabilities = kDeny;
      rule.allowed_parameters.clear();
      rule.denied_parameters.clear();
      rule.required_parameters.clear();
      rule.min_wrapping_ttl = rule.max_wrapping_ttl = std::chrono::seconds(0);
    }
    if (rule.min_wrapping_ttl.count() != 0 && rule.max_wrapping_ttl.count() != 0 &&
        rule.max_wrapping_ttl < rule.min_wrapping_ttl) {
      return fail(
          error(member.line, where + ": max_wrapping_ttl cannot be less than min_wrapping_ttl"));
    }
    return rule;
  }

  // A list of strings; a single string is taken as a one-element list (HCL 1 decoding does so).
  Result<std::vector<std::string>> string_list(const HclMember& m, const std::string& field) {
    std::vector<std::string> out;
    if (m.value.is_string()) {
      out.push_back(m.value.string);
      return out;
    }
    if (!m.value.is_list()) return fail(error(m.line, field + " must be a list of strings"));
    for (const HclValue& item : m.value.list) {
      if (!item.is_string()) {
        return fail(error(item.line, field + " must be a list of strings, found " +
                                         std::string(item.kind_name())));
      }
      out.push_back(item.string);
    }
    return out;
  }

  Result<ParameterRules> parameter_rules(const HclMember& m, const std::string& field) {
    if (!m.value.is_object()) {
      return fail(error(m.line, field + " must be a map of parameter names to value lists"));
    }
    ParameterRules rules;
    for (const HclMember& p : m.value.members) {
      std::vector<nlohmann::json> values;
      if (p.value.is_list()) {
        for (const HclValue& v : p.value.list) values.push_back(v.to_json());
      } else if (p.value.kind != HclValue::Kind::kNull) {
        values.push_back(p.value.to_json());
      }
      if (!rules.emplace(to_lower(p.key), std::move(values)).second) {
        return fail(error(p.line, field + ": duplicate parameter " + in_quotes(to_lower(p.key))));
      }
    }
    return rules;
  }

  Result<std::chrono::seconds> duration(const HclMember& m, const std::string& field) {
    if (m.value.kind == HclValue::Kind::kInteger) {
      if (m.value.integer < 0) return fail(error(m.line, field + " must not be negative"));
      return std::chrono::seconds(m.value.integer);
    }
    if (!m.value.is_string()) {
      return fail(error(m.line, field + " must be a duration such as \"90s\""));
    }
    auto d = parse_duration(m.value.string);
    if (!d.has_value()) return fail(error(m.line, field + ": " + d.error().message()));
    return *d;
  }

  Result<Conditions> conditions(const HclMember& m, const std::string& where) {
    const std::string block = where + ": conditions";
    if (!m.value.is_object()) return fail(error(m.line, block + " must be a block"));
    Conditions c;
    std::set<std::string, std::less<>> seen;
    for (const HclMember& k : m.value.members) {
      if (!seen.insert(k.key).second) {
        return fail(error(k.line, block + ": duplicate key " + in_quotes(k.key)));
      }
      const std::string field = block + ": " + in_quotes(k.key);
      if (k.key == "identity_kinds") {
        COFFER_ASSIGN_OR_RETURN(std::vector<std::string> names, string_list(k, field));
        if (names.empty()) return fail(error(k.line, field + " must not be empty"));
        for (const std::string& n : names) {
          const auto kind = identity_kind_from_name(n);
          if (!kind.has_value()) {
            return fail(error(k.line, field + ": unknown identity kind " + in_quotes(n) +
                                          " (human, workload, automation or agent)"));
          }
          c.identity_kinds.push_back(*kind);
        }
      } else if (k.key == "source_cidrs") {
        COFFER_ASSIGN_OR_RETURN(std::vector<std::string> cidrs, string_list(k, field));
        if (cidrs.empty()) return fail(error(k.line, field + " must not be empty"));
        for (const std::string& text : cidrs) {
          auto net = IpNetwork::parse(text);
          if (!net.has_value()) return fail(error(k.line, field + ": " + net.error().message()));
          c.source_cidrs.push_back(std::move(*net));
        }
      } else if (k.key == "time_window") {
        COFFER_ASSIGN_OR_RETURN(std::vector<std::string> windows, string_list(k, field));
        if (windows.empty()) return fail(error(k.line, field + " must not be empty"));
        for (const std::string& text : windows) {
          auto w = TimeWindow::parse(text);
          if (!w.has_value()) return fail(error(k.line, field + ": " + w.error().message()));
          c.time_windows.push_back(std::move(*w));
        }
      } else if (k.key == "require_mfa" || k.key == "require_intent") {
        if (k.value.kind != HclValue::Kind::kBool) {
          return fail(error(k.line, field + " must be true or false"));
        }
        (k.key == "require_mfa" ? c.require_mfa : c.require_intent) = k.value.boolean;
      } else if (k.key == "max_ttl") {
        COFFER_ASSIGN_OR_RETURN(c.max_ttl, duration(k, field));
        if (c.max_ttl.count() == 0) return fail(error(k.line, field + " must be positive"));
      } else {
        return fail(error(k.line, block + ": unknown condition " + in_quotes(k.key)));
      }
    }
    return c;
  }

  std::string source_;
};

constexpr std::string_view kDefaultPolicyText = R"(# Tokens may look up their own properties.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Tokens may renew and revoke themselves.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Tokens may ask which capabilities they hold on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Coffer: tokens may ask why a request of theirs would be allowed or denied.
# Asking about another token (by accessor) needs sudo on this path.
path "sys/policy-check" {
  capabilities = ["update"]
}

# Tokens may read their own identity entity, by id or by name.
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}

path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# Coffer: a token with an identity may prove a second factor and get a
# short-lived MFA-validated child token.
path "sys/mfa/step-up" {
  capabilities = ["update"]
}

# Tokens may read the ACL that results from all of their policies (used by UIs).
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Tokens may renew a lease they know the id of (legacy and current paths).
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

# Tokens may look up a lease they know the id of.
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Every token owns a private cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Response wrapping: wrap values, look up and unwrap wrapping tokens.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# General-purpose hashing.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}

# Requests to the authorization endpoint of identity OIDC providers.
path "identity/oidc/provider/+/authorize" {
  capabilities = ["read", "update"]
}
)";

constexpr std::string_view kResponseWrappingPolicyText = R"(path "cubbyhole/response" {
  capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
)";

}  // namespace

std::optional<Capability> capability_from_name(std::string_view name) {
  for (const CapabilityName& c : kCapabilityNames) {
    if (c.name == name) return c.capability;
  }
  return std::nullopt;
}

std::string_view capability_name(Capability capability) {
  for (const CapabilityName& c : kCapabilityNames) {
    if (c.capability == capability) return c.name;
  }
  return "unknown";
}

std::vector<std::string> capability_names(std::uint32_t bits) {
  if ((bits & kDeny) != 0 || (bits & kAllCapabilities) == 0) return {"deny"};
  std::vector<std::string> out;
  for (const CapabilityName& c : kCapabilityNames) {
    if (c.capability != kDeny && (bits & c.capability) != 0) out.emplace_back(c.name);
  }
  std::ranges::sort(out);
  return out;
}

std::optional<IdentityKind> identity_kind_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kIdentityKindNames.size(); ++i) {
    if (kIdentityKindNames[i] == name) return static_cast<IdentityKind>(i);
  }
  return std::nullopt;
}

std::string_view identity_kind_name(IdentityKind kind) {
  return kIdentityKindNames[static_cast<std::size_t>(kind)];
}

// ---------------------------------------------------------------------------------------------

Result<IpNetwork> IpNetwork::parse(std::string_view cidr) {
  const std::string_view text = trim(cidr);
  const auto slash = text.find('/');
  const std::string_view address = text.substr(0, slash);
  const Status bad = invalid_argument("invalid CIDR " + in_quotes(text));
  if (address.find('%') != std::string_view::npos || address.starts_with('[')) return fail(bad);
  const std::optional<IpAddress> ip = parse_ip(address);
  if (!ip.has_value()) return fail(bad);
  const int max_length = ip->v6 ? 128 : 32;
  int length = max_length;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return fail(bad);
    length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return fail(bad);
      length = length * 10 + (c - '0');
    }
    if (length > max_length) return fail(bad);
  }
  IpNetwork net;
  net.v6_ = ip->v6;
  net.prefix_length_ = length;
  net.bytes_ = ip->bytes;
  for (int bit = length; bit < max_length; ++bit) {
    net.bytes_[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return net;
}

bool IpNetwork::contains(std::string_view address) const {
  std::optional<IpAddress> ip = parse_ip(trim(address));
  if (!ip.has_value()) return false;
  if (!v6_ && is_v4_mapped(*ip)) {
    IpAddress v4;
    std::copy(ip->bytes.begin() + 12, ip->bytes.end(), v4.bytes.begin());
    ip = v4;
  } else if (v6_ && !ip->v6) {
    IpAddress mapped;
    mapped.v6 = true;
    mapped.bytes[10] = mapped.bytes[11] = 0xFF;
    std::copy(ip->bytes.begin(), ip->bytes.begin() + 4, mapped.bytes.begin() + 12);
    ip = mapped;
  }
  if (ip->v6 != v6_) return false;
  for (int bit = 0; bit < prefix_length_; ++bit) {
    const std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((ip->bytes[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

std::string IpNetwork::to_string() const {
  char buffer[64] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buffer, sizeof buffer);
  return std::string(buffer) + "/" + std::to_string(prefix_length_);
}

// ---------------------------------------------------------------------------------------------

Result<TimeWindow> TimeWindow::parse(std::string_view text) {
  const Status bad =
      invalid_argument("invalid time window " + in_quotes(text) +
                       " (expected e.g. \"Mon-Fri 07:00-19:00 UTC\" or \"22:00-06:00 UTC\")");
  std::vector<std::string_view> tokens;
  std::string_view rest = trim(text);
  while (!rest.empty()) {
    std::size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) ++end;
    tokens.push_back(rest.substr(0, end));
    rest = trim(rest.substr(end));
  }
  if (tokens.size() < 2 || tokens.size() > 3) return fail(bad);
  if (to_lower(tokens.back()) != "utc") {
    return fail(invalid_argument("time window " + in_quotes(text) +
                                 ": only the UTC time zone is supported"));
  }

  TimeWindow w;
  w.text_ = std::string(trim(text));
  auto day_index = [](std::string_view name) -> int {
    const std::string l = to_lower(name);
    for (std::size_t i = 0; i < kDayNames.size(); ++i)
      if (kDayNames[i] == l) return static_cast<int>(i);
    return -1;
  };
  if (tokens.size() == 3) {
    std::string_view days = tokens[0];
    while (true) {
      const auto comma = days.find(',');
      const std::string_view item = days.substr(0, comma);
      const auto dash = item.find('-');
      const int first = day_index(item.substr(0, dash));
      const int last = dash == std::string_view::npos ? first : day_index(item.substr(dash + 1));
      if (first < 0 || last < 0) return fail(bad);
      for (int d = first;; d = (d + 1) % 7) {
        w.days_[d] = true;
        if (d == last) break;
      }
      if (comma == std::string_view::npos) break;
      days = days.substr(comma + 1);
    }
  } else {
    w.days_.fill(true);
  }

  const std::string_view range = tokens[tokens.size() - 2];
  auto clock_minutes = [](std::string_view hhmm) -> int {
    if (hhmm.size() != 5 || hhmm[2] != ':') return -1;
    for (std::size_t i : {0u, 1u, 3u, 4u})
      if (hhmm[i] < '0' || hhmm[i] > '9') return -1;
    const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
    const int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
    return h * 60 + m;
  };
  const auto dash = range.find('-');
  if (dash == std::string_view::npos) return fail(bad);
  w.start_minute_ = clock_minutes(range.substr(0, dash));
  w.end_minute_ = clock_minutes(range.substr(dash + 1));
  if (w.start_minute_ < 0 || w.end_minute_ < 0 || w.start_minute_ == 24 * 60) return fail(bad);
  if (w.start_minute_ == w.end_minute_) {
    return fail(invalid_argument("time window " + in_quotes(text) + " is empty"));
  }
  if (w.end_minute_ == 0) w.end_minute_ = 24 * 60;  // "22:00-00:00" ends at midnight
  return w;
}

bool TimeWindow::contains(std::chrono::system_clock::time_point when) const {
  using namespace std::chrono;
  const sys_days day = floor<days>(when);
  const int weekday = static_cast<int>(std::chrono::weekday(day).c_encoding());
  const int minute = static_cast<int>(duration_cast<minutes>(when - day).count());
  if (start_minute_ < end_minute_) {
    return days_[weekday] && minute >= start_minute_ && minute < end_minute_;
  }
  // Crosses midnight: the evening part belongs to today, the morning part to yesterday.
  const int yesterday = (weekday + 6) % 7;
  return (days_[weekday] && minute >= start_minute_) || (days_[yesterday] && minute < end_minute_);
}

// ---------------------------------------------------------------------------------------------

std::optional<std::string> render_path_template(std::string_view path,
                                                const TemplateContext& identity) {
  auto rendered = walk_templates(path, &identity, nullptr);
  if (!rendered.has_value()) return std::nullopt;  // malformed: never grants
  return std::move(*rendered);
}

Status validate_path_template(std::string_view path, bool* templated) {
  bool found = false;
  auto checked = walk_templates(path, nullptr, &found);
  if (!checked.has_value()) return checked.error();
  if (templated != nullptr) *templated = found;
  return ok_status();
}

std::vector<std::string> normalize_policy_list(std::vector<std::string> names) {
  for (auto& n : names) {
    std::ranges::transform(n, n.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  std::erase(names, std::string());
  std::ranges::sort(names);
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Result<std::string> normalize_policy_name(std::string_view name) {
  const std::string n = to_lower(trim(name));
  if (n.empty()) return fail(invalid_argument("policy name must not be empty"));
  if (n.size() > 128) return fail(invalid_argument("policy name is longer than 128 characters"));
  if (n == "." || n == "..") return fail(invalid_argument("invalid policy name"));
  const bool valid = std::ranges::all_of(n, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
           c == ':' || c == '-';
  });
  if (!valid) {
    return fail(invalid_argument(
        "policy names may contain only letters, digits and the characters . _ @ : -"));
  }
  return n;
}

Result<Policy> parse_policy(std::string_view name, std::string_view text) {
  COFFER_ASSIGN_OR_RETURN(std::string normalized, normalize_policy_name(name));
  if (normalized == kRootPolicyName) {
    return fail(invalid_argument("cannot update the root policy"));
  }
  Policy p;
  p.name_ = std::move(normalized);
  if (std::optional<std::string> decoded = decode_base64(text)) {
    p.text_ = std::move(*decoded);
  } else {
    p.text_ = std::string(text);
  }

  const std::string_view body = trim(p.text_);
  auto tree = body.starts_with('{') ? config::parse_json_with_lines(p.text_, p.name_)
                                    : config::parse_hcl(p.text_, p.name_);
  if (!tree.has_value()) return fail(tree.error());
  COFFER_ASSIGN_OR_RETURN(p.rules_, PolicyParser(p.name_).document(*tree));
  p.templated_ = std::ranges::any_of(p.rules_, [](const PathRule& r) { return r.templated; });
  return p;
}

Policy root_policy() {
  Policy p;
  p.name_ = std::string(kRootPolicyName);
  p.root_ = true;
  return p;
}

std::string_view built_in_default_policy_text() { return kDefaultPolicyText; }

std::string_view built_in_response_wrapping_policy_text() { return kResponseWrappingPolicyText; }

}  // namespace coffer::policy
