// PolicyStore: persistence, built-ins and the compiled-ACL cache.

#include <doctest/doctest.h>

#include "storage/backend.h"
#include "vault/barrier/barrier.h"
#include "vault/core/policy_store.h"

namespace {

struct OpenBarrier {
  std::unique_ptr<coffer::storage::Backend> backend = coffer::storage::make_inmem_backend();
  coffer::barrier::Barrier barrier{*backend, coffer::system_clock()};
  OpenBarrier() { REQUIRE(barrier.initialize(coffer::SecretBytes::random(32)).ok()); }
};

std::vector<std::string> caps(coffer::core::PolicyStore& store, std::vector<std::string> names,
                              std::string_view path) {
  auto acl = store.acl_for(names);
  REQUIRE(acl.has_value());
  return (*acl)->capability_names(path);
}

}  // namespace

TEST_CASE("policy store seeds default and serves the built-in root and response-wrapping") {
  OpenBarrier b;
  coffer::core::PolicyStore store(b.barrier);
  REQUIRE(store.load().ok());
  CHECK(store.find("default") != nullptr);
  CHECK(store.find("root") != nullptr);
  REQUIRE(store.find("response-wrapping") != nullptr);
  CHECK(caps(store, {"response-wrapping"}, "sys/wrapping/unwrap") ==
        std::vector<std::string>{"update"});
  CHECK(caps(store, {"default"}, "auth/token/lookup-self") == std::vector<std::string>{"read"});
  CHECK(store.names() == std::vector<std::string>{"default", "root"});
}

TEST_CASE("policy store refuses to change or delete the built-ins") {
  OpenBarrier b;
  coffer::core::PolicyStore store(b.barrier);
  REQUIRE(store.load().ok());
  CHECK_FALSE(store.put("root", "path \"*\" { capabilities = [\"read\"] }").ok());
  CHECK_FALSE(store.put("response-wrapping", "path \"*\" { capabilities = [\"read\"] }").ok());
  CHECK_FALSE(store.remove("default").ok());
  CHECK_FALSE(store.remove("root").ok());
  CHECK(store.remove("never-existed").ok());
}

TEST_CASE("a policy change applies to the next ACL lookup and survives a reload") {
  OpenBarrier b;
  coffer::core::PolicyStore store(b.barrier);
  REQUIRE(store.load().ok());
  REQUIRE(store.put("App", "path \"secret/*\" { capabilities = [\"read\"] }").ok());
  CHECK(caps(store, {"app"}, "secret/x") == std::vector<std::string>{"read"});
  REQUIRE(store.put("app", "path \"secret/*\" { capabilities = [\"deny\"] }").ok());
  CHECK(caps(store, {"app"}, "secret/x") == std::vector<std::string>{"deny"});

  coffer::core::PolicyStore reloaded(b.barrier);
  REQUIRE(reloaded.load().ok());
  CHECK(caps(reloaded, {"app"}, "secret/x") == std::vector<std::string>{"deny"});
  REQUIRE(reloaded.remove("app").ok());
  CHECK(reloaded.find("app") == nullptr);
}

TEST_CASE("a malformed policy is refused with its parse error and changes nothing") {
  OpenBarrier b;
  coffer::core::PolicyStore store(b.barrier);
  REQUIRE(store.load().ok());
  auto s = store.put("bad", "path \"x\" { capabilities = [\"fly\"] }");
  CHECK(s.code() == coffer::StatusCode::kInvalidArgument);
  CHECK(store.find("bad") == nullptr);
}
