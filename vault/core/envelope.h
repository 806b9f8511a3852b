#pragma once
// Vault's success envelope (vault-api.md §1.4).

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

}  // namespace coffer::api
