#include "vault/barrier/keyring.h"

#include <cstring>

#include "vault/base/aes_gcm.h"

namespace coffer::barrier {
namespace {

constexpr std::uint32_t kMagic = 0x43464b31;  // "CFK1"
constexpr std::size_t kEntrySize = 4 + 8 + crypto::kAesKeySize;

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Keyring Keyring::create(std::int64_t now) {
  Keyring k;
  k.active_term_ = 1;
  k.terms_.emplace(1, TermKey{1, now, SecretBytes::random(crypto::kAesKeySize)});
  return k;
}

Keyring Keyring::rotated(std::int64_t now) const {
  Keyring k;
  for (const auto& [term, key] : terms_) k.terms_.emplace(term, key);
  k.active_term_ = active_term_ + 1;
  k.terms_.emplace(k.active_term_,
                   TermKey{k.active_term_, now, SecretBytes::random(crypto::kAesKeySize)});
  return k;
}

const TermKey* Keyring::find(std::uint32_t term) const {
  auto it = terms_.find(term);
  return it == terms_.end() ? nullptr : &it->second;
}

SecretBytes Keyring::serialise() const {
  SecretBytes out(12 + terms_.size() * kEntrySize);
  auto* p = out.expose_secret_mutable().data();
  put_u32(p, kMagic);
  put_u32(p + 4, active_term_);
  put_u32(p + 8, static_cast<std::uint32_t>(terms_.size()));
  p += 12;
  for (const auto& [term, key] : terms_) {
    put_u32(p, term);
    put_u64(p + 4, static_cast<std::uint64_t>(key.install_time));
    std::memcpy(p + 12, key.key.expose_secret().data(), crypto::kAesKeySize);
    p += kEntrySize;
  }
  return out;
}

Result<Keyring> Keyring::parse(const SecretBytes& bytes) {
  const auto data = bytes.expose_secret();
  if (data.size() < 12 || get_u32(data.data()) != kMagic) {
    return fail(internal_error("keyring is corrupt"));
  }
  const std::uint32_t count = get_u32(data.data() + 8);
  if (count == 0 || data.size() != 12 + std::size_t{count} * kEntrySize) {
    return fail(internal_error("keyring is corrupt"));
  }
  Keyring k;
  k.active_term_ = get_u32(data.data() + 4);
  const std::uint8_t* p = data.data() + 12;
  for (std::uint32_t i = 0; i < count; ++i, p += kEntrySize) {
    const std::uint32_t term = get_u32(p);
    k.terms_.emplace(term, TermKey{term, static_cast<std::int64_t>(get_u64(p + 4)),
                                   SecretBytes({p + 12, crypto::kAesKeySize})});
  }
  if (k.find(k.active_term_) == nullptr) return fail(internal_error("keyring is corrupt"));
  return k;
}

}  // namespace coffer::barrier
