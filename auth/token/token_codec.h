#pragma once
// How token entries are stored and shown: the stored JSON form, the `auth`
// block of a response and the `data` of a lookup (vault-api.md §1.4, §3.2).

#include <nlohmann/json.hpp>

#include "vault/core/token_store.h"

namespace coffer::auth::token {

nlohmann::json entry_to_json(const core::TokenEntry& entry);
Result<core::TokenEntry> entry_from_json(const nlohmann::json& j);

// The `auth` block of a create/renew response. `client_token` may be empty
// (renew-accessor).
nlohmann::json auth_block(const core::TokenEntry& entry, std::string_view client_token,
                          std::int64_t now);

// The `data` of a lookup. `id` is the token when the caller presented it, else "".
nlohmann::json lookup_data(const core::TokenEntry& entry, std::string_view id, std::int64_t now);

std::int64_t remaining_ttl(const core::TokenEntry& entry, std::int64_t now);

}  // namespace coffer::auth::token
