#pragma once
// A parser for the subset of HCL (version 1) that Vault server configuration files use, and for
// the JSON form of the same files, into one tree whose nodes remember their source line so the
// configuration layer can say "unknown key `foo` at line 12".
//
// HCL accepted:
//   key = value                      value: "string", 12, -3, 1.5, 2e3, true, false, [..], {..}
//   name "label" ... { body }        a block; labels may be quoted or bare words
//   name { body }
//   # comment, // comment, /* comment */
// Strings take the escapes \" \\ \/ \n \t \r \b \f and \uXXXX; heredocs and interpolation are not
// supported (a "${x}" is kept literally). Items may be separated by commas; lists may end with a
// trailing comma. Repeated keys and blocks are kept, in order, as separate members.
//
// A block `name "a" "b" { body }` becomes the member `name = { a = { b = body } }`, with every
// nested member and object carrying the line of `name` - the same tree the JSON form
// {"name": {"a": {"b": {...}}}} produces.
//
// Errors are invalid_argument("<source_name>:<line>: <what is wrong>"). Messages quote keys and
// punctuation but never string values, which could hold credentials (e.g. a seal token).
// Nesting deeper than kMaxNestingDepth is refused rather than risking the stack.
//
// Thread safety: the functions are pure; HclValue is a plain value type.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::config {

inline constexpr int kMaxNestingDepth = 64;

struct HclMember;

// One node of a parsed document. Only the field matching `kind` is meaningful.
struct HclValue {
  enum class Kind { kNull, kBool, kInteger, kFloat, kString, kList, kObject };

  Kind kind = Kind::kNull;  // kNull only comes from JSON `null`
  int line = 0;             // 1-based line where the value starts
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  std::string string;
  std::vector<HclValue> list;
  std::vector<HclMember> members;  // objects: source order, repeated keys kept

  bool is_object() const { return kind == Kind::kObject; }
  bool is_list() const { return kind == Kind::kList; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_number() const { return kind == Kind::kInteger || kind == Kind::kFloat; }

  // "a string", "an integer", "a list", "a block", ... for error messages.
  std::string_view kind_name() const;

  // Plain JSON without line numbers. A key that repeats within an object becomes an array of its
  // values in source order, which is the shape Vault's JSON configuration uses for repeated
  // blocks (two `listener "tcp"` blocks -> "listener": [{"tcp": {...}}, {"tcp": {...}}]).
  nlohmann::json to_json() const;
};

struct HclMember {
  std::string key;
  int line = 0;  // line of the key; for a block, line of its name
  HclValue value;
};

// Parses an HCL document; the result is an object (empty for an empty file).
Result<HclValue> parse_hcl(std::string_view text, std::string_view source_name);

// Parses one JSON document (strict: no comments, no trailing commas) into the same tree so JSON
// configuration errors carry line numbers too. Duplicate object keys are kept as repeated
// members. The top-level value may be of any kind.
Result<HclValue> parse_json_with_lines(std::string_view text, std::string_view source_name);

}  // namespace coffer::config
