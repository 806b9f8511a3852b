// `coffer policy write|read|list|delete|fmt` on sys/policies/acl/<name>.

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>

#include "cli/commands/command.h"
#include "cli/commands/commands.h"
#include "cli/input.h"
#include "cli/policy_format.h"

namespace coffer::cli {
namespace {

constexpr const char* kPolicyUsage = "Usage: coffer policy <subcommand> [options] [args]\n";

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  return s;
}

int run_write(const Args& args) {
  const CommandSpec spec(
      "Usage: coffer policy write [options] NAME FILE\n\n"
      "  Uploads a policy from FILE, or from stdin when FILE is \"-\".\n",
      FlagSpec(), 2, 2);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string& name = run.args[0];
    std::string text;
    if (run.args[1] == "-") {
      text = read_all(std::cin);
    } else {
      auto read = read_file(run.args[1]);
      if (!read) return print_error("opening policy file", read.error());
      text = std::move(*read);
    }
    auto response =
        run.api().call({"PUT", "sys/policies/acl/" + name, nlohmann::json{{"policy", text}}});
    if (!response) return print_error("uploading policy", response.error());
    if (response->body.is_object()) print_warnings(response->body);
    return print_success("Success! Uploaded policy: " + name);
  });
}

int run_read(const Args& args) {
  const CommandSpec spec("Usage: coffer policy read [options] NAME\n\n  Prints a policy.\n",
                         FlagSpec(), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string& name = run.args[0];
    const ApiRequest request{"GET", "sys/policies/acl/" + name};
    auto response = run.api().send(request);
    if (!response) return print_error("reading policy named " + name, response.error());
    if (response->status == 404) return api_failure("No policy named: " + name);
    if (!response->ok()) {
      return print_error("reading policy named " + name, run.api().api_error(request, *response));
    }
    const nlohmann::json data = response->body.value("data", nlohmann::json::object());
    if (run.json()) {
      std::cout << format_json(data);
      return 0;
    }
    return print_success(trim(data.value("policy", std::string())));
  });
}

int run_list(const Args& args) {
  const CommandSpec spec("Usage: coffer policy list [options]\n\n  Lists the ACL policies.\n");
  return run_command(spec, args, [](CommandRun& run) {
    auto response = run.api().call({"LIST", "sys/policies/acl"});
    if (!response) return print_error("listing policies", response.error());
    const nlohmann::json keys = response->body.value("data", nlohmann::json::object())
                                    .value("keys", nlohmann::json::array());
    if (run.json()) {
      std::cout << format_json(keys);
      return 0;
    }
    for (const auto& k : keys) std::cout << format_value(k) << "\n";
    return 0;
  });
}

int run_delete(const Args& args) {
  const CommandSpec spec("Usage: coffer policy delete [options] NAME\n\n  Deletes a policy.\n",
                         FlagSpec(), 1, 1);
  return run_command(spec, args, [](CommandRun& run) {
    const std::string& name = run.args[0];
    auto response = run.api().call({"DELETE", "sys/policies/acl/" + name});
    if (!response) return print_error("deleting " + name, response.error());
    return print_success("Success! Deleted policy: " + name);
  });
}

int run_fmt(const Args& args) {
  CommandSpec spec(
      "Usage: coffer policy fmt FILE\n\n"
      "  Rewrites the HCL policy in FILE in a canonical layout (checked with the\n"
      "  policy parser first). Files with comments are refused: they would be lost.\n",
      FlagSpec(), 1, 1);
  spec.needs_client = false;
  return run_command(spec, args, [](CommandRun& run) {
    const std::string& path = run.args[0];
    auto text = read_file(path);
    if (!text) return print_error("opening policy file", text.error());
    auto formatted = format_policy(*text, path);
    if (!formatted) return print_error("formatting policy", formatted.error());
    if (*formatted != *text) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << *formatted;
      out.close();
      if (!out) {
        std::cerr << "Error writing " << path << "\n";
        return 1;
      }
    }
    return print_success("Success! Formatted policy: " + path);
  });
}

}  // namespace

int run_policy_command(const Args& args) {
  static const Subcommand kSubcommands[] = {
      {"delete", "Deletes a policy by name", run_delete},
      {"fmt", "Formats a policy file", run_fmt},
      {"list", "Lists the installed policies", run_list},
      {"read", "Prints the contents of a policy", run_read},
      {"write", "Uploads a named policy from a file", run_write},
  };
  return dispatch(kPolicyUsage, kSubcommands, args);
}

}  // namespace coffer::cli
