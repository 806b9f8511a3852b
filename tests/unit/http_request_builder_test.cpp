// build_request: Vault's HTTP conventions turned into api::Request, and every
// way a request is refused before it reaches the core.

#include <doctest/doctest.h>

#include <string>

#include "vault/core/api.h"
#include "vault/core/json_body.h"
#include "vault/http/request_builder.h"

namespace coffer::http {
namespace {

using api::Operation;

RawRequest request(std::string_view method, std::string_view target) {
  RawRequest raw;
  raw.method = method;
  raw.target = target;
  return raw;
}

api::Request build_ok(const RawRequest& raw, const api::JsonLimits& limits = {}) {
  auto built = build_request(raw, limits);
  if (!built) {
    INFO("status " << built.error().status << ": " << built.error().message);
    REQUIRE(built.has_value());
  }
  return *built;
}

RequestError build_error(const RawRequest& raw, const api::JsonLimits& limits = {}) {
  auto built = build_request(raw, limits);
  REQUIRE_FALSE(built.has_value());
  return built.error();
}

int status_for(std::string_view method, std::string_view target) {
  auto built = build_request(request(method, target), {});
  return built ? 200 : built.error().status;
}

RawRequest with_body(std::string_view body) {
  RawRequest raw = request("POST", "/v1/secret/data/x");
  raw.body = body;
  return raw;
}

std::string nested_arrays_in_object(int depth) {
  // The object itself is one level.
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

}  // namespace

TEST_CASE("every HTTP method maps to its Vault operation") {
  struct Case {
    std::string_view method;
    Operation operation;
  };
  for (const Case& c : {Case{"GET", Operation::kRead}, Case{"LIST", Operation::kList},
                        Case{"POST", Operation::kUpdate}, Case{"PUT", Operation::kUpdate},
                        Case{"DELETE", Operation::kDelete}, Case{"HEAD", Operation::kHead}}) {
    INFO("method " << c.method);
    CHECK(build_ok(request(c.method, "/v1/secret/x")).operation == c.operation);
  }
  RawRequest patch = request("PATCH", "/v1/secret/x");
  patch.content_type = "application/merge-patch+json";
  CHECK(build_ok(patch).operation == Operation::kPatch);
}

TEST_CASE("an unknown HTTP method is refused with 405") {
  for (std::string_view method : {"OPTIONS", "TRACE", "CONNECT", "get", "Post", "", "GETX"}) {
    INFO("method " << method);
    CHECK(build_error(request(method, "/v1/secret/x")).status == 405);
  }
}

TEST_CASE("GET with a true list parameter becomes a list with a trailing slash") {
  for (std::string_view value : {"true", "1", "True", "TRUE", "t", "T"}) {
    INFO("list=" << value);
    const api::Request req =
        build_ok(request("GET", "/v1/secret/metadata?list=" + std::string(value)));
    CHECK(req.operation == Operation::kList);
    CHECK(req.path == "secret/metadata/");
    CHECK_FALSE(req.query.contains("list"));
  }
  const api::Request slashed = build_ok(request("GET", "/v1/secret/metadata/?list=true"));
  CHECK(slashed.path == "secret/metadata/");
  const api::Request listed = build_ok(request("LIST", "/v1/secret/metadata"));
  CHECK(listed.path == "secret/metadata/");
  CHECK(build_ok(request("LIST", "/v1/secret/metadata/")).path == "secret/metadata/");
}

TEST_CASE("GET with a false list parameter stays a read") {
  for (std::string_view value : {"false", "0", "False", "f"}) {
    INFO("list=" << value);
    const api::Request req =
        build_ok(request("GET", "/v1/secret/data/x?list=" + std::string(value)));
    CHECK(req.operation == Operation::kRead);
    CHECK(req.path == "secret/data/x");
  }
}

TEST_CASE("GET with an empty list parameter is a plain read, as in Vault") {
  // Vault only parses the parameter when it is non-empty.
  const api::Request req = build_ok(request("GET", "/v1/secret/data/x?list="));
  CHECK(req.operation == Operation::kRead);
  CHECK(req.path == "secret/data/x");
}

TEST_CASE("a list parameter that is not a boolean is refused with 400") {
  for (std::string_view target :
       {"/v1/secret/x?list=maybe", "/v1/secret/x?list=yes", "/v1/secret/x?list=2"}) {
    INFO("target " << target);
    CHECK(build_error(request("GET", target)).status == 400);
  }
}

TEST_CASE("the list parameter only turns GET into a list") {
  const api::Request req = build_ok(request("POST", "/v1/secret/data/x?list=true"));
  CHECK(req.operation == Operation::kUpdate);
  CHECK(req.path == "secret/data/x");
}

TEST_CASE("a target outside /v1/ is not found") {
  for (std::string_view target :
       {"/v2/secret/x", "/secret/x", "/v1", "/V1/secret/x", "v1/secret/x", "", "/", "/v1?x=1"}) {
    INFO("target " << target);
    CHECK(status_for("GET", target) == 404);
  }
  CHECK(build_ok(request("GET", "/v1/")).path.empty());
}

TEST_CASE("path and query are percent-decoded, with + as a space only in the query") {
  const api::Request req = build_ok(
      request("GET", "/v1/secret/data/my%20key+plus%2Fsub?name=a+b%2Bc&sp%61ce=x%20y&flag"));
  CHECK(req.path == "secret/data/my key+plus/sub");
  CHECK(req.query.at("name") == "a b+c");
  CHECK(req.query.at("space") == "x y");
  CHECK(req.query.at("flag").empty());
  CHECK(build_ok(request("GET", "/v1/secret/%41%7a")).path == "secret/Az");
}

TEST_CASE("a malformed percent escape is refused with 400") {
  for (std::string_view target : {"/v1/secret/%zz", "/v1/secret/%4", "/v1/secret/%", "/v1/a%g1b",
                                  "/v1/secret/x?a=%2", "/v1/secret/x?%zz=1"}) {
    INFO("target " << target);
    CHECK(status_for("GET", target) == 400);
  }
}

TEST_CASE("paths with dot segments, empty segments or control characters are refused") {
  for (std::string_view target : {"/v1/secret/./x",
                                  "/v1/secret/../sys/seal",
                                  "/v1/secret/%2e%2e/sys/seal",
                                  "/v1/secret/%2E%2E/sys/seal",
                                  "/v1/secret/.%2e/x",
                                  "/v1/secret/%2e",
                                  "/v1/secret/..",
                                  "/v1/secret/.",
                                  "/v1/./secret",
                                  "/v1/..",
                                  "/v1/secret/a%2f..%2fb",
                                  "/v1//secret/x",
                                  "/v1/secret//x",
                                  "/v1/secret/x//",
                                  "/v1/%2fsecret/x",
                                  "/v1/secret/x%00y",
                                  "/v1/secret/x%0a",
                                  "/v1/secret/x%0d%0aInjected: 1",
                                  "/v1/secret/x%09",
                                  "/v1/secret/x%7f",
                                  "/v1/secret/x%1b"}) {
    INFO("target " << target);
    const RequestError e = build_error(request("GET", target));
    CHECK(e.status == 400);
  }
}

TEST_CASE("ordinary paths, dotted names and a single trailing slash are accepted") {
  CHECK(build_ok(request("GET", "/v1/secret/x/")).path == "secret/x/");
  CHECK(build_ok(request("GET", "/v1/secret/.hidden")).path == "secret/.hidden");
  CHECK(build_ok(request("GET", "/v1/secret/a..b/...")).path == "secret/a..b/...");
  CHECK(build_ok(request("GET", "/v1/secret/caf%C3%A9")).path == "secret/caf\xC3\xA9");
}

TEST_CASE("X-Vault-Token is preferred over a Bearer token") {
  RawRequest raw = request("GET", "/v1/secret/x");
  raw.vault_token = "hvs.header";
  raw.authorization = "Bearer hvs.bearer";
  CHECK(build_ok(raw).client_token == "hvs.header");
}

TEST_CASE("a Bearer token is used when X-Vault-Token is absent") {
  RawRequest raw = request("GET", "/v1/secret/x");
  raw.authorization = "Bearer hvs.bearer";
  CHECK(build_ok(raw).client_token == "hvs.bearer");
}

TEST_CASE("other Authorization schemes are ignored") {
  for (std::string_view authorization :
       {"Basic dXNlcjpwYXNz", "Token hvs.x", "Bearer", "Bearer ", "Bearerhvs.x", "hvs.x", ""}) {
    INFO("authorization " << authorization);
    RawRequest raw = request("GET", "/v1/secret/x");
    raw.authorization = authorization;
    CHECK(build_ok(raw).client_token.empty());
  }
}

TEST_CASE("intent and remote address are carried through") {
  RawRequest raw = request("GET", "/v1/secret/x");
  raw.intent = "rotate the db password";
  raw.remote_address = "192.0.2.7";
  const api::Request req = build_ok(raw);
  CHECK(req.intent == "rotate the db password");
  CHECK(req.remote_address == "192.0.2.7");
}

TEST_CASE("PATCH requires the merge-patch content type") {
  RawRequest raw = request("PATCH", "/v1/secret/data/x");
  raw.body = "{\"data\":{\"a\":\"b\"}}";
  for (std::string_view content_type :
       {"", "application/json", "text/plain", "application/merge-patch",
        "application/json-patch+json", "application/merge-patch+jsonx"}) {
    INFO("content type " << content_type);
    raw.content_type = content_type;
    const RequestError e = build_error(raw);
    CHECK(e.status == 415);
  }
  raw.content_type = "application/merge-patch+json";
  CHECK(build_ok(raw).body["data"]["a"] == "b");
  raw.content_type = "application/merge-patch+json; charset=utf-8";
  CHECK(build_ok(raw).operation == Operation::kPatch);
  // Other methods do not care about the content type.
  raw.method = "POST";
  raw.content_type = "text/plain";
  CHECK(build_ok(raw).operation == Operation::kUpdate);
}

TEST_CASE("PATCH accepts the merge-patch media type in any letter case") {
  // Media types are case-insensitive (RFC 9110 8.3.1); Vault lower-cases them.
  RawRequest raw = request("PATCH", "/v1/secret/data/x");
  raw.content_type = "Application/Merge-Patch+JSON";
  auto built = build_request(raw, {});
  CHECK(built.has_value());
}

TEST_CASE("an empty body is an empty object") {
  for (std::string_view body : {"", " ", " \r\n\t "}) {
    const api::Request req = build_ok(with_body(body));
    CHECK(req.body.is_object());
    CHECK(req.body.empty());
  }
}

TEST_CASE("a JSON object body is parsed") {
  const api::Request req = build_ok(with_body("{\"data\":{\"password\":\"s3cr3t\"},\"n\":1}"));
  CHECK(req.body["data"]["password"] == "s3cr3t");
  CHECK(req.body["n"] == 1);
}

TEST_CASE("a body that is not a JSON object is refused with 400") {
  for (std::string_view body : {"[]", "[1,2]", "\"text\"", "42", "null", "true"}) {
    INFO("body " << body);
    const RequestError e = build_error(with_body(body));
    CHECK(e.status == 400);
    CHECK(e.message == "request body must be a JSON object");
  }
}

TEST_CASE("malformed JSON is refused with 400") {
  for (std::string_view body : {"{", "{\"a\":}", "{'a':1}", "{\"a\":1,}", "{\"a\":1} trailing",
                                "{\"a\":1}{}", "not json", "{\"a\":\"\xff\"}"}) {
    INFO("body " << body);
    const RequestError e = build_error(with_body(body));
    CHECK(e.status == 400);
    CHECK(e.message == "failed to parse JSON input");
  }
}

TEST_CASE("JSON nested deeper than the limit is refused as too complex") {
  CHECK(build_ok(with_body(nested_arrays_in_object(300))).body.contains("a"));
  const RequestError e = build_error(with_body(nested_arrays_in_object(301)));
  CHECK(e.status == 400);
  CHECK(e.message == "refused JSON input due to high complexity");

  std::string objects;
  for (int i = 0; i < 301; ++i) objects += "{\"k\":";
  objects += "1" + std::string(301, '}');
  CHECK(build_error(with_body(objects)).message == "refused JSON input due to high complexity");
}

TEST_CASE("more strings than the limit, keys included, are refused as too complex") {
  auto object_with_strings = [](int pairs, bool extra_key) {
    std::string body = "{";
    for (int i = 0; i < pairs; ++i) {
      if (i > 0) body += ",";
      body += "\"k" + std::to_string(i) + "\":\"v\"";
    }
    if (extra_key) body += ",\"extra\":1";
    return body + "}";
  };
  // 500 keys + 500 values = 1000 strings.
  CHECK(build_ok(with_body(object_with_strings(500, false))).body.size() == 500);
  // One more key (with a number value) is the 1001st string.
  const RequestError e = build_error(with_body(object_with_strings(500, true)));
  CHECK(e.status == 400);
  CHECK(e.message == "refused JSON input due to high complexity");

  std::string array = "{\"a\":[";  // "a" is one string
  for (int i = 0; i < 999; ++i) array += (i > 0 ? ",\"s\"" : "\"s\"");
  CHECK(build_ok(with_body(array + "]}")).body["a"].size() == 999);
  CHECK(build_error(with_body(array + ",\"s\"]}")).status == 400);
}

TEST_CASE("the JSON limits come from the caller") {
  const api::JsonLimits tight{.max_depth = 2, .max_strings = 3};
  CHECK(build_ok(with_body("{\"a\":{\"b\":\"c\"}}"), tight).body["a"]["b"] == "c");
  CHECK(build_error(with_body("{\"a\":{\"b\":[]}}"), tight).status == 400);
  CHECK(build_error(with_body("{\"a\":\"b\",\"c\":\"d\"}"), tight).status == 400);
}

TEST_CASE("10,000-deep JSON is refused without crashing") {
  const std::string open(10'000, '[');
  std::string objects;
  for (int i = 0; i < 10'000; ++i) objects += "{\"a\":";
  for (const std::string& body :
       {open, open + std::string(10'000, ']'), "{\"a\":" + open, objects, objects + "1"}) {
    const RequestError e = build_error(with_body(body));
    CHECK(e.status == 400);
    CHECK(e.message == "refused JSON input due to high complexity");
  }
}

TEST_CASE("render_body replaces invalid UTF-8 instead of throwing") {
  const api::Response response =
      api::Response::error(400, {std::string("bad byte \xff\xfe in message")});
  std::string rendered;
  CHECK_NOTHROW(rendered = render_body(response));
  CHECK(rendered.find("errors") != std::string::npos);
  CHECK(rendered.find("bad byte") != std::string::npos);
  CHECK(rendered.find('\xff') == std::string::npos);
  CHECK(rendered.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
}

TEST_CASE("render_body sends raw bodies verbatim and nothing for an empty response") {
  api::Response raw;
  raw.raw_body = "-----BEGIN CERTIFICATE-----\n\xff";
  CHECK(render_body(raw) == "-----BEGIN CERTIFICATE-----\n\xff");
  CHECK(render_body(api::Response::no_content()).empty());
  CHECK(render_body(api::Response::json(200, {{"a", 1}})) == "{\"a\":1}");
}

}  // namespace coffer::http
