// Cubbyhole (per-token private storage) and response wrapping, which keeps a
// wrapped response in a single-use wrapping token's cubbyhole.

#include <ctime>

#include "vault/base/time_format.h"
#include "vault/core/core.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::core {
namespace {

constexpr std::string_view kWrappedResponseKey = "response";

bool is_wrapping_token(const TokenEntry& entry) {
  return entry.policies.size() == 1 && entry.policies.front() == "response-wrapping";
}

api::Response invalid_wrapping_token() {
  return api::Response::error(invalid_argument("wrapping token is not valid or does not exist"));
}

}  // namespace

Result<std::unique_ptr<engines::SecretEngine>> Core::cubbyhole_engine(const std::string& id_hash) {
  for (const auto& registration : engines_) {
    if (registration.info.type != "kv") continue;
    engines::EngineContext context;
    context.storage = std::make_unique<barrier::BarrierView>(
        barrier_, std::string(kCubbyholePrefix) + id_hash + "/");
    context.clock = &clock_;
    context.mount_path = "cubbyhole/";
    return registration.factory(std::move(context), nlohmann::json{{"version", "1"}});
  }
  return fail(internal_error("cubbyhole storage engine missing"));
}

api::Response Core::handle_cubbyhole(api::Request request, const TokenEntry& token) {
  if (token.is_batch()) {
    return api::Response::error(invalid_argument("cubbyhole is not available to batch tokens"));
  }
  auto engine = cubbyhole_engine(token.id_hash);
  if (!engine) return api::Response::error(engine.error());
  request.path = request.path == "cubbyhole" ? "" : request.path.substr(10);
  api::Response response = (*engine)->handle(request);
  // Cubbyhole values have no lease (Vault): the KV v1 engine's advisory TTL does not apply.
  if (response.body && response.body->contains("lease_duration")) {
    (*response.body)["lease_duration"] = 0;
  }
  return response;
}

api::Response Core::wrap_response(api::Response response, std::int64_t ttl,
                                  const std::string& creation_path) {
  if (response.status < 200 || response.status >= 300) return response;
  if (!response.body && response.raw_body && response.content_type == "application/json") {
    // Pre-rendered JSON (the KV read fast path) is wrapped like any other body.
    auto parsed = nlohmann::json::parse(*response.raw_body, nullptr, false);
    if (parsed.is_discarded()) return api::Response::error(internal_error("unreadable response"));
    response.body = std::move(parsed);
    response.raw_body.reset();
  }
  if (!response.body) return response;
  TokenEntry entry;
  entry.policies = {"response-wrapping"};
  entry.display_name = "response-wrapping";
  entry.path = creation_path;
  entry.orphan = true;
  entry.renewable = false;
  entry.creation_time = clock_.unix_seconds();
  entry.creation_ttl = ttl;
  entry.expire_time = entry.creation_time + ttl;
  // Single use, as in Vault: whatever reads the response with the token itself (unwrap, or
  // a read of cubbyhole/response) spends it, and the token and its cubbyhole go after that.
  entry.num_uses = 1;
  auto token = tokens_->mint(entry);
  if (!token) return api::Response::error(token.error());
  const std::string created = rfc3339_nano(clock_.now());
  nlohmann::json record{{"creation_path", creation_path},
                        {"creation_time", created},
                        {"creation_ttl", ttl},
                        {"response", std::move(*response.body)}};
  const std::string key =
      std::string(kCubbyholePrefix) + entry.id_hash + "/" + std::string(kWrappedResponseKey);
  if (Status s = barrier_.put(key, record.dump()); !s.ok()) {
    (void)tokens_->revoke(entry);
    return api::Response::error(s);
  }
  nlohmann::json wrap_info{{"token", *token},
                           {"accessor", entry.accessor},
                           {"ttl", ttl},
                           {"creation_time", created},
                           {"creation_path", creation_path}};
  if (record["response"].contains("auth") && record["response"]["auth"].is_object()) {
    wrap_info["wrapped_accessor"] = record["response"]["auth"].value("accessor", "");
  }
  nlohmann::json body = api::envelope(nullptr);
  body["request_id"] = "";
  body["wrap_info"] = std::move(wrap_info);
  return api::Response::json(200, std::move(body));
}

api::Response Core::handle_wrapping(const api::Request& request, const TokenEntry& caller) {
  const auto op = request.operation;
  if (op != api::Operation::kUpdate && op != api::Operation::kCreate) {
    return api::Response::error(405, {});
  }
  const std::string action = request.path.substr(std::string_view("sys/wrapping/").size());
  if (action == "wrap") {
    if (request.wrap_ttl <= 0) {
      return api::Response::error(invalid_argument("wrap TTL must be set (X-Vault-Wrap-TTL)"));
    }
    // The caller wraps its own data; the core wraps this response after dispatch.
    return api::Response::json(200, api::envelope(request.body));
  }

  // unwrap / lookup / rewrap name the wrapping token in the body, or (unwrap)
  // present it as their own token.
  auto named = fields::string_field(request.body, "token");
  if (!named) return api::Response::error(named.error());
  std::optional<TokenEntry> wrapping;
  if (*named && !(*named)->empty()) {
    auto found = tokens_->lookup(**named);
    if (!found) return api::Response::error(found.error());
    if (!*found || !is_wrapping_token(**found)) return invalid_wrapping_token();
    wrapping = std::move(**found);
  } else if (action == "unwrap" && is_wrapping_token(caller)) {
    wrapping = caller;
  } else {
    return api::Response::error(invalid_argument("missing token"));
  }

  const std::string key =
      std::string(kCubbyholePrefix) + wrapping->id_hash + "/" + std::string(kWrappedResponseKey);
  // Single use: two concurrent unwraps of one token must not both succeed.
  std::lock_guard lock(wrapping_mutex_);
  auto stored = barrier_.get(key);
  if (!stored) return api::Response::error(stored.error());
  if (!*stored) return invalid_wrapping_token();
  auto record = nlohmann::json::parse(**stored, nullptr, false);
  if (record.is_discarded())
    return api::Response::error(internal_error("wrapped response is corrupt"));

  if (action == "lookup") {
    return api::Response::json(200, api::envelope({{"creation_path", record["creation_path"]},
                                                   {"creation_time", record["creation_time"]},
                                                   {"creation_ttl", record["creation_ttl"]}}));
  }
  if (action == "unwrap") {
    if (Status s = tokens_->revoke(*wrapping); !s.ok()) return api::Response::error(s);
    return api::Response::json(200, std::move(record["response"]));
  }
  if (action == "rewrap") {
    const std::int64_t ttl = record.value("creation_ttl", std::int64_t{300});
    api::Response original = api::Response::json(200, record["response"]);
    auto rewrapped = wrap_response(std::move(original), ttl, record.value("creation_path", ""));
    if (rewrapped.status == 200) (void)tokens_->revoke(*wrapping);
    return rewrapped;
  }
  return api::Response::error(404, {"unsupported path"});
}

}  // namespace coffer::core
