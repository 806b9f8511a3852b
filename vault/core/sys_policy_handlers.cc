// sys/policy, sys/policies/acl, sys/capabilities* and sys/policy-check.

#include "vault/core/core.h"
#include "vault/core/envelope.h"
#include "vault/core/fields.h"

namespace coffer::core {
namespace {

api::Response method_not_allowed() { return api::Response::error(405, {}); }

bool is_write(api::Operation op) {
  return op == api::Operation::kCreate || op == api::Operation::kUpdate;
}

// The paths of a capabilities request: `paths` (list or comma string) or the
// legacy single `path`.
Result<std::vector<std::string>> requested_paths(const nlohmann::json& body) {
  COFFER_ASSIGN_OR_RETURN(auto paths, fields::string_list_field(body, "paths"));
  if (!paths || paths->empty()) {
    COFFER_ASSIGN_OR_RETURN(auto single, fields::string_field(body, "path"));
    if (!single || single->empty()) return fail(invalid_argument("missing paths"));
    paths = std::vector<std::string>{*single};
  }
  for (auto& p : *paths) {
    while (p.starts_with('/')) p.erase(0, 1);
  }
  return std::move(*paths);
}

}  // namespace

api::Response Core::handle_policies(const api::Request& request) {
  const auto op = request.operation;
  const std::string& path = request.path;
  // Legacy sys/policy answers `rules`; sys/policies/acl answers `policy`.
  const bool legacy = path == "sys/policy" || path.starts_with("sys/policy/");
  const std::string name =
      legacy ? (path == "sys/policy" ? "" : path.substr(std::string_view("sys/policy/").size()))
             : path.substr(std::string_view("sys/policies/acl/").size());

  if (name.empty() || name == "/") {
    if (op != api::Operation::kList && !(legacy && op == api::Operation::kRead)) {
      return method_not_allowed();
    }
    auto names = policies_.names();
    nlohmann::json data{{"keys", names}};
    if (legacy) data["policies"] = names;
    return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
  }
  switch (op) {
    case api::Operation::kRead: {
      auto normalised = policy::normalize_policy_name(name);
      if (!normalised) return api::Response::error(404, {});
      auto found = policies_.find(*normalised);
      if (!found) return api::Response::error(404, {});
      nlohmann::json data{{"name", *normalised}, {legacy ? "rules" : "policy", found->text()}};
      return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
    }
    case api::Operation::kCreate:
    case api::Operation::kUpdate: {
      auto text = fields::string_field(request.body, "policy");
      if (!text) return api::Response::error(text.error());
      if (!*text && legacy) {
        text = fields::string_field(request.body, "rules");
        if (!text) return api::Response::error(text.error());
      }
      if (!*text)
        return api::Response::error(invalid_argument("'policy' parameter not supplied or empty"));
      if (Status s = policies_.put(name, **text); !s.ok()) return api::Response::error(s);
      return api::Response::no_content();
    }
    case api::Operation::kDelete: {
      if (Status s = policies_.remove(name); !s.ok()) return api::Response::error(s);
      return api::Response::no_content();
    }
    default:
      return method_not_allowed();
  }
}

api::Response Core::handle_capabilities(const api::Request& request, const TokenEntry& caller) {
  if (!is_write(request.operation)) return method_not_allowed();
  auto paths = requested_paths(request.body);
  if (!paths) return api::Response::error(paths.error());

  std::optional<TokenEntry> subject;
  if (request.path == "sys/capabilities-self") {
    subject = caller;
  } else if (request.path == "sys/capabilities") {
    auto token = fields::string_field(request.body, "token");
    if (!token) return api::Response::error(token.error());
    if (!*token || (*token)->empty())
      return api::Response::error(invalid_argument("missing token"));
    auto found = tokens_->lookup(**token);
    if (!found) return api::Response::error(found.error());
    if (!*found) return api::Response::error(invalid_argument("invalid token"));
    subject = std::move(**found);
  } else {
    auto accessor = fields::string_field(request.body, "accessor");
    if (!accessor) return api::Response::error(accessor.error());
    auto found = tokens_->lookup_accessor(accessor->value_or(""));
    if (!found) return api::Response::error(found.error());
    if (!*found) return api::Response::error(invalid_argument("invalid accessor"));
    subject = std::move(**found);
  }

  nlohmann::json data = nlohmann::json::object();
  std::shared_ptr<const policy::Acl> acl;
  if (!subject->is_root()) {
    auto built = policies_.acl_for(subject->policies);
    if (!built) return api::Response::error(built.error());
    acl = *built;
  }
  for (const auto& p : *paths) {
    data[p] = subject->is_root() ? std::vector<std::string>{"root"} : acl->capability_names(p);
  }
  if (paths->size() == 1) data["capabilities"] = data[paths->front()];
  return api::Response::json(200, api::envelope_with_top_level_copy(std::move(data)));
}

api::Response Core::handle_policy_check(const api::Request& request, const TokenEntry& caller) {
  if (!is_write(request.operation)) return method_not_allowed();
  auto path = fields::string_field(request.body, "path");
  auto operation = fields::string_field(request.body, "operation");
  auto accessor = fields::string_field(request.body, "accessor");
  if (!path) return api::Response::error(path.error());
  if (!operation) return api::Response::error(operation.error());
  if (!accessor) return api::Response::error(accessor.error());
  if (!*path || (*path)->empty()) return api::Response::error(invalid_argument("missing path"));

  std::optional<TokenEntry> subject = caller;
  if (*accessor && !(*accessor)->empty()) {
    // Explaining another identity's access is an administrator's question.
    api::Request self_check;
    self_check.path = "sys/policy-check";
    self_check.operation = api::Operation::kUpdate;
    const auto own = authorise(self_check, caller);
    if (!own.root && (own.capabilities & policy::kSudo) == 0) {
      return api::Response::error(
          403, {"permission denied", "checking another token needs sudo on sys/policy-check"});
    }
    auto found = tokens_->lookup_accessor(**accessor);
    if (!found) return api::Response::error(found.error());
    if (!*found) return api::Response::error(invalid_argument("invalid accessor"));
    subject = std::move(**found);
  }
  api::Request probe;
  probe.path = **path;
  while (probe.path.starts_with('/')) probe.path.erase(0, 1);
  const std::string op_name = operation->value_or("read");
  static const std::pair<std::string_view, api::Operation> kOps[] = {
      {"read", api::Operation::kRead},     {"list", api::Operation::kList},
      {"create", api::Operation::kCreate}, {"update", api::Operation::kUpdate},
      {"patch", api::Operation::kPatch},   {"delete", api::Operation::kDelete}};
  bool known = false;
  for (const auto& [name, op] : kOps) {
    if (name == op_name) {
      probe.operation = op;
      known = true;
    }
  }
  if (!known) return api::Response::error(invalid_argument("unknown operation " + op_name));
  if (probe.operation == api::Operation::kList && !probe.path.ends_with('/')) probe.path += "/";
  probe.remote_address = request.remote_address;
  probe.intent = request.intent;
  const auto decision = authorise(probe, *subject);
  nlohmann::json data{{"path", probe.path},
                      {"operation", op_name},
                      {"allowed", decision.allowed},
                      {"root", decision.root},
                      {"matched_pattern", decision.matched_pattern},
                      {"policy", decision.policy_name},
                      {"granting_policies", decision.granting_policies},
                      {"capabilities", policy::capability_names(decision.capabilities)},
                      {"reason", decision.reason}};
  return api::Response::json(200, api::envelope(std::move(data)));
}

}  // namespace coffer::core
