#pragma once
// api::Request / api::Response: what the HTTP layer hands the core and gets back.
//
// No Beast or Asio types cross into the core: the HTTP layer parses, bounds and
// decodes a request into this shape, and renders a Response into bytes.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::api {

enum class Operation { kRead, kList, kCreate, kUpdate, kPatch, kDelete, kHead };

std::string_view operation_name(Operation op);

struct Request {
  Operation operation = Operation::kRead;
  std::string path;                          // logical path after /v1/, decoded, no leading '/'
  std::map<std::string, std::string> query;  // decoded query parameters
  nlohmann::json body = nlohmann::json::object();  // parsed JSON body (object), or empty object
  std::string client_token;                        // X-Vault-Token or Bearer; empty if none
  std::string intent;                              // X-Coffer-Intent
  std::string remote_address;
  std::int64_t wrap_ttl = 0;  // X-Vault-Wrap-TTL in seconds; 0 = not wrapped
};

struct Response {
  int status = 200;
  // Rendered as JSON when set; a 2xx response without a body is sent as 204.
  std::optional<nlohmann::json> body;
  // Raw bodies (PEM, Prometheus) carry their own content type.
  std::optional<std::string> raw_body;
  std::string content_type = "application/json";

  static Response json(int status, nlohmann::json body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  // A body already rendered as JSON text.
  static Response json_text(int status, std::string text) {
    Response r;
    r.status = status;
    r.raw_body = std::move(text);
    return r;
  }
  static Response no_content() {
    Response r;
    r.status = 204;
    return r;
  }
  // Vault's error envelope: {"errors": [...]} with the status mapped from the code.
  static Response error(const Status& status);
  static Response error(int http_status, std::vector<std::string> messages);
};

}  // namespace coffer::api
