#include "cli/commands/command.h"

#include <iostream>

#include "cli/client_config.h"

namespace coffer::cli {
namespace {

const std::set<std::string> kGlobalValueFlags = {
    "address", "ca-cert", "ca-path", "client-cert", "client-key", "tls-server-name", "format"};
const std::set<std::string> kGlobalBoolFlags = {"tls-skip-verify"};

constexpr const char* kGlobalUsage =
    "\nGlobal options:\n"
    "  -address=ADDR          Server address (VAULT_ADDR / COFFER_ADDR),\n"
    "                         default https://127.0.0.1:8200\n"
    "  -ca-cert=FILE          PEM CA certificate to verify the server with (VAULT_CACERT)\n"
    "  -ca-path=DIR           Directory of PEM CA certificates (VAULT_CAPATH)\n"
    "  -client-cert=FILE      PEM client certificate for TLS (VAULT_CLIENT_CERT)\n"
    "  -client-key=FILE       PEM client key for TLS (VAULT_CLIENT_KEY)\n"
    "  -tls-server-name=NAME  Name to verify the server certificate against\n"
    "  -tls-skip-verify       Do NOT verify the server certificate (insecure)\n"
    "  -format=table|json     Output format (VAULT_FORMAT), default table\n";

bool is_help(const std::string& arg) {
  return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h";
}

int usage_error(const std::string& message, const std::string& usage) {
  std::cerr << message << "\n\n" << usage;
  return 1;
}

std::string count_message(std::size_t got, std::size_t min, std::size_t max) {
  const std::size_t expected = got < min ? min : max;
  return std::string(got < min ? "Not enough" : "Too many") + " arguments (expected " +
         (min == max ? std::to_string(expected) : std::to_string(min) + "-" + std::to_string(max)) +
         ", got " + std::to_string(got) + ")";
}

}  // namespace

int run_command(const CommandSpec& spec, const std::vector<std::string>& args,
                const std::function<int(CommandRun&)>& body) {
  for (const auto& arg : args) {
    if (arg == "--") break;
    if (is_help(arg)) {
      std::cout << spec.usage << kGlobalUsage;
      return 0;
    }
  }
  std::set<std::string> bools = spec.flags.bools;
  bools.insert(kGlobalBoolFlags.begin(), kGlobalBoolFlags.end());
  std::set<std::string> values = spec.flags.values;
  values.insert(kGlobalValueFlags.begin(), kGlobalValueFlags.end());
  auto flags = parse_flags(args, bools, values, spec.flags.repeatable);
  if (!flags) return usage_error(flags.error().message(), spec.usage);

  CommandRun run;
  run.flags = std::move(*flags);
  run.args = run.flags.positional;
  if (run.args.size() < spec.min_args || run.args.size() > spec.max_args) {
    return usage_error(count_message(run.args.size(), spec.min_args, spec.max_args), spec.usage);
  }
  std::string format = run.flags.has("format") ? run.flags.get("format") : env_setting("FORMAT");
  auto parsed_format = parse_output_format(format);
  if (!parsed_format) return usage_error(parsed_format.error().message(), spec.usage);
  run.format = *parsed_format;

  if (spec.needs_client) {
    auto config = resolve_client_config(run.flags);
    if (!config) return usage_error(config.error().message(), spec.usage);
    if (config->tls_skip_verify) {
      std::cerr << "WARNING! TLS certificate verification is DISABLED (-tls-skip-verify).\n"
                   "Anyone between this client and the server can read and change the\n"
                   "traffic, including your token and secrets. Do not use this in production.\n";
    }
    auto client = ApiClient::create(*config);
    if (!client) {
      std::cerr << "Error creating the API client: " << client.error().message() << "\n";
      return spec.client_error_exit;
    }
    run.client.emplace(std::move(*client));
  }
  return body(run);
}

int dispatch(std::string_view usage, std::span<const Subcommand> subcommands,
             const std::vector<std::string>& args) {
  auto print_usage = [&](std::ostream& out) {
    out << usage << "\nSubcommands:\n";
    std::size_t width = 0;
    for (const auto& s : subcommands) width = std::max(width, s.name.size());
    for (const auto& s : subcommands) {
      out << "    " << s.name << std::string(width - s.name.size() + 4, ' ') << s.synopsis << "\n";
    }
  };
  if (args.empty() || is_help(args[0])) {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 1 : 0;
  }
  for (const auto& s : subcommands) {
    if (s.name == args[0]) return s.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::cerr << "Unknown subcommand: " << args[0] << "\n\n";
  print_usage(std::cerr);
  return 1;
}

int exit_code_for(const Status& status) { return status.code() == StatusCode::kUpstream ? 2 : 1; }

int print_error(std::string_view what, const Status& status) {
  std::cerr << "Error " << what << ": " << status.message() << "\n";
  return exit_code_for(status);
}

int api_failure(std::string_view message) {
  std::cerr << message << "\n";
  return 2;
}

int print_secret(const CommandRun& run, const nlohmann::json& response) {
  if (run.json()) {
    std::cout << format_json(response);
    return 0;
  }
  print_warnings(response);
  const Rows rows = secret_rows(response);
  if (!rows.empty()) std::cout << format_key_value_table(rows);
  return 0;
}

int print_map_field(const CommandRun& run, const nlohmann::json& map, const std::string& field) {
  if (!map.is_object() || !map.contains(field)) {
    std::cerr << "Field \"" << field << "\" not present in secret\n";
    return 1;
  }
  if (run.json()) {
    std::cout << format_json(map.at(field));
  } else {
    print_raw_field(map.at(field));
  }
  return 0;
}

int print_field(const CommandRun& run, const nlohmann::json& response, const std::string& field) {
  nlohmann::json fields = nlohmann::json::object();
  if (response.is_object()) {
    if (auto auth = response.find("auth"); auth != response.end() && auth->is_object()) {
      fields["token"] = auth->value("client_token", "");
      fields["token_accessor"] = auth->value("accessor", "");
      fields["token_duration"] = auth->value("lease_duration", 0);
      fields["token_renewable"] = auth->value("renewable", false);
      fields["token_policies"] = auth->value("token_policies", nlohmann::json::array());
      fields["identity_policies"] = auth->value("identity_policies", nlohmann::json::array());
      fields["policies"] = auth->value("policies", nlohmann::json::array());
    }
    const auto lease = response.value("lease_duration", nlohmann::json(0));
    if (lease.is_number_integer() && lease.get<std::int64_t>() > 0) {
      fields["lease_id"] = response.value("lease_id", "");
      fields["lease_duration"] = lease;
      fields["lease_renewable"] = response.value("renewable", false);
      fields["refresh_interval"] = lease;
    }
    if (auto data = response.find("data"); data != response.end() && data->is_object()) {
      for (const auto& [k, v] : data->items()) fields[k] = v;
    }
  }
  return print_map_field(run, fields, field);
}

int print_success(std::string_view text) {
  std::cout << text << "\n";
  return 0;
}

int list_keys(CommandRun& run, const std::string& path, const std::string& shown_path) {
  const ApiRequest request{"LIST", path};
  auto response = run.api().send(request);
  if (!response) return print_error("listing " + path, response.error());
  if (response->status == 404) return api_failure("No value found at " + shown_path);
  if (!response->ok())
    return print_error("listing " + path, run.api().api_error(request, *response));
  const nlohmann::json keys =
      response->body.value("data", nlohmann::json::object()).value("keys", nlohmann::json::array());
  if (run.json()) {
    std::cout << format_json(keys);
    return 0;
  }
  print_warnings(response->body);
  std::cout << format_list(keys);
  return 0;
}

}  // namespace coffer::cli
