#pragma once
// JsonWriter: appends JSON text to a string, for the audit hot path.
//
// Building nlohmann trees for every audit entry and serialising them cost more
// than the request they record; entries are written straight to text instead.
// Strings are escaped per RFC 8259, and bytes that are not valid UTF-8 (HTTP
// headers may carry any byte) become U+FFFD, so every line stays valid JSON.

#include <cstdint>
#include <string>
#include <string_view>

namespace coffer::audit {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);
  // A key whose text is already escaped JSON string contents (copied from valid JSON).
  void raw_key(std::string_view escaped);
  void string(std::string_view value);
  void boolean(bool value);
  void integer(std::int64_t value);
  void null();
  // A value that is already JSON text.
  void raw(std::string_view json);

  // Convenience: "name": value.
  template <typename T>
  void field(std::string_view name, const T& value) {
    key(name);
    write(value);
  }

 private:
  void separate();
  void write(std::string_view v) { string(v); }
  void write(const std::string& v) { string(v); }
  void write(const char* v) { string(v); }
  void write(bool v) { boolean(v); }
  void write(std::int64_t v) { integer(v); }
  void write(int v) { integer(v); }

  std::string& out_;
  bool first_ = true;
};

// Appends `value` as a JSON string literal (quotes included) to `out`.
void append_json_string(std::string& out, std::string_view value);

}  // namespace coffer::audit
