#include "cli/output.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>

#include "vault/base/duration.h"

namespace coffer::cli {

Result<OutputFormat> parse_output_format(std::string_view text) {
  std::string lower(text);
  std::ranges::transform(lower, lower.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "table" || lower.empty()) return OutputFormat::kTable;
  if (lower == "json") return OutputFormat::kJson;
  return fail(invalid_argument("Invalid output format: " + std::string(text)));
}

std::string format_value(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "<nil>";
    case nlohmann::json::value_t::string:
      return value.get<std::string>();
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += " ";
        out += format_value(value[i]);
      }
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      // nlohmann's default object is an ordered std::map: keys come sorted, as in Go.
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, v] : value.items()) {
        if (!first) out += " ";
        first = false;
        out += k + ":" + format_value(v);
      }
      return out + "]";
    }
    default:
      return value.dump();
  }
}

std::string format_quoted_list(const nlohmann::json& list) {
  std::string out = "[";
  if (list.is_array()) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out += " ";
      out += list[i].is_string() ? nlohmann::json(list[i]).dump() : format_value(list[i]);
    }
  }
  return out + "]";
}

std::string format_duration_value(const nlohmann::json& value) {
  if (value.is_number_integer()) {
    return format_duration(std::chrono::seconds(value.get<std::int64_t>()));
  }
  return format_value(value);
}

bool looks_like_duration(std::string_view key) {
  return key == "period" || key.ends_with("_period") || key == "ttl" || key.ends_with("_ttl") ||
         key.ends_with("_duration") || key == "lease_max" || key == "ttl_max";
}

std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all;
  std::size_t columns = headers.size();
  if (!headers.empty()) {
    all.push_back(headers);
    std::vector<std::string> underline;
    for (const auto& h : headers) underline.push_back(std::string(h.size(), '-'));
    all.push_back(std::move(underline));
  }
  for (const auto& row : rows) {
    columns = std::max(columns, row.size());
    std::vector<std::string> cells = row;
    for (auto& c : cells) {
      if (c.empty()) c = "n/a";
    }
    all.push_back(std::move(cells));
  }
  std::vector<std::size_t> widths(columns, 0);
  for (const auto& row : all) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : all) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 4, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string format_key_value_table(const Rows& rows) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& [k, v] : rows) cells.push_back({k, v});
  return format_table({"Key", "Value"}, cells);
}

Rows data_rows(const nlohmann::json& data) {
  Rows rows;
  if (!data.is_object()) return rows;
  for (const auto& [k, v] : data.items()) {
    rows.emplace_back(k, looks_like_duration(k) ? format_duration_value(v) : format_value(v));
  }
  return rows;
}

Rows secret_rows(const nlohmann::json& response, bool include_token) {
  Rows rows;
  if (!response.is_object()) return rows;
  const auto lease = response.value("lease_duration", nlohmann::json(0));
  if (lease.is_number_integer() && lease.get<std::int64_t>() > 0) {
    const std::string lease_id = response.value("lease_id", std::string());
    if (!lease_id.empty()) {
      rows.emplace_back("lease_id", lease_id);
      rows.emplace_back("lease_duration", format_duration_value(lease));
      rows.emplace_back("lease_renewable", format_value(response.value("renewable", false)));
    } else {
      rows.emplace_back("refresh_interval", format_duration_value(lease));
    }
  }
  if (auto auth = response.find("auth"); auth != response.end() && auth->is_object()) {
    if (include_token) rows.emplace_back("token", auth->value("client_token", std::string()));
    rows.emplace_back("token_accessor", auth->value("accessor", std::string()));
    const auto duration = auth->value("lease_duration", nlohmann::json(0));
    rows.emplace_back("token_duration",
                      duration == 0 ? std::string("∞") : format_duration_value(duration));
    rows.emplace_back("token_renewable", format_value(auth->value("renewable", false)));
    rows.emplace_back("token_policies",
                      format_quoted_list(auth->value("token_policies", nlohmann::json::array())));
    rows.emplace_back("identity_policies", format_quoted_list(auth->value(
                                               "identity_policies", nlohmann::json::array())));
    rows.emplace_back("policies",
                      format_quoted_list(auth->value("policies", nlohmann::json::array())));
    if (auto meta = auth->find("metadata"); meta != auth->end() && meta->is_object()) {
      for (const auto& [k, v] : meta->items())
        rows.emplace_back("token_meta_" + k, format_value(v));
    }
  }
  if (auto data = response.find("data"); data != response.end()) {
    for (auto& row : data_rows(*data)) rows.push_back(std::move(row));
  }
  return rows;
}

std::string section_header(std::string_view title, std::size_t width) {
  std::size_t equal_signs = width > title.size() + 2 ? width - title.size() - 2 : 4;
  if (equal_signs % 2 != 0) ++equal_signs;
  const std::string pad(equal_signs / 2, '=');
  return pad + " " + std::string(title) + " " + pad;
}

std::size_t text_width(std::string_view text) {
  std::size_t widest = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    widest = std::max(widest, nl == std::string_view::npos ? text.size() : nl);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return widest;
}

std::string format_json(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_list(const nlohmann::json& keys) {
  std::vector<std::vector<std::string>> rows;
  if (keys.is_array()) {
    for (const auto& k : keys) rows.push_back({format_value(k)});
  }
  return format_table({"Keys"}, rows);
}

void print_warnings(const nlohmann::json& response) {
  if (!response.is_object()) return;
  auto it = response.find("warnings");
  if (it == response.end() || !it->is_array() || it->empty()) return;
  std::cerr << "WARNING! The following warnings were returned from Vault:\n\n";
  for (const auto& w : *it) std::cerr << "  * " << format_value(w) << "\n";
  std::cerr << "\n";
}

void print_raw_field(const nlohmann::json& value) {
  std::cout << format_value(value);
  if (::isatty(STDOUT_FILENO) == 1) std::cout << "\n";
  std::cout.flush();
}

}  // namespace coffer::cli
