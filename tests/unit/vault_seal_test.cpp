// ShamirSeal over an in-memory backend and a real Barrier: Vault's init
// validation, unseal progress, wrong shares, sealing and a simulated restart.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/backend.h"
#include "vault/barrier/barrier.h"
#include "vault/base/clock.h"
#include "vault/base/secret_bytes.h"
#include "vault/seal/shamir.h"
#include "vault/seal/shamir_seal.h"

namespace coffer::seal {
namespace {

class ManualClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  }
};

// One vault's storage, barrier and seal; `restart()` drops the in-memory
// state (barrier and seal) and builds new ones over the same backend.
struct Vault {
  ManualClock clock;
  std::unique_ptr<storage::Backend> backend = storage::make_inmem_backend();
  std::unique_ptr<barrier::Barrier> barrier = std::make_unique<barrier::Barrier>(*backend, clock);
  std::unique_ptr<ShamirSeal> seal = std::make_unique<ShamirSeal>(*backend, *barrier);

  void restart() {
    seal.reset();
    barrier.reset();
    barrier = std::make_unique<barrier::Barrier>(*backend, clock);
    seal = std::make_unique<ShamirSeal>(*backend, *barrier);
  }

  std::vector<SecretBytes> init(int shares, int threshold) {
    auto outcome = seal->initialize(shares, threshold);
    REQUIRE(outcome.has_value());
    return std::move(outcome->shares);
  }

  UnsealProgress submit(const SecretBytes& share) {
    auto progress = seal->submit_share(share);
    REQUIRE(progress.has_value());
    return *progress;
  }

  UnsealProgress status() {
    auto progress = seal->status();
    REQUIRE(progress.has_value());
    return *progress;
  }
};

std::string init_error(Vault& vault, int shares, int threshold) {
  auto outcome = vault.seal->initialize(shares, threshold);
  REQUIRE_FALSE(outcome.has_value());
  CHECK(outcome.error().code() == StatusCode::kInvalidArgument);
  return outcome.error().message();
}

bool backend_is_empty(storage::Backend& backend) {
  bool empty = true;
  REQUIRE(backend
              .scan("",
                    [&](std::string_view, std::string_view) {
                      empty = false;
                      return false;
                    })
              .ok());
  return empty;
}

}  // namespace

TEST_CASE("seal initialisation validates like Vault and writes nothing on error") {
  Vault vault;
  CHECK(init_error(vault, 3, 5) == "threshold cannot be larger than shares");
  CHECK(init_error(vault, 256, 3) == "shares must be at most 255");
  CHECK(init_error(vault, 256, 300) == "shares must be at most 255");
  CHECK(init_error(vault, 5, 1) == "threshold must be greater than one for multiple shares");
  CHECK(init_error(vault, 0, 0) == "shares must be at least one");
  CHECK(init_error(vault, -1, 1) == "shares must be at least one");
  CHECK(init_error(vault, 1, 0) == "threshold must be at least one");

  CHECK(backend_is_empty(*vault.backend));
  CHECK_FALSE(vault.seal->initialized().value());
  CHECK(vault.barrier->sealed());
}

TEST_CASE("seal status before initialisation reports an uninitialised, sealed vault") {
  Vault vault;
  CHECK_FALSE(vault.seal->initialized().value());
  const UnsealProgress status = vault.status();
  CHECK_FALSE(status.initialized);
  CHECK(status.sealed);
  CHECK(status.threshold == 0);
  CHECK(status.shares == 0);
  CHECK(status.progress == 0);
  CHECK(status.nonce.empty());

  auto submitted = vault.seal->submit_share(SecretBytes::random(33));
  REQUIRE_FALSE(submitted.has_value());
  CHECK(submitted.error().message() == "Vault is not initialized");
}

TEST_CASE("a second initialisation is refused with Vault's message") {
  Vault vault;
  vault.init(1, 1);
  CHECK(init_error(vault, 1, 1) == "Vault is already initialized");
  CHECK(init_error(vault, 5, 3) == "Vault is already initialized");
  vault.restart();
  CHECK(init_error(vault, 5, 3) == "Vault is already initialized");
}

TEST_CASE("initialisation returns the shares and leaves the barrier unsealed") {
  Vault vault;
  auto shares = vault.init(5, 3);
  REQUIRE(shares.size() == 5);
  for (const auto& share : shares) CHECK(share.size() == 33);  // 32-byte key + x-coordinate

  CHECK(vault.seal->initialized().value());
  const UnsealProgress status = vault.status();
  CHECK(status.initialized);
  CHECK_FALSE(status.sealed);
  CHECK(status.threshold == 3);
  CHECK(status.shares == 5);
  CHECK(status.progress == 0);
  REQUIRE(vault.barrier->put("secret/a", "written after init").ok());

  // Neither a share nor the unseal key they reconstruct is in storage.
  auto unseal_key = combine(std::vector<SecretBytes>(shares.begin(), shares.begin() + 3));
  REQUIRE(unseal_key.has_value());
  std::string raw;
  REQUIRE(vault.backend
              ->scan("",
                     [&](std::string_view, std::string_view value) {
                       raw.append(value);
                       return true;
                     })
              .ok());
  CHECK(raw.find(unseal_key->expose_secret_view()) == std::string::npos);
  for (const auto& share : shares) {
    CHECK(raw.find(share.expose_secret_view().substr(0, 32)) == std::string::npos);
  }
}

TEST_CASE("unseal progress counts distinct shares and the threshold-th share unseals") {
  Vault vault;
  auto shares = vault.init(5, 3);
  REQUIRE(vault.barrier->put("secret/a", "kept across the seal").ok());
  vault.seal->seal();
  CHECK(vault.barrier->sealed());

  UnsealProgress p = vault.submit(shares[0]);
  CHECK(p.sealed);
  CHECK(p.progress == 1);
  CHECK(p.threshold == 3);
  CHECK_FALSE(p.nonce.empty());
  const std::string nonce = p.nonce;

  p = vault.submit(shares[0]);  // the same share again counts once
  CHECK(p.sealed);
  CHECK(p.progress == 1);
  CHECK(p.nonce == nonce);

  p = vault.submit(shares[3]);
  CHECK(p.sealed);
  CHECK(p.progress == 2);
  CHECK(p.nonce == nonce);
  CHECK(vault.status().progress == 2);
  CHECK(vault.barrier->sealed());

  p = vault.submit(shares[1]);
  CHECK_FALSE(p.sealed);
  CHECK(p.progress == 0);
  CHECK(p.nonce.empty());
  CHECK_FALSE(vault.barrier->sealed());
  CHECK(vault.barrier->get("secret/a").value().value() == "kept across the seal");

  // A share submitted while unsealed changes nothing.
  p = vault.submit(shares[2]);
  CHECK_FALSE(p.sealed);
  CHECK(p.progress == 0);
}

TEST_CASE("a single-share seal unseals with that one share") {
  Vault vault;
  auto shares = vault.init(1, 1);
  REQUIRE(shares.size() == 1);
  vault.seal->seal();
  const UnsealProgress p = vault.submit(shares[0]);
  CHECK_FALSE(p.sealed);
  CHECK_FALSE(vault.barrier->sealed());
}

TEST_CASE("a wrong set of shares at the threshold fails and resets progress") {
  Vault vault;
  auto shares = vault.init(5, 3);
  vault.seal->seal();

  Vault other;
  auto foreign = other.init(5, 3);

  SUBCASE("a share from another vault") {
    vault.submit(shares[0]);
    vault.submit(shares[1]);
    auto result = vault.seal->submit_share(foreign[2]);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == StatusCode::kInvalidArgument);
  }
  SUBCASE("a share with a corrupted byte") {
    SecretBytes corrupted = shares[2];
    corrupted.expose_secret_mutable()[5] ^= 0x01;
    vault.submit(shares[0]);
    vault.submit(shares[1]);
    auto result = vault.seal->submit_share(corrupted);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == StatusCode::kInvalidArgument);
  }
  SUBCASE("a share of the wrong length") {
    vault.submit(shares[0]);
    vault.submit(shares[1]);
    auto result = vault.seal->submit_share(SecretBytes::random(17));
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == StatusCode::kInvalidArgument);
  }
  SUBCASE("two shares with the same x-coordinate") {
    SecretBytes twin = foreign[1];
    twin.expose_secret_mutable()[32] = shares[0].expose_secret()[32];
    vault.submit(shares[0]);
    vault.submit(shares[1]);
    auto result = vault.seal->submit_share(twin);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code() == StatusCode::kInvalidArgument);
  }

  const UnsealProgress after = vault.status();
  CHECK(after.sealed);
  CHECK(after.progress == 0);
  CHECK(after.nonce.empty());
  CHECK(vault.barrier->sealed());

  // The right shares still work afterwards, starting from zero.
  CHECK(vault.submit(shares[4]).progress == 1);
  CHECK(vault.submit(shares[2]).progress == 2);
  CHECK_FALSE(vault.submit(shares[0]).sealed);
}

TEST_CASE("resetting unseal progress forgets the submitted shares") {
  Vault vault;
  auto shares = vault.init(5, 3);
  vault.seal->seal();

  const std::string first_nonce = vault.submit(shares[0]).nonce;
  vault.submit(shares[1]);
  REQUIRE(vault.seal->reset_progress().ok());
  UnsealProgress p = vault.status();
  CHECK(p.progress == 0);
  CHECK(p.nonce.empty());
  CHECK(p.sealed);

  // Two more shares are not enough: the earlier two were forgotten.
  p = vault.submit(shares[2]);
  CHECK(p.progress == 1);
  CHECK(p.nonce != first_nonce);
  p = vault.submit(shares[3]);
  CHECK(p.progress == 2);
  CHECK(p.sealed);
  CHECK_FALSE(vault.submit(shares[4]).sealed);
}

TEST_CASE("sealing wipes the keys and any unseal progress") {
  Vault vault;
  auto shares = vault.init(5, 3);
  REQUIRE(vault.barrier->put("secret/a", "v").ok());

  vault.seal->seal();
  CHECK(vault.barrier->sealed());
  CHECK(vault.status().sealed);
  auto read = vault.barrier->get("secret/a");
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().code() == StatusCode::kSealed);

  vault.submit(shares[0]);
  vault.submit(shares[1]);
  vault.seal->seal();
  const UnsealProgress p = vault.status();
  CHECK(p.progress == 0);
  CHECK(p.nonce.empty());
  CHECK(vault.submit(shares[2]).progress == 1);
}

TEST_CASE("a restarted seal over the same storage is initialised and unseals with the shares") {
  Vault vault;
  auto shares = vault.init(5, 3);
  REQUIRE(vault.barrier->put("secret/a", "survives the restart").ok());
  REQUIRE(vault.barrier->rotate().ok());
  REQUIRE(vault.barrier->put("secret/b", "written under term 2").ok());

  vault.restart();
  CHECK(vault.barrier->sealed());
  CHECK(vault.seal->initialized().value());
  UnsealProgress p = vault.status();
  CHECK(p.initialized);
  CHECK(p.sealed);
  CHECK(p.threshold == 3);
  CHECK(p.shares == 5);
  CHECK(p.progress == 0);

  // Any three shares, in any order.
  CHECK(vault.submit(shares[4]).progress == 1);
  CHECK(vault.submit(shares[2]).progress == 2);
  p = vault.submit(shares[0]);
  CHECK_FALSE(p.sealed);
  CHECK(vault.barrier->get("secret/a").value().value() == "survives the restart");
  CHECK(vault.barrier->get("secret/b").value().value() == "written under term 2");
  CHECK(vault.barrier->key_status().value().term == 2);
}

TEST_CASE("a corrupt seal configuration in storage is an error, never an exception") {
  for (std::string_view config : {"not json", "[]", "{\"secret_shares\":5}",
                                  "{\"secret_shares\":\"five\",\"secret_threshold\":3}",
                                  "{\"secret_shares\":5,\"secret_threshold\":null}"}) {
    INFO("config " << config);
    Vault vault;
    REQUIRE(vault.backend->put("seal/config", config).ok());
    Result<bool> initialized = false;
    CHECK_NOTHROW(initialized = vault.seal->initialized());
    CHECK_FALSE(initialized.has_value());
    if (!initialized) CHECK(initialized.error().code() == StatusCode::kInternal);
  }
}

}  // namespace coffer::seal
