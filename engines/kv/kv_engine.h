#pragma once
// The `kv` secrets engine (version 1: one unversioned JSON object per path).

#include "engines/secret_engine.h"

namespace coffer::engines::kv {

// options.version "1" or absent; any other version is refused until KV v2 lands.
Result<std::unique_ptr<SecretEngine>> make_kv_engine(EngineContext context,
                                                     const nlohmann::json& options);

}  // namespace coffer::engines::kv
