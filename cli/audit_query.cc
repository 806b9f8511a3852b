#include "cli/audit_query.h"

#include <algorithm>
#include <cstring>

#include "cli/audit_verify.h"
#include "vault/base/duration.h"
#include "vault/base/time_format.h"

namespace coffer::cli {
namespace {

// ---------------------------------------------------------------------------------- time ---

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses exactly `width` digits at text[at..]; -1 when they are not all digits.
int digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (!is_digit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

unsigned days_in_month(int year, int month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "YYYY-MM-DD" at the start of `text`, as days since the epoch.
std::optional<std::int64_t> parse_date(std::string_view text) {
  const int year = digits(text, 0, 4);
  const int month = digits(text, 5, 2);
  const int day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || text.size() < 10 || text[4] != '-' ||
      text[7] != '-' || static_cast<unsigned>(day) > days_in_month(year, month)) {
    return std::nullopt;
  }
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

// Seconds whose "YYYY-MM-DDTHH:MM:SS" orders like the times do: years 1970 to 9999.
constexpr std::int64_t kYear10000 = 253402300800;

std::string whole_second(const std::optional<LogTime>& bound) {
  if (!bound || bound->seconds < 0 || bound->seconds >= kYear10000) return {};
  return rfc3339(bound->seconds).substr(0, 19);
}

// True when `v` starts with "YYYY-MM-DDTHH:MM:SS" followed by '.' or 'Z': the UTC form whose
// first 19 bytes compare as the times do.
bool utc_second_form(std::string_view v) {
  if (v.size() < 20) return false;
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !is_digit(v[i]) : v[i] != kShape[i]) return false;
  }
  return v[19] == '.' || v[19] == 'Z';
}

// ---------------------------------------------------------------------------------- text ---

std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t n = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  return std::min(n, text.size() - at);
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// `needle_lower` (already lower case) in `text`, ASCII case-insensitively.
bool contains_ascii_ci(std::string_view text, std::string_view needle_lower) {
  if (needle_lower.empty()) return true;
  if (needle_lower.size() > text.size()) return false;
  const char first = needle_lower[0];
  const char first_upper = first >= 'a' && first <= 'z' ? static_cast<char>(first - 32) : first;
  const std::size_t last_start = text.size() - needle_lower.size();
  for (std::size_t i = 0; i <= last_start; ++i) {
    if (text[i] != first && text[i] != first_upper) continue;
    std::size_t k = 1;
    while (k < needle_lower.size() && ascii_lower(text[i + k]) == needle_lower[k]) ++k;
    if (k == needle_lower.size()) return true;
  }
  return false;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return ::memmem(haystack.data(), haystack.size(), needle.data(), needle.size()) != nullptr;
}

// Text any JSON writer emits byte for byte inside a string: printable ASCII without the two
// characters it must escape, nor the three Go's encoder escapes for HTML. Only such text is
// safe to look for in raw lines.
bool json_plain(std::string_view text) {
  return std::ranges::all_of(
      text, [](char c) { return c >= 0x20 && c < 0x7f && !std::strchr("\"\\<>&", c); });
}

std::string quoted_field(std::string_view key, std::string_view value) {
  return "\"" + std::string(key) + "\":\"" + std::string(value);
}

// Replaces C0 and C1 control characters (the ones a terminal acts on) with '?'.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------- entries ---

const nlohmann::json* member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const std::string* string_member(const nlohmann::json* object, const char* key) {
  if (object == nullptr) return nullptr;
  const nlohmann::json* value = member(*object, key);
  return value != nullptr && value->is_string() ? value->get_ptr<const std::string*>() : nullptr;
}

bool equals(const std::string* value, const std::string& expected) {
  return value != nullptr && *value == expected;
}

bool holds_string(const nlohmann::json& value, const std::string& expected) {
  if (value.is_string()) return value.get_ref<const std::string&>() == expected;
  if (value.is_structured()) {
    for (const auto& item : value) {
      if (holds_string(item, expected)) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<LogTime> parse_rfc3339(std::string_view text) {
  const auto days = parse_date(text);
  if (!days || text.size() < 20 || (text[10] != 'T' && text[10] != 't')) return std::nullopt;
  const int hour = digits(text, 11, 2);
  const int minute = digits(text, 14, 2);
  const int second = digits(text, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int32_t nanos = 0;
  if (text[at] == '.') {
    ++at;
    const std::size_t first = at;
    std::int32_t scale = 100'000'000;
    while (at < text.size() && is_digit(text[at])) {
      nanos += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  std::int64_t offset = 0;
  const std::string_view zone = text.substr(at);
  if (zone == "Z" || zone == "z") {
    offset = 0;
  } else {
    const int zh = digits(zone, 1, 2);
    const int zm = digits(zone, 4, 2);
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || zh < 0 ||
        zh > 23 || zm < 0 || zm > 59) {
      return std::nullopt;
    }
    offset = (zone[0] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  }
  return LogTime{*days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos};
}

Result<LogTime> parse_time_bound(std::string_view text, LogTime now) {
  if (text.size() >= 10 && text[4] == '-') {
    if (text.size() == 10) {
      if (auto days = parse_date(text)) return LogTime{*days * 86400, 0};
    } else if (auto time = parse_rfc3339(text)) {
      return *time;
    }
  } else if (auto back = parse_duration(text)) {
    return LogTime{now.seconds - back->count(), now.nanos};
  }
  return fail(invalid_argument(
      "invalid time \"" + std::string(text) +
      "\": want RFC 3339 (2026-11-23T16:40:00Z, or with an offset such as +01:00), a date "
      "(2026-11-23), or a duration back from now (7d, 24h, 90m)"));
}

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;  // the last `*` seen, to backtrack to
  std::size_t star_text = 0;                  // where the text stood when it was seen
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == '?') {
      ++p;
      t += utf8_length(text, t);
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      // Let the last `*` swallow one more character and retry from there.
      p = star + 1;
      star_text += utf8_length(text, star_text);
      t = star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view glob_literal_prefix(std::string_view pattern) {
  return pattern.substr(0, std::min(pattern.find_first_of("*?"), pattern.size()));
}

bool entry_matches(const nlohmann::json& entry, const QueryFilter& filter) {
  if (!entry.is_object()) return false;
  const std::string* type = string_member(&entry, "type");
  if (filter.type == QueryFilter::EntryType::kResponse && !equals(type, "response")) return false;
  if (filter.type == QueryFilter::EntryType::kRequest && !equals(type, "request")) return false;
  const nlohmann::json* request = member(entry, "request");
  const nlohmann::json* auth = member(entry, "auth");

  if (filter.path_glob) {
    const std::string* path = string_member(request, "path");
    if (path == nullptr || !glob_match(*filter.path_glob, *path)) return false;
  }
  if (filter.operation && !equals(string_member(request, "operation"), *filter.operation)) {
    return false;
  }
  if (filter.entity_id && !equals(string_member(auth, "entity_id"), *filter.entity_id)) {
    return false;
  }
  if (filter.accessor_hmac && !equals(string_member(auth, "accessor"), *filter.accessor_hmac) &&
      !equals(string_member(request, "client_token_accessor"), *filter.accessor_hmac)) {
    return false;
  }
  if (filter.since || filter.until) {
    const std::string* time_text = string_member(&entry, "time");
    const auto time = time_text != nullptr ? parse_rfc3339(*time_text) : std::nullopt;
    if (!time || (filter.since && *time < *filter.since) ||
        (filter.until && *time > *filter.until)) {
      return false;
    }
  }
  if (filter.outcome != QueryFilter::Outcome::kAny) {
    const std::string* error = string_member(&entry, "error");
    const bool denied = error != nullptr && error->find("permission denied") != std::string::npos;
    if (filter.outcome == QueryFilter::Outcome::kDenied && !denied) return false;
    if (filter.outcome == QueryFilter::Outcome::kOk) {
      if (error != nullptr && !error->empty()) return false;
      if (const nlohmann::json* response = member(entry, "response")) {
        const nlohmann::json* code = member(*response, "status_code");
        if (code != nullptr && code->is_number() && code->get<double>() >= 400) return false;
      }
    }
  }
  if (filter.intent) {
    const std::string* intent = string_member(request, "intent");
    if (intent == nullptr || !contains_ascii_ci(*intent, ascii_lower(*filter.intent))) {
      return false;
    }
  }
  if (filter.data_hmac) {
    const nlohmann::json* response = member(entry, "response");
    const nlohmann::json* data = response != nullptr ? member(*response, "data") : nullptr;
    if (data == nullptr || !holds_string(*data, *filter.data_hmac)) return false;
  }
  return true;
}

LinePrefilter::LinePrefilter(const QueryFilter& filter) {
  // Most selective first: a line is usually rejected by the first needle.
  auto add_value = [this](const std::optional<std::string>& value) {
    if (value && json_plain(*value)) needles_.push_back("\"" + *value + "\"");
  };
  add_value(filter.data_hmac);
  add_value(filter.accessor_hmac);
  if (filter.entity_id && json_plain(*filter.entity_id)) {
    needles_.push_back(quoted_field("entity_id", *filter.entity_id) + "\"");
  }
  if (filter.path_glob) {
    const std::string_view prefix = glob_literal_prefix(*filter.path_glob);
    if (json_plain(prefix)) {
      // Without a wildcard the pattern is the whole value, closing quote included.
      const bool whole = prefix.size() == filter.path_glob->size();
      needles_.push_back(quoted_field("path", prefix) + (whole ? "\"" : ""));
    }
  }
  if (filter.operation && json_plain(*filter.operation)) {
    needles_.push_back(quoted_field("operation", *filter.operation) + "\"");
  }
  if (filter.outcome == QueryFilter::Outcome::kDenied) needles_.push_back("permission denied");
  if (filter.type == QueryFilter::EntryType::kResponse) needles_.push_back(R"("type":"response")");
  if (filter.type == QueryFilter::EntryType::kRequest) needles_.push_back(R"("type":"request")");
  since_second_ = whole_second(filter.since);
  until_second_ = whole_second(filter.until);
  if (filter.intent) {
    if (json_plain(*filter.intent)) {
      intent_lower_ = ascii_lower(*filter.intent);
    }
    needles_.push_back(R"("intent":")");
  }
}

bool LinePrefilter::time_may_match(std::string_view line) const {
  // Every "time" key is a candidate for the entry's own (nested maps may hold one too): the
  // line is out only when each one is well-formed UTC and outside the bounds. Whole seconds
  // compared as strings keep this exact for "...:01Z" against "...:01.5Z".
  static constexpr std::string_view kKey = R"("time":")";
  std::size_t at = 0;
  while (true) {
    const void* found = ::memmem(line.data() + at, line.size() - at, kKey.data(), kKey.size());
    if (found == nullptr) return false;  // no time at all: the exact check fails too
    at = static_cast<std::size_t>(static_cast<const char*>(found) - line.data()) + kKey.size();
    const std::string_view value = line.substr(at);
    if (!utc_second_form(value)) return true;
    const std::string_view second = value.substr(0, 19);
    if ((since_second_.empty() || second >= since_second_) &&
        (until_second_.empty() || second <= until_second_)) {
      return true;
    }
  }
}

bool LinePrefilter::may_match(std::string_view line) const {
  for (const auto& needle : needles_) {
    if (!contains(line, needle)) return false;
  }
  if ((!since_second_.empty() || !until_second_.empty()) && !time_may_match(line)) return false;
  if (!intent_lower_.empty() && !contains_ascii_ci(line, intent_lower_)) return false;
  return true;
}

const std::vector<std::string> kQueryColumns = {"TIME", "OPERATION", "PATH",  "STATUS",
                                                "WHO",  "INTENT",    "REMOTE"};

std::vector<std::string> query_table_row(const nlohmann::json& entry) {
  const nlohmann::json* request = member(entry, "request");
  const nlohmann::json* auth = member(entry, "auth");
  const nlohmann::json* response = member(entry, "response");
  auto text = [](const std::string* value) { return value ? printable(*value) : std::string(); };

  std::string operation = text(string_member(request, "operation"));
  if (request == nullptr) {
    // Events and restarts have no request: say what they are instead.
    operation = text(string_member(&entry, "type"));
    if (const std::string* event = string_member(&entry, "event")) {
      operation += ":" + printable(*event);
    }
  }
  std::string status;
  const std::string* error = string_member(&entry, "error");
  const nlohmann::json* code = response ? member(*response, "status_code") : nullptr;
  if (error != nullptr && error->find("permission denied") != std::string::npos) {
    status = "denied";
  } else if (code != nullptr && code->is_number()) {
    status = code->dump();
  } else if (error != nullptr) {
    status = printable(*error);
  }
  std::string who = text(string_member(auth, "display_name"));
  if (const std::string* entity = string_member(auth, "entity_id"); entity && !entity->empty()) {
    who += (who.empty() ? "" : " ") + ("(" + printable(*entity) + ")");
  }
  return {text(string_member(&entry, "time")),
          operation,
          text(string_member(request, "path")),
          status,
          who,
          text(string_member(request, "intent")),
          text(string_member(request, "remote_address"))};
}

StreamingTable::StreamingTable(std::ostream& out, std::vector<std::string> headers,
                               std::size_t sample)
    : out_(out), headers_(std::move(headers)), sample_(std::max<std::size_t>(sample, 1)) {}

void StreamingTable::add(std::vector<std::string> row) {
  for (auto& cell : row) {
    if (cell.empty()) cell = "n/a";
  }
  ++rows_;
  if (flushed_) {
    print_row(row);
    return;
  }
  pending_.push_back(std::move(row));
  if (pending_.size() >= sample_) flush_sample();
}

void StreamingTable::flush_sample() {
  widths_.assign(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) widths_[i] = headers_[i].size();
  for (const auto& row : pending_) {
    for (std::size_t i = 0; i < row.size() && i < widths_.size(); ++i) {
      widths_[i] = std::max(widths_[i], row[i].size());
    }
  }
  print_row(headers_);
  std::vector<std::string> underline;
  for (const auto& header : headers_) underline.emplace_back(header.size(), '-');
  print_row(underline);
  for (const auto& row : pending_) print_row(row);
  pending_.clear();
  flushed_ = true;
}

void StreamingTable::print_row(const std::vector<std::string>& row) {
  std::string line;
  for (std::size_t i = 0; i < row.size(); ++i) {
    line += row[i];
    if (i + 1 < row.size()) {
      const std::size_t width = i < widths_.size() ? widths_[i] : 0;
      line.append(row[i].size() < width ? width - row[i].size() + 4 : 4, ' ');
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  line.push_back('\n');
  out_ << line;
}

std::uint64_t StreamingTable::finish() {
  if (!flushed_ && !pending_.empty()) flush_sample();
  return rows_;
}

Result<QueryStats> scan_log(
    const std::string& path, const QueryFilter& filter,
    const std::function<bool(std::string_view, const nlohmann::json&)>& on_match,
    const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) {
  COFFER_ASSIGN_OR_RETURN(auto reader, LogLineReader::open(path));
  if (on_progress) {
    const std::uint64_t size = reader.file_size();
    reader.on_read([&on_progress, size](std::uint64_t done) { on_progress(done, size); });
  }
  const LinePrefilter prefilter(filter);
  QueryStats stats;
  std::string_view line;
  bool terminated = false;
  while (reader.next(line, terminated)) {
    ++stats.lines;
    if (!prefilter.may_match(line)) continue;
    ++stats.candidates;
    const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object()) {
      ++stats.unparsable;
      continue;
    }
    if (!entry_matches(entry, filter)) continue;
    ++stats.matches;
    if (!on_match(line, entry)) break;
  }
  if (!reader.status().ok()) {
    return fail(
        Status(reader.status().code(), "reading " + path + ": " + reader.status().message()));
  }
  stats.bytes = reader.bytes_read();
  return stats;
}

}  // namespace coffer::cli
