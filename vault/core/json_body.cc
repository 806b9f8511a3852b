#include "vault/core/json_body.h"

namespace coffer::api {
namespace {

// SAX handler that only counts; returning false stops the parser at once.
class ComplexityCheck final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ComplexityCheck(const JsonLimits& limits) : limits_(limits) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return count_string(); }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return count_string(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    syntax_error_ = true;
    return false;
  }

  bool too_complex() const { return too_complex_; }
  bool syntax_error() const { return syntax_error_; }

 private:
  bool enter() {
    if (++depth_ > limits_.max_depth) too_complex_ = true;
    return !too_complex_;
  }
  bool leave() {
    --depth_;
    return true;
  }
  bool count_string() {
    if (++strings_ > limits_.max_strings) too_complex_ = true;
    return !too_complex_;
  }

  const JsonLimits& limits_;
  std::uint32_t depth_ = 0;
  std::uint32_t strings_ = 0;
  bool too_complex_ = false;
  bool syntax_error_ = false;
};

}  // namespace

Result<nlohmann::json> parse_json_body(std::string_view body, const JsonLimits& limits) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return nlohmann::json::object();
  }
  ComplexityCheck check(limits);
  nlohmann::json::sax_parse(body, &check, nlohmann::json::input_format_t::json, false);
  if (check.too_complex()) {
    return fail(invalid_argument("refused JSON input due to high complexity"));
  }
  if (check.syntax_error()) return fail(invalid_argument("failed to parse JSON input"));
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return fail(invalid_argument("failed to parse JSON input"));
  if (!parsed.is_object()) return fail(invalid_argument("request body must be a JSON object"));
  return parsed;
}

}  // namespace coffer::api
