#pragma once
// Go-style command-line flags as the vault CLI takes them: `-name=value`,
// `-name value`, `--name=value`, and bare `-name` for booleans.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "vault/base/status.h"

namespace coffer::cli {

struct ParsedFlags {
  std::map<std::string, std::string> values;  // bool flags map to "true"
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return values.contains(name); }
  std::string get(const std::string& name, std::string fallback = {}) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

// `bool_flags` take no separate value; every other known flag needs one.
// Unknown flags are an error naming the flag.
Result<ParsedFlags> parse_flags(const std::vector<std::string>& args,
                                const std::set<std::string>& bool_flags,
                                const std::set<std::string>& value_flags);

}  // namespace coffer::cli
