// sys/mfa/step-up (Coffer): a TOTP passcode turns the caller's token into a
// short-lived child that satisfies policies' `require_mfa` condition.
//
// The child, not the caller's token, carries the proof: a token stolen before
// the step-up never gains it, and the proof ends with the child's short TTL
// (and with the parent, which revokes its children).

#include "vault/core/core.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::core {
namespace {

constexpr std::int64_t kDefaultStepUpTtl = 15 * 60;

}  // namespace

api::Response Core::handle_mfa_step_up(const api::Request& request, const TokenEntry& token) {
  if (request.operation != api::Operation::kUpdate &&
      request.operation != api::Operation::kCreate) {
    return api::Response::error(405, {});
  }
  if (token.entity_id.empty()) {
    return api::Response::error(invalid_argument("no entity attached to the request's token"));
  }
  if (token.is_batch()) {
    return api::Response::error(invalid_argument("batch tokens cannot step up"));
  }
  auto method_id = fields::string_field(request.body, "method_id");
  auto passcode = fields::string_field(request.body, "passcode");
  auto ttl = fields::duration_field(request.body, "ttl");
  if (auto error = fields::first_error(method_id, passcode, ttl)) {
    return api::Response::error(*error);
  }
  if (!*method_id || (*method_id)->empty()) {
    return api::Response::error(invalid_argument("missing method_id"));
  }
  if (!*passcode || (*passcode)->empty()) {
    return api::Response::error(invalid_argument("missing passcode"));
  }
  const std::int64_t now = clock_.unix_seconds();
  std::int64_t lifetime = ttl->value_or(kDefaultStepUpTtl);
  if (lifetime <= 0) lifetime = kDefaultStepUpTtl;
  if (token.expire_time != 0) lifetime = std::min(lifetime, token.expire_time - now);
  if (lifetime <= 0) return api::Response::error(permission_denied());

  if (Status s = identity_.mfa().validate(**method_id, token.entity_id, **passcode); !s.ok()) {
    if (s.code() == StatusCode::kPermissionDenied) {
      return api::Response::error(403, {"permission denied", s.message()});
    }
    return api::Response::error(s);
  }

  TokenEntry child;
  child.parent_hash = token.id_hash;
  child.policies = token.policies;
  child.meta = token.meta;
  child.display_name = token.display_name;
  child.path = "sys/mfa/step-up";
  child.entity_id = token.entity_id;
  child.creation_time = now;
  child.creation_ttl = lifetime;
  child.expire_time = now + lifetime;
  child.renewable = false;
  child.mfa_validated = true;
  auto minted = tokens_->mint(child);
  if (!minted) return api::Response::error(minted.error());

  nlohmann::json body = api::envelope(nullptr);
  body["auth"] = {
      {"client_token", *minted},
      {"accessor", child.accessor},
      {"policies", child.policies},
      {"token_policies", child.policies},
      {"metadata", child.meta.empty() ? nlohmann::json(nullptr) : nlohmann::json(child.meta)},
      {"lease_duration", lifetime},
      {"renewable", false},
      {"entity_id", child.entity_id},
      {"token_type", "service"},
      {"orphan", false},
      {"mfa_requirement", nullptr},
      {"mfa_validated", true},
      {"num_uses", 0}};
  api::Response response = api::Response::json(200, std::move(body));
  add_identity_policies(response);
  return response;
}

}  // namespace coffer::core
