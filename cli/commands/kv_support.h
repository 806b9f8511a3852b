#pragma once
// Pieces shared by the `coffer kv` commands (kv_commands.cc and
// kv_metadata_commands.cc): the preflight, and the vault CLI's sectioned
// table output for KV secrets.
//
// Thread safety: for the CLI's single thread (prints to std::cout/std::cerr).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/kv_paths.h"
#include "cli/output.h"

namespace coffer::cli {

// A map's rows as the vault CLI's OutputData prints them: sorted keys, %v values.
Rows map_rows(const nlohmann::json& map);

// "=== Title ===" (sized as the vault CLI sizes it for `rows`), then the table.
void print_section(std::string_view title, const Rows& rows);

// "== Title ==", the path, and a blank line.
void print_path_section(std::string_view title, const std::string& path);

// Runs the preflight for `path` (honouring -mount). On failure prints the
// error, sets `exit_code` and returns nullopt.
std::optional<KvTarget> kv_target_for(const CommandRun& run, const std::string& path,
                                      int& exit_code);

// `coffer kv metadata get|put|delete`.
int run_kv_metadata_command(const Args& args);

}  // namespace coffer::cli
