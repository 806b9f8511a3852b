#pragma once
// Hashes the "data" member of a pre-rendered JSON response for the audit log.
//
// The KV read fast path answers with JSON text it never parsed; auditing it
// needs every leaf value of "data" replaced by its HMAC. This scanner walks the
// text once, copying structure and keys and hashing leaves, without building
// strings for tokens it does not need (a general SAX parser cost more than the
// read it was recording). It accepts only well-formed JSON.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace coffer::audit {

struct RawData {
  std::optional<std::string> data;  // the hashed "data" value as JSON text, when present
  std::string lease_id;             // top-level "lease_id", when a non-empty string
};

// `hash` maps a leaf value (a string's decoded text, or a number's / boolean's JSON text)
// to what the log shows; nullptr = log raw (values copied as they are). nullopt when the
// text is not a well-formed JSON object or nests deeper than 512 levels.
std::optional<RawData> hash_raw_data(std::string_view json,
                                     const std::function<std::string(std::string_view)>* hash);

}  // namespace coffer::audit
