#pragma once
// `coffer policy fmt`: rewrites an HCL policy in one canonical layout.
//
//   path "secret/data/app/*" {
//     capabilities       = ["read", "list"]
//     allowed_parameters = {
//       "foo" = []
//     }
//     conditions {
//       require_mfa = true
//     }
//   }
//
// Blocks are separated by one blank line, bodies indented by two spaces, the
// `=` of consecutive attributes aligned, strings re-escaped. The text is first
// checked with the policy parser, so only valid policies are formatted.
//
// Comments cannot be carried through the parse tree, so text containing them is
// refused rather than silently losing them.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "vault/base/status.h"

namespace coffer::cli {

// The formatted policy (ending in one newline). Errors: invalid_argument for a
// parse error (with its line), an invalid policy, or a text with comments.
Result<std::string> format_policy(std::string_view text, std::string_view source_name);

// True if `text` has a `#`, `//` or `/* */` comment outside a string.
bool hcl_has_comments(std::string_view text);

}  // namespace coffer::cli
