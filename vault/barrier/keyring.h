#pragma once
// Keyring: the barrier's data keys, one per term.
//
// Immutable once built: rotation makes a new Keyring with one more term, so
// readers hold a snapshot without locks. Keys live in SecretBytes (locked,
// wiped). Serialised only in the binary form below, which is itself sealed under
// the root key before it reaches storage.

#include <cstdint>
#include <map>
#include <memory>

#include "vault/base/secret_bytes.h"
#include "vault/base/status.h"

namespace coffer::barrier {

struct TermKey {
  std::uint32_t term = 0;
  std::int64_t install_time = 0;  // unix seconds
  SecretBytes key;                // 32 bytes
};

class Keyring {
 public:
  // A keyring with one fresh random key as term 1.
  static Keyring create(std::int64_t now);
  // This keyring plus a new random term, which becomes the active one.
  Keyring rotated(std::int64_t now) const;

  const TermKey& active() const { return terms_.at(active_term_); }
  const TermKey* find(std::uint32_t term) const;
  std::uint32_t active_term() const { return active_term_; }

  // Binary form: magic, active term, count, then {term, install_time, 32-byte key}.
  SecretBytes serialise() const;
  static Result<Keyring> parse(const SecretBytes& bytes);

 private:
  std::uint32_t active_term_ = 0;
  std::map<std::uint32_t, TermKey> terms_;
};

}  // namespace coffer::barrier
