// KV version 2 behaviour as Vault clients see it: response shapes, check-and-set, soft
// delete / undelete / destroy, metadata, pruning, delete_version_after on a moved clock,
// subkeys, concurrent writers, and all-or-nothing writes when storage fails.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engines/kv/kv_engine.h"
#include "engines/kv/kv_v2_engine.h"
#include "storage/backend.h"
#include "vault/barrier/barrier.h"
#include "vault/base/clock.h"
#include "vault/base/secret_bytes.h"

namespace coffer::engines::kv {
namespace {

using Json = nlohmann::json;
using api::Operation;

// 2023-11-14T22:13:20Z
constexpr std::int64_t kStartSeconds = 1'700'000'000;

class ManualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::nanoseconds(nanos_.load()));
  }
  void set_nanos(std::int64_t nanos) { nanos_ = nanos; }
  void advance_seconds(std::int64_t seconds) { nanos_ += seconds * 1'000'000'000; }

 private:
  std::atomic<std::int64_t> nanos_{kStartSeconds * 1'000'000'000};
};

// Passes everything to `inner`, except that the mutating call numbered `fail_at` (1-based,
// counting put, remove and write_batch) fails with an internal error.
class FaultyStorage final : public barrier::LogicalStorage {
 public:
  explicit FaultyStorage(std::unique_ptr<barrier::LogicalStorage> inner)
      : inner_(std::move(inner)) {}
  void fail_mutation(int n) {
    mutations_ = 0;
    fail_at_ = n;
  }

  Result<std::optional<std::string>> get(std::string_view path) override {
    return inner_->get(path);
  }
  Status put(std::string_view path, std::string_view value) override {
    if (should_fail()) return internal_error("injected put failure");
    return inner_->put(path, value);
  }
  Status remove(std::string_view path) override {
    if (should_fail()) return internal_error("injected remove failure");
    return inner_->remove(path);
  }
  Status write_batch(const std::vector<storage::WriteOp>& ops) override {
    if (should_fail()) return internal_error("injected batch failure");
    return inner_->write_batch(ops);
  }
  Result<std::vector<std::string>> list(std::string_view prefix) override {
    return inner_->list(prefix);
  }
  Status scan(std::string_view prefix, const storage::KeyValueVisitor& visit) override {
    return inner_->scan(prefix, visit);
  }

 private:
  bool should_fail() { return ++mutations_ == fail_at_; }
  std::unique_ptr<barrier::LogicalStorage> inner_;
  std::atomic<int> mutations_{0};
  std::atomic<int> fail_at_{0};
};

class Kv {
 public:
  Kv() : backend_(storage::make_inmem_backend()), barrier_(*backend_, clock) {
    REQUIRE(barrier_.initialize(SecretBytes::random(32)).ok());
    auto faulty = std::make_unique<FaultyStorage>(
        std::make_unique<barrier::BarrierView>(barrier_, "logical/kv/"));
    faulty_ = faulty.get();
    EngineContext context;
    context.storage = std::move(faulty);
    context.clock = &clock;
    context.mount_path = "secret/";
    auto engine = make_kv_engine(std::move(context), Json{{"version", "2"}});
    REQUIRE(engine.has_value());
    engine_ = std::move(*engine);
  }

  api::Response call(Operation op, std::string path, Json body = Json::object(),
                     std::map<std::string, std::string> query = {}) {
    api::Request request;
    request.operation = op;
    request.path = std::move(path);
    request.body = std::move(body);
    request.query = std::move(query);
    api::Response response = engine_->handle(request);
    if (response.raw_body && response.content_type == "application/json") {
      // Pre-rendered JSON (the read fast path) must be one valid JSON document.
      response.body = Json::parse(*response.raw_body);
    }
    return response;
  }

  // The engine's answer, which must have the given status and a JSON body.
  Json expect(int status, Operation op, std::string path, Json body = Json::object(),
              std::map<std::string, std::string> query = {}) {
    auto response = call(op, path, std::move(body), std::move(query));
    INFO("path " << path << " body " << (response.body ? response.body->dump() : "<none>"));
    REQUIRE(response.status == status);
    REQUIRE(response.body.has_value());
    return *response.body;
  }

  void expect_no_content(Operation op, std::string path, Json body = Json::object()) {
    auto response = call(op, path, std::move(body));
    INFO("path " << path << " body " << (response.body ? response.body->dump() : "<none>"));
    REQUIRE(response.status == 204);
    CHECK_FALSE(response.body.has_value());
  }

  // Writes `data` and returns the new version number.
  std::uint64_t put(const std::string& path, Json data, Json options = Json::object()) {
    Json body = expect(200, Operation::kUpdate, "data/" + path,
                       {{"data", std::move(data)}, {"options", std::move(options)}});
    return body["data"]["version"].get<std::uint64_t>();
  }

  Json read_data(const std::string& path, std::string version = {}) {
    std::map<std::string, std::string> query;
    if (!version.empty()) query["version"] = version;
    return expect(200, Operation::kRead, "data/" + path, Json::object(), query)["data"];
  }

  Json metadata(const std::string& path) {
    return expect(200, Operation::kRead, "metadata/" + path)["data"];
  }

  // Raw access to the engine's view of storage (plaintext above the barrier).
  bool stored(const std::string& key) {
    barrier::BarrierView view(barrier_, "logical/kv/");
    auto value = view.get(key);
    REQUIRE(value.has_value());
    return value->has_value();
  }

  ManualClock clock;
  FaultyStorage* faulty_ = nullptr;

 private:
  std::unique_ptr<storage::Backend> backend_;
  barrier::Barrier barrier_;
  std::unique_ptr<SecretEngine> engine_;
};

void check_empty_errors(const Json& body) {
  REQUIRE(body.contains("errors"));
  CHECK(body["errors"] == Json::array());
}

TEST_CASE("kv mount options pick the engine version") {
  auto make = [](Json options) {
    ManualClock clock;
    auto backend = storage::make_inmem_backend();
    barrier::Barrier barrier(*backend, clock);
    REQUIRE(barrier.initialize(SecretBytes::random(32)).ok());
    EngineContext context;
    context.storage = std::make_unique<barrier::BarrierView>(barrier, "logical/x/");
    context.clock = &clock;
    auto engine = make_kv_engine(std::move(context), options);
    if (!engine) return -1;
    api::Request request;
    request.path = "config";
    return (*engine)->handle(request).status;
  };
  // v2 has a config endpoint; v1 reads "config" as an absent secret.
  CHECK(make(Json{{"version", "2"}}) == 200);
  CHECK(make(Json{{"version", 2}}) == 200);
  CHECK(make(Json{{"version", "1"}}) == 404);
  CHECK(make(Json::object()) == 404);
  CHECK(make(Json{{"version", "3"}}) == -1);
}

TEST_CASE("kv v2 write answers with the new version's metadata and read returns data") {
  Kv kv;
  kv.clock.set_nanos(kStartSeconds * 1'000'000'000 + 123'400'000);
  Json written = kv.expect(200, Operation::kUpdate, "data/app/db",
                           {{"data", {{"user", "u"}, {"n", 1}}}, {"options", Json::object()}});
  CHECK(written["request_id"].is_string());
  CHECK(written["lease_id"] == "");
  CHECK(written["warnings"].is_null());
  const Json& meta = written["data"];
  CHECK(meta["version"] == 1);
  CHECK(meta["created_time"] == "2023-11-14T22:13:20.1234Z");
  CHECK(meta["deletion_time"] == "");
  CHECK(meta["destroyed"] == false);
  CHECK(meta["custom_metadata"].is_null());
  CHECK(meta.size() == 5);

  kv.clock.set_nanos((kStartSeconds + 60) * 1'000'000'000);
  CHECK(kv.put("app/db", {{"user", "v"}}) == 2);

  Json latest = kv.read_data("app/db");
  CHECK(latest["data"] == Json{{"user", "v"}});
  CHECK(latest["metadata"]["version"] == 2);
  CHECK(latest["metadata"]["created_time"] == "2023-11-14T22:14:20Z");
  CHECK(latest["metadata"]["deletion_time"] == "");
  CHECK(latest["metadata"]["destroyed"] == false);

  Json first = kv.read_data("app/db", "1");
  CHECK(first["data"] == Json{{"user", "u"}, {"n", 1}});
  CHECK(first["metadata"]["version"] == 1);
  // version=0 means latest, as in Vault.
  CHECK(kv.read_data("app/db", "0")["metadata"]["version"] == 2);
  // An empty data map is a valid secret.
  CHECK(kv.put("empty", Json::object()) == 1);
  CHECK(kv.read_data("empty")["data"] == Json::object());
}

TEST_CASE("kv v2 read of an absent secret or version is 404 with an empty error list") {
  Kv kv;
  check_empty_errors(kv.expect(404, Operation::kRead, "data/missing"));
  kv.put("s", {{"a", 1}});
  check_empty_errors(
      kv.expect(404, Operation::kRead, "data/s", Json::object(), {{"version", "7"}}));
  auto bad = kv.expect(400, Operation::kRead, "data/s", Json::object(), {{"version", "x"}});
  CHECK(bad["errors"][0].get<std::string>().find("version") != std::string::npos);
}

TEST_CASE("kv v2 write rejects missing, null or malformed data and options") {
  Kv kv;
  auto no_data = kv.expect(400, Operation::kUpdate, "data/s", {{"options", Json::object()}});
  CHECK(no_data["errors"] == Json{"no data provided"});
  CHECK(kv.expect(400, Operation::kUpdate, "data/s", {{"data", nullptr}})["errors"] ==
        Json{"no data provided"});
  kv.expect(400, Operation::kCreate, "data/s", {{"data", "text"}});
  kv.expect(400, Operation::kCreate, "data/s", {{"data", {{"a", 1}}}, {"options", "cas=1"}});
  // hvac's explicit nulls are "not provided".
  CHECK(kv.expect(200, Operation::kCreate, "data/s",
                  {{"data", {{"a", 1}}}, {"options", nullptr}})["data"]["version"] == 1);
  // Nothing was stored by the failed attempts.
  CHECK(kv.metadata("s")["current_version"] == 1);
}

TEST_CASE("kv v2 write warns about fields it ignores") {
  Kv kv;
  Json body = kv.expect(200, Operation::kUpdate, "data/s",
                        {{"data", {{"a", 1}}}, {"zeta", 1}, {"alpha", 2}});
  CHECK(body["warnings"] == Json{"Endpoint ignored these unrecognized parameters: [alpha zeta]"});
}

TEST_CASE("kv v2 check-and-set: 0 creates only, N must equal the current version") {
  Kv kv;
  CHECK(kv.put("s", {{"v", 1}}, {{"cas", 0}}) == 1);
  auto again = kv.expect(400, Operation::kUpdate, "data/s",
                         {{"data", {{"v", 2}}}, {"options", {{"cas", 0}}}});
  CHECK(again["errors"] == Json{"check-and-set parameter did not match the current version"});
  auto stale = kv.expect(400, Operation::kUpdate, "data/s",
                         {{"data", {{"v", 2}}}, {"options", {{"cas", 2}}}});
  CHECK(stale["errors"] == Json{"check-and-set parameter did not match the current version"});
  CHECK(kv.put("s", {{"v", 2}}, {{"cas", 1}}) == 2);
  // A numeric string is a number (weak decoding).
  CHECK(kv.put("s", {{"v", 3}}, {{"cas", "2"}}) == 3);
  auto garbage = kv.expect(400, Operation::kUpdate, "data/s",
                           {{"data", {{"v", 4}}}, {"options", {{"cas", "three"}}}});
  CHECK(garbage["errors"] == Json{"error parsing check-and-set parameter"});
  CHECK(kv.read_data("s")["data"] == Json{{"v", 3}});
}

TEST_CASE("kv v2 enforces cas_required from the mount config and from key metadata") {
  Kv kv;
  kv.put("free", {{"v", 1}});
  kv.expect_no_content(Operation::kUpdate, "metadata/locked", {{"cas_required", true}});
  auto missing = kv.expect(400, Operation::kUpdate, "data/locked", {{"data", {{"v", 1}}}});
  CHECK(missing["errors"] == Json{"check-and-set parameter required for this call"});
  // A null cas is no cas.
  kv.expect(400, Operation::kUpdate, "data/locked",
            {{"data", {{"v", 1}}}, {"options", {{"cas", nullptr}}}});
  CHECK(kv.put("locked", {{"v", 1}}, {{"cas", 0}}) == 1);
  CHECK(kv.put("free", {{"v", 2}}) == 2);

  kv.expect_no_content(Operation::kUpdate, "config", {{"cas_required", true}});
  CHECK(kv.expect(400, Operation::kUpdate, "data/free", {{"data", {{"v", 3}}}})["errors"] ==
        Json{"check-and-set parameter required for this call"});
  CHECK(kv.put("free", {{"v", 3}}, {{"cas", 2}}) == 3);
  // Turning it off on a key while the mount mandates it only warns.
  Json warned = kv.expect(200, Operation::kUpdate, "metadata/free", {{"cas_required", false}});
  CHECK(warned["data"].is_null());
  REQUIRE(warned["warnings"].is_array());
  CHECK(warned["warnings"][0].get<std::string>().find("mandated by backend config") !=
        std::string::npos);
  kv.expect(400, Operation::kUpdate, "data/free", {{"data", {{"v", 4}}}});
}

TEST_CASE("kv v2 patch applies a JSON merge patch to the latest version") {
  Kv kv;
  check_empty_errors(kv.expect(404, Operation::kPatch, "data/s", {{"data", {{"a", 1}}}}));
  kv.put("s", {{"a", 1}, {"b", {{"x", 1}, {"y", 2}}}, {"c", "keep"}});
  Json patched = kv.expect(200, Operation::kPatch, "data/s",
                           {{"data", {{"a", 2}, {"b", {{"x", nullptr}, {"z", 3}}}, {"d", true}}}});
  CHECK(patched["data"]["version"] == 2);
  CHECK(kv.read_data("s")["data"] ==
        Json{{"a", 2}, {"b", {{"y", 2}, {"z", 3}}}, {"c", "keep"}, {"d", true}});
  CHECK(kv.expect(400, Operation::kPatch, "data/s", Json::object())["errors"] ==
        Json{"no data provided"});
  // Patch honours cas too.
  kv.expect(400, Operation::kPatch, "data/s", {{"data", {{"a", 3}}}, {"options", {{"cas", 1}}}});
  CHECK(kv.expect(200, Operation::kPatch, "data/s",
                  {{"data", {{"a", 3}}}, {"options", {{"cas", 2}}}})["data"]["version"] == 3);

  // The latest version must be live.
  kv.expect_no_content(Operation::kDelete, "data/s");
  Json gone = kv.expect(404, Operation::kPatch, "data/s", {{"data", {{"a", 4}}}});
  CHECK(gone["data"]["version"] == 3);
  CHECK(gone["data"]["deletion_time"] != "");
  CHECK(kv.metadata("s")["current_version"] == 3);
}

TEST_CASE("kv v2 soft delete hides a version behind a 404 that still carries its metadata") {
  Kv kv;
  kv.put("s", {{"v", 1}});
  kv.put("s", {{"v", 2}});
  kv.clock.advance_seconds(5);
  kv.expect_no_content(Operation::kDelete, "data/s");
  Json deleted = kv.expect(404, Operation::kRead, "data/s");
  CHECK_FALSE(deleted.contains("errors"));
  CHECK(deleted["data"]["data"].is_null());
  CHECK(deleted["data"]["metadata"]["version"] == 2);
  CHECK(deleted["data"]["metadata"]["deletion_time"] == "2023-11-14T22:13:25Z");
  CHECK(deleted["data"]["metadata"]["destroyed"] == false);
  // Older versions stay readable; deleting again or deleting an absent secret is fine.
  CHECK(kv.read_data("s", "1")["data"] == Json{{"v", 1}});
  kv.expect_no_content(Operation::kDelete, "data/s");
  kv.expect_no_content(Operation::kDelete, "data/nothing");
  CHECK(kv.metadata("s")["versions"]["2"]["deletion_time"] == "2023-11-14T22:13:25Z");

  kv.expect_no_content(Operation::kUpdate, "undelete/s", {{"versions", {2}}});
  CHECK(kv.read_data("s")["data"] == Json{{"v", 2}});
  CHECK(kv.read_data("s")["metadata"]["deletion_time"] == "");
}

TEST_CASE("kv v2 delete and undelete act on listed versions") {
  Kv kv;
  for (int i = 1; i <= 3; ++i) kv.put("s", {{"v", i}});
  CHECK(kv.expect(400, Operation::kUpdate, "delete/s", Json::object())["errors"] ==
        Json{"No version number provided"});
  CHECK(kv.expect(400, Operation::kUpdate, "undelete/s", {{"versions", Json::array()}})["errors"] ==
        Json{"No version number provided"});
  kv.expect(400, Operation::kUpdate, "delete/s", {{"versions", {"one"}}});
  // Comma-separated strings work too, and unknown versions are skipped.
  kv.expect_no_content(Operation::kUpdate, "delete/s", {{"versions", "1,3,99"}});
  kv.expect(404, Operation::kRead, "data/s", Json::object(), {{"version", "1"}});
  kv.expect(404, Operation::kRead, "data/s");
  CHECK(kv.read_data("s", "2")["data"] == Json{{"v", 2}});
  kv.expect_no_content(Operation::kUpdate, "undelete/s", {{"versions", {1}}});
  CHECK(kv.read_data("s", "1")["data"] == Json{{"v", 1}});
  kv.expect(404, Operation::kRead, "data/s");
  // Acting on an absent secret is a no-op, as in Vault.
  kv.expect_no_content(Operation::kUpdate, "delete/none", {{"versions", {1}}});
  CHECK(kv.call(Operation::kRead, "delete/s").status == 405);
}

TEST_CASE("kv v2 destroy removes the version data from storage for good") {
  Kv kv;
  kv.put("a/b", {{"v", 1}});
  kv.put("a/b", {{"v", 2}});
  REQUIRE(kv.stored("ver/a/b/1"));
  CHECK(kv.expect(400, Operation::kUpdate, "destroy/a/b", Json::object())["errors"] ==
        Json{"no version number provided"});
  kv.expect_no_content(Operation::kUpdate, "destroy/a/b", {{"versions", {1}}});
  CHECK_FALSE(kv.stored("ver/a/b/1"));
  CHECK(kv.stored("ver/a/b/2"));
  Json destroyed = kv.expect(404, Operation::kRead, "data/a/b", Json::object(), {{"version", "1"}});
  CHECK(destroyed["data"]["data"].is_null());
  CHECK(destroyed["data"]["metadata"]["destroyed"] == true);
  // Undelete cannot bring it back.
  kv.expect_no_content(Operation::kUpdate, "undelete/a/b", {{"versions", {1}}});
  kv.expect(404, Operation::kRead, "data/a/b", Json::object(), {{"version", "1"}});
  CHECK(kv.metadata("a/b")["versions"]["1"]["destroyed"] == true);
  CHECK(kv.read_data("a/b")["data"] == Json{{"v", 2}});
}

TEST_CASE("kv v2 metadata read reports the version table with string keys") {
  Kv kv;
  kv.put("s", {{"v", 1}});
  kv.clock.advance_seconds(90);
  kv.put("s", {{"v", 2}});
  Json meta = kv.metadata("s");
  CHECK(meta["current_version"] == 2);
  CHECK(meta["oldest_version"] == 0);
  CHECK(meta["max_versions"] == 0);
  CHECK(meta["cas_required"] == false);
  CHECK(meta["delete_version_after"] == "0s");
  CHECK(meta["custom_metadata"].is_null());
  CHECK(meta["created_time"] == "2023-11-14T22:13:20Z");
  CHECK(meta["updated_time"] == "2023-11-14T22:14:50Z");
  REQUIRE(meta["versions"].is_object());
  CHECK(meta["versions"].size() == 2);
  CHECK(meta["versions"]["1"] == Json{{"created_time", "2023-11-14T22:13:20Z"},
                                      {"deletion_time", ""},
                                      {"destroyed", false}});
  CHECK(meta["versions"].contains("2"));
  check_empty_errors(kv.expect(404, Operation::kRead, "metadata/missing"));
}

TEST_CASE("kv v2 metadata list returns keys and folders and 404s when empty") {
  Kv kv;
  check_empty_errors(kv.expect(404, Operation::kList, "metadata/"));
  kv.put("top", {{"v", 1}});
  kv.put("dir/one", {{"v", 1}});
  kv.put("dir/sub/two", {{"v", 1}});
  CHECK(kv.expect(200, Operation::kList, "metadata/")["data"]["keys"] == Json{"dir/", "top"});
  CHECK(kv.expect(200, Operation::kList, "metadata/dir/")["data"]["keys"] == Json{"one", "sub/"});
  // hvac strips the trailing slash; the engine treats the path as a folder anyway.
  CHECK(kv.expect(200, Operation::kList, "metadata/dir")["data"]["keys"] == Json{"one", "sub/"});
  check_empty_errors(kv.expect(404, Operation::kList, "metadata/nothing/"));
  // Metadata-only keys are listed too.
  kv.expect_no_content(Operation::kUpdate, "metadata/dir/meta-only", {{"max_versions", 3}});
  CHECK(kv.expect(200, Operation::kList, "metadata/dir/")["data"]["keys"] ==
        Json{"meta-only", "one", "sub/"});
}

TEST_CASE("kv v2 metadata write sets settings and custom metadata") {
  Kv kv;
  kv.expect_no_content(Operation::kUpdate, "metadata/s",
                       {{"max_versions", 5},
                        {"cas_required", "true"},
                        {"delete_version_after", "1h30m"},
                        {"custom_metadata", {{"owner", "team"}, {"n", 7}}}});
  Json meta = kv.metadata("s");
  CHECK(meta["max_versions"] == 5);
  CHECK(meta["cas_required"] == true);
  CHECK(meta["delete_version_after"] == "1h30m0s");
  CHECK(meta["custom_metadata"] == Json{{"owner", "team"}, {"n", "7"}});
  CHECK(meta["current_version"] == 0);
  CHECK(meta["versions"] == Json::object());
  // Reads of a key without versions are plain 404s.
  check_empty_errors(kv.expect(404, Operation::kRead, "data/s"));

  CHECK(kv.put("s", {{"v", 1}}, {{"cas", 0}}) == 1);
  Json data = kv.read_data("s");
  CHECK(data["metadata"]["custom_metadata"] == Json{{"owner", "team"}, {"n", "7"}});
  CHECK(data["metadata"]["deletion_time"] == "2023-11-14T23:43:20Z");

  // Nulls are ignored; custom_metadata in a POST replaces the whole map.
  kv.expect_no_content(Operation::kUpdate, "metadata/s",
                       {{"max_versions", nullptr}, {"custom_metadata", {{"only", "this"}}}});
  meta = kv.metadata("s");
  CHECK(meta["max_versions"] == 5);
  CHECK(meta["custom_metadata"] == Json{{"only", "this"}});
  kv.expect_no_content(Operation::kUpdate, "metadata/s", {{"delete_version_after", 0}});
  CHECK(kv.metadata("s")["delete_version_after"] == "0s");

  kv.expect(400, Operation::kUpdate, "metadata/s", {{"max_versions", -1}});
  kv.expect(400, Operation::kUpdate, "metadata/s", {{"max_versions", "many"}});
  kv.expect(400, Operation::kUpdate, "metadata/s", {{"cas_required", "perhaps"}});
  kv.expect(400, Operation::kUpdate, "metadata/s", {{"delete_version_after", "-5s"}});
  kv.expect(400, Operation::kUpdate, "metadata/s", {{"delete_version_after", "soon"}});
  CHECK(kv.expect(400, Operation::kUpdate, "metadata/", {{"max_versions", 1}})["errors"] ==
        Json{"missing path"});
  // An empty write changes nothing and creates nothing.
  kv.expect_no_content(Operation::kUpdate, "metadata/untouched", Json::object());
  kv.expect(404, Operation::kRead, "metadata/untouched");
}

TEST_CASE("kv v2 custom metadata limits: 64 keys, 128-byte keys, 512-byte values") {
  Kv kv;
  auto write = [&](Json custom) {
    return kv.call(Operation::kUpdate, "metadata/s", {{"custom_metadata", std::move(custom)}});
  };
  Json at_limit = Json::object();
  for (int i = 0; i < 64; ++i) at_limit["k" + std::to_string(i)] = "v";
  CHECK(write(at_limit).status == 204);
  Json over = at_limit;
  over["k64"] = "v";
  auto too_many = write(over);
  CHECK(too_many.status == 400);
  CHECK((*too_many.body)["errors"][0].get<std::string>().find("at most 64 keys") !=
        std::string::npos);

  CHECK(write({{std::string(128, 'k'), std::string(512, 'v')}}).status == 204);
  auto long_key = write({{std::string(129, 'k'), "v"}});
  CHECK(long_key.status == 400);
  CHECK((*long_key.body)["errors"][0].get<std::string>().find(
            "custom_metadata validation failed") == 0);
  CHECK(write({{"k", std::string(513, 'v')}}).status == 400);
  CHECK(write({{"k", ""}}).status == 400);
  CHECK(write({{"k", "line\nbreak"}}).status == 400);
  CHECK(write({{"k", {{"nested", "no"}}}}).status == 400);
  CHECK(write("not a map").status == 400);
  // The last accepted write is what remains.
  CHECK(kv.metadata("s")["custom_metadata"] ==
        Json{{std::string(128, 'k'), std::string(512, 'v')}});
}

TEST_CASE("kv v2 metadata patch merges into existing metadata only") {
  Kv kv;
  check_empty_errors(kv.expect(404, Operation::kPatch, "metadata/s", {{"max_versions", 3}}));
  kv.expect_no_content(Operation::kUpdate, "metadata/s",
                       {{"max_versions", 4}, {"custom_metadata", {{"a", "1"}, {"b", "2"}}}});
  kv.expect_no_content(Operation::kPatch, "metadata/s",
                       {{"cas_required", true},
                        {"delete_version_after", "10m"},
                        {"custom_metadata", {{"a", nullptr}, {"c", "3"}}}});
  Json meta = kv.metadata("s");
  CHECK(meta["max_versions"] == 4);
  CHECK(meta["cas_required"] == true);
  CHECK(meta["delete_version_after"] == "10m0s");
  CHECK(meta["custom_metadata"] == Json{{"b", "2"}, {"c", "3"}});
  // The merged map must still respect the limits.
  Json many = Json::object();
  for (int i = 0; i < 63; ++i) many["n" + std::to_string(i)] = "v";
  CHECK(kv.call(Operation::kPatch, "metadata/s", {{"custom_metadata", many}}).status == 400);
  CHECK(kv.metadata("s")["custom_metadata"] == Json{{"b", "2"}, {"c", "3"}});
}

TEST_CASE("kv v2 metadata delete removes every version and the metadata") {
  Kv kv;
  kv.put("s", {{"v", 1}});
  kv.put("s", {{"v", 2}});
  kv.put("other", {{"v", 1}});
  kv.expect_no_content(Operation::kDelete, "metadata/s");
  CHECK_FALSE(kv.stored("meta/s"));
  CHECK_FALSE(kv.stored("ver/s/1"));
  CHECK_FALSE(kv.stored("ver/s/2"));
  kv.expect(404, Operation::kRead, "data/s");
  kv.expect(404, Operation::kRead, "metadata/s");
  CHECK(kv.expect(200, Operation::kList, "metadata/")["data"]["keys"] == Json{"other"});
  kv.expect_no_content(Operation::kDelete, "metadata/s");
  // The path starts over at version 1.
  CHECK(kv.put("s", {{"v", 3}}, {{"cas", 0}}) == 1);
}

TEST_CASE("kv v2 keeps 10 versions by default and removes the pruned data") {
  Kv kv;
  for (int i = 1; i <= 10; ++i) kv.put("s", {{"v", i}});
  Json meta = kv.metadata("s");
  CHECK(meta["versions"].size() == 10);
  CHECK(meta["oldest_version"] == 1);
  for (int i = 11; i <= 12; ++i) kv.put("s", {{"v", i}});
  meta = kv.metadata("s");
  CHECK(meta["current_version"] == 12);
  CHECK(meta["oldest_version"] == 3);
  CHECK(meta["versions"].size() == 10);
  CHECK_FALSE(meta["versions"].contains("2"));
  CHECK(meta["versions"].contains("3"));
  CHECK_FALSE(kv.stored("ver/s/1"));
  CHECK_FALSE(kv.stored("ver/s/2"));
  CHECK(kv.stored("ver/s/3"));
  check_empty_errors(
      kv.expect(404, Operation::kRead, "data/s", Json::object(), {{"version", "2"}}));
  CHECK(kv.read_data("s", "3")["data"] == Json{{"v", 3}});
}

TEST_CASE("kv v2 max_versions from key metadata or mount config bounds the history") {
  Kv kv;
  kv.expect_no_content(Operation::kUpdate, "metadata/two", {{"max_versions", 2}});
  for (int i = 1; i <= 5; ++i) kv.put("two", {{"v", i}});
  Json meta = kv.metadata("two");
  CHECK(meta["versions"].size() == 2);
  CHECK(meta["oldest_version"] == 4);
  for (int i = 1; i <= 3; ++i) CHECK_FALSE(kv.stored("ver/two/" + std::to_string(i)));

  kv.expect_no_content(Operation::kUpdate, "config", {{"max_versions", 3}});
  for (int i = 1; i <= 5; ++i) kv.put("three", {{"v", i}});
  CHECK(kv.metadata("three")["versions"].size() == 3);
  // Shrinking the limit prunes on the next write.
  kv.expect_no_content(Operation::kUpdate, "config", {{"max_versions", 1}});
  kv.put("three", {{"v", 6}});
  meta = kv.metadata("three");
  CHECK(meta["versions"].size() == 1);
  CHECK(meta["versions"].contains("6"));
  CHECK_FALSE(kv.stored("ver/three/5"));
}

TEST_CASE("kv v2 config reads back defaults and written values as Vault shows them") {
  Kv kv;
  Json defaults = kv.expect(200, Operation::kRead, "config")["data"];
  CHECK(defaults ==
        Json{{"max_versions", 0}, {"cas_required", false}, {"delete_version_after", "0s"}});
  // hvac's configure() sends these; cas_required null is "not provided".
  kv.expect_no_content(
      Operation::kUpdate, "config",
      {{"max_versions", 10}, {"cas_required", nullptr}, {"delete_version_after", "0s"}});
  kv.expect_no_content(Operation::kUpdate, "config", {{"delete_version_after", 3600}});
  Json config = kv.expect(200, Operation::kRead, "config")["data"];
  CHECK(config ==
        Json{{"max_versions", 10}, {"cas_required", false}, {"delete_version_after", "1h0m0s"}});
  kv.expect_no_content(Operation::kUpdate, "config", {{"delete_version_after", "-1s"}});
  CHECK(kv.expect(200, Operation::kRead, "config")["data"]["delete_version_after"] == "-1s");
  kv.expect(400, Operation::kUpdate, "config", {{"max_versions", "ten"}});
  kv.expect(400, Operation::kUpdate, "config", {{"delete_version_after", "later"}});
  kv.expect(400, Operation::kUpdate, "config", {{"cas_required", Json::array()}});
  CHECK(kv.call(Operation::kDelete, "config").status == 405);
}

TEST_CASE("kv v2 delete_version_after makes versions read as deleted once the clock passes it") {
  Kv kv;
  kv.expect_no_content(Operation::kUpdate, "config", {{"delete_version_after", "10s"}});
  kv.put("s", {{"v", 1}});
  Json live = kv.read_data("s");
  CHECK(live["metadata"]["deletion_time"] == "2023-11-14T22:13:30Z");
  kv.clock.advance_seconds(9);
  CHECK(kv.read_data("s")["data"] == Json{{"v", 1}});
  kv.clock.advance_seconds(2);
  Json expired = kv.expect(404, Operation::kRead, "data/s");
  CHECK(expired["data"]["data"].is_null());
  CHECK(expired["data"]["metadata"]["deletion_time"] == "2023-11-14T22:13:30Z");
  // Undelete starts a new period from now.
  kv.expect_no_content(Operation::kUpdate, "undelete/s", {{"versions", {1}}});
  CHECK(kv.read_data("s")["metadata"]["deletion_time"] == "2023-11-14T22:13:41Z");

  // The key's value applies when smaller than the mount's.
  kv.expect_no_content(Operation::kUpdate, "metadata/short", {{"delete_version_after", "3s"}});
  kv.put("short", {{"v", 1}});
  kv.clock.advance_seconds(4);
  kv.expect(404, Operation::kRead, "data/short");

  // A negative mount value turns the feature off for every key.
  kv.expect_no_content(Operation::kUpdate, "config", {{"delete_version_after", -1}});
  kv.put("forever", {{"v", 1}});
  kv.clock.advance_seconds(3600);
  CHECK(kv.read_data("forever")["metadata"]["deletion_time"] == "");
}

TEST_CASE("kv v2 subkeys returns the key structure without values") {
  Kv kv;
  kv.put(
      "s",
      {{"foo", "abc"}, {"bar", {{"baz", "def"}, {"deep", {{"x", 1}}}}}, {"quux", Json::object()}});
  Json all = kv.expect(200, Operation::kRead, "subkeys/s")["data"];
  CHECK(all["subkeys"] == Json{{"foo", nullptr},
                               {"bar", {{"baz", nullptr}, {"deep", {{"x", nullptr}}}}},
                               {"quux", nullptr}});
  CHECK(all["metadata"]["version"] == 1);
  Json one =
      kv.expect(200, Operation::kRead, "subkeys/s", Json::object(), {{"depth", "1"}})["data"];
  CHECK(one["subkeys"] == Json{{"foo", nullptr}, {"bar", nullptr}, {"quux", nullptr}});
  Json two =
      kv.expect(200, Operation::kRead, "subkeys/s", Json::object(), {{"depth", "2"}})["data"];
  CHECK(two["subkeys"] ==
        Json{{"foo", nullptr}, {"bar", {{"baz", nullptr}, {"deep", nullptr}}}, {"quux", nullptr}});
  kv.expect(400, Operation::kRead, "subkeys/s", Json::object(), {{"depth", "-1"}});

  kv.put("s", {{"new", 1}});
  Json old =
      kv.expect(200, Operation::kRead, "subkeys/s", Json::object(), {{"version", "1"}})["data"];
  CHECK(old["subkeys"].contains("foo"));
  kv.expect_no_content(Operation::kDelete, "data/s");
  Json deleted = kv.expect(404, Operation::kRead, "subkeys/s");
  CHECK(deleted["data"]["subkeys"].is_null());
  CHECK(deleted["data"]["metadata"]["version"] == 2);
  check_empty_errors(kv.expect(404, Operation::kRead, "subkeys/absent"));
}

TEST_CASE("kv v2 answers paths outside its API as Vault does") {
  Kv kv;
  Json plain = kv.expect(404, Operation::kRead, "some/secret");
  REQUIRE(plain["warnings"].is_array());
  CHECK(plain["warnings"][0].get<std::string>().find("'vault kv get'") != std::string::npos);
  CHECK(plain["data"].is_null());
  Json put = kv.expect(404, Operation::kUpdate, "some/secret", {{"a", 1}});
  CHECK(put["warnings"][0].get<std::string>().find("'vault kv put'") != std::string::npos);
  Json root = kv.expect(404, Operation::kRead, "data");
  CHECK(root["warnings"][0] ==
        "Non-listing operations on the root of a K/V v2 mount are not supported.");
  Json listing = kv.expect(404, Operation::kList, "data/");
  CHECK(listing["warnings"][0].get<std::string>().find("'vault kv list'") != std::string::npos);
  CHECK(kv.call(Operation::kList, "data/s").status == 405);
  CHECK(kv.call(Operation::kPatch, "config").status == 405);
  CHECK(kv.call(Operation::kUpdate, "subkeys/s").status == 405);
  // Paths that would name other storage keys are refused.
  CHECK(kv.call(Operation::kUpdate, "data/a/../b", {{"data", {{"a", 1}}}}).status == 400);
  CHECK(kv.call(Operation::kUpdate, "data/a//b", {{"data", {{"a", 1}}}}).status == 400);
}

TEST_CASE("kv v2 concurrent writers to one path get versions 1..200 with no gaps") {
  Kv kv;
  kv.expect_no_content(Operation::kUpdate, "config", {{"max_versions", 1000}});
  constexpr int kThreads = 4;
  constexpr int kWrites = 50;
  std::vector<std::vector<std::uint64_t>> seen(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        auto r = kv.call(Operation::kUpdate, "data/shared", {{"data", {{"writer", t}, {"i", i}}}});
        if (r.status != 200 || !r.body) {
          ++failures;
          continue;
        }
        seen[t].push_back((*r.body)["data"]["version"].get<std::uint64_t>());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(failures == 0);

  std::set<std::uint64_t> versions;
  for (const auto& list : seen) versions.insert(list.begin(), list.end());
  CHECK(versions.size() == kThreads * kWrites);
  CHECK(*versions.begin() == 1);
  CHECK(*versions.rbegin() == kThreads * kWrites);

  Json meta = kv.metadata("shared");
  CHECK(meta["current_version"] == kThreads * kWrites);
  CHECK(meta["versions"].size() == kThreads * kWrites);
  std::set<std::pair<int, int>> contents;
  for (int v = 1; v <= kThreads * kWrites; ++v) {
    Json data = kv.read_data("shared", std::to_string(v))["data"];
    contents.emplace(data["writer"].get<int>(), data["i"].get<int>());
  }
  CHECK(contents.size() == kThreads * kWrites);
}

TEST_CASE("kv v2 concurrent create-only writes let exactly one writer win") {
  Kv kv;
  constexpr int kThreads = 8;
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = kv.call(Operation::kUpdate, "data/once",
                       {{"data", {{"writer", t}}}, {"options", {{"cas", 0}}}});
      if (r.status == 200) ++created;
      if (r.status == 400) ++refused;
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(created == 1);
  CHECK(refused == kThreads - 1);
  CHECK(kv.metadata("once")["current_version"] == 1);
}

TEST_CASE("kv v2 writes are all or nothing when storage fails") {
  Kv kv;
  kv.expect_no_content(Operation::kUpdate, "metadata/s", {{"max_versions", 2}});
  kv.put("s", {{"v", 1}});
  kv.put("s", {{"v", 2}});
  // Fail each mutation the engine makes in turn: a failed write leaves no trace, whichever
  // storage call failed.
  for (int n = 1; n <= 3; ++n) {
    CAPTURE(n);
    kv.faulty_->fail_mutation(n);
    auto r = kv.call(Operation::kUpdate, "data/s", {{"data", {{"v", 3}}}});
    kv.faulty_->fail_mutation(0);
    if (r.status == 200) {
      // This write succeeded because the injected failure came after all its storage calls.
      kv.expect_no_content(Operation::kDelete, "metadata/s");
      kv.expect_no_content(Operation::kUpdate, "metadata/s", {{"max_versions", 2}});
      kv.put("s", {{"v", 1}});
      kv.put("s", {{"v", 2}});
      continue;
    }
    CHECK(r.status == 500);
    Json meta = kv.metadata("s");
    CHECK(meta["current_version"] == 2);
    CHECK(meta["versions"].size() == 2);
    CHECK_FALSE(kv.stored("ver/s/3"));
    CHECK(kv.stored("ver/s/1"));
    CHECK(kv.read_data("s", "1")["data"] == Json{{"v", 1}});
  }

  // The same for destroy and metadata delete.
  kv.faulty_->fail_mutation(1);
  CHECK(kv.call(Operation::kUpdate, "destroy/s", {{"versions", {1}}}).status == 500);
  kv.faulty_->fail_mutation(0);
  CHECK(kv.metadata("s")["versions"]["1"]["destroyed"] == false);
  CHECK(kv.stored("ver/s/1"));
  kv.faulty_->fail_mutation(1);
  CHECK(kv.call(Operation::kDelete, "metadata/s").status == 500);
  kv.faulty_->fail_mutation(0);
  CHECK(kv.stored("meta/s"));
  CHECK(kv.stored("ver/s/2"));
}

}  // namespace
}  // namespace coffer::engines::kv
