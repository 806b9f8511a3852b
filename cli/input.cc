#include "cli/input.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "vault/base/secret_bytes.h"

namespace coffer::cli {
namespace {

// The terminal state to restore if a signal interrupts a hidden prompt.
termios g_saved_terminal{};

void restore_terminal_and_reraise(int signal_number) {
  // tcsetattr and raise are async-signal-safe; SA_RESETHAND made the default action current.
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
  ::raise(signal_number);
}

void trim_in_place(std::string& s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  const auto end = std::find_if(s.rbegin(), s.rend(), not_space).base();
  const auto begin = std::find_if(s.begin(), end, not_space);
  const std::size_t first = static_cast<std::size_t>(begin - s.begin());
  const std::size_t length = static_cast<std::size_t>(end - begin);
  // Shift in place so no untrimmed copy of the secret is left behind.
  std::copy(s.begin() + first, s.begin() + first + length, s.begin());
  wipe(s.data() + length, s.size() - length);
  s.resize(length);
}

Result<nlohmann::json> parse_object(const std::string& text, const std::string& source) {
  auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return fail(invalid_argument("error parsing JSON object from " + source));
  }
  return parsed;
}

void add_value(nlohmann::json& data, const std::string& key, nlohmann::json value) {
  auto it = data.find(key);
  if (it == data.end()) {
    data[key] = std::move(value);
    return;
  }
  if (!it->is_array()) *it = nlohmann::json::array({*it});
  it->push_back(std::move(value));
}

}  // namespace

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(invalid_argument("error reading file " + path));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return fail(invalid_argument("error reading file " + path));
  return std::move(contents).str();
}

Result<std::string> read_secret(std::string_view prompt) {
  std::string secret;
  if (::isatty(STDIN_FILENO) == 1) {
    std::cerr << prompt << std::flush;
    const bool silenced = ::tcgetattr(STDIN_FILENO, &g_saved_terminal) == 0;
    struct sigaction previous_int {
    }, previous_term{};
    if (silenced) {
      // Ctrl-C at the prompt must not leave the terminal without echo.
      struct sigaction restore {};
      restore.sa_handler = restore_terminal_and_reraise;
      ::sigemptyset(&restore.sa_mask);
      restore.sa_flags = SA_RESETHAND;
      ::sigaction(SIGINT, &restore, &previous_int);
      ::sigaction(SIGTERM, &restore, &previous_term);
      termios silent = g_saved_terminal;
      silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      silent.c_lflag |= ECHONL;
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
    }
    std::getline(std::cin, secret);
    if (silenced) {
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
      ::sigaction(SIGINT, &previous_int, nullptr);
      ::sigaction(SIGTERM, &previous_term, nullptr);
    }
  } else {
    secret = read_all(std::cin);
  }
  trim_in_place(secret);
  if (secret.empty()) return fail(invalid_argument("no value was provided"));
  return secret;
}

Result<nlohmann::json> parse_data_args(const std::vector<std::string>& args, std::istream& in) {
  nlohmann::json data = nlohmann::json::object();
  if (args.size() == 1 && args[0] == "-") return parse_object(read_all(in), "stdin");
  bool stdin_used = false;
  for (const std::string& arg : args) {
    if (arg.starts_with("@")) {
      COFFER_ASSIGN_OR_RETURN(std::string text, read_file(arg.substr(1)));
      COFFER_ASSIGN_OR_RETURN(nlohmann::json object, parse_object(text, arg.substr(1)));
      for (auto& [k, v] : object.items()) add_value(data, k, v);
      continue;
    }
    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      return fail(invalid_argument("format must be key=value, got an argument without '='"));
    }
    const std::string key = arg.substr(0, eq);
    if (key.empty()) return fail(invalid_argument("format must be key=value, got an empty key"));
    std::string value = arg.substr(eq + 1);
    if (value == "-") {
      if (stdin_used)
        return fail(invalid_argument("stdin already consumed: only one key may use -"));
      stdin_used = true;
      value = read_all(in);
    } else if (value.starts_with("@")) {
      COFFER_ASSIGN_OR_RETURN(value, read_file(value.substr(1)));
    }
    add_value(data, key, std::move(value));
  }
  return data;
}

}  // namespace coffer::cli
