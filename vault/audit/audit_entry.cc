#include "vault/audit/audit_entry.h"

#include <array>
#include <functional>

#include "vault/audit/json_writer.h"
#include "vault/audit/raw_data_hasher.h"

namespace coffer::audit {
namespace {

using nlohmann::json;

// Data values: strings, numbers and booleans become HMACs (Vault leaves numbers and booleans
// in clear; Coffer does not); keys, structure and nulls stay.
void write_hashed(JsonWriter& w, const json& value, const DeviceHashing& d) {
  switch (value.type()) {
    case json::value_t::string:
      w.string(d.options.log_raw ? value.get_ref<const std::string&>()
                                 : d.hmac.hash(value.get_ref<const std::string&>()));
      return;
    case json::value_t::object:
      w.begin_object();
      for (const auto& [key, item] : value.items()) {
        w.key(key);
        write_hashed(w, item, d);
      }
      w.end_object();
      return;
    case json::value_t::array:
      w.begin_array();
      for (const auto& item : value) write_hashed(w, item, d);
      w.end_array();
      return;
    case json::value_t::null:
    case json::value_t::discarded:
      w.null();
      return;
    default: {
      const std::string text = value.dump();
      if (d.options.log_raw) {
        w.raw(text);
      } else {
        w.string(d.hmac.hash(text));
      }
      return;
    }
  }
}

struct TokenHashes {
  std::string token;
  std::string accessor;
};

TokenHashes compute_token_hashes(const std::string& token, const std::string& accessor,
                                 const DeviceHashing& d) {
  TokenHashes h;
  h.token = token.empty() || d.options.log_raw ? token : d.hmac.hash(token);
  h.accessor = accessor.empty() || d.options.log_raw || !d.options.hmac_accessor
                   ? accessor
                   : d.hmac.hash(accessor);
  return h;
}

// A client sends the same token request after request: its HMACs are kept per thread, keyed
// by the device and the token's salted storage hash (never by the token itself).
const TokenHashes& token_hashes(const AuditAuth& auth, const DeviceHashing& d) {
  struct Slot {
    std::uint64_t serial = 0;
    std::string key;
    TokenHashes hashes;
  };
  thread_local std::array<Slot, 32> cache;
  thread_local TokenHashes uncached;
  if (auth.token_key.empty()) {
    uncached = compute_token_hashes(auth.client_token, auth.accessor, d);
    return uncached;
  }
  Slot& slot = cache[std::hash<std::string>{}(auth.token_key) % cache.size()];
  if (slot.serial != d.serial || slot.key != auth.token_key) {
    slot.serial = d.serial;
    slot.key = auth.token_key;
    slot.hashes = compute_token_hashes(auth.client_token, auth.accessor, d);
  }
  return slot.hashes;
}

void write_string_list(JsonWriter& w, std::string_view name, const std::vector<std::string>& v) {
  w.key(name);
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

void write_sections(JsonWriter& w, const AuditRecord& record, const DeviceHashing& d) {
  const api::Request& r = *record.request;
  std::string token_hash;
  std::string accessor_hash;
  if (record.auth) {
    const TokenHashes& h = token_hashes(*record.auth, d);
    token_hash = h.token;
    accessor_hash = h.accessor;
  } else if (!r.client_token.empty()) {
    token_hash = compute_token_hashes(r.client_token, {}, d).token;
  }

  w.key("auth");
  w.begin_object();
  if (record.auth) {
    const AuditAuth& a = *record.auth;
    w.field("client_token", token_hash);
    w.field("accessor", accessor_hash);
    w.field("display_name", a.display_name);
    w.field("entity_id", a.entity_id);
    w.field("identity_kind", a.identity_kind);
    write_string_list(w, "policies", a.policies);
    write_string_list(w, "token_policies", a.token_policies);
    if (!a.identity_policies.empty())
      write_string_list(w, "identity_policies", a.identity_policies);
    w.field("token_type", a.token_type);
    w.key("metadata");
    if (a.metadata.empty()) {
      w.null();
    } else {
      w.begin_object();
      for (const auto& [k, v] : a.metadata) w.field(k, v);
      w.end_object();
    }
    if (record.policy) {
      w.key("policy_results");
      w.begin_object();
      w.field("allowed", record.policy->allowed);
      w.key("granting_policies");
      w.begin_array();
      for (const auto& name : record.policy->granting_policies) {
        w.begin_object();
        w.field("name", name);
        w.field("type", "acl");
        w.field("namespace_id", "root");
        w.end_object();
      }
      w.end_array();
      w.field("matched_pattern", record.policy->matched_pattern);
      w.field("reason", record.policy->reason);
      w.end_object();
    }
  }
  w.end_object();

  w.key("request");
  w.begin_object();
  w.field("id", record.id);
  w.field("operation", api::operation_name(r.operation));
  w.field("path", r.path);
  w.field("mount_point", record.mount_point);
  w.field("mount_type", record.mount_type);
  w.field("client_token", token_hash);
  w.field("client_token_accessor", accessor_hash);
  w.field("remote_address", r.remote_address);
  w.field("intent", r.intent);
  w.field("wrap_ttl", r.wrap_ttl);
  w.key("namespace");
  w.begin_object();
  w.field("id", "root");
  w.end_object();
  if (r.body.is_object() && !r.body.empty()) {
    w.key("data");
    write_hashed(w, r.body, d);
  }
  w.end_object();
}

// The sections text for this device: rendered for the request entry, reused for the response.
const std::string& sections(const AuditRecord& record, const DeviceHashing& d) {
  for (const auto& [serial, text] : record.rendered_sections) {
    if (serial == d.serial) return text;
  }
  std::string text;
  JsonWriter w(text);
  w.begin_object();
  write_sections(w, record, d);
  w.end_object();
  // Keep the members only: "{...}" -> "...".
  text = text.substr(1, text.size() - 2);
  record.rendered_sections.emplace_back(d.serial, std::move(text));
  return record.rendered_sections.back().second;
}

void write_token_field(JsonWriter& w, const json& object, const char* name, const DeviceHashing& d,
                       bool is_accessor) {
  auto it = object.find(name);
  if (it == object.end()) return;
  w.key(name);
  if (!it->is_string()) {
    w.raw(it->dump());
    return;
  }
  const auto& value = it->get_ref<const std::string&>();
  const TokenHashes h =
      is_accessor ? compute_token_hashes({}, value, d) : compute_token_hashes(value, {}, d);
  w.string(is_accessor ? h.accessor : h.token);
}

// auth and wrap_info blocks of a response: new tokens and accessors hashed, the rest as is.
void write_credentials_block(JsonWriter& w, std::string_view name, const json& block,
                             const DeviceHashing& d) {
  w.key(name);
  w.begin_object();
  for (const auto& [key, value] : block.items()) {
    if (key == "client_token" || key == "token") {
      write_token_field(w, block, key.c_str(), d, false);
    } else if (key == "accessor" || key == "wrapped_accessor") {
      write_token_field(w, block, key.c_str(), d, true);
    } else {
      w.key(key);
      w.raw(value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }
  w.end_object();
}

std::string entry_head(std::string_view type, std::string_view time) {
  std::string out;
  out.reserve(1024);
  out += R"({"time":)";
  append_json_string(out, time);
  out += R"(,"type":)";
  append_json_string(out, type);
  return out;
}

}  // namespace

std::string entry_sections(const AuditRecord& record, const DeviceHashing& device) {
  return sections(record, device);
}

std::string request_entry(const AuditRecord& record, const DeviceHashing& device,
                          std::string_view time) {
  std::string out = entry_head("request", time);
  out.push_back(',');
  out += sections(record, device);
  if (!record.error.empty()) {
    out += R"(,"error":)";
    append_json_string(out, record.error);
  }
  out.push_back('}');
  return out;
}

std::string response_entry(const AuditRecord& record, const api::Response& response,
                           const DeviceHashing& d, std::string_view time) {
  std::string out = entry_head("response", time);
  out.push_back(',');
  out += sections(record, d);
  out += R"(,"response":)";
  JsonWriter w(out);
  w.begin_object();
  w.field("status_code", response.status);
  // The errors the client got; the record's own reason when the body carries none.
  std::string error;
  if (response.body && response.body->is_object()) {
    const json& body = *response.body;
    if (auto errors = body.find("errors"); errors != body.end() && errors->is_array()) {
      for (const auto& e : *errors) {
        if (!e.is_string()) continue;
        if (!error.empty()) error += "; ";
        error += e.get<std::string>();
      }
    }
    if (auto data = body.find("data"); data != body.end() && !data->is_null()) {
      w.key("data");
      if (d.options.elide_list_responses && record.request->operation == api::Operation::kList &&
          data->is_object() && data->contains("keys") && (*data)["keys"].is_array()) {
        json elided = *data;
        elided["keys"] = elided["keys"].size();
        write_hashed(w, elided, d);
      } else {
        write_hashed(w, *data, d);
      }
    }
    if (auto lease = body.find("lease_id"); lease != body.end() && lease->is_string() &&
                                            !lease->get_ref<const std::string&>().empty()) {
      w.key("secret");
      w.begin_object();
      w.field("lease_id", lease->get_ref<const std::string&>());
      w.end_object();
    }
    if (auto auth = body.find("auth"); auth != body.end() && auth->is_object()) {
      write_credentials_block(w, "auth", *auth, d);
    }
    if (auto wrap = body.find("wrap_info"); wrap != body.end() && wrap->is_object()) {
      write_credentials_block(w, "wrap_info", *wrap, d);
    }
    if (auto warnings = body.find("warnings"); warnings != body.end() && warnings->is_array()) {
      w.key("warnings");
      w.raw(warnings->dump(-1, ' ', false, json::error_handler_t::replace));
    }
  } else if (response.raw_body && response.content_type == "application/json") {
    // Pre-rendered JSON (the KV read fast path): only its data (and lease) are recorded.
    const std::function<std::string(std::string_view)> hash = [&d](std::string_view v) {
      return d.hmac.hash(v);
    };
    auto raw = hash_raw_data(*response.raw_body, d.options.log_raw ? nullptr : &hash);
    if (raw && raw->data) {
      w.key("data");
      w.raw(*raw->data);
    }
    if (raw && !raw->lease_id.empty()) {
      w.key("secret");
      w.begin_object();
      w.field("lease_id", raw->lease_id);
      w.end_object();
    }
  }
  w.end_object();
  if (error.empty()) error = record.error;
  if (!error.empty()) {
    out += R"(,"error":)";
    append_json_string(out, error);
  }
  out.push_back('}');
  return out;
}

}  // namespace coffer::audit
