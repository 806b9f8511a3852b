#pragma once
// Vault's success envelope (vault-api.md §1.4).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace coffer::api {

// {"request_id": <uuid>, "lease_id": "", "renewable": false, "lease_duration": 0,
//  "data": data, "wrap_info": null, "warnings": null, "auth": null}
nlohmann::json envelope(nlohmann::json data);

// The same, with every data key copied to the top level too, as Vault does for
// sys/mounts, sys/policy, sys/key-status and similar legacy-read endpoints.
nlohmann::json envelope_with_top_level_copy(nlohmann::json data);

// The envelope as JSON text around `data_json`, which must be one rendered JSON
// value. The KV read hot path answers with stored JSON as it is, rather than
// parsing it into a tree only to render the tree again.
std::string envelope_text(std::string_view data_json);

// While one is alive on a thread, envelopes built on that thread carry `id` as their
// request_id: the id of the request in the audit log, so a client's request_id finds its
// entries (as in Vault). Without one, each envelope gets a fresh random id.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string_view id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

}  // namespace coffer::api
