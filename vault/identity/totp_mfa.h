#pragma once
// TotpMfa: TOTP MFA methods (`identity/mfa/method/totp`, Vault's API) and the
// per-entity secrets enrolled in them, plus the passcode check behind
// `sys/mfa/step-up`.
//
// Replay: a time step accepted once for an entity and method is never accepted
// again (the last accepted step is stored, synced, before the check answers).
// Guessing: after max_validation_attempts consecutive failures, every attempt
// fails until the next time step. Secrets live only under the barrier and are
// shown once, in the otpauth URL of the generate call.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/core/api.h"
#include "vault/identity/entity.h"

namespace coffer::identity {

class TotpMfa {
 public:
  using EntityFinder = std::function<std::shared_ptr<const Entity>(std::string_view id)>;

  TotpMfa(barrier::LogicalStorage& storage, const Clock& clock, EntityFinder find_entity);

  // identity/mfa/method/totp[/<rest>]; `rest` is what follows "mfa/method/totp" ("" or
  // "/<id>", "/admin-generate", ...). `caller_entity` is the caller token's entity or "".
  api::Response handle(const api::Request& request, std::string_view rest,
                       std::string_view caller_entity);

  // OK when `passcode` is valid now for the entity's secret in the method; otherwise
  // permission_denied naming why (never echoing the passcode), or invalid_argument when the
  // entity is not enrolled.
  Status validate(std::string_view method_id, std::string_view entity_id,
                  std::string_view passcode);

  // Removes an entity's secrets in every method (when the entity is deleted).
  Status forget_entity(std::string_view entity_id);

  struct Enrolment;  // one entity's secret and replay/lockout state in one method (the .cc)

 private:
  api::Response method_write(const api::Request& request, std::string_view id);
  api::Response method_read(std::string_view id);
  api::Response method_delete(std::string_view id);
  api::Response method_list();
  api::Response generate(std::string_view method_id, std::string_view entity_id);
  api::Response destroy(std::string_view method_id, std::string_view entity_id);
  // Stores an enrolment and wipes its serialised form.
  Status put_enrolment(const std::string& key, const Enrolment& enrolment);

  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  const EntityFinder find_entity_;
  std::mutex mutex_;  // serialises method changes, enrolment and every validation
};

}  // namespace coffer::identity
