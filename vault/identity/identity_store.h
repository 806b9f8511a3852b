#pragma once
// IdentityStore: entities and their aliases (the `identity/` mount, always
// present), and TOTP MFA methods with their per-entity secrets.
//
// Storage: `sys/identity/` under the barrier (`entity/<id>` with its aliases,
// `mfa/...` in TotpMfa). Requests read entities from an immutable in-memory
// snapshot, so authorising a token with an entity takes no lock; writes are
// serialised and publish a new snapshot, so a change (policies, disabled,
// metadata for templates) applies to the very next request.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/core/api.h"
#include "vault/identity/entity.h"
#include "vault/identity/totp_mfa.h"
#include "vault/policy/policy.h"

namespace coffer::identity {

struct AuthMountInfo {
  std::string path;  // e.g. "auth/token/"
  std::string type;  // e.g. "token"
};
// Resolves an auth mount accessor; nullopt when no auth mount has it.
using AuthMountResolver = std::function<std::optional<AuthMountInfo>(std::string_view accessor)>;

// What the core knows about the caller of an identity/ endpoint.
struct IdentityCall {
  std::string_view entity_id;  // the caller token's entity, "" when none
};

class IdentityStore {
 public:
  IdentityStore(barrier::LogicalStorage& storage, const Clock& clock,
                AuthMountResolver resolve_mount);

  Status load();  // on unseal
  void clear();   // on seal

  // nullptr when absent. Lock-free.
  std::shared_ptr<const Entity> entity(std::string_view id) const;
  // The identity a policy template renders from.
  static policy::TemplateContext template_context(const Entity& entity);

  // Serves identity/<path>; `request.path` is relative to identity/.
  api::Response handle(const api::Request& request, const IdentityCall& call);

  TotpMfa& mfa() { return mfa_; }

 private:
  struct Snapshot {
    std::unordered_map<std::string, std::shared_ptr<const Entity>> by_id;
    std::unordered_map<std::string, std::string> id_by_name;   // lower-cased name -> id
    std::unordered_map<std::string, std::string> id_by_alias;  // alias id -> entity id
  };

  std::shared_ptr<const Entity> find_by_name(std::string_view name) const;
  std::shared_ptr<const Entity> find_by_alias(std::string_view alias_id) const;
  std::shared_ptr<const Entity> find_by_alias_name(std::string_view name,
                                                   std::string_view accessor) const;

  api::Response entity_write(const api::Request& request, std::shared_ptr<const Entity> existing,
                             std::optional<std::string> name_from_path);
  api::Response entity_read(const std::shared_ptr<const Entity>& entity) const;
  api::Response entity_delete(const std::shared_ptr<const Entity>& entity);
  api::Response entity_list(bool by_name) const;
  api::Response alias_create(const api::Request& request);
  api::Response alias_by_id(const api::Request& request, std::string_view alias_id);
  api::Response alias_list() const;
  api::Response lookup_entity(const api::Request& request) const;

  // Persists `entity` and publishes it (replacing any entity with its id); `writes_` held.
  Status store_locked(Entity entity);
  Status remove_locked(const Entity& entity);
  void publish_locked(std::shared_ptr<Snapshot> next);

  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  const AuthMountResolver resolve_mount_;
  std::mutex writes_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<std::uint64_t> next_revision_{1};
  TotpMfa mfa_;
};

}  // namespace coffer::identity
