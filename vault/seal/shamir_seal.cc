#include "vault/seal/shamir_seal.h"

#include <nlohmann/json.hpp>

#include "vault/base/aes_gcm.h"
#include "vault/base/encoding.h"
#include "vault/seal/shamir.h"

namespace coffer::seal {
namespace {

constexpr std::string_view kConfigPath = "seal/config";
constexpr std::string_view kRootKeyPath = "seal/root-key";

}  // namespace

ShamirSeal::ShamirSeal(storage::Backend& backend, barrier::Barrier& barrier)
    : backend_(backend), barrier_(barrier) {}

Result<std::optional<SealConfig>> ShamirSeal::load_config() {
  if (config_) return config_;
  COFFER_ASSIGN_OR_RETURN(auto raw, backend_.get(kConfigPath));
  if (!raw) return std::optional<SealConfig>();
  auto parsed = nlohmann::json::parse(*raw, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("secret_shares") ||
      !parsed.contains("secret_threshold") || !parsed["secret_shares"].is_number_integer() ||
      !parsed["secret_threshold"].is_number_integer()) {
    return fail(internal_error("seal configuration is corrupt"));
  }
  config_ = SealConfig{parsed["secret_shares"].get<int>(), parsed["secret_threshold"].get<int>()};
  return config_;
}

Result<bool> ShamirSeal::initialized() {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto config, load_config());
  return config.has_value();
}

Result<InitOutcome> ShamirSeal::initialize(int shares, int threshold) {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto existing, load_config());
  if (existing) return fail(invalid_argument("Vault is already initialized"));
  if (shares < 1) return fail(invalid_argument("shares must be at least one"));
  if (threshold < 1) return fail(invalid_argument("threshold must be at least one"));
  if (shares > 1 && threshold < 2) {
    return fail(invalid_argument("threshold must be greater than one for multiple shares"));
  }
  if (shares > 255) return fail(invalid_argument("shares must be at most 255"));
  if (threshold > shares) return fail(invalid_argument("threshold cannot be larger than shares"));

  SecretBytes unseal_key = SecretBytes::random(crypto::kAesKeySize);
  SecretBytes root_key = SecretBytes::random(crypto::kAesKeySize);
  COFFER_ASSIGN_OR_RETURN(auto split_shares, split(unseal_key, shares, threshold));

  std::string sealed_root;
  COFFER_TRY(crypto::aes_gcm_seal(unseal_key.expose_secret(), root_key.expose_secret_view(),
                                  kRootKeyPath, sealed_root));
  // Keyring first, then the sealed root key, then the config that marks the vault
  // initialised: a crash before the last write leaves an uninitialised vault.
  COFFER_TRY(barrier_.initialize(root_key));
  COFFER_TRY(backend_.put(kRootKeyPath, sealed_root));
  const SealConfig config{shares, threshold};
  const std::string config_text = nlohmann::json{
      {"type", "shamir"},
      {"secret_shares", shares},
      {"secret_threshold", threshold}}.dump();
  COFFER_TRY(backend_.put(kConfigPath, config_text));
  config_ = config;
  return InitOutcome{std::move(split_shares)};
}

UnsealProgress ShamirSeal::progress_locked(const std::optional<SealConfig>& config) const {
  UnsealProgress p;
  p.initialized = config.has_value();
  p.sealed = barrier_.sealed();
  if (config) {
    p.threshold = config->secret_threshold;
    p.shares = config->secret_shares;
  }
  p.progress = static_cast<int>(shares_.size());
  p.nonce = shares_.empty() ? "" : nonce_;
  return p;
}

void ShamirSeal::clear_shares_locked() {
  shares_.clear();  // SecretBytes wipe themselves
  nonce_.clear();
}

Result<UnsealProgress> ShamirSeal::submit_share(SecretBytes share) {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto config, load_config());
  if (!config) return fail(invalid_argument("Vault is not initialized"));
  if (!barrier_.sealed()) return progress_locked(config);

  for (const auto& held : shares_) {
    if (held == share) return progress_locked(config);  // a repeated share counts once
  }
  if (shares_.empty()) nonce_ = random_uuid();
  shares_.push_back(std::move(share));
  if (static_cast<int>(shares_.size()) < config->secret_threshold) return progress_locked(config);

  auto unseal_key =
      config->secret_shares == 1 ? Result<SecretBytes>(shares_.front()) : combine(shares_);
  clear_shares_locked();
  if (!unseal_key) return fail(invalid_argument("invalid key: " + unseal_key.error().message()));
  COFFER_ASSIGN_OR_RETURN(auto sealed_root, backend_.get(kRootKeyPath));
  if (!sealed_root) return fail(internal_error("sealed root key missing from storage"));
  auto root_key =
      crypto::aes_gcm_open_secret(unseal_key->expose_secret(), *sealed_root, kRootKeyPath);
  if (!root_key) {
    return fail(invalid_argument("unseal failed: the submitted keys do not reconstruct the key"));
  }
  COFFER_TRY(barrier_.unseal(*root_key));
  return progress_locked(config);
}

Status ShamirSeal::reset_progress() {
  std::lock_guard lock(mutex_);
  clear_shares_locked();
  return ok_status();
}

void ShamirSeal::seal() {
  std::lock_guard lock(mutex_);
  clear_shares_locked();
  barrier_.seal();
}

Result<UnsealProgress> ShamirSeal::status() {
  std::lock_guard lock(mutex_);
  COFFER_ASSIGN_OR_RETURN(auto config, load_config());
  return progress_locked(config);
}

}  // namespace coffer::seal
