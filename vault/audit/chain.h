#pragma once
// The hash chain that makes an audit log tamper-evident.
//
// Every line a device writes is framed as
//   {"chain":{"seq":<n>,"prev":"<hex>"},<the entry's own fields>,"hash":"<hex>"}
// where `hash` is SHA-256 (hex) of every byte of the line before `,"hash":"`, and `prev` is
// the previous line's `hash` ("" for the first line of a log). Editing a line breaks its own
// hash; deleting or reordering lines breaks the sequence; a line cut short (a crash mid-write)
// lacks the closing hash. The framing is written by us at fixed places - the first and last
// bytes of the line - so nothing a client puts into a request (map keys are logged in clear)
// can imitate it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vault/base/status.h"

namespace coffer::audit {

inline constexpr std::size_t kChainHashHex = 64;

// Where a log's chain stands: the last written line's sequence number and hash.
struct ChainPosition {
  std::uint64_t seq = 0;  // 0 = nothing written yet
  std::string last_hash;  // "" = nothing written yet
};

// Frames `entry_json` (one JSON object, "{...}", no newline) as the next line of the chain
// and advances `position`. The result has no trailing newline.
std::string chain_line(std::string_view entry_json, ChainPosition& position);

struct ChainedLine {
  std::uint64_t seq = 0;
  std::string_view prev;      // hex, or "" for a chain's first line
  std::string_view hash;      // hex, as written in the line
  bool hash_matches = false;  // the line's bytes hash to `hash`
};

// The framing of one line (without its newline); nullopt when the line is not framed (cut
// short, or not written by a chained device).
std::optional<ChainedLine> parse_chained_line(std::string_view line);

// Hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// What an existing log ends with, so a restarted device continues its chain.
struct LogTail {
  ChainPosition position;    // of the last complete, well-framed line
  bool torn = false;         // the file ends with bytes after the last newline
  bool last_line_ok = true;  // the last complete line is well framed with a matching hash
};
// Reads only the end of the file. A missing or empty file is a fresh chain.
Result<LogTail> read_log_tail(const std::string& path);

}  // namespace coffer::audit
