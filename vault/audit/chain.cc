#include "vault/audit/chain.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace coffer::audit {
namespace {

constexpr std::string_view kHead = R"({"chain":{"seq":)";
constexpr std::string_view kPrev = R"(,"prev":")";
constexpr std::string_view kHeadEnd = R"("},)";
constexpr std::string_view kHashField = R"(,"hash":")";
constexpr std::string_view kTail = R"("})";

bool is_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct DigestContextFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  // One context per thread, reused: verify hashes every line of logs of gigabytes.
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextFree> ctx(EVP_MD_CTX_new());
  // Fetched once: OpenSSL 3 looks the implementation up again on every EVP_sha256() init,
  // which cost more than hashing a line.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (!ctx || sha256 == nullptr || EVP_DigestInit_ex(ctx.get(), sha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) {
    return std::string();  // never matches a written hash
  }
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out(kChainHashHex, '0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHexDigits[digest[i] >> 4];
    out[2 * i + 1] = kHexDigits[digest[i] & 0x0f];
  }
  return out;
}

std::string chain_line(std::string_view entry_json, ChainPosition& position) {
  // entry_json is "{...}": its fields go between our head and our hash.
  std::string_view fields = entry_json;
  if (fields.size() >= 2 && fields.front() == '{' && fields.back() == '}') {
    fields = fields.substr(1, fields.size() - 2);
  }
  const std::uint64_t seq = position.seq + 1;
  std::string line;
  line.reserve(entry_json.size() + 2 * kChainHashHex + 64);
  line.append(kHead).append(std::to_string(seq)).append(kPrev).append(position.last_hash);
  if (fields.empty()) {
    line.append(R"("})");  // a line with no other fields: {"chain":{...},"hash":...}
  } else {
    line.append(kHeadEnd).append(fields);
  }
  std::string hash = sha256_hex(line);
  line.append(kHashField).append(hash).append(kTail);
  position.seq = seq;
  position.last_hash = std::move(hash);
  return line;
}

std::optional<ChainedLine> parse_chained_line(std::string_view line) {
  if (!line.starts_with(kHead)) return std::nullopt;
  const std::size_t suffix = kHashField.size() + kChainHashHex + kTail.size();
  if (line.size() < kHead.size() + suffix || !line.ends_with(kTail)) return std::nullopt;
  const std::size_t hash_field = line.size() - suffix;
  if (line.substr(hash_field, kHashField.size()) != kHashField) return std::nullopt;
  ChainedLine out;
  out.hash = line.substr(hash_field + kHashField.size(), kChainHashHex);
  if (!is_hex(out.hash)) return std::nullopt;

  std::string_view rest = line.substr(kHead.size());
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.seq);
  if (ec != std::errc() || out.seq == 0) return std::nullopt;
  rest = rest.substr(static_cast<std::size_t>(end - rest.data()));
  if (!rest.starts_with(kPrev)) return std::nullopt;
  rest = rest.substr(kPrev.size());
  const std::size_t quote = rest.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  out.prev = rest.substr(0, quote);
  if (!(out.prev.empty() || (out.prev.size() == kChainHashHex && is_hex(out.prev)))) {
    return std::nullopt;
  }
  out.hash_matches = sha256_hex(line.substr(0, hash_field)) == out.hash;
  return out;
}

Result<LogTail> read_log_tail(const std::string& path) {
  LogTail tail;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return tail;
    return fail(internal_error("cannot read audit log " + path + ": " + std::strerror(errno)));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(internal_error("cannot stat audit log " + path));
  // Lines are bounded by request size limits; read back far enough to hold the last two.
  constexpr off_t kWindow = 8 << 20;
  const off_t start = st.st_size > kWindow ? st.st_size - kWindow : 0;
  std::string buffer(static_cast<std::size_t>(st.st_size - start), '\0');
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n =
        ::pread(fd, buffer.data() + done, buffer.size() - done, start + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(internal_error("cannot read audit log " + path));
    done += static_cast<std::size_t>(n);
  }
  if (buffer.empty()) return tail;
  std::string_view text = buffer;
  if (text.back() != '\n') {
    tail.torn = true;
    const std::size_t last_newline = text.rfind('\n');
    text = last_newline == std::string_view::npos ? std::string_view()
                                                  : text.substr(0, last_newline + 1);
  }
  if (text.empty()) return tail;
  text.remove_suffix(1);  // the final newline
  const std::size_t previous_newline = text.rfind('\n');
  const std::string_view last =
      previous_newline == std::string_view::npos ? text : text.substr(previous_newline + 1);
  auto parsed = parse_chained_line(last);
  if (!parsed || !parsed->hash_matches) {
    tail.last_line_ok = false;
    // Continue from the hash of the bytes as they stand; verify reports the bad line.
    tail.position.seq = parsed ? parsed->seq : 0;
    tail.position.last_hash = parsed ? std::string(parsed->hash) : sha256_hex(last);
    return tail;
  }
  tail.position.seq = parsed->seq;
  tail.position.last_hash = std::string(parsed->hash);
  return tail;
}

}  // namespace coffer::audit
