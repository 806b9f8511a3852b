#pragma once
// AuditBroker: the enabled audit devices, and the fail-closed rule.
//
// A request is recorded on every device before it runs and again before its
// response leaves; when no device could record an entry, the core refuses the
// request (500) - "at least one device" as in Vault, with every failure logged
// and counted. Devices are kept in the barrier (`core/audit`, with each
// device's HMAC key), opened at unseal and closed at seal. Each device writes
// its lines under its own lock, so its hash chain follows file order.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vault/audit/audit_entry.h"
#include "vault/audit/audit_hmac.h"
#include "vault/audit/audit_sink.h"
#include "vault/audit/chain.h"
#include "vault/barrier/logical_storage.h"
#include "vault/base/clock.h"
#include "vault/core/api.h"

namespace coffer::audit {

struct AuditOptions {
  // OpenBao's rule after CVE-2025-6000: devices cannot be created through the API unless the
  // operator says so in the server configuration.
  bool allow_api_creation = false;
  // A file device may not write inside these directories (the binary's, the configuration's)
  // or over the server binary itself.
  std::vector<std::string> protected_dirs;
  std::string binary_path;
};

class AuditBroker {
 public:
  AuditBroker(barrier::LogicalStorage& storage, const Clock& clock, AuditOptions options);
  ~AuditBroker();

  Status load();  // on unseal: opens every stored device
  void clear();   // on seal

  // Whether any device is enabled (cheap; checked on every request).
  bool enabled() const { return enabled_.load(std::memory_order_acquire); }

  // OK when at least one device recorded the entry (or no device is enabled).
  Status log_request(const AuditRecord& record);
  Status log_response(const AuditRecord& record, const api::Response& response);
  // A lifecycle event ("unseal", "seal") with who caused it when known.
  Status log_event(std::string_view event, const AuditRecord* cause);

  // SIGHUP: files are reopened (logrotate).
  void reopen();

  // sys/audit, sys/audit/<path>, sys/audit-hash/<path>; `request.path` is the full path.
  api::Response handle(const api::Request& request);

  // Failed writes per device since start (metrics).
  std::map<std::string, std::uint64_t> failure_counts() const;

 private:
  struct Device;
  using DeviceList = std::vector<std::shared_ptr<Device>>;

  template <typename Render>
  Status log_all(Render&& render);
  // `open_now`: fail when the file or socket cannot be opened now (enable), rather than
  // at the first write (unseal).
  Result<std::shared_ptr<Device>> open_device(const std::string& path, const nlohmann::json& config,
                                              bool open_now);
  Status persist_locked(const nlohmann::json& table);
  Result<nlohmann::json> stored_table();
  Status check_file_path(const std::string& file_path) const;
  api::Response enable(const api::Request& request, const std::string& path);
  api::Response disable(const std::string& path);
  api::Response list() const;
  api::Response audit_hash(const api::Request& request, const std::string& path) const;
  void publish(DeviceList devices);

  barrier::LogicalStorage& storage_;
  const Clock& clock_;
  const AuditOptions options_;
  std::mutex table_mutex_;  // serialises enable/disable/load/clear
  std::atomic<std::shared_ptr<const DeviceList>> devices_;
  std::atomic<bool> enabled_{false};
};

}  // namespace coffer::audit
