// coffer: the vault server and its command-line client.

#include <iostream>
#include <string>
#include <vector>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/server_command.h"

namespace {

constexpr const char* kUsage =
    "Usage: coffer <command> [args]\n\n"
    "Common commands:\n"
    "    read        Read data and retrieve secrets\n"
    "    write       Write data, configuration, and secrets\n"
    "    delete      Delete secrets and configuration\n"
    "    list        List data or secrets\n"
    "    login       Authenticate locally\n"
    "    server      Start a Coffer server (-config=FILE, or -dev)\n"
    "    status      Print seal and HA status\n\n"
    "Other commands:\n"
    "    audit       Manage audit devices; verify and search audit logs\n"
    "    kv          Interact with the key/value secrets engine\n"
    "    operator    Perform operator-specific tasks (init, unseal, seal, rotate)\n"
    "    policy      Interact with policies\n"
    "    secrets     Interact with secrets engines\n"
    "    token       Interact with tokens\n"
    "    version     Print the version\n\n"
    "Run \"coffer <command> -h\" for a command's options. Every client command takes\n"
    "-address, -ca-cert, -format=json|table and -tls-skip-verify, and honours\n"
    "VAULT_ADDR, VAULT_TOKEN and VAULT_CACERT (COFFER_* variants take precedence).\n";

int print_version(const std::vector<std::string>&) {
  std::cout << "Coffer v0.1.0\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace coffer::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 1 : 0;
  }
  static const Subcommand kCommands[] = {
      {"delete", "", run_delete_command},     {"kv", "", run_kv_command},
      {"list", "", run_list_command},         {"login", "", run_login_command},
      {"operator", "", run_operator_command}, {"policy", "", run_policy_command},
      {"read", "", run_read_command},         {"secrets", "", run_secrets_command},
      {"server", "", run_server_command},     {"status", "", run_status_command},
      {"token", "", run_token_command},       {"version", "", print_version},
      {"-version", "", print_version},        {"--version", "", print_version},
      {"write", "", run_write_command},       {"audit", "", run_audit_command},
  };
  for (const auto& command : kCommands) {
    if (command.name == args[0]) {
      return command.run(std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::cerr << "Unknown command: " << args[0] << "\n\n" << kUsage;
  return 1;
}
