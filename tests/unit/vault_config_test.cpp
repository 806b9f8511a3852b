#include <doctest/doctest.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

#include "vault/config/hcl.h"
#include "vault/config/server_config.h"

using namespace std::chrono_literals;
using coffer::config::HclValue;
using coffer::config::parse_hcl;
using coffer::config::parse_json_with_lines;
using coffer::config::parse_server_config;

namespace {

// A valid base that error cases append to; the listener starts on line 2 and the file ends on
// line 5, so a line appended after it is line 6.
constexpr std::string_view kBase =
    "storage \"inmem\" {}\n"
    "listener \"tcp\" {\n"
    "  tls_disable = true\n"
    "}\n"
    "api_addr = \"http://127.0.0.1:8200\"\n";

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Parses `text` and checks that it fails with a message that starts with "config.hcl:<line>:"
// and mentions each of `parts`.
void check_error(std::string_view text, int line, std::initializer_list<std::string_view> parts) {
  const auto got = parse_server_config(text, "config.hcl");
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code() == coffer::StatusCode::kInvalidArgument);
  const std::string& message = got.error().message();
  CAPTURE(message);
  const std::string prefix =
      line > 0 ? "config.hcl:" + std::to_string(line) + ": " : "config.hcl: ";
  CHECK(message.starts_with(prefix));
  for (std::string_view part : parts) CHECK(contains(message, part));
}

std::string listener_with(std::string_view body_line) {
  return "storage \"inmem\" {}\n"
         "listener \"tcp\" {\n"
         "  tls_disable = true\n" +
         std::string(body_line) +
         "\n"
         "}\n";
}

}  // namespace

TEST_CASE("an HCL config with two listeners, three comment styles and inmem storage parses") {
  const std::string_view text = R"(# Coffer test server
// api address below
api_addr = "https://vault.example.com:8200"
/* a block comment
   spanning lines */
storage "inmem" {}

listener "tcp" {
  address         = "0.0.0.0:8200"   # public
  tls_cert_file   = "/etc/coffer/cert.pem"
  tls_key_file    = "/etc/coffer/key.pem"
  tls_client_ca_file = "/etc/coffer/ca.pem"
  tls_min_version = "tls13"
  tls_require_and_verify_client_cert = "true"
  max_request_size = 1048576
  http_read_header_timeout = "5s"
  http_read_timeout = 20
  http_idle_timeout = "2m"
  max_json_depth = 50
  max_json_strings = 200,
}

listener "tcp" {
  address = "127.0.0.1:8201" /* inline */ tls_disable = 1
}
disable_mlock = true
default_lease_ttl = "1h"
max_lease_ttl = "24h"
log_level = "debug"
ui = true
cluster_name = "c1"
cluster_addr = "https://127.0.0.1:8201"
)";
  const auto got = parse_server_config(text, "config.hcl");
  REQUIRE_MESSAGE(got.has_value(), got.error().message());
  const auto& c = *got;
  CHECK(c.api_addr == "https://vault.example.com:8200");
  CHECK(c.storage.type == "inmem");
  CHECK(c.storage.path.empty());
  CHECK(c.storage.line == 6);
  CHECK(c.disable_mlock);
  CHECK(c.default_lease_ttl == 1h);
  CHECK(c.max_lease_ttl == 24h);
  CHECK(c.log_level == "debug");
  REQUIRE(c.listeners.size() == 2);

  const auto& a = c.listeners[0];
  CHECK(a.line == 8);
  CHECK(a.type == "tcp");
  CHECK(a.address == "0.0.0.0:8200");
  CHECK(a.tls_cert_file == "/etc/coffer/cert.pem");
  CHECK(a.tls_key_file == "/etc/coffer/key.pem");
  CHECK(a.tls_client_ca_file == "/etc/coffer/ca.pem");
  CHECK(a.tls_min_version == "tls13");
  CHECK_FALSE(a.tls_disable);
  CHECK(a.tls_require_and_verify_client_cert);
  CHECK(a.max_request_size == 1048576);
  CHECK(a.http_read_header_timeout == 5s);
  CHECK(a.http_read_timeout == 20s);
  CHECK(a.http_idle_timeout == 120s);
  CHECK(a.max_json_depth == 50);
  CHECK(a.max_json_strings == 200);

  const auto& b = c.listeners[1];
  CHECK(b.line == 23);
  CHECK(b.address == "127.0.0.1:8201");
  CHECK(b.tls_disable);
  // Untouched fields keep their documented defaults.
  CHECK(b.tls_min_version == "tls12");
  CHECK(b.max_request_size == (32ull << 20));
  CHECK(b.http_read_header_timeout == 10s);
  CHECK(b.http_read_timeout == 30s);
  CHECK(b.http_idle_timeout == 300s);
  CHECK(b.max_json_depth == 300);
  CHECK(b.max_json_strings == 1000);
}

TEST_CASE("a minimal rocksdb config gets the documented defaults") {
  const auto got = parse_server_config(
      "storage \"rocksdb\" { path = \"/var/lib/coffer\" }\n"
      "listener \"tcp\" { tls_cert_file = \"c.pem\" tls_key_file = \"k.pem\" }\n",
      "config.hcl");
  REQUIRE_MESSAGE(got.has_value(), got.error().message());
  CHECK(got->storage.type == "rocksdb");
  CHECK(got->storage.path == "/var/lib/coffer");
  CHECK(got->api_addr.empty());
  CHECK_FALSE(got->disable_mlock);
  CHECK(got->default_lease_ttl == 768h);
  CHECK(got->max_lease_ttl == 768h);
  CHECK(got->log_level == "info");
  REQUIRE(got->listeners.size() == 1);
  CHECK(got->listeners[0].address == "127.0.0.1:8200");
  CHECK_FALSE(got->listeners[0].tls_disable);
}

TEST_CASE("the JSON config form parses into the same struct, with listeners as object or list") {
  SUBCASE("listener list") {
    const std::string_view text = R"({
  "storage": {"rocksdb": {"path": "/data"}},
  "listener": [
    {"tcp": {"address": "0.0.0.0:8200", "tls_cert_file": "c", "tls_key_file": "k"}},
    {"tcp": {"address": "127.0.0.1:8300", "tls_disable": "true", "max_request_size": 4096}}
  ],
  "default_lease_ttl": 3600,
  "max_lease_ttl": "48h",
  "log_level": "warn"
})";
    const auto got = parse_server_config(text, "config.json");
    REQUIRE_MESSAGE(got.has_value(), got.error().message());
    CHECK(got->storage.type == "rocksdb");
    CHECK(got->storage.path == "/data");
    CHECK(got->storage.line == 2);
    REQUIRE(got->listeners.size() == 2);
    CHECK(got->listeners[0].address == "0.0.0.0:8200");
    CHECK(got->listeners[0].tls_cert_file == "c");
    CHECK(got->listeners[1].tls_disable);
    CHECK(got->listeners[1].max_request_size == 4096);
    CHECK(got->listeners[1].line == 5);
    CHECK(got->default_lease_ttl == 1h);
    CHECK(got->max_lease_ttl == 48h);
    CHECK(got->log_level == "warn");
  }
  SUBCASE("listener object") {
    const auto got = parse_server_config(
        R"({"storage":{"inmem":{}},"listener":{"tcp":{"tls_disable":true}}})", "config.json");
    REQUIRE_MESSAGE(got.has_value(), got.error().message());
    CHECK(got->storage.type == "inmem");
    REQUIRE(got->listeners.size() == 1);
    CHECK(got->listeners[0].tls_disable);
  }
  SUBCASE("type mapped to a list of bodies") {
    const auto got = parse_server_config(
        R"({"storage":{"inmem":{}},"listener":{"tcp":[{"tls_disable":true},
            {"tls_disable":true,"address":"127.0.0.1:9"}]}})",
        "config.json");
    REQUIRE_MESSAGE(got.has_value(), got.error().message());
    REQUIRE(got->listeners.size() == 2);
    CHECK(got->listeners[1].address == "127.0.0.1:9");
  }
}

TEST_CASE("JSON config errors carry the file name and line number") {
  const auto got = parse_server_config(
      "{\n  \"storage\": {\"inmem\": {}},\n  \"listener\": {\"tcp\": {\n    \"tls_disable\": "
      "true,\n"
      "    \"tls_cert\": \"x\"}}\n}",
      "config.json");
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().message() == "config.json:5: unknown key \"tls_cert\" in listener \"tcp\"");

  const auto syntax = parse_server_config("{\n\"storage\": {,}\n}", "config.json");
  REQUIRE_FALSE(syntax.has_value());
  CHECK(syntax.error().message().starts_with("config.json:2: "));
}

TEST_CASE("unknown keys are reported with their name, block and line") {
  check_error(std::string(kBase) + "telemetry = {}\n", 6, {"unknown key \"telemetry\""});
  check_error(std::string(kBase) + "raw_storage_endpoint = true\n", 6,
              {"\"raw_storage_endpoint\""});
  check_error(listener_with("  tls_cert = \"x\""), 4,
              {"unknown key \"tls_cert\" in listener \"tcp\""});
  check_error(
      "storage \"rocksdb\" {\n  path = \"/x\"\n  node_id = \"a\"\n}\nlistener \"tcp\" { "
      "tls_disable = "
      "true }\n",
      3, {"unknown key \"node_id\" in storage \"rocksdb\""});
  check_error("storage \"inmem\" {\n  path = \"/x\"\n}\nlistener \"tcp\" { tls_disable = true }\n",
              2, {"\"path\" in storage \"inmem\""});
}

TEST_CASE("storage must be exactly one block of a supported type") {
  check_error("listener \"tcp\" { tls_disable = true }\n", 0, {"storage"});
  check_error(std::string(kBase) + "storage \"inmem\" {}\n", 6, {"only one storage", "line 1"});
  check_error("storage \"raft\" {\n path = \"/x\" }\nlistener \"tcp\" { tls_disable = true }\n", 1,
              {"unknown storage type \"raft\""});
  check_error("listener \"tcp\" { tls_disable = true }\n\nstorage \"rocksdb\" {}\n", 3,
              {"\"path\"", "rocksdb"});
  check_error("storage { path = \"/x\" }\nlistener \"tcp\" { tls_disable = true }\n", 1,
              {"storage", "type label"});
  check_error("storage = \"rocksdb\"\nlistener \"tcp\" { tls_disable = true }\n", 1,
              {"\"storage\""});
}

TEST_CASE("listeners: at least one, tcp only, and TLS unless explicitly disabled") {
  check_error("storage \"inmem\" {}\n", 0, {"listener"});
  check_error("storage \"inmem\" {}\nlistener \"unix\" {\n}\n", 2,
              {"unsupported listener type \"unix\""});
  check_error("storage \"inmem\" {}\nlistener \"tcp\" {\n}\n", 2,
              {"\"tls_cert_file\"", "\"tls_key_file\"", "tls_disable"});
  check_error("storage \"inmem\" {}\nlistener \"tcp\" {\n tls_cert_file = \"c\"\n}\n", 2,
              {"\"tls_key_file\""});
  check_error("storage \"inmem\" {}\nlistener \"tcp\" {\n tls_key_file = \"k\"\n}\n", 2,
              {"\"tls_cert_file\""});
  check_error("storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = false\n}\n", 2,
              {"\"tls_cert_file\""});
  check_error(listener_with("  tls_require_and_verify_client_cert = true"), 2,
              {"tls_require_and_verify_client_cert", "tls_disable"});
  check_error(std::string(kBase) + "listener \"tcp\" {\n  tls_disable = true\n}\n", 6,
              {"127.0.0.1:8200", "line 2"});
}

TEST_CASE("tls_disable accepts true, false, their strings, and 1 or 0") {
  struct Case {
    std::string_view spelling;
    bool disabled;
  };
  const Case cases[] = {{"true", true},   {"\"true\"", true},   {"1", true},
                        {"false", false}, {"\"false\"", false}, {"0", false}};
  for (const Case& c : cases) {
    CAPTURE(c.spelling);
    const std::string text =
        "storage \"inmem\" {}\nlistener \"tcp\" {\n tls_cert_file = \"c\"\n"
        " tls_key_file = \"k\"\n tls_disable = " +
        std::string(c.spelling) + "\n}\n";
    const auto got = parse_server_config(text, "config.hcl");
    REQUIRE_MESSAGE(got.has_value(), got.error().message());
    CHECK(got->listeners[0].tls_disable == c.disabled);
  }
  for (std::string_view bad : {"\"yes\"", "2", "\"1\"", "[true]"}) {
    CAPTURE(bad);
    check_error(
        "storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = " + std::string(bad) + "\n}\n", 3,
        {"\"tls_disable\" in listener \"tcp\""});
  }
  check_error(std::string(kBase) + "disable_mlock = \"no\"\n", 6, {"\"disable_mlock\""});
  check_error(std::string(kBase) + "ui = \"on\"\n", 6, {"\"ui\""});
}

TEST_CASE("numeric listener limits must be positive whole numbers") {
  check_error(listener_with("  max_request_size = \"32MiB\""), 4,
              {"\"max_request_size\" in listener \"tcp\" must be a number"});
  check_error(listener_with("  max_request_size = 0"), 4,
              {"\"max_request_size\"", "greater than 0"});
  check_error(listener_with("  max_request_size = -1"), 4,
              {"\"max_request_size\"", "greater than 0"});
  check_error(listener_with("  max_request_size = 1.5"), 4, {"\"max_request_size\"", "whole"});
  check_error(listener_with("  max_json_depth = 0"), 4, {"\"max_json_depth\""});
  check_error(listener_with("  max_json_strings = 4294967296"), 4,
              {"\"max_json_strings\"", "at most 4294967295"});
  check_error(listener_with("  max_request_size = 99999999999999999999"), 4, {"out of range"});
}

TEST_CASE("duration keys take seconds or duration strings and report bad ones with the key") {
  check_error(listener_with("  http_idle_timeout = \"5x\""), 4,
              {"\"http_idle_timeout\" in listener \"tcp\"", "unknown unit"});
  check_error(listener_with("  http_read_timeout = true"), 4, {"\"http_read_timeout\""});
  check_error(listener_with("  http_read_header_timeout = -3"), 4,
              {"\"http_read_header_timeout\"", "negative"});
  check_error(listener_with("  http_read_timeout = 1.5"), 4, {"\"http_read_timeout\"", "whole"});
  check_error(std::string(kBase) + "max_lease_ttl = \"forever\"\n", 6, {"\"max_lease_ttl\""});
}

TEST_CASE("lease TTLs: default longer than max is refused, zero and absence mean the default") {
  check_error(std::string(kBase) + "default_lease_ttl = \"48h\"\nmax_lease_ttl = \"24h\"\n", 6,
              {"\"default_lease_ttl\" (48h)", "\"max_lease_ttl\" (24h, line 7)"});
  check_error(std::string(kBase) + "default_lease_ttl = \"800h\"\n", 6,
              {"\"default_lease_ttl\"", "\"max_lease_ttl\""});

  const auto only_max = parse_server_config(std::string(kBase) + "max_lease_ttl = \"2h\"\n", "c");
  REQUIRE_MESSAGE(only_max.has_value(), only_max.error().message());
  CHECK(only_max->default_lease_ttl == 2h);
  CHECK(only_max->max_lease_ttl == 2h);

  const auto zeros = parse_server_config(
      std::string(kBase) + "default_lease_ttl = 0\nmax_lease_ttl = \"0s\"\n", "c");
  REQUIRE_MESSAGE(zeros.has_value(), zeros.error().message());
  CHECK(zeros->default_lease_ttl == 768h);
  CHECK(zeros->max_lease_ttl == 768h);
}

TEST_CASE("log_level and tls_min_version come from fixed sets") {
  check_error(std::string(kBase) + "log_level = \"verbose\"\n", 6,
              {"\"log_level\"", "trace, debug, info, warn, error"});
  check_error(std::string(kBase) + "log_level = 3\n", 6, {"\"log_level\"", "string"});
  check_error(listener_with("  tls_min_version = \"tls10\""), 4,
              {"\"tls_min_version\"", "insecure"});
  check_error(listener_with("  tls_min_version = \"tls11\""), 4,
              {"\"tls_min_version\"", "insecure"});
  check_error(listener_with("  tls_min_version = \"ssl3\""), 4,
              {"\"tls_min_version\"", "tls12, tls13"});
}

TEST_CASE("a key set twice in one block is an error naming both lines") {
  check_error(std::string(kBase) + "api_addr = \"http://x\"\n", 6,
              {"duplicate key \"api_addr\"", "line 5"});
  check_error(listener_with("  tls_disable = false"), 4,
              {"duplicate key \"tls_disable\" in listener \"tcp\"", "line 3"});
}

TEST_CASE("type errors name the expected type") {
  check_error(std::string(kBase) + "cluster_name = 5\n", 6, {"\"cluster_name\" must be a string"});
  check_error(listener_with("  address = [\"a\"]"), 4, {"\"address\"", "string", "list"});
}

TEST_CASE("HCL syntax errors carry the line where the problem is") {
  check_error(std::string(kBase) + "log_level = \"info\n", 6, {"unterminated string"});
  check_error(std::string(kBase) + "/* never closed\n\n", 6, {"unterminated /* comment"});
  check_error(std::string(kBase) + "listener \"tcp\" {\n  tls_disable = true\n", 8,
              {"missing `}`", "line 6"});
  check_error(std::string(kBase) + "log_level = info\n", 6, {"strings must be quoted"});
  check_error(std::string(kBase) + "max_lease_ttl = 30s\n", 6, {"invalid number"});
  check_error(std::string(kBase) + "}\n", 6, {"unexpected `}`"});
  check_error(std::string(kBase) + "api_addr @ 1\n", 6, {"unexpected character `@`"});
  check_error(std::string(kBase) + "ui = [true true]\n", 6, {"`,` or `]`"});
  check_error(std::string(kBase) + "x = \"\\q\"\n", 6, {"unknown escape \\q"});
}

TEST_CASE("HCL syntax errors do not repeat string values, which may be secrets") {
  const auto got = parse_server_config(
      std::string(kBase) + "seal \"transit\" {\n token = \"hvs.SECRETTOKEN\" oops\n}\n", "c.hcl");
  REQUIRE_FALSE(got.has_value());
  CHECK_FALSE(contains(got.error().message(), "SECRETTOKEN"));
  const auto bare = parse_server_config(std::string(kBase) + "token = hvsSECRET\n", "c.hcl");
  REQUIRE_FALSE(bare.has_value());
  CHECK_FALSE(contains(bare.error().message(), "hvsSECRET"));
}

TEST_CASE("parse_hcl decodes values, escapes and repeated labelled blocks") {
  const auto got = parse_hcl(
      "a = \"q\\\"b\\\\s\\n\\t\\u00e9\\ud83d\\ude00\"\n"
      "n = -12\nf = 2.5e1\nt = true\n"
      "l = [1, \"two\", [3],]\n"
      "o = { x = 1, y = \"z\" }\n"
      "listener \"tcp\" { address = \"a\" }\n"
      "listener tcp { address = \"b\" }\n"
      "outer \"x\" \"y\" { k = 1 }\n"
      "plain { k = false }\n",
      "t.hcl");
  REQUIRE_MESSAGE(got.has_value(), got.error().message());
  const nlohmann::json j = got->to_json();
  CHECK(j["a"] == "q\"b\\s\n\t\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(j["n"] == -12);
  CHECK(j["f"] == 25.0);
  CHECK(j["t"] == true);
  CHECK(j["l"] == nlohmann::json::parse(R"([1, "two", [3]])"));
  CHECK(j["o"] == nlohmann::json::parse(R"({"x": 1, "y": "z"})"));
  CHECK(j["listener"] ==
        nlohmann::json::parse(R"([{"tcp": {"address": "a"}}, {"tcp": {"address": "b"}}])"));
  CHECK(j["outer"] == nlohmann::json::parse(R"({"x": {"y": {"k": 1}}})"));
  CHECK(j["plain"] == nlohmann::json::parse(R"({"k": false})"));

  // Lines: every member remembers where its key was; a block's body takes the block's line.
  REQUIRE(got->members.size() == 10);
  CHECK(got->members[4].line == 5);
  CHECK(got->members[4].value.list[1].line == 5);
  CHECK(got->members[7].line == 8);
  CHECK(got->members[7].value.members[0].value.line == 8);
  CHECK(got->members[1].value.kind == HclValue::Kind::kInteger);
  CHECK(got->members[2].value.kind == HclValue::Kind::kFloat);
}

TEST_CASE("parse_hcl accepts an empty or comment-only document") {
  for (std::string_view text : {"", "\n\n", "# only\n// comments\n/* here */"}) {
    const auto got = parse_hcl(text, "t.hcl");
    REQUIRE(got.has_value());
    CHECK(got->is_object());
    CHECK(got->members.empty());
  }
}

TEST_CASE("parsers refuse nesting deeper than the limit instead of recursing without bound") {
  const int depth = coffer::config::kMaxNestingDepth + 10;
  const std::string hcl = "a = " + std::string(depth, '[') + std::string(depth, ']');
  const auto h = parse_hcl(hcl, "t.hcl");
  REQUIRE_FALSE(h.has_value());
  CHECK(contains(h.error().message(), "nesting deeper"));

  const std::string json = std::string(depth, '[') + std::string(depth, ']');
  const auto j = parse_json_with_lines(json, "t.json");
  REQUIRE_FALSE(j.has_value());
  CHECK(contains(j.error().message(), "nesting deeper"));

  const std::string ok = "a = " + std::string(10, '[') + std::string(10, ']');
  CHECK(parse_hcl(ok, "t.hcl").has_value());
}

TEST_CASE("parse_json_with_lines is strict JSON") {
  CHECK(parse_json_with_lines(R"({"a": [1, 2.5, "x", null, true]})", "t").has_value());
  for (std::string_view bad : {"{\"a\": 1,}", "[1,]", "{a: 1}", "{\"a\" = 1}", "{\"a\": 1} x",
                               "# c\n{}", "{\"a\": tru}", "\"\\ud800\""}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_json_with_lines(bad, "t").has_value());
  }
}

TEST_CASE("load_server_config reads a file and names the path when it cannot") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("coffer_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "server.hcl").string();
  {
    std::ofstream out(path);
    out << "storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = true\n bogus = 1\n}\n";
  }
  const auto bad = coffer::config::load_server_config(path);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message() == path + ":4: unknown key \"bogus\" in listener \"tcp\"");
  {
    std::ofstream out(path, std::ios::trunc);
    out << "storage \"inmem\" {}\nlistener \"tcp\" {\n tls_disable = true\n}\n";
  }
  const auto good = coffer::config::load_server_config(path);
  REQUIRE_MESSAGE(good.has_value(), good.error().message());
  CHECK(good->listeners.size() == 1);

  const auto missing = coffer::config::load_server_config((dir / "absent.hcl").string());
  REQUIRE_FALSE(missing.has_value());
  CHECK(contains(missing.error().message(), (dir / "absent.hcl").string()));

  const auto directory = coffer::config::load_server_config(dir.string());
  REQUIRE_FALSE(directory.has_value());
  CHECK(contains(directory.error().message(), dir.string()));

  std::filesystem::remove_all(dir);
}
