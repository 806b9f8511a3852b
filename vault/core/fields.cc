#include "vault/core/fields.h"

#include <charconv>

#include "vault/base/duration.h"

namespace coffer::fields {
namespace {

Status malformed(std::string_view name, std::string_view what) {
  return invalid_argument("field '" + std::string(name) + "' must be " + std::string(what));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

const nlohmann::json* find(const nlohmann::json& body, std::string_view name) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> parse_go_bool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" ||
      text == "True") {
    return true;
  }
  if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" ||
      text == "False") {
    return false;
  }
  return std::nullopt;
}

Result<std::optional<std::string>> string_field(const nlohmann::json& body, std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  if (v->is_number_integer())
    return std::optional<std::string>(std::to_string(v->get<std::int64_t>()));
  return fail(malformed(name, "a string"));
}

Result<std::optional<bool>> bool_field(const nlohmann::json& body, std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  if (v->is_number_integer()) return std::optional<bool>(v->get<std::int64_t>() != 0);
  if (v->is_string()) {
    if (auto b = parse_go_bool(v->get_ref<const std::string&>())) return std::optional<bool>(*b);
  }
  return fail(malformed(name, "a boolean"));
}

Result<std::optional<std::int64_t>> int_field(const nlohmann::json& body, std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_number_integer()) return std::optional<std::int64_t>(v->get<std::int64_t>());
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) {
      return std::optional<std::int64_t>(static_cast<std::int64_t>(d));
    }
  }
  if (v->is_string()) {
    const auto& text = v->get_ref<const std::string&>();
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return std::optional<std::int64_t>(parsed);
    }
  }
  return fail(malformed(name, "an integer"));
}

Result<std::optional<std::int64_t>> duration_field(const nlohmann::json& body,
                                                   std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_number_integer()) {
    if (v->get<std::int64_t>() < 0) return fail(malformed(name, "a non-negative duration"));
    return std::optional<std::int64_t>(v->get<std::int64_t>());
  }
  if (v->is_string()) {
    auto parsed = parse_duration(v->get_ref<const std::string&>());
    if (parsed) return std::optional<std::int64_t>(parsed->count());
  }
  return fail(malformed(name, "a duration"));
}

Result<std::optional<std::vector<std::string>>> string_list_field(const nlohmann::json& body,
                                                                  std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  if (v->is_array()) {
    for (const auto& item : *v) {
      if (!item.is_string()) return fail(malformed(name, "a list of strings"));
      out.push_back(std::string(trim(item.get_ref<const std::string&>())));
    }
  } else if (v->is_string()) {
    std::string_view text = v->get_ref<const std::string&>();
    while (!text.empty()) {
      const auto comma = text.find(',');
      std::string_view item = trim(text.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      text.remove_prefix(comma + 1);
    }
  } else {
    return fail(malformed(name, "a list of strings"));
  }
  std::erase(out, std::string());
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::map<std::string, std::string>>> string_map_field(
    const nlohmann::json& body, std::string_view name) {
  const auto* v = find(body, name);
  if (v == nullptr) return std::optional<std::map<std::string, std::string>>();
  if (!v->is_object()) return fail(malformed(name, "a map of strings"));
  std::map<std::string, std::string> out;
  for (const auto& [k, item] : v->items()) {
    if (item.is_string())
      out[k] = item.get<std::string>();
    else if (item.is_number_integer())
      out[k] = std::to_string(item.get<std::int64_t>());
    else if (item.is_boolean())
      out[k] = item.get<bool>() ? "true" : "false";
    else if (!item.is_null())
      return fail(malformed(name, "a map of strings"));
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

}  // namespace coffer::fields
