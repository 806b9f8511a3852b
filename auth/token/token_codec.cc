#include "auth/token/token_codec.h"
#include "vault/base/time_format.h"

#include <ctime>

namespace coffer::auth::token {

nlohmann::json entry_to_json(const core::TokenEntry& e) {
  return {{"id_hash", e.id_hash},
          {"accessor", e.accessor},
          {"parent_hash", e.parent_hash},
          {"policies", e.policies},
          {"meta", e.meta},
          {"display_name", e.display_name},
          {"path", e.path},
          {"entity_id", e.entity_id},
          {"type", e.type},
          {"creation_time", e.creation_time},
          {"creation_ttl", e.creation_ttl},
          {"explicit_max_ttl", e.explicit_max_ttl},
          {"period", e.period},
          {"expire_time", e.expire_time},
          {"num_uses", e.num_uses},
          {"renewable", e.renewable},
          {"orphan", e.orphan},
          {"mfa_validated", e.mfa_validated},
          {"bound_cidrs", e.bound_cidrs}};
}

Result<core::TokenEntry> entry_from_json(const nlohmann::json& j) {
  try {
    core::TokenEntry e;
    e.id_hash = j.at("id_hash").get<std::string>();
    e.accessor = j.at("accessor").get<std::string>();
    e.parent_hash = j.at("parent_hash").get<std::string>();
    e.policies = j.at("policies").get<std::vector<std::string>>();
    e.meta = j.at("meta").get<std::map<std::string, std::string>>();
    e.display_name = j.at("display_name").get<std::string>();
    e.path = j.at("path").get<std::string>();
    e.entity_id = j.at("entity_id").get<std::string>();
    e.type = j.at("type").get<std::string>();
    e.creation_time = j.at("creation_time").get<std::int64_t>();
    e.creation_ttl = j.at("creation_ttl").get<std::int64_t>();
    e.explicit_max_ttl = j.at("explicit_max_ttl").get<std::int64_t>();
    e.period = j.at("period").get<std::int64_t>();
    e.expire_time = j.at("expire_time").get<std::int64_t>();
    e.num_uses = j.at("num_uses").get<std::int64_t>();
    e.renewable = j.at("renewable").get<bool>();
    e.orphan = j.at("orphan").get<bool>();
    e.mfa_validated = j.value("mfa_validated", false);
    e.bound_cidrs = j.value("bound_cidrs", std::vector<std::string>{});
    return e;
  } catch (const nlohmann::json::exception&) {
    return fail(internal_error("token entry is corrupt"));
  }
}

std::int64_t remaining_ttl(const core::TokenEntry& e, std::int64_t now) {
  if (e.expire_time == 0) return 0;
  return std::max<std::int64_t>(0, e.expire_time - now);
}

namespace {
// Tokens made through a role carry it in their path: auth/token/create/<role>[/<suffix>].
std::string role_of(const core::TokenEntry& e) {
  constexpr std::string_view kPrefix = "auth/token/create/";
  if (!e.path.starts_with(kPrefix)) return "";
  std::string rest = e.path.substr(kPrefix.size());
  return rest.substr(0, rest.find('/'));
}

nlohmann::json meta_or_null(const core::TokenEntry& e) {
  if (e.meta.empty()) return nullptr;
  return e.meta;
}
}  // namespace

nlohmann::json auth_block(const core::TokenEntry& e, std::string_view client_token,
                          std::int64_t now) {
  return {{"client_token", client_token},
          {"accessor", e.accessor},
          {"policies", e.policies},
          {"token_policies", e.policies},
          {"metadata", meta_or_null(e)},
          {"lease_duration", remaining_ttl(e, now)},
          {"renewable", e.renewable && !e.is_batch() && e.expire_time != 0},
          {"entity_id", e.entity_id},
          {"token_type", e.type},
          {"orphan", e.orphan},
          {"mfa_requirement", nullptr},
          {"num_uses", e.num_uses}};
}

nlohmann::json lookup_data(const core::TokenEntry& e, std::string_view id, std::int64_t now) {
  return {{"accessor", e.accessor},
          {"creation_time", e.creation_time},
          {"creation_ttl", e.creation_ttl},
          {"display_name", e.display_name},
          {"entity_id", e.entity_id},
          {"mfa_validated", e.mfa_validated},
          {"bound_cidrs", e.bound_cidrs},
          {"expire_time",
           e.expire_time == 0 ? nlohmann::json(nullptr) : nlohmann::json(rfc3339(e.expire_time))},
          {"explicit_max_ttl", e.explicit_max_ttl},
          {"id", id},
          {"issue_time", rfc3339(e.creation_time)},
          {"meta", meta_or_null(e)},
          {"num_uses", e.num_uses},
          {"orphan", e.orphan},
          {"path", e.path},
          {"role", role_of(e)},
          {"period", e.period == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.period)},
          {"policies", e.policies},
          {"renewable", e.renewable && !e.is_batch()},
          {"ttl", remaining_ttl(e, now)},
          {"type", e.type}};
}

}  // namespace coffer::auth::token
