#include <rocksdb/db.h>

#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <filesystem>

#include "storage/backend.h"

namespace coffer::storage {
namespace {

rocksdb::Slice to_slice(std::string_view s) { return {s.data(), s.size()}; }

// RocksDB status strings can contain file names but never values; they are safe
// for the server log. Clients only see a generic message built by the caller.
Status from_rocksdb(const rocksdb::Status& s, std::string_view what) {
  return internal_error("storage " + std::string(what) + " failed: " + s.ToString());
}

class RocksdbBackend final : public Backend {
 public:
  explicit RocksdbBackend(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {
    // fsync the WAL before acknowledging: an acknowledged write survives kill -9
    // and power loss. RocksDB groups concurrent synced writers into one fsync.
    sync_write_.sync = true;
  }

  Result<std::optional<std::string>> get(std::string_view key) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), to_slice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return fail(from_rocksdb(s, "read"));
    return std::optional<std::string>(std::move(value));
  }

  Status put(std::string_view key, std::string_view value) override {
    auto s = db_->Put(sync_write_, to_slice(key), to_slice(value));
    return s.ok() ? ok_status() : from_rocksdb(s, "write");
  }

  Status remove(std::string_view key) override {
    auto s = db_->Delete(sync_write_, to_slice(key));
    return s.ok() ? ok_status() : from_rocksdb(s, "delete");
  }

  Status write_batch(const std::vector<WriteOp>& ops) override {
    rocksdb::WriteBatch batch;
    for (const auto& op : ops) {
      auto s = op.kind == WriteOp::Kind::kPut ? batch.Put(op.key, op.value) : batch.Delete(op.key);
      if (!s.ok()) return from_rocksdb(s, "batch");
    }
    auto s = db_->Write(sync_write_, &batch);
    return s.ok() ? ok_status() : from_rocksdb(s, "batch write");
  }

  Status scan(std::string_view prefix, const KeyValueVisitor& visit,
              std::string_view start_after) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    if (start_after.empty() || start_after < prefix) {
      it->Seek(to_slice(prefix));
    } else {
      it->Seek(to_slice(start_after));
      if (it->Valid() && it->key() == to_slice(start_after)) it->Next();
    }
    for (; it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (!key.starts_with(prefix)) break;
      if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
    }
    return it->status().ok() ? ok_status() : from_rocksdb(it->status(), "scan");
  }

  std::string_view type() const override { return "rocksdb"; }

 private:
  const std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions sync_write_;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_rocksdb_backend(const std::string& path) {
  // The data directory holds only ciphertext, but nobody else needs to read it.
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(path, ec);
    if (ec)
      return fail(internal_error("cannot create storage directory " + path + ": " + ec.message()));
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.keep_log_file_num = 5;
  options.max_log_file_size = 8 << 20;
  options.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, path, &raw);
  // rocksdb::DB::Open hands out a raw owning pointer; take ownership at once.
  std::unique_ptr<rocksdb::DB> db(raw);
  if (!s.ok()) return fail(from_rocksdb(s, "open"));
  return std::unique_ptr<Backend>(std::make_unique<RocksdbBackend>(std::move(db)));
}

}  // namespace coffer::storage
