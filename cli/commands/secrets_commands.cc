// `coffer secrets enable|disable|list|tune|move` on sys/mounts and sys/remount.

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"

namespace coffer::cli {
namespace {

constexpr const char* kSecretsUsage = "Usage: coffer secrets <subcommand> [options] [args]\n";

std::string with_slash(std::string path) {
  path = sanitize_path(std::move(path));
  return path + "/";
}

Result<nlohmann::json> options_map(const std::vector<std::string>& pairs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(invalid_argument("-options takes key=value"));
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

int run_enable(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer secrets enable [options] TYPE\n\n"
      "  Enables a secrets engine of TYPE (kv, kv-v2, ...) at -path (default: TYPE).\n\n"
      "  -path=PATH                 Where to mount it\n"
      "  -description=TEXT          Human-friendly description\n"
      "  -version=N                 KV version (1 or 2); same as -options=version=N\n"
      "  -default-lease-ttl=DUR     Default lease TTL\n"
      "  -max-lease-ttl=DUR         Maximum lease TTL\n"
      "  -options=K=V               Engine option (repeatable)\n"
      "  -local, -seal-wrap         Mount flags\n",
      FlagSpec({"local", "seal-wrap", "force-no-cache"},
               {"path", "description", "version", "default-lease-ttl", "max-lease-ttl"},
               {"options"}),
      1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string type = run.args[0];
    const std::string path = with_slash(run.flags.get("path", type));
    auto options = options_map(run.flags.get_all("options"));
    if (!options) return print_error("enabling", options.error());
    if (run.flags.has("version")) (*options)["version"] = run.flags.get("version");
    nlohmann::json body{{"type", type}};
    if (run.flags.has("description")) body["description"] = run.flags.get("description");
    nlohmann::json config = nlohmann::json::object();
    if (run.flags.has("default-lease-ttl")) {
      config["default_lease_ttl"] = run.flags.get("default-lease-ttl");
    }
    if (run.flags.has("max-lease-ttl")) config["max_lease_ttl"] = run.flags.get("max-lease-ttl");
    if (run.flags.has("force-no-cache")) config["force_no_cache"] = true;
    if (!config.empty()) body["config"] = config;
    if (!options->empty()) body["options"] = *options;
    for (const auto& [flag, field] : {std::pair{"local", "local"}, {"seal-wrap", "seal_wrap"}}) {
      auto value = run.flags.get_bool(flag, false);
      if (!value) return print_error("enabling", value.error());
      if (*value) body[field] = true;
    }
    auto response = run.api().call({"POST", "sys/mounts/" + sanitize_path(path), body});
    if (!response) return print_error("enabling", response.error());
    return print_success("Success! Enabled the " + type + " secrets engine at: " + path);
  });
}

int run_disable(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer secrets disable [options] PATH\n\n"
      "  Disables the secrets engine at PATH, deleting its data and revoking its leases.\n",
      FlagSpec(), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = with_slash(run.args[0]);
    auto response = run.api().call({"DELETE", "sys/mounts/" + sanitize_path(path)});
    if (!response) return print_error("disabling secrets engine at " + path, response.error());
    return print_success("Success! Disabled the secrets engine (if it existed) at: " + path);
  });
}

std::string ttl_cell(const nlohmann::json& config, const char* key) {
  const auto v = config.value(key, nlohmann::json(0));
  if (v.is_number_integer() && v.get<std::int64_t>() == 0) return "system";
  return format_duration_value(v);
}

int run_list(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer secrets list [options]\n\n"
      "  Lists the enabled secrets engines.\n\n"
      "  -detailed   Show TTLs, options, replication and more\n",
      FlagSpec({"detailed"}));
  return run_command(spec, args, [](CommandRun& run) {
    auto response = run.api().call({"GET", "sys/mounts"});
    if (!response) return print_error("listing secrets engines", response.error());
    const nlohmann::json data = response->body.value("data", nlohmann::json::object());
    if (run.json()) {
      std::cout << format_json(data);
      return 0;
    }
    const bool detailed = run.flags.has("detailed");
    std::vector<std::vector<std::string>> rows;
    for (const auto& [path, m] : data.items()) {
      const auto config = m.value("config", nlohmann::json::object());
      const std::string description = m.value("description", std::string());
      if (!detailed) {
        rows.push_back({path, m.value("type", ""), m.value("accessor", ""), description});
        continue;
      }
      const auto options = m.value("options", nlohmann::json());
      rows.push_back({path, m.value("type", ""), m.value("accessor", ""),
                      ttl_cell(config, "default_lease_ttl"), ttl_cell(config, "max_lease_ttl"),
                      format_value(config.value("force_no_cache", false)),
                      m.value("local", false) ? "local" : "replicated",
                      format_value(m.value("seal_wrap", false)),
                      format_value(m.value("external_entropy_access", false)),
                      options.is_null() ? "map[]" : format_value(options), description,
                      m.value("uuid", ""), m.value("running_plugin_version", ""),
                      m.value("deprecation_status", "")});
    }
    if (!detailed) {
      std::cout << format_table({"Path", "Type", "Accessor", "Description"}, rows);
    } else {
      std::cout << format_table(
          {"Path", "Plugin", "Accessor", "Default TTL", "Max TTL", "Force No Cache", "Replication",
           "Seal Wrap", "External Entropy Access", "Options", "Description", "UUID",
           "Running Version", "Deprecation Status"},
          rows);
    }
    return 0;
  });
}

int run_tune(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer secrets tune [options] PATH\n\n"
      "  Changes the configuration of the secrets engine at PATH.\n\n"
      "  -default-lease-ttl=DUR   Default lease TTL\n"
      "  -max-lease-ttl=DUR       Maximum lease TTL\n"
      "  -description=TEXT        Description\n"
      "  -options=K=V             Engine option (repeatable), e.g. version=2\n",
      FlagSpec({}, {"default-lease-ttl", "max-lease-ttl", "description"}, {"options"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = with_slash(run.args[0]);
    nlohmann::json body = nlohmann::json::object();
    if (run.flags.has("default-lease-ttl")) {
      body["default_lease_ttl"] = run.flags.get("default-lease-ttl");
    }
    if (run.flags.has("max-lease-ttl")) body["max_lease_ttl"] = run.flags.get("max-lease-ttl");
    if (run.flags.has("description")) body["description"] = run.flags.get("description");
    auto options = options_map(run.flags.get_all("options"));
    if (!options) return print_error("tuning secrets engine " + path, options.error());
    if (!options->empty()) body["options"] = *options;
    auto response = run.api().call({"POST", "sys/mounts/" + sanitize_path(path) + "/tune", body});
    if (!response) return print_error("tuning secrets engine " + path, response.error());
    return print_success("Success! Tuned the secrets engine at: " + path);
  });
}

int run_move(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer secrets move [options] SOURCE DESTINATION\n\n"
      "  Moves a secrets engine, with its data, to a new path.\n",
      FlagSpec(), 2, 2);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string from = with_slash(run.args[0]);
    const std::string to = with_slash(run.args[1]);
    auto response =
        run.api().call({"POST", "sys/remount", nlohmann::json{{"from", from}, {"to", to}}});
    if (!response)
      return print_error("moving secrets engine " + from + " to " + to, response.error());
    const auto data = response->body.is_object()
                          ? response->body.value("data", nlohmann::json::object())
                          : nlohmann::json::object();
    if (data.is_object() && data.contains("migration_id")) {
      return print_success("Success! Started moving secrets engine " + from + " to " + to +
                           ", with migration ID: " + format_value(data["migration_id"]));
    }
    return print_success("Success! Moved secrets engine " + from + " to: " + to);
  });
}

}  // namespace

int run_secrets_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"disable", "Disables a secrets engine", run_disable},
      {"enable", "Enables a secrets engine", run_enable},
      {"list", "Lists the enabled secrets engines", run_list},
      {"move", "Moves a secrets engine to a new path", run_move},
      {"tune", "Tunes a secrets engine's configuration", run_tune},
  };
  return dispatch(kSecretsUsage, kSubcommands, args);
}

}  // namespace coffer::cli
