// The generic `coffer read|write|list|delete PATH` commands: any API path.

#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/input.h"

namespace coffer::cli {
namespace {

// Data arguments of read and delete travel as query parameters, as in the vault CLI.
Result<std::vector<std::pair<std::string, std::string>>> query_from_args(const Args& data_args) {
  std::vector<std::pair<std::string, std::string>> query;
  if (data_args.empty()) return query;
  COFFER_ASSIGN_OR_RETURN(nlohmann::json data, parse_data_args(data_args, std::cin));
  for (const auto& [k, v] : data.items()) {
    if (v.is_array()) {
      for (const auto& item : v) query.emplace_back(k, format_value(item));
    } else {
      query.emplace_back(k, format_value(v));
    }
  }
  return query;
}

}  // namespace

int run_read_command(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer read [options] PATH [K=V...]\n\n"
      "  Reads data at PATH. K=V pairs are sent as query parameters.\n\n"
      "  -field=NAME   Print only this field\n",
      FlagSpec({}, {"field"}), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = sanitize_path(run.args[0]);
    auto query = query_from_args(Args(run.args.begin() + 1, run.args.end()));
    if (!query) return print_error("parsing args", query.error());
    ApiRequest request{"GET", path};
    request.query = std::move(*query);
    auto response = run.api().send(request);
    if (!response) return print_error("reading " + path, response.error());
    const nlohmann::json& body = response->body;
    if (response->status == 404) {
      // Like the Go client: a 404 that still carries data or warnings is shown.
      const bool has_data =
          body.is_object() &&
          ((body.contains("data") && !body["data"].is_null()) ||
           (body.contains("warnings") && body["warnings"].is_array() && !body["warnings"].empty()));
      if (!has_data) return api_failure("No value found at " + path);
    } else if (!response->ok()) {
      return print_error("reading " + path, run.api().api_error(request, *response));
    }
    if (run.flags.has("field")) return print_field(run, body, run.flags.get("field"));
    return print_secret(run, body);
  });
}

int run_write_command(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer write [options] PATH [K=V...]\n\n"
      "  Writes data to PATH. Values: key=value, key=@file, key=- (stdin), or a lone\n"
      "  \"-\" for a JSON object on stdin.\n\n"
      "  -force        Allow writing with no data\n"
      "  -field=NAME   Print only this field of the answer\n",
      FlagSpec({"force", "f"}, {"field"}), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = sanitize_path(run.args[0]);
    const Args data_args(run.args.begin() + 1, run.args.end());
    if (data_args.empty() && !run.flags.has("force") && !run.flags.has("f")) {
      std::cerr << "Must supply data or use -force\n";
      return 1;
    }
    auto data = parse_data_args(data_args, std::cin);
    if (!data) return print_error("parsing args", data.error());
    auto response = run.api().call({"PUT", path, *data});
    if (!response) return print_error("writing data to " + path, response.error());
    if (response->status == 204 || !response->body.is_object()) {
      if (!run.json()) std::cout << "Success! Data written to: " << path << "\n";
      return 0;
    }
    if (run.flags.has("field")) return print_field(run, response->body, run.flags.get("field"));
    return print_secret(run, response->body);
  });
}

int run_list_command(const Args& args) {
  const CommandSpec spec("Usage: coffer list [options] PATH\n\n  Lists the keys under PATH.\n",
                         FlagSpec(), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = sanitize_path(run.args[0]) + "/";
    return list_keys(run, path, path);
  });
}

int run_delete_command(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer delete [options] PATH [K=V...]\n\n"
      "  Deletes data at PATH. K=V pairs are sent as query parameters.\n",
      FlagSpec(), 1, SIZE_MAX);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string path = sanitize_path(run.args[0]);
    auto query = query_from_args(Args(run.args.begin() + 1, run.args.end()));
    if (!query) return print_error("parsing args", query.error());
    ApiRequest request{"DELETE", path};
    request.query = std::move(*query);
    auto response = run.api().call(request);
    if (!response) return print_error("deleting " + path, response.error());
    return print_success("Success! Data deleted (if it existed) at: " + path);
  });
}

}  // namespace coffer::cli
