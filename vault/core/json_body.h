#pragma once
// Bounded JSON parsing for request bodies.
//
// The limits run in a streaming first pass that never builds a tree, so a body
// nested 10,000 levels deep or made of a million tiny strings is refused (400)
// before any allocation proportional to its complexity.

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::api {

struct JsonLimits {
  std::uint32_t max_depth = 300;
  std::uint32_t max_strings = 1000;  // object keys and string values together
};

// An empty or all-whitespace body parses as an empty object. Anything else must
// be a JSON object. Errors are kInvalidArgument with a message safe for clients.
Result<nlohmann::json> parse_json_body(std::string_view body, const JsonLimits& limits);

}  // namespace coffer::api
