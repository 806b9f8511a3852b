#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "temp_dir.h"
#include "vault/audit/chain.h"

namespace coffer::audit {

TEST_CASE("chained lines are valid JSON, linked, and self-hashed") {
  ChainPosition position;
  const std::string first = chain_line(R"({"type":"request","n":1})", position);
  const std::string second = chain_line(R"({"type":"response"})", position);
  const std::string empty = chain_line("{}", position);
  for (const auto& line : {first, second, empty}) {
    INFO(line);
    CHECK(nlohmann::json::accept(line));
  }
  auto a = parse_chained_line(first);
  auto b = parse_chained_line(second);
  auto c = parse_chained_line(empty);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->seq == 1);
  CHECK(a->prev.empty());
  CHECK(a->hash_matches);
  CHECK(b->seq == 2);
  CHECK(b->prev == a->hash);
  CHECK(b->hash_matches);
  CHECK(c->seq == 3);
  CHECK(c->prev == b->hash);
  CHECK(position.seq == 3);
  CHECK(position.last_hash == c->hash);
  auto parsed = nlohmann::json::parse(first);
  CHECK(parsed["type"] == "request");
  CHECK(parsed["chain"]["seq"] == 1);
}

TEST_CASE("an edited line no longer matches its hash; a cut line is not framed") {
  ChainPosition position;
  std::string line = chain_line(R"({"path":"secret/data/a"})", position);
  std::string edited = line;
  edited.replace(edited.find("data/a"), 6, "data/b");
  auto parsed = parse_chained_line(edited);
  REQUIRE(parsed);
  CHECK_FALSE(parsed->hash_matches);
  CHECK_FALSE(parse_chained_line(line.substr(0, line.size() - 1)));
  CHECK_FALSE(parse_chained_line(line.substr(0, line.size() / 2)));
  CHECK_FALSE(parse_chained_line(R"({"type":"request"})"));
}

TEST_CASE("request data cannot imitate the framing") {
  // A client-chosen map key "hash" inside the entry stays inside; the real hash is last.
  ChainPosition position;
  const std::string line =
      chain_line(R"({"request":{"data":{"hash":"0000","chain":{"seq":9}}}})", position);
  auto parsed = parse_chained_line(line);
  REQUIRE(parsed);
  CHECK(parsed->seq == 1);
  CHECK(parsed->hash_matches);
}

TEST_CASE("read_log_tail continues a chain, and notices torn and bad last lines") {
  testing::TempDir dir;
  const std::string path = dir.str() + "/audit.log";
  auto fresh = read_log_tail(path);
  REQUIRE(fresh);
  CHECK(fresh->position.seq == 0);
  CHECK_FALSE(fresh->torn);

  ChainPosition position;
  std::string text;
  for (int i = 0; i < 3; ++i)
    text += chain_line(R"({"i":)" + std::to_string(i) + "}", position) + "\n";
  std::ofstream(path) << text;
  auto tail = read_log_tail(path);
  REQUIRE(tail);
  CHECK(tail->position.seq == 3);
  CHECK(tail->position.last_hash == position.last_hash);
  CHECK_FALSE(tail->torn);
  CHECK(tail->last_line_ok);

  std::ofstream(path, std::ios::app) << R"({"chain":{"seq":4,"prev":")";
  tail = read_log_tail(path);
  REQUIRE(tail);
  CHECK(tail->torn);
  CHECK(tail->position.seq == 3);
  CHECK(tail->position.last_hash == position.last_hash);
}

}  // namespace coffer::audit
