#include "cli/api_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <exception>

#include "vault/base/secret_bytes.h"

namespace coffer::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kTimeout = std::chrono::seconds(60);
constexpr std::uint64_t kMaxResponseBytes = 64ull << 20;
constexpr const char* kUserAgent = "coffer-cli/0.1.0";

Status transport_error(std::string message) { return {StatusCode::kUpstream, std::move(message)}; }

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Go's http client names methods like "Get" in its errors.
std::string go_method_name(const std::string& method) {
  std::string m = method == "LIST" ? "GET" : method;
  for (std::size_t i = 1; i < m.size(); ++i) m[i] = static_cast<char>(std::tolower(m[i]));
  return m;
}

struct ParsedAddress {
  bool tls = true;
  std::string host;  // without IPv6 brackets
  std::string port;
  std::string base_path;  // "" or "/prefix" without trailing slash
};

Result<ParsedAddress> parse_address(const std::string& address) {
  ParsedAddress out;
  std::string_view rest = address;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.tls = false;
    rest.remove_prefix(7);
  } else {
    return fail(invalid_argument("address must start with https:// or http://: " + address));
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    out.base_path = std::string(path);
  }
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail(invalid_argument("malformed address: " + address));
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return fail(invalid_argument("malformed address: " + address));
      out.port = std::string(after.substr(1));
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) return fail(invalid_argument("address has no host: " + address));
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  for (char c : out.port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return fail(invalid_argument("malformed port in address: " + address));
    }
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Runs one asynchronous operation to completion on `ioc`; the stream's own
// expiry (beast::tcp_stream) bounds how long it may take.
template <typename Start>
error_code run_one(asio::io_context& ioc, Start&& start) {
  error_code result = asio::error::would_block;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

std::string describe(const error_code& ec) {
  if (ec == beast::error::timeout) return "i/o timeout";
  std::string m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

}  // namespace

struct ApiClient::Impl {
  std::string address;  // as configured, without a trailing slash
  ParsedAddress parsed;
  std::string verify_name;  // host name or IP checked against the certificate
  bool skip_verify = false;
  std::shared_ptr<ssl::context> tls;  // null for http://

  std::string url(const std::string& path) const { return address + "/v1/" + path; }

  Result<ApiResponse> exchange(const ApiRequest& request, const std::string& token) const;

 private:
  template <typename Stream>
  Result<ApiResponse> write_and_read(Stream& stream, http::request<http::string_body>& req,
                                     asio::io_context& ioc, const std::string& what) const;
};

std::string sanitize_path(std::string path) {
  while (path.starts_with('/')) path.erase(0, 1);
  while (path.ends_with('/')) path.pop_back();
  return path;
}

std::vector<std::string> ApiResponse::errors() const {
  std::vector<std::string> out;
  if (!body.is_object()) return out;
  auto it = body.find("errors");
  if (it == body.end() || !it->is_array()) return out;
  for (const auto& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

Result<ApiClient> ApiClient::create(const ClientConfig& config) {
  auto impl = std::make_shared<Impl>();
  impl->address = config.address;
  while (impl->address.ends_with('/')) impl->address.pop_back();
  COFFER_ASSIGN_OR_RETURN(impl->parsed, parse_address(impl->address));
  impl->verify_name = config.tls_server_name.empty() ? impl->parsed.host : config.tls_server_name;
  impl->skip_verify = config.tls_skip_verify;
  if (impl->parsed.tls) {
    try {
      auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
      SSL_CTX* native = ctx->native_handle();
      SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
      if (config.tls_skip_verify) {
        ctx->set_verify_mode(ssl::verify_none);
      } else {
        ctx->set_verify_mode(ssl::verify_peer);
        error_code ec;
        if (!config.ca_cert.empty()) {
          ctx->load_verify_file(config.ca_cert, ec);
          if (ec) return fail(transport_error("error loading CA certificate " + config.ca_cert));
        }
        if (!config.ca_path.empty()) {
          ctx->add_verify_path(config.ca_path, ec);
          if (ec) return fail(transport_error("error loading CA directory " + config.ca_path));
        }
        if (config.ca_cert.empty() && config.ca_path.empty()) {
          ctx->set_default_verify_paths(ec);
          if (ec) return fail(transport_error("error loading the system CA certificates"));
        }
      }
      if (!config.client_cert.empty() || !config.client_key.empty()) {
        if (config.client_cert.empty() || config.client_key.empty()) {
          return fail(
              invalid_argument("a client certificate needs both -client-cert and -client-key"));
        }
        error_code ec;
        ctx->use_certificate_chain_file(config.client_cert, ec);
        if (!ec) ctx->use_private_key_file(config.client_key, ssl::context::pem, ec);
        if (ec) return fail(transport_error("error loading the client certificate or key"));
      }
      impl->tls = std::move(ctx);
    } catch (const std::exception&) {
      return fail(transport_error("error creating the TLS context"));
    }
  }
  return ApiClient(std::move(impl), config.token);
}

ApiClient::ApiClient(std::shared_ptr<const Impl> impl, std::string token)
    : impl_(std::move(impl)), token_(std::make_shared<const WipedString>(std::move(token))) {}

ApiClient::WipedString::~WipedString() { wipe(value.data(), value.size()); }

const std::string& ApiClient::address() const { return impl_->address; }
bool ApiClient::has_token() const { return !token_->value.empty(); }

ApiClient ApiClient::with_token(std::string token) const {
  return ApiClient(impl_, std::move(token));
}

Result<ApiResponse> ApiClient::send(const ApiRequest& request) const {
  try {
    return impl_->exchange(request, token_->value);
  } catch (const std::exception&) {
    // Asio and Beast report through error codes here; this is the last-resort edge.
    return fail(transport_error(go_method_name(request.method) + " \"" + impl_->url(request.path) +
                                "\": unexpected client error"));
  }
}

Result<ApiResponse> ApiClient::call(const ApiRequest& request) const {
  COFFER_ASSIGN_OR_RETURN(ApiResponse response, send(request));
  if (!response.ok()) return fail(api_error(request, response));
  return response;
}

Status ApiClient::api_error(const ApiRequest& request, const ApiResponse& response) const {
  std::string message = "Error making API request.\n\nURL: ";
  message += (request.method == "LIST" ? std::string("GET") : request.method) + " " +
             impl_->url(request.path) + "\nCode: " + std::to_string(response.status) +
             ". Errors:\n";
  const auto errors = response.errors();
  for (const auto& e : errors) message += "\n* " + e;
  return transport_error(std::move(message));
}

Result<ApiResponse> ApiClient::Impl::exchange(const ApiRequest& request,
                                              const std::string& token) const {
  const std::string what = go_method_name(request.method) + " \"" + url(request.path) + "\"";

  http::verb verb = http::verb::get;
  if (request.method == "PUT") {
    verb = http::verb::put;
  } else if (request.method == "POST") {
    verb = http::verb::post;
  } else if (request.method == "PATCH") {
    verb = http::verb::patch;
  } else if (request.method == "DELETE") {
    verb = http::verb::delete_;
  } else if (request.method != "GET" && request.method != "LIST") {
    return fail(invalid_argument("unsupported HTTP method " + request.method));
  }

  std::string target = parsed.base_path + "/v1/" + percent_encode(request.path, true);
  auto query = request.query;
  if (request.method == "LIST") query.emplace_back("list", "true");
  for (std::size_t i = 0; i < query.size(); ++i) {
    target += (i == 0 ? "?" : "&") + percent_encode(query[i].first, false) + "=" +
              percent_encode(query[i].second, false);
  }

  http::request<http::string_body> req{verb, target, 11};
  const bool default_port = parsed.port == (parsed.tls ? "443" : "80");
  std::string host_header =
      parsed.host.find(':') != std::string::npos ? "[" + parsed.host + "]" : parsed.host;
  if (!default_port) host_header += ":" + parsed.port;
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::connection, "close");
  req.set("X-Vault-Request", "true");
  if (!token.empty()) req.set("X-Vault-Token", token);
  if (request.body) {
    req.set(http::field::content_type, request.content_type);
    // Invalid UTF-8 becomes U+FFFD, as Go's encoding/json does for the vault CLI.
    req.body() = request.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  req.prepare_payload();

  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  error_code ec;
  auto endpoints = resolver.resolve(parsed.host, parsed.port, ec);
  if (ec)
    return fail(transport_error(what + ": dial tcp: lookup " + parsed.host + ": " + describe(ec)));

  const std::string dial = what + ": dial tcp " + parsed.host + ":" + parsed.port + ": connect: ";
  if (!tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(kTimeout);
    ec = run_one(ioc, [&](auto handler) { stream.async_connect(endpoints, handler); });
    if (ec) return fail(transport_error(dial + describe(ec)));
    auto response = write_and_read(stream, req, ioc, what);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return response;
  }

  beast::ssl_stream<beast::tcp_stream> stream(ioc, *tls);
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  ec = run_one(ioc, [&](auto handler) {
    beast::get_lowest_layer(stream).async_connect(endpoints, handler);
  });
  if (ec) return fail(transport_error(dial + describe(ec)));

  SSL* native = stream.native_handle();
  const bool name_is_ip = is_ip_literal(verify_name);
  // SNI carries host names only, never IP literals (RFC 6066).
  if (!name_is_ip) SSL_set_tlsext_host_name(native, verify_name.c_str());
  if (!skip_verify) {
    int set = name_is_ip
                  ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), verify_name.c_str())
                  : SSL_set1_host(native, verify_name.c_str());
    if (set != 1) return fail(transport_error(what + ": tls: cannot set the expected server name"));
  }
  ec = run_one(ioc,
               [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
  if (ec) {
    const long verify = SSL_get_verify_result(native);
    if (!skip_verify && verify != X509_V_OK) {
      return fail(transport_error(what + ": tls: failed to verify certificate: x509: " +
                                  X509_verify_cert_error_string(verify)));
    }
    return fail(transport_error(what + ": tls: handshake failed: " + describe(ec)));
  }
  auto response = write_and_read(stream, req, ioc, what);
  // Closing without waiting for the server's close_notify: the response is complete.
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  return response;
}

template <typename Stream>
Result<ApiResponse> ApiClient::Impl::write_and_read(Stream& stream,
                                                    http::request<http::string_body>& req,
                                                    asio::io_context& ioc,
                                                    const std::string& what) const {
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  error_code ec = run_one(ioc, [&](auto handler) { http::async_write(stream, req, handler); });
  if (ec) return fail(transport_error(what + ": write: " + describe(ec)));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  ec = run_one(ioc, [&](auto handler) { http::async_read(stream, buffer, parser, handler); });
  if (ec) return fail(transport_error(what + ": read: " + describe(ec)));

  auto& message = parser.get();
  ApiResponse out;
  out.status = static_cast<int>(message.result_int());
  out.raw = std::move(message.body());
  if (!out.raw.empty()) {
    out.body = nlohmann::json::parse(out.raw, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) out.body = nullptr;
  }
  return out;
}

}  // namespace coffer::cli
