#pragma once
// What the CLI reads besides its arguments: secrets typed at a terminal or
// piped on stdin (so they never sit in argv), and the vault CLI's data
// arguments `key=value`, `key=@file`, `key=-`, `@file.json` and a lone `-`.
//
// Errors never quote a value: only keys and file names.
//
// Thread safety: reads std::cin / the terminal; for the CLI's single thread.

#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vault/base/status.h"

namespace coffer::cli {

// A secret from the user. When stdin is a terminal: prints `prompt` to stderr,
// reads one line with echo turned off, and restores the terminal. Otherwise:
// reads all of stdin. Surrounding whitespace is trimmed either way.
// Errors: invalid_argument when nothing was read.
Result<std::string> read_secret(std::string_view prompt);

// All of `in`.
std::string read_all(std::istream& in);

// The whole file; invalid_argument naming the file when it cannot be read.
Result<std::string> read_file(const std::string& path);

// Builds the request data from the vault CLI's data arguments:
//   key=value            a string
//   key=@path            the file's contents (unchanged)
//   key=-                all of `in` (unchanged; only one argument may read `in`)
//   @path                a JSON object from the file, merged in
//   -                    (as the only argument) a JSON object from `in`
// A key given twice becomes a list of its values, as in the vault CLI.
// Errors: invalid_argument for an argument without `=`, an empty key, a second
// read of `in`, an unreadable file, or JSON that is not an object.
Result<nlohmann::json> parse_data_args(const std::vector<std::string>& args, std::istream& in);

}  // namespace coffer::cli
