#pragma once
// A small synchronous HTTP(S) client for the Vault API, used by the CLI: one
// request per connection, every step (connect, handshake, write, read) bounded
// by a deadline, responses capped in size.
//
// TLS: 1.2 or newer; the server certificate is verified against the CA file /
// CA directory of the configuration or the system store, and its name against
// the host of the address (or tls_server_name): an IP literal must be an IP SAN,
// a name a DNS SAN. tls_skip_verify turns verification off (the caller warns).
//
// Errors: a transport failure (bad address, refused connection, failed TLS
// verification, timeout) is a Status with code kUpstream whose message says
// what failed, in the Go client's words: `Get "https://…/v1/sys/seal-status":
// tls: failed to verify certificate: …`. Messages never contain the token or a
// request body, and show URLs without their query string.
//
// Thread safety: an ApiClient is meant for one thread at a time.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client_config.h"
#include "vault/base/status.h"

namespace coffer::cli {

struct ApiRequest {
  ApiRequest(std::string method_, std::string path_,
             std::optional<nlohmann::json> body_ = std::nullopt)
      : method(std::move(method_)), path(std::move(path_)), body(std::move(body_)) {}

  std::string method;  // GET, PUT, POST, PATCH, DELETE, or LIST (sent as GET ?list=true)
  std::string path;    // logical path below /v1/, e.g. "secret/data/app"
  std::optional<nlohmann::json> body;  // sent as JSON when set
  std::vector<std::pair<std::string, std::string>> query;
  std::string content_type = "application/json";
};

struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // null when the body is empty or not JSON
  std::string raw;      // the body as received

  bool ok() const { return status >= 200 && status < 300; }
  // The `errors` strings of an error body (empty when absent).
  std::vector<std::string> errors() const;
};

// The vault CLI's clean-up of a logical path: no leading or trailing slashes.
std::string sanitize_path(std::string path);

class ApiClient {
 public:
  // Validates the address (http:// or https://, host, optional port, no path
  // beyond "/") and loads the CA / client certificate files. Errors:
  // invalid_argument for a malformed address, kUpstream for unreadable
  // certificate files.
  static Result<ApiClient> create(const ClientConfig& config);

  // Sends the request and returns any HTTP response, 2xx or not. Fails only
  // on transport errors (kUpstream).
  Result<ApiResponse> send(const ApiRequest& request) const;

  // Like send, but a non-2xx answer is an error too: kUpstream with Vault's
  // "Error making API request.\n\nURL: GET …\nCode: 403. Errors:\n\n* …".
  Result<ApiResponse> call(const ApiRequest& request) const;

  // The error `call` reports for `response` to `request`.
  Status api_error(const ApiRequest& request, const ApiResponse& response) const;

  const std::string& address() const;
  bool has_token() const;
  // A client identical to this one but sending `token` instead.
  ApiClient with_token(std::string token) const;

 private:
  struct Impl;
  explicit ApiClient(std::shared_ptr<const Impl> impl, std::string token);

  // The token is a credential: wiped when the last copy of the client goes away.
  struct WipedString {
    std::string value;
    explicit WipedString(std::string v) : value(std::move(v)) {}
    ~WipedString();
  };

  std::shared_ptr<const Impl> impl_;
  std::shared_ptr<const WipedString> token_;
};

}  // namespace coffer::cli
