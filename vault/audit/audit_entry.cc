#include "vault/audit/audit_entry.h"

namespace coffer::audit {
namespace {

using nlohmann::json;

// Values of data maps: strings, numbers and booleans become HMACs; structure stays.
json hash_values(const json& value, const AuditHmac& hmac) {
  switch (value.type()) {
    case json::value_t::string:
      return hmac.hash(value.get_ref<const std::string&>());
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [key, item] : value.items()) out[key] = hash_values(item, hmac);
      return out;
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& item : value) out.push_back(hash_values(item, hmac));
      return out;
    }
    case json::value_t::null:
    case json::value_t::discarded:
      return nullptr;
    default:
      // Numbers, booleans and binary never appear in clear either (Vault leaves them).
      return hmac.hash(value.dump());
  }
}

json data_for_log(const json& data, const AuditHmac& hmac, const EntryOptions& options) {
  return options.log_raw ? data : hash_values(data, hmac);
}

std::string token_for_log(const std::string& token, const AuditHmac& hmac,
                          const EntryOptions& options) {
  if (token.empty() || options.log_raw) return token;
  return hmac.hash(token);
}

std::string accessor_for_log(const std::string& accessor, const AuditHmac& hmac,
                             const EntryOptions& options) {
  if (accessor.empty() || options.log_raw || !options.hmac_accessor) return accessor;
  return hmac.hash(accessor);
}

json auth_json(const AuditRecord& record, const AuditHmac& hmac, const EntryOptions& options) {
  if (!record.auth) return json::object();
  const AuditAuth& a = *record.auth;
  json out{{"client_token", token_for_log(a.client_token, hmac, options)},
           {"accessor", accessor_for_log(a.accessor, hmac, options)},
           {"display_name", a.display_name},
           {"entity_id", a.entity_id},
           {"identity_kind", a.identity_kind},
           {"policies", a.policies},
           {"token_policies", a.token_policies},
           {"token_type", a.token_type},
           {"metadata", a.metadata.empty() ? json(nullptr) : json(a.metadata)}};
  if (!a.identity_policies.empty()) out["identity_policies"] = a.identity_policies;
  if (record.policy) {
    json granting = json::array();
    for (const auto& name : record.policy->granting_policies) {
      granting.push_back({{"name", name}, {"type", "acl"}, {"namespace_id", "root"}});
    }
    out["policy_results"] = {{"allowed", record.policy->allowed},
                             {"granting_policies", std::move(granting)},
                             {"matched_pattern", record.policy->matched_pattern},
                             {"reason", record.policy->reason}};
  }
  return out;
}

json request_json(const AuditRecord& record, const AuditHmac& hmac, const EntryOptions& options) {
  const api::Request& r = *record.request;
  json out{{"id", record.id},
           {"operation", std::string(api::operation_name(r.operation))},
           {"path", r.path},
           {"mount_point", record.mount_point},
           {"mount_type", record.mount_type},
           {"client_token", token_for_log(r.client_token, hmac, options)},
           {"client_token_accessor",
            record.auth ? accessor_for_log(record.auth->accessor, hmac, options) : std::string()},
           {"remote_address", r.remote_address},
           {"intent", r.intent},
           {"wrap_ttl", r.wrap_ttl},
           {"namespace", {{"id", "root"}}}};
  if (r.body.is_object() && !r.body.empty()) out["data"] = data_for_log(r.body, hmac, options);
  return out;
}

}  // namespace

json request_entry(const AuditRecord& record, const AuditHmac& hmac, const EntryOptions& options,
                   const std::string& time) {
  json entry{{"time", time},
             {"type", "request"},
             {"auth", auth_json(record, hmac, options)},
             {"request", request_json(record, hmac, options)}};
  if (!record.error.empty()) entry["error"] = record.error;
  return entry;
}

json response_entry(const AuditRecord& record, const api::Response& response, const AuditHmac& hmac,
                    const EntryOptions& options, const std::string& time) {
  json entry{{"time", time},
             {"type", "response"},
             {"auth", auth_json(record, hmac, options)},
             {"request", request_json(record, hmac, options)}};
  json out{{"status_code", response.status}};
  // Pre-rendered JSON bodies (the KV read fast path) are parsed here, only when audited.
  json parsed;
  const json* body = response.body ? &*response.body : nullptr;
  if (!body && response.raw_body && response.content_type == "application/json") {
    parsed = json::parse(*response.raw_body, nullptr, false);
    if (!parsed.is_discarded()) body = &parsed;
  }
  std::string error = record.error;
  if (body && body->is_object()) {
    if (auto errors = body->find("errors"); errors != body->end() && errors->is_array()) {
      for (const auto& e : *errors) {
        if (!e.is_string()) continue;
        if (!error.empty()) error += "; ";
        error += e.get<std::string>();
      }
    }
    if (auto data = body->find("data"); data != body->end() && !data->is_null()) {
      json logged = *data;
      if (options.elide_list_responses && record.request->operation == api::Operation::kList &&
          logged.is_object() && logged.contains("keys") && logged["keys"].is_array()) {
        logged["keys"] = logged["keys"].size();
      }
      out["data"] = data_for_log(logged, hmac, options);
    }
    if (auto lease = body->find("lease_id"); lease != body->end() && lease->is_string() &&
                                             !lease->get_ref<const std::string&>().empty()) {
      out["secret"] = {{"lease_id", *lease}};
    }
    if (auto auth = body->find("auth"); auth != body->end() && auth->is_object()) {
      json logged = *auth;
      if (logged.contains("client_token") && logged["client_token"].is_string()) {
        logged["client_token"] =
            token_for_log(logged["client_token"].get<std::string>(), hmac, options);
      }
      if (logged.contains("accessor") && logged["accessor"].is_string()) {
        logged["accessor"] = accessor_for_log(logged["accessor"].get<std::string>(), hmac, options);
      }
      out["auth"] = std::move(logged);
    }
    if (auto wrap = body->find("wrap_info"); wrap != body->end() && wrap->is_object()) {
      json logged = *wrap;
      if (logged.contains("token") && logged["token"].is_string()) {
        logged["token"] = token_for_log(logged["token"].get<std::string>(), hmac, options);
      }
      for (const char* key : {"accessor", "wrapped_accessor"}) {
        if (logged.contains(key) && logged[key].is_string()) {
          logged[key] = accessor_for_log(logged[key].get<std::string>(), hmac, options);
        }
      }
      out["wrap_info"] = std::move(logged);
    }
    if (auto warnings = body->find("warnings"); warnings != body->end() && warnings->is_array()) {
      out["warnings"] = *warnings;
    }
  }
  entry["response"] = std::move(out);
  if (!error.empty()) entry["error"] = error;
  return entry;
}

}  // namespace coffer::audit
