// `coffer login [TOKEN|-]`: checks a token with lookup-self and stores it in
// the token file ($HOME/.coffer-token, mode 0600) for later commands.
//
// Unlike `vault login`, the table does not repeat the token itself: the user
// already has it, and it would only end up in terminal scrollback and CI logs.

#include <iostream>

#include "cli/client_config.h"
#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/input.h"
#include "vault/base/secret_bytes.h"

namespace coffer::cli {
namespace {

constexpr const char* kUsage =
    "Usage: coffer login [options] [TOKEN | -]\n\n"
    "  Authenticates with a token and stores it in $HOME/.coffer-token (mode 0600)\n"
    "  so later commands use it. Without TOKEN, or with \"-\", the token is read\n"
    "  from stdin or, at a terminal, prompted for without echo. Prefer that to\n"
    "  passing it as an argument, which other users can see in the process list.\n\n"
    "  -method=token   The only method supported here\n"
    "  -no-store       Do not store the token\n"
    "  -no-print       Print nothing on success\n";

// The auth block the vault CLI builds from a lookup-self answer.
nlohmann::json auth_from_lookup(const nlohmann::json& data) {
  nlohmann::json auth{
      {"accessor", data.value("accessor", "")},
      {"lease_duration", data.value("ttl", 0)},
      {"renewable", data.value("renewable", false)},
      {"policies", data.value("policies", nlohmann::json::array())},
      {"token_policies", data.value("policies", nlohmann::json::array())},
      {"identity_policies", data.value("identity_policies", nlohmann::json::array())},
      {"metadata", data.value("meta", nlohmann::json())},
      {"entity_id", data.value("entity_id", "")},
      {"orphan", data.value("orphan", false)},
      {"token_type", data.value("type", "service")}};
  if (auth["identity_policies"].is_null()) auth["identity_policies"] = nlohmann::json::array();
  if (auth["policies"].is_null()) auth["policies"] = nlohmann::json::array();
  if (auth["token_policies"].is_null()) auth["token_policies"] = nlohmann::json::array();
  return auth;
}

}  // namespace

int run_login_command(const Args& args) {
  const CommandSpec spec(kUsage, FlagSpec({"no-store", "no-print"}, {"method"}), 0, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string method = run.flags.get("method", "token");
    if (method != "token") {
      std::cerr << "Error: unsupported login method \"" << method
                << "\"; only token logins are supported by this client\n";
      return 1;
    }
    std::string token;
    if (!run.args.empty() && run.args[0] != "-") {
      token = run.args[0];
    } else {
      auto read = read_secret("Token (will be hidden): ");
      if (!read) return print_error("authenticating", read.error());
      token = std::move(*read);
    }
    const ApiClient client = run.api().with_token(std::move(token));
    auto lookup = client.call({"GET", "auth/token/lookup-self"});
    if (!lookup) {
      std::cerr << "Error authenticating: error looking up token: " << lookup.error().message()
                << "\n";
      return 2;
    }
    const nlohmann::json data = lookup->body.value("data", nlohmann::json::object());
    if (!run.flags.has("no-store")) {
      // lookup-self returns the token it was asked about as `id`.
      std::string id = data.value("id", std::string());
      if (id.empty()) {
        std::cerr << "Error authenticating: the server's lookup-self answer has no token id\n";
        return 2;
      }
      const Status stored = write_token_file(id);
      wipe(id.data(), id.size());
      if (!stored.ok()) return print_error("storing the token", stored);
    }
    if (const std::string var = token_env_variable(); !var.empty()) {
      std::cerr << "WARNING! The " << var << " environment variable is set! Its value takes\n"
                << "precedence over the token stored by this login; unset " << var
                << " or update\nits value if this is unwanted.\n\n";
    }
    if (run.flags.has("no-print")) return 0;
    nlohmann::json response{{"request_id", lookup->body.value("request_id", "")},
                            {"lease_id", ""},
                            {"lease_duration", 0},
                            {"renewable", false},
                            {"data", nullptr},
                            {"warnings", lookup->body.value("warnings", nlohmann::json())},
                            {"auth", auth_from_lookup(data)}};
    if (run.json()) {
      std::cout << format_json(response);
      return 0;
    }
    if (run.flags.has("no-store")) {
      std::cout << "Success! You are now authenticated. The token was NOT stored (-no-store):\n"
                   "set COFFER_TOKEN or VAULT_TOKEN to use it in later commands.\n\n";
    } else {
      std::cout
          << "Success! You are now authenticated. The token information displayed below\n"
             "is already stored in the token helper. You do NOT need to run \"coffer login\"\n"
             "again. Future requests will automatically use this token.\n\n";
    }
    std::cout << format_key_value_table(secret_rows(response, /*include_token=*/false));
    return 0;
  });
}

}  // namespace coffer::cli
