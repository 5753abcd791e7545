#include "service/vault.h"

#include <toml++/toml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "backup/manifest.h"
#include "base/encoding.h"
#include "base/time.h"
#include "crypto/x509.h"
#include "store/atomic_write.h"

namespace hokan {
namespace {

constexpr std::string_view kConfigName = "vault.toml";
constexpr std::string_view kLogName = "vault.log";

bool IsClientName(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool LooksLikeIp(const std::string& h) {
  return h.find(':') != std::string::npos ||
         std::all_of(h.begin(), h.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

Status WriteSecret(FileSystem& fs, const std::string& dir, const std::string& name,
                   const std::string& text) {
  return WriteNewFileDurably(fs, dir, name, AsBytes(text));
}

std::string ConfigText(const VaultConfig& c) {
  const VaultRetention& r = c.retention;
  return "# hokan vault (docs/backup.md, \"The vault\"). Clients can add snapshots, never remove\n"
         "# them; `hokan vault prune` (run here, by the vault's operator) removes only snapshots\n"
         "# older than min_days that the generations policy does not keep.\n"
         "listen = \"" +
         c.listen +
         "\"\n"
         "max_object_bytes = " +
         std::to_string(c.max_object_bytes) +
         "\n\n[retention]\n"
         "keep_last = " +
         std::to_string(r.keep_last) + "\nkeep_daily = " + std::to_string(r.keep_daily) +
         "\nkeep_weekly = " + std::to_string(r.keep_weekly) +
         "\nkeep_monthly = " + std::to_string(r.keep_monthly) +
         "\nmin_days = " + std::to_string(r.min_days) + "\n";
}

// Days since the epoch (UTC) of an RFC 3339 time; nullopt when unparsable.
std::optional<std::int64_t> DayOf(const std::string& rfc3339) {
  Result<TimePoint> t = ParseRfc3339(rfc3339);
  if (!t) return std::nullopt;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
  return secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
}

Status BadKey(const std::string& path, std::string_view key, std::string_view what) {
  std::string m = path;
  m += ": ";
  m += key;
  m += what;
  return InvalidArgumentError(m);
}

}  // namespace

Result<VaultConfig> ParseVaultConfig(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError(path + ":" + std::to_string(err.source().begin.line) + ": " +
                                std::string(err.description()));
  }
  VaultConfig c;
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "listen") {
      const auto s = v.value<std::string>();
      if (!s || s->empty()) return InvalidArgumentError(path + ": listen must be HOST:PORT");
      c.listen = *s;
    } else if (key == "max_object_bytes") {
      const auto n = v.value_exact<std::int64_t>();
      if (!n || *n < 1 << 20) return InvalidArgumentError(path + ": max_object_bytes >= 1048576");
      c.max_object_bytes = static_cast<std::uint64_t>(*n);
    } else if (key == "retention") {
      const toml::table* t = v.as_table();
      if (t == nullptr) return InvalidArgumentError(path + ": [retention] must be a table");
      for (auto&& [rk, rv] : *t) {
        const std::string name(rk.str());
        const auto n = rv.value_exact<std::int64_t>();
        if (!n || *n < 0 || *n > 100000) {
          return BadKey(path, "retention." + name, " must be a whole number from 0 to 100000");
        }
        const int value = static_cast<int>(*n);
        if (name == "keep_last") {
          c.retention.keep_last = value;
        } else if (name == "keep_daily") {
          c.retention.keep_daily = value;
        } else if (name == "keep_weekly") {
          c.retention.keep_weekly = value;
        } else if (name == "keep_monthly") {
          c.retention.keep_monthly = value;
        } else if (name == "min_days") {
          c.retention.min_days = value;
        } else {
          return BadKey(path, "retention." + name, " is not a known key");
        }
      }
    } else {
      return BadKey(path, key, " is not a known key");
    }
  }
  if (c.retention.keep_last < 1) {
    return InvalidArgumentError(path + ": retention.keep_last must be at least 1");
  }
  return c;
}

Status WriteVaultCredentials(FileSystem& fs, const VaultClientCredentials& c,
                             const std::string& dir) {
  if (fs.Stat(dir)) return AlreadyExistsError(dir + " exists; give a new directory");
  HK_RETURN_IF_ERROR(fs.CreateDir(dir));
  HK_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  HK_RETURN_IF_ERROR(WriteNewFileDurably(fs, dir, "ca.crt", AsBytes(c.ca_pem)));
  HK_RETURN_IF_ERROR(WriteNewFileDurably(fs, dir, "client.crt", AsBytes(c.cert_pem)));
  return WriteNewFileDurably(fs, dir, "client.key", AsBytes(c.key_pem));
}

Status Vault::Init(Env& env, const std::string& dir, const std::vector<std::string>& hostnames) {
  FileSystem& fs = env.fs;
  if (Result<FileInfo> info = fs.Stat(dir); info) {
    if (!info->is_directory) return InvalidArgumentError(dir + " is not a directory");
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
    if (std::find(names.begin(), names.end(), std::string(kConfigName)) != names.end()) {
      return AlreadyExistsError(dir + " already holds a vault");
    }
    if (!names.empty()) return FailedPreconditionError(dir + " is not empty");
  } else if (info.error().code() == StatusCode::kNotFound) {
    HK_RETURN_IF_ERROR(fs.CreateDir(dir));
    HK_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  } else {
    return info.error();
  }
  for (const char* sub : {"keys", "clients", "data"}) {
    HK_RETURN_IF_ERROR(fs.CreateDir(JoinPath(dir, sub)));
  }
  HK_RETURN_IF_ERROR(fs.SyncDir(dir));
  const std::string keys = JoinPath(dir, "keys");
  HK_ASSIGN_OR_RETURN(
      CertificateAndKey ca,
      MakeCertificate({.common_name = "hokan vault CA", .valid_days = 3650, .is_ca = true}));
  CertificateRequest server{.common_name = hostnames.empty() ? "localhost" : hostnames[0],
                            .dns_names = {"localhost"},
                            .ip_addresses = {"127.0.0.1", "::1"},
                            .valid_days = 825};
  for (const std::string& h : hostnames) {
    (LooksLikeIp(h) ? server.ip_addresses : server.dns_names).push_back(h);
  }
  HK_ASSIGN_OR_RETURN(CertificateAndKey tls, MakeCertificate(server, &ca));
  HK_RETURN_IF_ERROR(WriteSecret(fs, keys, "ca.key", ca.key_pem));
  HK_RETURN_IF_ERROR(WriteSecret(fs, keys, "ca.crt", ca.cert_pem));
  HK_RETURN_IF_ERROR(WriteSecret(fs, keys, "tls.key", tls.key_pem));
  HK_RETURN_IF_ERROR(WriteSecret(fs, keys, "tls.crt", tls.cert_pem + ca.cert_pem));
  HK_RETURN_IF_ERROR(WriteNewFileDurably(fs, dir, std::string(kLogName), {}));
  // The configuration last: its presence marks a complete vault.
  return WriteNewFileDurably(fs, dir, std::string(kConfigName), AsBytes(ConfigText({})));
}

Vault::Vault(Env& env, std::string dir, VaultConfig config)
    : env_(env), dir_(std::move(dir)), config_(std::move(config)) {}

Result<std::unique_ptr<Vault>> Vault::Open(Env& env, const std::string& dir) {
  const std::string path = JoinPath(dir, std::string(kConfigName));
  Result<Bytes> text = env.fs.ReadFile(path);
  if (!text) {
    if (text.error().code() == StatusCode::kNotFound) {
      return NotFoundError(dir +
                           " is not a hokan vault (no vault.toml); run `hokan vault init "
                           "--dir " +
                           dir + "` first");
    }
    return text.error();
  }
  HK_ASSIGN_OR_RETURN(VaultConfig config, ParseVaultConfig(AsChars(*text), path));
  std::unique_ptr<Vault> v(new Vault(env, dir, std::move(config)));
  HK_ASSIGN_OR_RETURN(std::vector<std::string> names, env.fs.ListDir(JoinPath(dir, "clients")));
  MutexLock lock(v->mu_);
  for (const std::string& n : names) {
    if (n.size() < 6 || n.substr(n.size() - 5) != ".json") continue;
    HK_ASSIGN_OR_RETURN(Bytes b, env.fs.ReadFile(JoinPath(JoinPath(dir, "clients"), n)));
    const nlohmann::json j = nlohmann::json::parse(AsChars(b), nullptr, false);
    if (j.is_discarded() || !j.contains("fingerprint") || !j.contains("name") ||
        !j["fingerprint"].is_string() || !j["name"].is_string()) {
      return DataLossError("clients/" + n + " is not a client registration");
    }
    v->clients_[j["fingerprint"].get<std::string>()] = j["name"].get<std::string>();
  }
  return v;
}

std::string Vault::tls_cert_file() const { return JoinPath(dir_, "keys/tls.crt"); }
std::string Vault::tls_key_file() const { return JoinPath(dir_, "keys/tls.key"); }
std::string Vault::ca_file() const { return JoinPath(dir_, "keys/ca.crt"); }

Result<VaultClientCredentials> Vault::AddClient(const std::string& name) {
  if (!IsClientName(name)) {
    return InvalidArgumentError("a client name is 1 to 64 of a-z, 0-9, '-' and '_'");
  }
  const std::string clients = JoinPath(dir_, "clients");
  if (env_.fs.Stat(JoinPath(clients, name + ".json"))) {
    return AlreadyExistsError("client " + name + " is already registered");
  }
  HK_ASSIGN_OR_RETURN(Bytes ca_cert, env_.fs.ReadFile(ca_file()));
  HK_ASSIGN_OR_RETURN(Bytes ca_key, env_.fs.ReadFile(JoinPath(dir_, "keys/ca.key")));
  CertificateAndKey ca{ToString(ca_cert), ToString(ca_key)};
  SecureZero(ca_key);
  HK_ASSIGN_OR_RETURN(
      CertificateAndKey cert,
      MakeCertificate(
          {.common_name = "hokan backup client " + name, .valid_days = 825, .client_auth = true},
          &ca));
  HK_ASSIGN_OR_RETURN(std::string fp, CertificateFingerprint(cert.cert_pem));
  {
    MutexLock lock(mu_);
    HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(name));
    (void)t;
  }
  const nlohmann::json reg = {
      {"name", name}, {"fingerprint", fp}, {"created_at", FormatRfc3339(env_.clock.Now())}};
  HK_RETURN_IF_ERROR(
      WriteNewFileDurably(env_.fs, clients, name + ".json", AsBytes(reg.dump(2) + "\n")));
  {
    MutexLock lock(mu_);
    clients_[fp] = name;
  }
  Log(name, "client.add", fp, OkStatus());
  return VaultClientCredentials{name, cert.cert_pem, cert.key_pem, ca.cert_pem, fp};
}

Result<std::string> Vault::ClientFor(const std::string& cert_sha256) {
  MutexLock lock(mu_);
  auto it = clients_.find(cert_sha256);
  if (cert_sha256.empty() || it == clients_.end()) {
    return PermissionDeniedError("this client certificate is not registered with the vault");
  }
  return it->second;
}

Result<backup::DirectoryTarget*> Vault::TargetFor(const std::string& client) {
  auto it = targets_.find(client);
  if (it != targets_.end()) return it->second.get();
  HK_ASSIGN_OR_RETURN(
      std::unique_ptr<backup::DirectoryTarget> t,
      backup::DirectoryTarget::Open(env_.fs, JoinPath(JoinPath(dir_, "data"), client), true));
  backup::DirectoryTarget* raw = t.get();
  targets_[client] = std::move(t);
  return raw;
}

void Vault::Log(const std::string& client, std::string_view action, const std::string& object,
                const Status& outcome) {
  nlohmann::json j = {{"time", FormatRfc3339(env_.clock.Now())},
                      {"client", client},
                      {"action", std::string(action)},
                      {"object", object},
                      {"outcome", outcome.ok() ? "success" : "refused"}};
  if (!outcome.ok()) j["reason"] = outcome.message();
  const std::string line = j.dump() + "\n";
  MutexLock lock(log_mu_);
  Result<std::unique_ptr<RandomAccessFile>> f =
      env_.fs.OpenRandomAccessFile(JoinPath(dir_, std::string(kLogName)), true);
  if (!f) return;
  Result<std::uint64_t> size = (*f)->Size();
  if (!size) return;
  if ((*f)->Write(*size, AsBytes(line)).ok()) (void)(*f)->Sync();
}

Result<bool> Vault::HasObject(const std::string& client, const std::string& id) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
  return t->HasObject(id);
}

Status Vault::PutObject(const std::string& client, const std::string& id, ByteView sealed) {
  Status st;
  if (sealed.size() > config_.max_object_bytes) {
    st = InvalidArgumentError("the object is larger than the vault's max_object_bytes");
  } else {
    MutexLock lock(mu_);
    Result<backup::DirectoryTarget*> t = TargetFor(client);
    st = t ? (*t)->PutObject(id, sealed) : t.error();
  }
  if (!st.ok()) Log(client, "object.put", id, st);
  return st;
}

Result<Bytes> Vault::GetObject(const std::string& client, const std::string& id) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
  return t->GetObject(id);
}

Status Vault::Flush(const std::string& client) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
  return t->Flush();
}

Result<std::vector<std::string>> Vault::ListSnapshots(const std::string& client) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
  return t->ListSnapshots();
}

Status Vault::PutSnapshot(const std::string& client, const std::string& id, ByteView manifest) {
  Status st = [&]() -> Status {
    MutexLock lock(mu_);
    HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
    Result<backup::ParsedManifest> p = backup::ParseManifest(manifest);
    if (!p) return InvalidArgumentError("the manifest is malformed: " + p.error().message());
    if (!p->signature_ok || p->manifest.snapshot_id != id) {
      return InvalidArgumentError("the manifest's signature does not verify");
    }
    // The audit key is pinned by the client's first snapshot here.
    HK_ASSIGN_OR_RETURN(std::vector<std::string> ids, t->ListSnapshots());
    if (!ids.empty()) {
      HK_ASSIGN_OR_RETURN(Bytes first, t->GetSnapshot(ids.front()));
      Result<backup::ParsedManifest> f = backup::ParseManifest(first);
      if (f && f->manifest.store_id == p->manifest.store_id &&
          f->manifest.audit_public_key != p->manifest.audit_public_key) {
        return PermissionDeniedError(
            "the manifest is signed by another audit key than this store's earlier snapshots");
      }
    }
    HK_RETURN_IF_ERROR(t->Flush());
    for (const backup::ManifestEntry& e : p->manifest.entries) {
      HK_ASSIGN_OR_RETURN(std::optional<backup::ObjectLocation> loc, t->Locate(e.object));
      if (!loc || loc->size != e.sealed_size) {
        return FailedPreconditionError("object " + e.object +
                                       " named by the manifest is missing or incomplete");
      }
    }
    return t->PutSnapshot(id, manifest);
  }();
  Log(client, "snapshot.put", id, st);
  return st;
}

Result<Bytes> Vault::GetSnapshot(const std::string& client, const std::string& id) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
  return t->GetSnapshot(id);
}

Status Vault::Refuse(const std::string& client, const std::string& what) {
  Status st = PermissionDeniedError(
      "this vault is append-only: " + what +
      " is refused (only the vault's operator prunes, on the vault machine, after the retention "
      "period)");
  Log(client, "refused", what, st);
  return st;
}

Result<PruneReport> Vault::Prune(bool dry_run) {
  PruneReport report;
  const auto now_day = DayOf(FormatRfc3339(env_.clock.Now())).value_or(0);
  const VaultRetention& r = config_.retention;
  HK_ASSIGN_OR_RETURN(std::vector<std::string> clients, env_.fs.ListDir(JoinPath(dir_, "data")));
  MutexLock lock(mu_);
  for (const std::string& client : clients) {
    HK_ASSIGN_OR_RETURN(backup::DirectoryTarget * t, TargetFor(client));
    HK_ASSIGN_OR_RETURN(std::vector<std::string> ids, t->ListSnapshots());
    struct Snap {
      std::string id;
      std::int64_t day = 0;
      std::string month;
      std::optional<backup::ParsedManifest> manifest;
    };
    std::vector<Snap> snaps;
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {  // Newest first.
      Snap s{.id = *it};
      Result<Bytes> b = t->GetSnapshot(*it);
      Result<backup::ParsedManifest> p =
          b ? backup::ParseManifest(*b) : Result<backup::ParsedManifest>(b.error());
      // A manifest the vault cannot read is kept: removing it is a human's decision.
      const std::string created = p ? p->manifest.created_at : "";
      s.day = DayOf(created).value_or(now_day);
      s.month = created.size() >= 7 ? created.substr(0, 7) : "";
      if (p) s.manifest = std::move(*p);
      snaps.push_back(std::move(s));
    }
    std::set<std::string> keep;
    std::set<std::int64_t> days;
    std::set<std::int64_t> weeks;
    std::set<std::string> months;
    for (std::size_t i = 0; i < snaps.size(); ++i) {
      const Snap& s = snaps[i];
      bool k = static_cast<int>(i) < r.keep_last || !s.manifest || now_day - s.day < r.min_days;
      if (days.insert(s.day).second && static_cast<int>(days.size()) <= r.keep_daily) k = true;
      if (weeks.insert((s.day + 3) / 7).second && static_cast<int>(weeks.size()) <= r.keep_weekly) {
        k = true;
      }
      if (months.insert(s.month).second && static_cast<int>(months.size()) <= r.keep_monthly) {
        k = true;
      }
      (k ? report.kept : report.removed).push_back(client + "/" + s.id);
      if (k) keep.insert(s.id);
    }
    // Objects still needed by a kept snapshot; others go, from packs older than a day (an
    // upload in flight has objects but no manifest yet).
    std::set<std::string> needed;
    for (const Snap& s : snaps) {
      if (keep.count(s.id) == 0 || !s.manifest) continue;
      for (const backup::ManifestEntry& e : s.manifest->manifest.entries) needed.insert(e.object);
    }
    if (dry_run) continue;
    for (const Snap& s : snaps) {
      if (keep.count(s.id) != 0) continue;
      HK_RETURN_IF_ERROR(env_.fs.Remove(t->SnapshotPath(s.id)));
      Log(client, "prune.snapshot", s.id, OkStatus());
    }
    HK_RETURN_IF_ERROR(env_.fs.SyncDir(JoinPath(t->dir(), "snapshots")));
    HK_ASSIGN_OR_RETURN(backup::DirectoryTarget::PackRemoval gone,
                        t->RemoveObjectsNotIn(needed, env_.clock.Now() - std::chrono::hours(24)));
    report.objects_removed += gone.objects;
    report.bytes_removed += gone.bytes;
  }
  return report;
}

}  // namespace hokan
