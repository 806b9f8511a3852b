#include "vault/identity/entity.h"

namespace coffer::identity {

bool is_identity_kind(std::string_view kind) {
  for (auto k : kIdentityKinds) {
    if (k == kind) return true;
  }
  return false;
}

namespace {

nlohmann::json alias_to_storage(const EntityAlias& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"canonical_id", a.canonical_id},
          {"mount_accessor", a.mount_accessor},
          {"mount_path", a.mount_path},
          {"mount_type", a.mount_type},
          {"custom_metadata", a.custom_metadata},
          {"creation_time", a.creation_time},
          {"last_update_time", a.last_update_time}};
}

// Vault renders an empty map as null (protobuf round trip).
nlohmann::json map_or_null(const std::map<std::string, std::string>& m) {
  if (m.empty()) return nullptr;
  return m;
}

}  // namespace

nlohmann::json entity_to_storage(const Entity& e) {
  nlohmann::json aliases = nlohmann::json::array();
  for (const auto& a : e.aliases) aliases.push_back(alias_to_storage(a));
  return {{"id", e.id},
          {"name", e.name},
          {"identity_kind", e.identity_kind},
          {"metadata", e.metadata},
          {"policies", e.policies},
          {"disabled", e.disabled},
          {"aliases", std::move(aliases)},
          {"creation_time", e.creation_time},
          {"last_update_time", e.last_update_time}};
}

std::optional<Entity> entity_from_storage(const nlohmann::json& j) {
  try {
    Entity e;
    e.id = j.at("id").get<std::string>();
    e.name = j.at("name").get<std::string>();
    e.identity_kind = j.value("identity_kind", "");
    e.metadata = j.value("metadata", std::map<std::string, std::string>{});
    e.policies = j.value("policies", std::vector<std::string>{});
    e.disabled = j.value("disabled", false);
    e.creation_time = j.value("creation_time", "");
    e.last_update_time = j.value("last_update_time", "");
    for (const auto& a : j.value("aliases", nlohmann::json::array())) {
      EntityAlias alias;
      alias.id = a.at("id").get<std::string>();
      alias.name = a.at("name").get<std::string>();
      alias.canonical_id = e.id;
      alias.mount_accessor = a.value("mount_accessor", "");
      alias.mount_path = a.value("mount_path", "");
      alias.mount_type = a.value("mount_type", "");
      alias.custom_metadata = a.value("custom_metadata", std::map<std::string, std::string>{});
      alias.creation_time = a.value("creation_time", "");
      alias.last_update_time = a.value("last_update_time", "");
      e.aliases.push_back(std::move(alias));
    }
    return e;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

nlohmann::json alias_to_api(const EntityAlias& a) {
  nlohmann::json j = alias_to_storage(a);
  j["custom_metadata"] = map_or_null(a.custom_metadata);
  j["metadata"] = nullptr;
  j["local"] = false;
  j["merged_from_canonical_ids"] = nullptr;
  j["namespace_id"] = "root";
  return j;
}

nlohmann::json entity_to_api(const Entity& e) {
  nlohmann::json aliases = nlohmann::json::array();
  for (const auto& a : e.aliases) aliases.push_back(alias_to_api(a));
  return {{"id", e.id},
          {"name", e.name},
          {"identity_kind", e.identity_kind},
          {"metadata", map_or_null(e.metadata)},
          {"policies", e.policies},
          {"disabled", e.disabled},
          {"aliases", std::move(aliases)},
          {"creation_time", e.creation_time},
          {"last_update_time", e.last_update_time},
          {"direct_group_ids", nlohmann::json::array()},
          {"group_ids", nlohmann::json::array()},
          {"inherited_group_ids", nlohmann::json::array()},
          {"merged_entity_ids", nullptr},
          {"namespace_id", "root"}};
}

}  // namespace coffer::identity
