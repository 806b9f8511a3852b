#pragma once
// TokenCache: parsed token entries by id_hash, so an authenticated request does
// not read, decrypt and parse its token's entry from storage every time.
//
// Invalidation is by generation: every change to a stored entry (revoke, renew,
// use, orphaning) bumps the generation before and after its storage write, and
// a cached entry is used only while its generation is current. A lookup records
// the generation it saw *before* reading storage, so an entry read concurrently
// with a change can never outlive that change. Only existing tokens are cached
// (a flood of bogus tokens adds nothing), and each shard is bounded.
// Expiry is not the cache's business: callers check expire_time on every use.
// Thread safety: all methods may be called concurrently; readers take a shared
// lock on one of 16 shards only.

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "vault/core/token_store.h"

namespace coffer::auth::token {

class TokenCache {
 public:
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void invalidate() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  std::optional<core::TokenEntry> find(const std::string& id_hash) const;
  // `seen_generation` is what generation() returned before the entry was read.
  void insert(const core::TokenEntry& entry, std::uint64_t seen_generation);
  void clear();

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxPerShard = 4096;
  struct Cached {
    std::uint64_t generation;
    core::TokenEntry entry;
  };
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, Cached> entries;  // guarded by mutex
  };
  Shard& shard_for(const std::string& id_hash) const;

  std::atomic<std::uint64_t> generation_{1};
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace coffer::auth::token
