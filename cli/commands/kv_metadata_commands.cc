// `coffer kv metadata get|put|delete`: KV version 2 metadata.

#include <algorithm>
#include <iostream>

#include "cli/commands/kv_support.h"

namespace coffer::cli {
namespace {

int print_v1_refusal() {
  std::cerr << "Metadata not supported on KV Version 1\n";
  return 1;
}

int run_metadata_get(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv metadata get [options] PATH\n\n"
      "  Shows a KV v2 secret's metadata and its versions.\n",
      FlagSpec({}, {"mount", "field"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    if (!target->v2()) return print_v1_refusal();
    const std::string full = target->api_path("metadata");
    const ApiRequest request{"GET", full};
    auto response = run.api().send(request);
    if (!response) return print_error("reading " + full, response.error());
    if (response->status == 404) return api_failure("No value found at " + full);
    if (!response->ok()) {
      return print_error("reading " + full, run.api().api_error(request, *response));
    }
    nlohmann::json data = response->body.value("data", nlohmann::json::object());
    if (run.flags.has("field")) return print_map_field(run, data, run.flags.get("field"));
    if (run.json()) {
      std::cout << format_json(response->body);
      return 0;
    }
    print_warnings(response->body);
    const nlohmann::json versions = data.value("versions", nlohmann::json::object());
    data.erase("versions");
    print_path_section("Metadata Path", full);
    print_section("Metadata", map_rows(data));
    // Version keys are strings; show them in numeric order.
    std::vector<std::pair<long long, std::string>> order;
    for (const auto& [k, v] : versions.items()) {
      try {
        order.emplace_back(std::stoll(k), k);
      } catch (const std::exception&) {
        order.emplace_back(0, k);
      }
    }
    std::ranges::sort(order);
    for (const auto& [n, k] : order) {
      std::cout << "\n";
      print_section("Version " + k, map_rows(versions[k]));
    }
    return 0;
  });
}

int run_metadata_put(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv metadata put [options] PATH\n\n"
      "  Sets a KV v2 secret's metadata settings.\n\n"
      "  -max-versions=N               Versions to keep (0: the mount's setting)\n"
      "  -cas-required=BOOL            Require check-and-set on writes\n"
      "  -delete-version-after=DUR     Delete versions this long after they are written\n"
      "  -custom-metadata=K=V          Custom metadata (repeatable)\n",
      FlagSpec({"cas-required"}, {"max-versions", "delete-version-after", "mount"},
               {"custom-metadata"}),
      1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    nlohmann::json body = nlohmann::json::object();
    if (run.flags.has("max-versions")) {
      auto max = run.flags.get_int("max-versions", 0);
      if (!max) return print_error("parsing -max-versions", max.error());
      body["max_versions"] = *max;
    }
    if (run.flags.has("cas-required")) {
      auto cas = run.flags.get_bool("cas-required", false);
      if (!cas) return print_error("parsing -cas-required", cas.error());
      body["cas_required"] = *cas;
    }
    if (run.flags.has("delete-version-after")) {
      body["delete_version_after"] = run.flags.get("delete-version-after");
    }
    const auto custom = run.flags.get_all("custom-metadata");
    if (!custom.empty()) {
      nlohmann::json meta = nlohmann::json::object();
      for (const auto& pair : custom) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0) {
          std::cerr << "-custom-metadata takes key=value\n";
          return 1;
        }
        meta[pair.substr(0, eq)] = pair.substr(eq + 1);
      }
      body["custom_metadata"] = meta;
    }
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    if (!target->v2()) return print_v1_refusal();
    const std::string full = target->api_path("metadata");
    auto response = run.api().call({"PUT", full, body});
    if (!response) return print_error("writing data to " + full, response.error());
    return print_success("Success! Data written to: " + full);
  });
}

int run_metadata_delete(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv metadata delete [options] PATH\n\n"
      "  Deletes a KV v2 secret's metadata and every version of it.\n",
      FlagSpec({}, {"mount"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    if (!target->v2()) return print_v1_refusal();
    const std::string full = target->api_path("metadata");
    auto response = run.api().call({"DELETE", full});
    if (!response) return print_error("deleting " + full, response.error());
    return print_success("Success! Data deleted (if it existed) at: " + full);
  });
}

}  // namespace

int run_kv_metadata_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"delete", "Deletes all versions and metadata of a secret", run_metadata_delete},
      {"get", "Shows a secret's metadata and versions", run_metadata_get},
      {"put", "Sets a secret's metadata settings", run_metadata_put},
  };
  return dispatch("Usage: coffer kv metadata <subcommand> [options] PATH\n", kSubcommands, args);
}

}  // namespace coffer::cli
