#pragma once
// Core: the request pipeline every API call goes through.
//
// handle() runs, in order: the seal gate (503 while sealed except the seal
// endpoints), authentication (token -> TokenEntry), routing, authorisation
// (deny by default) and dispatch. Nothing bypasses these steps.
// Thread safety: handle() is called concurrently from every io thread.
// Ownership: the core owns the barrier, seal and token store; the backend is
// owned by the caller and must outlive the core.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engines/secret_engine.h"
#include "storage/backend.h"
#include "vault/audit/audit_broker.h"
#include "vault/barrier/barrier.h"
#include "vault/base/clock.h"
#include "vault/core/api.h"
#include "vault/core/mount_table.h"
#include "vault/core/policy_store.h"
#include "vault/core/token_store.h"
#include "vault/identity/identity_store.h"
#include "vault/policy/acl.h"
#include "vault/seal/shamir_seal.h"

namespace coffer::core {

inline constexpr std::string_view kVersion = "0.1.0";

struct CoreOptions {
  std::chrono::seconds default_lease_ttl{std::chrono::hours(768)};
  std::chrono::seconds max_lease_ttl{std::chrono::hours(768)};
  audit::AuditOptions audit;
};

struct InitResult {
  std::vector<SecretBytes> shares;
  std::string root_token;
};

class Core {
 public:
  // `engines` is the catalog of secret engine types mounts may use.
  Core(storage::Backend& backend, TokenStoreFactory make_token_store,
       std::span<const engines::EngineRegistration> engines, CoreOptions options,
       const Clock& clock = system_clock());

  // Mounts a secrets engine (used by sys/mounts and by `server -dev`).
  Status mount(MountEntry entry);
  ~Core();

  api::Response handle(api::Request request);

  // The operations behind sys/init and sys/unseal, also used by `server -dev`.
  // `root_token_id` empty = random. The vault is sealed when initialize returns.
  Result<InitResult> initialize(int shares, int threshold, std::string_view root_token_id);
  Result<seal::UnsealProgress> submit_unseal_share(SecretBytes share);
  void seal();
  bool sealed() const { return barrier_.sealed(); }
  // SIGHUP: audit files are reopened (logrotate).
  void reopen_audit_devices() { audit_.reopen(); }

 private:
  struct ClusterIdentity {
    std::string name;
    std::string id;
  };

  // Authentication, authorisation, the audit request entry and dispatch. `audit` is null
  // when no audit device is enabled; otherwise it is filled in as the request is learnt,
  // and its request entry is written before anything runs.
  api::Response serve(api::Request request, audit::AuditRecord* audit, api::Request* logged);
  api::Response dispatch(api::Request request, const TokenEntry& token,
                         const policy::Decision& decision);
  // Deny by default: the token's policies (and its entity's) must grant the operation on the
  // path. A token whose entity is disabled or gone is denied everything.
  policy::Decision authorise(const api::Request& request, const TokenEntry& token) const;
  // Coffer: a TOTP passcode turns the caller's token into a short-lived MFA-validated child.
  api::Response handle_mfa_step_up(const api::Request& request, const TokenEntry& token);
  // Token create may name an entity (sudo only); it must exist and be enabled.
  std::optional<api::Response> check_token_entity(const api::Request& request, bool sudo) const;
  // Vault shows an entity's policies as identity_policies in token lookups.
  void add_identity_policies(api::Response& response) const;
  std::string token_mount_accessor() const;
  static bool sudo_required(std::string_view path, api::Operation op);
  api::Response handle_policies(const api::Request& request);
  api::Response handle_capabilities(const api::Request& request, const TokenEntry& token);
  api::Response handle_policy_check(const api::Request& request, const TokenEntry& token);
  api::Response handle_cubbyhole(api::Request request, const TokenEntry& token);
  api::Response handle_wrapping(const api::Request& request, const TokenEntry& token);
  // Stores `response` in a new single-use wrapping token's cubbyhole and
  // returns Vault's wrap_info envelope instead. Error responses pass through.
  api::Response wrap_response(api::Response response, std::int64_t ttl,
                              const std::string& creation_path);
  // The engine that serves cubbyhole paths: KV v1 semantics over a view.
  Result<std::unique_ptr<engines::SecretEngine>> cubbyhole_engine(const std::string& id_hash);
  // Loads (or, on first unseal, creates) the cluster name and id and caches them
  // until the next seal, so sys/health never touches storage.
  Status load_cluster_identity();
  std::shared_ptr<const ClusterIdentity> cluster_identity() const { return cluster_.load(); }

  api::Response handle_init(const api::Request& request);
  api::Response handle_seal_status();
  api::Response handle_unseal(const api::Request& request);
  api::Response handle_health(const api::Request& request);
  api::Response handle_leader();
  api::Response handle_key_status();
  api::Response handle_rotate();
  api::Response handle_mounts(const api::Request& request);
  // The always-present token auth mount, as sys/auth shows it.
  nlohmann::json token_mount_json() const;
  // Vault warns when a new token names a policy that does not exist.
  void warn_unknown_policies(api::Response& response) const;
  // Finishes an unseal: loads what lives behind the barrier.
  Status after_unseal();
  nlohmann::json seal_status_json(const seal::UnsealProgress& progress);

  storage::Backend& backend_;
  const Clock& clock_;
  const CoreOptions options_;
  barrier::Barrier barrier_;
  seal::ShamirSeal seal_;
  const std::unique_ptr<TokenStore> tokens_;
  MountTable mounts_;
  PolicyStore policies_;
  barrier::BarrierView identity_view_;
  identity::IdentityStore identity_;
  audit::AuditBroker audit_;
  const std::span<const engines::EngineRegistration> engines_;
  std::mutex wrapping_mutex_;  // makes unwrap single-use under concurrency
  std::atomic<std::shared_ptr<const ClusterIdentity>> cluster_;
  struct HealthBody {
    std::int64_t second;
    bool sealed;
    bool initialized;
    std::shared_ptr<const ClusterIdentity> cluster;
    std::string text;
  };
  std::atomic<std::shared_ptr<const HealthBody>> health_cache_;
};

}  // namespace coffer::core
