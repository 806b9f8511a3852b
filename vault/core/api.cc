#include "vault/core/api.h"

namespace coffer::api {

std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::kRead:
      return "read";
    case Operation::kList:
      return "list";
    case Operation::kCreate:
      return "create";
    case Operation::kUpdate:
      return "update";
    case Operation::kPatch:
      return "patch";
    case Operation::kDelete:
      return "delete";
    case Operation::kHead:
      return "header";
  }
  return "unknown";
}

Response Response::error(const Status& status) {
  std::vector<std::string> messages;
  if (!status.message().empty()) messages.push_back(status.message());
  return error(http_status_for(status.code()), std::move(messages));
}

Response Response::error(int http_status, std::vector<std::string> messages) {
  Response r;
  r.status = http_status;
  r.body = nlohmann::json{{"errors", std::move(messages)}};
  return r;
}

}  // namespace coffer::api
