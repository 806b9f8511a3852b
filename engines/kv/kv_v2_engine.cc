#include "engines/kv/kv_v2_engine.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vault/base/duration.h"
#include "vault/base/time_format.h"
#include "vault/core/envelope.h"

namespace coffer::engines::kv {
namespace {

using Json = nlohmann::json;
using Nanos = std::int64_t;  // since the Unix epoch

constexpr std::uint32_t kDefaultMaxVersions = 10;
// The mount-level delete_version_after that switches the feature off for every key.
constexpr std::int64_t kDeleteVersionAfterDisabled = -1;
// Go's time.Duration (int64 nanoseconds) bounds every duration Vault accepts.
constexpr std::int64_t kMaxDurationSeconds =
    std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
// Recursion bound for subkeys: request bodies are nested at most a few hundred levels deep,
// and this keeps the walk's stack small whatever the stored data looks like.
constexpr std::int64_t kMaxSubkeysDepth = 100;
constexpr std::size_t kMaxCustomMetadataKeys = 64;
constexpr std::size_t kMaxCustomMetadataKeyLength = 128;
constexpr std::size_t kMaxCustomMetadataValueLength = 512;
constexpr std::string_view kCustomMetadataError = "custom_metadata validation failed";
constexpr std::size_t kLockStripes = 64;

constexpr std::string_view kConfigKey = "config";
constexpr std::string_view kMetaPrefix = "meta/";
constexpr std::string_view kVersionPrefix = "ver/";

// ---------------------------------------------------------------------------------------------
// Stored state.

struct EngineConfig {
  std::uint32_t max_versions = 0;
  bool cas_required = false;
  std::int64_t delete_version_after = 0;  // seconds; kDeleteVersionAfterDisabled = off
};

struct VersionMetadata {
  Nanos created = 0;
  std::optional<Nanos> deletion;
  bool destroyed = false;
};

struct KeyMetadata {
  Nanos created = 0;
  Nanos updated = 0;
  std::uint64_t current_version = 0;
  std::uint64_t oldest_version = 0;
  std::uint32_t max_versions = 0;
  bool cas_required = false;
  std::int64_t delete_version_after = 0;  // seconds, >= 0
  std::map<std::string, std::string> custom_metadata;
  std::map<std::uint64_t, VersionMetadata> versions;
};

std::string meta_key(std::string_view path) { return std::string(kMetaPrefix) + std::string(path); }

// Injective: the version number never contains '/', so the last '/' splits path and number.
std::string version_key(std::string_view path, std::uint64_t version) {
  return std::string(kVersionPrefix) + std::string(path) + "/" + std::to_string(version);
}

Json config_to_json(const EngineConfig& c) {
  return {{"max_versions", c.max_versions},
          {"cas_required", c.cas_required},
          {"delete_version_after", c.delete_version_after}};
}

// Throws nlohmann::json::exception on a malformed entry; callers turn that into kInternal.
EngineConfig config_from_json(const Json& j) {
  EngineConfig c;
  c.max_versions = j.at("max_versions").get<std::uint32_t>();
  c.cas_required = j.at("cas_required").get<bool>();
  c.delete_version_after = j.at("delete_version_after").get<std::int64_t>();
  return c;
}

Json metadata_to_json(const KeyMetadata& m) {
  Json versions = Json::object();
  for (const auto& [number, v] : m.versions) {
    versions[std::to_string(number)] = {
        {"created", v.created},
        {"deletion", v.deletion ? Json(*v.deletion) : Json(nullptr)},
        {"destroyed", v.destroyed}};
  }
  return {{"created", m.created},
          {"updated", m.updated},
          {"current_version", m.current_version},
          {"oldest_version", m.oldest_version},
          {"max_versions", m.max_versions},
          {"cas_required", m.cas_required},
          {"delete_version_after", m.delete_version_after},
          {"custom_metadata", m.custom_metadata},
          {"versions", std::move(versions)}};
}

KeyMetadata metadata_from_json(const Json& j) {
  KeyMetadata m;
  m.created = j.at("created").get<Nanos>();
  m.updated = j.at("updated").get<Nanos>();
  m.current_version = j.at("current_version").get<std::uint64_t>();
  m.oldest_version = j.at("oldest_version").get<std::uint64_t>();
  m.max_versions = j.at("max_versions").get<std::uint32_t>();
  m.cas_required = j.at("cas_required").get<bool>();
  m.delete_version_after = j.at("delete_version_after").get<std::int64_t>();
  m.custom_metadata = j.at("custom_metadata").get<std::map<std::string, std::string>>();
  for (const auto& [number, v] : j.at("versions").items()) {
    VersionMetadata vm;
    vm.created = v.at("created").get<Nanos>();
    if (const auto& d = v.at("deletion"); !d.is_null()) vm.deletion = d.get<Nanos>();
    vm.destroyed = v.at("destroyed").get<bool>();
    m.versions[std::stoull(number)] = vm;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Wire formats.

std::string optional_time(const std::optional<Nanos>& t) { return t ? rfc3339_nano(*t) : ""; }

// Go's time.Duration.String() for whole seconds: "0s", "45s", "1m30s", "1h0m0s", "-1s".
std::string go_duration(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  std::uint64_t s = 0;
  if (seconds < 0) {
    out = "-";
    s = static_cast<std::uint64_t>(-(seconds + 1)) + 1;
  } else {
    s = static_cast<std::uint64_t>(seconds);
  }
  const std::uint64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
  if (h != 0) out += std::to_string(h) + "h";
  if (h != 0 || m != 0) out += std::to_string(m) + "m";
  out += std::to_string(sec) + "s";
  return out;
}

Json custom_metadata_json(const KeyMetadata& m) {
  // Vault stores the map in protobuf, where an empty map reads back as nil: JSON null.
  if (m.custom_metadata.empty()) return nullptr;
  return m.custom_metadata;
}

// The same object as version_metadata_json, rendered as text for the read hot path, in the
// key order the JSON renderer uses. Times are ASCII and need no escaping.
std::string version_metadata_text(std::uint64_t number, const VersionMetadata& v,
                                  const KeyMetadata& m) {
  std::string out;
  out.reserve(160);
  out.append(R"({"created_time":")").append(rfc3339_nano(v.created));
  out.append(R"(","custom_metadata":)").append(custom_metadata_json(m).dump());
  out.append(R"(,"deletion_time":")").append(optional_time(v.deletion));
  out.append(R"(","destroyed":)").append(v.destroyed ? "true" : "false");
  out.append(R"(,"version":)").append(std::to_string(number)).push_back('}');
  return out;
}

Json version_metadata_json(std::uint64_t number, const VersionMetadata& v, const KeyMetadata& m) {
  return {{"version", number},
          {"created_time", rfc3339_nano(v.created)},
          {"deletion_time", optional_time(v.deletion)},
          {"destroyed", v.destroyed},
          {"custom_metadata", custom_metadata_json(m)}};
}

// ---------------------------------------------------------------------------------------------
// Lenient request decoding (vault-api.md §1.2): JSON null is "not provided", numbers and bools
// may arrive as strings.

const Json* field(const Json& body, const std::string& name) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::int64_t> parse_integer_text(std::string_view text) {
  std::int64_t value = 0;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> as_integer(const Json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (v.is_string()) return parse_integer_text(v.get_ref<const std::string&>());
  return std::nullopt;
}

// Go strconv.ParseBool, as Vault's weak decoding uses.
std::optional<bool> as_bool(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) {
    auto i = as_integer(v);
    if (!i) return std::nullopt;
    return *i != 0;
  }
  if (!v.is_string()) return std::nullopt;
  const auto& t = v.get_ref<const std::string&>();
  if (t == "1" || t == "t" || t == "T" || t == "true" || t == "TRUE" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "false" || t == "FALSE" || t == "False") {
    return false;
  }
  return std::nullopt;
}

Result<std::optional<std::int64_t>> integer_field(const Json& body, const std::string& name) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  auto i = as_integer(*v);
  if (!i) return fail(invalid_argument("field \"" + name + "\" must be an integer"));
  return std::optional<std::int64_t>(*i);
}

Result<std::optional<std::uint32_t>> max_versions_field(const Json& body) {
  COFFER_ASSIGN_OR_RETURN(auto value, integer_field(body, "max_versions"));
  if (!value) return std::optional<std::uint32_t>();
  if (*value < 0 || *value > std::numeric_limits<std::uint32_t>::max()) {
    return fail(invalid_argument("field \"max_versions\" must be a non-negative integer"));
  }
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(*value));
}

Result<std::optional<bool>> bool_field(const Json& body, const std::string& name) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::optional<bool>();
  auto b = as_bool(*v);
  if (!b) return fail(invalid_argument("field \"" + name + "\" must be a boolean"));
  return std::optional<bool>(*b);
}

// A duration in whole seconds: an integer (seconds) or a Go/Vault duration string. Negative
// values are accepted only where `allow_negative` (the mount config, where they mean "off").
Result<std::optional<std::int64_t>> duration_field(const Json& body, const std::string& name,
                                                   bool allow_negative) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  const Status bad = invalid_argument("field \"" + name + "\" must be a duration");
  std::int64_t seconds = 0;
  if (v->is_number()) {
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(kMaxDurationSeconds)) {
        return fail(bad);
      }
      seconds = static_cast<std::int64_t>(d);
    } else {
      auto i = as_integer(*v);
      if (!i) return fail(bad);
      seconds = *i;
    }
  } else if (v->is_string()) {
    std::string_view text = v->get_ref<const std::string&>();
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    bool negative = false;
    if (allow_negative && !text.empty() && text.front() == '-') {
      negative = true;
      text.remove_prefix(1);
    }
    auto parsed = parse_duration(text);
    if (!parsed)
      return fail(invalid_argument("field \"" + name + "\": " + parsed.error().message()));
    seconds = negative ? -parsed->count() : parsed->count();
  } else {
    return fail(bad);
  }
  if (seconds < 0 && !allow_negative) {
    return fail(invalid_argument("field \"" + name + "\" must not be negative"));
  }
  if (seconds > kMaxDurationSeconds || seconds < -kMaxDurationSeconds) {
    return fail(invalid_argument("field \"" + name + "\" is too long"));
  }
  return std::optional<std::int64_t>(seconds);
}

// Vault's TypeCommaIntSlice: a JSON array of integers, a comma-separated string, or one integer.
Result<std::vector<std::int64_t>> versions_field(const Json& body) {
  std::vector<std::int64_t> out;
  const Json* v = field(body, "versions");
  if (v == nullptr) return out;
  const Status bad = invalid_argument("field \"versions\" must be a list of integers");
  if (v->is_array()) {
    for (const auto& item : *v) {
      auto i = as_integer(item);
      if (!i) return fail(bad);
      out.push_back(*i);
    }
  } else if (v->is_string()) {
    std::string_view text = v->get_ref<const std::string&>();
    while (!text.empty()) {
      const auto comma = text.find(',');
      std::string_view part = text.substr(0, comma);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
      if (!part.empty()) {
        auto i = parse_integer_text(part);
        if (!i) return fail(bad);
        out.push_back(*i);
      }
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  } else {
    auto i = as_integer(*v);
    if (!i) return fail(bad);
    out.push_back(*i);
  }
  return out;
}

// A request parameter that GET carries in the query and other verbs may carry in the body.
Result<std::int64_t> query_integer(const api::Request& request, const std::string& name) {
  if (auto it = request.query.find(name); it != request.query.end() && !it->second.empty()) {
    auto i = parse_integer_text(it->second);
    if (!i) return fail(invalid_argument("parameter \"" + name + "\" must be an integer"));
    return *i;
  }
  COFFER_ASSIGN_OR_RETURN(auto value, integer_field(request.body, name));
  return value.value_or(0);
}

bool printable(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// Decodes a custom_metadata object. Values may be strings, numbers or bools (weakly decoded to
// strings); nested values are refused. A null value is "remove this key" in a patch and "not
// provided" otherwise; it is returned as nullopt either way.
Result<std::map<std::string, std::optional<std::string>>> custom_metadata_field(const Json& body) {
  std::map<std::string, std::optional<std::string>> out;
  const Json* v = field(body, "custom_metadata");
  if (v == nullptr) return out;
  if (!v->is_object()) {
    return fail(invalid_argument(std::string(kCustomMetadataError) + ": must be a JSON object"));
  }
  for (const auto& [key, value] : v->items()) {
    if (value.is_null()) {
      out[key] = std::nullopt;
    } else if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_boolean()) {
      out[key] = value.get<bool>() ? "1" : "0";
    } else if (value.is_number()) {
      out[key] = value.dump();
    } else {
      return fail(invalid_argument(std::string(kCustomMetadataError) + ": value for key \"" + key +
                                   "\" must be a string"));
    }
  }
  return out;
}

Status validate_custom_metadata(const std::map<std::string, std::string>& custom) {
  const std::string prefix(kCustomMetadataError);
  if (custom.size() > kMaxCustomMetadataKeys) {
    return invalid_argument(prefix + ": payload must contain at most " +
                            std::to_string(kMaxCustomMetadataKeys) + " keys, provided " +
                            std::to_string(custom.size()));
  }
  std::vector<std::string> errors;
  for (const auto& [key, value] : custom) {
    // Keys with control characters are not echoed: they would garble the message.
    const std::string shown = printable(key) ? "\"" + key + "\"" : "(unprintable)";
    if (key.empty() || key.size() > kMaxCustomMetadataKeyLength) {
      errors.push_back(
          prefix + ": length of key " + shown + " is " + std::to_string(key.size()) +
          " but must be 0 < len(key) <= " + std::to_string(kMaxCustomMetadataKeyLength));
    }
    if (value.empty() || value.size() > kMaxCustomMetadataValueLength) {
      errors.push_back(
          prefix + ": length of value for key " + shown + " is " + std::to_string(value.size()) +
          " but must be 0 < len(value) <= " + std::to_string(kMaxCustomMetadataValueLength));
    }
    if (!printable(key)) errors.push_back(prefix + ": a key contains unprintable characters");
    if (!printable(value)) {
      errors.push_back(prefix + ": value for key " + shown + " contains unprintable characters");
    }
  }
  if (errors.empty()) return ok_status();
  std::string message = errors.front();
  for (std::size_t i = 1; i < errors.size(); ++i) message += "; " + errors[i];
  return invalid_argument(std::move(message));
}

// Secret paths reach the engine canonicalised by the HTTP layer; this is the engine's own
// guard, since its storage keys are built from them.
Status validate_secret_path(std::string_view path) {
  if (path.empty()) return invalid_argument("missing path");
  if (path.ends_with('/')) return invalid_argument("secret path must not end with '/'");
  std::size_t start = 0;
  while (true) {
    const std::size_t end = path.find('/', start);
    const std::string_view segment =
        end == std::string_view::npos ? path.substr(start) : path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return invalid_argument("invalid secret path");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// Responses.

api::Response not_found() { return api::Response::error(404, {}); }
api::Response bad_request(const Status& s) { return api::Response::error(s); }
api::Response unsupported_operation() {
  return api::Response::error(405, {"unsupported operation"});
}

api::Response with_warnings(int status, Json data, std::vector<std::string> warnings) {
  Json body = api::envelope(std::move(data));
  if (!warnings.empty()) body["warnings"] = std::move(warnings);
  return api::Response::json(status, std::move(body));
}

// Vault reports body fields its schema does not know when the endpoint answers with a body.
std::vector<std::string> ignored_parameters_warning(const Json& body,
                                                    std::initializer_list<std::string_view> known) {
  std::vector<std::string> ignored;
  if (body.is_object()) {
    for (const auto& [key, value] : body.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) ignored.push_back(key);
    }
  }
  if (ignored.empty()) return {};
  std::string text = "Endpoint ignored these unrecognized parameters: [";
  for (std::size_t i = 0; i < ignored.size(); ++i) text += (i ? " " : "") + ignored[i];
  return {text + "]"};
}

bool is_write(api::Operation op) {
  return op == api::Operation::kCreate || op == api::Operation::kUpdate;
}

// ---------------------------------------------------------------------------------------------
// Version bookkeeping, following Vault's KV v2 rules.

bool is_deleted(const VersionMetadata& v, Nanos now) { return v.deletion && *v.deletion <= now; }

// The deletion time a version created (or undeleted) at `base` gets: base plus the smaller
// non-zero delete_version_after of the mount and the key, or none.
std::optional<Nanos> scheduled_deletion(Nanos base, const EngineConfig& config,
                                        const KeyMetadata& meta) {
  if (config.delete_version_after == kDeleteVersionAfterDisabled) return std::nullopt;
  const std::int64_t mount = std::max<std::int64_t>(config.delete_version_after, 0);
  const std::int64_t key = meta.delete_version_after;
  if (mount == 0 && key == 0) return std::nullopt;
  std::int64_t seconds = key;
  if (seconds == 0 || (mount != 0 && mount < seconds)) seconds = mount;
  const std::int64_t delta = seconds * 1'000'000'000;  // fits: seconds <= kMaxDurationSeconds
  if (base > std::numeric_limits<Nanos>::max() - delta) return std::numeric_limits<Nanos>::max();
  return base + delta;
}

// Appends a version and slides the max_versions window. Returns the versions dropped from the
// table, whose data must be removed with the same batch.
std::vector<std::uint64_t> add_version(KeyMetadata& meta, VersionMetadata version,
                                       std::uint32_t config_max_versions) {
  meta.current_version += 1;
  meta.versions[meta.current_version] = version;
  meta.updated = version.created;
  std::uint32_t max_versions = std::max(meta.max_versions, config_max_versions);
  if (max_versions == 0) max_versions = kDefaultMaxVersions;
  std::vector<std::uint64_t> dropped;
  // Vault's window: oldest_version stays 0 until the table first fills, then tracks the
  // oldest kept version. Clients display it, so the rule is kept exactly.
  if (meta.current_version - meta.oldest_version >= max_versions) {
    const std::uint64_t last_dropped = meta.current_version - max_versions;
    for (auto it = meta.versions.begin(); it != meta.versions.end() && it->first <= last_dropped;) {
      dropped.push_back(it->first);
      it = meta.versions.erase(it);
    }
    meta.oldest_version = last_dropped + 1;
  }
  return dropped;
}

// Removes every value, keeping the key structure: leaves (non-objects and empty objects) and
// objects at `max_depth` become null. Depth 1 is the top level.
void strip_values(Json& object, std::int64_t depth, std::int64_t max_depth) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    Json& value = it.value();
    if (value.is_object() && !value.empty() && depth + 1 <= max_depth) {
      strip_values(value, depth + 1, max_depth);
    } else {
      value = nullptr;
    }
  }
}

// ---------------------------------------------------------------------------------------------

class KvV2Engine final : public SecretEngine {
 public:
  explicit KvV2Engine(EngineContext context)
      : context_(std::move(context)),
        storage_(*context_.storage),
        clock_(context_.clock != nullptr ? *context_.clock : system_clock()) {}

  api::Response handle(const api::Request& request) override {
    try {
      return route(request);
    } catch (const nlohmann::json::exception&) {
      // Stored entries are written by this engine; one that fails to decode is corrupt.
      return api::Response::error(internal_error("kv entry is corrupt"));
    }
  }

  // Vault's kv v2 existence check: data/ and metadata/ writes create when the
  // key has no metadata yet; config always exists.
  std::optional<bool> exists(const api::Request& request) override {
    const std::string& path = request.path;
    if (path == "config") return true;
    for (std::string_view head : {"data/", "metadata/"}) {
      if (path.starts_with(head)) {
        auto stored = storage_.get(meta_key(std::string_view(path).substr(head.size())));
        // On a storage error let the handler report it; treat as existing.
        return !stored || stored->has_value();
      }
    }
    return std::nullopt;
  }

 private:
  api::Response route(const api::Request& request) {
    const std::string& path = request.path;
    const auto slash = path.find('/');
    if (slash == std::string::npos) {
      if (path == "config") return handle_config(request);
      if (path == "data" || path == "metadata" || path == "delete" || path == "undelete" ||
          path == "destroy") {
        return invalid_path(request,
                            "Non-listing operations on the root of a K/V v2 mount are not "
                            "supported.");
      }
      return invalid_path(request, {});
    }
    const std::string_view head = std::string_view(path).substr(0, slash);
    const std::string key = path.substr(slash + 1);
    if (head == "data") {
      // Vault's data pattern needs a non-empty path without a trailing slash.
      if (key.empty() || key.ends_with('/')) return invalid_path(request, {});
      return handle_data(key, request);
    }
    if (head == "metadata") return handle_metadata(key, request);
    if (head == "subkeys") {
      if (request.operation != api::Operation::kRead) return unsupported_operation();
      return subkeys_read(key, request);
    }
    if (head == "delete" || head == "undelete" || head == "destroy") {
      if (!is_write(request.operation)) return unsupported_operation();
      return versions_update(head, key, request);
    }
    return invalid_path(request, {});
  }

  // Vault's catch-all: 404 with a warning pointing at the versioned API.
  static api::Response invalid_path(const api::Request& request, std::string warning) {
    std::string_view sub;
    switch (request.operation) {
      case api::Operation::kCreate:
      case api::Operation::kUpdate:
        sub = "put";
        break;
      case api::Operation::kPatch:
        sub = "patch";
        break;
      case api::Operation::kRead:
        sub = "get";
        break;
      case api::Operation::kList:
        sub = "list";
        break;
      case api::Operation::kDelete:
        sub = "delete";
        break;
      default:
        return unsupported_operation();
    }
    if (warning.empty()) {
      warning =
          "Invalid path for a versioned K/V secrets engine. See the API docs for the "
          "appropriate API endpoints to use. If using the Vault CLI, use 'vault kv " +
          std::string(sub) + "' for this operation.";
    }
    return with_warnings(404, nullptr, {std::move(warning)});
  }

  // -- config ---------------------------------------------------------------------------------

  api::Response handle_config(const api::Request& request) {
    if (request.operation == api::Operation::kRead) {
      auto config = load_config();
      if (!config) return api::Response::error(config.error());
      return api::Response::json(
          200,
          api::envelope({{"max_versions", config->max_versions},
                         {"cas_required", config->cas_required},
                         {"delete_version_after", go_duration(config->delete_version_after)}}));
    }
    if (!is_write(request.operation)) return unsupported_operation();
    const auto& body = request.body;
    auto max_versions = max_versions_field(body);
    if (!max_versions) return bad_request(max_versions.error());
    auto cas_required = bool_field(body, "cas_required");
    if (!cas_required) return bad_request(cas_required.error());
    auto delete_after = duration_field(body, "delete_version_after", /*allow_negative=*/true);
    if (!delete_after) return bad_request(delete_after.error());
    if (!*max_versions && !*cas_required && !*delete_after) return api::Response::no_content();

    std::lock_guard lock(config_mutex_);
    auto config = load_config_locked();
    if (!config) return api::Response::error(config.error());
    EngineConfig updated = *config;
    if (*max_versions) updated.max_versions = **max_versions;
    if (*cas_required) updated.cas_required = **cas_required;
    if (*delete_after) {
      updated.delete_version_after =
          **delete_after < 0 ? kDeleteVersionAfterDisabled : **delete_after;
    }
    if (Status s = storage_.put(kConfigKey, config_to_json(updated).dump()); !s.ok()) {
      return api::Response::error(s);
    }
    config_ = updated;
    return api::Response::no_content();
  }

  Result<EngineConfig> load_config() {
    std::lock_guard lock(config_mutex_);
    return load_config_locked();
  }

  // Only this engine writes its config, so the cached copy stays exact once loaded.
  Result<EngineConfig> load_config_locked() {
    if (config_) return *config_;
    COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(kConfigKey));
    EngineConfig config;
    if (stored) {
      auto parsed = Json::parse(*stored, nullptr, false);
      if (parsed.is_discarded()) return fail(internal_error("kv config is corrupt"));
      config = config_from_json(parsed);
    }
    config_ = config;
    return config;
  }

  // -- metadata storage ---------------------------------------------------------------------

  Result<std::optional<KeyMetadata>> load_metadata(std::string_view path) {
    COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(meta_key(path)));
    if (!stored) return std::optional<KeyMetadata>();
    auto parsed = Json::parse(*stored, nullptr, false);
    if (parsed.is_discarded()) return fail(internal_error("kv metadata is corrupt"));
    return std::optional<KeyMetadata>(metadata_from_json(parsed));
  }

  // Parsed metadata for reads, so a read does not decrypt and parse the version
  // table every time. Every writer of a path erases its entry while holding the
  // path's exclusive lock, and readers fill it only under the shared lock, so a
  // cached table is never older than the last completed write. Bounded.
  Result<std::shared_ptr<const KeyMetadata>> load_metadata_cached(const std::string& path) {
    {
      std::shared_lock lock(metadata_cache_mutex_);
      if (auto it = metadata_cache_.find(path); it != metadata_cache_.end()) return it->second;
    }
    COFFER_ASSIGN_OR_RETURN(auto loaded, load_metadata(path));
    if (!loaded) return std::shared_ptr<const KeyMetadata>();
    auto shared = std::make_shared<const KeyMetadata>(std::move(*loaded));
    std::unique_lock lock(metadata_cache_mutex_);
    if (metadata_cache_.size() >= kMetadataCacheLimit) metadata_cache_.clear();
    metadata_cache_.insert_or_assign(path, shared);
    return shared;
  }

  void forget_metadata(const std::string& path) {
    std::unique_lock lock(metadata_cache_mutex_);
    metadata_cache_.erase(path);
  }

  Result<Json> load_version_data(std::string_view path, std::uint64_t version) {
    COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(version_key(path, version)));
    if (!stored) return fail(internal_error("could not find version data"));
    auto parsed = Json::parse(*stored, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return fail(internal_error("kv version data is corrupt"));
    }
    return parsed;
  }

  std::shared_mutex& lock_for(std::string_view path) {
    return locks_[std::hash<std::string_view>{}(path) % kLockStripes];
  }

  Nanos now() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
        .count();
  }

  // -- data/<path> ----------------------------------------------------------------------------

  api::Response handle_data(const std::string& path, const api::Request& request) {
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);
    switch (request.operation) {
      case api::Operation::kRead:
        return data_read(path, request);
      case api::Operation::kCreate:
      case api::Operation::kUpdate:
        return data_write(path, request, /*patch=*/false);
      case api::Operation::kPatch:
        return data_write(path, request, /*patch=*/true);
      case api::Operation::kDelete:
        return data_delete(path);
      default:
        return unsupported_operation();
    }
  }

  api::Response data_read(const std::string& path, const api::Request& request) {
    auto requested = query_integer(request, "version");
    if (!requested) return bad_request(requested.error());
    // The stored version is the data object as JSON text already.
    return read_version(path, *requested, "data",
                        [](std::string stored) -> Result<std::string> { return stored; });
  }

  // Version `requested` (0 = the current one) of `path`, as data/ and subkeys/ show it:
  // 404 for an absent version, 404 with the metadata for a deleted or destroyed one (as
  // Vault does), else the stored data (JSON text) passed through `shape` under `field`. The
  // answer is rendered as text: the read hot path never parses the stored data.
  template <typename Shape>
  api::Response read_version(const std::string& path, std::int64_t requested_version,
                             const char* field, Shape&& shape) {
    std::shared_lock lock(lock_for(path));
    auto meta = load_metadata_cached(path);
    if (!meta) return api::Response::error(meta.error());
    if (!*meta) return not_found();
    const std::uint64_t number = requested_version > 0
                                     ? static_cast<std::uint64_t>(requested_version)
                                     : (*meta)->current_version;
    auto it = (*meta)->versions.find(number);
    if (it == (*meta)->versions.end()) return not_found();
    const std::string metadata = version_metadata_text(number, it->second, **meta);
    const bool gone = it->second.destroyed || is_deleted(it->second, now());
    std::string value = "null";
    if (!gone) {
      auto stored = storage_.get(version_key(path, number));
      if (!stored) return api::Response::error(stored.error());
      if (!*stored) return api::Response::error(internal_error("could not find version data"));
      auto shaped = shape(std::move(**stored));
      if (!shaped) return api::Response::error(shaped.error());
      value = std::move(*shaped);
    }
    // {"<field>": value, "metadata": {...}} in the key order the JSON renderer would use.
    std::string data;
    data.reserve(value.size() + metadata.size() + 32);
    const bool field_first = std::string_view(field) < "metadata";
    data.append("{");
    auto add = [&data](std::string_view key, std::string_view json) {
      if (data.size() > 1) data.append(",");
      data.append("\"").append(key).append("\":").append(json);
    };
    if (field_first) add(field, value);
    add("metadata", metadata);
    if (!field_first) add(field, value);
    data.append("}");
    return api::Response::json_text(gone ? 404 : 200, api::envelope_text(data));
  }

  // Create/update (a new version from `data`) and patch (a new version from the latest live
  // version merge-patched with `data`). Check and write happen under the path's lock.
  api::Response data_write(const std::string& path, const api::Request& request, bool patch) {
    const auto& body = request.body;
    const Json* data = field(body, "data");
    if (data == nullptr) return bad_request(invalid_argument("no data provided"));
    if (!data->is_object())
      return bad_request(invalid_argument("field \"data\" must be a JSON object"));
    const Json* options = field(body, "options");
    if (options != nullptr && !options->is_object()) {
      return bad_request(invalid_argument("field \"options\" must be a JSON object"));
    }
    auto config = load_config();
    if (!config) return api::Response::error(config.error());

    std::unique_lock lock(lock_for(path));
    forget_metadata(path);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    if (patch && !*loaded) return not_found();
    const Nanos created = now();
    KeyMetadata meta;
    if (*loaded) {
      meta = std::move(**loaded);
    } else {
      meta.created = created;
    }
    if (Status s = check_cas(options, *config, meta); !s.ok()) return bad_request(s);

    Json new_data;
    if (patch) {
      auto current = meta.versions.find(meta.current_version);
      if (current == meta.versions.end()) return not_found();
      if (current->second.destroyed || is_deleted(current->second, created)) {
        // Vault answers a patch of a deleted latest version with its metadata, unnested.
        return api::Response::json(
            404, api::envelope(version_metadata_json(meta.current_version, current->second, meta)));
      }
      auto stored = load_version_data(path, meta.current_version);
      if (!stored) return api::Response::error(stored.error());
      new_data = std::move(*stored);
      new_data.merge_patch(*data);
    } else {
      new_data = *data;
    }

    VersionMetadata version;
    version.created = created;
    version.deletion = scheduled_deletion(created, *config, meta);
    const auto dropped = add_version(meta, version, config->max_versions);
    std::vector<storage::WriteOp> batch;
    batch.push_back(
        storage::WriteOp::put(version_key(path, meta.current_version), new_data.dump()));
    batch.push_back(storage::WriteOp::put(meta_key(path), metadata_to_json(meta).dump()));
    for (std::uint64_t old : dropped)
      batch.push_back(storage::WriteOp::remove(version_key(path, old)));
    if (Status s = storage_.write_batch(batch); !s.ok()) return api::Response::error(s);

    Json response = version_metadata_json(meta.current_version, version, meta);
    return with_warnings(200, std::move(response),
                         ignored_parameters_warning(body, {"data", "options", "version", "path"}));
  }

  static Status check_cas(const Json* options, const EngineConfig& config,
                          const KeyMetadata& meta) {
    const Json* cas = options != nullptr ? field(*options, "cas") : nullptr;
    if (cas != nullptr) {
      auto expected = as_integer(*cas);
      if (!expected) return invalid_argument("error parsing check-and-set parameter");
      if (*expected < 0 || static_cast<std::uint64_t>(*expected) != meta.current_version) {
        return invalid_argument("check-and-set parameter did not match the current version");
      }
      return ok_status();
    }
    if (config.cas_required || meta.cas_required) {
      return invalid_argument("check-and-set parameter required for this call");
    }
    return ok_status();
  }

  api::Response data_delete(const std::string& path) {
    std::unique_lock lock(lock_for(path));
    forget_metadata(path);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    if (!*loaded) return api::Response::no_content();
    KeyMetadata& meta = **loaded;
    auto latest = meta.versions.find(meta.current_version);
    const Nanos t = now();
    if (latest == meta.versions.end() || latest->second.destroyed ||
        is_deleted(latest->second, t)) {
      return api::Response::no_content();
    }
    latest->second.deletion = t;
    if (Status s = storage_.put(meta_key(path), metadata_to_json(meta).dump()); !s.ok()) {
      return api::Response::error(s);
    }
    return api::Response::no_content();
  }

  // -- delete/ undelete/ destroy/ ---------------------------------------------------------------

  api::Response versions_update(std::string_view action, const std::string& path,
                                const api::Request& request) {
    auto versions = versions_field(request.body);
    if (!versions) return bad_request(versions.error());
    if (versions->empty()) {
      // Vault's own spelling differs between the endpoints.
      return bad_request(invalid_argument(action == "destroy" ? "no version number provided"
                                                              : "No version number provided"));
    }
    if (path.empty()) return api::Response::no_content();
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);
    EngineConfig config;
    if (action == "undelete") {
      auto loaded_config = load_config();
      if (!loaded_config) return api::Response::error(loaded_config.error());
      config = *loaded_config;
    }

    std::unique_lock lock(lock_for(path));
    forget_metadata(path);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    if (!*loaded) return api::Response::no_content();
    KeyMetadata& meta = **loaded;
    const Nanos t = now();
    std::vector<storage::WriteOp> batch;
    for (std::int64_t number : *versions) {
      if (number <= 0) continue;
      auto it = meta.versions.find(static_cast<std::uint64_t>(number));
      if (it == meta.versions.end() || it->second.destroyed) continue;
      VersionMetadata& v = it->second;
      if (action == "delete") {
        if (!is_deleted(v, t)) v.deletion = t;
      } else if (action == "undelete") {
        // An undeleted version starts a fresh delete_version_after period, as in Vault.
        v.deletion = scheduled_deletion(t, config, meta);
      } else {
        v.destroyed = true;
        batch.push_back(storage::WriteOp::remove(version_key(path, it->first)));
      }
    }
    batch.push_back(storage::WriteOp::put(meta_key(path), metadata_to_json(meta).dump()));
    if (Status s = storage_.write_batch(batch); !s.ok()) return api::Response::error(s);
    return api::Response::no_content();
  }

  // -- metadata/<path> ------------------------------------------------------------------------

  api::Response handle_metadata(const std::string& path, const api::Request& request) {
    switch (request.operation) {
      case api::Operation::kList:
        return metadata_list(path);
      case api::Operation::kRead:
        return metadata_read(path);
      case api::Operation::kCreate:
      case api::Operation::kUpdate:
        return metadata_write(path, request, /*patch=*/false);
      case api::Operation::kPatch:
        return metadata_write(path, request, /*patch=*/true);
      case api::Operation::kDelete:
        return metadata_delete(path);
      default:
        return unsupported_operation();
    }
  }

  api::Response metadata_list(std::string path) {
    if (!path.empty() && !path.ends_with('/')) path.push_back('/');
    if (!path.empty()) {
      if (Status s = validate_secret_path(path.substr(0, path.size() - 1)); !s.ok()) {
        return bad_request(s);
      }
    }
    auto keys = storage_.list(meta_key(path));
    if (!keys) return api::Response::error(keys.error());
    if (keys->empty()) return not_found();
    return api::Response::json(200, api::envelope({{"keys", *keys}}));
  }

  api::Response metadata_read(const std::string& path) {
    if (path.empty() || path.ends_with('/')) return not_found();
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    if (!*loaded) return not_found();
    const KeyMetadata& meta = **loaded;
    Json versions = Json::object();
    for (const auto& [number, v] : meta.versions) {
      versions[std::to_string(number)] = {{"created_time", rfc3339_nano(v.created)},
                                          {"deletion_time", optional_time(v.deletion)},
                                          {"destroyed", v.destroyed}};
    }
    return api::Response::json(
        200, api::envelope({{"versions", std::move(versions)},
                            {"current_version", meta.current_version},
                            {"oldest_version", meta.oldest_version},
                            {"created_time", rfc3339_nano(meta.created)},
                            {"updated_time", rfc3339_nano(meta.updated)},
                            {"max_versions", meta.max_versions},
                            {"cas_required", meta.cas_required},
                            {"delete_version_after", go_duration(meta.delete_version_after)},
                            {"custom_metadata", custom_metadata_json(meta)}}));
  }

  // POST replaces the given settings (custom_metadata as a whole) and creates the metadata if
  // needed; PATCH needs existing metadata and merges custom_metadata (null removes a key).
  api::Response metadata_write(const std::string& path, const api::Request& request, bool patch) {
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);
    const auto& body = request.body;
    auto max_versions = max_versions_field(body);
    if (!max_versions) return bad_request(max_versions.error());
    auto cas_required = bool_field(body, "cas_required");
    if (!cas_required) return bad_request(cas_required.error());
    auto delete_after = duration_field(body, "delete_version_after", /*allow_negative=*/false);
    if (!delete_after) return bad_request(delete_after.error());
    auto custom = custom_metadata_field(body);
    if (!custom) return bad_request(custom.error());
    const bool custom_given = field(body, "custom_metadata") != nullptr;
    if (!patch && !*max_versions && !*cas_required && !*delete_after && !custom_given) {
      return api::Response::no_content();
    }
    std::map<std::string, std::string> replacement;
    if (custom_given && !patch) {
      for (const auto& [key, value] : *custom) {
        if (value) replacement[key] = *value;
      }
      if (Status s = validate_custom_metadata(replacement); !s.ok()) return bad_request(s);
    }
    auto config = load_config();
    if (!config) return api::Response::error(config.error());

    std::unique_lock lock(lock_for(path));
    forget_metadata(path);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    KeyMetadata meta;
    if (*loaded) {
      meta = std::move(**loaded);
    } else if (patch) {
      return not_found();
    } else {
      meta.created = meta.updated = now();
    }
    if (*max_versions) meta.max_versions = **max_versions;
    if (*cas_required) meta.cas_required = **cas_required;
    if (*delete_after) meta.delete_version_after = **delete_after;
    if (custom_given) {
      if (patch) {
        for (const auto& [key, value] : *custom) {
          if (value) {
            meta.custom_metadata[key] = *value;
          } else {
            meta.custom_metadata.erase(key);
          }
        }
        // Checked on the merged result, so a patch cannot grow the map past the limits.
        if (Status s = validate_custom_metadata(meta.custom_metadata); !s.ok()) {
          return bad_request(s);
        }
      } else {
        meta.custom_metadata = std::move(replacement);
      }
    }
    if (Status s = storage_.put(meta_key(path), metadata_to_json(meta).dump()); !s.ok()) {
      return api::Response::error(s);
    }
    if (*cas_required && !**cas_required && config->cas_required) {
      return with_warnings(200, nullptr,
                           {"\"cas_required\" set to false, but is mandated by backend config. "
                            "This value will be ignored."});
    }
    return api::Response::no_content();
  }

  api::Response metadata_delete(const std::string& path) {
    if (path.empty() || path.ends_with('/')) return api::Response::no_content();
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);
    std::unique_lock lock(lock_for(path));
    forget_metadata(path);
    auto loaded = load_metadata(path);
    if (!loaded) return api::Response::error(loaded.error());
    if (!*loaded) return api::Response::no_content();
    std::vector<storage::WriteOp> batch;
    for (const auto& [number, v] : (*loaded)->versions) {
      batch.push_back(storage::WriteOp::remove(version_key(path, number)));
    }
    batch.push_back(storage::WriteOp::remove(meta_key(path)));
    if (Status s = storage_.write_batch(batch); !s.ok()) return api::Response::error(s);
    return api::Response::no_content();
  }

  // -- subkeys/<path> -------------------------------------------------------------------------

  api::Response subkeys_read(const std::string& path, const api::Request& request) {
    auto requested = query_integer(request, "version");
    if (!requested) return bad_request(requested.error());
    auto depth = query_integer(request, "depth");
    if (!depth) return bad_request(depth.error());
    if (*depth < 0) return bad_request(invalid_argument("depth must be a non-negative integer"));
    if (path.empty() || path.ends_with('/')) return not_found();
    if (Status s = validate_secret_path(path); !s.ok()) return bad_request(s);

    const std::int64_t max_depth =
        *depth == 0 ? kMaxSubkeysDepth : std::min<std::int64_t>(*depth, kMaxSubkeysDepth);
    return read_version(path, *requested, "subkeys",
                        [max_depth](std::string stored) -> Result<std::string> {
                          auto parsed = Json::parse(stored, nullptr, false);
                          if (parsed.is_discarded() || !parsed.is_object()) {
                            return fail(internal_error("kv version data is corrupt"));
                          }
                          strip_values(parsed, 1, max_depth);
                          return parsed.dump();
                        });
  }

  const EngineContext context_;
  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  std::mutex config_mutex_;
  std::optional<EngineConfig> config_;  // guarded by config_mutex_; a copy of `config`
  std::array<std::shared_mutex, kLockStripes> locks_;  // per-path, striped
  static constexpr std::size_t kMetadataCacheLimit = 10000;
  std::shared_mutex metadata_cache_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const KeyMetadata>> metadata_cache_;
};

}  // namespace

Status upgrade_v1_data_to_v2(barrier::LogicalStorage& view, const Clock& clock) {
  std::vector<std::pair<std::string, std::string>> entries;
  COFFER_TRY(view.scan("", [&](std::string_view key, std::string_view value) {
    entries.emplace_back(key, value);
    return true;
  }));
  const Nanos created =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch()).count();
  // Removes first, then puts: a v1 key that looks like a v2 key ("meta/x")
  // must not delete what the upgrade writes.
  std::vector<storage::WriteOp> batch;
  for (const auto& [key, value] : entries) batch.push_back(storage::WriteOp::remove(key));
  for (const auto& [key, value] : entries) {
    KeyMetadata meta;
    meta.created = created;
    meta.updated = created;
    meta.current_version = 1;
    meta.versions[1] = VersionMetadata{created, std::nullopt, false};
    batch.push_back(storage::WriteOp::put(version_key(key, 1), value));
    batch.push_back(storage::WriteOp::put(meta_key(key), metadata_to_json(meta).dump()));
  }
  if (batch.empty()) return ok_status();
  return view.write_batch(batch);
}

Result<std::unique_ptr<SecretEngine>> make_kv_v2_engine(EngineContext context,
                                                        const nlohmann::json&) {
  if (context.storage == nullptr) return fail(internal_error("kv engine has no storage view"));
  return std::unique_ptr<SecretEngine>(std::make_unique<KvV2Engine>(std::move(context)));
}

}  // namespace coffer::engines::kv
