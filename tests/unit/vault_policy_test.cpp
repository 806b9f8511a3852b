#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/policy/acl.h"
#include "vault/policy/policy.h"

using namespace std::chrono_literals;
using coffer::api::Operation;
using coffer::policy::Acl;
using coffer::policy::Decision;
using coffer::policy::IpNetwork;
using coffer::policy::parse_policy;
using coffer::policy::Policy;
using coffer::policy::RequestContext;
using coffer::policy::TemplateContext;
using coffer::policy::TimeWindow;
using nlohmann::json;
namespace pol = coffer::policy;

namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

Policy must_parse(std::string_view name, std::string_view text) {
  auto p = parse_policy(name, text);
  if (!p.has_value()) FAIL("policy did not parse: " << p.error().message());
  return *p;
}

// Parses `text` and checks the error names `<name>:<line>:` and every one of `parts`.
void check_parse_error(std::string_view text, int line, std::vector<std::string_view> parts) {
  auto p = parse_policy("p", text);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().code() == coffer::StatusCode::kInvalidArgument);
  const std::string& message = p.error().message();
  CAPTURE(message);
  if (line > 0) CHECK(message.starts_with("p:" + std::to_string(line) + ":"));
  for (std::string_view part : parts) CHECK(contains(message, part));
}

Acl acl_of(const std::vector<Policy>& policies, const TemplateContext& identity = {}) {
  auto acl = Acl::build(std::span<const Policy>(policies), identity);
  if (!acl.has_value()) FAIL("acl did not build: " << acl.error().message());
  return *acl;
}

// An ACL from (pattern, capabilities) stanzas, each in its own policy p0, p1, ...
Acl acl_from_stanzas(const std::vector<std::pair<std::string, std::string>>& stanzas) {
  std::vector<Policy> policies;
  for (std::size_t i = 0; i < stanzas.size(); ++i) {
    policies.push_back(must_parse(
        "p" + std::to_string(i),
        "path \"" + stanzas[i].first + "\" { capabilities = " + stanzas[i].second + " }\n"));
  }
  return acl_of(policies);
}

RequestContext request(Operation op, std::string path, const json* data = nullptr) {
  RequestContext r;
  r.operation = op;
  r.path = std::move(path);
  r.data = data;
  r.now = std::chrono::sys_days{std::chrono::year{2024} / 1 / 3} + 12h;  // Wednesday noon UTC
  return r;
}

bool allows(const Acl& acl, Operation op, std::string path, const json* data = nullptr) {
  return acl.authorize(request(op, std::move(path), data)).allowed;
}

// 2024-01-01 was a Monday.
std::chrono::system_clock::time_point utc(int day_of_january_2024, int hour, int minute) {
  return std::chrono::sys_days{std::chrono::year{2024} / 1 / day_of_january_2024} +
         std::chrono::hours(hour) + std::chrono::minutes(minute);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing

TEST_CASE("an HCL policy with every Vault key and a conditions block parses") {
  const Policy p = must_parse("App-Policy", R"(# comment
path "secret/data/app/*" {
  comment             = "the app's secrets"
  capabilities        = ["create", "read", "update", "patch", "delete", "list"]
  allowed_parameters  = { "Foo" = [], "bar" = ["zip", "zap"], "*" = [] }
  denied_parameters   = { "baz" = [] }
  required_parameters = ["Foo"]
  min_wrapping_ttl    = "1s"
  max_wrapping_ttl    = 90
  conditions {
    identity_kinds = ["human", "agent"]
    source_cidrs   = ["10.0.0.0/8", "2001:db8::/32"]
    time_window    = "Mon-Fri 07:00-19:00 UTC"
    require_mfa    = true
    require_intent = true
    max_ttl        = "1h"
  }
}
path "/sys/capabilities-self" { capabilities = ["update", "sudo"] }
)");
  CHECK(p.name() == "app-policy");
  CHECK_FALSE(p.templated());
  CHECK_FALSE(p.is_root());
  REQUIRE(p.rules().size() == 2);
  const pol::PathRule& r = p.rules()[0];
  CHECK(r.path == "secret/data/app/*");
  CHECK(r.line == 2);
  CHECK(r.capabilities ==
        (pol::kCreate | pol::kRead | pol::kUpdate | pol::kPatch | pol::kDelete | pol::kList));
  CHECK(r.allowed_parameters.size() == 3);
  CHECK(r.allowed_parameters.at("foo").empty());
  CHECK(r.allowed_parameters.at("bar") == std::vector<json>{"zip", "zap"});
  CHECK(r.denied_parameters.contains("baz"));
  CHECK(r.required_parameters == std::vector<std::string>{"foo"});
  CHECK(r.min_wrapping_ttl == 1s);
  CHECK(r.max_wrapping_ttl == 90s);
  CHECK(r.conditions.identity_kinds ==
        std::vector<pol::IdentityKind>{pol::IdentityKind::kHuman, pol::IdentityKind::kAgent});
  CHECK(r.conditions.source_cidrs.size() == 2);
  REQUIRE(r.conditions.time_windows.size() == 1);
  CHECK(r.conditions.time_windows[0].text() == "Mon-Fri 07:00-19:00 UTC");
  CHECK(r.conditions.require_mfa);
  CHECK(r.conditions.require_intent);
  CHECK(r.conditions.max_ttl == 1h);
  // A leading '/' is stripped, as Vault does.
  CHECK(p.rules()[1].path == "sys/capabilities-self");
  CHECK(p.rules()[1].line == 19);
  CHECK(p.rules()[1].capabilities == (pol::kUpdate | pol::kSudo));
}

TEST_CASE("the JSON form of a policy parses to the same rules as the HCL form") {
  const Policy hcl = must_parse("p", R"(
path "secret/*" { capabilities = ["read", "list"] }
path "secret/x" {
  capabilities = ["update"]
  allowed_parameters = { "ttl" = ["1h", 30] }
  conditions { require_mfa = true }
})");
  const Policy js = must_parse("p", R"({"path": {
    "secret/*": {"capabilities": ["read", "list"]},
    "secret/x": {"capabilities": ["update"], "allowed_parameters": {"ttl": ["1h", 30]},
                 "conditions": {"require_mfa": true}}}})");
  REQUIRE(js.rules().size() == hcl.rules().size());
  for (std::size_t i = 0; i < js.rules().size(); ++i) {
    CHECK(js.rules()[i].path == hcl.rules()[i].path);
    CHECK(js.rules()[i].capabilities == hcl.rules()[i].capabilities);
    CHECK(js.rules()[i].allowed_parameters == hcl.rules()[i].allowed_parameters);
    CHECK(js.rules()[i].conditions.require_mfa == hcl.rules()[i].conditions.require_mfa);
  }
  CHECK(js.rules()[1].line == 3);

  // JSON may also list the path objects.
  const Policy listed = must_parse(
      "p", R"({"path": [{"a/*": {"capabilities": ["read"]}}, {"b": {"policy": "write"}}]})");
  REQUIRE(listed.rules().size() == 2);
  CHECK(listed.rules()[1].capabilities ==
        (pol::kCreate | pol::kRead | pol::kUpdate | pol::kDelete | pol::kList));
}

TEST_CASE("a base64-encoded policy is decoded before parsing and stored decoded") {
  // base64 of: path "secret/*" { capabilities = ["read"] }
  const Policy p =
      must_parse("b64", "cGF0aCAic2VjcmV0LyoiIHsgY2FwYWJpbGl0aWVzID0gWyJyZWFkIl0gfQ==\n");
  CHECK(p.text() == R"(path "secret/*" { capabilities = ["read"] })");
  REQUIRE(p.rules().size() == 1);
  CHECK(p.rules()[0].capabilities == pol::kRead);

  // Not base64 (spaces, quotes): parsed as written.
  const Policy plain = must_parse("plain", R"(path "a" { capabilities = ["read"] })");
  CHECK(plain.text() == R"(path "a" { capabilities = ["read"] })");
}

TEST_CASE("the legacy policy key maps to Vault's capability sets") {
  struct Row {
    std::string_view legacy;
    std::uint32_t expected;
  };
  const std::uint32_t write = pol::kCreate | pol::kRead | pol::kUpdate | pol::kDelete | pol::kList;
  for (const Row& row : {Row{"deny", pol::kDeny}, Row{"read", pol::kRead | pol::kList},
                         Row{"write", write}, Row{"sudo", write | pol::kSudo}}) {
    CAPTURE(row.legacy);
    const Policy p = must_parse("p", "path \"a\" { policy = \"" + std::string(row.legacy) + "\" }");
    CHECK(p.rules()[0].capabilities == row.expected);
  }
  // Legacy and capabilities are unioned; deny in either is deny only.
  CHECK(must_parse("p", R"(path "a" { policy = "read"
capabilities = ["update"] })")
            .rules()[0]
            .capabilities == (pol::kRead | pol::kList | pol::kUpdate));
  CHECK(must_parse("p", R"(path "a" { capabilities = ["read", "deny", "sudo"] })")
            .rules()[0]
            .capabilities == pol::kDeny);
}

TEST_CASE("policy parse errors name the line and what is wrong") {
  check_parse_error("path \"a\" {\n  capabilities = [\"read\", \"reed\"]\n}", 2,
                    {"invalid capability \"reed\"", "path \"a\""});
  check_parse_error("path \"a\" {\n  capabilities = [\"read\"]\n  capabilites = []\n}", 3,
                    {"unknown key \"capabilites\""});
  check_parse_error("\n\npaths \"a\" { capabilities = [\"read\"] }", 3, {"unknown key \"paths\""});
  check_parse_error("path \"a\" {\n  capabilities = [\"read\"\n", 0, {"p:"});
  check_parse_error("path \"a\" {\n capabilities = [\"read\"]\n min_wrapping_ttl = \"5x\"\n}", 3,
                    {"min_wrapping_ttl"});
  check_parse_error("path \"a\" {\n min_wrapping_ttl = \"60s\"\n max_wrapping_ttl = \"30s\"\n}", 1,
                    {"max_wrapping_ttl cannot be less than min_wrapping_ttl"});
  check_parse_error("path \"a\" { capabilities = [\"read\"] }\npath \"secret/+*\" {}", 2, {"+*"});
  check_parse_error("path \"a\" {\n control_group = {}\n}", 2, {"not supported"});
  check_parse_error("path \"a\" {\n mfa_methods = [\"x\"]\n}", 2, {"not supported"});
  check_parse_error("path \"a\" {\n policy = \"admin\"\n}", 2, {"invalid policy \"admin\""});
  check_parse_error("path \"a\" {\n capabilities = [\"read\"]\n capabilities = [\"list\"]\n}", 3,
                    {"duplicate key \"capabilities\""});
  check_parse_error("path \"\" { capabilities = [\"read\"] }", 1, {"empty path"});
  check_parse_error("path \"a\" {\n capabilities = \"read\" \n allowed_parameters = [\"x\"]\n}", 3,
                    {"allowed_parameters"});
  check_parse_error("{\"path\": {\"a\": {\"capabilities\": [\"sudo\", \"root\"]}}}", 1,
                    {"invalid capability \"root\""});
}

TEST_CASE("conditions are validated when the policy is parsed") {
  check_parse_error("path \"a\" {\n capabilities = [\"read\"]\n conditions {\n  mfa = true\n }\n}",
                    4, {"unknown condition \"mfa\""});
  check_parse_error("path \"a\" {\n conditions {\n  identity_kinds = [\"robot\"]\n }\n}", 3,
                    {"unknown identity kind \"robot\""});
  check_parse_error("path \"a\" {\n conditions {\n  source_cidrs = [\"10.0.0.0/33\"]\n }\n}", 3,
                    {"invalid CIDR"});
  check_parse_error("path \"a\" {\n conditions {\n  source_cidrs = [\"10.0.0.300\"]\n }\n}", 3,
                    {"invalid CIDR"});
  for (std::string_view bad : {"Mon-Fri 07:00-19:00", "Mon-Fri 07:00-19:00 CET",
                               "Mon-Fry 07:00-19:00 UTC", "7:00-19:00 UTC", "07:00-25:00 UTC",
                               "07:60-08:00 UTC", "08:00-08:00 UTC", "Mon 07:00 UTC", ""}) {
    CAPTURE(bad);
    check_parse_error(
        "path \"a\" {\n conditions {\n  time_window = \"" + std::string(bad) + "\"\n }\n}", 3,
        {"time_window"});
  }
  check_parse_error("path \"a\" {\n conditions {\n  require_mfa = \"yes\"\n }\n}", 3,
                    {"require_mfa", "true or false"});
  check_parse_error("path \"a\" {\n conditions {\n  max_ttl = \"0s\"\n }\n}", 3, {"max_ttl"});
  check_parse_error(
      "path \"a\" {\n capabilities = [\"deny\"]\n conditions {\n  require_mfa = true\n }\n}", 3,
      {"conditions cannot be combined with the \"deny\" capability"});
}

TEST_CASE("identity templates are validated when the policy is parsed") {
  const Policy ok = must_parse("p", R"(
path "kv/{{identity.entity.id}}/*" { capabilities = ["read"] }
path "kv/{{ identity.entity.metadata.team }}/x" { capabilities = ["read"] }
path "kv/{{identity.entity.aliases.auth_userpass_1234.name}}" { capabilities = ["read"] }
path "kv/{{identity.groups.names.ops.id}}" { capabilities = ["read"] }
path "plain" { capabilities = ["read"] })");
  CHECK(ok.templated());
  CHECK(ok.rules()[0].templated);
  CHECK_FALSE(ok.rules()[4].templated);

  check_parse_error("path \"a\" {}\npath \"kv/{{identity.entity.id\" {}", 2, {"unterminated"});
  check_parse_error("path \"kv/{{identity.entity.secret}}\" {}", 1, {"unknown identity template"});
  check_parse_error("path \"kv/{{identity.entity.metadata.}}\" {}", 1,
                    {"unknown identity template"});
  check_parse_error("path \"kv/{{token.id}}\" {}", 1, {"unknown identity template"});
}

TEST_CASE("policy names are trimmed, lower-cased and validated; root cannot be written") {
  CHECK(must_parse("  Ops-Team.v2 ", "").name() == "ops-team.v2");
  CHECK(*pol::normalize_policy_name("A_B@c:d") == "a_b@c:d");
  for (std::string_view bad :
       std::vector<std::string_view>{"", "  ", "a/b", "a b", "a,b", "..", "a*", "a\tb"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_policy(bad, "").has_value());
  }
  CHECK_FALSE(pol::normalize_policy_name(std::string(129, 'a')).has_value());
  // "Root" must not become a second way to the root policy (CVE-2025-5999).
  for (std::string_view root : {"root", "ROOT", " Root "}) {
    CAPTURE(root);
    const auto p = parse_policy(root, R"(path "*" { capabilities = ["sudo"] })");
    REQUIRE_FALSE(p.has_value());
    CHECK(contains(p.error().message(), "root"));
  }
  CHECK(pol::root_policy().is_root());
  CHECK(pol::root_policy().name() == "root");
}

TEST_CASE("the built-in default and response-wrapping policies parse") {
  const Policy d = must_parse("default", pol::built_in_default_policy_text());
  CHECK(d.templated());
  TemplateContext id;
  id.entity_id = "e-123";
  id.entity_name = "alice";
  const Acl acl = acl_of({d}, id);
  CHECK(allows(acl, Operation::kRead, "auth/token/lookup-self"));
  CHECK(allows(acl, Operation::kUpdate, "auth/token/renew-self"));
  CHECK(allows(acl, Operation::kUpdate, "auth/token/revoke-self"));
  CHECK(allows(acl, Operation::kUpdate, "sys/capabilities-self"));
  CHECK(allows(acl, Operation::kRead, "identity/entity/id/e-123"));
  CHECK_FALSE(allows(acl, Operation::kRead, "identity/entity/id/e-999"));
  CHECK(allows(acl, Operation::kRead, "identity/entity/name/alice"));
  CHECK(allows(acl, Operation::kUpdate, "sys/leases/renew"));
  CHECK(allows(acl, Operation::kUpdate, "sys/leases/lookup"));
  CHECK(allows(acl, Operation::kCreate, "cubbyhole/x"));
  CHECK(allows(acl, Operation::kList, "cubbyhole/"));
  CHECK_FALSE(allows(acl, Operation::kPatch, "cubbyhole/x"));
  CHECK(allows(acl, Operation::kUpdate, "sys/wrapping/unwrap"));
  CHECK(allows(acl, Operation::kUpdate, "sys/tools/hash/sha2-256"));
  CHECK(allows(acl, Operation::kRead, "identity/oidc/provider/p1/authorize"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/data/x"));
  CHECK_FALSE(allows(acl, Operation::kUpdate, "auth/token/create"));

  const Policy w = must_parse("response-wrapping", pol::built_in_response_wrapping_policy_text());
  const Acl wrap = acl_of({w});
  CHECK(allows(wrap, Operation::kRead, "cubbyhole/response"));
  CHECK_FALSE(allows(wrap, Operation::kRead, "cubbyhole/other"));
  CHECK(allows(wrap, Operation::kUpdate, "sys/wrapping/unwrap"));
}

// ---------------------------------------------------------------------------------------------
// Matching and priority

TEST_CASE("Vault's priority rules choose exactly one stanza") {
  struct Row {
    const char* rule;
    std::vector<std::pair<std::string, std::string>> stanzas;
    std::string path;
    std::string winner;
  };
  const std::vector<Row> rows = {
      {"exact beats every wildcard",
       {{"secret/foo", "[\"read\"]"}, {"secret/*", "[\"read\"]"}, {"secret/+", "[\"read\"]"}},
       "secret/foo",
       "secret/foo"},
      {"rule 1: later first wildcard wins (prefix vs prefix)",
       {{"secret/*", "[\"read\"]"}, {"secret/data/*", "[\"read\"]"}},
       "secret/data/x",
       "secret/data/*"},
      {"rule 1: later first wildcard wins (+ vs +)",
       {{"secret/+/b/c", "[\"read\"]"}, {"secret/a/+/c", "[\"read\"]"}},
       "secret/a/b/c",
       "secret/a/+/c"},
      {"rule 1: a* at 8 beats + at 7",
       {{"secret/+/b", "[\"read\"]"}, {"secret/a*", "[\"read\"]"}},
       "secret/ab/b",
       "secret/a*"},
      {"rule 2: same position, no trailing * beats trailing *",
       {{"secret/*", "[\"read\"]"}, {"secret/+/teamb", "[\"read\"]"}},
       "secret/x/teamb",
       "secret/+/teamb"},
      {"rule 2: foo/+ beats foo/*",
       {{"foo/*", "[\"read\"]"}, {"foo/+", "[\"read\"]"}},
       "foo/x",
       "foo/+"},
      {"rule 2: foo/+/bar beats foo/+/ba*",
       {{"foo/+/ba*", "[\"read\"]"}, {"foo/+/bar", "[\"read\"]"}},
       "foo/x/bar",
       "foo/+/bar"},
      {"rule 3: secret/* beats secret/+/+/foo/* (fewer + segments)",
       {{"secret/+/+/foo/*", "[\"read\"]"}, {"secret/*", "[\"read\"]"}},
       "secret/a/b/foo/c",
       "secret/*"},
      {"rule 3: one + beats two",
       {{"a/+/+/d", "[\"read\"]"}, {"a/+/c/d", "[\"read\"]"}},
       "a/b/c/d",
       "a/+/c/d"},
      {"rule 4: longer pattern wins",
       {{"foo/+/bar/b*", "[\"read\"]"}, {"foo/+/bar/ba*", "[\"read\"]"}},
       "foo/x/bar/baz",
       "foo/+/bar/ba*"},
      {"rule 5: lexicographically larger wins",
       {{"a/+/+/d", "[\"read\"]"}, {"a/+/c/+", "[\"read\"]"}},
       "a/b/c/d",
       "a/+/c/+"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.rule);
    // The outcome must not depend on the order the policies are attached in.
    for (bool reversed : {false, true}) {
      CAPTURE(reversed);
      auto stanzas = row.stanzas;
      if (reversed) std::ranges::reverse(stanzas);
      const Decision d = acl_from_stanzas(stanzas).authorize(request(Operation::kRead, row.path));
      CHECK(d.allowed);
      CHECK(d.matched_pattern == row.winner);
    }
  }
}

TEST_CASE("only the winning stanza applies: a lower-priority grant is not merged in") {
  const Acl acl =
      acl_from_stanzas({{"secret/*", "[\"read\", \"list\"]"}, {"secret/data/*", "[\"create\"]"}});
  const Decision d = acl.authorize(request(Operation::kRead, "secret/data/x"));
  CHECK_FALSE(d.allowed);
  CHECK(d.matched_pattern == "secret/data/*");
  CHECK(d.reason == "denied by path \"secret/data/*\": capability \"read\" not granted");
  CHECK(allows(acl, Operation::kCreate, "secret/data/x"));
  CHECK(allows(acl, Operation::kRead, "secret/other"));
  // A stanza with no capabilities still wins and so blocks the broader one.
  const Acl empty = acl_from_stanzas({{"secret/*", "[\"read\"]"}, {"secret/locked", "[]"}});
  CHECK_FALSE(allows(empty, Operation::kRead, "secret/locked"));
}

TEST_CASE("a glob matches only as the last character and + matches one whole segment") {
  const Acl acl = acl_from_stanzas({{"secret/zip-*", "[\"read\"]"},
                                    {"lit/a*b", "[\"read\"]"},
                                    {"team/+/config", "[\"read\"]"},
                                    {"multi/+/x/*", "[\"read\"]"},
                                    {"+/top", "[\"read\"]"}});
  CHECK(allows(acl, Operation::kRead, "secret/zip-zap/x"));
  CHECK(allows(acl, Operation::kRead, "secret/zip-"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/zip"));
  CHECK(allows(acl, Operation::kRead, "lit/a*b"));
  CHECK_FALSE(allows(acl, Operation::kRead, "lit/axxb"));
  CHECK(allows(acl, Operation::kRead, "team/a/config"));
  CHECK_FALSE(allows(acl, Operation::kRead, "team/a/b/config"));
  CHECK_FALSE(allows(acl, Operation::kRead, "team/a/config/x"));
  CHECK_FALSE(allows(acl, Operation::kRead, "team/config"));
  CHECK(allows(acl, Operation::kRead, "multi/a/x/y/z"));
  CHECK(allows(acl, Operation::kRead, "multi/a/x/"));
  CHECK_FALSE(allows(acl, Operation::kRead, "multi/a/x"));
  CHECK_FALSE(allows(acl, Operation::kRead, "multi/a/y/z"));
  CHECK(allows(acl, Operation::kRead, "any/top"));
  CHECK_FALSE(allows(acl, Operation::kRead, "a/b/top"));
}

TEST_CASE("a prefix policy on app/* grants nothing to its siblings or the parent (SECURITY E47)") {
  const Acl acl = acl_from_stanzas({{"secret/data/app/*", "[\"read\"]"}});
  CHECK(allows(acl, Operation::kRead, "secret/data/app/x"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/data/app2/x"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/data/app"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/metadata/app/x"));
  CHECK_FALSE(allows(acl, Operation::kUpdate, "secret/data/app/x"));
  const Decision none = acl.authorize(request(Operation::kRead, "other/x"));
  CHECK_FALSE(none.allowed);
  CHECK(none.matched_pattern.empty());
  CHECK(none.reason == "no policy grants access to this path");
}

TEST_CASE("a more specific deny beats a broader grant, for LIST too (SECURITY E50)") {
  const Policy p1 = must_parse("p1", R"(
path "secret/data/*" { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["list", "read"] })");
  const Policy p2 = must_parse("p2", R"(
path "secret/data/app/*" { capabilities = ["deny"] }
path "secret/metadata/app/*" { capabilities = ["deny"] })");
  const Acl acl = acl_of({p1, p2});
  const Decision d = acl.authorize(request(Operation::kRead, "secret/data/app/x"));
  CHECK_FALSE(d.allowed);
  CHECK(d.policy_name == "p2");
  CHECK(d.capabilities == pol::kDeny);
  CHECK(d.reason == "denied by path \"secret/data/app/*\": explicit deny in policy \"p2\"");
  CHECK(allows(acl, Operation::kRead, "secret/data/other"));
  // GHSA-xp3c-3jw3-4vcr: the slash-less "secret/metadata/app" only matches the broad grant.
  CHECK_FALSE(allows(acl, Operation::kList, "secret/metadata/app/"));
  CHECK_FALSE(allows(acl, Operation::kList, "secret/metadata/app"));  // slash added for LIST
  CHECK(allows(acl, Operation::kList, "secret/metadata/"));
  CHECK(allows(acl, Operation::kList, "secret/metadata/other/"));

  // A deny that only the slash-less path reaches still denies the LIST, even when a grant wins
  // on the slashed path.
  const Acl mixed =
      acl_from_stanzas({{"kv/+/app", "[\"deny\"]"}, {"kv/metadata/app/*", "[\"list\"]"}});
  const Decision m = mixed.authorize(request(Operation::kList, "kv/metadata/app/"));
  CHECK_FALSE(m.allowed);
  CHECK(m.matched_pattern == "kv/+/app");
  CHECK(allows(mixed, Operation::kList, "kv/metadata/app/x/"));
}

TEST_CASE("LIST also matches an exact stanza without the slash and wildcards tried both ways") {
  const Acl acl = acl_from_stanzas({{"kv/metadata/team", "[\"list\"]"},
                                    {"kv/+/apps", "[\"list\"]"},
                                    {"other/dir/", "[\"list\"]"}});
  CHECK(allows(acl, Operation::kList, "kv/metadata/team/"));
  CHECK(allows(acl, Operation::kList, "kv/metadata/apps/"));  // only "kv/metadata/apps" matches
  CHECK(allows(acl, Operation::kList, "other/dir/"));
  CHECK_FALSE(allows(acl, Operation::kRead, "kv/metadata/team/"));  // non-LIST: exact only
  CHECK_FALSE(allows(acl, Operation::kList, "kv/metadata/teams/"));
}

TEST_CASE("the same pattern in several policies unions capabilities and deny wins in any order") {
  const Policy read = must_parse("reader", R"(path "secret/x" { capabilities = ["read"] })");
  const Policy update = must_parse("writer", R"(path "secret/x" { capabilities = ["update"] })");
  const Policy deny = must_parse("blocker", R"(path "secret/x" { capabilities = ["deny"] })");
  const Policy sudo =
      must_parse("admin", R"(path "secret/x" { capabilities = ["sudo", "read", "update"] })");

  const Acl both = acl_of({read, update});
  CHECK(allows(both, Operation::kRead, "secret/x"));
  CHECK(allows(both, Operation::kUpdate, "secret/x"));
  CHECK_FALSE(allows(both, Operation::kDelete, "secret/x"));
  const Decision d = both.authorize(request(Operation::kUpdate, "secret/x"));
  CHECK(d.policy_name == "writer");
  CHECK(d.granting_policies == std::vector<std::string>{"writer"});
  CHECK(both.capability_names("secret/x") == std::vector<std::string>{"read", "update"});

  for (const auto& order : std::vector<std::vector<Policy>>{
           {read, deny, sudo}, {deny, read, sudo}, {sudo, read, deny}}) {
    const Acl acl = acl_of(order);
    CHECK_FALSE(allows(acl, Operation::kRead, "secret/x"));
    CHECK(acl.capabilities("secret/x") == pol::kDeny);
    CHECK(acl.capability_names("secret/x") == std::vector<std::string>{"deny"});
  }

  // Twice in one policy counts the same way.
  const Acl twice = acl_of({must_parse("p", R"(path "a" { capabilities = ["read"] }
path "a" { capabilities = ["list"] })")});
  CHECK(twice.capabilities("a") == (pol::kRead | pol::kList));
}

TEST_CASE("root-protected paths need sudo; the root policy allows everything") {
  const Acl plain = acl_from_stanzas({{"sys/*", "[\"read\", \"update\", \"list\"]"}});
  RequestContext r = request(Operation::kRead, "sys/audit");
  r.sudo_required = true;
  const Decision d = plain.authorize(r);
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.reason, "sudo"));
  r.operation = Operation::kList;
  r.path = "sys/leases/lookup/";
  CHECK_FALSE(plain.authorize(r).allowed);

  const Acl admin = acl_from_stanzas({{"sys/*", "[\"read\", \"sudo\"]"}});
  r = request(Operation::kRead, "sys/audit");
  r.sudo_required = true;
  CHECK(admin.authorize(r).allowed);

  const Policy root = pol::root_policy();
  const Acl acl = acl_of({root});
  CHECK(acl.is_root());
  r.path = "anything/at/all";
  r.operation = Operation::kDelete;
  const Decision rd = acl.authorize(r);
  CHECK(rd.allowed);
  CHECK(rd.root);
  CHECK(rd.policy_name == "root");
  CHECK(acl.capability_names("x") == std::vector<std::string>{"root"});
  CHECK(acl.capabilities("x") == pol::kAllCapabilities);

  const Policy other = must_parse("other", R"(path "a" { capabilities = ["read"] })");
  const std::vector<Policy> mixed = {root, other};
  CHECK_FALSE(Acl::build(std::span<const Policy>(mixed), {}).has_value());

  // A default-constructed ACL denies everything.
  CHECK_FALSE(Acl().authorize(request(Operation::kRead, "a")).allowed);
}

TEST_CASE("HEAD and unmatched operations are never granted by a policy") {
  const Acl acl = acl_from_stanzas({{"*", "[\"read\", \"list\", \"update\"]"}});
  CHECK_FALSE(allows(acl, Operation::kHead, "sys/health"));
  CHECK(allows(acl, Operation::kRead, "sys/health"));
}

TEST_CASE("capability listing is sorted and reports deny for no match") {
  const Acl acl = acl_from_stanzas(
      {{"secret/*", "[\"update\", \"read\", \"list\", \"create\", \"sudo\", \"patch\"]"},
       {"secret/none", "[]"}});
  CHECK(acl.capability_names("secret/a") ==
        std::vector<std::string>{"create", "list", "patch", "read", "sudo", "update"});
  CHECK(acl.capability_names("secret/none") == std::vector<std::string>{"deny"});
  CHECK(acl.capability_names("elsewhere") == std::vector<std::string>{"deny"});
  CHECK(acl.capabilities("elsewhere") == 0);
  CHECK(pol::capability_names(pol::kRead | pol::kDeny) == std::vector<std::string>{"deny"});
}

// ---------------------------------------------------------------------------------------------
// Parameter constraints

TEST_CASE("required, allowed and denied parameters apply to create, update and patch") {
  const Acl acl = acl_of({must_parse("p", R"(
path "auth/token/create" {
  capabilities        = ["create", "update", "patch", "read"]
  required_parameters = ["policies"]
  allowed_parameters  = { "policies" = ["app-*", "*-ro", "default"], "ttl" = [], "num_uses" = [1, 2] }
  denied_parameters   = { "policies" = ["app-admin"], "no_parent" = [] }
})")});
  auto check = [&](Operation op, const json& data) {
    return acl.authorize(request(op, "auth/token/create", &data));
  };
  CHECK(check(Operation::kUpdate, {{"policies", "app-web"}}).allowed);
  CHECK(check(Operation::kCreate, {{"policies", "db-ro"}, {"ttl", "1h"}}).allowed);
  // Rule keys are matched case-insensitively; a required parameter must be sent lower-case
  // (Vault looks up the lower-cased name).
  CHECK(check(Operation::kPatch, {{"policies", "default"}, {"NUM_USES", 2}}).allowed);
  CHECK_FALSE(check(Operation::kPatch, {{"POLICIES", "default"}}).allowed);
  CHECK_FALSE(check(Operation::kUpdate, {{"policies", "default"}, {"No_Parent", true}}).allowed);
  CHECK(check(Operation::kUpdate, {{"policies", "default"}, {"num_uses", 2.0}}).allowed);

  const Decision missing = check(Operation::kUpdate, {{"ttl", "1h"}});
  CHECK_FALSE(missing.allowed);
  CHECK(contains(missing.reason, "required parameter \"policies\" missing"));
  const Decision outside = check(Operation::kUpdate, {{"policies", "app-web"}, {"period", "1h"}});
  CHECK_FALSE(outside.allowed);
  CHECK(contains(outside.reason, "parameter \"period\" not allowed"));
  CHECK_FALSE(check(Operation::kUpdate, {{"policies", "root"}}).allowed);
  CHECK_FALSE(check(Operation::kUpdate, {{"policies", "default"}, {"num_uses", 3}}).allowed);
  // Denied beats allowed: app-admin matches the allowed glob app-*.
  const Decision denied = check(Operation::kUpdate, {{"policies", "app-admin"}});
  CHECK_FALSE(denied.allowed);
  CHECK(contains(denied.reason, "parameter \"policies\" denied"));
  CHECK_FALSE(check(Operation::kUpdate, {{"policies", "app-x"}, {"no_parent", true}}).allowed);
  // Reasons never echo the values.
  CHECK_FALSE(contains(denied.reason, "app-admin"));

  // Reads and deletes are not parameter-checked (HashiCorp Vault).
  const json read_data = {{"anything", "x"}};
  CHECK(acl.authorize(request(Operation::kRead, "auth/token/create", &read_data)).allowed);
}

TEST_CASE("a * key allows or denies every other parameter") {
  const Acl open = acl_of({must_parse("p", R"(path "a" {
  capabilities = ["update"]
  allowed_parameters = { "*" = [], "mode" = ["safe"] }
})")});
  const json any = {{"x", 1}, {"mode", "safe"}};
  const json unsafe = {{"x", 1}, {"mode", "fast"}};
  CHECK(allows(open, Operation::kUpdate, "a", &any));
  CHECK_FALSE(allows(open, Operation::kUpdate, "a", &unsafe));

  const Acl closed = acl_of({must_parse("p", R"(path "a" {
  capabilities = ["update"]
  denied_parameters = { "*" = [] }
})")});
  const json one = {{"x", 1}};
  const json none = json::object();
  const Decision d = closed.authorize(request(Operation::kUpdate, "a", &one));
  CHECK_FALSE(d.allowed);
  CHECK(contains(d.reason, "all parameters are denied"));
  CHECK(allows(closed, Operation::kUpdate, "a", &none));
  CHECK(allows(closed, Operation::kUpdate, "a"));
}

TEST_CASE("globs in parameter values match by prefix, suffix or both; a lone * is literal") {
  const Acl acl = acl_of({must_parse("p", R"(path "a" {
  capabilities = ["update"]
  allowed_parameters = { "v" = ["pre*", "*suf", "*mid*", "*"] }
})")});
  for (const auto& [value, expected] : std::vector<std::pair<std::string, bool>>{{"prefix", true},
                                                                                 {"the-suf", true},
                                                                                 {"xmidx", true},
                                                                                 {"*", true},
                                                                                 {"other", false},
                                                                                 {"sufx", false}}) {
    CAPTURE(value);
    const json data = {{"v", value}};
    CHECK(allows(acl, Operation::kUpdate, "a", &data) == expected);
  }
}

TEST_CASE("list values and comma strings cannot smuggle a denied or unlisted value") {
  const Acl acl = acl_of({must_parse("p", R"(path "auth/token/create" {
  capabilities = ["update"]
  allowed_parameters = { "policies" = ["app-*", "default"], "*" = [] }
  denied_parameters = { "policies" = ["root"] }
})")});
  auto allowed = [&](const json& data) {
    return acl.authorize(request(Operation::kUpdate, "auth/token/create", &data)).allowed;
  };
  CHECK(allowed({{"policies", json::array({"app-a", "default"})}}));
  CHECK(allowed({{"policies", "app-a, default"}}));
  CHECK_FALSE(allowed({{"policies", json::array({"default", "root"})}}));
  CHECK_FALSE(allowed({{"policies", "default,root"}}));
  CHECK_FALSE(allowed({{"policies", json::array({"app-a", "admin"})}}));
  // The glob app-* must not cover "app-a,admin" as one string.
  CHECK_FALSE(allowed({{"policies", "app-a,admin"}}));
}

TEST_CASE("parameter rules merge across policies on the same pattern") {
  const Policy a = must_parse("a", R"(path "x" {
  capabilities = ["update"]
  allowed_parameters = { "color" = ["red"], "size" = ["s"] }
  required_parameters = ["color"]
  max_wrapping_ttl = "5m"
  min_wrapping_ttl = "20s"
})");
  const Policy b = must_parse("b", R"(path "x" {
  capabilities = ["create"]
  allowed_parameters = { "color" = ["blue"], "size" = [] }
  required_parameters = ["size"]
  max_wrapping_ttl = "1m"
  min_wrapping_ttl = "10s"
})");
  const Acl acl = acl_of({a, b});
  auto allowed = [&](const json& data) {
    return acl.authorize(request(Operation::kUpdate, "x", &data)).allowed;
  };
  CHECK(allowed({{"color", "blue"}, {"size", "xl"}}));  // [] on one side: any size
  CHECK(allowed({{"color", "red"}, {"size", "s"}}));
  CHECK_FALSE(allowed({{"color", "green"}, {"size", "s"}}));
  CHECK_FALSE(allowed({{"color", "red"}}));  // required unioned
  const json ok = {{"color", "red"}, {"size", "s"}};
  const Decision d = acl.authorize(request(Operation::kCreate, "x", &ok));
  CHECK(d.allowed);
  CHECK(d.max_wrapping_ttl == 60s);  // lowest non-zero wins
  CHECK(d.min_wrapping_ttl == 10s);
  CHECK_FALSE(d.wrapping_ttl_allows(0s));
  CHECK_FALSE(d.wrapping_ttl_allows(5s));
  CHECK(d.wrapping_ttl_allows(15s));
  CHECK(d.wrapping_ttl_allows(30s));
  CHECK_FALSE(d.wrapping_ttl_allows(2min));
}

// ---------------------------------------------------------------------------------------------
// Templates

TEST_CASE("templated paths render for the token's entity, aliases and groups") {
  const Policy p = must_parse("t", R"(
path "kv/data/{{identity.entity.id}}/*" { capabilities = ["read"] }
path "kv/data/by-name/{{identity.entity.name}}" { capabilities = ["read"] }
path "kv/data/team/{{identity.entity.metadata.team}}/*" { capabilities = ["read"] }
path "kv/data/user/{{identity.entity.aliases.auth_userpass_1a2b.name}}" { capabilities = ["read"] }
path "kv/data/group/{{identity.groups.names.ops.id}}" { capabilities = ["read"] }
path "kv/data/missing/{{identity.entity.metadata.nope}}" { capabilities = ["read"] }
)");
  TemplateContext id;
  id.entity_id = "7f0c";
  id.entity_name = "alice";
  id.entity_metadata = {{"team", "payments"}};
  id.aliases["auth_userpass_1a2b"] = {
      .id = "al-1", .name = "alice.smith", .metadata = {}, .custom_metadata = {}};
  id.groups.push_back({.id = "g-42", .name = "ops", .metadata = {}});
  const Acl acl = acl_of({p}, id);
  CHECK(allows(acl, Operation::kRead, "kv/data/7f0c/x"));
  CHECK(allows(acl, Operation::kRead, "kv/data/by-name/alice"));
  CHECK(allows(acl, Operation::kRead, "kv/data/team/payments/y"));
  CHECK(allows(acl, Operation::kRead, "kv/data/user/alice.smith"));
  CHECK(allows(acl, Operation::kRead, "kv/data/group/g-42"));
  CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/team/other/y"));
  // The unresolvable stanza is dropped rather than matched literally or with an empty value.
  CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/missing/"));
  CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/missing/{{identity.entity.metadata.nope}}"));
  const Decision d = acl.authorize(request(Operation::kRead, "kv/data/7f0c/x"));
  CHECK(d.matched_pattern == "kv/data/7f0c/*");

  // Without an entity every templated stanza is dropped.
  const Acl anonymous = acl_of({p});
  CHECK_FALSE(allows(anonymous, Operation::kRead, "kv/data//x"));
  CHECK(anonymous.capabilities("kv/data/by-name/") == 0);
}

TEST_CASE("a substituted value never widens the grant (GHSA-59w7-v8rr-pr4p)") {
  const Policy p = must_parse("t", R"(
path "kv/data/{{identity.entity.name}}/*" { capabilities = ["read"] }
path "kv/data/shared" { capabilities = ["read"] })");
  for (std::string_view name : {"*", "a*", "+", "a/b", "..", "a..b", "x,y", "", "a\nb"}) {
    CAPTURE(name);
    TemplateContext id;
    id.entity_id = "e1";
    id.entity_name = std::string(name);
    const Acl acl = acl_of({p}, id);
    // Only the untemplated stanza survives.
    CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/" + std::string(name) + "/x"));
    CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/other/x"));
    CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/a/b/x"));
    CHECK(allows(acl, Operation::kRead, "kv/data/shared"));
  }
  // A value that looks like a template is substituted literally, not expanded again.
  TemplateContext id;
  id.entity_id = "e1";
  id.entity_name = "{{identity.entity.id}}";
  const Acl acl = acl_of({p}, id);
  CHECK(allows(acl, Operation::kRead, "kv/data/{{identity.entity.id}}/x"));
  CHECK_FALSE(allows(acl, Operation::kRead, "kv/data/e1/x"));
}

TEST_CASE("render_path_template resolves alias and group selectors and rejects unsafe values") {
  TemplateContext id;
  id.entity_id = "e1";
  id.aliases["acc"] = {
      .id = "a1", .name = "n1", .metadata = {{"k", "mv"}}, .custom_metadata = {{"c", "cv"}}};
  id.groups.push_back({.id = "g1", .name = "grp", .metadata = {{"env", "prod"}}});
  struct Row {
    std::string_view in;
    std::optional<std::string> out;
  };
  for (const Row& row : std::vector<Row>{
           {"a/{{identity.entity.aliases.acc.id}}", "a/a1"},
           {"a/{{identity.entity.aliases.acc.metadata.k}}", "a/mv"},
           {"a/{{identity.entity.aliases.acc.custom_metadata.c}}", "a/cv"},
           {"a/{{identity.entity.aliases.other.name}}", std::nullopt},
           {"a/{{identity.groups.ids.g1.name}}", "a/grp"},
           {"a/{{identity.groups.ids.g1.metadata.env}}", "a/prod"},
           {"a/{{identity.groups.names.grp.metadata.env}}-{{identity.entity.id}}", "a/prod-e1"},
           {"a/{{identity.groups.names.nope.id}}", std::nullopt},
           {"no/templates", "no/templates"},
       }) {
    CAPTURE(row.in);
    CHECK(pol::render_path_template(row.in, id) == row.out);
  }
}

// ---------------------------------------------------------------------------------------------
// Conditions

TEST_CASE("a time_window condition allows inside the window and names itself when it denies") {
  const Acl acl = acl_of({must_parse("prod", R"(path "secret/data/prod/*" {
  capabilities = ["read"]
  conditions { time_window = "Mon-Fri 07:00-19:00 UTC" }
})")});
  RequestContext r = request(Operation::kRead, "secret/data/prod/db");
  struct Row {
    int day;
    int hour;
    int minute;
    bool allowed;
  };
  for (const Row& row :
       {Row{3, 12, 0, true}, Row{1, 7, 0, true}, Row{5, 18, 59, true}, Row{3, 6, 59, false},
        Row{3, 19, 0, false}, Row{6, 12, 0, false}, Row{7, 12, 0, false}}) {
    CAPTURE(row.day);
    CAPTURE(row.hour);
    r.now = utc(row.day, row.hour, row.minute);
    CHECK(acl.authorize(r).allowed == row.allowed);
  }
  r.now = utc(6, 12, 0);
  const Decision d = acl.authorize(r);
  CHECK(d.reason ==
        "denied by path \"secret/data/prod/*\": condition time_window \"Mon-Fri 07:00-19:00 UTC\" "
        "not met");
  CHECK(d.policy_name == "prod");
  CHECK(d.matched_pattern == "secret/data/prod/*");
}

TEST_CASE("time windows support day lists, wrapping day ranges and crossing midnight") {
  const TimeWindow night = *TimeWindow::parse("Fri 22:00-02:00 UTC");
  CHECK(night.contains(utc(5, 23, 0)));  // Friday night
  CHECK(night.contains(utc(6, 1, 59)));  // Saturday early, still Friday's window
  CHECK_FALSE(night.contains(utc(6, 2, 0)));
  CHECK_FALSE(night.contains(utc(5, 1, 0)));  // Friday early belongs to Thursday's window
  CHECK_FALSE(night.contains(utc(6, 23, 0)));

  const TimeWindow list = *TimeWindow::parse("mon,Wed 09:00-10:00 utc");
  CHECK(list.contains(utc(1, 9, 30)));
  CHECK(list.contains(utc(3, 9, 0)));
  CHECK_FALSE(list.contains(utc(2, 9, 30)));

  const TimeWindow weekend = *TimeWindow::parse("Sat-Sun,Wed 00:00-24:00 UTC");
  CHECK(weekend.contains(utc(6, 0, 0)));
  CHECK(weekend.contains(utc(7, 23, 59)));
  CHECK(weekend.contains(utc(3, 5, 0)));
  CHECK_FALSE(weekend.contains(utc(1, 12, 0)));

  const TimeWindow wrap = *TimeWindow::parse("Fri-Mon 10:00-11:00 UTC");
  for (int day : {5, 6, 7, 8}) CHECK(wrap.contains(utc(day, 10, 30)));
  CHECK_FALSE(wrap.contains(utc(2, 10, 30)));

  const TimeWindow daily = *TimeWindow::parse("22:00-00:00 UTC");
  CHECK(daily.contains(utc(2, 23, 59)));
  CHECK_FALSE(daily.contains(utc(3, 0, 0)));
}

TEST_CASE("source_cidrs matches IPv4, IPv6 and IPv4-mapped addresses") {
  const Acl acl = acl_of({must_parse("net", R"(path "db/creds/ro" {
  capabilities = ["read"]
  conditions { source_cidrs = ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"] }
})")});
  RequestContext r = request(Operation::kRead, "db/creds/ro");
  for (const auto& [ip, expected] :
       std::vector<std::pair<std::string, bool>>{{"10.200.3.4", true},
                                                 {"192.168.1.7", true},
                                                 {"192.168.1.8", false},
                                                 {"11.0.0.1", false},
                                                 {"2001:db8:1::5", true},
                                                 {"2001:db9::1", false},
                                                 {"::ffff:10.1.1.1", true},
                                                 {"[2001:db8::1]", true},
                                                 {"fe80::1%eth0", false},
                                                 {"", false},
                                                 {"not-an-ip", false}}) {
    CAPTURE(ip);
    r.source_ip = ip;
    const Decision d = acl.authorize(r);
    CHECK(d.allowed == expected);
    if (!expected) {
      CHECK(contains(d.reason, "condition source_cidrs"));
      if (!ip.empty()) CHECK_FALSE(contains(d.reason, ip));  // the caller's address is data
    }
  }
  const IpNetwork n = *IpNetwork::parse("10.1.2.3/8");
  CHECK(n.to_string() == "10.0.0.0/8");
  CHECK(IpNetwork::parse("::/0")->contains("2001:db8::1"));
  CHECK(IpNetwork::parse("0.0.0.0/0")->contains("::ffff:1.2.3.4"));
}

TEST_CASE("identity_kinds, require_mfa, require_intent and max_ttl conditions") {
  const Acl acl = acl_of({must_parse("c", R"(
path "kinds" { capabilities = ["read"]
  conditions { identity_kinds = ["human", "agent"] } }
path "mfa" { capabilities = ["read"]
  conditions { require_mfa = true } }
path "intent" { capabilities = ["read"]
  conditions { require_intent = true } }
path "ttl" { capabilities = ["update"]
  conditions { max_ttl = "1h" } }
)")});
  RequestContext r = request(Operation::kRead, "kinds");
  r.identity_kind = "agent";
  CHECK(acl.authorize(r).allowed);
  r.identity_kind = "workload";
  CHECK(acl.authorize(r).reason ==
        "denied by path \"kinds\": condition identity_kinds [human, agent] not met");
  r.identity_kind = "";
  CHECK_FALSE(acl.authorize(r).allowed);

  r = request(Operation::kRead, "mfa");
  CHECK(acl.authorize(r).reason == "denied by path \"mfa\": condition require_mfa not met");
  r.mfa_validated = true;
  CHECK(acl.authorize(r).allowed);

  r = request(Operation::kRead, "intent");
  r.intent = "   ";
  CHECK(acl.authorize(r).reason == "denied by path \"intent\": condition require_intent not met");
  r.intent = "INC-1234 rotate db";
  CHECK(acl.authorize(r).allowed);

  r = request(Operation::kUpdate, "ttl");
  r.requested_ttl = 2h;
  CHECK(acl.authorize(r).reason == "denied by path \"ttl\": condition max_ttl \"1h\" not met");
  r.requested_ttl = 1h;
  CHECK(acl.authorize(r).allowed);
  r.requested_ttl = 0s;  // nothing asked: allowed, and the core is told the cap
  const Decision d = acl.authorize(r);
  CHECK(d.allowed);
  CHECK(d.max_ttl == 1h);
}

TEST_CASE("conditions are evaluated only for the winning stanza") {
  const Acl acl = acl_of({must_parse("p", R"(
path "secret/*" { capabilities = ["read"]
  conditions { require_mfa = true } }
path "secret/open/*" { capabilities = ["read"] }
path "team/+/x" { capabilities = ["read"]
  conditions { require_intent = true } }
path "team/*" { capabilities = ["read"] }
)")});
  // The broad stanza's failing MFA condition does not matter where it does not win.
  CHECK(allows(acl, Operation::kRead, "secret/open/a"));
  CHECK_FALSE(allows(acl, Operation::kRead, "secret/other"));
  // The winning stanza's condition fails: no fallback to the unconditional team/*.
  const Decision d = acl.authorize(request(Operation::kRead, "team/a/x"));
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == "denied by path \"team/+/x\": condition require_intent not met");
  CHECK(allows(acl, Operation::kRead, "team/a/y"));
}

TEST_CASE("a failing condition removes only its own policy's grant on a shared pattern") {
  const Policy base = must_parse("base", R"(path "app/*" { capabilities = ["read"] })");
  const Policy change = must_parse("change", R"(path "app/*" {
  capabilities = ["update", "read"]
  conditions { require_mfa = true }
})");
  const Acl acl = acl_of({base, change});
  RequestContext r = request(Operation::kRead, "app/x");
  Decision d = acl.authorize(r);
  CHECK(d.allowed);
  CHECK(d.granting_policies == std::vector<std::string>{"base"});
  CHECK(d.capabilities == pol::kRead);

  r.operation = Operation::kUpdate;
  d = acl.authorize(r);
  CHECK_FALSE(d.allowed);
  CHECK(d.policy_name == "change");
  CHECK(d.reason == "denied by path \"app/*\": condition require_mfa not met");

  r.mfa_validated = true;
  d = acl.authorize(r);
  CHECK(d.allowed);
  CHECK(d.policy_name == "change");
  r.operation = Operation::kRead;
  CHECK(acl.authorize(r).granting_policies == std::vector<std::string>{"base", "change"});
  // sys/capabilities reports what the stanza can grant, conditions aside.
  CHECK(acl.capability_names("app/x") == std::vector<std::string>{"read", "update"});
}

TEST_CASE("the TTL cap a decision reports is the most generous of the granting policies") {
  const Policy capped = must_parse("capped", R"(path "auth/token/create" {
  capabilities = ["update"]
  conditions { max_ttl = "30m" }
})");
  const Policy wider = must_parse("wider", R"(path "auth/token/create" {
  capabilities = ["update"]
  conditions { max_ttl = "2h" }
})");
  const Policy free =
      must_parse("free", R"(path "auth/token/create" { capabilities = ["update"] })");
  RequestContext r = request(Operation::kUpdate, "auth/token/create");
  CHECK(acl_of({capped}).authorize(r).max_ttl == 30min);
  CHECK(acl_of({capped, wider}).authorize(r).max_ttl == 2h);
  CHECK(acl_of({capped, free}).authorize(r).max_ttl == 0s);
  r.requested_ttl = 1h;  // over "capped" only: "wider" alone grants, and caps at 2h
  const Decision d = acl_of({capped, wider}).authorize(r);
  CHECK(d.allowed);
  CHECK(d.granting_policies == std::vector<std::string>{"wider"});
  CHECK(d.max_ttl == 2h);
}

namespace coffer::policy {

TEST_CASE("normalize_policy_list lower-cases, drops empty names, sorts and de-duplicates") {
  CHECK(normalize_policy_list({"Web", "", "db", "web", "DB", "admin"}) ==
        std::vector<std::string>{"admin", "db", "web"});
  CHECK(normalize_policy_list({}).empty());
}

}  // namespace coffer::policy
