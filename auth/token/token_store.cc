#include "auth/token/token_store.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "auth/token/token_cache.h"
#include "auth/token/token_codec.h"
#include "vault/base/aes_gcm.h"
#include "vault/base/encoding.h"
#include "vault/base/secret_bytes.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"
#include "vault/policy/policy.h"

namespace coffer::auth::token {
namespace {

constexpr std::string_view kSaltPath = "sys/token/salt";
constexpr std::string_view kBatchKeyPath = "sys/token/batch-key";
constexpr std::string_view kIdPrefix = "sys/token/id/";
constexpr std::string_view kAccessorPrefix = "sys/token/accessor/";
constexpr std::string_view kParentPrefix = "sys/token/parent/";
constexpr std::string_view kRolePrefix = "sys/token/roles/";
constexpr std::string_view kBatchAad = "coffer-batch-token";
// Tokens carry at least 24 random base62 characters (~143 bits).
constexpr std::size_t kTokenRandomChars = 24;

using api::Response;

Response error(const Status& s) { return Response::error(s); }
Response bad_request(std::string message) {
  return Response::error(invalid_argument(std::move(message)));
}

// display_name is stored as "token-<name>", restricted to [A-Za-z0-9-].
std::string sanitise_display_name(std::string_view name) {
  std::string out = "token";
  if (!name.empty()) {
    out += "-";
    for (char c : name) {
      out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
    }
    while (out.ends_with('-')) out.pop_back();
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view item) {
  return std::find(v.begin(), v.end(), item) != v.end();
}

// Vault's glob (ryanuber/go-glob, behind strutil.StrListContainsGlob): `*` matches any run of
// characters, including none, anywhere in the pattern; no other character is special.
bool glob_match(std::string_view pattern, std::string_view subject) {
  auto star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == subject;
  if (!subject.starts_with(pattern.substr(0, star))) return false;
  subject.remove_prefix(star);
  pattern.remove_prefix(star + 1);
  // Taking the leftmost occurrence of each middle part leaves the most text for the rest, so
  // no backtracking is needed.
  while ((star = pattern.find('*')) != std::string_view::npos) {
    const auto at = subject.find(pattern.substr(0, star));
    if (at == std::string_view::npos) return false;
    subject.remove_prefix(at + star);
    pattern.remove_prefix(star + 1);
  }
  return subject.ends_with(pattern);
}

bool matches_any_glob(const std::vector<std::string>& patterns, std::string_view item) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return glob_match(pattern, item); });
}

// Go's %q of a string and of a []string, so role refusals read exactly as Vault's.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}
std::string go_quote(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) {
    if (out.size() > 1) out += " ";
    out += go_quote(s);
  }
  return out + "]";
}

struct Role {
  std::string name;
  std::vector<std::string> allowed_policies;
  std::vector<std::string> disallowed_policies;
  std::vector<std::string> allowed_policies_glob;
  std::vector<std::string> disallowed_policies_glob;
  bool orphan = false;
  bool renewable = true;
  std::string path_suffix;
  std::int64_t token_ttl = 0;
  std::int64_t token_max_ttl = 0;
  std::int64_t token_explicit_max_ttl = 0;
  std::int64_t token_period = 0;
  std::int64_t token_num_uses = 0;
  bool token_no_default_policy = false;
  std::string token_type = "default-service";
  std::vector<std::string> token_bound_cidrs;  // canonical CIDRs; empty = any address

  nlohmann::json to_json() const {
    return {{"name", name},
            {"allowed_policies", allowed_policies},
            {"disallowed_policies", disallowed_policies},
            {"orphan", orphan},
            {"renewable", renewable},
            {"path_suffix", path_suffix},
            {"token_ttl", token_ttl},
            {"token_max_ttl", token_max_ttl},
            {"token_explicit_max_ttl", token_explicit_max_ttl},
            {"token_period", token_period},
            {"token_num_uses", token_num_uses},
            {"token_no_default_policy", token_no_default_policy},
            {"token_type", token_type},
            {"token_bound_cidrs", token_bound_cidrs},
            {"allowed_policies_glob", allowed_policies_glob},
            {"disallowed_policies_glob", disallowed_policies_glob},
            // Vault returns this; Coffer does not implement entity aliases on roles yet.
            {"allowed_entity_aliases", nlohmann::json::array()},
            {"period", token_period},
            {"explicit_max_ttl", token_explicit_max_ttl}};
  }
  static Role from_json(const nlohmann::json& j) {
    Role r;
    r.name = j.value("name", "");
    r.allowed_policies = j.value("allowed_policies", std::vector<std::string>{});
    r.disallowed_policies = j.value("disallowed_policies", std::vector<std::string>{});
    r.allowed_policies_glob = j.value("allowed_policies_glob", std::vector<std::string>{});
    r.disallowed_policies_glob = j.value("disallowed_policies_glob", std::vector<std::string>{});
    r.orphan = j.value("orphan", false);
    r.renewable = j.value("renewable", true);
    r.path_suffix = j.value("path_suffix", "");
    r.token_ttl = j.value("token_ttl", 0);
    r.token_max_ttl = j.value("token_max_ttl", 0);
    r.token_explicit_max_ttl = j.value("token_explicit_max_ttl", 0);
    r.token_period = j.value("token_period", 0);
    r.token_num_uses = j.value("token_num_uses", 0);
    r.token_no_default_policy = j.value("token_no_default_policy", false);
    r.token_type = j.value("token_type", "default-service");
    r.token_bound_cidrs = j.value("token_bound_cidrs", std::vector<std::string>{});
    return r;
  }
};

// num_uses of a token whose last use was spent by a request still being served.
constexpr std::int64_t kSpentUses = -1;

class BarrierTokenStore final : public core::TokenStore {
 public:
  BarrierTokenStore(barrier::LogicalStorage& storage, const Clock& clock)
      : storage_(storage), clock_(clock) {}

  Result<std::optional<core::TokenEntry>> lookup(std::string_view token) override {
    if (token.empty()) return std::optional<core::TokenEntry>();
    std::optional<core::TokenEntry> entry;
    if (token.starts_with("hvb.")) {
      COFFER_ASSIGN_OR_RETURN(entry, decode_batch(token));
      // A batch token dies with its parent (it is not in the parent's child index).
      if (entry && !entry->parent_hash.empty()) {
        COFFER_ASSIGN_OR_RETURN(auto parent, load_entry(entry->parent_hash));
        if (!parent) return std::optional<core::TokenEntry>();
      }
    } else {
      COFFER_ASSIGN_OR_RETURN(auto hash, hash_token(token));
      entry = cache_.find(hash);
      if (!entry) {
        const std::uint64_t generation = cache_.generation();
        COFFER_ASSIGN_OR_RETURN(entry, load_entry(hash));
        if (entry) cache_.insert(*entry, generation);
      }
    }
    if (!entry) return entry;
    if (entry->num_uses == kSpentUses ||
        (entry->expire_time != 0 && entry->expire_time <= clock_.unix_seconds())) {
      return std::optional<core::TokenEntry>();
    }
    return entry;
  }

  Result<std::optional<core::TokenEntry>> lookup_accessor(std::string_view accessor) override {
    if (accessor.empty()) return std::optional<core::TokenEntry>();
    COFFER_ASSIGN_OR_RETURN(auto hash,
                            storage_.get(std::string(kAccessorPrefix) + std::string(accessor)));
    if (!hash) return std::optional<core::TokenEntry>();
    COFFER_ASSIGN_OR_RETURN(auto entry, load_entry(*hash));
    if (entry && (entry->num_uses == kSpentUses ||
                  (entry->expire_time != 0 && entry->expire_time <= now()))) {
      return std::optional<core::TokenEntry>();
    }
    return entry;
  }

  Result<bool> consume_use(const core::TokenEntry& entry) override {
    if (entry.num_uses <= 0 || entry.is_batch()) return false;
    std::lock_guard lock(write_mutex_);
    // Re-read under the lock: two concurrent requests must not both spend the last use.
    COFFER_ASSIGN_OR_RETURN(auto current, load_entry(entry.id_hash));
    if (!current || current->num_uses <= 0) return fail(permission_denied());
    const bool last = current->num_uses == 1;
    // The last use leaves the entry spent (kSpentUses): invisible to lookups at once, and
    // revoked by the caller after the request.
    current->num_uses = last ? kSpentUses : current->num_uses - 1;
    COFFER_TRY(write_entries({storage::WriteOp::put(std::string(kIdPrefix) + current->id_hash,
                                                    entry_to_json(*current).dump())}));
    return last;
  }

  Result<std::string> create_root_token(std::string_view requested_id) override {
    core::TokenEntry entry;
    entry.policies = {"root"};
    entry.display_name = "root";
    entry.path = "auth/token/root";
    entry.orphan = true;
    entry.renewable = false;
    entry.creation_time = clock_.unix_seconds();
    std::lock_guard lock(write_mutex_);
    return store_new_service_token(entry, std::string(requested_id));
  }

  Result<std::string> mint(core::TokenEntry& entry) override {
    entry.type = "service";
    std::shared_lock lock(write_mutex_);
    return store_new_service_token(entry, {});
  }

  Status revoke(const core::TokenEntry& entry) override {
    if (entry.id_hash.empty()) return invalid_argument("batch tokens cannot be revoked");
    std::lock_guard lock(write_mutex_);
    return revoke_tree_locked(entry.id_hash, true);
  }

  void seal() override {
    cache_.clear();
    std::lock_guard lock(key_mutex_);
    salt_.store(nullptr);
    batch_key_.store(nullptr);
  }

  Response handle(const api::Request& request, const core::TokenCall& call) override {
    const std::string& path = request.path;
    const auto op = request.operation;
    const bool write = op == api::Operation::kCreate || op == api::Operation::kUpdate;
    if (path == "create" || path == "create-orphan" || path.starts_with("create/")) {
      if (!write) return Response::error(405, {});
      std::optional<Role> role;
      if (path.starts_with("create/")) {
        auto loaded = load_role(path.substr(7));
        if (!loaded) return error(loaded.error());
        if (!*loaded) return bad_request("unknown role " + path.substr(7));
        role = std::move(*loaded);
      }
      return create(request, call, path == "create-orphan", role);
    }
    if (path == "lookup-self") {
      if (!write && op != api::Operation::kRead) return Response::error(405, {});
      return Response::json(200, api::envelope(lookup_data(call.caller, call.caller_token, now())));
    }
    if (path == "lookup") {
      if (!write && op != api::Operation::kRead) return Response::error(405, {});
      auto token = fields::string_field(request.body, "token");
      if (!token) return error(token.error());
      if (!*token || (*token)->empty()) return bad_request("missing token");
      auto entry = lookup(**token);
      if (!entry) return error(entry.error());
      if (!*entry) return Response::error(403, {"bad token"});
      return Response::json(200, api::envelope(lookup_data(**entry, **token, now())));
    }
    if (path == "lookup-accessor") {
      if (!write) return Response::error(405, {});
      auto entry = entry_from_accessor_field(request.body);
      if (!entry) return error(entry.error());
      return Response::json(200, api::envelope(lookup_data(*entry, "", now())));
    }
    if (path == "renew-self" || path == "renew" || path == "renew-accessor") {
      if (!write) return Response::error(405, {});
      std::optional<core::TokenEntry> target;
      std::string shown_token;
      if (path == "renew-self") {
        target = call.caller;
        shown_token = call.caller_token;
      } else if (path == "renew") {
        auto token = fields::string_field(request.body, "token");
        if (!token) return error(token.error());
        if (!*token || (*token)->empty()) return bad_request("missing token");
        auto entry = lookup(**token);
        if (!entry) return error(entry.error());
        if (!*entry) return Response::error(403, {"bad token"});
        target = std::move(**entry);
        shown_token = **token;
      } else {
        auto entry = entry_from_accessor_field(request.body);
        if (!entry) return error(entry.error());
        target = std::move(*entry);
      }
      auto increment = fields::duration_field(request.body, "increment");
      if (!increment) return error(increment.error());
      auto renewed = renew(*target, increment->value_or(0), call.max_ttl);
      if (!renewed) return error(renewed.error());
      nlohmann::json body = api::envelope(nullptr);
      body["auth"] = auth_block(*renewed, shown_token, now());
      return Response::json(200, std::move(body));
    }
    if (path == "revoke-self" || path == "revoke" || path == "revoke-accessor" ||
        path == "revoke-orphan") {
      if (!write) return Response::error(405, {});
      std::string hash;
      if (path == "revoke-self") {
        hash = call.caller.id_hash;
      } else if (path == "revoke-accessor") {
        auto entry = entry_from_accessor_field(request.body);
        if (!entry) return error(entry.error());
        hash = entry->id_hash;
      } else {
        if (path == "revoke-orphan" && !call.sudo) return Response::error(permission_denied());
        auto token = fields::string_field(request.body, "token");
        if (!token) return error(token.error());
        if (!*token || (*token)->empty()) return bad_request("missing token");
        auto entry = lookup(**token);
        if (!entry) return error(entry.error());
        // Revoking an unknown token succeeds, as in Vault: it is gone either way.
        if (!*entry) return Response::no_content();
        hash = (*entry)->id_hash;
      }
      if (hash.empty()) return bad_request("batch tokens cannot be revoked");
      std::lock_guard lock(write_mutex_);
      Status s =
          path == "revoke-orphan" ? revoke_orphan_locked(hash) : revoke_tree_locked(hash, true);
      if (!s.ok()) return error(s);
      return Response::no_content();
    }
    if (path == "accessors/" || path == "accessors") {
      if (op != api::Operation::kList) return Response::error(405, {});
      if (!call.sudo) return Response::error(permission_denied());
      auto keys = storage_.list(kAccessorPrefix);
      if (!keys) return error(keys.error());
      if (keys->empty()) return Response::error(404, {});
      return Response::json(200, api::envelope({{"keys", *keys}}));
    }
    if (path == "roles/" || path == "roles") {
      if (op != api::Operation::kList) return Response::error(405, {});
      auto keys = storage_.list(kRolePrefix);
      if (!keys) return error(keys.error());
      if (keys->empty()) return Response::error(404, {});
      return Response::json(200, api::envelope({{"keys", *keys}}));
    }
    if (path.starts_with("roles/")) return handle_role(request, path.substr(6));
    if (path == "tidy") {
      if (!write) return Response::error(405, {});
      std::lock_guard lock(write_mutex_);
      auto removed = tidy_locked();
      if (!removed) return error(removed.error());
      nlohmann::json body = api::envelope(nullptr);
      body["warnings"] = {
          "Tidy operation successfully started. Any information from the operation "
          "will be printed to Coffer's server logs.",
          "tidy removed " + std::to_string(*removed) + " dangling index entries"};
      return Response::json(202, std::move(body));
    }
    return Response::error(404, {"unsupported path"});
  }

 private:
  std::int64_t now() const { return clock_.unix_seconds(); }

  // --- keys -------------------------------------------------------------------

  // Both keys are read once per unseal and then shared without locking.
  Result<std::shared_ptr<const SecretBytes>> load_key(
      std::atomic<std::shared_ptr<const SecretBytes>>& slot, std::string_view path) {
    if (auto cached = slot.load()) return cached;
    std::lock_guard lock(key_mutex_);
    if (auto cached = slot.load()) return cached;
    COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(path));
    std::shared_ptr<const SecretBytes> key;
    if (stored) {
      key = std::make_shared<const SecretBytes>(SecretBytes::from_string(*stored));
      wipe(stored->data(), stored->size());
    } else {
      auto fresh = std::make_shared<const SecretBytes>(SecretBytes::random(32));
      COFFER_TRY(storage_.put(path, fresh->expose_secret_view()));
      key = std::move(fresh);
    }
    slot.store(key);
    return key;
  }

  Result<std::string> hash_token(std::string_view token) {
    COFFER_ASSIGN_OR_RETURN(auto salt, load_key(salt_, kSaltPath));
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, salt->expose_secret().data(), salt->size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(token.data()),
                                  token.size());
    crypto_auth_hmacsha256_final(&state, mac);
    wipe(&state, sizeof(state));
    return to_hex(mac);
  }

  // --- storage ----------------------------------------------------------------

  Result<std::optional<core::TokenEntry>> load_entry(const std::string& hash) {
    COFFER_ASSIGN_OR_RETURN(auto raw, storage_.get(std::string(kIdPrefix) + hash));
    if (!raw) return std::optional<core::TokenEntry>();
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (j.is_discarded()) return fail(internal_error("token entry is corrupt"));
    COFFER_ASSIGN_OR_RETURN(auto entry, entry_from_json(j));
    return std::optional<core::TokenEntry>(std::move(entry));
  }

  Result<core::TokenEntry> entry_from_accessor_field(const nlohmann::json& body) {
    COFFER_ASSIGN_OR_RETURN(auto accessor, fields::string_field(body, "accessor"));
    if (!accessor || accessor->empty()) return fail(invalid_argument("missing accessor"));
    COFFER_ASSIGN_OR_RETURN(auto hash, storage_.get(std::string(kAccessorPrefix) + *accessor));
    if (!hash) return fail(invalid_argument("invalid accessor"));
    COFFER_ASSIGN_OR_RETURN(auto entry, load_entry(*hash));
    if (!entry || (entry->expire_time != 0 && entry->expire_time <= now())) {
      return fail(invalid_argument("invalid accessor"));
    }
    return std::move(*entry);
  }

  // Every change to existing entries goes through here: the cache generation
  // moves before and after the write, so no cached copy outlives the change.
  Status write_entries(const std::vector<storage::WriteOp>& ops) {
    cache_.invalidate();
    Status s = storage_.write_batch(ops);
    cache_.invalidate();
    return s;
  }

  template <template <typename> typename Lock>
  Result<std::string> create_locked(core::TokenEntry& entry, const std::string& id) {
    Lock lock(write_mutex_);
    return store_new_service_token(entry, id);
  }

  // Writes a new service token's entry, accessor and parent index in one batch.
  // Callers hold write_mutex_ (shared is enough): revocations, which hold it
  // alone, cannot run between the parent check and the write, so no child is
  // ever written under a parent that was just revoked.
  Result<std::string> store_new_service_token(core::TokenEntry& entry, std::string id) {
    if (!entry.parent_hash.empty()) {
      COFFER_ASSIGN_OR_RETURN(auto parent, load_entry(entry.parent_hash));
      if (!parent) return fail(permission_denied());
    }
    if (id.empty()) id = "hvs." + random_base62(kTokenRandomChars);
    COFFER_ASSIGN_OR_RETURN(entry.id_hash, hash_token(id));
    COFFER_ASSIGN_OR_RETURN(auto existing, storage_.get(std::string(kIdPrefix) + entry.id_hash));
    if (existing) return fail(invalid_argument("cannot create a token with a duplicate ID"));
    entry.accessor = random_base62(kTokenRandomChars);
    std::vector<storage::WriteOp> ops{
        storage::WriteOp::put(std::string(kIdPrefix) + entry.id_hash, entry_to_json(entry).dump()),
        storage::WriteOp::put(std::string(kAccessorPrefix) + entry.accessor, entry.id_hash)};
    if (!entry.parent_hash.empty()) {
      ops.push_back(storage::WriteOp::put(
          std::string(kParentPrefix) + entry.parent_hash + "/" + entry.id_hash, ""));
    }
    COFFER_TRY(storage_.write_batch(ops));
    return id;
  }

  Result<std::string> encode_batch(const core::TokenEntry& entry) {
    COFFER_ASSIGN_OR_RETURN(auto key, load_key(batch_key_, kBatchKeyPath));
    std::string box;
    COFFER_TRY(
        crypto::aes_gcm_seal(key->expose_secret(), entry_to_json(entry).dump(), kBatchAad, box));
    std::string encoded(
        sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(encoded.data(), encoded.size(),
                      reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    encoded.pop_back();
    return "hvb." + encoded;
  }

  Result<std::optional<core::TokenEntry>> decode_batch(std::string_view token) {
    const std::string_view body = token.substr(4);
    std::string box(body.size(), '\0');
    std::size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), body.data(),
                          body.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
      return std::optional<core::TokenEntry>();
    }
    box.resize(len);
    COFFER_ASSIGN_OR_RETURN(auto key, load_key(batch_key_, kBatchKeyPath));
    auto plain = crypto::aes_gcm_open_string(key->expose_secret(), box, kBatchAad);
    if (!plain) return std::optional<core::TokenEntry>();  // forged or damaged: unknown token
    auto j = nlohmann::json::parse(*plain, nullptr, false);
    if (j.is_discarded()) return std::optional<core::TokenEntry>();
    COFFER_ASSIGN_OR_RETURN(auto entry, entry_from_json(j));
    return std::optional<core::TokenEntry>(std::move(entry));
  }

  // Revokes `hash` and every descendant. `remove_parent_link` drops the entry
  // from its parent's child index too.
  Status revoke_tree_locked(const std::string& root_hash, bool remove_parent_link) {
    // Depth-first without recursion: a deep token chain cannot exhaust the stack.
    std::vector<std::string> pending{root_hash};
    std::vector<std::string> order;
    while (!pending.empty()) {
      std::string hash = std::move(pending.back());
      pending.pop_back();
      order.push_back(hash);
      COFFER_ASSIGN_OR_RETURN(auto children,
                              storage_.list(std::string(kParentPrefix) + hash + "/"));
      for (auto& child : children) pending.push_back(std::move(child));
    }
    // Children first, so a crash midway never leaves a child whose parent is gone
    // but which is still reachable from no index.
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      COFFER_ASSIGN_OR_RETURN(auto entry, load_entry(*it));
      std::vector<storage::WriteOp> ops{storage::WriteOp::remove(std::string(kIdPrefix) + *it)};
      // The cubbyhole goes with the token.
      COFFER_TRY(storage_.scan(std::string(core::kCubbyholePrefix) + *it + "/",
                               [&](std::string_view key, std::string_view) {
                                 ops.push_back(storage::WriteOp::remove(std::string(key)));
                                 return true;
                               }));
      if (entry) {
        ops.push_back(storage::WriteOp::remove(std::string(kAccessorPrefix) + entry->accessor));
        if (!entry->parent_hash.empty() && (remove_parent_link || *it != root_hash)) {
          ops.push_back(storage::WriteOp::remove(std::string(kParentPrefix) + entry->parent_hash +
                                                 "/" + *it));
        }
      }
      COFFER_TRY(write_entries(ops));
    }
    return ok_status();
  }

  // Removes index entries that point at tokens no longer stored (left behind by
  // a crash between revocation steps). Returns how many were removed.
  Result<std::size_t> tidy_locked() {
    std::vector<storage::WriteOp> ops;
    COFFER_TRY(storage_.scan(kAccessorPrefix, [&](std::string_view key, std::string_view hash) {
      auto entry = storage_.get(std::string(kIdPrefix) + std::string(hash));
      if (entry && !entry->has_value()) ops.push_back(storage::WriteOp::remove(std::string(key)));
      return true;
    }));
    COFFER_TRY(storage_.scan(kParentPrefix, [&](std::string_view key, std::string_view) {
      const std::string_view child = key.substr(key.rfind('/') + 1);
      auto entry = storage_.get(std::string(kIdPrefix) + std::string(child));
      if (entry && !entry->has_value()) ops.push_back(storage::WriteOp::remove(std::string(key)));
      return true;
    }));
    if (!ops.empty()) COFFER_TRY(storage_.write_batch(ops));
    return ops.size();
  }

  Status revoke_orphan_locked(const std::string& hash) {
    COFFER_ASSIGN_OR_RETURN(auto children, storage_.list(std::string(kParentPrefix) + hash + "/"));
    for (const auto& child_hash : children) {
      COFFER_ASSIGN_OR_RETURN(auto child, load_entry(child_hash));
      std::vector<storage::WriteOp> ops{
          storage::WriteOp::remove(std::string(kParentPrefix) + hash + "/" + child_hash)};
      if (child) {
        child->parent_hash.clear();
        child->orphan = true;
        ops.push_back(storage::WriteOp::put(std::string(kIdPrefix) + child_hash,
                                            entry_to_json(*child).dump()));
      }
      COFFER_TRY(write_entries(ops));
    }
    return revoke_tree_locked(hash, true);
  }

  // --- create / renew -----------------------------------------------------------

  Response create(const api::Request& request, const core::TokenCall& call, bool orphan_path,
                  const std::optional<Role>& role) {
    const auto& body = request.body;
    const core::TokenEntry& parent = call.caller;
    if (parent.is_batch()) return bad_request("batch tokens cannot create more tokens");

    auto policies = fields::string_list_field(body, "policies");
    auto meta = fields::string_map_field(body, "meta");
    auto no_parent = fields::bool_field(body, "no_parent");
    auto no_default = fields::bool_field(body, "no_default_policy");
    auto renewable = fields::bool_field(body, "renewable");
    auto ttl = fields::duration_field(body, "ttl");
    auto lease = fields::duration_field(body, "lease");
    auto explicit_max = fields::duration_field(body, "explicit_max_ttl");
    auto period = fields::duration_field(body, "period");
    auto display = fields::string_field(body, "display_name");
    auto num_uses = fields::int_field(body, "num_uses");
    auto type = fields::string_field(body, "type");
    auto id = fields::string_field(body, "id");
    auto entity_alias = fields::string_field(body, "entity_alias");
    auto entity_id = fields::string_field(body, "entity_id");
    if (auto bad = fields::first_error(policies, meta, no_parent, no_default, renewable, ttl, lease,
                                       explicit_max, period, display, num_uses, type, id,
                                       entity_alias, entity_id))
      return error(*bad);
    if (num_uses->value_or(0) < 0) return bad_request("number of uses cannot be negative");
    if (entity_alias->has_value()) return bad_request("entity_alias requires identity support");

    core::TokenEntry entry;
    entry.creation_time = now();
    entry.meta = meta->value_or(std::map<std::string, std::string>{});
    entry.display_name = sanitise_display_name(display->value_or(""));
    entry.num_uses = num_uses->value_or(0);
    entry.renewable = renewable->value_or(true);
    // Children belong to their parent's entity. Binding a token to another entity is an
    // operator's act (sudo); the core has checked that the entity exists and is enabled.
    entry.entity_id = parent.entity_id;
    // A child never escapes its parent's network binding (a role may narrow it further).
    entry.bound_cidrs = parent.bound_cidrs;
    if (entity_id->has_value() && !(*entity_id)->empty()) {
      if (!call.sudo) {
        return Response::error(
            permission_denied("root or sudo privileges required to set entity_id"));
      }
      entry.entity_id = **entity_id;
    }
    std::string token_type = type->value_or("service");
    if (role && token_type == "service" && role->token_type == "batch") token_type = "batch";
    if (token_type != "service" && token_type != "batch") {
      return bad_request("unsupported token type " + token_type);
    }
    entry.type = token_type;

    // Orphan or child.
    bool orphan = orphan_path || (role && role->orphan);
    if (no_parent->value_or(false)) {
      if (!call.sudo) return bad_request("root or sudo privileges required to create orphan token");
      orphan = true;
    }
    entry.orphan = orphan;
    if (!orphan) entry.parent_hash = parent.id_hash;
    if (entry.parent_hash.empty()) entry.orphan = true;

    // Policies: default to the parent's; a non-sudo parent may only narrow.
    std::vector<std::string> requested =
        policies->has_value() ? policy::normalize_policy_list(**policies) : parent.policies;
    const bool no_default_policy =
        no_default->value_or(false) || (role && role->token_no_default_policy);
    // A role that disallows `default` (by name or pattern) never hands it out implicitly.
    const bool role_blocks_default =
        role && (contains(role->disallowed_policies, "default") ||
                 matches_any_glob(role->disallowed_policies_glob, "default"));
    if (role) {
      // Globs only admit requested names; with nothing requested the token gets the role's
      // literal allowed_policies, as in Vault.
      if (!policies->has_value()) requested = policy::normalize_policy_list(role->allowed_policies);
      const bool role_restricts =
          !role->allowed_policies.empty() || !role->allowed_policies_glob.empty();
      if (role_restricts) {
        for (const auto& p : requested) {
          if (p == "default" || contains(role->allowed_policies, p) ||
              matches_any_glob(role->allowed_policies_glob, p)) {
            continue;
          }
          // Vault lists both sides with `default` added where it would be granted.
          const bool shows_default = !no_default_policy && !role_blocks_default;
          auto shown = requested;
          auto shown_allowed = role->allowed_policies;
          if (shows_default) {
            shown.push_back("default");
            shown_allowed.push_back("default");
          }
          return bad_request("token policies (" + go_quote(policy::normalize_policy_list(shown)) +
                             ") must be subset of the role's allowed policies (" +
                             go_quote(policy::normalize_policy_list(shown_allowed)) +
                             ") or glob policies (" + go_quote(role->allowed_policies_glob) + ")");
        }
      } else if (!call.sudo && !parent.is_root()) {
        // Without an allow list the role grants nothing the caller lacks; `default` is the
        // role's to add.
        for (const auto& p : requested) {
          if (p != "default" && !contains(parent.policies, p)) {
            return bad_request("child policies must be subset of parent");
          }
        }
      }
      for (const auto& p : requested) {
        if (contains(role->disallowed_policies, p) ||
            matches_any_glob(role->disallowed_policies_glob, p)) {
          return bad_request("token policy " + go_quote(p) + " is disallowed by this role");
        }
      }
    } else if (!call.sudo && !parent.is_root()) {
      for (const auto& p : requested) {
        if (p == "default" && !contains(parent.policies, "default")) {
          return bad_request("child policies must be subset of parent");
        }
        if (p != "default" && !contains(parent.policies, p)) {
          return bad_request("child policies must be subset of parent");
        }
      }
    }
    if (contains(requested, "root") && !parent.is_root()) {
      return bad_request("root tokens may only be created by a root token");
    }
    if (!no_default_policy && !role_blocks_default && !contains(requested, "root") &&
        !contains(requested, "default")) {
      if (call.sudo || parent.is_root() || contains(parent.policies, "default") || role) {
        requested.push_back("default");
      }
    }
    if (no_default_policy) std::erase(requested, std::string("default"));
    entry.policies = policy::normalize_policy_list(std::move(requested));
    if (entry.policies.empty()) return bad_request("token must have at least one policy");
    if (contains(entry.policies, "response-wrapping")) {
      return bad_request("cannot assign policy \"response-wrapping\"");
    }
    if (entry.type == "batch") {
      if (num_uses->value_or(0) != 0)
        return bad_request("batch tokens cannot have \"num_uses\" set");
      if (period->value_or(0) != 0) return bad_request("batch tokens cannot have \"period\" set");
      if (explicit_max->value_or(0) != 0) {
        return bad_request("batch tokens cannot have \"explicit_max_ttl\" set");
      }
      if (contains(entry.policies, "root"))
        return bad_request("batch tokens cannot be root tokens");
      if (!entry.orphan && parent.is_batch())
        return bad_request("batch tokens cannot have children");
    }

    // TTLs.
    std::int64_t requested_ttl = ttl->value_or(lease->value_or(0));
    std::int64_t periodic = period->value_or(role ? role->token_period : 0);
    if (period->value_or(0) != 0 && !call.sudo && !role) {
      return bad_request("root or sudo privileges required to create periodic token");
    }
    entry.explicit_max_ttl = explicit_max->value_or(role ? role->token_explicit_max_ttl : 0);
    entry.period = periodic;
    if (requested_ttl == 0 && role) requested_ttl = role->token_ttl;
    std::int64_t effective = 0;
    if (periodic > 0) {
      effective = periodic;
    } else if (requested_ttl > 0) {
      effective = requested_ttl;
    } else if (!(parent.is_root() && contains(entry.policies, "root"))) {
      effective = call.default_ttl;
    }
    if (periodic == 0 && effective > 0) {
      std::int64_t max = call.max_ttl;
      if (role && role->token_max_ttl > 0) max = std::min(max, role->token_max_ttl);
      if (max > 0) effective = std::min(effective, max);
    }
    if (entry.explicit_max_ttl > 0 && (effective == 0 || effective > entry.explicit_max_ttl)) {
      effective = entry.explicit_max_ttl;
    }
    entry.creation_ttl = effective;
    entry.expire_time = effective > 0 ? entry.creation_time + effective : 0;
    if (role) {
      entry.path = "auth/token/create/" + role->name +
                   (role->path_suffix.empty() ? "" : "/" + role->path_suffix);
      if (!role->renewable) entry.renewable = false;
      if (entry.num_uses == 0) entry.num_uses = role->token_num_uses;
      if (!role->token_bound_cidrs.empty()) entry.bound_cidrs = role->token_bound_cidrs;
    } else {
      entry.path = orphan_path ? "auth/token/create-orphan" : "auth/token/create";
    }

    std::string token;
    if (entry.type == "batch") {
      if (id->has_value()) return bad_request("batch tokens cannot have a custom ID");
      entry.renewable = false;
      auto encoded = encode_batch(entry);
      if (!encoded) return error(encoded.error());
      token = std::move(*encoded);
    } else {
      std::string custom = id->value_or("");
      if (!custom.empty()) {
        if (!call.sudo) return bad_request("root or sudo privileges required to specify token id");
        if (custom.find('.') != std::string::npos)
          return bad_request("token IDs can not contain a period");
      }
      // A random id cannot collide, so creations share the lock and their synced writes
      // commit together; a caller-chosen id is checked for duplicates, which needs it alone.
      auto stored = custom.empty() ? create_locked<std::shared_lock>(entry, custom)
                                   : create_locked<std::unique_lock>(entry, custom);
      if (!stored) return error(stored.error());
      token = std::move(*stored);
    }
    nlohmann::json response = api::envelope(nullptr);
    response["auth"] = auth_block(entry, token, now());
    return Response::json(200, std::move(response));
  }

  Result<core::TokenEntry> renew(const core::TokenEntry& target, std::int64_t increment,
                                 std::int64_t system_max) {
    if (target.is_batch()) return fail(invalid_argument("batch tokens cannot be renewed"));
    if (target.is_root() && target.expire_time == 0) {
      return fail(invalid_argument("lease is not renewable"));
    }
    if (!target.renewable) return fail(invalid_argument("lease is not renewable"));
    std::lock_guard lock(write_mutex_);
    COFFER_ASSIGN_OR_RETURN(auto current, load_entry(target.id_hash));
    if (!current || (current->expire_time != 0 && current->expire_time <= now())) {
      return fail(permission_denied());
    }
    const std::int64_t t = now();
    std::int64_t ttl =
        current->period > 0 ? current->period : (increment > 0 ? increment : current->creation_ttl);
    if (current->period == 0 && system_max > 0) {
      // The system maximum counts from creation, so renewals cannot extend a token forever.
      ttl = std::min(ttl, current->creation_time + system_max - t);
    }
    if (current->explicit_max_ttl > 0) {
      ttl = std::min(ttl, current->creation_time + current->explicit_max_ttl - t);
    }
    if (ttl <= 0) return fail(permission_denied());
    current->expire_time = t + ttl;
    COFFER_TRY(write_entries({storage::WriteOp::put(std::string(kIdPrefix) + current->id_hash,
                                                    entry_to_json(*current).dump())}));
    return std::move(*current);
  }

  // --- roles ----------------------------------------------------------------------

  Result<std::optional<Role>> load_role(const std::string& name) {
    COFFER_ASSIGN_OR_RETURN(auto raw, storage_.get(std::string(kRolePrefix) + name));
    if (!raw) return std::optional<Role>();
    auto j = nlohmann::json::parse(*raw, nullptr, false);
    if (j.is_discarded()) return fail(internal_error("token role is corrupt"));
    return std::optional<Role>(Role::from_json(j));
  }

  Response handle_role(const api::Request& request, const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos)
      return bad_request("invalid role name");
    const std::string key = std::string(kRolePrefix) + name;
    switch (request.operation) {
      case api::Operation::kRead: {
        auto role = load_role(name);
        if (!role) return error(role.error());
        if (!*role) return Response::error(404, {});
        return Response::json(200, api::envelope((*role)->to_json()));
      }
      case api::Operation::kDelete: {
        if (Status s = storage_.remove(key); !s.ok()) return error(s);
        return Response::no_content();
      }
      case api::Operation::kCreate:
      case api::Operation::kUpdate: {
        auto existing = load_role(name);
        if (!existing) return error(existing.error());
        Role role = existing->value_or(Role{});
        role.name = name;
        const auto& b = request.body;
        auto allowed = fields::string_list_field(b, "allowed_policies");
        auto disallowed = fields::string_list_field(b, "disallowed_policies");
        auto allowed_glob = fields::string_list_field(b, "allowed_policies_glob");
        auto disallowed_glob = fields::string_list_field(b, "disallowed_policies_glob");
        auto orphan = fields::bool_field(b, "orphan");
        auto renewable = fields::bool_field(b, "renewable");
        auto suffix = fields::string_field(b, "path_suffix");
        auto ttl = fields::duration_field(b, "token_ttl");
        auto max_ttl = fields::duration_field(b, "token_max_ttl");
        auto explicit_max = fields::duration_field(b, "token_explicit_max_ttl");
        auto period = fields::duration_field(b, "token_period");
        auto uses = fields::int_field(b, "token_num_uses");
        auto no_default = fields::bool_field(b, "token_no_default_policy");
        auto type = fields::string_field(b, "token_type");
        auto cidrs = fields::string_list_field(b, "token_bound_cidrs");
        if (auto bad = fields::first_error(allowed, disallowed, allowed_glob, disallowed_glob,
                                           orphan, renewable, suffix, ttl, max_ttl, explicit_max,
                                           period, uses, no_default, type, cidrs))
          return error(*bad);
        // Vault's legacy name for the same field.
        if (!*cidrs) {
          cidrs = fields::string_list_field(b, "bound_cidrs");
          if (!cidrs) return error(cidrs.error());
        }
        if (*cidrs) {
          std::vector<std::string> canonical;
          for (const auto& text : **cidrs) {
            if (text.empty()) continue;
            auto network = policy::IpNetwork::parse(text);
            if (!network) return bad_request("invalid token_bound_cidrs entry \"" + text + "\"");
            canonical.push_back(network->to_string());
          }
          role.token_bound_cidrs = std::move(canonical);
        }
        if (*allowed) role.allowed_policies = policy::normalize_policy_list(**allowed);
        if (*disallowed) role.disallowed_policies = policy::normalize_policy_list(**disallowed);
        // Patterns are lower-cased like the names they are matched against (Vault sanitises
        // them the same way).
        if (*allowed_glob)
          role.allowed_policies_glob = policy::normalize_policy_list(**allowed_glob);
        if (*disallowed_glob)
          role.disallowed_policies_glob = policy::normalize_policy_list(**disallowed_glob);
        if (*orphan) role.orphan = **orphan;
        if (*renewable) role.renewable = **renewable;
        if (*suffix) role.path_suffix = **suffix;
        if (*ttl) role.token_ttl = **ttl;
        if (*max_ttl) role.token_max_ttl = **max_ttl;
        if (*explicit_max) role.token_explicit_max_ttl = **explicit_max;
        if (*period) role.token_period = **period;
        if (*uses) role.token_num_uses = **uses;
        if (*no_default) role.token_no_default_policy = **no_default;
        if (*type && !(*type)->empty()) {
          if (**type != "service" && **type != "batch" && **type != "default-service" &&
              **type != "default-batch") {
            return bad_request("invalid token_type");
          }
          role.token_type = **type;
        }
        if (Status s = storage_.put(key, role.to_json().dump()); !s.ok()) return error(s);
        return Response::no_content();
      }
      default:
        return Response::error(405, {});
    }
  }

  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  std::mutex key_mutex_;  // serialises creating the salt and batch key
  // Token tree changes (renew, revoke, use) hold it alone; creations share it.
  std::shared_mutex write_mutex_;
  std::atomic<std::shared_ptr<const SecretBytes>> salt_;
  std::atomic<std::shared_ptr<const SecretBytes>> batch_key_;
  TokenCache cache_;
};

}  // namespace

std::unique_ptr<core::TokenStore> make_token_store(barrier::LogicalStorage& storage,
                                                   const Clock& clock) {
  return std::make_unique<BarrierTokenStore>(storage, clock);
}

}  // namespace coffer::auth::token
