#include <map>
#include <mutex>
#include <shared_mutex>

#include "storage/backend.h"

namespace coffer::storage {
namespace {

// An ordered map behind a reader/writer lock. Tests use it as the second
// implementation of the conformance suite, so its semantics mirror RocksDB's.
class InmemBackend final : public Backend {
 public:
  Result<std::optional<std::string>> get(std::string_view key) override {
    std::shared_lock lock(mutex_);
    auto it = data_.find(key);
    if (it == data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status put(std::string_view key, std::string_view value) override {
    std::unique_lock lock(mutex_);
    data_.insert_or_assign(std::string(key), std::string(value));
    return ok_status();
  }

  Status remove(std::string_view key) override {
    std::unique_lock lock(mutex_);
    auto it = data_.find(key);
    if (it != data_.end()) data_.erase(it);
    return ok_status();
  }

  Status write_batch(const std::vector<WriteOp>& ops) override {
    std::unique_lock lock(mutex_);
    for (const auto& op : ops) {
      if (op.kind == WriteOp::Kind::kPut) {
        data_.insert_or_assign(op.key, op.value);
      } else if (auto it = data_.find(op.key); it != data_.end()) {
        data_.erase(it);
      }
    }
    return ok_status();
  }

  Status scan(std::string_view prefix, const KeyValueVisitor& visit,
              std::string_view start_after) override {
    // Copy the matching range first so the visitor may call back into the backend.
    std::vector<std::pair<std::string, std::string>> snapshot;
    {
      std::shared_lock lock(mutex_);
      auto it = start_after.empty() ? data_.lower_bound(prefix) : data_.upper_bound(start_after);
      if (!start_after.empty() && it != data_.end() && it->first < prefix) {
        it = data_.lower_bound(prefix);
      }
      for (; it != data_.end() && it->first.starts_with(prefix); ++it) snapshot.emplace_back(*it);
    }
    for (const auto& [k, v] : snapshot) {
      if (!visit(k, v)) break;
    }
    return ok_status();
  }

  std::string_view type() const override { return "inmem"; }

 private:
  std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> data_;
};

}  // namespace

std::unique_ptr<Backend> make_inmem_backend() { return std::make_unique<InmemBackend>(); }

}  // namespace coffer::storage
