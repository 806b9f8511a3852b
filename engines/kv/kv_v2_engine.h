#pragma once
// The `kv` secrets engine, version 2: versioned secrets, wire-compatible with Vault's KV v2
// (vault-api.md §5.2).
//
// Paths, relative to the mount:
//   config              GET / POST  max_versions, cas_required, delete_version_after
//   data/<p>            GET (?version=N), POST/PUT {"data":{..},"options":{"cas":N}},
//                       PATCH (JSON merge patch of the latest live version), DELETE (soft
//                       delete of the latest version)
//   delete/<p>          POST {"versions":[..]}   soft delete
//   undelete/<p>        POST {"versions":[..]}
//   destroy/<p>         POST {"versions":[..]}   the versions' data is removed from storage
//   metadata/<p>        GET, LIST, POST, PATCH, DELETE (every version and the metadata)
//   subkeys/<p>         GET (?version=N&depth=D): the data's key structure, values null
// Any other path answers 404 with Vault's "Invalid path for a versioned K/V secrets engine"
// warning.
//
// Behaviour that clients rely on and that is easy to get wrong, kept exactly as Vault:
//  - a read of a deleted or destroyed version is 404 *with* the envelope, `data.data` null and
//    the version metadata; a read of an absent secret or version is 404 `{"errors":[]}`;
//  - `options.cas` 0 means create-only; a mismatch is 400 `check-and-set parameter did not
//    match the current version`; cas_required on the mount or the key makes cas mandatory;
//  - max_versions (the larger of the mount's and the key's; 10 when both are 0) prunes the
//    oldest versions on write, removing their data; `oldest_version` follows Vault's rule;
//  - delete_version_after (the smaller non-zero of the mount's and the key's) stamps each new
//    version with a future deletion_time; from that instant on the version reads as deleted.
//    A negative mount value disables it for every key. Time comes from the injected clock;
//  - times are RFC 3339 with nanoseconds, UTC; durations read back as Go strings ("1h0m0s");
//    `versions` in a metadata read is keyed by decimal strings;
//  - JSON null for any request field means "not provided".
//
// Storage layout inside the mount's view: `config` (JSON), `meta/<p>` (JSON: the version
// table, settings and custom metadata) and `ver/<p>/<n>` (the version's data, JSON). Every
// mutation of a secret is one write_batch, so a crash never leaves a version without its
// metadata or the reverse.
//
// Thread safety: handle() may run concurrently. Mutations of one secret are serialised by a
// striped per-path lock held across read-check-write, so concurrent writers never lose or
// duplicate a version and check-and-set is atomic. Reads take the same lock shared, so they
// never see metadata whose data a concurrent destroy has just removed.
// Errors: bad input is 400 with a message naming the field (never a secret value); storage
// failures and corrupt entries are 500; a sealed barrier answers as the barrier does (503).

#include <memory>

#include <nlohmann/json.hpp>

#include "engines/secret_engine.h"

namespace coffer::engines::kv {

// `options` is the mount's options map; only `version` ("2") is meaningful and it is not
// re-checked here. Fails only when the context has no storage view.
// Rewrites a KV v1 view (one JSON object per path) into the v2 layout, each
// entry becoming version 1 of its path, in one atomic batch.
Status upgrade_v1_data_to_v2(barrier::LogicalStorage& view, const Clock& clock);

Result<std::unique_ptr<SecretEngine>> make_kv_v2_engine(EngineContext context,
                                                        const nlohmann::json& options);

}  // namespace coffer::engines::kv
