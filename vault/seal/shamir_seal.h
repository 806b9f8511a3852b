#pragma once
// ShamirSeal: initialisation, unseal progress and sealing with Shamir shares.
//
// Key hierarchy: a random 256-bit unseal key is split into shares; it seals
// (AES-256-GCM) the random 256-bit root key stored at `seal/root-key`; the root
// key seals the barrier keyring. The seal configuration (`seal/config`) is stored
// in clear because it must be readable while sealed; it holds no secret.
// Security: shares are only held in SecretBytes while an unseal is in progress and
// wiped on completion, reset or seal; a repeated share counts once; a wrong set
// of shares resets progress. Thread-safe (one mutex; unseal is not a hot path).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/backend.h"
#include "vault/barrier/barrier.h"
#include "vault/base/secret_bytes.h"

namespace coffer::seal {

struct SealConfig {
  int secret_shares = 0;
  int secret_threshold = 0;
};

struct UnsealProgress {
  bool initialized = false;
  bool sealed = true;
  int threshold = 0;
  int shares = 0;
  int progress = 0;
  std::string nonce;
};

struct InitOutcome {
  std::vector<SecretBytes> shares;
};

class ShamirSeal {
 public:
  // `backend` and `barrier` must outlive the seal.
  ShamirSeal(storage::Backend& backend, barrier::Barrier& barrier);

  Result<bool> initialized();
  // Validates like Vault, creates the keys, persists config and sealed root key,
  // initialises the barrier and returns the shares. The barrier is left unsealed
  // so the caller can create what must exist from the start (the root token);
  // the caller seals afterwards, as Vault stays sealed after a Shamir init.
  Result<InitOutcome> initialize(int shares, int threshold);
  // Adds one share. At threshold it reconstructs the unseal key and opens the
  // barrier. Returns the progress after the submission.
  Result<UnsealProgress> submit_share(SecretBytes share);
  // Forgets the shares submitted so far.
  Status reset_progress();
  // Wipes every key and share from memory.
  void seal();
  Result<UnsealProgress> status();

 private:
  Result<std::optional<SealConfig>> load_config();
  UnsealProgress progress_locked(const std::optional<SealConfig>& config) const;
  void clear_shares_locked();

  storage::Backend& backend_;
  barrier::Barrier& barrier_;
  std::mutex mutex_;
  std::optional<SealConfig> config_;  // guarded by mutex_; cached once read
  std::vector<SecretBytes> shares_;   // guarded by mutex_
  std::string nonce_;                 // guarded by mutex_
};

}  // namespace coffer::seal
