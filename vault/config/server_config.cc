#include "vault/config/server_config.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "vault/base/duration.h"
#include "vault/config/hcl.h"

namespace coffer::config {
namespace {

constexpr std::size_t kMaxConfigFileBytes = 4u << 20;

using Kind = HclValue::Kind;

// Where a key sits, for messages: "" at top level, ` in listener "tcp"` inside a block.
struct Scope {
  std::string_view source;
  std::string where;

  Status error(int line, std::string_view what) const {
    std::string prefix(source);
    if (line > 0) prefix += ":" + std::to_string(line);
    return invalid_argument(prefix + ": " + std::string(what));
  }
  // `"key" in listener "tcp"` / `"key"`
  std::string name(std::string_view key) const { return "\"" + std::string(key) + "\"" + where; }
  Status wrong_type(const HclMember& m, std::string_view expected) const {
    return error(m.value.line > 0 ? m.value.line : m.line, name(m.key) + " must be " +
                                                               std::string(expected) + ", not " +
                                                               std::string(m.value.kind_name()));
  }
};

// Rejects a key seen twice in one block; later values silently winning hides typos.
class SeenKeys {
 public:
  Status add(const Scope& scope, const HclMember& m) {
    const auto [it, inserted] = lines_.emplace(m.key, m.line);
    if (inserted) return ok_status();
    return scope.error(m.line, "duplicate key " + scope.name(m.key) + " (first set at line " +
                                   std::to_string(it->second) + ")");
  }

 private:
  std::map<std::string, int> lines_;
};

Result<std::string> get_string(const Scope& scope, const HclMember& m) {
  if (m.value.kind != Kind::kString) return fail(scope.wrong_type(m, "a string"));
  return m.value.string;
}

Result<bool> get_bool(const Scope& scope, const HclMember& m) {
  const HclValue& v = m.value;
  if (v.kind == Kind::kBool) return v.boolean;
  if (v.kind == Kind::kString && (v.string == "true" || v.string == "false"))
    return v.string == "true";
  if (v.kind == Kind::kInteger && (v.integer == 0 || v.integer == 1)) return v.integer == 1;
  return fail(scope.error(v.line, scope.name(m.key) + " must be true or false"));
}

// A whole number in [1, max].
Result<std::uint64_t> get_positive(const Scope& scope, const HclMember& m, std::uint64_t max) {
  const HclValue& v = m.value;
  if (v.kind == Kind::kFloat)
    return fail(scope.error(v.line, scope.name(m.key) + " must be a whole number"));
  if (v.kind != Kind::kInteger) return fail(scope.wrong_type(m, "a number"));
  if (v.integer <= 0)
    return fail(scope.error(v.line, scope.name(m.key) + " must be greater than 0"));
  if (static_cast<std::uint64_t>(v.integer) > max) {
    return fail(scope.error(v.line, scope.name(m.key) + " must be at most " + std::to_string(max)));
  }
  return static_cast<std::uint64_t>(v.integer);
}

// A number of seconds or a duration string.
Result<std::chrono::seconds> get_duration(const Scope& scope, const HclMember& m) {
  const HclValue& v = m.value;
  if (v.kind == Kind::kFloat) {
    return fail(scope.error(
        v.line, scope.name(m.key) + " must be whole seconds or a duration string like \"90s\""));
  }
  if (v.kind != Kind::kInteger && v.kind != Kind::kString) {
    return fail(scope.wrong_type(m, "a duration such as \"30s\" or a number of seconds"));
  }
  // An integer goes through the same parser so negatives and overflow get the same checks.
  Result<std::chrono::seconds> parsed =
      parse_duration(v.kind == Kind::kInteger ? std::to_string(v.integer) : v.string);
  if (!parsed) {
    return fail(scope.error(v.line, scope.name(m.key) + ": " + parsed.error().message()));
  }
  return parsed;
}

Result<std::string> get_one_of(const Scope& scope, const HclMember& m,
                               std::span<const std::string_view> allowed) {
  COFFER_ASSIGN_OR_RETURN(std::string value, get_string(scope, m));
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  // The value is one short word from a fixed vocabulary, not a secret, so it helps to show it.
  return fail(scope.error(m.value.line, scope.name(m.key) + " must be one of " + list + ", not \"" +
                                            value.substr(0, 32) + "\""));
}

// One `kind "type" { body }` block, whichever syntax spelled it.
struct Block {
  std::string type;
  const HclValue* body;
  int line;
};

// Gathers blocks from a `storage`/`listener` member. Accepted shapes (HCL and JSON alike):
//   {type: {body}}, {type: [{body}, ...]}, [{type: {body}}, ...]
Status collect_blocks(const Scope& scope, const HclMember& m, std::vector<Block>& out) {
  const std::string example = m.key + " \"<type>\" { ... }";
  auto add_typed = [&](const HclMember& typed) -> Status {
    if (typed.value.kind == Kind::kObject) {
      out.push_back(Block{typed.key, &typed.value, typed.line});
      return ok_status();
    }
    if (typed.value.kind == Kind::kList) {
      for (const HclValue& body : typed.value.list) {
        if (body.kind != Kind::kObject) {
          return scope.error(body.line, "each " + m.key + " \"" + typed.key + "\" must be a block");
        }
        out.push_back(Block{typed.key, &body, body.line});
      }
      return ok_status();
    }
    // In HCL this is usually `storage { path = ... }`, i.e. a forgotten type label.
    return scope.error(typed.line, m.key + " \"" + typed.key + "\" must be a block (is the " +
                                       m.key + " type label missing?); write " + example);
  };
  auto add_object = [&](const HclValue& object) -> Status {
    if (object.members.empty()) {
      return scope.error(object.line > 0 ? object.line : m.line,
                         m.key + " block is missing its type label; write " + example);
    }
    for (const HclMember& typed : object.members) COFFER_TRY(add_typed(typed));
    return ok_status();
  };
  if (m.value.kind == Kind::kObject) return add_object(m.value);
  if (m.value.kind == Kind::kList) {
    for (const HclValue& item : m.value.list) {
      if (item.kind != Kind::kObject)
        return scope.error(item.line, "\"" + m.key + "\" must be written as " + example);
      COFFER_TRY(add_object(item));
    }
    return ok_status();
  }
  return scope.error(m.line, "\"" + m.key + "\" must be written as " + example);
}

std::string block_where(std::string_view kind, std::string_view type) {
  return " in " + std::string(kind) + " \"" + std::string(type) + "\"";
}

Result<StorageConfig> parse_storage(std::string_view source, const Block& block) {
  const Scope scope{source, block_where("storage", block.type)};
  if (block.type != "rocksdb" && block.type != "inmem") {
    return fail(scope.error(block.line, "unknown storage type \"" + block.type.substr(0, 32) +
                                            "\" (supported: rocksdb, inmem)"));
  }
  StorageConfig storage;
  storage.type = block.type;
  storage.line = block.line;
  SeenKeys seen;
  for (const HclMember& m : block.body->members) {
    COFFER_TRY(seen.add(scope, m));
    if (m.key == "path" && storage.type == "rocksdb") {
      COFFER_ASSIGN_OR_RETURN(storage.path, get_string(scope, m));
      if (storage.path.empty())
        return fail(scope.error(m.value.line, scope.name("path") + " must not be empty"));
    } else {
      return fail(scope.error(m.line, "unknown key " + scope.name(m.key)));
    }
  }
  if (storage.type == "rocksdb" && storage.path.empty()) {
    return fail(
        scope.error(block.line, "storage \"rocksdb\" needs \"path\" (the database directory)"));
  }
  return storage;
}

Result<ListenerConfig> parse_listener(std::string_view source, const Block& block) {
  const Scope scope{source, block_where("listener", block.type)};
  if (block.type != "tcp") {
    return fail(scope.error(block.line, "unsupported listener type \"" + block.type.substr(0, 32) +
                                            "\" (only \"tcp\" is supported)"));
  }
  static constexpr std::array<std::string_view, 2> kTlsVersions = {"tls12", "tls13"};
  ListenerConfig l;
  l.line = block.line;
  SeenKeys seen;
  for (const HclMember& m : block.body->members) {
    COFFER_TRY(seen.add(scope, m));
    const std::string& k = m.key;
    if (k == "address") {
      COFFER_ASSIGN_OR_RETURN(l.address, get_string(scope, m));
      if (l.address.empty())
        return fail(scope.error(m.value.line, scope.name(k) + " must not be empty"));
    } else if (k == "tls_cert_file") {
      COFFER_ASSIGN_OR_RETURN(l.tls_cert_file, get_string(scope, m));
    } else if (k == "tls_key_file") {
      COFFER_ASSIGN_OR_RETURN(l.tls_key_file, get_string(scope, m));
    } else if (k == "tls_client_ca_file") {
      COFFER_ASSIGN_OR_RETURN(l.tls_client_ca_file, get_string(scope, m));
    } else if (k == "tls_min_version") {
      if (m.value.is_string() && (m.value.string == "tls10" || m.value.string == "tls11")) {
        return fail(scope.error(
            m.value.line,
            scope.name(k) +
                ": TLS 1.0 and 1.1 are insecure and not supported; use tls12 or tls13"));
      }
      COFFER_ASSIGN_OR_RETURN(l.tls_min_version, get_one_of(scope, m, kTlsVersions));
    } else if (k == "tls_disable") {
      COFFER_ASSIGN_OR_RETURN(l.tls_disable, get_bool(scope, m));
    } else if (k == "tls_require_and_verify_client_cert") {
      COFFER_ASSIGN_OR_RETURN(l.tls_require_and_verify_client_cert, get_bool(scope, m));
    } else if (k == "max_request_size") {
      COFFER_ASSIGN_OR_RETURN(l.max_request_size,
                              get_positive(scope, m, std::numeric_limits<std::int64_t>::max()));
    } else if (k == "http_read_header_timeout") {
      COFFER_ASSIGN_OR_RETURN(l.http_read_header_timeout, get_duration(scope, m));
    } else if (k == "http_read_timeout") {
      COFFER_ASSIGN_OR_RETURN(l.http_read_timeout, get_duration(scope, m));
    } else if (k == "http_idle_timeout") {
      COFFER_ASSIGN_OR_RETURN(l.http_idle_timeout, get_duration(scope, m));
    } else if (k == "max_json_depth") {
      COFFER_ASSIGN_OR_RETURN(l.max_json_depth,
                              get_positive(scope, m, std::numeric_limits<std::uint32_t>::max()));
    } else if (k == "max_json_strings") {
      COFFER_ASSIGN_OR_RETURN(l.max_json_strings,
                              get_positive(scope, m, std::numeric_limits<std::uint32_t>::max()));
    } else {
      return fail(scope.error(m.line, "unknown key " + scope.name(k)));
    }
  }
  if (!l.tls_disable) {
    std::string missing;
    if (l.tls_cert_file.empty()) missing = "\"tls_cert_file\"";
    if (l.tls_key_file.empty())
      missing += std::string(missing.empty() ? "" : " and ") + "\"tls_key_file\"";
    if (!missing.empty()) {
      return fail(scope.error(l.line, "listener \"tcp\" on " + l.address +
                                          " serves TLS and needs " + missing +
                                          " (set tls_disable = true to serve plain HTTP)"));
    }
  } else if (l.tls_require_and_verify_client_cert) {
    // Refuse rather than ignore: the operator believes clients are authenticated by certificate.
    return fail(scope.error(l.line, "\"tls_require_and_verify_client_cert\"" + scope.where +
                                        " needs TLS, but \"tls_disable\" is true"));
  }
  return l;
}

}  // namespace

Result<ServerConfig> parse_server_config(std::string_view text, std::string_view source_name) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // editors on Windows add a BOM
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  const bool is_json = first != std::string_view::npos && text[first] == '{';
  COFFER_ASSIGN_OR_RETURN(HclValue root, is_json ? parse_json_with_lines(text, source_name)
                                                 : parse_hcl(text, source_name));

  const Scope top{source_name, ""};
  if (root.kind != Kind::kObject)
    return fail(top.error(root.line, "the configuration must be an object"));

  static constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn",
                                                                 "error"};
  ServerConfig config;
  std::vector<Block> storage_blocks, listener_blocks;
  std::optional<int> default_ttl_line;
  int max_ttl_line = 0;
  SeenKeys seen;
  for (const HclMember& m : root.members) {
    const std::string& k = m.key;
    // Repeated storage blocks get their own, clearer message below.
    if (k != "listener" && k != "storage") COFFER_TRY(seen.add(top, m));
    if (k == "storage") {
      COFFER_TRY(collect_blocks(top, m, storage_blocks));
    } else if (k == "listener") {
      COFFER_TRY(collect_blocks(top, m, listener_blocks));
    } else if (k == "api_addr") {
      COFFER_ASSIGN_OR_RETURN(config.api_addr, get_string(top, m));
    } else if (k == "cluster_addr" || k == "cluster_name") {
      COFFER_TRY(get_string(top, m));  // accepted for Vault compatibility; Coffer does not cluster
    } else if (k == "ui") {
      COFFER_TRY(get_bool(top, m));  // accepted for Vault compatibility; there is no web UI
    } else if (k == "disable_mlock") {
      COFFER_ASSIGN_OR_RETURN(config.disable_mlock, get_bool(top, m));
    } else if (k == "unsafe_allow_api_audit_creation") {
      COFFER_ASSIGN_OR_RETURN(config.unsafe_allow_api_audit_creation, get_bool(top, m));
    } else if (k == "default_lease_ttl") {
      COFFER_ASSIGN_OR_RETURN(config.default_lease_ttl, get_duration(top, m));
      default_ttl_line = m.line;
    } else if (k == "max_lease_ttl") {
      COFFER_ASSIGN_OR_RETURN(config.max_lease_ttl, get_duration(top, m));
      max_ttl_line = m.line;
    } else if (k == "log_level") {
      COFFER_ASSIGN_OR_RETURN(config.log_level, get_one_of(top, m, kLogLevels));
    } else {
      return fail(top.error(m.line, "unknown key \"" + k + "\""));
    }
  }

  if (storage_blocks.empty()) {
    return fail(
        top.error(0, "a storage block is required, e.g. storage \"rocksdb\" { path = \"...\" }"));
  }
  if (storage_blocks.size() > 1) {
    return fail(
        top.error(storage_blocks[1].line, "only one storage block is allowed (another is at line " +
                                              std::to_string(storage_blocks[0].line) + ")"));
  }
  COFFER_ASSIGN_OR_RETURN(config.storage, parse_storage(source_name, storage_blocks[0]));

  if (listener_blocks.empty()) {
    return fail(
        top.error(0, "at least one listener block is required, e.g. listener \"tcp\" { ... }"));
  }
  for (const Block& block : listener_blocks) {
    COFFER_ASSIGN_OR_RETURN(ListenerConfig listener, parse_listener(source_name, block));
    for (const ListenerConfig& earlier : config.listeners) {
      if (earlier.address == listener.address) {
        return fail(top.error(listener.line, "listener \"tcp\" uses address " + listener.address +
                                                 ", already used by the listener at line " +
                                                 std::to_string(earlier.line)));
      }
    }
    config.listeners.push_back(std::move(listener));
  }

  // Vault treats a zero TTL as "use the default".
  constexpr std::chrono::seconds kDefaultTtl = std::chrono::hours{768};
  if (config.max_lease_ttl == std::chrono::seconds::zero()) config.max_lease_ttl = kDefaultTtl;
  if (config.default_lease_ttl == std::chrono::seconds::zero()) default_ttl_line.reset();
  if (!default_ttl_line) {
    config.default_lease_ttl = std::min(kDefaultTtl, config.max_lease_ttl);
  } else if (config.default_lease_ttl > config.max_lease_ttl) {
    return fail(top.error(
        *default_ttl_line,
        "\"default_lease_ttl\" (" + format_duration(config.default_lease_ttl) +
            ") is longer than \"max_lease_ttl\" (" + format_duration(config.max_lease_ttl) +
            (max_ttl_line > 0 ? ", line " + std::to_string(max_ttl_line) : ", the default") + ")"));
  }
  return config;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const auto unreadable = [&](int err) {
    return invalid_argument("cannot read configuration file \"" + path +
                            "\": " + std::error_code(err, std::generic_category()).message());
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return fail(unreadable(errno));
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > kMaxConfigFileBytes) {
      return fail(invalid_argument("configuration file \"" + path + "\" is larger than " +
                                   std::to_string(kMaxConfigFileBytes >> 20) + " MiB"));
    }
    if (n < sizeof buffer) break;
  }
  // fread on a directory fails with EISDIR; errno is what fread left behind.
  if (std::ferror(file.get())) return fail(unreadable(errno != 0 ? errno : EIO));
  return parse_server_config(text, path);
}

}  // namespace coffer::config
