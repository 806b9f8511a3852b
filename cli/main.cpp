// coffer: the vault server and its command-line client.

#include <iostream>
#include <string>
#include <vector>

#include "cli/server_command.h"

namespace {

constexpr const char* kUsage =
    "Usage: coffer <command> [args]\n\n"
    "Commands:\n"
    "    server    Start a Coffer server (-config=FILE, or -dev)\n"
    "    version   Print the version\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "server") return coffer::cli::run_server_command(args);
  if (command == "version" || command == "-version" || command == "--version") {
    std::cout << "Coffer v0.1.0\n";
    return 0;
  }
  std::cerr << "Unknown command: " << command << "\n" << kUsage;
  return 1;
}
