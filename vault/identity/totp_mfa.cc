#include "vault/identity/totp_mfa.h"

#include <sodium.h>

#include "vault/base/encoding.h"
#include "vault/base/secret_bytes.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"
#include "vault/identity/totp.h"

namespace coffer::identity {
namespace {

using api::Response;
using nlohmann::json;

constexpr std::string_view kMethodPrefix = "mfa/method/";
constexpr std::string_view kSecretPrefix = "mfa/secret/";

struct Method {
  std::string id;
  std::string issuer;
  TotpParams params;
  std::int64_t key_size = 20;
  std::int64_t max_validation_attempts = 5;
};

json method_to_json(const Method& m) {
  return {{"id", m.id},
          {"type", "totp"},
          {"issuer", m.issuer},
          {"period", m.params.period},
          {"key_size", m.key_size},
          {"algorithm", std::string(totp_algorithm_name(m.params.algorithm))},
          {"digits", m.params.digits},
          {"skew", m.params.skew},
          {"max_validation_attempts", m.max_validation_attempts},
          {"namespace_id", "root"}};
}

std::optional<Method> method_from_json(const json& j) {
  try {
    Method m;
    m.id = j.at("id").get<std::string>();
    m.issuer = j.at("issuer").get<std::string>();
    m.params.period = j.at("period").get<std::int64_t>();
    m.key_size = j.at("key_size").get<std::int64_t>();
    auto algorithm = parse_totp_algorithm(j.at("algorithm").get<std::string>());
    if (!algorithm) return std::nullopt;
    m.params.algorithm = *algorithm;
    m.params.digits = j.at("digits").get<int>();
    m.params.skew = j.at("skew").get<int>();
    m.max_validation_attempts = j.at("max_validation_attempts").get<std::int64_t>();
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

// One entity's enrolment in one method.
struct TotpMfa::Enrolment {
  SecretBytes key;
  std::int64_t last_step = -1;  // the last accepted time step; -1 = none yet
  std::int64_t failures = 0;    // consecutive failed validations
  std::int64_t locked_step = -1;
};

namespace {

using Enrolment = TotpMfa::Enrolment;

std::string enrolment_to_text(const Enrolment& e) {
  return json{{"key", to_base64(e.key.expose_secret())},
              {"last_step", e.last_step},
              {"failures", e.failures},
              {"locked_step", e.locked_step}}
      .dump();
}

std::optional<Enrolment> enrolment_from_text(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string()) {
    return std::nullopt;
  }
  auto key = secret_from_base64(j["key"].get_ref<const std::string&>());
  if (!key) return std::nullopt;
  Enrolment e;
  e.key = std::move(*key);
  e.last_step = j.value("last_step", std::int64_t{-1});
  e.failures = j.value("failures", std::int64_t{0});
  e.locked_step = j.value("locked_step", std::int64_t{-1});
  // The parsed JSON held the key's base64: wipe it before the tree is freed.
  auto& text_key = j["key"].get_ref<std::string&>();
  sodium_memzero(text_key.data(), text_key.size());
  return e;
}

}  // namespace

Status TotpMfa::put_enrolment(const std::string& key, const Enrolment& enrolment) {
  std::string text = enrolment_to_text(enrolment);
  Status s = storage_.put(key, text);
  sodium_memzero(text.data(), text.size());
  return s;
}

namespace {

std::string method_key(std::string_view id) { return std::string(kMethodPrefix) + std::string(id); }
std::string secret_key(std::string_view method, std::string_view entity) {
  return std::string(kSecretPrefix) + std::string(method) + "/" + std::string(entity);
}

Response bad_request(std::string message) { return Response::error(400, {std::move(message)}); }

// Method parameters from a create/update body over `m` (the defaults or the stored method).
Status apply_method_fields(const json& body, Method& m) {
  auto issuer = fields::string_field(body, "issuer");
  auto period = fields::duration_field(body, "period");
  auto key_size = fields::int_field(body, "key_size");
  auto algorithm = fields::string_field(body, "algorithm");
  auto digits = fields::int_field(body, "digits");
  auto skew = fields::int_field(body, "skew");
  auto attempts = fields::int_field(body, "max_validation_attempts");
  if (auto error = fields::first_error(issuer, period, key_size, algorithm, digits, skew, attempts))
    return *error;
  if (*issuer) m.issuer = **issuer;
  if (*period) m.params.period = **period;
  if (*key_size) m.key_size = **key_size;
  if (*algorithm) {
    COFFER_ASSIGN_OR_RETURN(m.params.algorithm, parse_totp_algorithm(**algorithm));
  }
  if (*digits) m.params.digits = static_cast<int>(std::clamp<std::int64_t>(**digits, -1, 100));
  if (*skew) m.params.skew = static_cast<int>(std::clamp<std::int64_t>(**skew, -1, 100));
  if (*attempts) m.max_validation_attempts = **attempts;
  if (m.issuer.empty()) return invalid_argument("issuer must be set");
  if (m.key_size < 16 || m.key_size > 128) {
    return invalid_argument("key_size must be between 16 and 128 bytes");
  }
  if (m.max_validation_attempts < 1) {
    return invalid_argument("max_validation_attempts must be at least 1");
  }
  return check_totp_params(m.params);
}

}  // namespace

TotpMfa::TotpMfa(barrier::LogicalStorage& storage, const Clock& clock, EntityFinder find_entity)
    : storage_(storage), clock_(clock), find_entity_(std::move(find_entity)) {}

api::Response TotpMfa::handle(const api::Request& request, std::string_view rest,
                              std::string_view caller_entity) {
  const auto op = request.operation;
  const bool write = op == api::Operation::kCreate || op == api::Operation::kUpdate;
  if (rest.empty() || rest == "/") {
    if (op == api::Operation::kList) return method_list();
    if (write && rest.empty()) return method_write(request, "");
    return Response::error(405, {});
  }
  const std::string_view name = rest.substr(1);
  if (name == "admin-generate" || name == "admin-destroy" || name == "generate") {
    if (!write) return Response::error(405, {});
    auto method_id = fields::string_field(request.body, "method_id");
    auto entity_id = fields::string_field(request.body, "entity_id");
    if (auto error = fields::first_error(method_id, entity_id)) return Response::error(*error);
    if (!*method_id || (*method_id)->empty()) return bad_request("missing method ID");
    std::string entity;
    if (name == "generate") {
      if (caller_entity.empty()) return bad_request("no entity attached to the request's token");
      entity = std::string(caller_entity);
    } else {
      if (!*entity_id || (*entity_id)->empty()) return bad_request("missing entity ID");
      entity = **entity_id;
    }
    return name == "admin-destroy" ? destroy(**method_id, entity) : generate(**method_id, entity);
  }
  if (name.find('/') != std::string_view::npos) return Response::error(404, {});
  switch (op) {
    case api::Operation::kRead:
      return method_read(name);
    case api::Operation::kCreate:
    case api::Operation::kUpdate:
      return method_write(request, name);
    case api::Operation::kDelete:
      return method_delete(name);
    default:
      return Response::error(405, {});
  }
}

api::Response TotpMfa::method_write(const api::Request& request, std::string_view id) {
  std::lock_guard lock(mutex_);
  Method m;
  if (!id.empty()) {
    auto stored = storage_.get(method_key(id));
    if (!stored) return Response::error(stored.error());
    if (!*stored) return Response::error(404, {});
    auto parsed = method_from_json(json::parse(**stored, nullptr, false));
    if (!parsed) return Response::error(internal_error("MFA method record is corrupt"));
    m = std::move(*parsed);
  } else {
    m.id = random_uuid();
  }
  if (Status s = apply_method_fields(request.body, m); !s.ok()) return Response::error(s);
  if (Status s = storage_.put(method_key(m.id), method_to_json(m).dump()); !s.ok()) {
    return Response::error(s);
  }
  if (!id.empty()) return Response::no_content();
  return Response::json(200, api::envelope({{"method_id", m.id}}));
}

api::Response TotpMfa::method_read(std::string_view id) {
  auto stored = storage_.get(method_key(id));
  if (!stored) return Response::error(stored.error());
  if (!*stored) return Response::error(404, {});
  auto parsed = method_from_json(json::parse(**stored, nullptr, false));
  if (!parsed) return Response::error(internal_error("MFA method record is corrupt"));
  return Response::json(200, api::envelope(method_to_json(*parsed)));
}

api::Response TotpMfa::method_delete(std::string_view id) {
  std::lock_guard lock(mutex_);
  std::vector<storage::WriteOp> ops{storage::WriteOp::remove(method_key(id))};
  const std::string secrets = std::string(kSecretPrefix) + std::string(id) + "/";
  auto enrolled = storage_.list(secrets);
  if (!enrolled) return Response::error(enrolled.error());
  for (const auto& entity : *enrolled) ops.push_back(storage::WriteOp::remove(secrets + entity));
  if (Status s = storage_.write_batch(ops); !s.ok()) return Response::error(s);
  return Response::no_content();
}

api::Response TotpMfa::method_list() {
  auto ids = storage_.list(kMethodPrefix);
  if (!ids) return Response::error(ids.error());
  if (ids->empty()) return Response::error(404, {});
  return Response::json(200, api::envelope({{"keys", *ids}}));
}

api::Response TotpMfa::generate(std::string_view method_id, std::string_view entity_id) {
  std::lock_guard lock(mutex_);
  auto stored = storage_.get(method_key(method_id));
  if (!stored) return Response::error(stored.error());
  if (!*stored) return bad_request("invalid method ID");
  auto method = method_from_json(json::parse(**stored, nullptr, false));
  if (!method) return Response::error(internal_error("MFA method record is corrupt"));
  auto entity = find_entity_(entity_id);
  if (!entity) return bad_request("invalid entity ID");
  const std::string key = secret_key(method_id, entity_id);
  auto existing = storage_.get(key);
  if (!existing) return Response::error(existing.error());
  if (*existing) {
    // Vault answers a second enrolment with a warning and no secret.
    json body = api::envelope(nullptr);
    body["warnings"] = {"Entity already has a secret for MFA method"};
    return Response::json(200, std::move(body));
  }
  Enrolment enrolment;
  enrolment.key = SecretBytes::random(static_cast<std::size_t>(method->key_size));
  if (Status s = put_enrolment(key, enrolment); !s.ok()) return Response::error(s);
  const std::string url =
      otpauth_url(method->issuer, entity->name, enrolment.key.expose_secret(), method->params);
  return Response::json(200, api::envelope({{"url", url}, {"barcode", ""}}));
}

api::Response TotpMfa::destroy(std::string_view method_id, std::string_view entity_id) {
  std::lock_guard lock(mutex_);
  if (Status s = storage_.remove(secret_key(method_id, entity_id)); !s.ok()) {
    return Response::error(s);
  }
  return Response::no_content();
}

Status TotpMfa::forget_entity(std::string_view entity_id) {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto methods, storage_.list(kMethodPrefix));
  std::vector<storage::WriteOp> ops;
  for (const auto& method : methods)
    ops.push_back(storage::WriteOp::remove(secret_key(method, entity_id)));
  if (ops.empty()) return ok_status();
  return storage_.write_batch(ops);
}

Status TotpMfa::validate(std::string_view method_id, std::string_view entity_id,
                         std::string_view passcode) {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto stored_method, storage_.get(method_key(method_id)));
  if (!stored_method) return invalid_argument("invalid method ID");
  auto method = method_from_json(json::parse(*stored_method, nullptr, false));
  if (!method) return internal_error("MFA method record is corrupt");
  const std::string key = secret_key(method_id, entity_id);
  COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(key));
  if (!stored) return invalid_argument("entity is not enrolled in this MFA method");
  auto enrolment = enrolment_from_text(*stored);
  sodium_memzero(stored->data(), stored->size());
  if (!enrolment) return internal_error("MFA enrolment record is corrupt");

  const std::int64_t now = clock_.unix_seconds();
  const auto step_now = static_cast<std::int64_t>(totp_step(now, method->params));
  if (enrolment->failures >= method->max_validation_attempts) {
    if (step_now <= enrolment->locked_step) {
      return permission_denied("maximum MFA validation attempts exceeded");
    }
    enrolment->failures = 0;
  }
  const auto matched = verify_totp(enrolment->key.expose_secret(), passcode, now, method->params);
  Status outcome = ok_status();
  if (!matched) {
    enrolment->failures += 1;
    if (enrolment->failures >= method->max_validation_attempts) enrolment->locked_step = step_now;
    outcome = permission_denied("MFA validation failed");
  } else if (static_cast<std::int64_t>(*matched) <= enrolment->last_step) {
    // Replays are refused but do not count towards the lockout: they are not guesses.
    return permission_denied("MFA passcode already used");
  } else {
    enrolment->last_step = static_cast<std::int64_t>(*matched);
    enrolment->failures = 0;
  }
  // The accepted step is on disk before the caller acts on the answer: no replay after a crash.
  COFFER_TRY(put_enrolment(key, *enrolment));
  return outcome;
}

}  // namespace coffer::identity
