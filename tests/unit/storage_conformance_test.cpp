// One conformance suite run over every storage backend.

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "storage/backend.h"
#include "unit/temp_dir.h"

using coffer::storage::Backend;
using coffer::storage::WriteOp;

namespace {

std::vector<std::string> all_keys(Backend& b, std::string_view prefix,
                                  std::string_view start_after = {}) {
  std::vector<std::string> keys;
  REQUIRE(b.scan(
               prefix,
               [&](std::string_view k, std::string_view) {
                 keys.emplace_back(k);
                 return true;
               },
               start_after)
              .ok());
  return keys;
}

void run_conformance(Backend& b) {
  SUBCASE("an absent key reads as nullopt") {
    auto r = b.get("nope");
    REQUIRE(r.has_value());
    CHECK_FALSE(r->has_value());
  }
  SUBCASE("put then get returns the exact bytes, including NULs") {
    std::string value("a\0b\xff", 4);
    REQUIRE(b.put("k", value).ok());
    auto r = b.get("k");
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());
    CHECK(**r == value);
  }
  SUBCASE("put overwrites and remove deletes; removing an absent key succeeds") {
    REQUIRE(b.put("k", "1").ok());
    REQUIRE(b.put("k", "2").ok());
    CHECK(b.get("k").value().value() == "2");
    REQUIRE(b.remove("k").ok());
    CHECK_FALSE(b.get("k").value().has_value());
    CHECK(b.remove("k").ok());
  }
  SUBCASE("a batch applies every operation") {
    REQUIRE(b.put("x/old", "o").ok());
    REQUIRE(b.write_batch(
                 {WriteOp::put("x/a", "1"), WriteOp::put("x/b", "2"), WriteOp::remove("x/old")})
                .ok());
    CHECK(all_keys(b, "x/") == std::vector<std::string>{"x/a", "x/b"});
  }
  SUBCASE("scan visits only the prefix in byte order and can stop early") {
    for (auto k : {"p/b", "p/a", "p/c/d", "q/a", "o/z", "p"}) REQUIRE(b.put(k, "v").ok());
    CHECK(all_keys(b, "p/") == std::vector<std::string>{"p/a", "p/b", "p/c/d"});
    int seen = 0;
    REQUIRE(b.scan("p/", [&](std::string_view, std::string_view) { return ++seen < 2; }).ok());
    CHECK(seen == 2);
    CHECK(all_keys(b, "p/", "p/a") == std::vector<std::string>{"p/b", "p/c/d"});
  }
  SUBCASE("list returns direct children with folders once and a trailing slash") {
    for (auto k : {"m/a", "m/f/1", "m/f/2", "m/g/x/y", "m/z", "n/q"}) REQUIRE(b.put(k, "v").ok());
    auto listed = b.list("m/");
    REQUIRE(listed.has_value());
    CHECK(*listed == std::vector<std::string>{"a", "f/", "g/", "z"});
    CHECK(b.list("empty/").value().empty());
  }
  SUBCASE("concurrent writers all land") {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          if (!b.put("c/" + std::to_string(t) + "/" + std::to_string(i), "v").ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(all_keys(b, "c/").size() == 200);
  }
}

}  // namespace

TEST_CASE("storage conformance: in-memory backend") {
  auto b = coffer::storage::make_inmem_backend();
  CHECK(b->type() == "inmem");
  run_conformance(*b);
}

TEST_CASE("storage conformance: rocksdb backend") {
  coffer::testing::TempDir dir;
  auto b = coffer::storage::open_rocksdb_backend(dir.str() + "/db");
  REQUIRE(b.has_value());
  CHECK((*b)->type() == "rocksdb");
  run_conformance(**b);
}

TEST_CASE("rocksdb backend keeps acknowledged writes across a reopen") {
  coffer::testing::TempDir dir;
  {
    auto b = coffer::storage::open_rocksdb_backend(dir.str() + "/db");
    REQUIRE(b.has_value());
    REQUIRE((*b)->put("durable", "yes").ok());
  }
  auto b = coffer::storage::open_rocksdb_backend(dir.str() + "/db");
  REQUIRE(b.has_value());
  CHECK((*b)->get("durable").value().value() == "yes");
}

TEST_CASE("rocksdb backend reports an unusable path as an error") {
  auto b = coffer::storage::open_rocksdb_backend("/proc/coffer-cannot-create-this/db");
  CHECK_FALSE(b.has_value());
}
