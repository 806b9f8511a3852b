#include "auth/token/token_store.h"

#include <sodium.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "vault/base/encoding.h"
#include "vault/base/secret_bytes.h"

namespace coffer::auth::token {
namespace {

constexpr std::string_view kSaltPath = "sys/token/salt";
constexpr std::string_view kEntryPrefix = "sys/token/id/";
constexpr std::size_t kTokenRandomChars = 24;

nlohmann::json to_json(const core::TokenEntry& e) {
  return {{"accessor", e.accessor},         {"policies", e.policies},
          {"display_name", e.display_name}, {"path", e.path},
          {"entity_id", e.entity_id},       {"creation_time", e.creation_time},
          {"expire_time", e.expire_time}};
}

Result<core::TokenEntry> from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(internal_error("token entry is corrupt"));
  try {
    core::TokenEntry e;
    e.accessor = j.at("accessor").get<std::string>();
    e.policies = j.at("policies").get<std::vector<std::string>>();
    e.display_name = j.at("display_name").get<std::string>();
    e.path = j.at("path").get<std::string>();
    e.entity_id = j.at("entity_id").get<std::string>();
    e.creation_time = j.at("creation_time").get<std::int64_t>();
    e.expire_time = j.at("expire_time").get<std::int64_t>();
    return e;
  } catch (const nlohmann::json::exception&) {
    return fail(internal_error("token entry is corrupt"));
  }
}

class BarrierTokenStore final : public core::TokenStore {
 public:
  BarrierTokenStore(barrier::LogicalStorage& storage, const Clock& clock)
      : storage_(storage), clock_(clock) {}

  Result<std::optional<core::TokenEntry>> lookup(std::string_view token) override {
    if (token.empty()) return std::optional<core::TokenEntry>();
    COFFER_ASSIGN_OR_RETURN(auto key, entry_key(token));
    COFFER_ASSIGN_OR_RETURN(auto raw, storage_.get(key));
    if (!raw) return std::optional<core::TokenEntry>();
    COFFER_ASSIGN_OR_RETURN(auto entry, from_json(*raw));
    if (entry.expire_time != 0 && entry.expire_time <= clock_.unix_seconds()) {
      return std::optional<core::TokenEntry>();
    }
    return std::optional<core::TokenEntry>(std::move(entry));
  }

  Result<std::string> create_root_token(std::string_view requested_id) override {
    std::string id = requested_id.empty() ? "hvs." + random_base62(kTokenRandomChars)
                                          : std::string(requested_id);
    core::TokenEntry entry;
    entry.accessor = random_base62(kTokenRandomChars);
    entry.policies = {"root"};
    entry.display_name = "root";
    entry.path = "auth/token/root";
    entry.creation_time = clock_.unix_seconds();
    COFFER_ASSIGN_OR_RETURN(auto key, entry_key(id));
    COFFER_TRY(storage_.put(key, to_json(entry).dump()));
    return id;
  }

  void seal() override {
    std::lock_guard lock(salt_mutex_);
    salt_.store(nullptr);
  }

 private:
  Result<std::string> entry_key(std::string_view token) {
    COFFER_ASSIGN_OR_RETURN(auto salt, load_salt());
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, salt->expose_secret().data(), salt->size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(token.data()),
                                  token.size());
    crypto_auth_hmacsha256_final(&state, mac);
    wipe(&state, sizeof(state));
    return std::string(kEntryPrefix) + to_hex(mac);
  }

  // The salt is read once per unseal and then shared without locking: every
  // authenticated request hashes its token with it.
  Result<std::shared_ptr<const SecretBytes>> load_salt() {
    if (auto cached = salt_.load()) return cached;
    std::lock_guard lock(salt_mutex_);
    if (auto cached = salt_.load()) return cached;
    COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(kSaltPath));
    std::shared_ptr<const SecretBytes> salt;
    if (stored) {
      salt = std::make_shared<const SecretBytes>(SecretBytes::from_string(*stored));
      wipe(stored->data(), stored->size());
    } else {
      auto fresh = std::make_shared<const SecretBytes>(SecretBytes::random(32));
      COFFER_TRY(storage_.put(kSaltPath, fresh->expose_secret_view()));
      salt = std::move(fresh);
    }
    salt_.store(salt);
    return salt;
  }

  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  std::mutex salt_mutex_;  // serialises creating the salt
  std::atomic<std::shared_ptr<const SecretBytes>> salt_;
};

}  // namespace

std::unique_ptr<core::TokenStore> make_token_store(barrier::LogicalStorage& storage,
                                                   const Clock& clock) {
  return std::make_unique<BarrierTokenStore>(storage, clock);
}

}  // namespace coffer::auth::token
