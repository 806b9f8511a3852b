#include "vault/core/policy_store.h"

#include <cstdlib>

namespace coffer::core {
namespace {
constexpr std::string_view kPrefix = "sys/policy/";
}  // namespace

namespace {
std::shared_ptr<const policy::Policy> built_in_response_wrapping() {
  auto parsed = policy::parse_policy(policy::kResponseWrappingPolicyName,
                                     policy::built_in_response_wrapping_policy_text());
  // The text is compiled into the binary: failing to parse it is a programming error.
  if (!parsed) std::abort();
  return std::make_shared<const policy::Policy>(std::move(*parsed));
}
}  // namespace

PolicyStore::PolicyStore(barrier::LogicalStorage& storage)
    : storage_(storage),
      root_(std::make_shared<const policy::Policy>(policy::root_policy())),
      response_wrapping_(built_in_response_wrapping()) {
  snapshot_.store(std::make_shared<const Snapshot>());
}

Status PolicyStore::load() {
  std::lock_guard lock(write_mutex_);
  auto next = std::make_shared<Snapshot>();
  COFFER_ASSIGN_OR_RETURN(auto names, storage_.list(kPrefix));
  for (const auto& name : names) {
    COFFER_ASSIGN_OR_RETURN(auto text, storage_.get(std::string(kPrefix) + name));
    if (!text) continue;
    auto parsed = policy::parse_policy(name, *text);
    if (!parsed) return internal_error("stored policy " + name + " does not parse");
    next->policies.emplace(name, std::make_shared<const policy::Policy>(std::move(*parsed)));
  }
  if (!next->policies.contains(policy::kDefaultPolicyName)) {
    const std::string_view text = policy::built_in_default_policy_text();
    auto parsed = policy::parse_policy(policy::kDefaultPolicyName, text);
    if (!parsed) return internal_error("built-in default policy does not parse");
    COFFER_TRY(storage_.put(std::string(kPrefix) + std::string(policy::kDefaultPolicyName), text));
    next->policies.emplace(std::string(policy::kDefaultPolicyName),
                           std::make_shared<const policy::Policy>(std::move(*parsed)));
  }
  snapshot_.store(std::move(next));
  return ok_status();
}

void PolicyStore::clear() { snapshot_.store(std::make_shared<const Snapshot>()); }

std::vector<std::string> PolicyStore::names() const {
  std::vector<std::string> out;
  auto snap = snapshot_.load();
  for (const auto& [name, p] : snap->policies) out.push_back(name);
  out.emplace_back(policy::kRootPolicyName);
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const policy::Policy> PolicyStore::find(std::string_view name) const {
  if (name == policy::kRootPolicyName) return root_;
  if (name == policy::kResponseWrappingPolicyName) return response_wrapping_;
  auto snap = snapshot_.load();
  auto it = snap->policies.find(name);
  return it == snap->policies.end() ? nullptr : it->second;
}

Status PolicyStore::put(std::string_view raw_name, std::string_view text) {
  COFFER_ASSIGN_OR_RETURN(auto name, policy::normalize_policy_name(raw_name));
  if (name == policy::kRootPolicyName) return invalid_argument("cannot update root policy");
  if (name == policy::kResponseWrappingPolicyName) {
    return invalid_argument("cannot update response-wrapping policy");
  }
  COFFER_ASSIGN_OR_RETURN(auto parsed, policy::parse_policy(name, text));
  std::lock_guard lock(write_mutex_);
  COFFER_TRY(storage_.put(std::string(kPrefix) + name, parsed.text()));
  auto current = snapshot_.load();
  auto next = std::make_shared<Snapshot>();
  next->policies = current->policies;
  next->policies[name] = std::make_shared<const policy::Policy>(std::move(parsed));
  snapshot_.store(std::move(next));
  return ok_status();
}

Status PolicyStore::remove(std::string_view raw_name) {
  COFFER_ASSIGN_OR_RETURN(auto name, policy::normalize_policy_name(raw_name));
  if (name == policy::kRootPolicyName) return invalid_argument("cannot delete root policy");
  if (name == policy::kDefaultPolicyName) return invalid_argument("cannot delete default policy");
  if (name == policy::kResponseWrappingPolicyName) {
    return invalid_argument("cannot delete response-wrapping policy");
  }
  std::lock_guard lock(write_mutex_);
  COFFER_TRY(storage_.remove(std::string(kPrefix) + name));
  auto current = snapshot_.load();
  auto next = std::make_shared<Snapshot>();
  next->policies = current->policies;
  next->policies.erase(name);
  snapshot_.store(std::move(next));
  return ok_status();
}

Result<std::shared_ptr<const policy::Acl>> PolicyStore::acl_for(
    const std::vector<std::string>& names, const policy::TemplateContext& identity,
    std::string_view identity_key) const {
  auto snap = snapshot_.load();
  std::vector<const policy::Policy*> policies;
  bool templated = false;
  for (const auto& n : names) {
    if (n == policy::kRootPolicyName) {
      policies.push_back(root_.get());
    } else if (n == policy::kResponseWrappingPolicyName) {
      policies.push_back(response_wrapping_.get());
    } else if (auto it = snap->policies.find(n); it != snap->policies.end()) {
      policies.push_back(it->second.get());
      templated = templated || it->second->templated();
    }
  }
  std::string key;
  for (const auto& n : names) key.append(n).push_back('\n');
  // Only an ACL rendered from templates depends on who asks.
  if (templated && !identity.entity_id.empty()) key.append("@").append(identity_key);
  {
    std::shared_lock lock(snap->cache_mutex);
    if (auto it = snap->acl_cache.find(key); it != snap->acl_cache.end()) return it->second;
  }
  COFFER_ASSIGN_OR_RETURN(
      auto acl, policy::Acl::build(policies, templated ? identity : policy::TemplateContext{}));
  auto shared = std::make_shared<const policy::Acl>(std::move(acl));
  std::unique_lock lock(snap->cache_mutex);
  // Bounded: a flood of distinct policy sets cannot grow memory without limit.
  if (snap->acl_cache.size() >= kAclCacheLimit) snap->acl_cache.clear();
  snap->acl_cache.emplace(std::move(key), shared);
  return shared;
}

}  // namespace coffer::core
