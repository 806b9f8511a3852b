#include "cli/commands/kv_support.h"

#include <algorithm>
#include <iostream>

namespace coffer::cli {
namespace {

// The vault CLI's `getHeaderForMap`: sized by the longest key plus the
// column gap and the width of "Value".
std::string header_for(std::string_view title, const Rows& rows) {
  std::size_t widest = 0;
  for (const auto& row : rows) widest = std::max(widest, row.first.size());
  return section_header(title, widest + 9);
}

}  // namespace

Rows map_rows(const nlohmann::json& map) {
  Rows rows;
  if (!map.is_object()) return rows;
  for (const auto& [k, v] : map.items()) rows.emplace_back(k, format_value(v));
  return rows;
}

void print_section(std::string_view title, const Rows& rows) {
  std::cout << header_for(title, rows) << "\n" << format_key_value_table(rows);
}

void print_path_section(std::string_view title, const std::string& path) {
  // The vault CLI sizes this header as for a map with the single key "path".
  std::cout << section_header(title, 4 + 9) << "\n" << path << "\n\n";
}

std::optional<KvTarget> kv_target_for(const CommandRun& run, const std::string& path,
                                      int& exit_code) {
  auto target = resolve_kv_target(run.api(), path, run.flags.get("mount"));
  if (!target) {
    std::cerr << target.error().message() << "\n";
    exit_code = exit_code_for(target.error());
    return std::nullopt;
  }
  return *target;
}

}  // namespace coffer::cli
