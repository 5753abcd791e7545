#include "service/backup.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/scope_exit.h"
#include "base/time.h"
#include "service/api_service.h"
#include "store/atomic_write.h"

namespace hokan {
namespace {

std::string Resolve(const std::string& dir, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : JoinPath(dir, path);
}

bool Inside(const std::string& dir, const std::string& path) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Removes a directory tree made by a drill (files 0600 and directories hokan made).
Status RemoveTree(FileSystem& fs, const std::string& path) {
  HK_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if (info.is_directory) {
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(path));
    for (const std::string& n : names) HK_RETURN_IF_ERROR(RemoveTree(fs, JoinPath(path, n)));
  }
  return fs.Remove(path);
}

// Database copies of backups that were killed (".backup-<pid>-<random>.db[-journal]" whose
// process is gone). A running backup's copy is left alone.
void RemoveStaleCopies(FileSystem& fs, const std::string& dir) {
  Result<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names) return;
  for (const std::string& n : *names) {
    if (n.rfind(".backup-", 0) != 0) continue;
    const std::size_t dash = n.find('-', 8);
    if (dash == std::string::npos) continue;
    long pid = 0;
    try {
      pid = std::stol(n.substr(8, dash - 8));
    } catch (...) {
      continue;
    }
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    (void)fs.Remove(JoinPath(dir, n));
  }
}

void Detail(AuditEvent& e, std::string key, std::string value) {
  e.detail.emplace_back(std::move(key), std::move(value));
}

constexpr std::string_view kStatusFile = "backup-status.json";

// D/backup-status.json: the last run per target (successful or not) and the last drill, for
// `GET /api/v1/backup/status` and monitoring. Written atomically; a failure to write it never
// fails the backup (the audit log has the facts).
void RecordStatus(Archive& archive, const std::string& section, const std::string& key,
                  nlohmann::json entry) {
  FileSystem& fs = archive.env().fs;
  nlohmann::json status = nlohmann::json::object();
  if (Result<Bytes> b = fs.ReadFile(JoinPath(archive.dir(), std::string(kStatusFile))); b) {
    status = nlohmann::json::parse(AsChars(*b), nullptr, false);
    if (status.is_discarded() || !status.is_object()) status = nlohmann::json::object();
  }
  entry["at"] = FormatRfc3339(archive.env().clock.Now());
  if (key.empty()) {
    status[section] = std::move(entry);
  } else {
    if (!status[section].is_object()) status[section] = nlohmann::json::object();
    nlohmann::json& slot = status[section][key];
    // Keep the last success next to a newer failure: monitoring needs both.
    if (entry.value("outcome", "") != "success" && slot.is_object()) {
      if (slot.value("outcome", "") == "success") {
        entry["last_success"] = slot;
      } else if (slot.contains("last_success")) {
        entry["last_success"] = slot["last_success"];
      }
    }
    slot = std::move(entry);
  }
  (void)WriteFileAtomically(fs, archive.dir(), std::string(kStatusFile),
                            AsBytes(status.dump(2) + "\n"));
}

}  // namespace

Result<std::string> BackupStatusJson(Archive& archive) {
  Result<Bytes> b = archive.env().fs.ReadFile(JoinPath(archive.dir(), std::string(kStatusFile)));
  if (!b) {
    if (b.error().code() == StatusCode::kNotFound) return std::string(R"({"runs":{}})");
    return b.error();
  }
  const nlohmann::json j = nlohmann::json::parse(AsChars(*b), nullptr, false);
  if (j.is_discarded()) return DataLossError(std::string(kStatusFile) + " is not JSON");
  return j.dump();
}

Result<BackupKeyInfo> OpenBackupKey(Archive& archive, bool create) {
  FileSystem& fs = archive.env().fs;
  const std::string path = JoinPath(archive.dir(), std::string(kBackupKeyFile));
  Result<backup::BackupKey> key = backup::ReadBackupKeyFile(fs, path);
  if (key) return BackupKeyInfo{std::move(*key), ""};
  if (key.error().code() != StatusCode::kNotFound || !create) return key.error();
  HK_ASSIGN_OR_RETURN(backup::BackupKey made, backup::CreateBackupKeyFile(fs, path));
  std::string recovery = made.RecoveryKey();
  return BackupKeyInfo{std::move(made), std::move(recovery)};
}

Result<BackupRunReport> RunBackup(Archive& archive, const Actor& actor,
                                  backup::BackupTarget& target,
                                  const backup::ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  Env& env = archive.env();
  BackupRunReport report;
  report.target = target.Describe();
  auto audit_failure = [&](const Status& st) {
    AuditEvent e = ActorEvent(actor, "backup.run");
    e.outcome = "error";
    e.reason = st.message();
    Detail(e, "target", report.target);
    (void)archive.audit().Append(e);
    RecordStatus(archive, "runs", report.target, {{"outcome", "error"}, {"reason", st.message()}});
    return st;
  };
  Result<BackupKeyInfo> key = OpenBackupKey(archive, true);
  if (!key) return audit_failure(key.error());
  report.new_recovery_key = key->new_recovery_key;
  for (const std::string* f : {&archive.config().kek_file, &archive.config().audit_key_file}) {
    if (!Inside(archive.dir(), Resolve(archive.dir(), *f))) {
      report.warnings.push_back("key file " + *f +
                                " is outside the data directory and not in the snapshot; keep "
                                "a copy of it with the recovery key");
    }
  }
  Result<Bytes> pem = env.fs.ReadFile(Resolve(archive.dir(), archive.config().audit_key_file));
  if (!pem) return audit_failure(pem.error().WithContext("read the audit signing key"));
  Result<SigningKey> signer = SigningKey::FromPrivatePem(AsChars(*pem));
  SecureZero(*pem);
  if (!signer) return audit_failure(signer.error());

  // The checkpoint first, then the database copy: the copy holds the checkpoint.
  Result<Checkpoint> cp = archive.audit().WriteCheckpoint();
  if (!cp) return audit_failure(cp.error());
  Result<std::string> suffix = RandomHexId(8);
  if (!suffix) return audit_failure(suffix.error());
  backup::SnapshotSource source;
  source.data_dir = archive.dir();
  RemoveStaleCopies(env.fs, archive.dir());
  source.db_copy_path =
      JoinPath(archive.dir(), ".backup-" + std::to_string(::getpid()) + "-" + *suffix + ".db");
  source.store_id = archive.records().store_id();
  source.host = HostName();
  ScopeExit remove_copy([&] {
    (void)env.fs.Remove(source.db_copy_path);
    (void)env.fs.Remove(source.db_copy_path + "-journal");
  });
  Status copied = archive.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT count(*) FROM versions"));
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (row) source.versions = static_cast<std::uint64_t>(s->ColumnInt(0));
    HK_ASSIGN_OR_RETURN(s, db.Prepare("SELECT count(*) FROM audit_entries"));
    HK_ASSIGN_OR_RETURN(row, s->Step());
    if (row) source.audit_entries = static_cast<std::uint64_t>(s->ColumnInt(0));
    db.ResetStatements();
    return db.CopyTo(source.db_copy_path);
  });
  if (!copied.ok()) return audit_failure(copied.WithContext("copy the metadata database"));

  backup::AuditBinding binding;
  binding.origin = archive.audit().origin();
  binding.public_key = archive.audit().public_key();
  binding.checkpoint = cp->note;
  binding.tree_size = cp->tree_size;
  binding.root = cp->root;
  binding.prove_consistency = [&](std::uint64_t old_size) -> Result<std::vector<merkle::Hash>> {
    HK_ASSIGN_OR_RETURN(ConsistencyProofResult r,
                        archive.audit().ProveConsistency(old_size, cp->tree_size));
    return r.proof;
  };
  backup::WriteOptions options;
  options.progress = progress;
  Result<backup::WriteResult> w =
      backup::WriteSnapshot(env.fs, env.clock, source, binding, key->key, *signer, target, options);
  if (!w) return audit_failure(w.error());
  report.write = std::move(*w);
  if (!report.write.base_warning.empty()) report.warnings.push_back(report.write.base_warning);
  report.seconds = SecondsSince(start);

  const backup::Manifest& m = report.write.manifest;
  AuditEvent e = ActorEvent(actor, "backup.run");
  Detail(e, "snapshot", m.snapshot_id);
  Detail(e, "target", report.target);
  Detail(e, "audit_tree_size", std::to_string(m.tree_size));
  Detail(e, "audit_consistency", m.audit_consistency);
  Detail(e, "objects_written", std::to_string(report.write.objects_written));
  Detail(e, "objects_reused", std::to_string(report.write.objects_reused));
  HK_RETURN_IF_ERROR(archive.audit().Append(e).error());
  RecordStatus(archive, "runs", report.target,
               {{"outcome", "success"},
                {"snapshot_id", m.snapshot_id},
                {"created_at", m.created_at},
                {"audit_consistency", m.audit_consistency},
                {"objects_written", report.write.objects_written},
                {"bytes_written", report.write.bytes_written},
                {"seconds", report.seconds}});
  return report;
}

Result<backup::TargetCheck> VerifyBackups(Archive* archive, const Actor& actor,
                                          backup::BackupTarget& target,
                                          const backup::VerifyOptions& options) {
  Result<backup::TargetCheck> check = backup::VerifyTarget(target, options);
  if (archive != nullptr) {
    AuditEvent e = ActorEvent(actor, "backup.verify");
    Detail(e, "target", target.Describe());
    if (options.only_snapshot) Detail(e, "snapshot", *options.only_snapshot);
    Detail(e, "mode",
           options.key == nullptr  ? "without key"
           : options.sample >= 1.0 ? "full"
                                   : "sampled");
    if (!check) {
      e.outcome = "error";
      e.reason = check.error().message();
    } else {
      std::uint64_t bad = 0;
      for (const backup::SnapshotCheck& s : check->snapshots) bad += s.ok() ? 0 : 1;
      Detail(e, "snapshots", std::to_string(check->snapshots.size()));
      Detail(e, "snapshots_with_problems", std::to_string(bad));
      if (bad != 0) e.outcome = "error";
    }
    HK_RETURN_IF_ERROR(archive->audit().Append(e).error());
  }
  return check;
}

Result<RestoreReport> RestoreBackup(Env& env, const Actor& actor, backup::BackupTarget& target,
                                    const std::string& snapshot_id, const backup::BackupKey& key,
                                    const std::string& to_dir, VerifySink& sink,
                                    const backup::ProgressFn& progress) {
  const auto start = std::chrono::steady_clock::now();
  std::string to = to_dir;
  while (to.size() > 1 && to.back() == '/') to.pop_back();
  if (to.empty() || to == "/") return InvalidArgumentError("--to must name a new directory");
  if (Result<FileInfo> info = env.fs.Stat(to); info) {
    if (!info->is_directory) return InvalidArgumentError(to + " exists and is not a directory");
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, env.fs.ListDir(to));
    if (!names.empty()) {
      return FailedPreconditionError(to + " is not empty; restore into a new directory");
    }
  } else if (info.error().code() != StatusCode::kNotFound) {
    return info.error();
  }
  HK_ASSIGN_OR_RETURN(const std::string suffix, RandomHexId(4));
  RestoreReport report;
  report.dir = to + ".restoring-" + suffix;
  HK_ASSIGN_OR_RETURN(report.restore, backup::RestoreSnapshot(target, snapshot_id, key, env.fs,
                                                              report.dir, progress));
  const backup::Manifest& m = report.restore.manifest;
  {
    Result<std::unique_ptr<Archive>> restored = Archive::Open(env, report.dir);
    if (!restored) {
      report.problem = "the restored store does not open: " + restored.error().message();
      report.seconds = SecondsSince(start);
      return report;
    }
    Archive& a = **restored;
    if (a.records().store_id() != m.store_id) {
      report.problem = "the restored store's id is not the snapshot's";
    }
    Result<VerifySummary> v = a.Verify(actor, sink);
    if (!v) {
      report.problem = "verification of the restored store failed: " + v.error().message();
    } else {
      report.verify = *v;
      if (!v->ok() && report.problem.empty()) {
        report.problem = "the restored store has " + std::to_string(v->damage) +
                         " damaged objects (listed above)";
      }
    }
    // Confirmations: their rows, and their signatures against the versions' hashes (as
    // `hokan verify` does).
    if (report.problem.empty()) {
      Result<std::unique_ptr<ApiService>> api = ApiService::Open(a, env, ApiServiceOptions{});
      Result<ApiService::ConfirmationCheck> c =
          api ? (*api)->VerifyConfirmations(sink)
              : Result<ApiService::ConfirmationCheck>(api.error());
      if (!c) {
        report.problem = "the restored confirmations could not be checked: " + c.error().message();
      } else if (c->damage != 0) {
        report.problem = "the restored store has " + std::to_string(c->damage) +
                         " damaged confirmations (listed above)";
      }
    }
    // The log in the copy must be the log the snapshot's checkpoint signed.
    if (report.problem.empty()) {
      Result<std::uint64_t> size = a.audit().Size();
      Result<ConsistencyProofResult> r = size ? a.audit().ProveConsistency(m.tree_size, *size)
                                              : Result<ConsistencyProofResult>(size.error());
      if (!r || r->old_root != m.root) {
        report.problem =
            "the restored audit log does not have the root the snapshot's checkpoint signed";
      }
    }
    AuditEvent e = ActorEvent(actor, "backup.restore");
    Detail(e, "snapshot", snapshot_id);
    Detail(e, "target", target.Describe());
    Detail(e, "snapshot_created_at", m.created_at);
    Detail(e, "verified", report.problem.empty() ? "yes" : "no");
    if (!report.problem.empty()) {
      e.outcome = "error";
      e.reason = report.problem;
    }
    HK_RETURN_IF_ERROR(a.audit().Append(e).error());
    if (report.problem.empty()) HK_RETURN_IF_ERROR(a.audit().WriteCheckpoint().error());
  }
  report.seconds = SecondsSince(start);
  if (!report.problem.empty()) return report;
  if (env.fs.Stat(to)) HK_RETURN_IF_ERROR(env.fs.Remove(to));  // Empty (checked above).
  HK_RETURN_IF_ERROR(env.fs.Rename(report.dir, to));
  HK_RETURN_IF_ERROR(env.fs.SyncDir(DirName(to)));
  report.dir = to;
  report.usable = true;
  return report;
}

Result<DrillReport> DrillBackup(Archive& archive, const Actor& actor, backup::BackupTarget& target,
                                const std::string& scratch_root, VerifySink& sink,
                                const backup::ProgressFn& progress) {
  Env& env = archive.env();
  HK_ASSIGN_OR_RETURN(BackupKeyInfo key, OpenBackupKey(archive, false));
  HK_ASSIGN_OR_RETURN(
      std::optional<backup::ParsedManifest> latest,
      backup::LatestSnapshot(target, archive.records().store_id(), key.key, nullptr));
  if (!latest) {
    return NotFoundError("no snapshot of this store on " + target.Describe() +
                         " verifies; run `hokan backup run` first");
  }
  DrillReport d;
  d.snapshot_id = latest->manifest.snapshot_id;
  HK_ASSIGN_OR_RETURN(const std::string suffix, RandomHexId(4));
  const std::string scratch = JoinPath(scratch_root, "hokan-drill-" + suffix);
  const auto start = std::chrono::steady_clock::now();
  Result<RestoreReport> r =
      RestoreBackup(env, actor, target, d.snapshot_id, key.key, scratch, sink, progress);
  d.recovery_time_seconds = SecondsSince(start);
  if (Result<TimePoint> at = ParseRfc3339(latest->manifest.created_at); at) {
    d.recovery_point_seconds = std::chrono::duration<double>(env.clock.Now() - *at).count();
  }
  // The scratch copy holds the whole store: never leave it behind.
  for (const std::string& dir : {scratch, r ? r->dir : std::string()}) {
    if (!dir.empty() && env.fs.Stat(dir)) (void)RemoveTree(env.fs, dir);
  }
  const bool passed = r && r->usable;
  nlohmann::json evidence = {
      {"drill", FormatRfc3339(env.clock.Now())},
      {"store_id", archive.records().store_id()},
      {"target", target.Describe()},
      {"snapshot_id", d.snapshot_id},
      {"snapshot_created_at", latest->manifest.created_at},
      {"passed", passed},
      {"problem", r ? r->problem : r.error().message()},
      {"recovery_time_seconds", d.recovery_time_seconds},
      {"recovery_point_seconds", d.recovery_point_seconds},
      {"versions_verified", r ? r->verify.versions : 0},
      {"audit_entries_verified", r ? r->verify.audit.entries : 0},
      {"restored_bytes", r ? r->restore.bytes : 0},
      {"actor", actor.id},
  };
  const std::string drills = JoinPath(archive.dir(), "drills");
  if (Status st = env.fs.CreateDir(drills); st.ok()) {
    HK_RETURN_IF_ERROR(env.fs.SyncDir(archive.dir()));
  } else if (st.code() != StatusCode::kAlreadyExists) {
    return st;
  }
  std::string name = FormatRfc3339(env.clock.Now()) + "-" + suffix + ".json";
  for (char& c : name) {
    if (c == ':') c = '-';
  }
  d.evidence_path = JoinPath(drills, name);
  HK_RETURN_IF_ERROR(WriteNewFileDurably(env.fs, drills, name, AsBytes(evidence.dump(2) + "\n")));
  AuditEvent e = ActorEvent(actor, "backup.drill");
  Detail(e, "snapshot", d.snapshot_id);
  Detail(e, "target", target.Describe());
  Detail(e, "recovery_time_seconds", std::to_string(d.recovery_time_seconds));
  Detail(e, "recovery_point_seconds", std::to_string(d.recovery_point_seconds));
  Detail(e, "evidence", "drills/" + name);
  if (!passed) {
    e.outcome = "error";
    e.reason = r ? r->problem : r.error().message();
  }
  HK_RETURN_IF_ERROR(archive.audit().Append(e).error());
  RecordStatus(archive, "last_drill", "", evidence);
  if (!r) return r.error().WithContext("drill of snapshot " + d.snapshot_id);
  d.restore = std::move(*r);
  return d;
}

}  // namespace hokan
