#pragma once
// The `kv` secrets engine: version 1 (one unversioned JSON object per path) or
// version 2 (versioned, see kv_v2_engine.h), chosen by the mount option.

#include "engines/secret_engine.h"

namespace coffer::engines::kv {

// options.version "1" (or absent) serves KV v1; "2" serves KV v2 (kv_v2_engine.h).
Result<std::unique_ptr<SecretEngine>> make_kv_engine(EngineContext context,
                                                     const nlohmann::json& options);

}  // namespace coffer::engines::kv
