#pragma once
// LogicalStorage: plaintext key-value access above the barrier.
//
// What the core and engines see. Implementations encrypt on the way down
// (Barrier) or confine a caller to a prefix (BarrierView). Thread-safe.
// Errors: kSealed while the barrier is sealed; kInternal for storage failures
// and for entries that fail authentication (tampered, moved or truncated) —
// never wrong data.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"
#include "vault/base/status.h"

namespace coffer::barrier {

class LogicalStorage {
 public:
  virtual ~LogicalStorage() = default;
  virtual Result<std::optional<std::string>> get(std::string_view path) = 0;
  virtual Status put(std::string_view path, std::string_view value) = 0;
  virtual Status remove(std::string_view path) = 0;
  // Atomic: all or nothing. Put values are plaintext.
  virtual Status write_batch(const std::vector<storage::WriteOp>& ops) = 0;
  // Direct children of `prefix`, folders once with a trailing '/'.
  virtual Result<std::vector<std::string>> list(std::string_view prefix) = 0;
  // Every entry below `prefix` in key order, decrypted. Keys are relative to this storage.
  virtual Status scan(std::string_view prefix, const storage::KeyValueVisitor& visit) = 0;
};

}  // namespace coffer::barrier
