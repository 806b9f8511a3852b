#pragma once
// `coffer audit query`: finds entries in an audit log (the format of vault/audit/) offline, by
// path glob, time range, operation, outcome, intent, entity, accessor or a hashed value.
//
// Speed comes from not parsing most lines: a LinePrefilter derived from the filter rejects a
// line with substring tests on its raw bytes, and only the survivors are parsed as JSON and
// checked exactly (entry_matches). The prefilter may pass lines that do not match, never the
// reverse: every test it makes is a necessary condition of the exact check, given that the log
// is compact JSON (no spaces between tokens) as the audit devices write it.
//
// Thread safety: pure functions and single-thread types.

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::cli {

// A point in time as RFC 3339 writes it, to the nanosecond, over years 0000-9999 (a plain
// int64 of nanoseconds would stop at 2262).
struct LogTime {
  std::int64_t seconds = 0;  // since the Unix epoch, UTC
  std::int32_t nanos = 0;    // 0..999'999'999
  auto operator<=>(const LogTime&) const = default;
};

// "2026-11-23T16:40:01.123456789Z" or "2026-11-23T16:40:01+02:00" (fraction optional, up to
// nine digits used; 't' and 'z' accepted). nullopt for anything else.
std::optional<LogTime> parse_rfc3339(std::string_view text);

// A --since / --until value: RFC 3339 as above, a date "2026-11-23" (midnight UTC), or a
// duration back from `now` ("7d", "24h", "90m", "1h30m"; see vault/base/duration.h).
// Errors: invalid_argument quoting the text.
Result<LogTime> parse_time_bound(std::string_view text, LogTime now);

// Shell-style glob over the whole text: `*` matches any run of characters, '/' included; `?`
// matches one character (one UTF-8 sequence). Every other character matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

// The pattern up to its first `*` or `?` (the whole pattern when it has none).
std::string_view glob_literal_prefix(std::string_view pattern);

struct QueryFilter {
  enum class Outcome { kAny, kDenied, kOk };
  enum class EntryType { kResponse, kRequest, kAll };

  std::optional<std::string> path_glob;      // on request.path
  std::optional<std::string> entity_id;      // auth.entity_id
  std::optional<std::string> accessor_hmac;  // auth.accessor or request.client_token_accessor
  std::optional<LogTime> since;              // time >= since
  std::optional<LogTime> until;              // time <= until
  std::optional<std::string> operation;      // request.operation
  Outcome outcome = Outcome::kAny;
  std::optional<std::string> intent;     // request.intent contains it, ASCII case-insensitive
  std::optional<std::string> data_hmac;  // any string anywhere in response.data equals it
  EntryType type = EntryType::kResponse;
};

// The exact test of one parsed entry.
//  - denied: "error" contains "permission denied";
//  - ok: no "error" (or an empty one) and, for a response, a status_code below 400 (or none).
// An entry lacking a field a filter is about does not match that filter.
bool entry_matches(const nlohmann::json& entry, const QueryFilter& filter);

// Necessary conditions of entry_matches on a line's raw bytes (see the file comment).
class LinePrefilter {
 public:
  explicit LinePrefilter(const QueryFilter& filter);
  bool may_match(std::string_view line) const;

 private:
  bool time_may_match(std::string_view line) const;

  std::vector<std::string> needles_;  // each must occur in the line
  // "YYYY-MM-DDTHH:MM:SS" of the bounds' whole seconds; empty when a bound is absent or out of
  // the range where comparing strings is comparing times.
  std::string since_second_;
  std::string until_second_;
  std::string intent_lower_;  // searched case-insensitively; empty = no such test
};

// The table columns and one entry's cells: the time as logged, the operation (or the event /
// restart for entries without a request), path, status (status_code, "denied", or the error),
// who (display name and entity id), intent and remote address. Control characters in cells,
// which clients choose (intent, path), are replaced so they cannot drive the terminal.
extern const std::vector<std::string> kQueryColumns;
std::vector<std::string> query_table_row(const nlohmann::json& entry);

// The CLI's table layout (columns padded to the widest cell, four spaces apart, a dashed
// underline under the headers, "n/a" for empty cells), streamed: column widths come from the
// first `sample` rows, and later rows wider than that push the next columns right instead of
// being buffered.
class StreamingTable {
 public:
  StreamingTable(std::ostream& out, std::vector<std::string> headers, std::size_t sample = 1000);
  void add(std::vector<std::string> row);
  // Prints what is buffered (headers included, if any row came). Returns the rows printed.
  std::uint64_t finish();

 private:
  void flush_sample();
  void print_row(const std::vector<std::string>& row);

  std::ostream& out_;
  const std::vector<std::string> headers_;
  const std::size_t sample_;
  std::vector<std::vector<std::string>> pending_;
  std::vector<std::size_t> widths_;
  bool flushed_ = false;
  std::uint64_t rows_ = 0;  // data rows added
};

struct QueryStats {
  std::uint64_t lines = 0;
  std::uint64_t candidates = 0;  // lines that passed the prefilter and were parsed
  std::uint64_t unparsable = 0;  // candidates that were not JSON objects (e.g. a torn line)
  std::uint64_t matches = 0;
  std::uint64_t bytes = 0;
};

// Streams `path` ("-" = stdin) and calls on_match(line as logged, parsed entry) for every
// matching entry, in file order, until it returns false. `on_progress(bytes_read, file_size)`
// is called after every buffer read. Errors: invalid_argument when the file cannot be opened,
// internal_error when a read fails midway.
Result<QueryStats> scan_log(
    const std::string& path, const QueryFilter& filter,
    const std::function<bool(std::string_view, const nlohmann::json&)>& on_match,
    const std::function<void(std::uint64_t, std::uint64_t)>& on_progress = {});

}  // namespace coffer::cli
