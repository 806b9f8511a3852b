#pragma once
// Where a `coffer kv` command sends its requests. Like the vault CLI it first
// asks GET sys/internal/ui/mounts/<path> which mount holds the path and which
// KV version it runs (a 404 means "KV version 1, mount unknown"), then builds
// the API path: <mount>/<data|metadata|delete|undelete|destroy>/<rest> for
// version 2, the path itself for version 1.
//
// Thread safety: KvTarget is a value type; resolve_kv_target does I/O.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "vault/base/status.h"

namespace coffer::cli {

struct KvTarget {
  std::string mount;     // "secret/" (with slash); empty when the server did not say
  int version = 1;       // 1 or 2
  std::string relative;  // the path inside the mount, without leading/trailing slashes

  bool v2() const { return version == 2; }
  // The API path for `api_prefix` ("data", "metadata", ...): for version 2
  // <mount><api_prefix>[/<relative>], for version 1 <mount><relative>
  // (api_prefix ignored). No trailing slash.
  std::string api_path(std::string_view api_prefix) const;
};

// The target for `path` (already sanitized) given the data of a preflight
// answer (`path`, `options.version`), or null data for "no answer" (version 1).
KvTarget kv_target_from_mount(const std::string& path, const nlohmann::json& mount_data);

// The target for the command-line path, or for `mount_flag` + path when the
// -mount flag was given. Errors: the preflight request's error (kUpstream),
// with 404 treated as version 1 as the vault CLI does.
Result<KvTarget> resolve_kv_target(const ApiClient& client, const std::string& path_arg,
                                   const std::string& mount_flag);

}  // namespace coffer::cli
