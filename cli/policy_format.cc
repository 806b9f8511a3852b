#include "cli/policy_format.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include "vault/config/hcl.h"
#include "vault/policy/policy.h"

namespace coffer::cli {
namespace {

using config::HclMember;
using config::HclValue;

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string indent_of(int depth) { return std::string(static_cast<std::size_t>(depth) * 2, ' '); }

std::string render_value(const HclValue& v, int depth);

// An object written as an attribute value: `{`, quoted keys with aligned `=`, `}`.
std::string render_object(const HclValue& v, int depth) {
  if (v.members.empty()) return "{}";
  std::size_t width = 0;
  for (const auto& m : v.members) width = std::max(width, quote(m.key).size());
  std::string out = "{\n";
  for (const auto& m : v.members) {
    const std::string key = quote(m.key);
    out += indent_of(depth + 1) + key + std::string(width - key.size(), ' ') + " = " +
           render_value(m.value, depth + 1) + "\n";
  }
  return out + indent_of(depth) + "}";
}

std::string render_value(const HclValue& v, int depth) {
  switch (v.kind) {
    case HclValue::Kind::kNull:
      return "null";
    case HclValue::Kind::kBool:
      return v.boolean ? "true" : "false";
    case HclValue::Kind::kInteger:
      return std::to_string(v.integer);
    case HclValue::Kind::kFloat: {
      // Shortest text that reads back as the same double.
      char buffer[32];
      const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v.floating);
      return std::string(buffer, result.ptr);
    }
    case HclValue::Kind::kString:
      return quote(v.string);
    case HclValue::Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.list.size(); ++i) {
        if (i > 0) out += ", ";
        out += render_value(v.list[i], depth);
      }
      return out + "]";
    }
    case HclValue::Kind::kObject:
      return render_object(v, depth);
  }
  return "null";
}

// Inside a path body, `conditions` is written as a block like the policy docs
// show it; every other object is an attribute map.
bool is_block(const HclMember& m, int depth) {
  return m.value.is_object() &&
         ((depth == 0 && m.key == "path") || (depth == 1 && m.key == "conditions"));
}

void render_body(const std::vector<HclMember>& members, int depth, std::string& out);

void render_block(const HclMember& m, int depth, std::string& out, bool& first) {
  auto open = [&](const std::string& header, const std::vector<HclMember>& body) {
    if (!first) out += depth == 0 ? "\n" : "";
    first = false;
    out += indent_of(depth) + header + " {\n";
    render_body(body, depth + 1, out);
    out += indent_of(depth) + "}\n";
  };
  if (m.key == "path") {
    // `path "a" { … }` parses to path = { a = { … } }: one block per label.
    for (const auto& label : m.value.members) {
      open("path " + quote(label.key), label.value.members);
    }
  } else {
    open(m.key, m.value.members);
  }
}

void render_body(const std::vector<HclMember>& members, int depth, std::string& out) {
  bool first = true;
  std::size_t i = 0;
  while (i < members.size()) {
    if (is_block(members[i], depth)) {
      render_block(members[i], depth, out, first);
      ++i;
      continue;
    }
    // A run of attributes: align their `=`.
    std::size_t end = i;
    std::size_t width = 0;
    while (end < members.size() && !is_block(members[end], depth)) {
      const auto& key = members[end].key;
      width = std::max(width, is_identifier(key) ? key.size() : quote(key).size());
      ++end;
    }
    if (!first && depth == 0) out += "\n";
    first = false;
    for (; i < end; ++i) {
      const auto& m = members[i];
      const std::string key = is_identifier(m.key) ? m.key : quote(m.key);
      out += indent_of(depth) + key + std::string(width - key.size(), ' ') + " = " +
             render_value(m.value, depth) + "\n";
    }
  }
}

}  // namespace

bool hcl_has_comments(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '#') {
      return true;
    } else if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      return true;
    }
  }
  return false;
}

Result<std::string> format_policy(std::string_view text, std::string_view source_name) {
  COFFER_ASSIGN_OR_RETURN(const auto tree, config::parse_hcl(text, source_name));
  // The policy parser wants a policy name, not a file name; its errors start "policy:<line>:".
  if (auto checked = policy::parse_policy("policy", text); !checked) {
    std::string message = checked.error().message();
    if (message.starts_with("policy:")) message = std::string(source_name) + message.substr(6);
    return fail(invalid_argument(std::move(message)));
  }
  if (hcl_has_comments(text)) {
    return fail(invalid_argument(std::string(source_name) +
                                 " has comments, which policy fmt cannot keep; it was left "
                                 "unchanged"));
  }
  std::string out;
  render_body(tree.members, 0, out);
  return out;
}

}  // namespace coffer::cli
