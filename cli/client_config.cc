#include "cli/client_config.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "vault/base/secret_bytes.h"

namespace coffer::cli {
namespace {

std::string getenv_string(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::string() : std::string(v);
}

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  auto end = std::find_if(s.rbegin(), s.rend(), not_space).base();
  auto begin = std::find_if(s.begin(), end, not_space);
  std::string out(begin, end);
  wipe(s.data(), s.size());
  return out;
}

// A flag given on the command line wins; otherwise the environment.
std::string flag_or_env(const ParsedFlags& flags, const char* flag, const char* env) {
  if (flags.has(flag)) return flags.get(flag);
  return env_setting(env);
}

}  // namespace

ClientConfig::~ClientConfig() { wipe(token.data(), token.size()); }

std::string env_setting(const char* name) {
  std::string coffer = getenv_string(std::string("COFFER_") + name);
  if (!coffer.empty()) return coffer;
  return getenv_string(std::string("VAULT_") + name);
}

std::string token_env_variable() {
  if (!getenv_string("COFFER_TOKEN").empty()) return "COFFER_TOKEN";
  if (!getenv_string("VAULT_TOKEN").empty()) return "VAULT_TOKEN";
  return {};
}

Result<ClientConfig> resolve_client_config(const ParsedFlags& flags) {
  ClientConfig config;
  std::string address = flag_or_env(flags, "address", "ADDR");
  if (!address.empty()) config.address = address;
  config.ca_cert = flag_or_env(flags, "ca-cert", "CACERT");
  config.ca_path = flag_or_env(flags, "ca-path", "CAPATH");
  config.client_cert = flag_or_env(flags, "client-cert", "CLIENT_CERT");
  config.client_key = flag_or_env(flags, "client-key", "CLIENT_KEY");
  config.tls_server_name = flag_or_env(flags, "tls-server-name", "TLS_SERVER_NAME");

  if (flags.has("tls-skip-verify")) {
    COFFER_ASSIGN_OR_RETURN(config.tls_skip_verify, flags.get_bool("tls-skip-verify", false));
  } else if (std::string skip = env_setting("SKIP_VERIFY"); !skip.empty()) {
    auto parsed = parse_go_bool(skip);
    if (!parsed) return fail(invalid_argument("invalid boolean value in VAULT_SKIP_VERIFY"));
    config.tls_skip_verify = *parsed;
  }

  config.token = env_setting("TOKEN");
  if (config.token.empty()) {
    COFFER_ASSIGN_OR_RETURN(config.token, read_token_file());
  }
  return config;
}

std::string token_file_path() {
  std::string home = getenv_string("HOME");
  if (home.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
      home = pw->pw_dir;
    }
  }
  if (home.empty()) home = ".";
  return home + "/.coffer-token";
}

Result<std::string> read_token_file() {
  const std::string path = token_file_path();
  std::ifstream in(path, std::ios::binary);
  // Missing or unreadable: the vault CLI then simply runs without a token.
  if (!in) return std::string();
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string raw = std::move(contents).str();
  return trim(std::move(raw));
}

Status write_token_file(const std::string& token) {
  const std::string path = token_file_path();
  std::string temp = path + ".tmp.XXXXXX";
  // mkstemp creates the file with mode 0600, so the token is never readable by others.
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return internal_error("cannot create a temporary file next to " + path);
  bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
  std::size_t written = 0;
  while (ok && written < token.size()) {
    const ssize_t n = ::write(fd, token.data() + written, token.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return internal_error("cannot write the token file " + path);
  }
  return ok_status();
}

}  // namespace coffer::cli
