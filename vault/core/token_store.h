#pragma once
// TokenStore: the interface the core authenticates requests through, and the
// handler of the always-mounted `auth/token/` endpoints.
//
// The implementation lives in auth/token; the core depends only on this header.
// Only the core mints tokens for logins (through create_token).
// Security: service tokens are never stored raw: entries are keyed by a salted
// HMAC of the token, so a storage dump yields no usable token and a lookup's
// timing does not depend on how much of a guess matches. Batch tokens are not
// stored at all: they are the entry itself, sealed under a key in the barrier.
// Thread safety: every method may be called concurrently.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/base/status.h"
#include "vault/core/api.h"

namespace coffer::core {

// Each service token's cubbyhole lives under this barrier prefix plus the
// token's id_hash; it is deleted with the token.
inline constexpr std::string_view kCubbyholePrefix = "cubbyhole/";

struct TokenEntry {
  std::string id_hash;                // storage key of the entry; empty for batch tokens
  std::string accessor;               // empty for batch tokens
  std::string parent_hash;            // empty for orphans
  std::vector<std::string> policies;  // sorted, unique
  std::map<std::string, std::string> meta;
  std::string display_name;
  std::string path;  // the path that created it, e.g. auth/token/create
  std::string entity_id;
  std::string type = "service";  // "service" | "batch"
  std::int64_t creation_time = 0;
  std::int64_t creation_ttl = 0;      // seconds, 0 = no expiry
  std::int64_t explicit_max_ttl = 0;  // seconds, 0 = none
  std::int64_t period = 0;            // seconds, 0 = not periodic
  std::int64_t expire_time = 0;       // unix seconds; 0 = never expires
  std::int64_t num_uses = 0;          // remaining uses; 0 = unlimited
  bool renewable = true;
  bool orphan = false;
  // Coffer: minted by an MFA step-up; satisfies policies' require_mfa condition.
  bool mfa_validated = false;
  // Networks the token may be used from (canonical CIDRs, from its role's token_bound_cidrs
  // or its parent); empty = any. A use from elsewhere is refused as if the token did not exist.
  std::vector<std::string> bound_cidrs;

  bool is_root() const;
  bool is_batch() const { return type == "batch"; }
};

// What the core knows about a call into auth/token/.
struct TokenCall {
  const TokenEntry& caller;
  std::string_view caller_token;
  bool sudo = false;  // the caller holds sudo on this path (root tokens do)
  std::int64_t default_ttl = 0;
  std::int64_t max_ttl = 0;
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // nullopt for an unknown, expired or used-up token.
  virtual Result<std::optional<TokenEntry>> lookup(std::string_view token) = 0;
  // nullopt for an unknown accessor or an expired token.
  virtual Result<std::optional<TokenEntry>> lookup_accessor(std::string_view accessor) = 0;
  // Spends one use of a limited-use token (num_uses > 0). True when that was the last use:
  // from then on the token no longer authenticates, and the caller revokes it once the
  // request it was spent on has been served (so that request still sees, e.g., its
  // cubbyhole). False for unlimited tokens and uses that leave some.
  virtual Result<bool> consume_use(const TokenEntry& entry) = 0;
  // Creates a root token. `requested_id` empty = a fresh random `hvs.` token.
  virtual Result<std::string> create_root_token(std::string_view requested_id) = 0;
  // Mints a service token for the core (response wrapping, auth-method logins):
  // `entry` carries policies, TTL, path and flags; id_hash and accessor are
  // filled in. Returns the token.
  virtual Result<std::string> mint(TokenEntry& entry) = 0;
  // Revokes the token and its descendants (and its cubbyhole).
  virtual Status revoke(const TokenEntry& entry) = 0;
  // Serves auth/token/<path>; `request.path` is relative to auth/token/.
  virtual api::Response handle(const api::Request& request, const TokenCall& call) = 0;
  // Drops everything cached in memory (called when the vault seals).
  virtual void seal() = 0;
};

using TokenStoreFactory = std::unique_ptr<TokenStore> (*)(barrier::LogicalStorage& storage,
                                                          const Clock& clock);

}  // namespace coffer::core
