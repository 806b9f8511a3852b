#pragma once
// TokenStore: the interface the core authenticates requests through.
//
// The implementation lives in auth/token; the core depends only on this header,
// so the full token store (create, renew, revoke, roles, accessors) can grow
// there without the core knowing its type. Only the core mints tokens for logins.
// Security: tokens are never stored or compared raw: implementations key entries
// by a salted hash of the token, so a storage dump yields no usable token and a
// lookup's timing does not depend on how much of a guess matches.
// Thread safety: every method may be called concurrently.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/base/status.h"

namespace coffer::core {

struct TokenEntry {
  std::string accessor;
  std::vector<std::string> policies;
  std::string display_name;
  std::string path;  // the path that created it, e.g. auth/token/root
  std::string entity_id;
  std::int64_t creation_time = 0;
  std::int64_t expire_time = 0;  // unix seconds; 0 = never expires

  bool is_root() const;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // nullopt for an unknown or expired token.
  virtual Result<std::optional<TokenEntry>> lookup(std::string_view token) = 0;
  // Creates a root token. `requested_id` empty = a fresh random `hvs.` token.
  // Returns the token (the only time it exists outside the caller's request).
  virtual Result<std::string> create_root_token(std::string_view requested_id) = 0;
  // Drops everything cached in memory (called when the vault seals).
  virtual void seal() = 0;
};

using TokenStoreFactory = std::unique_ptr<TokenStore> (*)(barrier::LogicalStorage& storage,
                                                          const Clock& clock);

}  // namespace coffer::core
