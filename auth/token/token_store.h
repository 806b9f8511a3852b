#pragma once
// The token store behind core::TokenStore.
//
// Entries live under the barrier at `sys/token/id/<hex HMAC-SHA256(salt, token)>`;
// the salt is a random 32-byte value at `sys/token/salt`, created on first use.
// A lookup hashes the presented token and reads that key: the raw token is never
// stored, and no comparison leaks how much of a guess matched.

#include <memory>

#include "vault/core/token_store.h"

namespace coffer::auth::token {

std::unique_ptr<core::TokenStore> make_token_store(barrier::LogicalStorage& storage,
                                                   const Clock& clock);

}  // namespace coffer::auth::token
