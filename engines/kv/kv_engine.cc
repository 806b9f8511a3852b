#include "engines/kv/kv_engine.h"

#include "engines/kv/kv_v2_engine.h"

#include "engines/kv/kv_v2_engine.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::engines::kv {
namespace {

// Vault reports the system default TTL as a KV v1 read's lease_duration (advisory:
// KV v1 secrets are not leased or revoked).
constexpr int kAdvisoryTtlSeconds = 768 * 3600;

class KvV1Engine final : public SecretEngine {
 public:
  explicit KvV1Engine(EngineContext context) : context_(std::move(context)) {}

  std::optional<bool> exists(const api::Request& request) override {
    if (request.path.empty() || request.path.ends_with('/')) return std::nullopt;
    auto stored = context_.storage->get(request.path);
    return !stored || stored->has_value();
  }

  api::Response handle(const api::Request& request) override {
    auto& storage = *context_.storage;
    const std::string& path = request.path;
    switch (request.operation) {
      case api::Operation::kRead: {
        if (path.empty() || path.ends_with('/')) return api::Response::error(404, {});
        auto stored = storage.get(path);
        if (!stored) return api::Response::error(stored.error());
        if (!*stored) return api::Response::error(404, {});
        auto data = nlohmann::json::parse(**stored, nullptr, false);
        if (data.is_discarded())
          return api::Response::error(internal_error("stored entry is corrupt"));
        // Vault's advisory TTL: a `ttl` key in the secret, else the mount's default.
        std::int64_t ttl =
            context_.default_lease_ttl > 0 ? context_.default_lease_ttl : kAdvisoryTtlSeconds;
        if (auto own = fields::duration_field(data, "ttl"); own && *own) ttl = **own;
        auto body = api::envelope(std::move(data));
        body["lease_duration"] = ttl;
        return api::Response::json(200, std::move(body));
      }
      case api::Operation::kList: {
        auto keys = storage.list(path);
        if (!keys) return api::Response::error(keys.error());
        if (keys->empty()) return api::Response::error(404, {});
        return api::Response::json(200, api::envelope({{"keys", *keys}}));
      }
      case api::Operation::kCreate:
      case api::Operation::kUpdate: {
        if (path.empty() || path.ends_with('/')) {
          return api::Response::error(invalid_argument("missing secret path"));
        }
        if (request.body.empty()) return api::Response::error(invalid_argument("no data provided"));
        if (Status s = storage.put(path, request.body.dump()); !s.ok()) {
          return api::Response::error(s);
        }
        return api::Response::no_content();
      }
      case api::Operation::kDelete: {
        if (path.empty()) return api::Response::error(invalid_argument("missing secret path"));
        if (Status s = storage.remove(path); !s.ok()) return api::Response::error(s);
        return api::Response::no_content();
      }
      default:
        return api::Response::error(405, {});
    }
  }

 private:
  const EngineContext context_;
};

}  // namespace

namespace {
std::string version_of(const nlohmann::json& options) {
  if (options.is_object()) {
    if (auto it = options.find("version"); it != options.end() && it->is_string()) return *it;
  }
  return "1";
}
}  // namespace

Status upgrade_kv_options(barrier::LogicalStorage& view, const nlohmann::json& old_options,
                          const nlohmann::json& new_options, const Clock& clock) {
  const std::string from = version_of(old_options);
  const std::string to = version_of(new_options);
  if (from == to) return ok_status();
  if (from == "2") return invalid_argument("cannot downgrade a kv mount from version 2");
  if (to != "2") return invalid_argument("unsupported kv version " + to);
  return upgrade_v1_data_to_v2(view, clock);
}

Result<std::unique_ptr<SecretEngine>> make_kv_engine(EngineContext context,
                                                     const nlohmann::json& options) {
  std::string version = "1";
  if (options.is_object()) {
    if (auto it = options.find("version"); it != options.end()) {
      if (it->is_string()) version = *it;
      if (it->is_number_integer()) version = std::to_string(it->get<long long>());
    }
  }
  if (version == "2") return make_kv_v2_engine(std::move(context), options);
  if (version != "1" && !version.empty()) {
    return fail(invalid_argument("kv version " + version + " is not supported yet"));
  }
  return std::unique_ptr<SecretEngine>(std::make_unique<KvV1Engine>(std::move(context)));
}

}  // namespace coffer::engines::kv
