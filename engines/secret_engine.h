#pragma once
// SecretEngine: what a mount runs. One instance per mount.
//
// An engine sees only its EngineContext: its own storage view inside the barrier
// (it cannot reach outside it), a clock and its mount path. It never sees the
// core, tokens or other mounts. handle() gets requests already authenticated
// and authorised by the core, with `path` relative to the mount.
// Thread safety: handle() is called concurrently from many io threads.

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/core/api.h"

namespace coffer::engines {

struct EngineContext {
  std::unique_ptr<barrier::LogicalStorage> storage;  // the mount's view
  const Clock* clock = nullptr;
  std::string mount_path;  // e.g. "secret/"
};

class SecretEngine {
 public:
  virtual ~SecretEngine() = default;
  // `request.path` is relative to the mount.
  virtual api::Response handle(const api::Request& request) = 0;

  // Vault's existence check, asked for writes: true if the item at
  // `request.path` exists (the write is an `update`), false if not (a `create`,
  // which policies grant separately). nullopt: this path has no existence
  // check and every write is an `update`.
  virtual std::optional<bool> exists(const api::Request& /*request*/) { return std::nullopt; }
};

struct EngineInfo {
  std::string_view type;  // "kv", ...
  std::string_view description;
};

// Creates an engine for a mount. `options` is the mount's options map (strings).
using EngineFactory = Result<std::unique_ptr<SecretEngine>> (*)(EngineContext context,
                                                                const nlohmann::json& options);

struct EngineRegistration {
  EngineInfo info;
  EngineFactory factory;
};

}  // namespace coffer::engines
