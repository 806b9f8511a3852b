#include "cli/flags.h"

#include <charconv>

namespace coffer::cli {

std::optional<bool> parse_go_bool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    return false;
  }
  return std::nullopt;
}

Result<bool> ParsedFlags::get_bool(const std::string& name, bool fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  if (auto parsed = parse_go_bool(it->second)) return *parsed;
  return fail(invalid_argument("invalid boolean value for flag -" + name));
}

Result<std::int64_t> ParsedFlags::get_int(const std::string& name, std::int64_t fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  const std::string& text = it->second;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return fail(invalid_argument("invalid integer value for flag -" + name + ": " + text));
  }
  return value;
}

Result<ParsedFlags> parse_flags(const std::vector<std::string>& args,
                                const std::set<std::string>& bool_flags,
                                const std::set<std::string>& value_flags,
                                const std::set<std::string>& repeatable_flags) {
  ParsedFlags out;
  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_ended || arg.size() < 2 || arg[0] != '-') {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
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
    } else if (value_flags.contains(name) || repeatable_flags.contains(name)) {
      if (!has_value) {
        if (i + 1 >= args.size()) return fail(invalid_argument("flag -" + name + " needs a value"));
        value = args[++i];
      }
      if (repeatable_flags.contains(name)) out.lists[name].push_back(value);
      out.values[name] = value;
    } else {
      return fail(invalid_argument("flag provided but not defined: -" + name));
    }
  }
  return out;
}

}  // namespace coffer::cli
