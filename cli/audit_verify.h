#pragma once
// `coffer audit verify`: checks the hash chain of an audit log (vault/audit/chain.h) offline
// and names the first line where it breaks, and how. Also the streaming line reader and the
// progress display that `coffer audit query` shares.
//
// Logs reach gigabytes, so nothing here holds a whole file: lines are read through one large
// buffer and checked as they come, with bounded lookahead.
//
// Thread safety: none of these types is shared between threads; the CLI has one.

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vault/base/status.h"

namespace coffer::cli {

// Reads a file one line at a time through one large buffer (memchr finds the newlines), so a
// log of any size is read in bounded memory: the buffer grows only for a line longer than it.
// Like a LevelDB iterator, next() returns false at the end *or* on a read error; status()
// says which.
class LogLineReader {
 public:
  static constexpr std::size_t kDefaultBufferSize = 8 << 20;
  // A single line longer than this is refused rather than buffered without bound.
  static constexpr std::size_t kMaxLineSize = std::size_t{1} << 30;

  // Opens `path` ("-" = stdin). Errors: invalid_argument naming the file when it cannot be
  // opened (or is a directory).
  static Result<LogLineReader> open(const std::string& path,
                                    std::size_t buffer_size = kDefaultBufferSize);

  LogLineReader(LogLineReader&& other) noexcept;
  LogLineReader& operator=(LogLineReader&&) = delete;
  LogLineReader(const LogLineReader&) = delete;
  ~LogLineReader();

  // The next line without its '\n', valid until the next call. `terminated` is false for a
  // last line the file does not end with '\n'. Returns false at the end of the file or on
  // an error (see status()).
  bool next(std::string_view& line, bool& terminated) {
    if (pos_ < end_) {
      const char* start = buffer_.get() + pos_;
      if (const void* nl = std::memchr(start, '\n', end_ - pos_)) {
        const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
        line = std::string_view(start, length);
        pos_ += length + 1;
        terminated = true;
        return true;
      }
    }
    return next_slow(line, terminated);
  }

  // ok() unless a read failed or a line exceeded kMaxLineSize.
  const Status& status() const { return status_; }
  // Bytes read from the file so far, and its size (0 for a pipe or stdin).
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t file_size() const { return file_size_; }
  // Called after every read from the file with bytes_read().
  void on_read(std::function<void(std::uint64_t)> callback) { on_read_ = std::move(callback); }

 private:
  LogLineReader(int fd, bool owns_fd, std::uint64_t file_size, std::size_t buffer_size);
  bool next_slow(std::string_view& line, bool& terminated);
  bool fill();  // false at EOF or on error

  int fd_ = -1;
  bool owns_fd_ = false;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t pos_ = 0;   // first unread byte
  std::size_t end_ = 0;   // end of the data in the buffer
  std::size_t scan_ = 0;  // bytes before this (from pos_) are known to hold no '\n'
  bool eof_ = false;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t file_size_ = 0;
  Status status_;
  std::function<void(std::uint64_t)> on_read_;
};

// A one-line progress display on stderr ("verifying FILE  42%  1.1 GiB / 2.6 GiB  410 MB/s")
// for long scans. Enabled only when stderr is a terminal and the input is larger than
// kThreshold, so scripts and small files see nothing. Redraws at most 5 times a second.
class ProgressMeter {
 public:
  static constexpr std::uint64_t kThreshold = 64ull << 20;

  ProgressMeter(std::string label, std::uint64_t total);
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;
  ~ProgressMeter() { finish(); }

  bool enabled() const { return enabled_; }
  void update(std::uint64_t done);
  // Erases the line; later updates are ignored.
  void finish();

 private:
  const std::string label_;
  const std::uint64_t total_;
  bool enabled_ = false;
  bool drawn_ = false;  // something is on the line to erase
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

enum class ChainProblem {
  kEdited,      // a line's bytes do not hash to its hash, or a line is not framed
  kMissing,     // the sequence jumps forward: lines were deleted
  kReordered,   // the sequence goes backwards, or a skipped number comes a little later
  kTruncated,   // the last line is cut off (no newline, or no closing hash)
  kBrokenLink,  // prev is not the previous line's hash, although both lines are intact
};

// "edited", "missing", "reordered", "truncated", "broken link".
std::string_view chain_problem_name(ChainProblem problem);

struct ChainFinding {
  std::uint64_t line = 0;  // 1-based
  ChainProblem problem = ChainProblem::kEdited;
  std::string detail;  // what exactly, e.g. "seq 17-19 missing (3 lines deleted before this one)"
};

struct ChainNote {
  std::uint64_t line = 0;
  std::string text;
};

struct VerifyResult {
  std::uint64_t lines = 0;    // lines read, torn ones included
  std::uint64_t entries = 0;  // well-framed entries of the chain
  std::uint64_t bytes = 0;
  std::vector<ChainNote> notes;         // not tampering: e.g. a torn line recovered at restart
  std::optional<ChainFinding> finding;  // the first problem; none = intact
  bool intact() const { return !finding.has_value(); }
};

// Checks the lines of one log, fed in file order. The verdict is the first problem; deciding
// between "missing" and "reordered" looks up to kReorderWindow lines ahead, and a line that is
// not framed is judged by the line after it (a torn line is declared by the restart entry that
// follows it), so add() may settle a verdict about an earlier line.
class ChainVerifier {
 public:
  // A forward jump is "reordered" if the expected seq shows up within this many lines.
  static constexpr std::uint64_t kReorderWindow = 1000;

  // Feeds the next line without its '\n'; `terminated` false for a last line lacking it.
  // Returns false once the verdict is final: feeding more changes nothing.
  bool add(std::string_view line, bool terminated);
  // End of the log: settles what waits for lookahead, and returns the result.
  VerifyResult finish();

 private:
  bool report(std::uint64_t line, ChainProblem problem, std::string detail);
  bool check_framed(std::string_view line, bool terminated);
  void look_ahead(std::string_view line);
  void settle_jump_as_missing();
  void accept(std::uint64_t seq, std::string_view hash);

  VerifyResult result_;
  bool done_ = false;
  std::uint64_t line_no_ = 0;
  // The chain as of the last accepted line, and as of the one before it (a framed line cut
  // only of its newline is recognised as torn after it was accepted).
  std::uint64_t last_seq_ = 0;
  std::string last_hash_;
  std::uint64_t last_line_ = 0;
  std::string before_hash_;
  // A line that is not framed, waiting for the next line to tell torn from edited.
  std::uint64_t pending_unframed_ = 0;
  // A forward jump at jump_line_ (seq jump_seq_ where jump_expected_ was due), waiting for
  // lookahead to tell reordered from missing.
  std::uint64_t jump_line_ = 0;
  std::uint64_t jump_expected_ = 0;
  std::uint64_t jump_seq_ = 0;
  std::uint64_t looked_ahead_ = 0;
};

// Verifies the log at `path` ("-" = stdin). `on_progress(bytes_read, file_size)` is called
// after every buffer read. Errors: invalid_argument when the file cannot be opened,
// internal_error when a read fails midway.
Result<VerifyResult> verify_log(
    const std::string& path,
    const std::function<void(std::uint64_t, std::uint64_t)>& on_progress = {});

}  // namespace coffer::cli
