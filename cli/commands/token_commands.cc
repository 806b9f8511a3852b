// `coffer token create|lookup|renew|revoke|capabilities` on auth/token/* and
// sys/capabilities(-self).

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"

namespace coffer::cli {
namespace {

constexpr const char* kTokenUsage = "Usage: coffer token <subcommand> [options] [args]\n";

// -policy=a,b -policy=c -> ["a","b","c"], as the vault CLI's string-slice flags.
std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const auto comma = value.find(',', start);
      std::string item =
          value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(std::move(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

Result<nlohmann::json> metadata_map(const std::vector<std::string>& pairs,
                                    const std::string& flag) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(invalid_argument("-" + flag + " takes key=value"));
    }
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

int output_auth(const CommandRun& run, const nlohmann::json& response) {
  if (run.flags.has("field")) return print_field(run, response, run.flags.get("field"));
  return print_secret(run, response);
}

int run_create(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer token create [options]\n\n"
      "  Creates a token (a child of the calling token unless -orphan) and prints it.\n\n"
      "  -policy=NAME            Policy to attach (repeatable, or comma-separated)\n"
      "  -ttl=DURATION           Initial TTL\n"
      "  -explicit-max-ttl=DUR   Hard maximum lifetime\n"
      "  -period=DURATION        Make a periodic token\n"
      "  -display-name=NAME      Display name\n"
      "  -num-uses=N             Number of uses (0 = unlimited)\n"
      "  -orphan                 Create without a parent\n"
      "  -renewable=BOOL         Whether the token can be renewed (default true)\n"
      "  -type=service|batch     Token type\n"
      "  -metadata=K=V           Metadata (repeatable)\n"
      "  -no-default-policy      Do not attach the default policy\n"
      "  -role=NAME              Create against a token role\n"
      "  -id=ID                  Custom token value (root only)\n"
      "  -field=NAME             Print only this field (e.g. token)\n",
      FlagSpec({"orphan", "renewable", "no-default-policy"},
               {"ttl", "explicit-max-ttl", "period", "display-name", "num-uses", "use-limit",
                "type", "role", "id", "field", "entity-alias"},
               {"policy", "metadata"}));
  return run_command(spec, args, [](CommandRun& run) {
    nlohmann::json body = nlohmann::json::object();
    const auto policies = split_list(run.flags.get_all("policy"));
    if (!policies.empty()) body["policies"] = policies;
    auto meta = metadata_map(run.flags.get_all("metadata"), "metadata");
    if (!meta) return print_error("creating token", meta.error());
    if (!meta->empty()) body["meta"] = *meta;
    for (const auto& [flag, field] : {std::pair{"ttl", "ttl"},
                                      {"explicit-max-ttl", "explicit_max_ttl"},
                                      {"period", "period"},
                                      {"display-name", "display_name"},
                                      {"type", "type"},
                                      {"id", "id"},
                                      {"entity-alias", "entity_alias"}}) {
      if (run.flags.has(flag)) body[field] = run.flags.get(flag);
    }
    for (const char* flag : {"num-uses", "use-limit"}) {
      if (!run.flags.has(flag)) continue;
      auto uses = run.flags.get_int(flag, 0);
      if (!uses) return print_error("creating token", uses.error());
      body["num_uses"] = *uses;
    }
    auto renewable = run.flags.get_bool("renewable", true);
    auto no_default = run.flags.get_bool("no-default-policy", false);
    auto orphan = run.flags.get_bool("orphan", false);
    for (const auto* r : {&renewable, &no_default, &orphan}) {
      if (!*r) return print_error("creating token", r->error());
    }
    body["renewable"] = *renewable;
    if (*no_default) body["no_default_policy"] = true;

    std::string path = "auth/token/create";
    if (run.flags.has("role")) {
      path += "/" + run.flags.get("role");
    } else if (*orphan) {
      path = "auth/token/create-orphan";
    }
    auto response = run.api().call({"POST", path, body});
    if (!response) return print_error("creating token", response.error());
    return output_auth(run, response->body);
  });
}

int run_lookup(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer token lookup [options] [TOKEN | ACCESSOR]\n\n"
      "  Shows a token's properties: the calling token's without an argument.\n\n"
      "  -accessor   The argument is an accessor, not a token\n",
      FlagSpec({"accessor"}), 0, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const bool by_accessor = run.flags.has("accessor");
    if (by_accessor && run.args.empty()) {
      std::cerr << "Not enough arguments (expected 1, got 0): -accessor needs an accessor\n";
      return 1;
    }
    Result<ApiResponse> response = fail(internal_error("unreachable"));
    if (run.args.empty()) {
      response = run.api().call({"GET", "auth/token/lookup-self"});
    } else if (by_accessor) {
      response = run.api().call(
          {"POST", "auth/token/lookup-accessor", nlohmann::json{{"accessor", run.args[0]}}});
    } else {
      response =
          run.api().call({"POST", "auth/token/lookup", nlohmann::json{{"token", run.args[0]}}});
    }
    if (!response) return print_error("looking up token", response.error());
    return print_secret(run, response->body);
  });
}

int run_renew(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer token renew [options] [TOKEN | ACCESSOR]\n\n"
      "  Renews a token's lease: the calling token's without an argument.\n\n"
      "  -increment=DURATION   Requested new TTL (the server may cap it)\n"
      "  -accessor             The argument is an accessor, not a token\n",
      FlagSpec({"accessor"}, {"increment", "i"}), 0, 1);
  return run_command(spec, args, [](CommandRun& run) {
    nlohmann::json body = nlohmann::json::object();
    const std::string increment = run.flags.get("increment", run.flags.get("i"));
    if (!increment.empty()) body["increment"] = increment;
    std::string path = "auth/token/renew-self";
    if (!run.args.empty()) {
      if (run.flags.has("accessor")) {
        path = "auth/token/renew-accessor";
        body["accessor"] = run.args[0];
      } else {
        path = "auth/token/renew";
        body["token"] = run.args[0];
      }
    } else if (run.flags.has("accessor")) {
      std::cerr << "Not enough arguments (expected 1, got 0): -accessor needs an accessor\n";
      return 1;
    }
    auto response = run.api().call({"POST", path, body});
    if (!response) return print_error("renewing token", response.error());
    return print_secret(run, response->body);
  });
}

int run_revoke(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer token revoke [options] [TOKEN | ACCESSOR]\n\n"
      "  Revokes a token and, unless -mode=orphan, all of its children.\n\n"
      "  -self          Revoke the calling token\n"
      "  -accessor      The argument is an accessor, not a token\n"
      "  -mode=orphan   Revoke only this token; its children become orphans\n",
      FlagSpec({"self", "accessor"}, {"mode"}), 0, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const bool self = run.flags.has("self");
    const bool by_accessor = run.flags.has("accessor");
    const std::string mode = run.flags.get("mode");
    if (self && !run.args.empty()) {
      std::cerr << "Tokens cannot be specified with -self\n";
      return 1;
    }
    if (!self && run.args.empty()) {
      std::cerr << "Not enough arguments (expected 1, got 0)\n";
      return 1;
    }
    if (!mode.empty() && mode != "orphan") {
      std::cerr << "Unsupported -mode \"" << mode << "\": use -mode=orphan or leave it out\n";
      return 1;
    }
    if (self && !mode.empty()) {
      std::cerr << "-mode cannot be used with -self\n";
      return 1;
    }
    if (by_accessor && !mode.empty()) {
      std::cerr << "Using -mode=orphan with -accessor is not supported\n";
      return 1;
    }
    Result<ApiResponse> response = fail(internal_error("unreachable"));
    if (self) {
      response = run.api().call({"POST", "auth/token/revoke-self"});
    } else if (by_accessor) {
      response = run.api().call(
          {"POST", "auth/token/revoke-accessor", nlohmann::json{{"accessor", run.args[0]}}});
    } else {
      const std::string path = mode == "orphan" ? "auth/token/revoke-orphan" : "auth/token/revoke";
      response = run.api().call({"POST", path, nlohmann::json{{"token", run.args[0]}}});
    }
    if (!response) return print_error("revoking token", response.error());
    return print_success("Success! Revoked token (if it existed)");
  });
}

int run_capabilities(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer token capabilities [options] [TOKEN] PATH\n\n"
      "  Lists what a token (the calling token without TOKEN) may do on PATH.\n",
      FlagSpec(), 1, 2);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = run.args.back();
    Result<ApiResponse> response = fail(internal_error("unreachable"));
    if (run.args.size() == 1) {
      response =
          run.api().call({"POST", "sys/capabilities-self", nlohmann::json{{"paths", {path}}}});
    } else {
      response = run.api().call(
          {"POST", "sys/capabilities", nlohmann::json{{"token", run.args[0]}, {"paths", {path}}}});
    }
    if (!response) return print_error("listing capabilities", response.error());
    const nlohmann::json data = response->body.value("data", nlohmann::json::object());
    nlohmann::json caps =
        data.contains(path) ? data[path] : data.value("capabilities", nlohmann::json::array());
    if (run.json()) {
      std::cout << format_json(caps);
      return 0;
    }
    std::string joined;
    for (const auto& c : caps) joined += (joined.empty() ? "" : ", ") + format_value(c);
    return print_success(joined);
  });
}

}  // namespace

int run_token_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"capabilities", "Prints the capabilities of a token on a path", run_capabilities},
      {"create", "Creates a new token", run_create},
      {"lookup", "Displays information about a token", run_lookup},
      {"renew", "Renews a token's lease", run_renew},
      {"revoke", "Revokes a token and its children", run_revoke},
  };
  return dispatch(kTokenUsage, kSubcommands, args);
}

}  // namespace coffer::cli
