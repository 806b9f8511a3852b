// `coffer operator init|unseal|seal|rotate|key-status`.

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/input.h"

namespace coffer::cli {
namespace {

constexpr const char* kOperatorUsage = "Usage: coffer operator <subcommand> [options] [args]\n";

int print_key_status(const CommandRun& run, const nlohmann::json& response, bool rotated) {
  nlohmann::json data = response.value("data", nlohmann::json::object());
  if (run.json()) {
    std::cout << format_json(data);
    return 0;
  }
  if (rotated) std::cout << "Success! Rotated key\n\n";
  std::cout << format_table(
      {}, {{"Key Term", format_value(data.value("term", nlohmann::json()))},
           {"Install Time", format_value(data.value("install_time", ""))},
           {"Encryption Count", format_value(data.value("encryptions", nlohmann::json()))}});
  return 0;
}

int run_init(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer operator init [-key-shares=5] [-key-threshold=3] [-status]\n\n"
      "  Initializes the server: creates the root key, splits it into key shares and\n"
      "  prints them with the initial root token. -status only reports whether the\n"
      "  server is initialized (exit 0 yes, 2 no).\n",
      FlagSpec({"status"}, {"key-shares", "key-threshold"}));
  return run_command(spec, args, [](CommandRun& run) {
    if (run.flags.has("status")) {
      auto status = run.api().call({"GET", "sys/init"});
      if (!status) return print_error("checking init status", status.error());
      if (status->body.value("initialized", false)) return print_success("Vault is initialized");
      std::cout << "Vault is not initialized\n";
      return 2;
    }
    auto shares = run.flags.get_int("key-shares", 5);
    auto threshold = run.flags.get_int("key-threshold", 3);
    if (!shares) return print_error("initializing", shares.error());
    if (!threshold) return print_error("initializing", threshold.error());
    nlohmann::json body{{"secret_shares", *shares},     {"secret_threshold", *threshold},
                        {"stored_shares", 0},           {"pgp_keys", nullptr},
                        {"recovery_shares", 0},         {"recovery_threshold", 0},
                        {"recovery_pgp_keys", nullptr}, {"root_token_pgp_key", ""}};
    auto response = run.api().call({"PUT", "sys/init", body});
    if (!response) return print_error("initializing", response.error());
    const nlohmann::json& r = response->body;
    const auto keys_b64 = r.value("keys_base64", nlohmann::json::array());
    const auto keys_hex = r.value("keys", nlohmann::json::array());
    const std::string root_token = r.value("root_token", std::string());
    // Printing the new shares and root token is this command's purpose: stdout only.
    if (run.json()) {
      std::cout << format_json({{"unseal_keys_b64", keys_b64},
                                {"unseal_keys_hex", keys_hex},
                                {"unseal_shares", *shares},
                                {"unseal_threshold", *threshold},
                                {"recovery_keys_b64", nlohmann::json::array()},
                                {"recovery_keys_hex", nlohmann::json::array()},
                                {"recovery_keys_shares", 0},
                                {"recovery_keys_threshold", 0},
                                {"root_token", root_token}});
      return 0;
    }
    for (std::size_t i = 0; i < keys_b64.size(); ++i) {
      std::cout << "Unseal Key " << i + 1 << ": " << format_value(keys_b64[i]) << "\n";
    }
    std::cout << "\nInitial Root Token: " << root_token << "\n\n"
              << "Vault initialized with " << *shares << " key shares and a key threshold of "
              << *threshold << ". Please securely\n"
              << "distribute the key shares printed above. When the Vault is re-sealed,\n"
              << "restarted, or stopped, you must supply at least " << *threshold
              << " of these keys to unseal it\n"
              << "before it can start servicing requests.\n\n"
              << "Vault does not store the generated root key. Without at least " << *threshold
              << " keys to\nreconstruct the root key, Vault will remain permanently sealed!\n";
    return 0;
  });
}

int run_unseal(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer operator unseal [-reset] [KEY]\n\n"
      "  Submits one unseal key share. Without KEY the share is read from the\n"
      "  terminal (not echoed) or from stdin, which keeps it out of the process list.\n",
      FlagSpec({"reset", "migrate"}), 0, 1);
  return run_command(spec, args, [](CommandRun& run) {
    nlohmann::json body;
    if (run.flags.has("reset")) {
      body = {{"reset", true}};
    } else {
      std::string key;
      if (!run.args.empty()) {
        key = run.args[0];
      } else {
        auto read = read_secret("Unseal Key (will be hidden): ");
        if (!read) return print_error("unsealing", read.error());
        key = std::move(*read);
      }
      body = {{"key", std::move(key)}};
    }
    auto response = run.api().call({"PUT", "sys/unseal", body});
    if (!response) return print_error("unsealing", response.error());
    return print_seal_status(run.json(), response->body, fetch_leader(run.api()));
  });
}

int run_seal(const Args& args) {
  const CommandSpec spec("Usage: coffer operator seal\n\n  Seals the server.\n");
  return run_command(spec, args, [](CommandRun& run) {
    auto response = run.api().call({"PUT", "sys/seal"});
    if (!response) return print_error("sealing", response.error());
    return print_success("Success! Vault is sealed.");
  });
}

int run_rotate(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer operator rotate\n\n"
      "  Rotates the barrier encryption key; older keys stay for decryption.\n");
  return run_command(spec, args, [](CommandRun& run) {
    auto response = run.api().call({"PUT", "sys/rotate"});
    if (!response) return print_error("rotating key", response.error());
    auto status = run.api().call({"GET", "sys/key-status"});
    if (!status) return print_error("reading key status", status.error());
    return print_key_status(run, status->body, /*rotated=*/true);
  });
}

int run_key_status(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer operator key-status\n\n"
      "  Prints the term and install time of the current barrier key.\n");
  return run_command(spec, args, [](CommandRun& run) {
    auto status = run.api().call({"GET", "sys/key-status"});
    if (!status) return print_error("reading key status", status.error());
    return print_key_status(run, status->body, /*rotated=*/false);
  });
}

}  // namespace

int run_operator_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"init", "Initializes a server", run_init},
      {"key-status", "Provides information about the active encryption key", run_key_status},
      {"rotate", "Rotates the underlying encryption key", run_rotate},
      {"seal", "Seals the server", run_seal},
      {"unseal", "Unseals the server", run_unseal},
  };
  return dispatch(kOperatorUsage, kSubcommands, args);
}

}  // namespace coffer::cli
