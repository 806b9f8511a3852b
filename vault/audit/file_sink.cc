// The file audit sink: one O_APPEND write per line, so lines from concurrent
// processes (or a logrotate copytruncate) never interleave within a line.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vault/audit/audit_sink.h"

namespace coffer::audit {
namespace {

Status write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return internal_error(std::string("audit write failed: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok_status();
}

class FileSink final : public AuditSink {
 public:
  FileSink(std::string path, unsigned mode) : path_(std::move(path)), mode_(mode) {}
  ~FileSink() override { close_file(); }

  Status open() {
    if (path_ == "discard") return ok_status();
    if (path_ == "stdout" || path_ == "-") {
      fd_ = STDOUT_FILENO;
      return ok_status();
    }
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_);
    if (fd < 0) {
      return invalid_argument("cannot open audit file " + path_ + ": " + std::strerror(errno));
    }
    // An existing file keeps its mode unless it is looser than asked: audit logs hold HMACs
    // and metadata that are nobody else's business.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 0777 & ~mode_) != 0) (void)::fchmod(fd, mode_);
    fd_ = fd;
    return ok_status();
  }

  Status write_line(std::string_view line) override {
    if (path_ == "discard") return ok_status();
    if (fd_ < 0) {
      if (Status s = open(); !s.ok()) return s;
    }
    std::string framed;
    framed.reserve(line.size() + 1);
    framed.append(line).push_back('\n');
    return write_all(fd_, framed);
  }

  Status reopen() override {
    if (fd_ == STDOUT_FILENO || path_ == "discard") return ok_status();
    close_file();
    return open();
  }

  std::optional<std::string> chained_file() const override {
    if (path_ == "discard" || path_ == "stdout" || path_ == "-") return std::nullopt;
    return path_;
  }

 private:
  void close_file() {
    if (fd_ > STDERR_FILENO) ::close(fd_);
    fd_ = -1;
  }

  const std::string path_;
  const unsigned mode_;
  int fd_ = -1;
};

}  // namespace

Result<std::unique_ptr<AuditSink>> open_file_sink(const std::string& path, unsigned mode,
                                                  bool open_now) {
  auto sink = std::make_unique<FileSink>(path, mode);
  if (open_now) COFFER_TRY(sink->open());
  return std::unique_ptr<AuditSink>(std::move(sink));
}

}  // namespace coffer::audit
