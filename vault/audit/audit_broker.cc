#include "vault/audit/audit_broker.h"

#include <pthread.h>

#include <filesystem>

#include "vault/base/encoding.h"
#include "vault/base/log.h"
#include "vault/base/time_format.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::audit {
namespace {

using api::Response;
using nlohmann::json;

constexpr std::string_view kTablePath = "core/audit";
constexpr std::size_t kKeyBytes = 32;
constexpr auto kDefaultSocketTimeout = std::chrono::seconds(2);

Response bad_request(std::string message) { return Response::error(400, {std::move(message)}); }

std::string option(const json& options, const char* name, std::string fallback = {}) {
  auto it = options.find(name);
  if (it == options.end() || it->is_null()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

Result<bool> bool_option(const json& options, const char* name, bool fallback) {
  const std::string text = option(options, name);
  if (text.empty()) return fallback;
  auto parsed = fields::parse_go_bool(text);
  if (!parsed) return fail(invalid_argument(std::string("invalid value for ") + name));
  return *parsed;
}

// "foo" -> "foo/"; Vault's audit paths end with a slash.
std::string normalise_path(std::string path) {
  while (path.starts_with('/')) path.erase(0, 1);
  if (!path.empty() && !path.ends_with('/')) path.push_back('/');
  return path;
}

// The file a file_path names, through symlinks and "..", for comparing two devices' files.
std::string canonical_file(const std::string& file_path) {
  if (file_path == "-" || file_path == "stdout") return "stdout";
  if (file_path == "discard") return "discard";
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(file_path, ec);
  return ec ? file_path : canonical.string();
}

bool is_within(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto p = path.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++p) {
    if (d->empty()) continue;  // a trailing slash
    if (p == path.end() || *p != *d) return false;
  }
  return true;
}

// glibc's adaptive mutex spins briefly before it sleeps. A device's critical section (one
// hash and one write) is a few microseconds - shorter than a futex sleep and wake-up, which
// dominated when two io threads recorded entries at once.
class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mutex_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
  void lock() { pthread_mutex_lock(&mutex_); }
  void unlock() { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_;
};

}  // namespace

struct AuditBroker::Device {
  std::string path;
  json config;  // {type, description, options, local} as listed
  std::unique_ptr<AuditSink> sink;
  std::unique_ptr<AuditHmac> hmac;
  EntryOptions entry_options;
  static inline std::atomic<std::uint64_t> next_serial{1};
  const std::uint64_t serial = next_serial.fetch_add(1);
  DeviceHashing hashing() const { return {*hmac, entry_options, serial}; }
  AdaptiveMutex mutex;  // guards sink, position and needs_resume
  ChainPosition position;
  bool needs_resume = true;  // continue the chain (after open or a failed write) before writing
  std::atomic<std::uint64_t> failures{0};

  // Writes one entry; on failure the line is not counted in the chain, and the next write
  // first re-reads the file's end (a failed write may have left part of a line behind).
  Status write(std::string_view entry, const Clock& clock) {
    std::lock_guard lock(mutex);
    if (needs_resume) {
      if (Status s = resume(clock); !s.ok()) return s;
    }
    ChainPosition before = position;
    const std::string line = chain_line(entry, position);
    Status s = sink->write_line(line);
    if (!s.ok()) {
      position = std::move(before);
      needs_resume = true;
    }
    return s;
  }

  Status resume(const Clock& clock) {
    bool torn = false;
    if (auto file = sink->chained_file()) {
      COFFER_ASSIGN_OR_RETURN(auto tail, read_log_tail(*file));
      position = tail.position;
      torn = tail.torn;
      if (torn) COFFER_TRY(sink->write_line(""));  // end the cut line; verify sees it declared
      if (position.seq == 0 && !torn) {
        needs_resume = false;  // a new log: the chain starts with the first entry
        return ok_status();
      }
    }
    json restart{{"time", rfc3339_nano(clock.now())}, {"type", "restart"}, {"torn_line", torn}};
    ChainPosition before = position;
    Status s = sink->write_line(chain_line(restart.dump(), position));
    if (!s.ok()) {
      position = std::move(before);
      return s;
    }
    needs_resume = false;
    return ok_status();
  }
};

AuditBroker::AuditBroker(barrier::LogicalStorage& storage, const Clock& clock, AuditOptions options)
    : storage_(storage),
      clock_(clock),
      options_(std::move(options)),
      devices_(std::make_shared<const DeviceList>()) {}

AuditBroker::~AuditBroker() = default;

void AuditBroker::publish(DeviceList devices) {
  const bool any = !devices.empty();
  devices_.store(std::make_shared<const DeviceList>(std::move(devices)));
  enabled_.store(any, std::memory_order_release);
}

Result<json> AuditBroker::stored_table() {
  COFFER_ASSIGN_OR_RETURN(auto stored, storage_.get(kTablePath));
  if (!stored) return json::object();
  auto table = json::parse(*stored, nullptr, false);
  if (table.is_discarded() || !table.is_object()) {
    return fail(internal_error("audit device table is corrupt"));
  }
  return table;
}

Status AuditBroker::persist_locked(const json& table) {
  return storage_.put(kTablePath, table.dump());
}

Result<std::shared_ptr<AuditBroker::Device>> AuditBroker::open_device(const std::string& path,
                                                                      const json& config,
                                                                      bool open_now) {
  auto device = std::make_shared<Device>();
  device->path = path;
  const std::string type = config.value("type", "");
  const json options = config.value("options", json::object());
  if (options.contains("prefix") && !option(options, "prefix").empty()) {
    // CVE-2025-6000: a prefix lets an API caller write arbitrary bytes into a file.
    return fail(invalid_argument("the prefix option is not supported"));
  }
  const std::string format = option(options, "format", "json");
  if (format != "json") return fail(invalid_argument("unsupported format \"" + format + "\""));
  COFFER_ASSIGN_OR_RETURN(device->entry_options.hmac_accessor,
                          bool_option(options, "hmac_accessor", true));
  COFFER_ASSIGN_OR_RETURN(device->entry_options.log_raw, bool_option(options, "log_raw", false));
  COFFER_ASSIGN_OR_RETURN(device->entry_options.elide_list_responses,
                          bool_option(options, "elide_list_responses", false));
  if (type == "file") {
    std::string file_path = option(options, "file_path");
    if (file_path.empty()) file_path = option(options, "path");
    if (file_path.empty()) return fail(invalid_argument("file_path is required"));
    const std::string mode_text = option(options, "mode", "0600");
    // Octal digits only ("0600"), at most four, no sign or suffix.
    unsigned mode = 0;
    const bool octal = !mode_text.empty() && mode_text.size() <= 4 &&
                       mode_text.find_first_not_of("01234567") == std::string::npos;
    if (octal) mode = static_cast<unsigned>(std::stoul(mode_text, nullptr, 8));
    if (!octal || mode > 0777) {
      return fail(invalid_argument("invalid mode \"" + mode_text + "\": use octal, e.g. 0600"));
    }
    COFFER_ASSIGN_OR_RETURN(device->sink, open_file_sink(file_path, mode, open_now));
  } else if (type == "socket") {
    std::chrono::milliseconds timeout = kDefaultSocketTimeout;
    if (const std::string t = option(options, "write_timeout"); !t.empty()) {
      auto parsed = fields::duration_field(json{{"write_timeout", t}}, "write_timeout");
      if (!parsed || !*parsed || **parsed <= 0) {
        return fail(invalid_argument("invalid write_timeout"));
      }
      timeout = std::chrono::seconds(**parsed);
    }
    COFFER_ASSIGN_OR_RETURN(device->sink,
                            open_socket_sink(option(options, "socket_type", "tcp"),
                                             option(options, "address"), timeout, open_now));
  } else if (type == "syslog") {
    COFFER_ASSIGN_OR_RETURN(device->sink, open_syslog_sink(option(options, "facility", "AUTH"),
                                                           option(options, "tag", "coffer")));
  } else {
    return fail(invalid_argument("unknown audit device type \"" + type + "\""));
  }
  auto key = secret_from_base64(config.value("key", ""));
  if (!key || key->size() != kKeyBytes) return fail(internal_error("audit device key is corrupt"));
  device->hmac = std::make_unique<AuditHmac>(*key);
  device->config = {{"type", type},
                    {"description", config.value("description", "")},
                    {"options", options},
                    {"local", config.value("local", false)},
                    {"path", path}};
  return device;
}

Status AuditBroker::load() {
  std::lock_guard lock(table_mutex_);
  COFFER_ASSIGN_OR_RETURN(auto table, stored_table());
  DeviceList devices;
  for (const auto& [path, config] : table.items()) {
    // Files and sockets open on first use: unsealing does not depend on a log being
    // writable, and until it is, requests fail closed when no other device records them.
    COFFER_ASSIGN_OR_RETURN(auto device, open_device(path, config, /*open_now=*/false));
    devices.push_back(std::move(device));
  }
  publish(std::move(devices));
  return ok_status();
}

void AuditBroker::clear() {
  std::lock_guard lock(table_mutex_);
  publish({});
}

template <typename Render>
Status AuditBroker::log_all(Render&& render) {
  auto devices = devices_.load();
  if (devices->empty()) return ok_status();
  const std::string time = rfc3339_nano(clock_.now());
  bool any = false;
  for (const auto& device : *devices) {
    Status s = device->write(render(*device, time), clock_);
    if (s.ok()) {
      any = true;
      continue;
    }
    device->failures.fetch_add(1, std::memory_order_relaxed);
    log::error("audit device " + device->path + " failed to record an entry: " + s.message());
  }
  if (any) return ok_status();
  log::error("no audit device succeeded in logging the request");
  return internal_error("internal error");
}

Status AuditBroker::log_request(const AuditRecord& record) {
  return log_all([&](const Device& d, const std::string& time) {
    return request_entry(record, d.hashing(), time);
  });
}

Status AuditBroker::log_response(const AuditRecord& record, const api::Response& response) {
  return log_all([&](const Device& d, const std::string& time) {
    return response_entry(record, response, d.hashing(), time);
  });
}

Status AuditBroker::log_event(std::string_view event, const AuditRecord* cause) {
  return log_all([&](const Device& d, const std::string& time) {
    std::string entry =
        json{{"time", time}, {"type", "event"}, {"event", std::string(event)}}.dump();
    if (cause) {
      entry.pop_back();  // the closing brace: the cause's sections follow
      entry += "," + entry_sections(*cause, d.hashing()) + "}";
    }
    return entry;
  });
}

void AuditBroker::reopen() {
  auto devices = devices_.load();
  for (const auto& device : *devices) {
    std::lock_guard lock(device->mutex);
    if (Status s = device->sink->reopen(); !s.ok()) {
      log::error("audit device " + device->path + " could not be reopened: " + s.message());
    } else {
      log::info("audit device " + device->path + " reopened");
    }
    device->needs_resume = true;  // a rotated-away file means a new log: its chain restarts
  }
}

std::map<std::string, std::uint64_t> AuditBroker::failure_counts() const {
  std::map<std::string, std::uint64_t> out;
  for (const auto& device : *devices_.load()) out[device->path] = device->failures.load();
  return out;
}

Status AuditBroker::check_file_path(const std::string& file_path) const {
  if (file_path == "stdout" || file_path == "-" || file_path == "discard") return ok_status();
  std::filesystem::path path(file_path);
  if (!path.is_absolute()) return invalid_argument("file_path must be an absolute path");
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) return invalid_argument("file_path cannot be resolved");
  static const char* const kSystemDirs[] = {"/etc", "/proc", "/sys", "/dev", "/boot",
                                            "/bin", "/sbin", "/lib", "/usr"};
  std::vector<std::string> refused(std::begin(kSystemDirs), std::end(kSystemDirs));
  refused.insert(refused.end(), options_.protected_dirs.begin(), options_.protected_dirs.end());
  for (const auto& dir : refused) {
    if (dir.empty()) continue;
    const auto protected_dir = std::filesystem::weakly_canonical(dir, ec);
    if (!ec && is_within(canonical, protected_dir)) {
      return invalid_argument("file_path may not be inside " + protected_dir.string());
    }
  }
  if (!options_.binary_path.empty() &&
      canonical == std::filesystem::weakly_canonical(options_.binary_path, ec)) {
    return invalid_argument("file_path may not be the server binary");
  }
  return ok_status();
}

api::Response AuditBroker::handle(const api::Request& request) {
  const std::string& path = request.path;
  const auto op = request.operation;
  const bool write = op == api::Operation::kCreate || op == api::Operation::kUpdate;
  if (path == "sys/audit") {
    if (op != api::Operation::kRead) return Response::error(405, {});
    return list();
  }
  if (path.starts_with("sys/audit-hash/")) {
    if (!write) return Response::error(405, {});
    return audit_hash(request, normalise_path(path.substr(15)));
  }
  if (path.starts_with("sys/audit/")) {
    const std::string device = normalise_path(path.substr(10));
    if (device.empty()) return bad_request("missing audit device path");
    if (write) return enable(request, device);
    if (op == api::Operation::kDelete) return disable(device);
    return Response::error(405, {});
  }
  return Response::error(404, {});
}

api::Response AuditBroker::list() const {
  json data = json::object();
  for (const auto& device : *devices_.load()) data[device->path] = device->config;
  return Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
}

api::Response AuditBroker::enable(const api::Request& request, const std::string& path) {
  if (!options_.allow_api_creation) {
    return bad_request(
        "audit devices cannot be enabled through the API unless the server configuration sets "
        "unsafe_allow_api_audit_creation = true");
  }
  auto type = fields::string_field(request.body, "type");
  auto description = fields::string_field(request.body, "description");
  auto local = fields::bool_field(request.body, "local");
  auto options = fields::string_map_field(request.body, "options");
  if (auto error = fields::first_error(type, description, local, options)) {
    return Response::error(*error);
  }
  if (!*type || (*type)->empty()) return bad_request("type is required");
  json option_map = options->has_value() ? json(**options) : json::object();
  if (**type == "file") {
    std::string file_path = option(option_map, "file_path");
    if (file_path.empty()) file_path = option(option_map, "path");
    if (file_path.empty()) return bad_request("file_path is required");
    if (Status s = check_file_path(file_path); !s.ok()) return Response::error(s);
  }
  std::lock_guard lock(table_mutex_);
  auto table = stored_table();
  if (!table) return Response::error(table.error());
  if (table->contains(path)) return bad_request("path already in use");
  if (**type == "file") {
    // Two devices appending to one file would interleave two chains: neither would verify.
    const std::string wanted =
        canonical_file(option(option_map, "file_path").empty() ? option(option_map, "path")
                                                               : option(option_map, "file_path"));
    for (const auto& [other_path, other] : table->items()) {
      const json other_options = other.value("options", json::object());
      const std::string other_file = option(other_options, "file_path").empty()
                                         ? option(other_options, "path")
                                         : option(other_options, "file_path");
      if (other.value("type", "") == "file" && wanted != "discard" && wanted != "stdout" &&
          canonical_file(other_file) == wanted) {
        return bad_request("file_path is already in use by audit device " + other_path);
      }
    }
  }
  const SecretBytes key = SecretBytes::random(kKeyBytes);
  json config{{"type", **type},
              {"description", description->value_or("")},
              {"local", local->value_or(false)},
              {"options", option_map},
              {"key", to_base64(key.expose_secret())}};
  auto device = open_device(path, config, /*open_now=*/true);
  if (!device) return Response::error(device.error());
  (*table)[path] = config;
  if (Status s = persist_locked(*table); !s.ok()) return Response::error(s);
  DeviceList devices = *devices_.load();
  devices.push_back(std::move(*device));
  publish(std::move(devices));
  log::info("audit device " + path + " (" + **type + ") enabled");
  return Response::no_content();
}

api::Response AuditBroker::disable(const std::string& path) {
  std::lock_guard lock(table_mutex_);
  auto table = stored_table();
  if (!table) return Response::error(table.error());
  if (!table->contains(path)) return Response::no_content();
  table->erase(path);
  if (Status s = persist_locked(*table); !s.ok()) return Response::error(s);
  DeviceList devices = *devices_.load();
  std::erase_if(devices, [&](const auto& d) { return d->path == path; });
  publish(std::move(devices));
  log::info("audit device " + path + " disabled");
  return Response::no_content();
}

api::Response AuditBroker::audit_hash(const api::Request& request, const std::string& path) const {
  auto input = fields::string_field(request.body, "input");
  if (!input) return Response::error(input.error());
  if (!*input) return bad_request("the \"input\" parameter is required");
  for (const auto& device : *devices_.load()) {
    if (device->path == path) {
      return Response::json(200, api::envelope({{"hash", device->hmac->hash(**input)}}));
    }
  }
  return bad_request("unknown audit backend " + path);
}

}  // namespace coffer::audit
