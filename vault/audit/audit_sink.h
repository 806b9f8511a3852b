#pragma once
// AuditSink: where one audit device's lines go (file, socket, syslog).
//
// write_line either puts the whole line (plus a newline) where it is going, or
// fails: the broker then counts the device as failed for this request, and a
// request no device could record does not run (fail closed). Implementations
// are called under the device's lock, so they need no locking of their own.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vault/base/status.h"

namespace coffer::audit {

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual Status write_line(std::string_view line) = 0;
  // Reopens files (SIGHUP, after logrotate moved them away). A no-op for others.
  virtual Status reopen() { return ok_status(); }
  // The file this sink appends to, when it is a regular file whose chain can be continued.
  virtual std::optional<std::string> chained_file() const { return std::nullopt; }
};

// Sinks opened with `open_now` false open (or connect) on first use and retry on every
// write until they succeed: a device whose file is missing at unseal fails requests
// closed instead of blocking the unseal.

// file: `path` ("stdout" or "-" for standard output, "discard" for nowhere), created with
// `mode` (e.g. 0600), appended to.
Result<std::unique_ptr<AuditSink>> open_file_sink(const std::string& path, unsigned mode,
                                                  bool open_now);

// socket: `address` "host:port" (tcp, udp) or a filesystem path (unix); writes that do not
// complete within `write_timeout` fail, and the connection is re-established on next use.
Result<std::unique_ptr<AuditSink>> open_socket_sink(const std::string& socket_type,
                                                    const std::string& address,
                                                    std::chrono::milliseconds write_timeout,
                                                    bool open_now);

// syslog: the local syslog with `facility` ("AUTH", "LOCAL0".."LOCAL7", ...) and `tag`.
Result<std::unique_ptr<AuditSink>> open_syslog_sink(const std::string& facility,
                                                    const std::string& tag);

}  // namespace coffer::audit
