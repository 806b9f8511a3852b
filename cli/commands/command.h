#pragma once
// The frame every client command runs in: flag parsing (the command's own
// flags plus the global ones), argument-count checks, help, the output format,
// the API client, and the vault CLI's exit codes:
//   0 success, 1 local or usage error, 2 API error (non-2xx answer or a failed
//   connection). `status` adds its own meaning of 2 (sealed).
//
// Global flags: -address, -ca-cert, -ca-path, -client-cert, -client-key,
// -tls-server-name, -tls-skip-verify, -format (default from VAULT_FORMAT /
// COFFER_FORMAT, else "table").
//
// Thread safety: for the CLI's single thread.

#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api_client.h"
#include "cli/flags.h"
#include "cli/output.h"
#include "vault/base/status.h"

namespace coffer::cli {

struct FlagSpec {
  FlagSpec(std::set<std::string> bools_ = {}, std::set<std::string> values_ = {},
           std::set<std::string> repeatable_ = {})
      : bools(std::move(bools_)), values(std::move(values_)), repeatable(std::move(repeatable_)) {}

  std::set<std::string> bools;
  std::set<std::string> values;
  std::set<std::string> repeatable;
};

struct CommandSpec {
  CommandSpec(std::string usage_, FlagSpec flags_ = {}, std::size_t min_args_ = 0,
              std::size_t max_args_ = 0)
      : usage(std::move(usage_)),
        flags(std::move(flags_)),
        min_args(min_args_),
        max_args(max_args_) {}

  std::string usage;  // printed for -h and after usage errors
  FlagSpec flags;
  std::size_t min_args = 0;
  std::size_t max_args = 0;
  bool needs_client = true;   // false: no API client is built (e.g. `policy fmt`)
  int client_error_exit = 2;  // `status` uses 1: its 2 means "sealed"
};

// One run of a command, handed to its body by run_command.
struct CommandRun {
  ParsedFlags flags;
  std::vector<std::string> args;  // positional arguments
  OutputFormat format = OutputFormat::kTable;
  std::optional<ApiClient> client;  // set when the spec needs a client

  bool json() const { return format == OutputFormat::kJson; }
  const ApiClient& api() const { return *client; }
};

// Parses `args` against `spec` and the global flags, checks the argument count
// ("Too many arguments (expected 1, got 2)"), builds the client (warning loudly
// on stderr when TLS verification is off), then returns body(run). -h/-help
// print the usage and return 0; usage errors print the message and the usage
// and return 1; a client that cannot be built returns spec.client_error_exit.
int run_command(const CommandSpec& spec, const std::vector<std::string>& args,
                const std::function<int(CommandRun&)>& body);

struct Subcommand {
  std::string_view name;
  std::string_view synopsis;
  std::function<int(const std::vector<std::string>&)> run;
};

// Runs the subcommand named by args[0] with the rest of args. No name, or -h,
// lists the subcommands under `usage` (exit 1, or 0 for -h); an unknown name
// is a usage error (1).
int dispatch(std::string_view usage, std::span<const Subcommand> subcommands,
             const std::vector<std::string>& args);

// 2 for kUpstream (failures reported by or on the way to the server), else 1.
int exit_code_for(const Status& status);

// Prints "Error <what>: <message>" to stderr and returns exit_code_for(status).
int print_error(std::string_view what, const Status& status);

// Prints `message` to stderr and returns 2: an API-level failure the command
// words itself ("No value found at secret/data/x").
int api_failure(std::string_view message);

// LIST `path` and print its keys (json or table), as `list` and `kv list` do;
// an empty listing (404) reads "No value found at <shown_path>".
int list_keys(CommandRun& run, const std::string& path, const std::string& shown_path);

// Prints the response as JSON, or its secret table (auth, lease, data) for
// table output. Returns 0.
int print_secret(const CommandRun& run, const nlohmann::json& response);

// -field=NAME of a secret response: the auth fields (token, token_accessor,
// token_duration, token_renewable, token_policies, identity_policies, policies),
// lease_id / lease_duration / lease_renewable / refresh_interval, else the data
// key NAME. Raw for table output, JSON for -format=json. Returns 0, or 1 with
// `Field "NAME" not present in secret`.
int print_field(const CommandRun& run, const nlohmann::json& response, const std::string& field);

// -field=NAME of a plain map (kv v2 data, metadata).
int print_map_field(const CommandRun& run, const nlohmann::json& map, const std::string& field);

// Prints `text` + newline to stdout and returns 0.
int print_success(std::string_view text);

}  // namespace coffer::cli
