#include "vault/http/request_builder.h"

#include "vault/base/duration.h"
#include "vault/core/fields.h"

#include <cctype>
#include <optional>

namespace coffer::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; `plus_is_space` for query strings. nullopt on bad escapes.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Rejects paths that could name something other than what they appear to:
// dot segments, empty segments, control characters. hvac never sends these.
bool canonical(std::string_view path) {
  if (path.empty()) return true;
  if (path.front() == '/') return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    const std::string_view segment =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const bool last = end == std::string_view::npos;
    if (segment == "." || segment == "..") return false;
    // A single trailing slash is allowed (it marks a list or a folder).
    if (segment.empty() && !(last && start == path.size())) return false;
    if (last) break;
    start = end + 1;
  }
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

RequestError error(int status, std::string message) { return {status, std::move(message)}; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::expected<nlohmann::json, RequestError> parse_form(std::string_view body,
                                                       const api::JsonLimits& limits) {
  nlohmann::json out = nlohmann::json::object();
  std::uint32_t strings = 0;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if ((strings += 2) > limits.max_strings) {
      return std::unexpected(error(400, "refused form input due to high complexity"));
    }
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return std::unexpected(error(400, "invalid form body"));
    out[*key] = std::move(*value);
  }
  return out;
}

}  // namespace

std::expected<api::Request, RequestError> build_request(const RawRequest& raw,
                                                        const api::JsonLimits& limits) {
  api::Request req;
  std::optional<api::Operation> op;
  if (raw.method == "GET")
    op = api::Operation::kRead;
  else if (raw.method == "LIST")
    op = api::Operation::kList;
  else if (raw.method == "POST" || raw.method == "PUT")
    op = api::Operation::kUpdate;
  else if (raw.method == "PATCH")
    op = api::Operation::kPatch;
  else if (raw.method == "DELETE")
    op = api::Operation::kDelete;
  else if (raw.method == "HEAD")
    op = api::Operation::kHead;
  if (!op) return std::unexpected(error(405, ""));

  std::string_view target = raw.target;
  // Absolute-form targets (RFC 9112 §3.2.2) name the path after the authority.
  if (target.starts_with("https://") || target.starts_with("http://")) {
    const auto authority = target.find("://") + 3;
    const auto slash = target.find('/', authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (!target.starts_with("/v1/")) return std::unexpected(error(404, ""));
  auto path = percent_decode(target.substr(4), false);
  if (!path || !canonical(*path)) return std::unexpected(error(400, "invalid request path"));
  req.path = std::move(*path);

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return std::unexpected(error(400, "invalid query string"));
    req.query.insert_or_assign(std::move(*key), std::move(*value));
  }

  if (*op == api::Operation::kRead) {
    // Vault reads `list` only when it has a value: `?list=` is a plain read.
    if (auto it = req.query.find("list"); it != req.query.end() && !it->second.empty()) {
      auto list = fields::parse_go_bool(it->second);
      if (!list) return std::unexpected(error(400, "invalid value for list parameter"));
      if (*list) op = api::Operation::kList;
      req.query.erase(it);
    }
  }
  // Vault appends the slash for list operations; hvac strips it.
  if (*op == api::Operation::kList && !req.path.empty() && !req.path.ends_with('/')) {
    req.path.push_back('/');
  }
  if (*op == api::Operation::kPatch &&
      !iequals(trim(raw.content_type.substr(0, raw.content_type.find(';'))),
               "application/merge-patch+json")) {
    return std::unexpected(error(415, "PATCH requires Content-Type application/merge-patch+json"));
  }
  req.operation = *op;

  if (!raw.vault_token.empty()) {
    req.client_token = std::string(raw.vault_token);
  } else if (raw.authorization.size() > 7 && (raw.authorization.starts_with("Bearer ") ||
                                              raw.authorization.starts_with("bearer "))) {
    req.client_token = std::string(raw.authorization.substr(7));
  }
  req.intent = std::string(raw.intent);
  if (!raw.wrap_ttl.empty()) {
    auto ttl = parse_duration(raw.wrap_ttl);
    if (!ttl || ttl->count() <= 0) return std::unexpected(error(400, "invalid wrap TTL"));
    req.wrap_ttl = ttl->count();
  }
  // No namespaces: only the root namespace exists.
  if (!raw.vault_namespace.empty() && raw.vault_namespace != "root" &&
      raw.vault_namespace != "root/" && raw.vault_namespace != "/") {
    return std::unexpected(error(400, "namespaces are not supported"));
  }
  req.remote_address = std::string(raw.remote_address);

  // Vault also takes form-encoded bodies (anything not starting like JSON).
  const auto first = raw.body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && raw.body[first] != '{' && raw.body[first] != '[' &&
      iequals(trim(raw.content_type.substr(0, raw.content_type.find(';'))),
              "application/x-www-form-urlencoded")) {
    auto form = parse_form(raw.body, limits);
    if (!form) return std::unexpected(form.error());
    req.body = std::move(*form);
    return req;
  }
  auto body = api::parse_json_body(raw.body, limits);
  if (!body) return std::unexpected(error(400, body.error().message()));
  req.body = std::move(*body);
  return req;
}

std::string render_body(const api::Response& response) {
  if (response.raw_body) return *response.raw_body;
  if (!response.body) return {};
  return response.body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coffer::http
