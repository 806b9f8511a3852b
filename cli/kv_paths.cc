#include "cli/kv_paths.h"

namespace coffer::cli {
namespace {

// Joins non-empty pieces with single slashes.
std::string join(std::initializer_list<std::string_view> pieces) {
  std::string out;
  for (std::string_view piece : pieces) {
    while (piece.starts_with('/')) piece.remove_prefix(1);
    while (piece.ends_with('/')) piece.remove_suffix(1);
    if (piece.empty()) continue;
    if (!out.empty()) out += "/";
    out += piece;
  }
  return out;
}

}  // namespace

std::string KvTarget::api_path(std::string_view api_prefix) const {
  if (!v2()) return join({mount, relative});
  return join({mount, api_prefix, relative});
}

KvTarget kv_target_from_mount(const std::string& path, const nlohmann::json& mount_data) {
  KvTarget target;
  target.relative = path;
  if (!mount_data.is_object()) return target;
  if (auto p = mount_data.find("path"); p != mount_data.end() && p->is_string()) {
    target.mount = p->get<std::string>();
    if (!target.mount.empty() && !target.mount.ends_with('/')) target.mount += "/";
  }
  if (auto options = mount_data.find("options");
      options != mount_data.end() && options->is_object()) {
    if (auto v = options->find("version"); v != options->end() && v->is_string() && *v == "2") {
      target.version = 2;
    }
  }
  const std::string bare_mount =
      target.mount.empty() ? std::string() : target.mount.substr(0, target.mount.size() - 1);
  if (!target.mount.empty() && path.starts_with(target.mount)) {
    target.relative = sanitize_path(path.substr(target.mount.size()));
  } else if (!bare_mount.empty() && path == bare_mount) {
    target.relative.clear();
  } else {
    // The server named a mount the path does not start with: keep the path whole.
    target.mount.clear();
  }
  return target;
}

Result<KvTarget> resolve_kv_target(const ApiClient& client, const std::string& path_arg,
                                   const std::string& mount_flag) {
  const std::string path = sanitize_path(path_arg);
  const std::string mount = sanitize_path(mount_flag);
  const std::string probe = mount.empty() ? path : mount;
  const ApiRequest request{"GET", "sys/internal/ui/mounts/" + probe};
  COFFER_ASSIGN_OR_RETURN(ApiResponse response, client.send(request));
  nlohmann::json data;
  if (response.status == 404) {
    data = nullptr;  // no such mount, or an old server: the vault CLI assumes version 1
  } else if (!response.ok()) {
    return fail(client.api_error(request, response));
  } else {
    data = response.body.is_object() ? response.body.value("data", nlohmann::json()) : nullptr;
  }
  if (mount.empty()) return kv_target_from_mount(path, data);
  // -mount: the path argument is relative to the named mount.
  KvTarget target = kv_target_from_mount(mount, data);
  target.mount = mount + "/";
  target.relative = path;
  return target;
}

}  // namespace coffer::cli
