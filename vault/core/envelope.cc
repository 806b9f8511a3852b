#include "vault/core/envelope.h"

#include "vault/base/encoding.h"

namespace coffer::api {

namespace {

thread_local std::string current_request_id;

std::string request_id() { return current_request_id.empty() ? random_uuid() : current_request_id; }

}  // namespace

ScopedRequestId::ScopedRequestId(std::string_view id) : previous_(current_request_id) {
  current_request_id = std::string(id);
}

ScopedRequestId::~ScopedRequestId() { current_request_id = std::move(previous_); }

nlohmann::json envelope(nlohmann::json data) {
  return {{"request_id", request_id()}, {"lease_id", ""},          {"renewable", false},
          {"lease_duration", 0},        {"data", std::move(data)}, {"wrap_info", nullptr},
          {"warnings", nullptr},        {"auth", nullptr}};
}

std::string envelope_text(std::string_view data_json) {
  // Keys in the order nlohmann's sorted objects render them, so both paths look alike.
  static constexpr std::string_view kHead = R"({"auth":null,"data":)";
  static constexpr std::string_view kMiddle =
      R"(,"lease_duration":0,"lease_id":"","renewable":false,"request_id":")";
  static constexpr std::string_view kTail = R"(","warnings":null,"wrap_info":null})";
  const std::string id = request_id();
  std::string out;
  out.reserve(kHead.size() + data_json.size() + kMiddle.size() + id.size() + kTail.size());
  out.append(kHead).append(data_json).append(kMiddle).append(id).append(kTail);
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
