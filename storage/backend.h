#pragma once
// storage::Backend: the physical key-value interface under the barrier.
//
// Backends store opaque bytes under string keys and see only ciphertext (the
// barrier encrypts before anything reaches them). Keys are '/'-separated paths.
// Thread safety: every method may be called from many threads at once.
// Durability: a successful put/remove/write_batch has been synced to stable
// storage (for persistent backends) before it returns.
// Errors: storage failures are kInternal with a message that never contains a
// value (keys are internal paths and may appear in logs, never in client errors).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/base/status.h"

namespace coffer::storage {

struct WriteOp {
  enum class Kind { kPut, kDelete };
  Kind kind;
  std::string key;
  std::string value;  // empty for kDelete

  static WriteOp put(std::string key, std::string value) {
    return {Kind::kPut, std::move(key), std::move(value)};
  }
  static WriteOp remove(std::string key) { return {Kind::kDelete, std::move(key), {}}; }
};

// Return false from the visitor to stop the iteration early.
using KeyValueVisitor = std::function<bool(std::string_view key, std::string_view value)>;

class Backend {
 public:
  virtual ~Backend() = default;

  // nullopt when the key is absent.
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  virtual Status put(std::string_view key, std::string_view value) = 0;
  // Removing an absent key succeeds.
  virtual Status remove(std::string_view key) = 0;
  // All operations are applied atomically: after a crash either all or none are visible.
  virtual Status write_batch(const std::vector<WriteOp>& ops) = 0;
  // Visits every key starting with `prefix`, in ascending byte order, starting at
  // the first key >= `start_after` + '\0' when `start_after` is non-empty.
  virtual Status scan(std::string_view prefix, const KeyValueVisitor& visit,
                      std::string_view start_after = {}) = 0;
  // Vault-style listing: the direct children of `prefix` (which normally ends in
  // '/'), sorted; a child that has descendants is returned once with a trailing '/'.
  Result<std::vector<std::string>> list(std::string_view prefix);
  // A short name for seal-status' storage_type ("rocksdb", "inmem").
  virtual std::string_view type() const = 0;
};

// The in-memory backend: for tests and `storage "inmem"`. Nothing survives the process.
std::unique_ptr<Backend> make_inmem_backend();

// The embedded RocksDB backend at `path` (created if missing). Writes are synced (WAL
// fsync) before they are acknowledged; concurrent writers share one sync (group commit).
Result<std::unique_ptr<Backend>> open_rocksdb_backend(const std::string& path);

}  // namespace coffer::storage
