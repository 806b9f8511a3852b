// The barrier's security properties, checked against the raw bytes the
// physical backend holds: confidentiality, authentication of every bit and of
// the path, key terms, sealing, and BarrierView confinement.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/backend.h"
#include "unit/temp_dir.h"
#include "vault/barrier/barrier.h"
#include "vault/base/aes_gcm.h"
#include "vault/base/clock.h"
#include "vault/base/secret_bytes.h"

namespace coffer::barrier {
namespace {

using storage::Backend;
using storage::WriteOp;

constexpr std::size_t kHeaderSize = 5;  // version byte + 4-byte term
constexpr std::int64_t kStartTime = 1'700'000'000;

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_seconds) : now_(unix_seconds) {}
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(now_.load()));
  }
  void advance(std::int64_t seconds) { now_ += seconds; }

 private:
  std::atomic<std::int64_t> now_;
};

// The bytes the backend holds at `key`, which must exist.
std::string raw_entry(Backend& backend, std::string_view key) {
  auto entry = backend.get(key);
  REQUIRE(entry.has_value());
  REQUIRE(entry->has_value());
  return **entry;
}

std::uint32_t term_of(std::string_view entry) {
  REQUIRE(entry.size() >= kHeaderSize);
  std::uint32_t term = 0;
  for (int i = 1; i <= 4; ++i) term = (term << 8) | static_cast<std::uint8_t>(entry[i]);
  return term;
}

std::string read_ok(LogicalStorage& storage, std::string_view path) {
  auto value = storage.get(path);
  REQUIRE(value.has_value());
  REQUIRE(value->has_value());
  return **value;
}

StatusCode get_error(LogicalStorage& storage, std::string_view path) {
  auto value = storage.get(path);
  REQUIRE_FALSE(value.has_value());
  return value.error().code();
}

std::vector<std::pair<std::string, std::string>> scan_all(LogicalStorage& storage,
                                                          std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> seen;
  REQUIRE(storage
              .scan(prefix,
                    [&](std::string_view key, std::string_view value) {
                      seen.emplace_back(key, value);
                      return true;
                    })
              .ok());
  return seen;
}

// Every key and value the physical backend holds, concatenated.
std::string all_raw_bytes(Backend& backend) {
  std::string bytes;
  REQUIRE(backend
              .scan("",
                    [&](std::string_view key, std::string_view value) {
                      bytes.append(key);
                      bytes.push_back('\n');
                      bytes.append(value);
                      bytes.push_back('\n');
                      return true;
                    })
              .ok());
  return bytes;
}

// A backend of each kind; `reopen` simulates a process restart (RocksDB is
// closed and opened again, the in-memory backend is kept).
struct BackendUnderTest {
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<Backend> backend;

  static BackendUnderTest inmem() { return {nullptr, storage::make_inmem_backend()}; }
  static BackendUnderTest rocksdb() {
    BackendUnderTest b{std::make_unique<testing::TempDir>(), nullptr};
    auto opened = storage::open_rocksdb_backend(b.dir->str() + "/db");
    REQUIRE(opened.has_value());
    b.backend = std::move(*opened);
    return b;
  }
  void reopen() {
    if (!dir) return;
    backend.reset();
    auto opened = storage::open_rocksdb_backend(dir->str() + "/db");
    REQUIRE(opened.has_value());
    backend = std::move(*opened);
  }
};

BackendUnderTest backend_for_subcase() {
  BackendUnderTest b;
  SUBCASE("in-memory backend") { b = BackendUnderTest::inmem(); }
  SUBCASE("rocksdb backend") { b = BackendUnderTest::rocksdb(); }
  return b;
}

struct Fixture {
  ManualClock clock{kStartTime};
  std::unique_ptr<Backend> backend = storage::make_inmem_backend();
  SecretBytes root_key = SecretBytes::random(32);
  Barrier barrier{*backend, clock};

  Fixture() { REQUIRE(barrier.initialize(root_key).ok()); }
};

}  // namespace

TEST_CASE("barrier returns exactly the bytes written at a path") {
  auto under_test = backend_for_subcase();
  ManualClock clock(kStartTime);
  Barrier barrier(*under_test.backend, clock);
  REQUIRE(barrier.initialize(SecretBytes::random(32)).ok());

  const std::string binary("\0\x01\xff\xfe value with NULs\0", 21);
  REQUIRE(barrier.put("secret/a", "hello").ok());
  REQUIRE(barrier.put("secret/bin", binary).ok());
  REQUIRE(barrier.put("secret/empty", "").ok());
  CHECK(read_ok(barrier, "secret/a") == "hello");
  CHECK(read_ok(barrier, "secret/bin") == binary);
  CHECK(read_ok(barrier, "secret/empty").empty());

  auto absent = barrier.get("secret/none");
  REQUIRE(absent.has_value());
  CHECK_FALSE(absent->has_value());

  REQUIRE(barrier.put("secret/a", "overwritten").ok());
  CHECK(read_ok(barrier, "secret/a") == "overwritten");
  REQUIRE(barrier.remove("secret/a").ok());
  CHECK_FALSE(barrier.get("secret/a").value().has_value());
  CHECK(barrier.remove("secret/a").ok());

  // An entry is the header, the nonce, the ciphertext and the tag: nothing else.
  CHECK(raw_entry(*under_test.backend, "secret/bin").size() ==
        kHeaderSize + crypto::kGcmOverhead + binary.size());
}

TEST_CASE("the physical backend never holds a plaintext value or the root key") {
  auto under_test = backend_for_subcase();
  ManualClock clock(kStartTime);
  const SecretBytes root_key = SecretBytes::random(32);
  Barrier barrier(*under_test.backend, clock);
  REQUIRE(barrier.initialize(root_key).ok());

  const std::string plaintext = "correct horse battery staple 0123456789";
  REQUIRE(barrier.put("secret/one", plaintext).ok());
  REQUIRE(barrier.write_batch({WriteOp::put("secret/two", plaintext)}).ok());
  REQUIRE(barrier.rotate().ok());
  REQUIRE(barrier.put("secret/three", plaintext).ok());

  const std::string raw = all_raw_bytes(*under_test.backend);
  CHECK(raw.find("secret/one") != std::string::npos);  // the scan did see the entries
  CHECK(raw.find(plaintext) == std::string::npos);
  // Not even a recognisable fragment of it.
  CHECK(raw.find("horse battery") == std::string::npos);
  CHECK(raw.find(root_key.expose_secret_view()) == std::string::npos);
}

TEST_CASE("two writes of the same value produce different ciphertexts") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/a", "same value").ok());
  const std::string first = raw_entry(*f.backend, "secret/a");
  REQUIRE(f.barrier.put("secret/a", "same value").ok());
  const std::string second = raw_entry(*f.backend, "secret/a");
  REQUIRE(f.barrier.put("secret/b", "same value").ok());
  const std::string other_path = raw_entry(*f.backend, "secret/b");

  CHECK(first != second);
  // The nonces differ, not just the bytes after them.
  CHECK(first.substr(kHeaderSize, crypto::kGcmNonceSize) !=
        second.substr(kHeaderSize, crypto::kGcmNonceSize));
  CHECK(first.substr(kHeaderSize) != other_path.substr(kHeaderSize));
  CHECK(read_ok(f.barrier, "secret/a") == "same value");
}

TEST_CASE("barrier rejects an entry with any single bit flipped") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/target", "flip me, flip me").ok());
  REQUIRE(f.barrier.put("secret/bystander", "untouched").ok());
  const std::string original = raw_entry(*f.backend, "secret/target");

  int accepted = 0;
  int bystander_failures = 0;
  for (std::size_t byte = 0; byte < original.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = original;
      tampered[byte] = static_cast<char>(tampered[byte] ^ (1 << bit));
      REQUIRE(f.backend->put("secret/target", tampered).ok());
      auto value = f.barrier.get("secret/target");
      if (value.has_value()) {
        ++accepted;
        INFO("byte " << byte << " bit " << bit);
        CHECK_FALSE(value.has_value());
      } else {
        CHECK(value.error().code() == StatusCode::kInternal);
      }
      auto bystander = f.barrier.get("secret/bystander");
      if (!bystander || !bystander->has_value() || **bystander != "untouched") ++bystander_failures;
    }
  }
  CHECK(accepted == 0);
  CHECK(bystander_failures == 0);
  CHECK(read_ok(f.barrier, "secret/bystander") == "untouched");
  REQUIRE(f.backend->put("secret/target", original).ok());
  CHECK(read_ok(f.barrier, "secret/target") == "flip me, flip me");
}

TEST_CASE("barrier rejects an entry truncated at every length or extended") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/target", "some value to truncate").ok());
  REQUIRE(f.barrier.put("secret/bystander", "untouched").ok());
  const std::string original = raw_entry(*f.backend, "secret/target");

  for (std::size_t length = 0; length < original.size(); ++length) {
    INFO("length " << length);
    REQUIRE(f.backend->put("secret/target", original.substr(0, length)).ok());
    CHECK(get_error(f.barrier, "secret/target") == StatusCode::kInternal);
  }
  REQUIRE(f.backend->put("secret/target", original + '\0').ok());
  CHECK(get_error(f.barrier, "secret/target") == StatusCode::kInternal);
  CHECK(read_ok(f.barrier, "secret/bystander") == "untouched");
}

TEST_CASE("barrier rejects an entry moved or copied to another path") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/alice", "alice's password").ok());
  REQUIRE(f.barrier.put("secret/bob", "bob's password").ok());
  const std::string alice = raw_entry(*f.backend, "secret/alice");

  REQUIRE(f.backend->put("secret/bob", alice).ok());
  CHECK(get_error(f.barrier, "secret/bob") == StatusCode::kInternal);
  REQUIRE(f.backend->put("secret/new", alice).ok());
  CHECK(get_error(f.barrier, "secret/new") == StatusCode::kInternal);
  // The path is the AAD byte for byte: a trailing slash is another path.
  REQUIRE(f.backend->put("secret/alice/", alice).ok());
  CHECK(get_error(f.barrier, "secret/alice/") == StatusCode::kInternal);
  // A scan authenticates each entry against its own key too.
  auto scanned = f.barrier.scan("secret/", [](std::string_view, std::string_view) { return true; });
  CHECK(scanned.code() == StatusCode::kInternal);

  CHECK(read_ok(f.barrier, "secret/alice") == "alice's password");
}

TEST_CASE("barrier rejects an entry whose term bytes were changed") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/a", "term one value").ok());
  const std::string original = raw_entry(*f.backend, "secret/a");
  REQUIRE(term_of(original) == 1);

  SUBCASE("to a term that does not exist") {
    for (std::uint32_t term : {0u, 2u, 0x01000001u, 0xffffffffu}) {
      std::string tampered = original;
      for (int i = 0; i < 4; ++i) {
        tampered[1 + i] = static_cast<char>((term >> (8 * (3 - i))) & 0xff);
      }
      REQUIRE(f.backend->put("secret/a", tampered).ok());
      CHECK(get_error(f.barrier, "secret/a") == StatusCode::kInternal);
    }
  }
  SUBCASE("to another term that exists") {
    REQUIRE(f.barrier.rotate().ok());
    std::string tampered = original;
    tampered[4] = 2;
    REQUIRE(f.backend->put("secret/a", tampered).ok());
    CHECK(get_error(f.barrier, "secret/a") == StatusCode::kInternal);
  }
  SUBCASE("the version byte") {
    for (int version : {0, 2, 0xff}) {
      std::string tampered = original;
      tampered[0] = static_cast<char>(version);
      REQUIRE(f.backend->put("secret/a", tampered).ok());
      CHECK(get_error(f.barrier, "secret/a") == StatusCode::kInternal);
    }
  }
}

TEST_CASE("rotation adds a term: old entries still read and new writes carry the new term") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/old", "written under term 1").ok());
  CHECK(term_of(raw_entry(*f.backend, "secret/old")) == 1);
  CHECK(raw_entry(*f.backend, "secret/old")[0] == '\x01');

  auto before = f.barrier.key_status();
  REQUIRE(before.has_value());
  CHECK(before->term == 1);
  CHECK(before->install_time == kStartTime);
  CHECK(before->encryptions == 1);

  f.clock.advance(3600);
  REQUIRE(f.barrier.rotate().ok());
  auto after = f.barrier.key_status();
  REQUIRE(after.has_value());
  CHECK(after->term == before->term + 1);
  CHECK(after->install_time == kStartTime + 3600);

  REQUIRE(f.barrier.put("secret/new", "written under term 2").ok());
  CHECK(term_of(raw_entry(*f.backend, "secret/new")) == 2);
  CHECK(read_ok(f.barrier, "secret/old") == "written under term 1");
  CHECK(read_ok(f.barrier, "secret/new") == "written under term 2");
  // Overwriting an old entry re-encrypts it under the active term.
  REQUIRE(f.barrier.put("secret/old", "rewritten").ok());
  CHECK(term_of(raw_entry(*f.backend, "secret/old")) == 2);
  CHECK(f.barrier.key_status()->encryptions == 3);

  REQUIRE(f.barrier.rotate().ok());
  CHECK(f.barrier.key_status()->term == 3);
  REQUIRE(f.barrier.write_batch({WriteOp::put("secret/batch", "b")}).ok());
  CHECK(term_of(raw_entry(*f.backend, "secret/batch")) == 3);
}

namespace {

// Writes under three terms, "restarts", and unseals a fresh barrier. Not a
// SUBCASE per backend: doctest would take the later SUBCASEs for siblings.
void check_restart_reads_every_term(BackendUnderTest under_test) {
  ManualClock clock(kStartTime);
  const SecretBytes root_key = SecretBytes::random(32);
  {
    Barrier barrier(*under_test.backend, clock);
    REQUIRE(barrier.initialize(root_key).ok());
    REQUIRE(barrier.put("secret/t1", "term 1").ok());
    REQUIRE(barrier.rotate().ok());
    REQUIRE(barrier.put("secret/t2", "term 2").ok());
    REQUIRE(barrier.rotate().ok());
    REQUIRE(barrier.put("secret/t3", "term 3").ok());
  }
  under_test.reopen();

  Barrier restarted(*under_test.backend, clock);
  CHECK(restarted.sealed());
  CHECK(get_error(restarted, "secret/t1") == StatusCode::kSealed);

  SUBCASE("the right root key") {
    REQUIRE(restarted.unseal(root_key).ok());
    CHECK_FALSE(restarted.sealed());
    CHECK(read_ok(restarted, "secret/t1") == "term 1");
    CHECK(read_ok(restarted, "secret/t2") == "term 2");
    CHECK(read_ok(restarted, "secret/t3") == "term 3");
    auto status = restarted.key_status();
    REQUIRE(status.has_value());
    CHECK(status->term == 3);
    CHECK(status->encryptions == 0);
    REQUIRE(restarted.put("secret/t4", "after restart").ok());
    CHECK(term_of(raw_entry(*under_test.backend, "secret/t4")) == 3);
  }
  SUBCASE("a wrong root key") {
    auto wrong = restarted.unseal(SecretBytes::random(32));
    CHECK_FALSE(wrong.ok());
    CHECK(wrong.code() == StatusCode::kInternal);
    CHECK(restarted.sealed());
    CHECK(get_error(restarted, "secret/t1") == StatusCode::kSealed);
    // A failed attempt does not stop the right key from working afterwards.
    REQUIRE(restarted.unseal(root_key).ok());
    CHECK(read_ok(restarted, "secret/t1") == "term 1");
  }
  SUBCASE("a root key of the wrong length") {
    CHECK_FALSE(restarted.unseal(SecretBytes::random(16)).ok());
    CHECK(restarted.sealed());
  }
}

}  // namespace

TEST_CASE("a new barrier over the same in-memory storage unseals and reads every term") {
  check_restart_reads_every_term(BackendUnderTest::inmem());
}

TEST_CASE("a barrier over a reopened rocksdb unseals and reads every term") {
  check_restart_reads_every_term(BackendUnderTest::rocksdb());
}

TEST_CASE("unsealing a barrier that was never initialised fails") {
  auto backend = storage::make_inmem_backend();
  ManualClock clock(kStartTime);
  Barrier barrier(*backend, clock);
  CHECK(barrier.sealed());
  CHECK_FALSE(barrier.unseal(SecretBytes::random(32)).ok());
  CHECK(barrier.sealed());
}

TEST_CASE("a sealed barrier answers kSealed to every operation") {
  Fixture f;
  REQUIRE(f.barrier.put("secret/a", "v").ok());
  f.barrier.seal();
  CHECK(f.barrier.sealed());

  CHECK(get_error(f.barrier, "secret/a") == StatusCode::kSealed);
  CHECK(f.barrier.put("secret/a", "w").code() == StatusCode::kSealed);
  CHECK(f.barrier.remove("secret/a").code() == StatusCode::kSealed);
  CHECK(f.barrier.write_batch({WriteOp::put("secret/b", "v")}).code() == StatusCode::kSealed);
  auto listed = f.barrier.list("secret/");
  REQUIRE_FALSE(listed.has_value());
  CHECK(listed.error().code() == StatusCode::kSealed);
  bool visited = false;
  CHECK(f.barrier
            .scan("secret/",
                  [&](std::string_view, std::string_view) {
                    visited = true;
                    return true;
                  })
            .code() == StatusCode::kSealed);
  CHECK_FALSE(visited);
  CHECK(f.barrier.rotate().code() == StatusCode::kSealed);
  auto status = f.barrier.key_status();
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().code() == StatusCode::kSealed);

  // Nothing changed underneath while sealed.
  CHECK_FALSE(f.backend->get("secret/b").value().has_value());
  REQUIRE(f.barrier.unseal(f.root_key).ok());
  CHECK(read_ok(f.barrier, "secret/a") == "v");
}

TEST_CASE("barrier refuses paths in the seal/ namespace and the empty path") {
  Fixture f;
  REQUIRE(f.backend->put("seal/config", "{\"plain\":true}").ok());

  CHECK(get_error(f.barrier, "seal/config") == StatusCode::kInvalidArgument);
  CHECK(f.barrier.put("seal/root-key", "x").code() == StatusCode::kInvalidArgument);
  CHECK(f.barrier.remove("seal/config").code() == StatusCode::kInvalidArgument);
  CHECK(
      f.barrier.write_batch({WriteOp::put("secret/ok", "v"), WriteOp::put("seal/x", "v")}).code() ==
      StatusCode::kInvalidArgument);
  CHECK(f.barrier.write_batch({WriteOp::remove("seal/config")}).code() ==
        StatusCode::kInvalidArgument);
  CHECK(get_error(f.barrier, "") == StatusCode::kInvalidArgument);
  CHECK(f.barrier.put("", "x").code() == StatusCode::kInvalidArgument);

  // The refused batch wrote nothing, not even its valid half.
  CHECK_FALSE(f.backend->get("secret/ok").value().has_value());
  CHECK_FALSE(f.backend->get("seal/root-key").value().has_value());
  CHECK(raw_entry(*f.backend, "seal/config") == "{\"plain\":true}");
  // "seal" without the slash, or as a later segment, is an ordinary path.
  REQUIRE(f.barrier.put("sealed/x", "v").ok());
  REQUIRE(f.barrier.put("secret/seal/x", "v").ok());
}

TEST_CASE("barrier refuses listing and scanning the seal/ namespace") {
  Fixture f;
  REQUIRE(f.backend->put("seal/config", "{}").ok());
  auto listed = f.barrier.list("seal/");
  CHECK_FALSE(listed.has_value());
  if (!listed) CHECK(listed.error().code() == StatusCode::kInvalidArgument);
  CHECK(f.barrier.scan("seal/", [](std::string_view, std::string_view) { return true; }).code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("a barrier batch applies every operation, encrypted under each key's own path") {
  Fixture f;
  REQUIRE(f.barrier.put("batch/old", "to delete").ok());
  REQUIRE(f.barrier
              .write_batch({WriteOp::put("batch/a", "value a"), WriteOp::put("batch/b", "value b"),
                            WriteOp::remove("batch/old")})
              .ok());
  CHECK(read_ok(f.barrier, "batch/a") == "value a");
  CHECK(read_ok(f.barrier, "batch/b") == "value b");
  CHECK_FALSE(f.barrier.get("batch/old").value().has_value());
  CHECK(raw_entry(*f.backend, "batch/a").find("value a") == std::string::npos);
  // Each entry is bound to its own path, as with put.
  REQUIRE(f.backend->put("batch/b", raw_entry(*f.backend, "batch/a")).ok());
  CHECK(get_error(f.barrier, "batch/b") == StatusCode::kInternal);
}

TEST_CASE("barrier list and scan decrypt below a prefix") {
  Fixture f;
  for (auto key : {"kv/a", "kv/dir/x", "kv/dir/y", "kvx/other"}) {
    REQUIRE(f.barrier.put(key, std::string("value of ") + key).ok());
  }
  CHECK(f.barrier.list("kv/").value() == std::vector<std::string>{"a", "dir/"});
  auto scanned = scan_all(f.barrier, "kv/");
  REQUIRE(scanned.size() == 3);
  CHECK(scanned[0] == std::pair<std::string, std::string>{"kv/a", "value of kv/a"});
  CHECK(scanned[2] == std::pair<std::string, std::string>{"kv/dir/y", "value of kv/dir/y"});
}

TEST_CASE("barrier view confines reads and writes to its prefix") {
  Fixture f;
  REQUIRE(f.barrier.put("logical/b/secret", "sibling secret").ok());
  BarrierView view(f.barrier, "logical/a/");

  REQUIRE(view.put("mine", "my value").ok());
  CHECK(read_ok(view, "mine") == "my value");
  CHECK(read_ok(f.barrier, "logical/a/mine") == "my value");

  for (std::string_view escape :
       {"../b/secret", "..", "x/../../b/secret", "x/..", "/logical/b/secret", "/b/secret"}) {
    INFO("path " << escape);
    CHECK(get_error(view, escape) == StatusCode::kInvalidArgument);
    CHECK(view.put(escape, "overwritten").code() == StatusCode::kInvalidArgument);
    CHECK(view.remove(escape).code() == StatusCode::kInvalidArgument);
    auto listed = view.list(escape);
    CHECK_FALSE(listed.has_value());
    CHECK(view.scan(escape, [](std::string_view, std::string_view) { return true; }).code() ==
          StatusCode::kInvalidArgument);
  }
  // One escaping key refuses the whole batch.
  CHECK(view.write_batch({WriteOp::put("fine", "v"), WriteOp::put("../b/secret", "overwritten")})
            .code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(view.get("fine").value().has_value());
  CHECK(read_ok(f.barrier, "logical/b/secret") == "sibling secret");
  // Nothing was written under a literal ".." key in the parent either.
  CHECK(f.barrier.list("logical/").value() == std::vector<std::string>{"a/", "b/"});
}

TEST_CASE("barrier view lists and scans with keys relative to its prefix") {
  Fixture f;
  BarrierView view(f.barrier, "logical/a/");
  REQUIRE(view.put("top", "t").ok());
  REQUIRE(view.write_batch({WriteOp::put("dir/one", "1"), WriteOp::put("dir/two", "2")}).ok());
  // A sibling whose name shares the prefix's leading characters stays invisible.
  REQUIRE(f.barrier.put("logical/ab/hidden", "h").ok());
  REQUIRE(f.barrier.put("logical/b/hidden", "h").ok());

  CHECK(view.list("").value() == std::vector<std::string>{"dir/", "top"});
  CHECK(view.list("dir/").value() == std::vector<std::string>{"one", "two"});
  CHECK(scan_all(view, "") == std::vector<std::pair<std::string, std::string>>{
                                  {"dir/one", "1"}, {"dir/two", "2"}, {"top", "t"}});
  CHECK(scan_all(view, "dir/") ==
        std::vector<std::pair<std::string, std::string>>{{"dir/one", "1"}, {"dir/two", "2"}});

  REQUIRE(view.remove("dir/one").ok());
  CHECK(view.list("dir/").value() == std::vector<std::string>{"two"});
  CHECK(read_ok(f.barrier, "logical/ab/hidden") == "h");
}

TEST_CASE("a view over a sealed barrier answers kSealed") {
  Fixture f;
  BarrierView view(f.barrier, "logical/a/");
  REQUIRE(view.put("k", "v").ok());
  f.barrier.seal();
  CHECK(get_error(view, "k") == StatusCode::kSealed);
  CHECK(view.put("k", "w").code() == StatusCode::kSealed);
  CHECK_FALSE(view.list("").has_value());
}

}  // namespace coffer::barrier
