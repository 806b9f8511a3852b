#pragma once
// Entity and EntityAlias: who a token belongs to (vault-api.md §5.8).
//
// An entity is one actor - a person, a service, a CI job, an agent - however
// many ways it logs in; each login method it uses is an alias. Coffer adds the
// entity's identity kind, which policy conditions (`identity_kinds`) match on.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace coffer::identity {

// The identity kinds policies may name; "" = not declared (matches no kind).
inline constexpr std::string_view kIdentityKinds[] = {"human", "workload", "automation", "agent"};
bool is_identity_kind(std::string_view kind);

struct EntityAlias {
  std::string id;
  std::string name;
  std::string canonical_id;  // the entity's id
  std::string mount_accessor;
  std::string mount_path;
  std::string mount_type;
  std::map<std::string, std::string> custom_metadata;
  std::string creation_time;  // RFC 3339
  std::string last_update_time;
};

struct Entity {
  std::string id;
  std::string name;
  std::string identity_kind;
  std::map<std::string, std::string> metadata;
  std::vector<std::string> policies;
  bool disabled = false;
  std::vector<EntityAlias> aliases;
  std::string creation_time;
  std::string last_update_time;
  // Changes with every stored change (in memory only): compiled ACLs rendered
  // from this entity's templates are cached per (id, revision).
  std::uint64_t revision = 0;
};

// Storage form (also what reads return, plus Vault's fixed fields).
nlohmann::json entity_to_storage(const Entity& entity);
std::optional<Entity> entity_from_storage(const nlohmann::json& json);
nlohmann::json entity_to_api(const Entity& entity);
nlohmann::json alias_to_api(const EntityAlias& alias);

}  // namespace coffer::identity
