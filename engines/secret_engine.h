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
  // The mount's effective default lease TTL in seconds (its own, else the system's).
  std::int64_t default_lease_ttl = 0;
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

// Rewrites a mount's stored data when tuning changes its options in a way the
// engine's storage layout depends on (kv version 1 -> 2). Must be atomic: after
// a crash the data is wholly in the old or wholly in the new layout.
using EngineUpgrade = Status (*)(barrier::LogicalStorage& view, const nlohmann::json& old_options,
                                 const nlohmann::json& new_options, const Clock& clock);

struct EngineRegistration {
  EngineInfo info;
  EngineFactory factory;
  EngineUpgrade upgrade = nullptr;  // optional
};

}  // namespace coffer::engines
