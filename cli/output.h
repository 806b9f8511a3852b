#pragma once
// How the CLI prints: the vault CLI's tables (columns joined by four spaces,
// a `---` underline per header, empty cells shown as "n/a") and its JSON
// (the server's JSON, indented by two spaces).
//
// Thread safety: pure functions except the print_* ones, which write to
// std::cout / std::cerr.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::cli {

enum class OutputFormat { kTable, kJson };

// "table" or "json" (case-insensitive); anything else is invalid_argument.
Result<OutputFormat> parse_output_format(std::string_view text);

using Rows = std::vector<std::pair<std::string, std::string>>;

// A JSON value the way Go's %v prints the decoded value: strings raw, null as
// <nil>, arrays as [a b], objects as map[k:v] with sorted keys.
std::string format_value(const nlohmann::json& value);

// Go's %q of a string list: ["a" "b"].
std::string format_quoted_list(const nlohmann::json& list);

// Integer seconds as the vault CLI shows durations ("768h", "1m30s", "0s");
// other values unchanged via format_value.
std::string format_duration_value(const nlohmann::json& value);

// True for keys the vault CLI shows as durations (ttl, *_ttl, period, *_period,
// *_duration, lease_max, ttl_max).
bool looks_like_duration(std::string_view key);

// Columns padded to the widest cell, joined by four spaces; a header row and
// its dashed underline first (none when `headers` is empty). Lines end with '\n'.
std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// format_table with the headers "Key" and "Value".
std::string format_key_value_table(const Rows& rows);

// Data keys sorted, durations humanized: the rows of a `data` map.
Rows data_rows(const nlohmann::json& data);

// The vault CLI's rows for a secret response: lease or refresh_interval,
// the auth block (token, accessor, duration, policies, token_meta_*), then the
// data keys. `include_token` false leaves the client token out.
Rows secret_rows(const nlohmann::json& response, bool include_token = true);

// "== Title ==" padded with '=' to about `width` columns, as the vault CLI
// heads the sections of `kv get`.
std::string section_header(std::string_view title, std::size_t width);

// The width of the widest line of `text`.
std::size_t text_width(std::string_view text);

// JSON indented by two spaces, with a trailing newline.
std::string format_json(const nlohmann::json& value);

// "Keys\n----\n" and one key per line.
std::string format_list(const nlohmann::json& keys);

// Prints the response's `warnings` (if any) to stderr as the vault CLI does.
void print_warnings(const nlohmann::json& response);

// Prints a value for -field: raw, with a newline only when stdout is a terminal
// (so `$(coffer kv get -field=x …)` gets the exact bytes).
void print_raw_field(const nlohmann::json& value);

}  // namespace coffer::cli
