#include <algorithm>

#include "vault/core/token_store.h"

namespace coffer::core {

bool TokenEntry::is_root() const {
  return std::find(policies.begin(), policies.end(), "root") != policies.end();
}

}  // namespace coffer::core
