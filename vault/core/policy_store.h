#pragma once
// PolicyStore: the named ACL policies, persisted under the barrier at
// `sys/policy/<name>` and served from an immutable in-memory snapshot.
//
// Every change publishes a new snapshot (and drops the compiled-ACL cache), so
// a policy change applies to the very next request. Built-ins: `root`
// (virtual, immutable) and `default` (seeded on first unseal, editable, not
// deletable). Reads are lock-free; writes are serialised.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "vault/barrier/logical_storage.h"
#include "vault/policy/acl.h"
#include "vault/policy/policy.h"

namespace coffer::core {

class PolicyStore {
 public:
  explicit PolicyStore(barrier::LogicalStorage& storage);

  // Loads every stored policy (seeding `default` on first use). Called on unseal.
  Status load();
  void clear();

  // Sorted names, including "root".
  std::vector<std::string> names() const;
  // nullptr when absent. `root` returns the root marker.
  std::shared_ptr<const policy::Policy> find(std::string_view name) const;
  // Parses and stores; errors are 400 with the parser's message.
  Status put(std::string_view name, std::string_view text);
  // `default` and `root` cannot be deleted. Deleting an absent policy succeeds.
  Status remove(std::string_view name);

  // The ACL for a set of policy names (unknown names are skipped, as in Vault),
  // compiled once per distinct set and snapshot. Templated stanzas render from
  // `identity` (no entity: they are dropped); `identity_key` names that identity's
  // current revision, so ACLs rendered from an entity are cached per entity revision
  // and untemplated sets stay shared by everyone.
  Result<std::shared_ptr<const policy::Acl>> acl_for(const std::vector<std::string>& names,
                                                     const policy::TemplateContext& identity = {},
                                                     std::string_view identity_key = {}) const;

 private:
  struct Snapshot {
    std::map<std::string, std::shared_ptr<const policy::Policy>, std::less<>> policies;
    // Compiled ACLs for this snapshot, keyed by the joined policy names. Bounded.
    mutable std::shared_mutex cache_mutex;
    mutable std::map<std::string, std::shared_ptr<const policy::Acl>> acl_cache;
  };
  static constexpr std::size_t kAclCacheLimit = 1024;

  barrier::LogicalStorage& storage_;
  std::mutex write_mutex_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  const std::shared_ptr<const policy::Policy> root_;
  const std::shared_ptr<const policy::Policy> response_wrapping_;
};

}  // namespace coffer::core
