#include "engines/engine_catalog.h"
#include "engines/kv/kv_engine.h"

namespace coffer::engines {

std::span<const EngineRegistration> builtin_engines() {
  static const EngineRegistration kEngines[] = {
      {{"kv", "key/value secret storage"}, kv::make_kv_engine, kv::upgrade_kv_options},
  };
  return kEngines;
}

}  // namespace coffer::engines
