#pragma once
// Barrier: the AES-256-GCM layer between the vault and the physical backend.
//
// Every value written through the barrier is sealed with the keyring's active
// term key under a fresh random 96-bit nonce, with the storage path as AAD, and
// stored as: version byte (1) || term (4 bytes, big-endian) || nonce || ciphertext || tag.
// Security property: a read returns exactly what was written at that path, or an
// error — a flipped bit, a truncated entry or an entry copied to another path
// fails authentication. While sealed, no key is in memory and every call answers
// kSealed. The keyring itself is stored at `core/keyring`, sealed under the root key.
// Thread safety: all methods may run concurrently; reads take a snapshot of the
// keyring without locking.

#include <atomic>
#include <memory>
#include <mutex>

#include "storage/backend.h"
#include "vault/barrier/keyring.h"
#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/base/secret_bytes.h"

namespace coffer::barrier {

inline constexpr std::string_view kKeyringPath = "core/keyring";

struct KeyStatus {
  std::uint32_t term = 0;
  std::int64_t install_time = 0;
  std::uint64_t encryptions = 0;  // since this process unsealed
};

class Barrier final : public LogicalStorage {
 public:
  // `backend` must outlive the barrier.
  Barrier(storage::Backend& backend, const Clock& clock);

  // Creates a new keyring, seals it under `root_key` and leaves the barrier unsealed.
  Status initialize(const SecretBytes& root_key);
  // Loads and opens the keyring with `root_key`. A wrong key is kInternal.
  Status unseal(const SecretBytes& root_key);
  // Drops every key from memory.
  void seal();
  bool sealed() const { return keyring_.load() == nullptr; }

  // Adds a term and makes it active; old terms keep decrypting.
  Status rotate();
  Result<KeyStatus> key_status() const;

  Result<std::optional<std::string>> get(std::string_view path) override;
  Status put(std::string_view path, std::string_view value) override;
  Status remove(std::string_view path) override;
  Status write_batch(const std::vector<storage::WriteOp>& ops) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Status scan(std::string_view prefix, const storage::KeyValueVisitor& visit) override;

 private:
  Result<std::string> encrypt(const Keyring& keyring, std::string_view path,
                              std::string_view plaintext);
  Result<std::string> decrypt(const Keyring& keyring, std::string_view path,
                              std::string_view entry) const;
  Status store_keyring(const Keyring& keyring);
  std::shared_ptr<const Keyring> snapshot() const;

  storage::Backend& backend_;
  const Clock& clock_;
  std::atomic<std::shared_ptr<const Keyring>> keyring_;
  // Kept only while unsealed, to re-seal the keyring on rotation.
  std::mutex root_key_mutex_;
  SecretBytes root_key_;  // guarded by root_key_mutex_
  std::atomic<std::uint64_t> encryptions_{0};
};

// A LogicalStorage confined to `prefix` of another: an engine given a view can
// neither read nor write outside it. Paths are relative to the prefix.
class BarrierView final : public LogicalStorage {
 public:
  BarrierView(LogicalStorage& parent, std::string prefix);

  Result<std::optional<std::string>> get(std::string_view path) override;
  Status put(std::string_view path, std::string_view value) override;
  Status remove(std::string_view path) override;
  Status write_batch(const std::vector<storage::WriteOp>& ops) override;
  Result<std::vector<std::string>> list(std::string_view prefix) override;
  Status scan(std::string_view prefix, const storage::KeyValueVisitor& visit) override;

 private:
  Result<std::string> full_path(std::string_view path) const;
  LogicalStorage& parent_;
  const std::string prefix_;
};

}  // namespace coffer::barrier
