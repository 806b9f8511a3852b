#pragma once
// The `kv` secrets engine: version 1 (one unversioned JSON object per path) or
// version 2 (versioned, see kv_v2_engine.h), chosen by the mount option.

#include "engines/secret_engine.h"

namespace coffer::engines::kv {

// options.version "1" (or absent) serves KV v1; "2" serves KV v2 (kv_v2_engine.h).
Result<std::unique_ptr<SecretEngine>> make_kv_engine(EngineContext context,
                                                     const nlohmann::json& options);

// Tuning options.version from "1" (or unset) to "2" upgrades the data in place:
// every v1 entry becomes version 1 of the same path, in one atomic batch. A
// downgrade from 2 to 1 is refused.
Status upgrade_kv_options(barrier::LogicalStorage& view, const nlohmann::json& old_options,
                          const nlohmann::json& new_options, const Clock& clock);

}  // namespace coffer::engines::kv
