#pragma once
// Go-style command-line flags as the vault CLI takes them: `-name=value`,
// `-name value`, `--name=value`, and bare `-name` for booleans. A bare `--`
// ends the flags: every later argument is positional even if it starts with `-`.
// A lone `-` is positional (it means "read from stdin" to several commands).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vault/base/status.h"

namespace coffer::cli {

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False;
// nullopt for anything else.
std::optional<bool> parse_go_bool(std::string_view text);

struct ParsedFlags {
  std::map<std::string, std::string> values;  // last value given; bool flags map to "true"
  std::map<std::string, std::vector<std::string>> lists;  // every value of repeatable flags
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return values.contains(name); }
  std::string get(const std::string& name, std::string fallback = {}) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  // Every value of a repeatable flag, in command-line order (empty if absent).
  std::vector<std::string> get_all(const std::string& name) const {
    auto it = lists.find(name);
    return it == lists.end() ? std::vector<std::string>{} : it->second;
  }
  // A bool flag: absent -> fallback; "true/1/t/T/TRUE/True" -> true, the Go false
  // spellings -> false, anything else -> invalid_argument naming the flag.
  Result<bool> get_bool(const std::string& name, bool fallback) const;
  // An integer flag: absent -> fallback; not a whole decimal integer ->
  // invalid_argument naming the flag.
  Result<std::int64_t> get_int(const std::string& name, std::int64_t fallback) const;
};

// `bool_flags` take no separate value; every other known flag needs one.
// `repeatable_flags` are value flags whose every occurrence is kept in `lists`
// (and the last one in `values`). Unknown flags are an error naming the flag.
Result<ParsedFlags> parse_flags(const std::vector<std::string>& args,
                                const std::set<std::string>& bool_flags,
                                const std::set<std::string>& value_flags,
                                const std::set<std::string>& repeatable_flags = {});

}  // namespace coffer::cli
