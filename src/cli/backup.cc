// `hokan backup run|list|verify|drill` and `hokan restore` (issue 6, docs/backup.md).
#include "service/backup.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "cli/cli.h"
#include "http/vault.h"

namespace hokan::cli_internal {
namespace {

using Json = nlohmann::ordered_json;

void Print(const Json& j) {
  std::printf("%s\n", j.dump(2).c_str());
  std::fflush(stdout);
}

std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* pwd = std::getenv("PWD");
  return pwd != nullptr && pwd[0] == '/' ? JoinPath(pwd, path) : path;
}

// TARGET: a directory, or a vault URL (https://HOST:PORT). A vault's credentials come from
// --vault-credentials DIR, $HOKAN_VAULT_CREDENTIALS, or D/keys/vault/ of the store given
// with --dir: ca.crt, client.crt, client.key as `hokan vault add-client` wrote them.
Result<std::unique_ptr<backup::BackupTarget>> OpenTarget(Env& env, const Args& a,
                                                         const std::string& target, bool create) {
  if (target.rfind("http://", 0) == 0) {
    return InvalidArgumentError("a vault is reached over https:// only");
  }
  if (target.rfind("https://", 0) == 0) {
    std::string creds = a.Get("vault-credentials");
    if (creds.empty()) {
      if (const char* e = std::getenv("HOKAN_VAULT_CREDENTIALS"); e != nullptr) creds = e;
    }
    if (creds.empty() && a.Has("dir")) creds = JoinPath(a.Get("dir"), "keys/vault");
    if (creds.empty()) {
      return InvalidArgumentError(
          "a vault target needs credentials: --vault-credentials DIR (ca.crt, client.crt, "
          "client.key from `hokan vault add-client`) or --dir D with them in D/keys/vault/");
    }
    VaultCredentials c{JoinPath(creds, "ca.crt"), JoinPath(creds, "client.crt"),
                       JoinPath(creds, "client.key")};
    for (const std::string* f : {&c.ca_file, &c.cert_file, &c.key_file}) {
      if (!env.fs.Stat(*f)) return NotFoundError("vault credentials: " + *f + " is missing");
    }
    return OpenVaultTarget(target, c);
  }
  HK_ASSIGN_OR_RETURN(std::unique_ptr<backup::DirectoryTarget> t,
                      backup::DirectoryTarget::Open(env.fs, Absolute(target), create));
  return std::unique_ptr<backup::BackupTarget>(std::move(t));
}

// Progress on stderr, at most once a second (and at the end).
backup::ProgressFn ProgressPrinter(Env& env, const char* what) {
  auto last = std::make_shared<std::chrono::system_clock::time_point>();
  return [&env, what, last](const backup::Progress& p) {
    const auto now = env.clock.Now();
    const bool end = p.done_files == p.total_files;
    if (!end && now - *last < std::chrono::seconds(1)) return;
    if (end && p.total_files == 0) return;
    *last = now;
    const double pct =
        p.total_bytes == 0 ? 100.0 : 100.0 * static_cast<double>(p.done_bytes) / p.total_bytes;
    std::fprintf(stderr, "hokan: %s: %s %llu/%llu files, %.1f/%.1f MiB (%.0f%%)\n", what,
                 p.phase.c_str(), static_cast<unsigned long long>(p.done_files),
                 static_cast<unsigned long long>(p.total_files),
                 static_cast<double>(p.done_bytes) / 1048576.0,
                 static_cast<double>(p.total_bytes) / 1048576.0, pct);
  };
}

// Where the backup key comes from, in order: --key-file, $HOKAN_BACKUP_KEY_FILE, the store
// given with --dir, and the store a snapshot was taken from (its manifest names the
// directory) when it is still on this machine with its key intact.
struct KeySource {
  std::optional<backup::BackupKey> key;
  std::string from;
};

Result<KeySource> FindKey(Env& env, const Args& a, backup::BackupTarget& target,
                          const std::string& snapshot) {
  KeySource out;
  std::string file = a.Get("key-file");
  if (file.empty()) {
    if (const char* e = std::getenv("HOKAN_BACKUP_KEY_FILE"); e != nullptr) file = e;
  }
  if (!file.empty()) {
    HK_ASSIGN_OR_RETURN(backup::BackupKey k, backup::ReadBackupKeyFile(env.fs, file));
    out.key = std::move(k);
    out.from = file;
    return out;
  }
  std::vector<std::string> dirs;
  if (a.Has("dir")) dirs.push_back(a.Get("dir"));
  // The manifests' source directories (newest first), for the snapshot asked for if any.
  Result<std::vector<std::string>> ids = target.ListSnapshots();
  if (ids) {
    for (auto it = ids->rbegin(); it != ids->rend(); ++it) {
      if (!snapshot.empty() && *it != snapshot) continue;
      Result<Bytes> bytes = target.GetSnapshot(*it);
      if (!bytes) continue;
      Result<backup::ParsedManifest> p = backup::ParseManifest(*bytes);
      if (p && std::find(dirs.begin(), dirs.end(), p->manifest.source_dir) == dirs.end()) {
        dirs.push_back(p->manifest.source_dir);
      }
    }
  }
  for (const std::string& d : dirs) {
    const std::string path = JoinPath(d, std::string(kBackupKeyFile));
    Result<backup::BackupKey> k = backup::ReadBackupKeyFile(env.fs, path);
    if (k) {
      out.key = std::move(*k);
      out.from = path;
      return out;
    }
    if (a.Has("dir") && d == a.Get("dir")) return k.error();
  }
  return out;
}

Status NoKey(const std::string& what) {
  return FailedPreconditionError(
      what +
      " needs the backup key: give --key-file F (a file holding the recovery key), set "
      "HOKAN_BACKUP_KEY_FILE, or --dir D of the store that made the backup");
}

void PrintRecoveryKey(const Archive& archive, const std::string& recovery_key) {
  if (recovery_key.empty()) return;
  std::fprintf(stderr,
               "hokan: a backup key was created for this store (%s/%s).\n"
               "hokan: RECOVERY KEY (shown once; write it down and keep it offline, apart "
               "from the backups):\n\n    %s\n\n"
               "hokan: without it, these backups cannot be restored once the data directory "
               "is lost.\n",
               archive.dir().c_str(), std::string(kBackupKeyFile).c_str(), recovery_key.c_str());
}

const char* kUsage =
    "usage: hokan backup run --dir D --to TARGET\n"
    "       hokan backup list --to TARGET [--json]\n"
    "       hokan backup verify --to TARGET [--snapshot S] [--sample PERCENT] [--no-key]\n"
    "                           [--dir D | --key-file F]\n"
    "       hokan backup drill --dir D --to TARGET [--scratch DIR]\n"
    "       hokan restore --from TARGET --snapshot S --to DIR [--key-file F | --dir D]\n"
    "TARGET is a directory (another volume, removable media) or a vault, https://HOST:PORT\n"
    "(`hokan vault`; its credentials from --vault-credentials DIR or D/keys/vault/).\n"
    "The first run creates the\n"
    "store's backup key (D/keys/backup.key) and shows its recovery key once: keep it\n"
    "offline. docs/backup.md; the runbook: docs/runbook-ransomware.md.\n";

int Run(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir", "to", "vault-credentials"});
  if (!a) return Fail(a.error());
  Result<std::string> to = a->Required("to");
  if (!to) return Fail(to.error());
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  const std::string target_path = Absolute(*to);
  const std::string dir = Absolute((*archive)->dir());
  if (target_path == dir || target_path.rfind(dir + "/", 0) == 0) {
    return Fail(InvalidArgumentError(
        "the backup target must not be inside the data directory (ransomware that reaches "
        "one reaches both)"));
  }
  // The key before anything else, and its recovery key shown at once: a run that fails later
  // must not take the only showing with it (the key file's line is the same text). And before
  // the target: a first run killed in between leaves no target that no key can open.
  Result<BackupKeyInfo> key = OpenBackupKey(**archive, true);
  if (!key) return Fail(key.error().WithContext("backup"));
  PrintRecoveryKey(**archive, key->new_recovery_key);
  Result<std::unique_ptr<backup::BackupTarget>> target = OpenTarget(env, *a, *to, true);
  if (!target) return Fail(target.error());
  Result<BackupRunReport> r = RunBackup(**archive, Me(), **target, ProgressPrinter(env, "backup"));
  if (!r) return Fail(r.error().WithContext("backup"));
  const backup::Manifest& m = r->write.manifest;
  Json j;
  j["snapshot_id"] = m.snapshot_id;
  j["target"] = r->target;
  j["created_at"] = m.created_at;
  j["store_id"] = m.store_id;
  j["versions"] = m.versions;
  j["audit_entries"] = m.audit_entries;
  j["audit_tree_size"] = m.tree_size;
  j["audit_consistency"] = m.audit_consistency;
  j["previous_snapshot"] = m.previous_snapshot;
  j["objects"] = m.entries.size();
  j["bytes"] = m.TotalSize();
  j["objects_written"] = r->write.objects_written;
  j["bytes_written"] = r->write.bytes_written;
  j["objects_reused"] = r->write.objects_reused;
  j["seconds"] = r->seconds;
  j["warnings"] = r->warnings;
  Print(j);
  PrintRecoveryKey(**archive, r->new_recovery_key);
  for (const std::string& w : r->warnings) std::fprintf(stderr, "hokan: warning: %s\n", w.c_str());
  if (m.audit_consistency.rfind("inconsistent", 0) == 0) {
    std::fprintf(stderr,
                 "hokan: snapshot %s was written, but the audit log is %s; investigate before "
                 "trusting this store (docs/runbook-ransomware.md)\n",
                 m.snapshot_id.c_str(), m.audit_consistency.c_str());
    return Finish(**archive, 1);
  }
  return Finish(**archive, 0);
}

int List(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"to", "vault-credentials"}, {"json"});
  if (!a) return Fail(a.error());
  Result<std::string> to = a->Required("to");
  if (!to) return Fail(to.error());
  Result<std::unique_ptr<backup::BackupTarget>> target = OpenTarget(env, *a, *to, false);
  if (!target) return Fail(target.error());
  Result<std::vector<std::string>> ids = (*target)->ListSnapshots();
  if (!ids) return Fail(ids.error());
  Json list = Json::array();
  if (!a->Switch("json")) {
    std::printf("%-29s  %-24s  %-16s  %9s  %9s  %12s  %s\n", "SNAPSHOT", "CREATED", "STORE",
                "VERSIONS", "OBJECTS", "BYTES", "AUDIT");
  }
  for (const std::string& id : *ids) {
    Result<Bytes> bytes = (*target)->GetSnapshot(id);
    Result<backup::ParsedManifest> p =
        bytes ? backup::ParseManifest(*bytes) : Result<backup::ParsedManifest>(bytes.error());
    Json j;
    j["snapshot_id"] = id;
    if (!p || !p->signature_ok) {
      j["problem"] = p ? "the manifest's signature does not verify" : p.error().message();
      if (!a->Switch("json")) {
        std::printf("%-29s  DAMAGED: %s\n", id.c_str(), j["problem"].get<std::string>().c_str());
      }
      list.push_back(j);
      continue;
    }
    const backup::Manifest& m = p->manifest;
    j["created_at"] = m.created_at;
    j["store_id"] = m.store_id;
    j["source_host"] = m.source_host;
    j["versions"] = m.versions;
    j["audit_entries"] = m.audit_entries;
    j["objects"] = m.entries.size();
    j["bytes"] = m.TotalSize();
    j["audit_consistency"] = m.audit_consistency;
    if (!a->Switch("json")) {
      std::printf("%-29s  %-24s  %-16s  %9llu  %9zu  %12llu  %s\n", id.c_str(),
                  m.created_at.c_str(), m.store_id.substr(0, 16).c_str(),
                  static_cast<unsigned long long>(m.versions), m.entries.size(),
                  static_cast<unsigned long long>(m.TotalSize()), m.audit_consistency.c_str());
    }
    list.push_back(j);
  }
  if (a->Switch("json")) Print(list);
  return 0;
}

int Verify(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(
      rest, {"to", "snapshot", "sample", "dir", "key-file", "vault-credentials"}, {"no-key"});
  if (!a) return Fail(a.error());
  Result<std::string> to = a->Required("to");
  if (!to) return Fail(to.error());
  Result<std::uint64_t> sample = a->Number("sample", 100);
  if (!sample) return Fail(sample.error());
  if (*sample == 0 || *sample > 100) {
    return Fail(InvalidArgumentError("--sample is a percentage from 1 to 100"));
  }
  Result<std::unique_ptr<backup::BackupTarget>> target = OpenTarget(env, *a, *to, false);
  if (!target) return Fail(target.error());
  backup::VerifyOptions options;
  if (a->Has("snapshot")) options.only_snapshot = a->Get("snapshot");
  options.sample = static_cast<double>(*sample) / 100.0;
  options.progress = ProgressPrinter(env, "verify");
  KeySource key;
  if (!a->Switch("no-key")) {
    Result<KeySource> k = FindKey(env, *a, **target, a->Get("snapshot"));
    if (!k) return Fail(k.error());
    key = std::move(*k);
  }
  if (key.key) {
    options.key = &*key.key;
    std::fprintf(stderr, "hokan: verify: decrypting with the backup key from %s\n",
                 key.from.c_str());
  } else {
    std::fprintf(stderr,
                 "hokan: verify: no backup key: checking signatures, audit consistency and the "
                 "stored bytes of every object, without decrypting\n");
  }
  // Audited in the store given with --dir, or else in the store whose key was used.
  std::unique_ptr<Archive> archive;
  if (a->Has("dir")) {
    Result<std::unique_ptr<Archive>> opened = OpenDir(env, *a);
    if (!opened) return Fail(opened.error());
    archive = std::move(*opened);
  } else if (const std::string suffix = "/" + std::string(kBackupKeyFile);
             key.from.size() > suffix.size() &&
             key.from.compare(key.from.size() - suffix.size(), suffix.size(), suffix) == 0) {
    Result<std::unique_ptr<Archive>> opened =
        Archive::Open(env, key.from.substr(0, key.from.size() - suffix.size()));
    if (opened) archive = std::move(*opened);
  }
  Result<backup::TargetCheck> check = VerifyBackups(archive.get(), Me(), **target, options);
  if (!check) return Fail(check.error().WithContext("verify"));
  for (const backup::SnapshotCheck& s : check->snapshots) {
    std::printf("%s %s: %llu objects, %llu decrypted; audit %s\n", s.ok() ? "OK" : "FAILED",
                s.snapshot_id.c_str(), static_cast<unsigned long long>(s.objects),
                static_cast<unsigned long long>(s.decrypted), s.audit.c_str());
    for (const std::string& p : s.problems) std::printf("  %s\n", p.c_str());
  }
  std::size_t bad = 0;
  for (const backup::SnapshotCheck& s : check->snapshots) bad += s.ok() ? 0 : 1;
  std::printf("%s: %zu snapshots, %zu with problems, %llu objects checked (%s)\n",
              bad == 0 ? "OK" : "FAILED", check->snapshots.size(), bad,
              static_cast<unsigned long long>(check->objects_checked),
              options.key == nullptr ? "without key"
              : *sample == 100       ? "full"
                                     : "sampled");
  const int code = bad == 0 ? 0 : 1;
  if (code != 0) std::fprintf(stderr, "hokan: verify: %zu snapshots have problems\n", bad);
  return archive ? Finish(*archive, code) : code;
}

int Drill(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir", "to", "scratch", "vault-credentials"});
  if (!a) return Fail(a.error());
  Result<std::string> to = a->Required("to");
  if (!to) return Fail(to.error());
  std::string scratch = a->Get("scratch");
  if (scratch.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    scratch = tmp != nullptr && tmp[0] == '/' ? tmp : "/var/tmp";
  }
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  Result<std::unique_ptr<backup::BackupTarget>> target = OpenTarget(env, *a, *to, false);
  if (!target) return Fail(target.error());
  CliSink sink(env);
  Result<DrillReport> d = DrillBackup(**archive, Me(), **target, Absolute(scratch), sink,
                                      ProgressPrinter(env, "drill"));
  if (!d) return Fail(d.error().WithContext("drill"));
  Json j;
  j["snapshot_id"] = d->snapshot_id;
  j["passed"] = d->restore.usable;
  j["problem"] = d->restore.problem;
  j["recovery_time_seconds"] = d->recovery_time_seconds;
  j["recovery_point_seconds"] = d->recovery_point_seconds;
  j["versions_verified"] = d->restore.verify.versions;
  j["audit_entries_verified"] = d->restore.verify.audit.entries;
  j["restored_bytes"] = d->restore.restore.bytes;
  j["evidence"] = d->evidence_path;
  Print(j);
  if (!d->restore.usable) {
    std::fprintf(stderr, "hokan: drill: FAILED: %s\n", d->restore.problem.c_str());
    return Finish(**archive, 1);
  }
  return Finish(**archive, 0);
}

}  // namespace

int RunBackup(Env& env, std::span<const std::string_view> args) {
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);
  if (verb == "run") return Run(env, rest);
  if (verb == "list") return List(env, rest);
  if (verb == "verify") return Verify(env, rest);
  if (verb == "drill") return Drill(env, rest);
  return Fail(
      InvalidArgumentError("unknown backup command '" + std::string(verb) + "'\n" + kUsage));
}

int RunRestore(Env& env, std::span<const std::string_view> args) {
  if (WantsHelp(args)) return Usage(kUsage);
  Result<Args> a =
      Args::Parse(args, {"from", "snapshot", "to", "key-file", "dir", "vault-credentials"});
  if (!a) return Fail(a.error());
  Result<std::string> from = a->Required("from");
  if (!from) return Fail(from.error());
  Result<std::string> snapshot = a->Required("snapshot");
  if (!snapshot) return Fail(snapshot.error());
  Result<std::string> to = a->Required("to");
  if (!to) return Fail(to.error());
  Result<std::unique_ptr<backup::BackupTarget>> target = OpenTarget(env, *a, *from, false);
  if (!target) return Fail(target.error());
  // The snapshot first: a wrong id is named before anything is asked of the key.
  if (Result<Bytes> m = (*target)->GetSnapshot(*snapshot); !m) {
    return Fail(m.error().WithContext("restore"));
  }
  Result<KeySource> key = FindKey(env, *a, **target, *snapshot);
  if (!key) return Fail(key.error().WithContext("restore"));
  if (!key->key) return Fail(NoKey("restore"));
  std::fprintf(stderr, "hokan: restore: decrypting with the backup key from %s\n",
               key->from.c_str());
  CliSink sink(env);
  Result<RestoreReport> r = RestoreBackup(env, Me(), **target, *snapshot, *key->key, Absolute(*to),
                                          sink, ProgressPrinter(env, "restore"));
  if (!r) return Fail(r.error().WithContext("restore"));
  Json j;
  j["snapshot_id"] = *snapshot;
  j["dir"] = r->dir;
  j["usable"] = r->usable;
  j["problem"] = r->problem;
  j["created_at"] = r->restore.manifest.created_at;
  j["files"] = r->restore.files;
  j["bytes"] = r->restore.bytes;
  j["versions_verified"] = r->verify.versions;
  j["audit_entries_verified"] = r->verify.audit.entries;
  j["seconds"] = r->seconds;
  Print(j);
  if (!r->usable) {
    return Fail(DataLossError("the restored copy in " + r->dir +
                              " did not verify and must not be used: " + r->problem));
  }
  return 0;
}

}  // namespace hokan::cli_internal
