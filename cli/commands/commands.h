#pragma once
// Entry points of the client commands, one per command group, each taking the
// arguments after its name and returning the process exit code (see
// cli/commands/command.h for the codes).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.h"
#include "cli/output.h"

namespace coffer::cli {

using Args = std::vector<std::string>;

int run_status_command(const Args& args);    // status
int run_operator_command(const Args& args);  // operator init|unseal|seal|rotate|key-status
int run_login_command(const Args& args);     // login
int run_token_command(const Args& args);     // token create|lookup|renew|revoke|capabilities
int run_policy_command(const Args& args);    // policy write|read|list|delete|fmt
int run_secrets_command(const Args& args);   // secrets enable|disable|list|tune|move
int run_kv_command(const Args& args);      // kv put|get|patch|delete|undelete|destroy|list|metadata
int run_read_command(const Args& args);    // read
int run_write_command(const Args& args);   // write
int run_list_command(const Args& args);    // list
int run_delete_command(const Args& args);  // delete
int run_audit_command(const Args& args);   // audit enable|disable|list|verify|query

// Shared by `status` and `operator unseal`: the vault CLI's seal status table
// rows, with the HA row from sys/leader when `leader` is an object.
Rows seal_status_rows(const nlohmann::json& seal_status, const nlohmann::json& leader);

// GET sys/leader, or null when it fails (it is informational only).
nlohmann::json fetch_leader(const ApiClient& client);

// Prints a seal status (plus leader) as a table or JSON; returns 0.
int print_seal_status(bool json, const nlohmann::json& seal_status, const nlohmann::json& leader);

}  // namespace coffer::cli
