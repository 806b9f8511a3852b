// `coffer status`: seal status and HA status. Exit 0 unsealed, 2 sealed, 1 on
// error (as `vault status`, where 2 is reserved for "sealed").

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"

namespace coffer::cli {
namespace {

constexpr const char* kUsage =
    "Usage: coffer status [options]\n\n"
    "  Prints the seal status of the server. The exit code is 0 when unsealed,\n"
    "  2 when sealed and 1 on error.\n";

std::string str(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? std::string() : format_value(*it);
}

}  // namespace

nlohmann::json fetch_leader(const ApiClient& client) {
  auto leader = client.send({"GET", "sys/leader"});
  if (!leader || !leader->ok() || !leader->body.is_object()) return nullptr;
  return leader->body;
}

Rows seal_status_rows(const nlohmann::json& s, const nlohmann::json& leader) {
  Rows rows;
  rows.emplace_back("Seal Type", str(s, "type"));
  rows.emplace_back("Initialized", str(s, "initialized"));
  rows.emplace_back("Sealed", str(s, "sealed"));
  rows.emplace_back("Total Shares", str(s, "n"));
  rows.emplace_back("Threshold", str(s, "t"));
  if (s.value("sealed", true)) {
    rows.emplace_back("Unseal Progress", str(s, "progress") + "/" + str(s, "t"));
    rows.emplace_back("Unseal Nonce", s.value("nonce", std::string()));
  }
  rows.emplace_back("Version", str(s, "version"));
  if (s.contains("build_date")) rows.emplace_back("Build Date", str(s, "build_date"));
  if (s.contains("storage_type")) rows.emplace_back("Storage Type", str(s, "storage_type"));
  if (s.contains("cluster_name")) rows.emplace_back("Cluster Name", str(s, "cluster_name"));
  if (s.contains("cluster_id")) rows.emplace_back("Cluster ID", str(s, "cluster_id"));
  if (leader.is_object()) {
    const bool ha = leader.value("ha_enabled", false);
    rows.emplace_back("HA Enabled", ha ? "true" : "false");
    if (ha) {
      rows.emplace_back("HA Mode", leader.value("is_self", false) ? "active" : "standby");
      rows.emplace_back("Active Node Address", str(leader, "leader_address"));
    }
  }
  return rows;
}

int print_seal_status(bool json, const nlohmann::json& seal_status, const nlohmann::json& leader) {
  if (json) {
    nlohmann::json out = seal_status;
    if (leader.is_object()) {
      if (leader.value("ha_enabled", false)) {
        for (const auto& [k, v] : leader.items()) out[k] = v;
      } else {
        out["ha_enabled"] = false;
      }
    }
    std::cout << format_json(out);
  } else {
    std::cout << format_key_value_table(seal_status_rows(seal_status, leader));
  }
  return 0;
}

int run_status_command(const Args& args) {
  CommandSpec spec(kUsage);
  spec.client_error_exit = 1;
  return run_command(spec, args, [](CommandRun& run) {
    auto status = run.api().call({"GET", "sys/seal-status"});
    if (!status) {
      std::cerr << "Error checking seal status: " << status.error().message() << "\n";
      return 1;
    }
    const nlohmann::json& body = status->body;
    if (!body.is_object()) {
      std::cerr << "Error checking seal status: the server's answer is not a JSON object\n";
      return 1;
    }
    // As `vault status`: sys/leader is asked even when sealed; a failure only hides HA rows.
    print_seal_status(run.json(), body, fetch_leader(run.api()));
    return body.value("sealed", true) ? 2 : 0;
  });
}

}  // namespace coffer::cli
