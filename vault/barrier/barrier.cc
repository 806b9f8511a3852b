#include "vault/barrier/barrier.h"

#include "vault/base/aes_gcm.h"

namespace coffer::barrier {
namespace {

constexpr std::uint8_t kEntryVersion = 1;
constexpr std::size_t kHeaderSize = 1 + 4;
// The seal's own records (sealed under the unseal key, not the keyring) live
// outside the barrier's namespace.
constexpr std::string_view kReservedPrefix = "seal/";

Status path_error(std::string_view path) {
  if (path.empty() || path.starts_with(kReservedPrefix)) {
    return invalid_argument("invalid storage path");
  }
  return ok_status();
}

}  // namespace

Barrier::Barrier(storage::Backend& backend, const Clock& clock)
    : backend_(backend), clock_(clock) {}

std::shared_ptr<const Keyring> Barrier::snapshot() const { return keyring_.load(); }

Status Barrier::store_keyring(const Keyring& keyring) {
  const SecretBytes plain = keyring.serialise();
  std::string box;
  std::lock_guard lock(root_key_mutex_);
  COFFER_TRY(crypto::aes_gcm_seal(root_key_.expose_secret(), plain.expose_secret_view(),
                                  kKeyringPath, box));
  return backend_.put(kKeyringPath, box);
}

Status Barrier::initialize(const SecretBytes& root_key) {
  {
    std::lock_guard lock(root_key_mutex_);
    root_key_ = root_key;
  }
  auto keyring = std::make_shared<const Keyring>(Keyring::create(clock_.unix_seconds()));
  COFFER_TRY(store_keyring(*keyring));
  keyring_.store(std::move(keyring));
  return ok_status();
}

Status Barrier::unseal(const SecretBytes& root_key) {
  COFFER_ASSIGN_OR_RETURN(auto box, backend_.get(kKeyringPath));
  if (!box) return internal_error("keyring missing from storage");
  COFFER_ASSIGN_OR_RETURN(
      SecretBytes plain, crypto::aes_gcm_open_secret(root_key.expose_secret(), *box, kKeyringPath));
  COFFER_ASSIGN_OR_RETURN(Keyring keyring, Keyring::parse(plain));
  {
    std::lock_guard lock(root_key_mutex_);
    root_key_ = root_key;
  }
  encryptions_ = 0;
  keyring_.store(std::make_shared<const Keyring>(std::move(keyring)));
  return ok_status();
}

void Barrier::seal() {
  keyring_.store(nullptr);
  std::lock_guard lock(root_key_mutex_);
  root_key_ = SecretBytes();
}

Status Barrier::rotate() {
  auto current = snapshot();
  if (!current) return sealed_error();
  auto next = std::make_shared<const Keyring>(current->rotated(clock_.unix_seconds()));
  // Persist first: a crash after this point leaves the new term in storage and
  // nothing written under it yet, which is harmless.
  COFFER_TRY(store_keyring(*next));
  keyring_.store(std::move(next));
  return ok_status();
}

Result<KeyStatus> Barrier::key_status() const {
  auto current = snapshot();
  if (!current) return fail(sealed_error());
  return KeyStatus{current->active_term(), current->active().install_time, encryptions_.load()};
}

Result<std::string> Barrier::encrypt(const Keyring& keyring, std::string_view path,
                                     std::string_view plaintext) {
  const TermKey& key = keyring.active();
  std::string entry;
  entry.reserve(kHeaderSize + crypto::kGcmOverhead + plaintext.size());
  entry.push_back(static_cast<char>(kEntryVersion));
  for (int shift = 24; shift >= 0; shift -= 8) {
    entry.push_back(static_cast<char>((key.term >> shift) & 0xff));
  }
  COFFER_TRY(crypto::aes_gcm_seal(key.key.expose_secret(), plaintext, path, entry));
  encryptions_.fetch_add(1, std::memory_order_relaxed);
  return entry;
}

Result<std::string> Barrier::decrypt(const Keyring& keyring, std::string_view path,
                                     std::string_view entry) const {
  if (entry.size() < kHeaderSize + crypto::kGcmOverhead ||
      static_cast<std::uint8_t>(entry[0]) != kEntryVersion) {
    return fail(internal_error("decryption failed"));
  }
  std::uint32_t term = 0;
  for (int i = 1; i <= 4; ++i) term = (term << 8) | static_cast<std::uint8_t>(entry[i]);
  const TermKey* key = keyring.find(term);
  if (key == nullptr) return fail(internal_error("decryption failed"));
  return crypto::aes_gcm_open_string(key->key.expose_secret(), entry.substr(kHeaderSize), path);
}

Result<std::optional<std::string>> Barrier::get(std::string_view path) {
  auto keyring = snapshot();
  if (!keyring) return fail(sealed_error());
  COFFER_TRY(path_error(path));
  COFFER_ASSIGN_OR_RETURN(auto entry, backend_.get(path));
  if (!entry) return std::optional<std::string>();
  COFFER_ASSIGN_OR_RETURN(auto plain, decrypt(*keyring, path, *entry));
  return std::optional<std::string>(std::move(plain));
}

Status Barrier::put(std::string_view path, std::string_view value) {
  auto keyring = snapshot();
  if (!keyring) return sealed_error();
  COFFER_TRY(path_error(path));
  COFFER_ASSIGN_OR_RETURN(auto entry, encrypt(*keyring, path, value));
  return backend_.put(path, entry);
}

Status Barrier::remove(std::string_view path) {
  if (sealed()) return sealed_error();
  COFFER_TRY(path_error(path));
  return backend_.remove(path);
}

Status Barrier::write_batch(const std::vector<storage::WriteOp>& ops) {
  auto keyring = snapshot();
  if (!keyring) return sealed_error();
  std::vector<storage::WriteOp> sealed_ops;
  sealed_ops.reserve(ops.size());
  for (const auto& op : ops) {
    COFFER_TRY(path_error(op.key));
    if (op.kind == storage::WriteOp::Kind::kDelete) {
      sealed_ops.push_back(storage::WriteOp::remove(op.key));
      continue;
    }
    COFFER_ASSIGN_OR_RETURN(auto entry, encrypt(*keyring, op.key, op.value));
    sealed_ops.push_back(storage::WriteOp::put(op.key, std::move(entry)));
  }
  return backend_.write_batch(sealed_ops);
}

Result<std::vector<std::string>> Barrier::list(std::string_view prefix) {
  if (sealed()) return fail(sealed_error());
  if (prefix.starts_with(kReservedPrefix)) return fail(invalid_argument("invalid storage path"));
  COFFER_ASSIGN_OR_RETURN(auto children, backend_.list(prefix));
  if (prefix.empty()) std::erase(children, std::string(kReservedPrefix));
  return children;
}

Status Barrier::scan(std::string_view prefix, const storage::KeyValueVisitor& visit) {
  auto keyring = snapshot();
  if (!keyring) return sealed_error();
  if (prefix.starts_with(kReservedPrefix)) return invalid_argument("invalid storage path");
  Status inner;
  COFFER_TRY(backend_.scan(prefix, [&](std::string_view key, std::string_view entry) {
    // The seal's records and the keyring are not barrier entries.
    if (key.starts_with(kReservedPrefix) || key == kKeyringPath) return true;
    auto plain = decrypt(*keyring, key, entry);
    if (!plain) {
      inner = plain.error();
      return false;
    }
    return visit(key, *plain);
  }));
  return inner;
}

BarrierView::BarrierView(LogicalStorage& parent, std::string prefix)
    : parent_(parent),
      // A view on "logical/a" must not reach "logical/abc/": views end in '/'.
      prefix_(prefix.empty() || prefix.ends_with('/') ? std::move(prefix) : prefix + "/") {}

Result<std::string> BarrierView::full_path(std::string_view path) const {
  // Relative paths only: a view never reaches a sibling through "..".
  if (path.starts_with('/') || path == ".." || path.starts_with("../") ||
      path.find("/../") != std::string_view::npos || path.ends_with("/..")) {
    return fail(invalid_argument("invalid storage path"));
  }
  return prefix_ + std::string(path);
}

Result<std::optional<std::string>> BarrierView::get(std::string_view path) {
  COFFER_ASSIGN_OR_RETURN(auto full, full_path(path));
  return parent_.get(full);
}

Status BarrierView::put(std::string_view path, std::string_view value) {
  COFFER_ASSIGN_OR_RETURN(auto full, full_path(path));
  return parent_.put(full, value);
}

Status BarrierView::remove(std::string_view path) {
  COFFER_ASSIGN_OR_RETURN(auto full, full_path(path));
  return parent_.remove(full);
}

Status BarrierView::write_batch(const std::vector<storage::WriteOp>& ops) {
  std::vector<storage::WriteOp> scoped;
  scoped.reserve(ops.size());
  for (const auto& op : ops) {
    COFFER_ASSIGN_OR_RETURN(auto full, full_path(op.key));
    scoped.push_back({op.kind, std::move(full), op.value});
  }
  return parent_.write_batch(scoped);
}

Result<std::vector<std::string>> BarrierView::list(std::string_view prefix) {
  COFFER_ASSIGN_OR_RETURN(auto full, full_path(prefix));
  return parent_.list(full);
}

Status BarrierView::scan(std::string_view prefix, const storage::KeyValueVisitor& visit) {
  COFFER_ASSIGN_OR_RETURN(auto full, full_path(prefix));
  return parent_.scan(full, [&](std::string_view key, std::string_view value) {
    return visit(key.substr(prefix_.size()), value);
  });
}

}  // namespace coffer::barrier
