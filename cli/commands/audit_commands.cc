// `coffer audit enable|disable|list` on sys/audit, and the offline `coffer audit verify|query`
// on audit log files (cli/audit_verify.h, cli/audit_query.h).

#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/audit_query.h"
#include "cli/audit_verify.h"
#include "cli/client_config.h"
#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/input.h"

namespace coffer::cli {
namespace {

constexpr const char* kAuditUsage =
    "Usage: coffer audit <subcommand> [options] [args]\n\n"
    "  Manages audit devices on the server (enable, disable, list), and checks or\n"
    "  searches audit log files offline (verify, query).\n";

std::string with_slash(std::string path) { return sanitize_path(std::move(path)) + "/"; }

// ---------------------------------------------------------------- enable / disable / list ---

int run_enable(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer audit enable [options] TYPE [K=V...]\n\n"
      "  Enables an audit device of TYPE (e.g. file) at -path (default: TYPE). The K=V\n"
      "  pairs are the device's options, e.g. file_path=/var/log/coffer/audit.log.\n\n"
      "  -path=PATH          Where to enable it\n"
      "  -description=TEXT   Human-friendly description\n"
      "  -local              Local to this cluster (not replicated)\n",
      FlagSpec({"local"}, {"path", "description"}), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string type = run.args[0];
    const std::string path = with_slash(run.flags.get("path", type));
    nlohmann::json options = nlohmann::json::object();
    for (std::size_t i = 1; i < run.args.size(); ++i) {
      const std::string& pair = run.args[i];
      const auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return print_error("enabling", invalid_argument("options must be K=V, got an argument "
                                                        "without '=' at position " +
                                                        std::to_string(i + 1)));
      }
      options[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    auto local = run.flags.get_bool("local", false);
    if (!local) return print_error("enabling", local.error());
    const nlohmann::json body{{"type", type},
                              {"description", run.flags.get("description")},
                              {"options", options},
                              {"local", *local}};
    auto response = run.api().call({"PUT", "sys/audit/" + sanitize_path(path), body});
    if (!response) return print_error("enabling audit device", response.error());
    return print_success("Success! Enabled the " + type + " audit device at: " + path);
  });
}

int run_disable(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer audit disable [options] PATH\n\n"
      "  Disables the audit device at PATH. Its log file stays where it is.\n",
      FlagSpec(), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = with_slash(run.args[0]);
    auto response = run.api().call({"DELETE", "sys/audit/" + sanitize_path(path)});
    if (!response) return print_error("disabling audit device", response.error());
    return print_success("Success! Disabled audit device (if it was enabled) at: " + path);
  });
}

int run_list(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer audit list [options]\n\n"
      "  Lists the enabled audit devices. Exits 2, as the vault CLI does, when there\n"
      "  are none (table format).\n\n"
      "  -detailed   Show replication and options\n",
      FlagSpec({"detailed"}));
  return run_command(spec, args, [](CommandRun& run) {
    auto response = run.api().call({"GET", "sys/audit"});
    if (!response) return print_error("listing audits", response.error());
    const nlohmann::json& body = response->body;
    nlohmann::json devices = nlohmann::json::object();
    const nlohmann::json source =
        body.is_object() && body.contains("data") && body["data"].is_object() ? body["data"] : body;
    if (source.is_object()) {
      for (const auto& [path, device] : source.items()) {
        if (device.is_object() && device.contains("type")) devices[path] = device;
      }
    }
    if (run.json()) {
      std::cout << format_json(devices);
      return 0;
    }
    if (devices.empty()) {
      std::cout << "No audit devices are enabled.\n";
      return 2;
    }
    const bool detailed = run.flags.has("detailed");
    std::vector<std::vector<std::string>> rows;
    for (const auto& [path, device] : devices.items()) {
      std::vector<std::string> row = {path, device.value("type", ""),
                                      device.value("description", "")};
      if (detailed) {
        row.push_back(device.value("local", false) ? "local" : "replicated");
        std::string options;
        if (auto o = device.find("options"); o != device.end() && o->is_object()) {
          for (const auto& [k, v] : o->items()) {
            options += (options.empty() ? "" : " ") + k + "=" + format_value(v);
          }
        }
        row.push_back(options);
      }
      rows.push_back(std::move(row));
    }
    std::vector<std::string> headers = {"Path", "Type", "Description"};
    if (detailed) headers.insert(headers.end(), {"Replication", "Options"});
    std::cout << format_table(headers, rows);
    return 0;
  });
}

// ------------------------------------------------------------------------------- verify ---

constexpr const char* kVerifyUsage =
    "Usage: coffer audit verify [options] FILE\n\n"
    "  Checks the hash chain of an audit log file, offline: every line's own hash,\n"
    "  the sequence numbers and the links between lines. The file is streamed, never\n"
    "  loaded whole; FILE \"-\" reads stdin. Prints \"FILE: intact, N entries\", or the\n"
    "  first bad line and what is wrong with it:\n\n"
    "    edited       the line's bytes do not match its hash, or a line in the middle\n"
    "                 is not a framed entry (and no restart entry declares it torn)\n"
    "    missing      the sequence jumps forward: lines were deleted (the missing\n"
    "                 sequence numbers are named)\n"
    "    reordered    the sequence goes backwards, or the skipped number appears\n"
    "                 within the next 1000 lines\n"
    "    truncated    the last line is cut off (no newline or no closing hash)\n"
    "    broken link  a line's prev is not the previous line's hash although both are\n"
    "                 intact (e.g. lines spliced in from another log)\n\n"
    "  A line torn by a crash and declared by the restart entry after it is not\n"
    "  tampering: it is reported as a note and the check goes on.\n\n"
    "  -format=json prints one JSON object with the verdict.\n\n"
    "  Exit codes (like cmp and diff, so that scripts can tell \"tampered\" from \"could\n"
    "  not check\"; other coffer commands use 2 for API errors, and verify makes none):\n"
    "    0  the chain is intact\n"
    "    1  the chain is broken (tampered, damaged or truncated)\n"
    "    2  usage error, or the file cannot be read\n";

int print_verify_result(const CommandRun& run, const std::string& path,
                        const VerifyResult& result) {
  if (run.json()) {
    nlohmann::json out{{"file", path},
                       {"intact", result.intact()},
                       {"entries", result.entries},
                       {"lines_read", result.lines},
                       {"notes", nlohmann::json::array()}};
    for (const auto& note : result.notes) {
      out["notes"].push_back({{"line", note.line}, {"note", note.text}});
    }
    if (result.finding) {
      out["problem"] = {{"line", result.finding->line},
                        {"kind", chain_problem_name(result.finding->problem)},
                        {"detail", result.finding->detail}};
    }
    std::cout << format_json(out);
  } else {
    for (const auto& note : result.notes) {
      std::cout << path << ": line " << note.line << ": " << note.text << "\n";
    }
    if (result.finding) {
      std::cout << path << ": line " << result.finding->line << ": "
                << chain_problem_name(result.finding->problem) << ": " << result.finding->detail
                << "\n";
    } else {
      std::cout << path << ": intact, " << result.entries
                << (result.entries == 1 ? " entry" : " entries") << "\n";
    }
  }
  return result.intact() ? 0 : 1;
}

int run_verify(const Args& args) {
  CommandSpec spec(kVerifyUsage, FlagSpec(), 1, 1);
  spec.needs_client = false;
  bool ran = false;
  const int code = run_command(spec, args, [&ran](CommandRun& run) {
    ran = true;
    const std::string& path = run.args[0];
    std::optional<ProgressMeter> meter;
    auto result = verify_log(path, [&](std::uint64_t done, std::uint64_t total) {
      if (!meter) meter.emplace("verifying " + path, total);
      meter->update(done);
    });
    if (meter) meter->finish();
    if (!result) {
      std::cerr << "Error verifying " << path << ": " << result.error().message() << "\n";
      return 2;
    }
    return print_verify_result(run, path, *result);
  });
  // run_command reports usage errors as 1, which here would read as "tampered".
  return !ran && code != 0 ? 2 : code;
}

// -------------------------------------------------------------------------------- query ---

constexpr const char* kQueryUsage =
    "Usage: coffer audit query [options] FILE...\n\n"
    "  Searches audit log files offline and prints the matching entries, in file\n"
    "  order. Files are streamed; FILE \"-\" reads stdin. All filters must match.\n\n"
    "  -type=response|request|all   Entry type (default response: one entry per\n"
    "                                completed request, with auth, request and outcome)\n"
    "  -path=GLOB        request.path; '*' matches any run of characters, '/' too,\n"
    "                    '?' one character: -path='secret/data/payroll/*'\n"
    "  -operation=OP     request.operation: read, update, create, delete, list, patch\n"
    "  -since=T          time >= T, and -until=T  time <= T. T is RFC 3339 (UTC or with\n"
    "  -until=T          an offset), a date (midnight UTC), or a duration back from\n"
    "                    now: 7d, 24h, 90m\n"
    "  -status=denied    entries whose error contains \"permission denied\"\n"
    "  -status=ok        entries without an error (and, for responses, status < 400)\n"
    "  -intent=TEXT      request.intent (X-Coffer-Intent) contains TEXT, ignoring case\n"
    "  -entity=ID        auth.entity_id\n"
    "  -accessor=A       auth.accessor or request.client_token_accessor\n"
    "  -hash=VALUE       any string anywhere in response.data; \"-hash=-\" reads the\n"
    "                    value from stdin (or a prompt), keeping it out of argv\n"
    "  -device=PATH      audit device whose key HMACs the log (default file/)\n"
    "  -limit=N          stop after N matches (default 0: no limit)\n"
    "  -stats            print lines scanned, parsed and the scan rate on stderr\n"
    "  -format=table|json  table (TIME, OPERATION, PATH, STATUS, WHO, INTENT, REMOTE),\n"
    "                    or json: each matching line exactly as logged, one per line\n\n"
    "  The log holds HMACs of tokens, accessors and data values. A -accessor or -hash\n"
    "  value starting with \"hmac-sha256:\" is compared as is; any other value is sent\n"
    "  to the server (POST sys/audit-hash/<device>, with VAULT_ADDR, VAULT_TOKEN and\n"
    "  VAULT_CACERT as for every command) to be hashed with the device's key. Nothing\n"
    "  else needs the server.\n\n"
    "  Exit codes: 0 success (with or without matches), 1 usage or local error (e.g.\n"
    "  an unreadable file), 2 the server failed to hash a value.\n";

int query_usage_error(const std::string& message) {
  std::cerr << message << "\n\n" << kQueryUsage;
  return 1;
}

LogTime now_log_time() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  return {seconds.count(),
          static_cast<std::int32_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count())};
}

// HMACs values with an audit device's key through the server, building the client only when
// a value needs it: the rest of the query is offline and must work without a server.
class ValueHasher {
 public:
  ValueHasher(const ParsedFlags& flags, std::string device)
      : flags_(flags), device_(std::move(device)) {}

  Result<std::string> hmac(const std::string& value) {
    if (value.starts_with("hmac-sha256:")) return value;
    if (!client_) {
      COFFER_ASSIGN_OR_RETURN(auto config, resolve_client_config(flags_));
      if (config.tls_skip_verify) {
        std::cerr << "WARNING! TLS certificate verification is DISABLED (-tls-skip-verify).\n"
                     "The value to hash and your token travel unprotected.\n";
      }
      COFFER_ASSIGN_OR_RETURN(auto client, ApiClient::create(config));
      client_.emplace(std::move(client));
    }
    // The value may be a secret: it goes only in the body, never into a message.
    COFFER_ASSIGN_OR_RETURN(auto response,
                            client_->call({"POST", "sys/audit-hash/" + sanitize_path(device_),
                                           nlohmann::json{{"input", value}}}));
    const nlohmann::json& body = response.body;
    if (body.is_object() && body.contains("data") && body["data"].is_object()) {
      const auto hash = body["data"].find("hash");
      if (hash != body["data"].end() && hash->is_string()) return hash->get<std::string>();
    }
    return fail(Status(StatusCode::kUpstream, "the answer of sys/audit-hash/" +
                                                  sanitize_path(device_) + " has no data.hash"));
  }

 private:
  const ParsedFlags& flags_;
  const std::string device_;
  std::optional<ApiClient> client_;
};

// Fills `filter` from the flags; returns an exit code when the command must stop.
std::optional<int> read_query_filter(const CommandRun& run, QueryFilter& filter) {
  const ParsedFlags& flags = run.flags;
  auto optional_flag = [&flags](const char* name) -> std::optional<std::string> {
    if (!flags.has(name)) return std::nullopt;
    return flags.get(name);
  };
  if (flags.has("type")) {
    const std::string type = flags.get("type");
    if (type == "response") {
      filter.type = QueryFilter::EntryType::kResponse;
    } else if (type == "request") {
      filter.type = QueryFilter::EntryType::kRequest;
    } else if (type == "all") {
      filter.type = QueryFilter::EntryType::kAll;
    } else {
      return query_usage_error("invalid -type \"" + type + "\": want response, request or all");
    }
  }
  if (flags.has("status")) {
    const std::string status = flags.get("status");
    if (status == "denied") {
      filter.outcome = QueryFilter::Outcome::kDenied;
    } else if (status == "ok") {
      filter.outcome = QueryFilter::Outcome::kOk;
    } else {
      return query_usage_error("invalid -status \"" + status + "\": want denied or ok");
    }
  }
  filter.path_glob = optional_flag("path");
  filter.entity_id = optional_flag("entity");
  filter.operation = optional_flag("operation");
  if (filter.operation) {
    // Operations are logged in lower case; READ and read mean the same request.
    for (char& c : *filter.operation)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  filter.intent = optional_flag("intent");
  const LogTime now = now_log_time();
  for (const auto& [name, bound] :
       {std::pair{"since", &filter.since}, std::pair{"until", &filter.until}}) {
    if (!flags.has(name)) continue;
    auto time = parse_time_bound(flags.get(name), now);
    if (!time) return query_usage_error("-" + std::string(name) + ": " + time.error().message());
    *bound = *time;
  }

  ValueHasher hasher(flags, flags.get("device", "file/"));
  if (flags.has("accessor")) {
    auto hmac = hasher.hmac(flags.get("accessor"));
    if (!hmac) return print_error("hashing the -accessor value", hmac.error());
    filter.accessor_hmac = std::move(*hmac);
  }
  if (flags.has("hash")) {
    std::string value = flags.get("hash");
    if (value == "-") {
      auto secret = read_secret("Value to look for (will be hidden): ");
      if (!secret) return print_error("reading the -hash value", secret.error());
      value = std::move(*secret);
    }
    auto hmac = hasher.hmac(value);
    if (!hmac) return print_error("hashing the -hash value", hmac.error());
    filter.data_hmac = std::move(*hmac);
  }
  return std::nullopt;
}

int run_query(const Args& args) {
  CommandSpec spec(kQueryUsage,
                   FlagSpec({"stats"}, {"path", "entity", "accessor", "since", "until", "operation",
                                        "status", "intent", "type", "hash", "device", "limit"}),
                   1, SIZE_MAX);
  spec.needs_client = false;  // only hashing a value needs the server; see ValueHasher
  return run_command(spec, args, [](CommandRun& run) {
    // Every flag is checked before read_query_filter may ask the server to hash a value.
    auto limit = run.flags.get_int("limit", 0);
    if (!limit || *limit < 0) {
      return query_usage_error(limit ? "-limit must not be negative" : limit.error().message());
    }
    auto stats_flag = run.flags.get_bool("stats", false);
    if (!stats_flag) return query_usage_error(stats_flag.error().message());
    QueryFilter filter;
    if (auto stop = read_query_filter(run, filter)) return *stop;

    std::optional<StreamingTable> table;
    if (!run.json()) table.emplace(std::cout, kQueryColumns);
    std::uint64_t matches = 0;
    const auto on_match = [&](std::string_view line, const nlohmann::json& entry) {
      if (table) {
        table->add(query_table_row(entry));
      } else {
        std::cout.write(line.data(), static_cast<std::streamsize>(line.size())).put('\n');
      }
      ++matches;
      return *limit == 0 || matches < static_cast<std::uint64_t>(*limit);
    };
    QueryStats total;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& path : run.args) {
      std::optional<ProgressMeter> meter;
      auto stats = scan_log(path, filter, on_match, [&](std::uint64_t done, std::uint64_t size) {
        if (!meter) meter.emplace("scanning " + path, size);
        meter->update(done);
      });
      if (meter) meter->finish();
      if (!stats) {
        if (table) table->finish();
        std::cout.flush();
        return print_error("querying " + path, stats.error());
      }
      total.lines += stats->lines;
      total.candidates += stats->candidates;
      total.unparsable += stats->unparsable;
      total.matches += stats->matches;
      total.bytes += stats->bytes;
      if (*limit != 0 && matches >= static_cast<std::uint64_t>(*limit)) break;
    }
    if (table) table->finish();
    std::cout.flush();
    if (matches == 0 && !run.json()) std::cerr << "No matching entries.\n";
    if (*stats_flag) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char rate[64];
      std::snprintf(rate, sizeof rate, "%.3f s, %.1f MB/s", seconds,
                    seconds > 0 ? static_cast<double>(total.bytes) / 1e6 / seconds : 0.0);
      std::cerr << matches << " matching, " << total.lines << " lines scanned, " << total.candidates
                << " parsed (" << total.unparsable << " not JSON), " << total.bytes << " bytes in "
                << rate << "\n";
    }
    return 0;
  });
}

}  // namespace

int run_audit_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"disable", "Disables an audit device", run_disable},
      {"enable", "Enables an audit device", run_enable},
      {"list", "Lists the enabled audit devices", run_list},
      {"query", "Searches audit log files (offline)", run_query},
      {"verify", "Checks the hash chain of an audit log file (offline)", run_verify},
  };
  return dispatch(kAuditUsage, kSubcommands, args);
}

}  // namespace coffer::cli
