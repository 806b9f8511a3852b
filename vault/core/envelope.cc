#include "vault/core/envelope.h"

#include "vault/base/encoding.h"

namespace coffer::api {

nlohmann::json envelope(nlohmann::json data) {
  return {{"request_id", random_uuid()}, {"lease_id", ""},          {"renewable", false},
          {"lease_duration", 0},         {"data", std::move(data)}, {"wrap_info", nullptr},
          {"warnings", nullptr},         {"auth", nullptr}};
}

nlohmann::json envelope_with_top_level_copy(nlohmann::json data) {
  nlohmann::json body = envelope(data);
  if (data.is_object()) {
    for (auto& [key, value] : data.items()) {
      if (!body.contains(key)) body[key] = value;
    }
  }
  return body;
}

}  // namespace coffer::api
