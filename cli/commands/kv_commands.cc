// `coffer kv put|get|patch|delete|undelete|destroy|list|metadata` for KV
// version 1 and 2 mounts (see cli/kv_paths.h for how paths are resolved).

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/commands/kv_support.h"
#include "cli/input.h"

namespace coffer::cli {
namespace {

constexpr const char* kKvUsage = "Usage: coffer kv <subcommand> [options] [args]\n";

Result<std::vector<int>> parse_versions(const std::string& text) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) {
      try {
        std::size_t used = 0;
        const int v = std::stoi(item, &used);
        if (used != item.size() || v < 0) throw std::invalid_argument("version");
        out.push_back(v);
      } catch (const std::exception&) {
        return fail(invalid_argument("invalid version number in -versions: " + item));
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// A v2 write answer (put, patch): the metadata the server returned.
int print_write_result(const CommandRun& run, const std::string& full_path,
                       const ApiResponse& response) {
  if (response.status == 204 || !response.body.is_object()) {
    if (!run.json()) std::cout << "Success! Data written to: " << full_path << "\n";
    return 0;
  }
  if (run.flags.has("field")) return print_field(run, response.body, run.flags.get("field"));
  if (run.json()) {
    std::cout << format_json(response.body);
    return 0;
  }
  print_warnings(response.body);
  print_path_section("Secret Path", full_path);
  const Rows rows = map_rows(response.body.value("data", nlohmann::json::object()));
  print_section("Metadata", rows);
  return 0;
}

int run_put(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv put [options] PATH K=V...\n\n"
      "  Writes a secret: a new version on KV v2, a replacement on KV v1.\n"
      "  Values: key=value, key=@file (file contents), key=- (stdin), or a lone\n"
      "  \"-\" for a JSON object on stdin.\n\n"
      "  -cas=N        Check-and-set: write only if the current version is N (0: absent)\n"
      "  -mount=PATH   The mount; PATH is then relative to it\n"
      "  -field=NAME   Print only this field of the answer\n",
      FlagSpec({}, {"cas", "mount", "field"}), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const Args data_args(run.args.begin() + 1, run.args.end());
    if (data_args.empty()) {
      std::cerr << "Must supply data\n";
      return 1;
    }
    auto data = parse_data_args(data_args, std::cin);
    if (!data) return print_error("parsing args", data.error());
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    const std::string full = target->api_path("data");
    nlohmann::json body = *data;
    if (target->v2()) {
      nlohmann::json options = nlohmann::json::object();
      if (run.flags.has("cas")) {
        auto cas = run.flags.get_int("cas", -1);
        if (!cas) return print_error("parsing -cas", cas.error());
        if (*cas >= 0) options["cas"] = *cas;
      }
      body = {{"data", *data}, {"options", options}};
    } else if (run.flags.has("cas")) {
      std::cerr << "-cas is only supported on KV version 2\n";
      return 1;
    }
    auto response = run.api().call({"PUT", full, body});
    if (!response) return print_error("writing data to " + full, response.error());
    return print_write_result(run, full, *response);
  });
}

int run_get(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv get [options] PATH\n\n"
      "  Reads a secret (the latest version, or -version=N on KV v2).\n\n"
      "  -version=N    Version to read (KV v2)\n"
      "  -field=NAME   Print only this key's value\n"
      "  -mount=PATH   The mount; PATH is then relative to it\n",
      FlagSpec({}, {"version", "field", "mount"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    const std::string full = target->api_path("data");
    ApiRequest request{"GET", full};
    if (target->v2() && run.flags.has("version")) {
      request.query.emplace_back("version", run.flags.get("version"));
    }
    auto response = run.api().send(request);
    if (!response) return print_error("reading " + full, response.error());
    const nlohmann::json& body = response->body;
    if (response->status == 404) {
      // KV v2 answers a deleted or destroyed version with 404 and its metadata.
      const bool has_data = body.is_object() && body.contains("data") && !body["data"].is_null();
      if (!has_data) return api_failure("No value found at " + full);
    } else if (!response->ok()) {
      return print_error("reading " + full, run.api().api_error(request, *response));
    }
    const nlohmann::json outer = body.value("data", nlohmann::json::object());
    const nlohmann::json data = target->v2() ? outer.value("data", nlohmann::json()) : outer;
    if (run.flags.has("field")) {
      if (target->v2() && data.is_null()) return api_failure("No data found at " + full);
      return target->v2() ? print_map_field(run, data, run.flags.get("field"))
                          : print_field(run, body, run.flags.get("field"));
    }
    if (run.json()) {
      std::cout << format_json(body);
      return 0;
    }
    print_warnings(body);
    if (target->v2()) {
      print_path_section("Secret Path", full);
      if (auto m = outer.find("metadata"); m != outer.end() && m->is_object()) {
        print_section("Metadata", map_rows(*m));
        std::cout << "\n";
      }
    }
    if (data.is_object()) print_section("Data", map_rows(data));
    return 0;
  });
}

int run_patch(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv patch [options] PATH K=V...\n\n"
      "  Changes some keys of the latest version of a KV v2 secret, keeping the others.\n\n"
      "  -cas=N            Check-and-set version\n"
      "  -method=patch|rw  HTTP PATCH (default) or read, merge and write\n"
      "  -mount=PATH       The mount; PATH is then relative to it\n",
      FlagSpec({}, {"cas", "method", "mount", "field"}), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const Args data_args(run.args.begin() + 1, run.args.end());
    if (data_args.empty()) {
      std::cerr << "Must supply data\n";
      return 1;
    }
    auto data = parse_data_args(data_args, std::cin);
    if (!data) return print_error("parsing args", data.error());
    const std::string method = run.flags.get("method", "patch");
    if (method != "patch" && method != "rw") {
      std::cerr << "Unsupported -method \"" << method << "\": use patch or rw\n";
      return 1;
    }
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    if (!target->v2()) return api_failure("K/V engine mount must be version 2 for patch support");
    const std::string full = target->api_path("data");
    nlohmann::json options = nlohmann::json::object();
    if (run.flags.has("cas")) {
      auto cas = run.flags.get_int("cas", -1);
      if (!cas) return print_error("parsing -cas", cas.error());
      options["cas"] = *cas;
    }
    if (method == "patch") {
      ApiRequest request{"PATCH", full, nlohmann::json{{"data", *data}, {"options", options}}};
      request.content_type = "application/merge-patch+json";
      auto response = run.api().send(request);
      if (!response) return print_error("writing data to " + full, response.error());
      if (response->status == 404) return api_failure("No value found at " + full);
      if (!response->ok()) {
        return print_error("writing data to " + full, run.api().api_error(request, *response));
      }
      return print_write_result(run, full, *response);
    }
    // -method=rw: read the latest version, merge, write back with check-and-set.
    auto current = run.api().send({"GET", full});
    if (!current) return print_error("reading " + full, current.error());
    const nlohmann::json outer = current->body.is_object()
                                     ? current->body.value("data", nlohmann::json::object())
                                     : nlohmann::json::object();
    nlohmann::json merged = outer.value("data", nlohmann::json());
    if (current->status == 404 || !merged.is_object()) {
      return api_failure("No value found at " + full);
    }
    if (!current->ok()) {
      return print_error("reading " + full, run.api().api_error({"GET", full}, *current));
    }
    for (const auto& [k, v] : data->items()) merged[k] = v;
    if (!options.contains("cas")) {
      options["cas"] = outer.value("metadata", nlohmann::json::object()).value("version", 0);
    }
    auto response =
        run.api().call({"PUT", full, nlohmann::json{{"data", merged}, {"options", options}}});
    if (!response) return print_error("writing data to " + full, response.error());
    return print_write_result(run, full, *response);
  });
}

int run_delete(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer kv delete [options] PATH\n\n"
      "  Deletes the latest version of a secret (KV v2: soft delete, undoable), or the\n"
      "  versions named by -versions=1,2.\n",
      FlagSpec({}, {"versions", "mount"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    Result<ApiResponse> response = fail(internal_error("unreachable"));
    std::string full;
    if (run.flags.has("versions")) {
      if (!target->v2()) {
        std::cerr << "-versions is only supported on KV version 2\n";
        return 1;
      }
      auto versions = parse_versions(run.flags.get("versions"));
      if (!versions) return print_error("parsing -versions", versions.error());
      full = target->api_path("delete");
      response = run.api().call({"PUT", full, nlohmann::json{{"versions", *versions}}});
    } else {
      full = target->api_path("data");
      response = run.api().call({"DELETE", full});
    }
    if (!response) return print_error("deleting " + full, response.error());
    return print_success("Success! Data deleted (if it existed) at: " + full);
  });
}

// undelete and destroy: PUT <mount>/<action>/<path> {"versions": [...]}.
int run_versions_action(const Args& args, const std::string& action, const std::string& title) {
  const CommandSpec spec(
      "Usage: coffer kv " + action + " [options] -versions=N[,M...] PATH\n\n  " +
          (action == "undelete" ? "Restores soft-deleted versions of a KV v2 secret.\n"
                                : "Permanently removes versions of a KV v2 secret.\n"),
      FlagSpec({}, {"versions", "mount"}), 1, 1);
  return run_command(spec, args, [&](CommandRun& run) {
    if (!run.flags.has("versions")) {
      std::cerr << "No versions provided, use the \"-versions\" flag to specify the version to "
                << action << ".\n";
      return 1;
    }
    auto versions = parse_versions(run.flags.get("versions"));
    if (!versions) return print_error("parsing -versions", versions.error());
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    if (!target->v2()) {
      std::cerr << title << " not supported on KV Version 1\n";
      return 1;
    }
    const std::string full = target->api_path(action);
    auto response = run.api().call({"PUT", full, nlohmann::json{{"versions", *versions}}});
    if (!response) return print_error("writing data to " + full, response.error());
    return print_success("Success! Data written to: " + full);
  });
}

int run_list(const Args& args) {
  const CommandSpec spec("Usage: coffer kv list [options] PATH\n\n  Lists the keys under PATH.\n",
                         FlagSpec({}, {"mount"}), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    int code = 0;
    auto target = kv_target_for(run, run.args[0], code);
    if (!target) return code;
    const std::string full = target->api_path("metadata");
    return list_keys(run, full, full + "/");
  });
}

}  // namespace

int run_kv_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"delete", "Deletes versions of a secret", run_delete},
      {"destroy", "Permanently destroys versions of a secret",
       [](const Args& a) { return run_versions_action(a, "destroy", "Destroy"); }},
      {"get", "Reads a secret", run_get},
      {"list", "Lists the keys under a path", run_list},
      {"metadata", "Reads and changes secret metadata (KV v2)", run_kv_metadata_command},
      {"patch", "Changes some keys of a secret (KV v2)", run_patch},
      {"put", "Writes a secret", run_put},
      {"undelete", "Restores deleted versions of a secret",
       [](const Args& a) { return run_versions_action(a, "undelete", "Undelete"); }},
  };
  return dispatch(kKvUsage, kSubcommands, args);
}

}  // namespace coffer::cli
