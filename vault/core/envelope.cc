#include "vault/core/envelope.h"

#include "vault/base/encoding.h"

namespace coffer::api {

nlohmann::json envelope(nlohmann::json data) {
  return {{"request_id", random_uuid()}, {"lease_id", ""},          {"renewable", false},
          {"lease_duration", 0},         {"data", std::move(data)}, {"wrap_info", nullptr},
          {"warnings", nullptr},         {"auth", nullptr}};
}

std::string envelope_text(std::string_view data_json) {
  // Keys in the order nlohmann's sorted objects render them, so both paths look alike.
  static constexpr std::string_view kHead = R"({"auth":null,"data":)";
  static constexpr std::string_view kMiddle =
      R"(,"lease_duration":0,"lease_id":"","renewable":false,"request_id":")";
  static constexpr std::string_view kTail = R"(","warnings":null,"wrap_info":null})";
  const std::string request_id = random_uuid();
  std::string out;
  out.reserve(kHead.size() + data_json.size() + kMiddle.size() + request_id.size() + kTail.size());
  out.append(kHead).append(data_json).append(kMiddle).append(request_id).append(kTail);
  return out;
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
