#include <doctest/doctest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "vault/audit/raw_data_hasher.h"

namespace coffer::audit {
namespace {

using nlohmann::json;

// The reference: the same hashing over a parsed tree (strings by value, other leaves by text).
json reference(const json& v, const std::function<std::string(std::string_view)>& hash) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, item] : v.items()) out[k] = reference(item, hash);
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) out.push_back(reference(item, hash));
    return out;
  }
  if (v.is_null()) return nullptr;
  if (v.is_string()) return hash(v.get<std::string>());
  return hash(v.dump());
}

}  // namespace

// Numbers are hashed by their text as written; the texts scanned here were rendered by the
// same JSON library as the tree, so the documents use its canonical number forms.
TEST_CASE("hash_raw_data hashes every leaf of data exactly as the tree walk does") {
  const std::function<std::string(std::string_view)> hash = [](std::string_view v) {
    return "H(" + std::string(v) + ")";
  };
  const std::vector<std::string> documents = {
      R"({"auth":null,"data":{"data":{"v":"plain","n":5,"f":1.5,"b":true,"z":null},"metadata":{"version":3}},"lease_id":"","x":[1,{"data":"not this"}]})",
      R"({"data":{"esc":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","k\"ey":["x",["y",{"deep":false}]],"neg":-12000.5}})",
      R"({"data":"scalar"})",
      R"({"data":[],"lease_id":"database/creds/r/abc"})",
      R"( { "data" : { "a" : [ 1 , 2 ] } } )",
  };
  for (const auto& text : documents) {
    INFO(text);
    auto raw = hash_raw_data(text, &hash);
    REQUIRE(raw);
    REQUIRE(raw->data);
    const json parsed = json::parse(text);
    CHECK(json::parse(*raw->data) == reference(parsed["data"], hash));
  }
  auto with_lease = hash_raw_data(documents[3], &hash);
  REQUIRE(with_lease);
  CHECK(with_lease->lease_id == "database/creds/r/abc");
}

TEST_CASE("hash_raw_data copies values when logging raw, and refuses malformed text") {
  auto raw = hash_raw_data(R"({"data":{"v":"clear","n":7}})", nullptr);
  REQUIRE(raw);
  CHECK(json::parse(*raw->data) == json{{"v", "clear"}, {"n", 7}});
  auto none = hash_raw_data(R"({"auth":null})", nullptr);
  REQUIRE(none);
  CHECK_FALSE(none->data);
  for (const char* bad : {"", "[]", R"({"data":})", R"({"data":{"a" 1}})", R"({"data":tru})",
                          R"({"data":"unterminated})", R"({"data":{}} trailing)"}) {
    INFO(bad);
    CHECK_FALSE(hash_raw_data(bad, nullptr));
  }
  std::string deep = R"({"data":)";
  for (int i = 0; i < 600; ++i) deep += "[";
  for (int i = 0; i < 600; ++i) deep += "]";
  deep += "}";
  CHECK_FALSE(hash_raw_data(deep, nullptr));
}

}  // namespace coffer::audit
