#include "cli/audit_verify.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <utility>

#include <nlohmann/json.hpp>

#include "vault/audit/chain.h"

namespace coffer::cli {

// ------------------------------------------------------------------------- LogLineReader ---

Result<LogLineReader> LogLineReader::open(const std::string& path, std::size_t buffer_size) {
  int fd = STDIN_FILENO;
  bool owns = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return fail(invalid_argument("cannot open " + path + ": " + std::strerror(errno)));
    }
    owns = true;
  }
  struct stat st {};
  std::uint64_t size = 0;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      if (owns) ::close(fd);
      return fail(invalid_argument("cannot read " + path + ": is a directory"));
    }
    if (S_ISREG(st.st_mode)) size = static_cast<std::uint64_t>(st.st_size);
  }
  // Read-ahead sized for one pass front to back, and no point caching what we passed.
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return LogLineReader(fd, owns, size, std::max<std::size_t>(buffer_size, 4096));
}

LogLineReader::LogLineReader(int fd, bool owns_fd, std::uint64_t file_size, std::size_t buffer_size)
    : fd_(fd),
      owns_fd_(owns_fd),
      buffer_(std::make_unique_for_overwrite<char[]>(buffer_size)),
      capacity_(buffer_size),
      file_size_(file_size) {}

LogLineReader::LogLineReader(LogLineReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      owns_fd_(std::exchange(other.owns_fd_, false)),
      buffer_(std::move(other.buffer_)),
      capacity_(other.capacity_),
      pos_(other.pos_),
      end_(other.end_),
      eof_(other.eof_),
      bytes_read_(other.bytes_read_),
      file_size_(other.file_size_),
      status_(std::move(other.status_)),
      on_read_(std::move(other.on_read_)) {}

LogLineReader::~LogLineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

bool LogLineReader::fill() {
  if (eof_ || !status_.ok()) return false;
  if (pos_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == capacity_) {
    // One line fills the whole buffer: grow it, within reason.
    if (capacity_ >= kMaxLineSize) {
      status_ = invalid_argument("a line is longer than " + std::to_string(kMaxLineSize >> 20) +
                                 " MiB; this is not an audit log");
      return false;
    }
    const std::size_t grown = std::min(capacity_ * 2, kMaxLineSize);
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = grown;
  }
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status_ = internal_error(std::string("read failed: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<std::size_t>(n);
    bytes_read_ += static_cast<std::uint64_t>(n);
    if (on_read_) on_read_(bytes_read_);
    return true;
  }
}

bool LogLineReader::next_slow(std::string_view& line, bool& terminated) {
  // next() found no '\n' in what is buffered; search only the bytes each read adds.
  std::size_t scanned = end_ - pos_;
  for (;;) {
    if (!fill()) {
      if (!status_.ok() || pos_ >= end_) return false;
      line = std::string_view(buffer_.get() + pos_, end_ - pos_);
      pos_ = end_;
      terminated = false;
      return true;
    }
    const char* start = buffer_.get() + pos_;
    if (const void* nl = std::memchr(start + scanned, '\n', end_ - pos_ - scanned)) {
      const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
      line = std::string_view(start, length);
      pos_ += length + 1;
      terminated = true;
      return true;
    }
    scanned = end_ - pos_;
  }
}

// ------------------------------------------------------------------------- ProgressMeter ---

namespace {

std::string human_bytes(std::uint64_t bytes) {
  char text[32];
  if (bytes >= (1ull << 30)) {
    std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  } else {
    std::snprintf(text, sizeof text, "%.0f MiB", static_cast<double>(bytes) / (1ull << 20));
  }
  return text;
}

}  // namespace

ProgressMeter::ProgressMeter(std::string label, std::uint64_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(total > kThreshold && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressMeter::update(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double percent =
      100.0 * static_cast<double>(std::min(done, total_)) / static_cast<double>(total_);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f MB/s",
                seconds > 0 ? static_cast<double>(done) / 1e6 / seconds : 0.0);
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3.0f%%", percent);
  std::cerr << "\r" << label_ << "  " << pct << "  " << human_bytes(done) << " / "
            << human_bytes(total_) << "  " << rate << "\033[K" << std::flush;
}

void ProgressMeter::finish() {
  if (!enabled_) return;
  enabled_ = false;
  if (drawn_) std::cerr << "\r\033[K" << std::flush;
}

// ------------------------------------------------------------------------- ChainVerifier ---

namespace {

// A framed, intact restart entry saying the line before it was torn. The substring tests
// keep the JSON parse to the rare lines that can be one.
bool declares_torn_line(std::string_view line) {
  if (line.find(R"("torn_line":true)") == std::string_view::npos ||
      line.find(R"("type":"restart")") == std::string_view::npos) {
    return false;
  }
  const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object()) return false;
  const auto type = entry.find("type");
  const auto torn = entry.find("torn_line");
  return type != entry.end() && *type == "restart" && torn != entry.end() && *torn == true;
}

std::string seq_range(std::uint64_t first, std::uint64_t last) {
  return first == last ? "seq " + std::to_string(first)
                       : "seq " + std::to_string(first) + "-" + std::to_string(last);
}

constexpr std::string_view kTornNote = "torn line from a crash, recovered at restart";

}  // namespace

std::string_view chain_problem_name(ChainProblem problem) {
  switch (problem) {
    case ChainProblem::kEdited:
      return "edited";
    case ChainProblem::kMissing:
      return "missing";
    case ChainProblem::kReordered:
      return "reordered";
    case ChainProblem::kTruncated:
      return "truncated";
    case ChainProblem::kBrokenLink:
      return "broken link";
  }
  return "edited";
}

bool ChainVerifier::report(std::uint64_t line, ChainProblem problem, std::string detail) {
  result_.finding = ChainFinding{line, problem, std::move(detail)};
  done_ = true;
  return false;
}

void ChainVerifier::accept(std::uint64_t seq, std::string_view hash) {
  before_hash_.swap(last_hash_);
  last_hash_.assign(hash);
  last_seq_ = seq;
  last_line_ = line_no_;
  ++result_.entries;
}

bool ChainVerifier::add(std::string_view line, bool terminated) {
  if (done_) return false;
  ++line_no_;
  ++result_.lines;
  if (jump_line_ != 0) {
    look_ahead(line);
    return !done_;
  }
  if (pending_unframed_ != 0) {
    // Only a restart entry that continues the chain from the last good line, and says so,
    // excuses a line that is not framed.
    const std::uint64_t torn = std::exchange(pending_unframed_, 0);
    const auto parsed = audit::parse_chained_line(line);
    if (parsed && parsed->hash_matches && parsed->seq == last_seq_ + 1 &&
        parsed->prev == last_hash_ && declares_torn_line(line)) {
      result_.notes.push_back({torn, std::string(kTornNote)});
    } else {
      return report(torn, ChainProblem::kEdited,
                    "not a framed entry (no chain header or closing hash), and no restart entry "
                    "after it declares it a torn line");
    }
  }
  return check_framed(line, terminated);
}

bool ChainVerifier::check_framed(std::string_view line, bool terminated) {
  const auto parsed = audit::parse_chained_line(line);
  if (!parsed) {
    if (!terminated) {
      return report(line_no_, ChainProblem::kTruncated,
                    "the last line is cut off (no newline, no closing hash): a write that did "
                    "not finish");
    }
    pending_unframed_ = line_no_;
    return true;
  }
  if (!parsed->hash_matches) {
    return report(line_no_, ChainProblem::kEdited,
                  "the line's bytes do not match its hash: it was changed after it was written");
  }
  if (!terminated) {
    return report(line_no_, ChainProblem::kTruncated,
                  "the last line has no newline: a write that did not finish");
  }
  const std::uint64_t seq = parsed->seq;
  const std::uint64_t expected = last_seq_ + 1;
  if (seq == expected) {
    if (parsed->prev != last_hash_) {
      if (last_line_ == 0) {
        return report(line_no_, ChainProblem::kBrokenLink,
                      "the first line's prev is not empty: the log does not start here (lines "
                      "before it removed, or it comes from another log)");
      }
      return report(line_no_, ChainProblem::kBrokenLink,
                    "prev does not match the hash of line " + std::to_string(last_line_) +
                        ", although both lines are intact (lines from another log spliced in, "
                        "or line " +
                        std::to_string(last_line_) + " rewritten with a fresh hash)");
    }
    accept(seq, parsed->hash);
    return true;
  }
  if (seq <= last_seq_) {
    // A complete line that lost only its newline in a crash was accepted before the restart
    // entry after it said it was torn; that entry continues from the line before it.
    if (last_line_ != 0 && seq == last_seq_ && parsed->prev == before_hash_ &&
        declares_torn_line(line)) {
      result_.notes.push_back({last_line_, std::string(kTornNote)});
      last_hash_.assign(parsed->hash);
      last_line_ = line_no_;
      return true;
    }
    return report(line_no_, ChainProblem::kReordered,
                  seq_range(seq, seq) + " after seq " + std::to_string(last_seq_) + " (line " +
                      std::to_string(last_line_) +
                      "): the sequence goes backwards (lines moved or replayed)");
  }
  jump_line_ = line_no_;
  jump_expected_ = expected;
  jump_seq_ = seq;
  looked_ahead_ = 0;
  return true;
}

void ChainVerifier::look_ahead(std::string_view line) {
  const auto parsed = audit::parse_chained_line(line);
  if (parsed && parsed->seq == jump_expected_) {
    report(jump_line_, ChainProblem::kReordered,
           seq_range(jump_seq_, jump_seq_) + " where seq " + std::to_string(jump_expected_) +
               " was due; seq " + std::to_string(jump_expected_) + " comes later, at line " +
               std::to_string(line_no_) + " (lines moved)");
    return;
  }
  if (++looked_ahead_ >= kReorderWindow) settle_jump_as_missing();
}

void ChainVerifier::settle_jump_as_missing() {
  const std::uint64_t count = jump_seq_ - jump_expected_;
  std::string detail = seq_range(jump_expected_, jump_seq_ - 1) + " missing (" +
                       std::to_string(count) + (count == 1 ? " line" : " lines") +
                       " deleted before this one, which has seq " + std::to_string(jump_seq_) + ")";
  report(jump_line_, ChainProblem::kMissing, std::move(detail));
}

VerifyResult ChainVerifier::finish() {
  if (!done_) {
    if (pending_unframed_ != 0) {
      report(pending_unframed_, ChainProblem::kTruncated,
             "the last line is not a complete entry (no closing hash): a write that did not "
             "finish");
    } else if (jump_line_ != 0) {
      settle_jump_as_missing();
    }
  }
  return result_;
}

Result<VerifyResult> verify_log(
    const std::string& path, const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) {
  COFFER_ASSIGN_OR_RETURN(auto reader, LogLineReader::open(path));
  if (on_progress) {
    const std::uint64_t size = reader.file_size();
    reader.on_read([&on_progress, size](std::uint64_t done) { on_progress(done, size); });
  }
  ChainVerifier verifier;
  std::string_view line;
  bool terminated = false;
  while (reader.next(line, terminated)) {
    if (!verifier.add(line, terminated)) break;
  }
  if (!reader.status().ok()) {
    return fail(
        Status(reader.status().code(), "reading " + path + ": " + reader.status().message()));
  }
  VerifyResult result = verifier.finish();
  result.bytes = reader.bytes_read();
  return result;
}

}  // namespace coffer::cli
