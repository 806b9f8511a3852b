#pragma once
// Turns the parts of an HTTP request into an api::Request, applying Vault's
// conventions: /v1/ prefix, LIST and ?list=true, token headers, percent-decoding,
// path canonicalisation and bounded JSON bodies. Free of Beast types so it can be
// unit-tested directly.

#include <string_view>

#include "vault/core/api.h"
#include "vault/core/json_body.h"

namespace coffer::http {

struct RawRequest {
  std::string_view method;
  std::string_view target;  // path and query as sent
  std::string_view vault_token;
  std::string_view authorization;
  std::string_view content_type;
  std::string_view intent;
  std::string_view wrap_ttl;         // X-Vault-Wrap-TTL
  std::string_view vault_namespace;  // X-Vault-Namespace
  std::string_view body;
  std::string_view remote_address;
};

// Errors carry the HTTP status the client must get (400, 404, 405, 415).
struct RequestError {
  int status;
  std::string message;
};

std::expected<api::Request, RequestError> build_request(const RawRequest& raw,
                                                        const api::JsonLimits& limits);

// Renders a response body: the JSON text, or the raw body. Never throws (invalid
// UTF-8 in a message is replaced rather than failing the response).
std::string render_body(const api::Response& response);

}  // namespace coffer::http
