#include "vault/base/status.h"

namespace coffer {

int http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnsupported:
      return 405;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUpstream:
      return 502;
    case StatusCode::kSealed:
      return 503;
    case StatusCode::kUnavailable:
      return 503;
  }
  return 500;
}

}  // namespace coffer
