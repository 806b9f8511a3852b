#include "vault/core/core.h"
#include "vault/base/log.h"
#include "vault/base/time_format.h"

#include <charconv>
#include <cstdint>
#include <ctime>

#include "vault/base/duration.h"
#include "vault/base/encoding.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::core {
namespace {

constexpr std::string_view kClusterPath = "core/cluster";

bool is_write(api::Operation op) {
  return op == api::Operation::kCreate || op == api::Operation::kUpdate;
}

api::Response method_not_allowed() { return api::Response::error(405, {}); }

// Thin adapters over fields:: for the handlers below, which want defaults
// rather than optionals.
const nlohmann::json* field(const nlohmann::json& body, const char* name) {
  return fields::find(body, name);
}

Result<int> int_field(const nlohmann::json& body, const char* name, int fallback) {
  COFFER_ASSIGN_OR_RETURN(auto value, fields::int_field(body, name));
  if (!value) return fallback;
  // Out-of-range values must not wrap into valid-looking ones.
  if (*value < INT32_MIN || *value > INT32_MAX) {
    return fail(invalid_argument(std::string("field '") + name + "' is out of range"));
  }
  return static_cast<int>(*value);
}

Result<bool> bool_field(const nlohmann::json& body, const char* name) {
  COFFER_ASSIGN_OR_RETURN(auto value, fields::bool_field(body, name));
  return value.value_or(false);
}

}  // namespace

Core::Core(storage::Backend& backend, TokenStoreFactory make_token_store,
           std::span<const engines::EngineRegistration> engines, CoreOptions options,
           const Clock& clock)
    : backend_(backend),
      clock_(clock),
      options_(options),
      barrier_(backend, clock),
      seal_(backend, barrier_),
      tokens_(make_token_store(barrier_, clock)),
      mounts_(barrier_, clock, engines, options.default_lease_ttl.count()),
      policies_(barrier_),
      identity_view_(barrier_, "sys/identity/"),
      identity_(identity_view_, clock,
                [this](std::string_view accessor) -> std::optional<identity::AuthMountInfo> {
                  // Token auth is the only auth mount so far.
                  if (cluster_identity() && accessor == token_mount_accessor()) {
                    return identity::AuthMountInfo{"auth/token/", "token"};
                  }
                  return std::nullopt;
                }),
      audit_(barrier_, clock, options.audit),
      engines_(engines) {}

Status Core::mount(MountEntry entry) {
  if (barrier_.sealed()) return sealed_error();
  return mounts_.mount(std::move(entry));
}

Status Core::after_unseal() {
  COFFER_TRY(load_cluster_identity());
  COFFER_TRY(policies_.load());
  COFFER_TRY(identity_.load());
  COFFER_TRY(mounts_.load());
  COFFER_TRY(audit_.load());
  // Best effort: the unseal itself is not a request anyone could be refused.
  (void)audit_.log_event("unseal", nullptr);
  return ok_status();
}

Core::~Core() { seal(); }

Result<InitResult> Core::initialize(int shares, int threshold, std::string_view root_token_id) {
  COFFER_ASSIGN_OR_RETURN(auto outcome, seal_.initialize(shares, threshold));
  // The barrier is open until we seal below: create what must exist from the start.
  auto root_token = tokens_->create_root_token(root_token_id);
  Status cluster = load_cluster_identity();
  seal();
  if (!root_token) return fail(root_token.error());
  if (!cluster.ok()) return fail(cluster);
  return InitResult{std::move(outcome.shares), std::move(*root_token)};
}

Result<seal::UnsealProgress> Core::submit_unseal_share(SecretBytes share) {
  COFFER_ASSIGN_OR_RETURN(auto progress, seal_.submit_share(std::move(share)));
  if (!progress.sealed && !cluster_identity()) {
    if (Status s = after_unseal(); !s.ok()) {
      seal();
      return fail(s);
    }
  }
  return progress;
}

void Core::seal() {
  tokens_->seal();
  mounts_.clear();
  policies_.clear();
  identity_.clear();
  audit_.clear();
  cluster_.store(nullptr);
  seal_.seal();
}

Status Core::load_cluster_identity() {
  COFFER_ASSIGN_OR_RETURN(auto stored, barrier_.get(kClusterPath));
  ClusterIdentity identity;
  if (stored) {
    auto j = nlohmann::json::parse(*stored, nullptr, false);
    if (j.is_discarded() || !j.contains("name") || !j.contains("id")) {
      return internal_error("cluster identity is corrupt");
    }
    identity = {j["name"].get<std::string>(), j["id"].get<std::string>()};
  } else {
    identity = {"coffer-cluster-" + random_base62(8), random_uuid()};
    COFFER_TRY(barrier_.put(kClusterPath,
                            nlohmann::json{{"name", identity.name}, {"id", identity.id}}.dump()));
  }
  cluster_.store(std::make_shared<const ClusterIdentity>(std::move(identity)));
  return ok_status();
}

namespace {

// Vault's answer when no audit device could record a request.
api::Response audit_failure() { return api::Response::error(500, {"internal error"}); }

}  // namespace

api::Response Core::handle(api::Request request) {
  const std::string& path = request.path;
  if (path == "sys/init") return handle_init(request);
  if (path == "sys/seal-status") {
    return request.operation == api::Operation::kRead ? handle_seal_status() : method_not_allowed();
  }
  if (path == "sys/unseal") {
    return is_write(request.operation) ? handle_unseal(request) : method_not_allowed();
  }
  if (path == "sys/health") return handle_health(request);
  if (path == "sys/leader") {
    return request.operation == api::Operation::kRead ? handle_leader() : method_not_allowed();
  }
  if (barrier_.sealed()) return api::Response::error(sealed_error());
  if (!audit_.enabled()) return serve(std::move(request), nullptr, nullptr);

  // Audited: the request as received is kept for both entries.
  audit::AuditRecord record;
  record.id = random_uuid();
  const api::ScopedRequestId scoped_id(record.id);
  api::Request logged = request;
  record.request = &logged;
  api::Response response = serve(std::move(request), &record, &logged);
  // No response leaves unrecorded: without a response entry the client gets 500, not the data.
  if (!audit_.log_response(record, response).ok()) return audit_failure();
  return response;
}

namespace {

// Whether a token bound to `cidrs` may be used from `address` (unbound tokens: anywhere).
bool token_usable_from(const std::vector<std::string>& cidrs, const std::string& address) {
  if (cidrs.empty()) return true;
  for (const auto& text : cidrs) {
    auto network = policy::IpNetwork::parse(text);
    if (network && network->contains(address)) return true;
  }
  return false;
}

audit::AuditAuth audit_auth(const TokenEntry& token, std::string_view raw_token,
                            const identity::Entity* entity) {
  audit::AuditAuth auth;
  auth.client_token = std::string(raw_token);
  auth.token_key = token.id_hash;
  auth.accessor = token.accessor;
  auth.display_name = token.display_name;
  auth.entity_id = token.entity_id;
  auth.token_type = token.type;
  auth.policies = token.policies;
  auth.token_policies = token.policies;
  auth.metadata = token.meta;
  if (entity) {
    auth.identity_kind = entity->identity_kind;
    auth.identity_policies = entity->policies;
    auth.policies.insert(auth.policies.end(), entity->policies.begin(), entity->policies.end());
  }
  return auth;
}

}  // namespace

api::Response Core::serve(api::Request request, audit::AuditRecord* audit, api::Request* logged) {
  const std::string& path = request.path;
  // Writes the request entry; false when no device could record it (fail closed).
  auto record_request = [&](std::string error = {}) {
    if (!audit) return true;
    audit->error = std::move(error);
    return audit_.log_request(*audit).ok();
  };
  // A refused request is recorded with the reasons the client gets.
  auto denied = [&](api::Response response) {
    std::string why;
    if (audit && response.body && response.body->contains("errors")) {
      for (const auto& e : (*response.body)["errors"]) {
        if (!e.is_string()) continue;
        if (!why.empty()) why += "; ";
        why += e.get<std::string>();
      }
    }
    if (!record_request(std::move(why))) return audit_failure();
    return response;
  };

  // Unauthenticated, as in Vault: anyone holding a wrapping token may look it up.
  if (path == "sys/wrapping/lookup") {
    if (!record_request()) return audit_failure();
    return handle_wrapping(request, TokenEntry{});
  }

  auto token = tokens_->lookup(request.client_token);
  if (!token) return denied(api::Response::error(token.error()));
  if (!*token) return denied(api::Response::error(permission_denied()));
  if (!token_usable_from((*token)->bound_cidrs, request.remote_address)) {
    return denied(api::Response::error(permission_denied()));
  }

  // Route before authorising: a write to an engine path is a `create` when the
  // item does not exist yet, and policies grant create and update separately.
  std::optional<Route> route;
  if (!path.starts_with("sys/") && !path.starts_with("auth/")) {
    route = mounts_.route(path);
    if (route && request.operation == api::Operation::kUpdate) {
      api::Request relative;
      relative.operation = request.operation;
      relative.path = route->relative_path;
      if (auto exists = route->mount->engine->exists(relative); exists && !*exists) {
        request.operation = api::Operation::kCreate;
      }
    }
  }
  auto decision = authorise(request, **token);
  if (audit) {
    logged->operation = request.operation;
    const TokenEntry& entry = **token;
    auto entity = entry.entity_id.empty() ? nullptr : identity_.entity(entry.entity_id);
    audit->auth = audit_auth(**token, request.client_token, entity.get());
    audit->policy = audit::PolicyResults{decision.allowed, decision.granting_policies,
                                         decision.matched_pattern, decision.reason};
    if (route) {
      audit->mount_point = route->mount->entry.path;
      audit->mount_type = route->mount->entry.type;
    }
  }
  if (!decision.allowed) {
    std::vector<std::string> errors{"permission denied"};
    if (!decision.reason.empty()) errors.push_back(decision.reason);
    return denied(api::Response::error(403, std::move(errors)));
  }
  // Also for unwrapped requests: a stanza with a wrapping bound makes wrapping mandatory.
  if (!decision.wrapping_ttl_allows(std::chrono::seconds(request.wrap_ttl))) {
    return denied(api::Response::error(
        403, {"permission denied", request.wrap_ttl > 0
                                       ? "wrapping TTL outside the policy's bounds"
                                       : "the policy requires this response to be wrapped"}));
  }
  // The request entry is on record before anything runs.
  if (!record_request()) return audit_failure();
  // A limited-use token spends a use only on a request it was allowed to make.
  auto last_use = tokens_->consume_use(**token);
  if (!last_use) return api::Response::error(last_use.error());
  const std::int64_t wrap_ttl = request.wrap_ttl;
  std::string creation_path = wrap_ttl > 0 ? request.path : std::string();
  api::Response response;
  if (route) {
    request.path = std::move(route->relative_path);
    // `route->mount` keeps the engine alive even if it is unmounted meanwhile.
    response = route->mount->engine->handle(request);
  } else {
    response = dispatch(std::move(request), **token, decision);
  }
  if (*last_use) {
    // The token already authenticates nothing; this removes it, its children and cubbyhole.
    if (Status s = tokens_->revoke(**token); !s.ok()) {
      log::error("could not revoke a used-up token: " + s.message());
    }
  }
  if (wrap_ttl > 0) return wrap_response(std::move(response), wrap_ttl, creation_path);
  return response;
}

policy::Decision Core::authorise(const api::Request& request, const TokenEntry& token) const {
  policy::Decision decision;
  std::shared_ptr<const identity::Entity> entity;
  if (!token.entity_id.empty()) {
    entity = identity_.entity(token.entity_id);
    if (!entity || entity->disabled) {
      decision.reason =
          entity ? "the token's entity is disabled" : "the token's entity no longer exists";
      return decision;
    }
  }
  if (token.is_root()) {
    decision.allowed = true;
    decision.root = true;
    decision.capabilities = policy::kAllCapabilities;
    return decision;
  }
  // Tokens without an entity (the common machine case) use their policy list as it is.
  const std::vector<std::string>* names = &token.policies;
  std::vector<std::string> merged;
  policy::TemplateContext identity_context;
  std::string identity_key;
  if (entity) {
    merged = token.policies;
    merged.insert(merged.end(), entity->policies.begin(), entity->policies.end());
    std::ranges::sort(merged);
    merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    names = &merged;
    identity_context = identity::IdentityStore::template_context(*entity);
    identity_key = entity->id + "#" + std::to_string(entity->revision);
  }
  auto acl = policies_.acl_for(*names, identity_context, identity_key);
  if (!acl) {
    decision.reason = "policies could not be evaluated";
    return decision;
  }
  policy::RequestContext context;
  context.path = request.path;
  context.operation = request.operation;
  context.data = &request.body;
  context.sudo_required = sudo_required(request.path, request.operation);
  context.source_ip = request.remote_address;
  context.now = clock_.now();
  context.intent = request.intent;
  context.identity_kind = entity ? entity->identity_kind : std::string();
  context.mfa_validated = token.mfa_validated;
  // The TTL a request asks for, for policies' max_ttl condition.
  if (auto ttl = fields::duration_field(request.body, "ttl"); ttl && *ttl) {
    context.requested_ttl = std::chrono::seconds(**ttl);
  }
  return (*acl)->authorize(context);
}

bool Core::sudo_required(std::string_view path, api::Operation op) {
  // vault-api.md §1.8: root-protected paths need sudo as well as the capability.
  static constexpr std::string_view kExact[] = {"sys/remount",
                                                "sys/audit",
                                                "sys/seal",
                                                "sys/step-down",
                                                "sys/rotate",
                                                "sys/config/cors",
                                                "auth/token/revoke-orphan",
                                                "auth/token/accessors/"};
  static constexpr std::string_view kPrefixes[] = {"sys/audit/",
                                                   "sys/raw",
                                                   "sys/rotate/",
                                                   "sys/config/auditing/",
                                                   "sys/plugins/catalog/",
                                                   "sys/revoke-prefix/",
                                                   "sys/revoke-force/",
                                                   "sys/leases/revoke-prefix/",
                                                   "sys/leases/revoke-force/"};
  for (auto exact : kExact) {
    if (path == exact) return true;
  }
  for (auto prefix : kPrefixes) {
    if (path.starts_with(prefix)) return true;
  }
  if (path.starts_with("sys/auth/") && op != api::Operation::kRead) return true;
  if (path.starts_with("sys/leases/lookup/") && op == api::Operation::kList) return true;
  return false;
}

api::Response Core::dispatch(api::Request request, const TokenEntry& token,
                             const policy::Decision& decision) {
  const std::string& path = request.path;
  const auto op = request.operation;
  if (path.starts_with("auth/token/")) {
    request.path = path.substr(std::string_view("auth/token/").size());
    const bool sudo = decision.root || (decision.capabilities & policy::kSudo) != 0;
    std::int64_t max_ttl = options_.max_lease_ttl.count();
    // A policy's max_ttl condition caps what the caller may mint.
    if (decision.max_ttl.count() > 0) max_ttl = std::min(max_ttl, decision.max_ttl.count());
    TokenCall call{token, request.client_token, sudo,
                   std::min(options_.default_lease_ttl.count(), max_ttl), max_ttl};
    const bool creating = request.path.starts_with("create");
    if (creating) {
      if (auto refused = check_token_entity(request, sudo)) return std::move(*refused);
    }
    api::Response response = tokens_->handle(request, call);
    if (creating && response.status == 200) warn_unknown_policies(response);
    if (response.status == 200) add_identity_policies(response);
    return response;
  }
  if (path == "sys/audit" || path.starts_with("sys/audit/") ||
      path.starts_with("sys/audit-hash/")) {
    return audit_.handle(request);
  }
  if (path.starts_with("identity/")) {
    request.path = path.substr(std::string_view("identity/").size());
    return identity_.handle(request, identity::IdentityCall{token.entity_id});
  }
  if (path == "sys/mfa/step-up") return handle_mfa_step_up(request, token);
  if (path == "sys/seal") {
    if (!is_write(op)) return method_not_allowed();
    // The devices close with the seal, before this request's response entry could be
    // written; the request entry (who asked) is already on record, the event marks the seal.
    (void)audit_.log_event("seal", nullptr);
    seal();
    return api::Response::no_content();
  }
  if (path == "sys/step-down") {
    // Single node: there is no standby to hand over to, so this is a no-op as in Vault.
    return is_write(op) ? api::Response::no_content() : method_not_allowed();
  }
  if (path == "sys/key-status") {
    return op == api::Operation::kRead ? handle_key_status() : method_not_allowed();
  }
  if (path == "sys/rotate") return is_write(op) ? handle_rotate() : method_not_allowed();
  if (path == "sys/mounts" || path.starts_with("sys/mounts/")) return handle_mounts(request);
  if (path == "sys/remount") {
    if (!is_write(op)) return method_not_allowed();
    auto from = fields::string_field(request.body, "from");
    auto to = fields::string_field(request.body, "to");
    if (!from) return api::Response::error(from.error());
    if (!to) return api::Response::error(to.error());
    if (!*from || !*to)
      return api::Response::error(invalid_argument("'from' and 'to' are required"));
    auto migration_id = mounts_.remount(**from, **to);
    if (!migration_id) return api::Response::error(migration_id.error());
    // Vault (1.10+) answers with the id that sys/remount/status reports on, and, as a
    // legacy sys endpoint, copies it to the top level too.
    return api::Response::json(
        200, api::envelope_with_top_level_copy({{"migration_id", std::move(*migration_id)}}));
  }
  if (path.starts_with("sys/remount/status/")) {
    // Not root-protected in Vault: a read capability on the path is enough.
    if (op != api::Operation::kRead) return method_not_allowed();
    const std::string_view id =
        std::string_view(path).substr(std::string_view("sys/remount/status/").size());
    auto migration = id.empty() ? std::nullopt : mounts_.migration(id);
    // An unknown id reads as absent: 404 with no message, as in Vault.
    if (!migration) return api::Response::error(404, {});
    return api::Response::json(200, api::envelope({{"migration_id", migration->id},
                                                   {"migration_info", migration->describe()}}));
  }
  if (path == "sys/policy" || path.starts_with("sys/policy/") || path == "sys/policies/acl/" ||
      path.starts_with("sys/policies/acl/")) {
    return handle_policies(request);
  }
  if (path == "sys/capabilities" || path == "sys/capabilities-self" ||
      path == "sys/capabilities-accessor") {
    return handle_capabilities(request, token);
  }
  if (path == "sys/policy-check") return handle_policy_check(request, token);
  if (path.starts_with("sys/wrapping/")) return handle_wrapping(request, token);
  if (path == "cubbyhole" || path.starts_with("cubbyhole/"))
    return handle_cubbyhole(request, token);
  if (path == "sys/auth") {
    if (op != api::Operation::kRead) return method_not_allowed();
    return api::Response::json(200,
                               api::envelope_with_top_level_copy({{"token/", token_mount_json()}}));
  }
  if (path.starts_with("sys/internal/ui/mounts/")) {
    if (op != api::Operation::kRead) return method_not_allowed();
    auto route = mounts_.route(path.substr(std::string_view("sys/internal/ui/mounts/").size()));
    if (!route) return api::Response::error(404, {});
    nlohmann::json data = route->mount->entry.describe();
    data["path"] = route->mount->entry.path;
    return api::Response::json(200, api::envelope(std::move(data)));
  }
  return api::Response::error(404, {"no handler for route \"" + path + "\""});
}

void Core::warn_unknown_policies(api::Response& response) const {
  if (!response.body || !response.body->contains("auth")) return;
  const auto& auth = (*response.body)["auth"];
  if (!auth.is_object() || !auth.contains("policies")) return;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& name : auth["policies"]) {
    if (name.is_string() && !policies_.find(name.get<std::string>())) {
      warnings.push_back("Policy \"" + name.get<std::string>() + "\" does not exist");
    }
  }
  if (!warnings.empty()) (*response.body)["warnings"] = std::move(warnings);
}

std::optional<api::Response> Core::check_token_entity(const api::Request& request,
                                                      bool sudo) const {
  auto entity_id = fields::string_field(request.body, "entity_id");
  if (!entity_id) return api::Response::error(entity_id.error());
  // Without sudo the token store refuses the field itself.
  if (!*entity_id || (*entity_id)->empty() || !sudo) return std::nullopt;
  auto entity = identity_.entity(**entity_id);
  if (!entity) return api::Response::error(invalid_argument("invalid entity ID"));
  if (entity->disabled) return api::Response::error(invalid_argument("entity is disabled"));
  return std::nullopt;
}

void Core::add_identity_policies(api::Response& response) const {
  if (!response.body) return;
  for (const char* block : {"data", "auth"}) {
    auto it = response.body->find(block);
    if (it == response.body->end() || !it->is_object()) continue;
    auto id = it->find("entity_id");
    if (id == it->end() || !id->is_string() || id->get_ref<const std::string&>().empty()) continue;
    auto entity = identity_.entity(id->get_ref<const std::string&>());
    // Vault omits the field when the entity grants nothing.
    if (entity && !entity->policies.empty()) (*it)["identity_policies"] = entity->policies;
  }
}

std::string Core::token_mount_accessor() const {
  return "auth_token_" + cluster_identity()->id.substr(0, 8);
}

nlohmann::json Core::token_mount_json() const {
  return {{"type", "token"},
          {"description", "token based credentials"},
          {"accessor", token_mount_accessor()},
          {"uuid", cluster_identity()->id},
          {"local", false},
          {"seal_wrap", false},
          {"external_entropy_access", false},
          {"options", nullptr},
          {"plugin_version", ""},
          {"running_plugin_version", ""},
          {"running_sha256", ""},
          {"deprecation_status", "supported"},
          {"config",
           {{"default_lease_ttl", 0},
            {"max_lease_ttl", 0},
            {"force_no_cache", false},
            {"token_type", "default-service"}}}};
}

api::Response Core::handle_init(const api::Request& request) {
  if (request.operation == api::Operation::kRead) {
    auto initialized = seal_.initialized();
    if (!initialized) return api::Response::error(initialized.error());
    return api::Response::json(200, {{"initialized", *initialized}});
  }
  if (!is_write(request.operation)) return method_not_allowed();
  const auto& body = request.body;
  for (const char* unsupported : {"recovery_shares", "recovery_threshold", "recovery_pgp_keys"}) {
    const auto* v = field(body, unsupported);
    if (v != nullptr && !(v->is_number() && v->get<int>() == 0) && !(v->is_array() && v->empty())) {
      return api::Response::error(invalid_argument(
          "parameters recovery_shares,recovery_threshold,recovery_pgp_keys not applicable to "
          "seal type shamir"));
    }
  }
  for (const char* unsupported : {"pgp_keys", "root_token_pgp_key"}) {
    const auto* v = field(body, unsupported);
    if (v != nullptr && !(v->is_string() && v->get_ref<const std::string&>().empty()) &&
        !(v->is_array() && v->empty())) {
      return api::Response::error(invalid_argument("PGP-encrypted key shares are not supported"));
    }
  }
  auto shares = int_field(body, "secret_shares", 0);
  auto threshold = int_field(body, "secret_threshold", 0);
  if (!shares) return api::Response::error(shares.error());
  if (!threshold) return api::Response::error(threshold.error());
  auto result = initialize(*shares, *threshold, "");
  if (!result) return api::Response::error(result.error());
  nlohmann::json keys = nlohmann::json::array();
  nlohmann::json keys_b64 = nlohmann::json::array();
  for (const auto& share : result->shares) {
    keys.push_back(to_hex(share.expose_secret()));
    keys_b64.push_back(to_base64(share.expose_secret()));
  }
  return api::Response::json(
      200, {{"keys", keys}, {"keys_base64", keys_b64}, {"root_token", result->root_token}});
}

nlohmann::json Core::seal_status_json(const seal::UnsealProgress& p) {
  nlohmann::json j{{"type", "shamir"},       {"initialized", p.initialized},
                   {"sealed", p.sealed},     {"t", p.threshold},
                   {"n", p.shares},          {"progress", p.progress},
                   {"nonce", p.nonce},       {"version", kVersion},
                   {"build_date", ""},       {"migration", false},
                   {"recovery_seal", false}, {"storage_type", backend_.type()}};
  if (auto cluster = cluster_identity(); cluster && !p.sealed) {
    j["cluster_name"] = cluster->name;
    j["cluster_id"] = cluster->id;
  }
  return j;
}

api::Response Core::handle_seal_status() {
  auto progress = seal_.status();
  if (!progress) return api::Response::error(progress.error());
  return api::Response::json(200, seal_status_json(*progress));
}

api::Response Core::handle_unseal(const api::Request& request) {
  const auto& body = request.body;
  auto reset = bool_field(body, "reset");
  if (!reset) return api::Response::error(reset.error());
  const auto* key = field(body, "key");
  if (*reset) {
    auto status = seal_.status();
    if (!status) return api::Response::error(status.error());
    if (!status->initialized)
      return api::Response::error(invalid_argument("Vault is not initialized"));
    if (!status->sealed) return api::Response::error(invalid_argument("vault is unsealed"));
    (void)seal_.reset_progress();
    return handle_seal_status();
  }
  if (key == nullptr) {
    return api::Response::error(invalid_argument(
        "'key' must be specified in request body as JSON, or 'reset' set to true"));
  }
  if (!key->is_string()) return api::Response::error(invalid_argument("'key' must be a string"));
  const auto& text = key->get_ref<const std::string&>();
  // Vault accepts hex first, then base64.
  auto share = secret_from_hex(text);
  if (!share) share = secret_from_base64(text);
  if (!share) {
    return api::Response::error(invalid_argument("'key' must be a valid hex or base64 string"));
  }
  auto progress = submit_unseal_share(std::move(*share));
  if (!progress) return api::Response::error(progress.error());
  return api::Response::json(200, seal_status_json(*progress));
}

api::Response Core::handle_health(const api::Request& request) {
  if (request.operation != api::Operation::kRead && request.operation != api::Operation::kHead) {
    return method_not_allowed();
  }
  auto code_param = [&](const char* name, int fallback) -> Result<int> {
    auto it = request.query.find(name);
    if (it == request.query.end()) return fallback;
    int value = 0;
    const std::string& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 100 || value > 599) {
      return fail(invalid_argument(std::string("bad code for ") + name));
    }
    return value;
  };
  for (const char* name : {"activecode", "standbycode", "drsecondarycode", "performancestandbycode",
                           "haunhealthycode", "removedcode", "sealedcode", "uninitcode"}) {
    if (auto c = code_param(name, 0); !c) return api::Response::error(c.error());
  }
  bool initialized = true;
  if (barrier_.sealed()) {
    auto status = seal_.status();
    if (!status) return api::Response::error(status.error());
    initialized = status->initialized;
  }
  const bool sealed = barrier_.sealed();
  int code = *code_param("activecode", 200);
  if (!initialized) {
    code = *code_param("uninitcode", 501);
  } else if (sealed) {
    code = *code_param("sealedcode", 503);
  }
  // Load balancers poll this endpoint: the body only changes with the state and
  // the second, so it is rendered once per second and state.
  const std::int64_t now = clock_.unix_seconds();
  auto cluster = sealed ? nullptr : cluster_identity();
  auto cached = health_cache_.load();
  if (!cached || cached->second != now || cached->sealed != sealed ||
      cached->initialized != initialized || cached->cluster != cluster) {
    nlohmann::json body{{"initialized", initialized},
                        {"sealed", sealed},
                        {"standby", false},
                        {"performance_standby", false},
                        {"replication_performance_mode", "disabled"},
                        {"replication_dr_mode", "disabled"},
                        {"server_time_utc", now},
                        {"version", kVersion}};
    if (cluster) {
      body["cluster_name"] = cluster->name;
      body["cluster_id"] = cluster->id;
    }
    cached = std::make_shared<const HealthBody>(
        HealthBody{now, sealed, initialized, cluster, body.dump()});
    health_cache_.store(cached);
  }
  api::Response response;
  response.status = code;
  if (request.operation != api::Operation::kHead) response.raw_body = cached->text;
  return response;
}

api::Response Core::handle_leader() {
  return api::Response::json(200, {{"ha_enabled", false},
                                   {"is_self", false},
                                   {"active_time", "0001-01-01T00:00:00Z"},
                                   {"leader_address", ""},
                                   {"leader_cluster_address", ""},
                                   {"performance_standby", false},
                                   {"performance_standby_last_remote_wal", 0}});
}

api::Response Core::handle_key_status() {
  auto status = barrier_.key_status();
  if (!status) return api::Response::error(status.error());
  nlohmann::json data{{"term", status->term},
                      {"install_time", rfc3339(status->install_time)},
                      {"encryptions", status->encryptions}};
  // Vault copies sys/key-status data to the top level for legacy clients.
  return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
}

api::Response Core::handle_rotate() {
  if (Status s = barrier_.rotate(); !s.ok()) return api::Response::error(s);
  return api::Response::no_content();
}

}  // namespace coffer::core

namespace coffer::core {
namespace {

// A TTL field in Vault's lenient forms: integer seconds or a duration string.
Result<std::int64_t> ttl_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    auto parsed = parse_duration(it->get_ref<const std::string&>());
    if (parsed) return parsed->count();
  }
  return fail(invalid_argument(std::string("invalid duration for ") + name));
}

// Mount options are a map of strings; clients send numbers too ({"version": 2}).
Result<nlohmann::json> string_options(const nlohmann::json* options) {
  if (options == nullptr || options->is_null()) return nlohmann::json(nullptr);
  if (!options->is_object()) return fail(invalid_argument("options must be an object"));
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : options->items()) {
    if (v.is_string())
      out[k] = v;
    else if (v.is_number_integer())
      out[k] = std::to_string(v.get<std::int64_t>());
    else if (v.is_boolean())
      out[k] = v.get<bool>() ? "true" : "false";
    else if (!v.is_null())
      return fail(invalid_argument("option " + k + " must be a string"));
  }
  return out;
}

}  // namespace

api::Response Core::handle_mounts(const api::Request& request) {
  const auto op = request.operation;
  if (request.path == "sys/mounts") {
    if (op != api::Operation::kRead) return api::Response::error(405, {});
    nlohmann::json data = nlohmann::json::object();
    for (const auto& entry : mounts_.list()) data[entry.path] = entry.describe();
    // The mounts the core serves itself, as Vault lists them.
    auto built_in = [&](const char* path, const char* type, const char* description) {
      MountEntry e;
      e.path = path;
      e.type = type;
      e.description = description;
      e.accessor = std::string(type) + "_" + cluster_identity()->id.substr(0, 8);
      e.uuid = cluster_identity()->id;
      e.local = std::string_view(type) == "cubbyhole";
      data[path] = e.describe();
    };
    built_in("cubbyhole/", "cubbyhole", "per-token private secret storage");
    built_in("identity/", "identity", "identity store");
    built_in("sys/", "system", "system endpoints used for control, policy and debugging");
    return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
  }
  std::string path = request.path.substr(std::string_view("sys/mounts/").size());
  const bool tune = path.ends_with("/tune");
  if (tune) path.resize(path.size() - std::string_view("/tune").size());
  auto normalised = MountTable::normalise_path(path);
  if (!normalised) return api::Response::error(normalised.error());

  if (tune) {
    if (op == api::Operation::kRead) {
      auto entry = mounts_.find(*normalised);
      if (!entry)
        return api::Response::error(
            invalid_argument("cannot fetch sysview for path \"" + *normalised + "\""));
      const auto default_ttl =
          entry->default_lease_ttl ? entry->default_lease_ttl : options_.default_lease_ttl.count();
      const auto max_ttl =
          entry->max_lease_ttl ? entry->max_lease_ttl : options_.max_lease_ttl.count();
      nlohmann::json data{{"default_lease_ttl", default_ttl},
                          {"max_lease_ttl", max_ttl},
                          {"force_no_cache", false},
                          {"description", entry->description},
                          {"options", entry->options}};
      return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
    }
    if (!is_write(op)) return api::Response::error(405, {});
    nlohmann::json changes = nlohmann::json::object();
    for (const char* ttl : {"default_lease_ttl", "max_lease_ttl"}) {
      auto value = ttl_field(request.body, ttl);
      if (!value) return api::Response::error(value.error());
      if (request.body.contains(ttl) && !request.body[ttl].is_null()) changes[ttl] = *value;
    }
    if (auto d = request.body.find("description"); d != request.body.end() && d->is_string()) {
      changes["description"] = *d;
    }
    auto options = string_options(field(request.body, "options"));
    if (!options) return api::Response::error(options.error());
    if (options->is_object()) changes["options"] = *options;
    if (Status s = mounts_.tune(*normalised, changes); !s.ok()) return api::Response::error(s);
    return api::Response::no_content();
  }

  switch (op) {
    case api::Operation::kRead: {
      auto entry = mounts_.find(*normalised);
      if (!entry)
        return api::Response::error(
            invalid_argument("no matching mount at \"" + *normalised + "\""));
      return api::Response::json(200, api::envelope_with_top_level_copy(entry->describe()));
    }
    case api::Operation::kCreate:
    case api::Operation::kUpdate: {
      MountEntry entry;
      entry.path = *normalised;
      const auto* type = field(request.body, "type");
      if (type == nullptr || !type->is_string() || type->get_ref<const std::string&>().empty()) {
        return api::Response::error(invalid_argument("missing type"));
      }
      entry.type = *type;
      auto options = string_options(field(request.body, "options"));
      if (!options) return api::Response::error(options.error());
      entry.options = std::move(*options);
      // "kv-v2" is Vault's alias for kv with version 2.
      if (entry.type == "kv-v2") {
        entry.type = "kv";
        if (!entry.options.is_object()) entry.options = nlohmann::json::object();
        entry.options["version"] = "2";
      }
      if (const auto* d = field(request.body, "description"); d != nullptr && d->is_string()) {
        entry.description = *d;
      }
      if (const auto* config = field(request.body, "config");
          config != nullptr && config->is_object()) {
        auto default_ttl = ttl_field(*config, "default_lease_ttl");
        auto max_ttl = ttl_field(*config, "max_lease_ttl");
        if (!default_ttl) return api::Response::error(default_ttl.error());
        if (!max_ttl) return api::Response::error(max_ttl.error());
        if (*default_ttl > 0 && *max_ttl > 0 && *default_ttl > *max_ttl) {
          return api::Response::error(
              invalid_argument("given default lease TTL greater than given max lease TTL"));
        }
        entry.default_lease_ttl = *default_ttl;
        entry.max_lease_ttl = *max_ttl;
      }
      auto local = bool_field(request.body, "local");
      auto seal_wrap = bool_field(request.body, "seal_wrap");
      if (!local) return api::Response::error(local.error());
      if (!seal_wrap) return api::Response::error(seal_wrap.error());
      entry.local = *local;
      entry.seal_wrap = *seal_wrap;
      if (Status s = mounts_.mount(std::move(entry)); !s.ok()) return api::Response::error(s);
      return api::Response::no_content();
    }
    case api::Operation::kDelete: {
      if (Status s = mounts_.unmount(*normalised); !s.ok()) return api::Response::error(s);
      return api::Response::no_content();
    }
    default:
      return api::Response::error(405, {});
  }
}

}  // namespace coffer::core
