#include "auth/token/token_cache.h"

#include <functional>
#include <mutex>

namespace coffer::auth::token {

TokenCache::Shard& TokenCache::shard_for(const std::string& id_hash) const {
  // id_hash is a hex HMAC: any of its bytes is uniformly distributed.
  return shards_[std::hash<std::string>{}(id_hash) % kShards];
}

std::optional<core::TokenEntry> TokenCache::find(const std::string& id_hash) const {
  const Shard& shard = shard_for(id_hash);
  std::shared_lock lock(shard.mutex);
  auto it = shard.entries.find(id_hash);
  if (it == shard.entries.end() || it->second.generation != generation()) return std::nullopt;
  return it->second.entry;
}

void TokenCache::insert(const core::TokenEntry& entry, std::uint64_t seen_generation) {
  if (entry.id_hash.empty()) return;
  Shard& shard = shard_for(entry.id_hash);
  std::unique_lock lock(shard.mutex);
  if (shard.entries.size() >= kMaxPerShard) shard.entries.clear();
  shard.entries.insert_or_assign(entry.id_hash, Cached{seen_generation, entry});
}

void TokenCache::clear() {
  invalidate();
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mutex);
    shard.entries.clear();
  }
}

}  // namespace coffer::auth::token
