#include "vault/core/mount_table.h"

#include "vault/base/encoding.h"
#include "vault/base/log.h"

namespace coffer::core {
namespace {

constexpr std::string_view kTablePath = "core/mounts";
constexpr std::string_view kDataPrefix = "logical/";
// Mount points the core serves itself.
constexpr std::string_view kReserved[] = {"sys/", "auth/", "cubbyhole/", "identity/"};

nlohmann::json to_json(const MountEntry& e) {
  return {{"path", e.path},
          {"type", e.type},
          {"description", e.description},
          {"accessor", e.accessor},
          {"uuid", e.uuid},
          {"options", e.options},
          {"default_lease_ttl", e.default_lease_ttl},
          {"max_lease_ttl", e.max_lease_ttl},
          {"local", e.local},
          {"seal_wrap", e.seal_wrap}};
}

MountEntry from_json(const nlohmann::json& j) {
  MountEntry e;
  e.path = j.at("path").get<std::string>();
  e.type = j.at("type").get<std::string>();
  e.description = j.value("description", "");
  e.accessor = j.at("accessor").get<std::string>();
  e.uuid = j.at("uuid").get<std::string>();
  e.options = j.value("options", nlohmann::json());
  e.default_lease_ttl = j.value("default_lease_ttl", 0);
  e.max_lease_ttl = j.value("max_lease_ttl", 0);
  e.local = j.value("local", false);
  e.seal_wrap = j.value("seal_wrap", false);
  return e;
}

}  // namespace

nlohmann::json MountEntry::describe() const {
  return {{"type", type},
          {"description", description},
          {"accessor", accessor},
          {"uuid", uuid},
          {"local", local},
          {"seal_wrap", seal_wrap},
          {"external_entropy_access", false},
          {"options", options},
          {"plugin_version", ""},
          {"running_plugin_version", ""},
          {"running_sha256", ""},
          {"deprecation_status", "supported"},
          {"config",
           {{"default_lease_ttl", default_lease_ttl},
            {"max_lease_ttl", max_lease_ttl},
            {"force_no_cache", false}}}};
}

nlohmann::json MountMigration::describe() const {
  return {{"source_mount", source_mount},
          {"target_mount", target_mount},
          {"status", outcome == Outcome::kSuccess ? "success" : "failure"}};
}

MountTable::MountTable(barrier::Barrier& barrier, const Clock& clock,
                       std::span<const engines::EngineRegistration> engines,
                       std::int64_t system_default_ttl)
    : barrier_(barrier), clock_(clock), engines_(engines), system_default_ttl_(system_default_ttl) {
  table_.store(std::make_shared<const Snapshot>());
}

Result<std::string> MountTable::normalise_path(std::string_view path) {
  std::string p(path);
  while (p.starts_with('/')) p.erase(0, 1);
  if (!p.empty() && !p.ends_with('/')) p.push_back('/');
  if (p.empty() || p == "/") return fail(invalid_argument("mount path cannot be empty"));
  for (std::string_view reserved : kReserved) {
    if (p.starts_with(reserved) || reserved.starts_with(p)) {
      return fail(invalid_argument("cannot mount at reserved path \"" + p + "\""));
    }
  }
  return p;
}

Result<std::shared_ptr<const Mount>> MountTable::start(MountEntry entry) const {
  for (const auto& registration : engines_) {
    if (registration.info.type != entry.type) continue;
    engines::EngineContext context;
    context.storage = std::make_unique<barrier::BarrierView>(
        barrier_, std::string(kDataPrefix) + entry.uuid + "/");
    context.clock = &clock_;
    context.default_lease_ttl =
        entry.default_lease_ttl > 0 ? entry.default_lease_ttl : system_default_ttl_;
    context.mount_path = entry.path;
    COFFER_ASSIGN_OR_RETURN(auto engine, registration.factory(std::move(context), entry.options));
    auto mount = std::make_shared<Mount>();
    mount->entry = std::move(entry);
    mount->engine = std::move(engine);
    return std::shared_ptr<const Mount>(std::move(mount));
  }
  return fail(invalid_argument("unknown secrets engine type \"" + entry.type + "\""));
}

Status MountTable::persist(const Snapshot& table) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [path, mount] : table) all.push_back(to_json(mount->entry));
  return barrier_.put(kTablePath, all.dump());
}

Status MountTable::load() {
  std::lock_guard lock(write_mutex_);
  COFFER_ASSIGN_OR_RETURN(auto stored, barrier_.get(kTablePath));
  auto table = std::make_shared<Snapshot>();
  if (stored) {
    auto all = nlohmann::json::parse(*stored, nullptr, false);
    if (all.is_discarded() || !all.is_array()) return internal_error("mount table is corrupt");
    for (const auto& j : all) {
      MountEntry entry;
      try {
        entry = from_json(j);
      } catch (const nlohmann::json::exception&) {
        return internal_error("mount table is corrupt");
      }
      COFFER_ASSIGN_OR_RETURN(auto mount, start(std::move(entry)));
      table->emplace(mount->entry.path, std::move(mount));
    }
  }
  table_.store(std::move(table));
  return ok_status();
}

void MountTable::clear() { table_.store(std::make_shared<const Snapshot>()); }

std::optional<Route> MountTable::route(std::string_view path) const {
  auto table = table_.load();
  // Mounts never nest, so the only candidate is the greatest mount path <= path:
  // any key between a prefix P and P+suffix would itself start with P.
  auto it = table->upper_bound(path);
  if (it != table->begin()) {
    --it;
    if (path.starts_with(it->first)) {
      return Route{it->second, std::string(path.substr(it->first.size()))};
    }
  }
  // "secret" (no slash) addresses the mount root, as Vault allows.
  if (auto exact = table->find(std::string(path) + "/"); exact != table->end()) {
    return Route{exact->second, ""};
  }
  return std::nullopt;
}

std::vector<MountEntry> MountTable::list() const {
  std::vector<MountEntry> out;
  for (const auto& [path, mount] : *table_.load()) out.push_back(mount->entry);
  return out;
}

std::optional<MountEntry> MountTable::find(std::string_view path) const {
  auto table = table_.load();
  auto it = table->find(path);
  if (it == table->end()) return std::nullopt;
  return it->second->entry;
}

Status MountTable::mount(MountEntry entry) {
  COFFER_ASSIGN_OR_RETURN(entry.path, normalise_path(entry.path));
  std::lock_guard lock(write_mutex_);
  auto current = table_.load();
  for (const auto& [path, mount] : *current) {
    if (entry.path.starts_with(path) || path.starts_with(entry.path)) {
      return conflict("path is already in use at " + path);
    }
  }
  entry.uuid = random_uuid();
  entry.accessor = entry.type + "_" + to_hex(SecretBytes::random(4).expose_secret());
  COFFER_ASSIGN_OR_RETURN(auto mount, start(std::move(entry)));
  auto next = std::make_shared<Snapshot>(*current);
  next->emplace(mount->entry.path, std::move(mount));
  COFFER_TRY(persist(*next));
  table_.store(std::move(next));
  return ok_status();
}

Status MountTable::unmount(std::string_view raw_path) {
  COFFER_ASSIGN_OR_RETURN(auto path, normalise_path(raw_path));
  std::lock_guard lock(write_mutex_);
  auto current = table_.load();
  auto it = current->find(path);
  if (it == current->end()) return ok_status();
  const std::string data_prefix = std::string(kDataPrefix) + it->second->entry.uuid + "/";
  auto next = std::make_shared<Snapshot>(*current);
  next->erase(path);
  // Unpublish first so no new request reaches the engine, then delete its data.
  COFFER_TRY(persist(*next));
  table_.store(next);
  std::vector<storage::WriteOp> deletes;
  COFFER_TRY(barrier_.scan(data_prefix, [&](std::string_view key, std::string_view) {
    deletes.push_back(storage::WriteOp::remove(std::string(key)));
    return true;
  }));
  for (std::size_t i = 0; i < deletes.size(); i += 1000) {
    std::vector<storage::WriteOp> chunk(deletes.begin() + i,
                                        deletes.begin() + std::min(deletes.size(), i + 1000));
    COFFER_TRY(barrier_.write_batch(chunk));
  }
  return ok_status();
}

Result<std::string> MountTable::remount(std::string_view raw_from, std::string_view raw_to) {
  COFFER_ASSIGN_OR_RETURN(auto from, normalise_path(raw_from));
  COFFER_ASSIGN_OR_RETURN(auto to, normalise_path(raw_to));
  std::lock_guard lock(write_mutex_);
  auto current = table_.load();
  auto it = current->find(from);
  if (it == current->end()) {
    return fail(invalid_argument("no secrets engine mounted at " + from));
  }
  for (const auto& [path, mount] : *current) {
    if (path == from) continue;
    if (to.starts_with(path) || path.starts_with(to)) {
      return fail(conflict("path is already in use at " + path));
    }
  }
  MountMigration migration{random_uuid(), from, to, MountMigration::Outcome::kSuccess};
  // The new table is published only once persisted, so a failed move leaves
  // the mount where it was.
  Status moved = [&]() -> Status {
    MountEntry entry = it->second->entry;
    entry.path = to;
    COFFER_ASSIGN_OR_RETURN(auto mount, start(std::move(entry)));
    auto next = std::make_shared<Snapshot>(*current);
    next->erase(from);
    next->emplace(to, std::move(mount));
    COFFER_TRY(persist(*next));
    table_.store(std::move(next));
    return ok_status();
  }();
  if (!moved.ok()) {
    migration.outcome = MountMigration::Outcome::kFailure;
    // Vault logs a failed move with its migration id; the status shows only "failure".
    log::error("remount failed: migration_id=" + migration.id + " from=" + from + " to=" + to +
               ": " + moved.message());
  }
  std::string id = migration.id;
  record(std::move(migration));
  return id;
}

std::optional<MountMigration> MountTable::migration(std::string_view id) const {
  std::lock_guard lock(migrations_mutex_);
  for (const auto& migration : migrations_) {
    if (migration.id == id) return migration;
  }
  return std::nullopt;
}

void MountTable::record(MountMigration migration) {
  std::lock_guard lock(migrations_mutex_);
  if (migrations_.size() >= kMigrationsKept) migrations_.pop_front();
  migrations_.push_back(std::move(migration));
}

Status MountTable::tune(std::string_view raw_path, const nlohmann::json& changes) {
  COFFER_ASSIGN_OR_RETURN(auto path, normalise_path(raw_path));
  std::lock_guard lock(write_mutex_);
  auto current = table_.load();
  auto it = current->find(path);
  if (it == current->end()) return invalid_argument("no mount at " + path);
  MountEntry entry = it->second->entry;
  if (auto d = changes.find("description"); d != changes.end() && d->is_string()) {
    entry.description = *d;
  }
  if (auto t = changes.find("default_lease_ttl"); t != changes.end() && t->is_number_integer()) {
    entry.default_lease_ttl = *t;
  }
  if (auto t = changes.find("max_lease_ttl"); t != changes.end() && t->is_number_integer()) {
    entry.max_lease_ttl = *t;
  }
  if (auto o = changes.find("options"); o != changes.end() && o->is_object()) {
    if (!entry.options.is_object()) entry.options = nlohmann::json::object();
    for (auto& [k, v] : o->items()) entry.options[k] = v;
  }
  for (const auto& registration : engines_) {
    if (registration.info.type == entry.type && registration.upgrade != nullptr) {
      barrier::BarrierView view(barrier_, std::string(kDataPrefix) + entry.uuid + "/");
      COFFER_TRY(registration.upgrade(view, it->second->entry.options, entry.options, clock_));
    }
  }
  COFFER_ASSIGN_OR_RETURN(auto mount, start(std::move(entry)));
  auto next = std::make_shared<Snapshot>(*current);
  (*next)[path] = std::move(mount);
  COFFER_TRY(persist(*next));
  table_.store(std::move(next));
  return ok_status();
}

}  // namespace coffer::core
