#pragma once
// Vault's lenient ("weak") decoding of request fields (vault-api.md §1.2):
// JSON null counts as absent; durations are integer seconds or duration
// strings; booleans may be "true"/"1"; integers may be numeric strings; string
// lists may be a JSON array or one comma-separated string.
// Every function returns nullopt when the field is absent and an
// invalid_argument naming the field when it is present but malformed.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::fields {

// The field's value, or nullptr when absent or null.
const nlohmann::json* find(const nlohmann::json& body, std::string_view name);

Result<std::optional<std::string>> string_field(const nlohmann::json& body, std::string_view name);
Result<std::optional<bool>> bool_field(const nlohmann::json& body, std::string_view name);
Result<std::optional<std::int64_t>> int_field(const nlohmann::json& body, std::string_view name);
// Seconds.
Result<std::optional<std::int64_t>> duration_field(const nlohmann::json& body,
                                                   std::string_view name);
Result<std::optional<std::vector<std::string>>> string_list_field(const nlohmann::json& body,
                                                                  std::string_view name);
// A map of strings (numbers and booleans are converted to their text).
Result<std::optional<std::map<std::string, std::string>>> string_map_field(
    const nlohmann::json& body, std::string_view name);

// The first error among several decoded fields, so a handler can read all its
// fields and then reject the request in one place.
template <typename... Results>
std::optional<Status> first_error(const Results&... results) {
  std::optional<Status> error;
  ((error || results.has_value() ? void() : void(error = results.error())), ...);
  return error;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(std::string_view text);

}  // namespace coffer::fields
