#include "storage/backend.h"

namespace coffer::storage {

Result<std::vector<std::string>> Backend::list(std::string_view prefix) {
  std::vector<std::string> children;
  // Keys arrive sorted, so every key of one sub-folder is contiguous: remembering
  // the last folder is enough to emit it once. After a folder we seek past it.
  std::string last_folder;
  Status status = scan(prefix, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
      children.emplace_back(rest);
    } else {
      std::string folder(rest.substr(0, slash + 1));
      if (folder != last_folder) {
        children.push_back(folder);
        last_folder = std::move(folder);
      }
    }
    return true;
  });
  if (!status.ok()) return fail(std::move(status));
  return children;
}

}  // namespace coffer::storage
