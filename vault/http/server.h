#pragma once
// http::Server: Vault's HTTP API over TLS (Boost.Beast, async, N io threads).
//
// Each listener accepts connections, performs the TLS handshake (TLS 1.2+ with
// ECDHE and AEAD suites only, unless the listener is explicitly plain), reads
// requests with bounded headers (431), bounded bodies (413, refused from the
// Content-Length before any body byte is read), read-header/read-body/idle
// timeouts, and turns each into an api::Request for the core. Responses always
// carry `Content-Type: application/json` (or the raw body's own type) and
// `Cache-Control: no-store`.
// Lifetime: run() blocks until SIGTERM/SIGINT; it then stops accepting, lets
// in-flight requests finish (bounded by a drain deadline) and returns. SIGHUP
// reloads every listener's certificate and key; new connections use them.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vault/base/status.h"
#include "vault/config/server_config.h"
#include "vault/core/core.h"

namespace coffer::http {

struct ServerOptions {
  std::vector<config::ListenerConfig> listeners;
  int io_threads = 0;  // 0 = one per core
  // Called once every listener is bound, with "host:port" of each.
  std::function<void(const std::vector<std::string>&)> on_listening;
  // Called on SIGHUP, after the certificates are reloaded (the core reopens audit files).
  std::function<void()> on_reload;
};

class Server {
 public:
  virtual ~Server() = default;
  // Serves until a termination signal arrives or stop() is called.
  virtual Status run() = 0;
  // Thread-safe; begins the same graceful drain as SIGTERM.
  virtual void stop() = 0;
};

// Binds every listener and loads its TLS material; errors name the listener.
Result<std::unique_ptr<Server>> make_server(core::Core& core, ServerOptions options);

}  // namespace coffer::http
