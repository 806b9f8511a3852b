#include "vault/identity/identity_store.h"

#include <algorithm>
#include <cctype>

#include "vault/base/encoding.h"
#include "vault/base/time_format.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::identity {
namespace {

using api::Response;
using nlohmann::json;

constexpr std::string_view kEntityPrefix = "entity/";

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Response bad_request(std::string message) { return Response::error(400, {std::move(message)}); }
Response not_found() { return Response::error(404, {}); }

bool is_write(api::Operation op) {
  return op == api::Operation::kCreate || op == api::Operation::kUpdate;
}

}  // namespace

IdentityStore::IdentityStore(barrier::LogicalStorage& storage, const Clock& clock,
                             AuthMountResolver resolve_mount)
    : storage_(storage),
      clock_(clock),
      resolve_mount_(std::move(resolve_mount)),
      snapshot_(std::make_shared<const Snapshot>()),
      mfa_(storage, clock, [this](std::string_view id) { return entity(id); }) {}

Status IdentityStore::load() {
  auto next = std::make_shared<Snapshot>();
  Status corrupt = ok_status();
  COFFER_TRY(storage_.scan(kEntityPrefix, [&](std::string_view, std::string_view value) {
    auto parsed = json::parse(value, nullptr, false);
    auto entity = parsed.is_discarded() ? std::nullopt : entity_from_storage(parsed);
    if (!entity) {
      corrupt = internal_error("an identity entity record is corrupt");
      return false;
    }
    entity->revision = next_revision_.fetch_add(1);
    auto shared = std::make_shared<const Entity>(std::move(*entity));
    next->id_by_name[lower(shared->name)] = shared->id;
    for (const auto& alias : shared->aliases) next->id_by_alias[alias.id] = shared->id;
    next->by_id[shared->id] = std::move(shared);
    return true;
  }));
  COFFER_TRY(corrupt);
  std::lock_guard lock(writes_);
  publish_locked(std::move(next));
  return ok_status();
}

void IdentityStore::clear() {
  std::lock_guard lock(writes_);
  publish_locked(std::make_shared<Snapshot>());
}

void IdentityStore::publish_locked(std::shared_ptr<Snapshot> next) {
  snapshot_.store(std::shared_ptr<const Snapshot>(std::move(next)));
}

std::shared_ptr<const Entity> IdentityStore::entity(std::string_view id) const {
  auto snap = snapshot_.load();
  auto it = snap->by_id.find(std::string(id));
  return it == snap->by_id.end() ? nullptr : it->second;
}

std::shared_ptr<const Entity> IdentityStore::find_by_name(std::string_view name) const {
  auto snap = snapshot_.load();
  auto it = snap->id_by_name.find(lower(name));
  return it == snap->id_by_name.end() ? nullptr : entity(it->second);
}

std::shared_ptr<const Entity> IdentityStore::find_by_alias(std::string_view alias_id) const {
  auto snap = snapshot_.load();
  auto it = snap->id_by_alias.find(std::string(alias_id));
  return it == snap->id_by_alias.end() ? nullptr : entity(it->second);
}

std::shared_ptr<const Entity> IdentityStore::find_by_alias_name(std::string_view name,
                                                                std::string_view accessor) const {
  auto snap = snapshot_.load();
  for (const auto& [id, entity] : snap->by_id) {
    for (const auto& alias : entity->aliases) {
      if (alias.mount_accessor == accessor && alias.name == name) return entity;
    }
  }
  return nullptr;
}

policy::TemplateContext IdentityStore::template_context(const Entity& entity) {
  policy::TemplateContext context;
  context.entity_id = entity.id;
  context.entity_name = entity.name;
  context.entity_metadata = entity.metadata;
  for (const auto& alias : entity.aliases) {
    context.aliases[alias.mount_accessor] = {alias.id, alias.name, {}, alias.custom_metadata};
  }
  return context;
}

Status IdentityStore::store_locked(Entity entity) {
  COFFER_TRY(
      storage_.put(std::string(kEntityPrefix) + entity.id, entity_to_storage(entity).dump()));
  entity.revision = next_revision_.fetch_add(1);
  auto current = snapshot_.load();
  auto next = std::make_shared<Snapshot>(*current);
  if (auto old = current->by_id.find(entity.id); old != current->by_id.end()) {
    next->id_by_name.erase(lower(old->second->name));
    for (const auto& alias : old->second->aliases) next->id_by_alias.erase(alias.id);
  }
  next->id_by_name[lower(entity.name)] = entity.id;
  for (const auto& alias : entity.aliases) next->id_by_alias[alias.id] = entity.id;
  const std::string id = entity.id;
  next->by_id[id] = std::make_shared<const Entity>(std::move(entity));
  publish_locked(std::move(next));
  return ok_status();
}

Status IdentityStore::remove_locked(const Entity& entity) {
  COFFER_TRY(storage_.remove(std::string(kEntityPrefix) + entity.id));
  auto next = std::make_shared<Snapshot>(*snapshot_.load());
  next->by_id.erase(entity.id);
  next->id_by_name.erase(lower(entity.name));
  for (const auto& alias : entity.aliases) next->id_by_alias.erase(alias.id);
  publish_locked(std::move(next));
  return mfa_.forget_entity(entity.id);
}

api::Response IdentityStore::handle(const api::Request& request, const IdentityCall& call) {
  const std::string& path = request.path;
  const auto op = request.operation;
  if (path == "entity") {
    if (!is_write(op)) return Response::error(405, {});
    // An id in the body names an existing entity to update.
    auto id = fields::string_field(request.body, "id");
    if (!id) return Response::error(id.error());
    std::shared_ptr<const Entity> existing;
    if (*id && !(*id)->empty()) {
      existing = entity(**id);
      if (!existing) return bad_request("entity not found from id");
    }
    return entity_write(request, std::move(existing), std::nullopt);
  }
  if (path == "entity/id" || path == "entity/id/" || path == "entity/name" ||
      path == "entity/name/") {
    if (op != api::Operation::kList) return Response::error(405, {});
    return entity_list(path.starts_with("entity/name"));
  }
  if (path.starts_with("entity/id/") || path.starts_with("entity/name/")) {
    const bool by_name = path.starts_with("entity/name/");
    const std::string key = path.substr(by_name ? 12 : 10);
    if (key.empty() || key.find('/') != std::string::npos) return not_found();
    auto found = by_name ? find_by_name(key) : entity(key);
    switch (op) {
      case api::Operation::kRead:
        return entity_read(found);
      case api::Operation::kDelete:
        return entity_delete(found);
      case api::Operation::kCreate:
      case api::Operation::kUpdate:
        if (!found && !by_name) return bad_request("entity not found from id");
        return entity_write(request, std::move(found),
                            by_name ? std::optional<std::string>(key) : std::nullopt);
      default:
        return Response::error(405, {});
    }
  }
  if (path == "entity-alias") {
    if (!is_write(op)) return Response::error(405, {});
    return alias_create(request);
  }
  if (path == "entity-alias/id" || path == "entity-alias/id/") {
    if (op != api::Operation::kList) return Response::error(405, {});
    return alias_list();
  }
  if (path.starts_with("entity-alias/id/")) return alias_by_id(request, path.substr(16));
  if (path == "lookup/entity") {
    if (!is_write(op)) return Response::error(405, {});
    return lookup_entity(request);
  }
  if (path == "mfa/method/totp" || path.starts_with("mfa/method/totp/")) {
    return mfa_.handle(request, std::string_view(path).substr(15), call.entity_id);
  }
  return Response::error(404, {"unsupported path"});
}

api::Response IdentityStore::entity_write(const api::Request& request,
                                          std::shared_ptr<const Entity> existing,
                                          std::optional<std::string> name_from_path) {
  const auto& body = request.body;
  auto name = fields::string_field(body, "name");
  auto metadata = fields::string_map_field(body, "metadata");
  auto policies = fields::string_list_field(body, "policies");
  auto disabled = fields::bool_field(body, "disabled");
  auto kind = fields::string_field(body, "identity_kind");
  if (auto error = fields::first_error(name, metadata, policies, disabled, kind)) {
    return Response::error(*error);
  }
  if (name_from_path) *name = name_from_path;
  if (*kind && !(*kind)->empty() && !is_identity_kind(**kind)) {
    return bad_request("identity_kind must be one of human, workload, automation, agent");
  }
  std::lock_guard lock(writes_);
  // Re-read under the lock: the snapshot is what the last write published.
  if (existing) existing = entity(existing->id);
  if (!existing && *name) existing = find_by_name(**name);
  const bool creating = !existing;
  Entity e = existing ? *existing : Entity{};
  const std::string now = rfc3339_nano(clock_.now());
  if (creating) {
    e.id = random_uuid();
    e.creation_time = now;
    e.name = "entity_" + e.id.substr(0, 8);
  }
  if (*name && !(*name)->empty()) {
    if (auto other = find_by_name(**name); other && other->id != e.id) {
      return bad_request("entity name is already in use");
    }
    e.name = **name;
  }
  if (*metadata) e.metadata = **metadata;
  if (*policies) e.policies = policy::normalize_policy_list(**policies);
  if (*disabled) e.disabled = **disabled;
  if (*kind) e.identity_kind = **kind;
  e.last_update_time = now;
  const std::string id = e.id;
  const std::string entity_name = e.name;
  if (Status s = store_locked(std::move(e)); !s.ok()) return Response::error(s);
  if (!creating) return Response::no_content();
  return Response::json(200,
                        api::envelope({{"id", id}, {"name", entity_name}, {"aliases", nullptr}}));
}

api::Response IdentityStore::entity_read(const std::shared_ptr<const Entity>& entity) const {
  if (!entity) return not_found();
  return Response::json(200, api::envelope(entity_to_api(*entity)));
}

api::Response IdentityStore::entity_delete(const std::shared_ptr<const Entity>& found) {
  if (!found) return Response::no_content();
  std::lock_guard lock(writes_);
  auto current = entity(found->id);
  if (!current) return Response::no_content();
  if (Status s = remove_locked(*current); !s.ok()) return Response::error(s);
  return Response::no_content();
}

api::Response IdentityStore::entity_list(bool by_name) const {
  auto snap = snapshot_.load();
  if (snap->by_id.empty()) return not_found();
  std::vector<std::string> keys;
  json key_info = json::object();
  for (const auto& [id, entity] : snap->by_id) {
    keys.push_back(by_name ? entity->name : id);
    if (!by_name) key_info[id] = {{"name", entity->name}};
  }
  std::ranges::sort(keys);
  json data{{"keys", keys}};
  if (!by_name) data["key_info"] = std::move(key_info);
  return Response::json(200, api::envelope(std::move(data)));
}

api::Response IdentityStore::alias_create(const api::Request& request) {
  auto id = fields::string_field(request.body, "id");
  if (!id) return Response::error(id.error());
  if (*id && !(*id)->empty()) return alias_by_id(request, **id);
  const auto& body = request.body;
  auto name = fields::string_field(body, "name");
  auto canonical = fields::string_field(body, "canonical_id");
  auto accessor = fields::string_field(body, "mount_accessor");
  auto custom = fields::string_map_field(body, "custom_metadata");
  if (auto error = fields::first_error(name, canonical, accessor, custom)) {
    return Response::error(*error);
  }
  if (!*name || (*name)->empty()) return bad_request("missing alias name");
  if (!*accessor || (*accessor)->empty()) return bad_request("missing mount_accessor");
  if (!*canonical || (*canonical)->empty()) return bad_request("missing canonical_id");
  auto mount = resolve_mount_(**accessor);
  if (!mount) return bad_request("invalid mount accessor \"" + **accessor + "\"");
  std::lock_guard lock(writes_);
  auto owner = entity(**canonical);
  if (!owner) return bad_request("invalid canonical ID");
  if (auto holder = find_by_alias_name(**name, **accessor)) {
    return bad_request(
        "alias already exists for requested combination of name, mount, and "
        "namespace");
  }
  EntityAlias alias;
  alias.id = random_uuid();
  alias.name = **name;
  alias.canonical_id = owner->id;
  alias.mount_accessor = **accessor;
  alias.mount_path = mount->path;
  alias.mount_type = mount->type;
  if (*custom) alias.custom_metadata = **custom;
  alias.creation_time = alias.last_update_time = rfc3339_nano(clock_.now());
  Entity updated = *owner;
  // Vault allows one alias per auth mount on an entity.
  std::erase_if(updated.aliases,
                [&](const EntityAlias& a) { return a.mount_accessor == alias.mount_accessor; });
  const std::string alias_id = alias.id;
  updated.aliases.push_back(std::move(alias));
  if (Status s = store_locked(std::move(updated)); !s.ok()) return Response::error(s);
  return Response::json(200, api::envelope({{"id", alias_id}, {"canonical_id", owner->id}}));
}

api::Response IdentityStore::alias_by_id(const api::Request& request, std::string_view alias_id) {
  if (alias_id.empty() || alias_id.find('/') != std::string_view::npos) return not_found();
  const auto op = request.operation;
  std::unique_lock lock(writes_, std::defer_lock);
  if (op != api::Operation::kRead) lock.lock();
  auto owner = find_by_alias(alias_id);
  const EntityAlias* alias = nullptr;
  if (owner) {
    for (const auto& a : owner->aliases) {
      if (a.id == alias_id) alias = &a;
    }
  }
  if (op == api::Operation::kRead) {
    if (!alias) return not_found();
    return Response::json(200, api::envelope(alias_to_api(*alias)));
  }
  if (op == api::Operation::kDelete) {
    if (!alias) return Response::no_content();
    Entity updated = *owner;
    std::erase_if(updated.aliases, [&](const EntityAlias& a) { return a.id == alias_id; });
    if (Status s = store_locked(std::move(updated)); !s.ok()) return Response::error(s);
    return Response::no_content();
  }
  if (!is_write(op)) return Response::error(405, {});
  if (!alias) return bad_request("invalid alias ID");
  auto name = fields::string_field(request.body, "name");
  auto custom = fields::string_map_field(request.body, "custom_metadata");
  if (auto error = fields::first_error(name, custom)) return Response::error(*error);
  Entity updated = *owner;
  for (auto& a : updated.aliases) {
    if (a.id != alias_id) continue;
    if (*name && !(*name)->empty()) a.name = **name;
    if (*custom) a.custom_metadata = **custom;
    a.last_update_time = rfc3339_nano(clock_.now());
  }
  const std::string canonical = updated.id;
  if (Status s = store_locked(std::move(updated)); !s.ok()) return Response::error(s);
  return Response::json(
      200, api::envelope({{"id", std::string(alias_id)}, {"canonical_id", canonical}}));
}

api::Response IdentityStore::alias_list() const {
  auto snap = snapshot_.load();
  std::vector<std::string> keys;
  json key_info = json::object();
  for (const auto& [id, entity] : snap->by_id) {
    for (const auto& a : entity->aliases) {
      keys.push_back(a.id);
      key_info[a.id] = {{"name", a.name},
                        {"canonical_id", a.canonical_id},
                        {"mount_accessor", a.mount_accessor},
                        {"mount_path", a.mount_path},
                        {"mount_type", a.mount_type}};
    }
  }
  if (keys.empty()) return not_found();
  std::ranges::sort(keys);
  return Response::json(200, api::envelope({{"keys", keys}, {"key_info", key_info}}));
}

api::Response IdentityStore::lookup_entity(const api::Request& request) const {
  const auto& body = request.body;
  auto id = fields::string_field(body, "id");
  auto name = fields::string_field(body, "name");
  auto alias_id = fields::string_field(body, "alias_id");
  auto alias_name = fields::string_field(body, "alias_name");
  auto accessor = fields::string_field(body, "alias_mount_accessor");
  if (auto error = fields::first_error(id, name, alias_id, alias_name, accessor)) {
    return Response::error(*error);
  }
  auto given = [](const std::optional<std::string>& v) { return v && !v->empty(); };
  const int criteria = given(*id) + given(*name) + given(*alias_id) + given(*alias_name);
  if (criteria == 0) return bad_request("one of id, name, alias_id or alias_name must be given");
  if (criteria > 1) return bad_request("only one of id, name, alias_id or alias_name may be given");
  std::shared_ptr<const Entity> found;
  if (given(*id)) found = entity(**id);
  if (given(*name)) found = find_by_name(**name);
  if (given(*alias_id)) found = find_by_alias(**alias_id);
  if (given(*alias_name)) {
    if (!given(*accessor)) return bad_request("missing alias_mount_accessor");
    found = find_by_alias_name(**alias_name, **accessor);
  }
  // Vault answers "no such entity" with an empty 204.
  if (!found) return Response::no_content();
  return entity_read(found);
}

}  // namespace coffer::identity
