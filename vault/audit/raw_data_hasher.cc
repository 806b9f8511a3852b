#include "vault/audit/raw_data_hasher.h"

#include "vault/base/utf8.h"

#include <cstdint>

#include "vault/audit/json_writer.h"

namespace coffer::audit {
namespace {

constexpr int kMaxDepth = 512;

class Scanner {
 public:
  Scanner(std::string_view text, const std::function<std::string(std::string_view)>* hash)
      : s_(text), hash_(hash) {}

  std::optional<RawData> run() {
    RawData out;
    skip_ws();
    if (!eat('{')) return std::nullopt;
    skip_ws();
    if (eat('}')) return finish(out);
    while (true) {
      std::string_view key;
      bool escaped = false;
      skip_ws();
      if (!string_token(key, escaped)) return std::nullopt;
      skip_ws();
      if (!eat(':')) return std::nullopt;
      skip_ws();
      if (!escaped && key == "data") {
        std::string rendered;
        JsonWriter w(rendered);
        if (!value(&w, 1)) return std::nullopt;
        out.data = std::move(rendered);
      } else if (!escaped && key == "lease_id" && peek() == '"') {
        std::string_view raw;
        bool value_escaped = false;
        if (!string_token(raw, value_escaped)) return std::nullopt;
        out.lease_id = value_escaped ? unescape(raw) : std::string(raw);
      } else if (!value(nullptr, 1)) {
        return std::nullopt;
      }
      skip_ws();
      if (eat(',')) continue;
      if (eat('}')) return finish(out);
      return std::nullopt;
    }
  }

 private:
  std::optional<RawData> finish(RawData& out) {
    skip_ws();
    if (i_ != s_.size()) return std::nullopt;
    return std::move(out);
  }

  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }

  // A string's contents between its quotes (still escaped); `escaped` if it has a backslash.
  bool string_token(std::string_view& raw, bool& escaped) {
    if (!eat('"')) return false;
    const std::size_t start = i_;
    escaped = false;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        raw = s_.substr(start, i_ - start);
        ++i_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        escaped = true;
        if (i_ + 1 >= s_.size()) return false;
        i_ += 2;
        continue;
      }
      ++i_;
    }
    return false;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  static bool hex4(std::string_view raw, std::size_t at, std::uint32_t& out) {
    if (at + 4 > raw.size()) return false;
    out = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = hex_digit(raw[at + k]);
      if (d < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(d);
    }
    return true;
  }

  // Decodes JSON escapes; invalid escapes were already refused by the renderer that wrote the
  // text, and are kept as they are here rather than guessed at.
  static std::string unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] != '\\' || k + 1 >= raw.size()) {
        out.push_back(raw[k]);
        continue;
      }
      const char e = raw[++k];
      if (auto c = simple_escape(e)) {
        out.push_back(*c);
        continue;
      }
      switch (e) {
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(raw, k + 1, cp)) {
            out.push_back('\\');
            out.push_back('u');
            break;
          }
          k += 4;
          if (cp >= 0xd800 && cp < 0xdc00 && k + 6 < raw.size() + 1 &&
              raw.substr(k + 1, 2) == "\\u") {
            std::uint32_t low = 0;
            if (hex4(raw, k + 3, low) && low >= 0xdc00 && low < 0xe000) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
              k += 6;
            }
          }
          append_utf8(out, cp);
          break;
        }
        default:
          out.push_back(e);  // not written by a JSON renderer; kept as it is
          break;
      }
    }
    return out;
  }

  void leaf(JsonWriter* w, std::string_view text) {
    if (w == nullptr) return;
    if (hash_ == nullptr) {
      w->raw(text);
    } else {
      w->string((*hash_)(text));
    }
  }

  bool value(JsonWriter* w, int depth) {
    if (depth > kMaxDepth) return false;
    skip_ws();
    const char c = peek();
    if (c == '{') {
      ++i_;
      if (w) w->begin_object();
      skip_ws();
      if (!eat('}')) {
        while (true) {
          skip_ws();
          std::string_view key;
          bool escaped = false;
          if (!string_token(key, escaped)) return false;
          // Keys stay readable: copied as the (already escaped) JSON they are.
          if (w) w->raw_key(key);
          skip_ws();
          if (!eat(':')) return false;
          if (!value(w, depth + 1)) return false;
          skip_ws();
          if (eat(',')) continue;
          if (eat('}')) break;
          return false;
        }
      }
      if (w) w->end_object();
      return true;
    }
    if (c == '[') {
      ++i_;
      if (w) w->begin_array();
      skip_ws();
      if (!eat(']')) {
        while (true) {
          if (!value(w, depth + 1)) return false;
          skip_ws();
          if (eat(',')) continue;
          if (eat(']')) break;
          return false;
        }
      }
      if (w) w->end_array();
      return true;
    }
    if (c == '"') {
      std::string_view raw;
      bool escaped = false;
      if (!string_token(raw, escaped)) return false;
      if (w == nullptr) return true;
      if (hash_ == nullptr) {
        w->raw("\"" + std::string(raw) + "\"");
      } else if (escaped) {
        w->string((*hash_)(unescape(raw)));
      } else {
        w->string((*hash_)(raw));
      }
      return true;
    }
    // A literal or a number: everything up to the next delimiter.
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
           s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t')
      ++i_;
    const std::string_view token = s_.substr(start, i_ - start);
    if (token.empty()) return false;
    if (token == "null") {
      if (w) w->null();
      return true;
    }
    const char first = token.front();
    const bool number = first == '-' || (first >= '0' && first <= '9');
    if (!number && token != "true" && token != "false") return false;
    leaf(w, token);
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  const std::function<std::string(std::string_view)>* hash_;
};

}  // namespace

std::optional<RawData> hash_raw_data(std::string_view json,
                                     const std::function<std::string(std::string_view)>* hash) {
  return Scanner(json, hash).run();
}

}  // namespace coffer::audit
