#include "cli/server_command.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "auth/token/token_store.h"
#include "cli/dev_certificates.h"
#include "cli/flags.h"
#include "engines/engine_catalog.h"
#include "storage/backend.h"
#include "vault/base/encoding.h"
#include "vault/base/log.h"
#include "vault/config/server_config.h"
#include "vault/core/core.h"
#include "vault/http/server.h"

namespace coffer::cli {
namespace {

constexpr const char* kUsage =
    "Usage: coffer server -config=FILE\n"
    "       coffer server -dev [-dev-root-token-id=ID] [-dev-listen-address=ADDR]\n"
    "                          [-dev-tls-cert-dir=DIR] [-dev-unsafe-allow-api-audit-creation]\n";

// Keys and shares live in this process's memory: never let it reach a core
// file or a ptrace-attached reader.
void harden_process() {
  rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) log::warn("could not disable core dumps");
#if !defined(__SANITIZE_ADDRESS__)
  // Skipped under AddressSanitizer only: its leak checker must ptrace the process.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) log::warn("could not mark the process non-dumpable");
#endif
}

int fail_with(const Status& status) {
  std::cerr << "Error: " << status.message() << "\n";
  return 1;
}

std::string make_temp_dir(const std::string& pattern) {
  std::string path = (std::filesystem::temp_directory_path() / pattern).string();
  if (::mkdtemp(path.data()) == nullptr) return {};
  return path;
}

// Where audit files may not go: next to the server binary or its configuration.
audit::AuditOptions audit_options(bool allow_api_creation, const std::string& config_path) {
  audit::AuditOptions options;
  options.allow_api_creation = allow_api_creation;
  std::error_code ec;
  const auto binary = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    options.binary_path = binary.string();
    options.protected_dirs.push_back(binary.parent_path().string());
  }
  if (!config_path.empty()) {
    const auto config = std::filesystem::absolute(config_path, ec);
    if (!ec) options.protected_dirs.push_back(config.parent_path().string());
  }
  return options;
}

// A directory removed, with everything in it, when this goes out of scope (empty = none).
struct RemovedOnExit {
  std::string path;
  RemovedOnExit() = default;
  explicit RemovedOnExit(std::string p) : path(std::move(p)) {}
  RemovedOnExit(const RemovedOnExit&) = delete;
  RemovedOnExit& operator=(const RemovedOnExit&) = delete;
  ~RemovedOnExit() {
    if (path.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

int serve(core::Core& core, const std::vector<config::ListenerConfig>& listeners,
          const std::function<void(const std::vector<std::string>&)>& on_listening) {
  http::ServerOptions options;
  options.listeners = listeners;
  options.on_listening = on_listening;
  options.on_reload = [&core] { core.reopen_audit_devices(); };
  auto server = http::make_server(core, std::move(options));
  if (!server) return fail_with(server.error());
  if (Status s = (*server)->run(); !s.ok()) return fail_with(s);
  log::info("server stopped");
  return 0;
}

void log_listening(const std::vector<config::ListenerConfig>& listeners,
                   const std::vector<std::string>& addresses) {
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    log::info("listening on " + addresses[i] +
              (listeners[i].tls_disable ? " (plain HTTP)" : " (TLS)"));
  }
}

int run_dev(const ParsedFlags& flags) {
  const std::string address = flags.get("dev-listen-address", "127.0.0.1:8200");
  const auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return fail_with(invalid_argument("-dev-listen-address needs host:port"));
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);

  std::string cert_dir = flags.get("dev-tls-cert-dir");
  // What dev mode creates for itself goes when it exits, whichever way it returns.
  RemovedOnExit own_cert_dir;
  if (cert_dir.empty()) own_cert_dir.path = cert_dir = make_temp_dir("coffer-dev-tls-XXXXXX");
  if (cert_dir.empty()) return fail_with(internal_error("cannot create a certificate directory"));
  auto certs = write_dev_certificates(cert_dir, host);
  if (!certs) return fail_with(certs.error());

  // Declared before the backend, so the directory is removed after the database is closed.
  RemovedOnExit data_dir{make_temp_dir("coffer-dev-data-XXXXXX")};
  if (data_dir.path.empty()) return fail_with(internal_error("cannot create a data directory"));
  auto backend = storage::open_rocksdb_backend(data_dir.path);
  if (!backend) return fail_with(backend.error());

  int exit_code = 0;
  {
    core::CoreOptions options;
    options.audit = audit_options(flags.has("dev-unsafe-allow-api-audit-creation"), "");
    core::Core core(**backend, auth::token::make_token_store, engines::builtin_engines(), options);
    auto init = core.initialize(1, 1, flags.get("dev-root-token-id"));
    if (!init) return fail_with(init.error());
    auto unsealed = core.submit_unseal_share(init->shares.front());
    if (!unsealed || unsealed->sealed) {
      return fail_with(unsealed ? internal_error("dev unseal failed") : unsealed.error());
    }
    // As in Vault's dev mode: KV version 2 at secret/.
    core::MountEntry secret;
    secret.path = "secret/";
    secret.type = "kv";
    secret.description = "key/value secret storage";
    secret.options = {{"version", "2"}};
    if (Status s = core.mount(std::move(secret)); !s.ok()) return fail_with(s);
    config::ListenerConfig listener;
    listener.address = address;
    listener.tls_cert_file = certs->server_cert;
    listener.tls_key_file = certs->server_key;
    const std::string unseal_key = to_base64(init->shares.front().expose_secret());
    const std::string root_token = init->root_token;
    exit_code = serve(core, {listener}, [&](const std::vector<std::string>& addresses) {
      log_listening({listener}, addresses);
      // The dev banner is the one place a root token and unseal key are shown, as
      // in Vault: on stdout, for the person who started it, never in the log.
      std::cout << "WARNING! dev mode is enabled! In this mode, Coffer runs entirely in a\n"
                   "temporary directory, starts unsealed with a single unseal key, and the\n"
                   "root token is already authenticated to the CLI.\n\n"
                   "You may need to set the following environment variables:\n\n"
                << "    $ export VAULT_ADDR='https://" << addresses.front() << "'\n"
                << "    $ export VAULT_CACERT='" << certs->ca_cert << "'\n\n"
                << "The unseal key and root token are displayed below in case you want to\n"
                   "seal/unseal the Vault or re-authenticate.\n\n"
                << "Unseal Key: " << unseal_key << "\n"
                << "Root Token: " << root_token << "\n\n"
                << "Development mode should NOT be used in production installations!\n"
                << std::flush;
    });
  }
  return exit_code;
}

int run_with_config(const std::string& path) {
  auto config = config::load_server_config(path);
  if (!config) return fail_with(config.error());
  log::set_level(config->log_level);
  std::unique_ptr<storage::Backend> backend;
  if (config->storage.type == "inmem") {
    backend = storage::make_inmem_backend();
  } else {
    auto opened = storage::open_rocksdb_backend(config->storage.path);
    if (!opened) return fail_with(opened.error());
    backend = std::move(*opened);
  }
  for (const auto& l : config->listeners) {
    if (l.tls_disable)
      log::warn("listener " + l.address + " serves plain HTTP (tls_disable = true)");
  }
  core::CoreOptions options{config->default_lease_ttl, config->max_lease_ttl,
                            audit_options(config->unsafe_allow_api_audit_creation, path)};
  core::Core core(*backend, auth::token::make_token_store, engines::builtin_engines(), options);
  log::info("storage: " + std::string(backend->type()) +
            (config->storage.path.empty() ? "" : " at " + config->storage.path));
  return serve(core, config->listeners, [&](const std::vector<std::string>& addresses) {
    log_listening(config->listeners, addresses);
  });
}

}  // namespace

int run_server_command(const std::vector<std::string>& args) {
  auto flags = parse_flags(
      args, {"dev", "dev-unsafe-allow-api-audit-creation"},
      {"config", "dev-root-token-id", "dev-listen-address", "dev-tls-cert-dir", "log-level"});
  if (!flags) {
    std::cerr << flags.error().message() << "\n" << kUsage;
    return 1;
  }
  if (flags->has("log-level") && !log::set_level(flags->get("log-level"))) {
    std::cerr << "Error: unknown -log-level\n";
    return 1;
  }
  harden_process();
  const bool dev = flags->has("dev") && flags->get("dev") != "false";
  if (dev) return run_dev(*flags);
  if (!flags->has("config")) {
    std::cerr << "Error: a configuration file is required (-config), or use -dev\n" << kUsage;
    return 1;
  }
  return run_with_config(flags->get("config"));
}

}  // namespace coffer::cli
