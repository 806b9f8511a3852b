#pragma once
// `coffer server`: runs the vault, from a configuration file or in dev mode.

#include <string>
#include <vector>

namespace coffer::cli {

// Returns the process exit code.
int run_server_command(const std::vector<std::string>& args);

}  // namespace coffer::cli
