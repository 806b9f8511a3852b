#include "cli/flags.h"

namespace coffer::cli {

Result<ParsedFlags> parse_flags(const std::vector<std::string>& args,
                                const std::set<std::string>& bool_flags,
                                const std::set<std::string>& value_flags) {
  ParsedFlags out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (bool_flags.contains(name)) {
      out.values[name] = has_value ? value : "true";
    } else if (value_flags.contains(name)) {
      if (!has_value) {
        if (i + 1 >= args.size()) return fail(invalid_argument("flag -" + name + " needs a value"));
        value = args[++i];
      }
      out.values[name] = value;
    } else {
      return fail(invalid_argument("flag provided but not defined: -" + name));
    }
  }
  return out;
}

}  // namespace coffer::cli
