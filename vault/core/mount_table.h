#pragma once
// The secret-engine mount table.
//
// Persisted under the barrier at `core/mounts`; each mount's data lives in its
// own view `logical/<mount uuid>/`, which is all its engine can reach. Readers
// route through an immutable snapshot taken without locks, and keep the mount
// (and its engine) alive for the whole request, so unmounting never frees an
// engine mid-request. Changes (mount, unmount, tune) are serialised by a mutex
// and publish a new snapshot.

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "engines/secret_engine.h"
#include "vault/barrier/barrier.h"

namespace coffer::core {

struct MountEntry {
  std::string path;  // with trailing slash, e.g. "secret/"
  std::string type;
  std::string description;
  std::string accessor;
  std::string uuid;
  nlohmann::json options = nullptr;  // object of strings, or null
  std::int64_t default_lease_ttl = 0;
  std::int64_t max_lease_ttl = 0;
  bool local = false;
  bool seal_wrap = false;

  // The object Vault returns for this mount in sys/mounts.
  nlohmann::json describe() const;
};

struct Mount {
  MountEntry entry;
  std::unique_ptr<engines::SecretEngine> engine;
};

// One sys/remount call, as Vault reports it at sys/remount/status/<id>.
struct MountMigration {
  // Vault also reports "in-progress"; Coffer moves a mount inside the request
  // that asks for it, so a recorded migration has always finished.
  enum class Outcome { kSuccess, kFailure };

  std::string id;
  std::string source_mount;  // normalised, e.g. "kv/"
  std::string target_mount;
  Outcome outcome = Outcome::kSuccess;

  // Vault's migration_info: {"source_mount", "target_mount", "status"}.
  nlohmann::json describe() const;
};

struct Route {
  std::shared_ptr<const Mount> mount;
  std::string relative_path;
};

class MountTable {
 public:
  // `system_default_ttl` (seconds) is what a mount without its own default uses.
  MountTable(barrier::Barrier& barrier, const Clock& clock,
             std::span<const engines::EngineRegistration> engines, std::int64_t system_default_ttl);

  // Reads the persisted table and starts every engine (after unseal).
  Status load();
  // Drops every engine (on seal).
  void clear();

  // Longest-prefix match of `path` over the mounts; nullopt if none matches.
  std::optional<Route> route(std::string_view path) const;
  std::vector<MountEntry> list() const;
  std::optional<MountEntry> find(std::string_view path) const;

  // Errors: 400 for a bad path, type or option; 409 when the path overlaps a mount.
  Status mount(MountEntry entry);
  // Removes the mount and every entry in its storage view. Absent path: ok.
  Status unmount(std::string_view path);
  // Moves a mount to a new path; its data (keyed by the mount's uuid) stays.
  // Returns the id of the migration, which migration() then reports.
  // Errors: 400 when `from` is not mounted or a path is invalid, 409 on conflict.
  // A move that fails after those checks (engine start, storage) is not an error
  // here but a migration recorded as failed: in Vault the move runs after the
  // request has returned the id, and clients learn its outcome from the status.
  Result<std::string> remount(std::string_view from, std::string_view to);
  // The migration with this id among the last kMigrationsKept; nullopt if unknown.
  // Like Vault's, the record lives in memory only and is lost on restart.
  std::optional<MountMigration> migration(std::string_view id) const;
  // Applies tuning (TTLs, description, options) and persists it.
  Status tune(std::string_view path, const nlohmann::json& changes);

  // "kv" -> "kv/", and rejects what can never be a mount path.
  static Result<std::string> normalise_path(std::string_view path);

  // Bounds the memory that repeated moves can hold; Vault keeps every one.
  static constexpr std::size_t kMigrationsKept = 100;

 private:
  using Snapshot = std::map<std::string, std::shared_ptr<const Mount>, std::less<>>;

  Result<std::shared_ptr<const Mount>> start(MountEntry entry) const;
  Status persist(const Snapshot& table);
  void record(MountMigration migration);

  barrier::Barrier& barrier_;
  const Clock& clock_;
  const std::span<const engines::EngineRegistration> engines_;
  const std::int64_t system_default_ttl_;
  std::mutex write_mutex_;  // serialises mount/unmount/tune/load
  std::atomic<std::shared_ptr<const Snapshot>> table_;
  mutable std::mutex migrations_mutex_;
  std::deque<MountMigration> migrations_;  // guarded by migrations_mutex_; oldest first
};

}  // namespace coffer::core
