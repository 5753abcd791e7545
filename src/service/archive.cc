#include "service/archive.h"

#include "base/encoding.h"
#include "base/time.h"
#include "crypto/x509.h"
#include "store/atomic_write.h"
#include "store/key_file.h"

namespace hokan {
namespace {

constexpr std::string_view kConfigName = "hokan.toml";
constexpr std::string_view kDbName = "metadata.db";
constexpr int kSchemaVersion = 1;

std::string Resolve(const std::string& dir, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : JoinPath(dir, path);
}

// Counts what the sink is told while passing it on.
class CountingSink final : public VerifySink {
 public:
  explicit CountingSink(VerifySink& next) : next_(next) {}
  void Report(const Problem& p) override {
    (p.damage ? damage : warnings)++;
    next_.Report(p);
  }
  void Progress(std::string_view phase, std::uint64_t done, std::uint64_t total) override {
    next_.Progress(phase, done, total);
  }
  std::uint64_t damage = 0;
  std::uint64_t warnings = 0;

 private:
  VerifySink& next_;
};

SecretBytes AuditMacKey(const SecretBytes& kek) {
  return HkdfSha256(kek.view(), "hokan", "audit entry mac v1", 32);
}

Result<std::string> ReadMeta(Database& db, const std::string& key) {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT value FROM meta WHERE key = ?1"));
  s->Bind(1, key);
  HK_ASSIGN_OR_RETURN(const bool row, s->Step());
  if (!row) return DataLossError("metadata database lacks '" + key + "'");
  std::string v = s->ColumnText(0);
  HK_RETURN_IF_ERROR(s->Run());
  return v;
}

// The API's facts about the actor go into every entry it causes.
void Stamp(const Actor& actor, AuditEvent& e) {
  e.actor = actor.id;
  e.source = actor.source;
  e.role = actor.role;
  e.session = actor.session;
  e.rule = actor.rule;
  e.request_id = actor.request_id;
  e.break_glass = actor.break_glass;
  e.maintenance = actor.maintenance;
  e.review = actor.review;
}

}  // namespace

AuditEvent ActorEvent(const Actor& actor, std::string_view action) {
  AuditEvent e;
  e.action = std::string(action);
  Stamp(actor, e);
  return e;
}

Archive::Archive(Config config) : config_(std::move(config)) {}

Archive::~Archive() = default;

Result<InitResult> Archive::Init(Env& env, const std::string& dir, const Actor& actor,
                                 const ArchiveOptions& options) {
  if (dir.empty()) return InvalidArgumentError("--dir must name a directory");
  FileSystem& fs = env.fs;
  Result<FileInfo> info = fs.Stat(dir);
  if (info) {
    if (!info->is_directory) return AlreadyExistsError(dir + " exists and is not a directory");
    if (fs.Stat(JoinPath(dir, std::string(kConfigName)))) {
      return AlreadyExistsError("a hokan store already exists in " + dir +
                                "; refusing to overwrite it");
    }
    HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
    if (!names.empty()) {
      return FailedPreconditionError(dir + " is not empty; init needs a new or empty directory");
    }
  } else if (info.error().code() == StatusCode::kNotFound) {
    Status made = fs.CreateDir(dir);
    if (!made.ok()) return made.WithContext("create data directory");
    HK_RETURN_IF_ERROR(fs.SyncDir(DirName(dir)));
  } else {
    return info.error();
  }

  Config config;
  if (options.configure) options.configure(config);
  HK_ASSIGN_OR_RETURN(config.store_id, RandomHexId(16));
  const std::string keys = JoinPath(dir, "keys");
  HK_RETURN_IF_ERROR(fs.CreateDir(keys));
  HK_RETURN_IF_ERROR(fs.CreateDir(JoinPath(dir, "blobs")));
  HK_RETURN_IF_ERROR(fs.CreateDir(JoinPath(dir, "quarantine")));
  HK_RETURN_IF_ERROR(fs.SyncDir(dir));

  HK_ASSIGN_OR_RETURN(SecretBytes kek, CreateKeyFile(fs, Resolve(dir, config.kek_file)));
  HK_ASSIGN_OR_RETURN(SigningKey signer, SigningKey::Generate());
  {
    HK_ASSIGN_OR_RETURN(std::string pem, signer.PrivatePem());
    Status st = WriteNewFileDurably(fs, keys, "audit-signing.pem", AsBytes(pem));
    SecureZero({reinterpret_cast<std::uint8_t*>(pem.data()), pem.size()});
    HK_RETURN_IF_ERROR(st);
  }
  HK_RETURN_IF_ERROR(
      WriteNewFileDurably(fs, keys, "audit-signing.pub.pem", AsBytes(signer.PublicPem())));
  // A self-signed TLS pair for first use of `hokan serve`; replace it with the CA's.
  {
    HK_ASSIGN_OR_RETURN(CertificateAndKey tls,
                        MakeCertificate({.common_name = "localhost",
                                         .dns_names = {"localhost"},
                                         .ip_addresses = {"127.0.0.1", "::1"}}));
    HK_RETURN_IF_ERROR(WriteNewFileDurably(fs, keys, "tls.crt", AsBytes(tls.cert_pem)));
    Status st = WriteNewFileDurably(fs, keys, "tls.key", AsBytes(tls.key_pem));
    SecureZero({reinterpret_cast<std::uint8_t*>(tls.key_pem.data()), tls.key_pem.size()});
    HK_RETURN_IF_ERROR(st);
  }

  InitResult result;
  result.store_id = config.store_id;
  result.kek_id = KeyId(kek.view());
  result.audit_public_key_pem = signer.PublicPem();
  {
    DatabaseOptions db_options{.vfs = options.sqlite_vfs, .sync = options.sync, .create = true};
    HK_ASSIGN_OR_RETURN(std::unique_ptr<MetadataDb> db,
                        MetadataDb::Open(JoinPath(dir, std::string(kDbName)), db_options));
    HK_RETURN_IF_ERROR(db->WithWriteConnection([&](Database& conn) -> Status {
      HK_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
      Status st = RecordStore::CreateSchema(conn);
      if (st.ok()) st = AuditLog::CreateSchema(conn);
      if (st.ok()) {
        auto put = [&](const std::string& k, const std::string& v) -> Status {
          HK_ASSIGN_OR_RETURN(Statement * s,
                              conn.Prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)"));
          return s->Bind(1, k).Bind(2, v).Run();
        };
        st = put("schema_version", std::to_string(kSchemaVersion));
        if (st.ok()) st = put("store_id", config.store_id);
        if (st.ok()) st = put("kek_id", result.kek_id);
        if (st.ok()) st = put("created_at", FormatRfc3339(env.clock.Now()));
      }
      if (st.ok()) return conn.Exec("COMMIT");
      (void)conn.Exec("ROLLBACK");
      return st;
    }));
  }
  // The configuration last: its presence marks a complete store.
  HK_RETURN_IF_ERROR(
      WriteFileAtomically(fs, dir, std::string(kConfigName), AsBytes(RenderConfig(config))));

  HK_ASSIGN_OR_RETURN(std::unique_ptr<Archive> archive, Open(env, dir, options));
  AuditEvent e{.actor = actor.id, .action = "store.init", .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"store_id", config.store_id}, {"kek_id", result.kek_id}};
  HK_RETURN_IF_ERROR(archive->audit().Append(e).error());
  HK_RETURN_IF_ERROR(archive->WriteCheckpoint(actor).error());
  return result;
}

Result<std::unique_ptr<Archive>> Archive::Open(Env& env, const std::string& dir,
                                               const ArchiveOptions& options) {
  if (dir.empty()) return InvalidArgumentError("--dir must name a directory");
  const std::string config_path = JoinPath(dir, std::string(kConfigName));
  Result<Bytes> text = env.fs.ReadFile(config_path);
  if (!text) {
    if (text.error().code() == StatusCode::kNotFound) {
      return NotFoundError(dir +
                           " is not a hokan data directory (no hokan.toml); run `hokan "
                           "init --dir " +
                           dir + "` first");
    }
    return text.error();
  }
  HK_ASSIGN_OR_RETURN(Config config, ParseConfig(AsChars(*text), config_path));

  const std::string kek_path = Resolve(dir, config.kek_file);
  HK_ASSIGN_OR_RETURN(SecretBytes kek, ReadKeyFile(env.fs, kek_path));
  const std::string audit_key_path = Resolve(dir, config.audit_key_file);
  Result<Bytes> pem = env.fs.ReadFile(audit_key_path);
  if (!pem) {
    if (pem.error().code() == StatusCode::kNotFound) {
      return NotFoundError("audit signing key " + audit_key_path + " is missing");
    }
    return pem.error();
  }
  HK_RETURN_IF_ERROR(CheckPrivateFile(env.fs, audit_key_path));
  Result<SigningKey> signer = SigningKey::FromPrivatePem(AsChars(*pem));
  SecureZero(*pem);
  if (!signer) return InvalidArgumentError("audit signing key " + audit_key_path + " is malformed");

  const std::string db_path = JoinPath(dir, std::string(kDbName));
  if (!env.fs.Stat(db_path)) return NotFoundError("metadata database " + db_path + " is missing");
  DatabaseOptions db_options{.vfs = options.sqlite_vfs, .sync = options.sync};
  std::unique_ptr<Archive> a(new Archive(config));
  HK_ASSIGN_OR_RETURN(a->db_, MetadataDb::Open(db_path, db_options));

  // The database must be this store's, and the key file must be its key.
  std::string store_id, kek_id, schema;
  Status st = a->db_->Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(schema, ReadMeta(db, "schema_version"));
    HK_ASSIGN_OR_RETURN(store_id, ReadMeta(db, "store_id"));
    HK_ASSIGN_OR_RETURN(kek_id, ReadMeta(db, "kek_id"));
    return OkStatus();
  });
  if (!st.ok()) {
    if (st.code() == StatusCode::kDataLoss || st.code() == StatusCode::kInternal ||
        st.code() == StatusCode::kFailedPrecondition) {
      return DataLossError("metadata database " + db_path + " is corrupt or not hokan's (" +
                           st.message() + ")");
    }
    return st;
  }
  if (schema != std::to_string(kSchemaVersion)) {
    return FailedPreconditionError("metadata database has schema version " + schema +
                                   "; this hokan reads version " + std::to_string(kSchemaVersion));
  }
  if (store_id != config.store_id) {
    return FailedPreconditionError("metadata database belongs to store " + store_id +
                                   " but hokan.toml names store " + config.store_id);
  }
  if (KeyId(kek.view()) != kek_id) {
    return FailedPreconditionError("key file " + kek_path + " is not this store's key (it is " +
                                   KeyId(kek.view()) + ", the store needs " + kek_id + ")");
  }

  a->blobs_ = std::make_unique<FileBlobStore>(env.fs, JoinPath(dir, "blobs"), options.sync);
  const SecretBytes mac_key = AuditMacKey(kek);
  a->dir_ = dir;
  a->key_root_ = HkdfSha256(kek.view(), "hokan", "service keys v1", 32);
  a->audit_ = std::make_unique<AuditLog>(env, *a->db_, mac_key.view(), std::move(*signer),
                                         "hokan/" + config.store_id);
  a->records_ =
      std::make_unique<RecordStore>(env, *a->db_, *a->blobs_, std::move(kek), config.store_id,
                                    StoreOptions{.max_content_bytes = config.max_content_bytes});

  // Content disarm on every way in (issue 5), and the quarantine for originals.
  a->env_ = &env;
  HK_ASSIGN_OR_RETURN(a->sanitizer_, Sanitizer::Open(env, config.sanitize));
  const std::string quarantine_dir = JoinPath(dir, "quarantine");
  if (!env.fs.Stat(quarantine_dir)) HK_RETURN_IF_ERROR(env.fs.CreateDir(quarantine_dir));
  a->quarantine_blobs_ = std::make_unique<FileBlobStore>(env.fs, quarantine_dir, options.sync);
  const SecretBytes quarantine_mac = a->DeriveKey("quarantine row mac v1");
  a->quarantine_ = std::make_unique<QuarantineStore>(
      *a->quarantine_blobs_, a->DeriveKey("quarantine seal v1"), quarantine_mac.view());
  HK_RETURN_IF_ERROR(a->db_->WithWriteConnection([](Database& db) -> Status {
    HK_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status made = QuarantineStore::CreateSchema(db);
    if (made.ok()) return db.Exec("COMMIT");
    (void)db.Exec("ROLLBACK");
    return made;
  }));
  return a;
}

SecretBytes Archive::DeriveKey(std::string_view purpose) const {
  return HkdfSha256(key_root_.view(), "hokan", purpose, 32);
}

namespace {
constexpr std::string_view kRefusedPrefix = "the file was refused by the sanitiser";
constexpr std::string_view kHeldPrefix = "the file is held for a second person's approval";
}  // namespace

bool IsSanitizerRefusal(const Status& status) {
  return (status.code() == StatusCode::kInvalidArgument &&
          status.message().starts_with(kRefusedPrefix)) ||
         (status.code() == StatusCode::kFailedPrecondition &&
          status.message().starts_with(kHeldPrefix));
}

Status Archive::RefuseIfReadOnly(const Actor& actor, std::string_view action,
                                 const std::string& patient, const std::string& record) {
  if (!config_.server.read_only) return OkStatus();
  AuditEvent e = ActorEvent(actor, action);
  e.patient = patient;
  e.record = record;
  e.outcome = "denied";
  e.rule = std::string(kReadOnlyRule);
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return FailedPreconditionError(std::string(kReadOnlyStoreRefusal));
}

Result<PutResult> Archive::PutRecord(const Actor& actor, const PutRequest& request,
                                     const IngestOptions& ingest) {
  HK_RETURN_IF_ERROR(RefuseIfReadOnly(actor,
                                      request.record_id.empty() ? "record.create" : "record.update",
                                      request.patient_id, request.record_id));
  PutRequest req = request;
  req.author = actor.id;
  req.source = actor.source;
  // Malformed identifiers are refused before anything is looked at or kept.
  if (request.record_id.empty()) {
    HK_RETURN_IF_ERROR(ValidatePatientId(request.patient_id));
    HK_RETURN_IF_ERROR(ValidateRecordType(request.record_type));
  } else {
    HK_RETURN_IF_ERROR(ValidateRecordId(request.record_id));
  }
  HK_RETURN_IF_ERROR(ValidateMediaType(request.media_type));

  // 1. Sanitise (ARCHITECTURE.md, write path step 1), unless two people released this
  //    original from quarantine.
  SanitizeOutcome outcome;
  if (ingest.released_from.empty()) {
    HK_ASSIGN_OR_RETURN(outcome,
                        sanitizer_->Check(request.content, ingest.channel, ingest.declared_name));
  } else {
    outcome.report.verdict = SanitizeVerdict::kClean;
  }
  const SanitizeReport& report = outcome.report;
  const bool disarmed = report.verdict == SanitizeVerdict::kDisarmed;
  const bool refused =
      report.verdict == SanitizeVerdict::kBlocked || report.verdict == SanitizeVerdict::kHeld;

  // 2. Originals that were changed or refused go to quarantine, sealed, before any row.
  QuarantineItem item;
  if (disarmed || refused) {
    HK_ASSIGN_OR_RETURN(item.id, quarantine_->PutOriginal(request.content));
    item.created_at = FormatRfc3339(env_->clock.Now());
    item.sender = actor.id;
    item.channel = ingest.channel;
    item.patient_id = request.patient_id;
    item.record_id = request.record_id;
    item.record_type = request.record_type;
    item.declared_name = ingest.declared_name;
    item.media_type = request.media_type;
    item.detected_type = report.detected.name;
    item.verdict = std::string(SanitizeVerdictName(report.verdict));
    item.reason = report.reason;
    item.report_json = SanitizeReportJson(report);
    item.sha256 = report.sha256_before;
    item.size = report.size_before;
    item.executable = report.detected.executable;
  }
  auto sanitize_detail = [&](AuditEvent& e) {
    if (!ingest.released_from.empty()) {
      e.detail.emplace_back("released_from", ingest.released_from);
      return;
    }
    e.detail.emplace_back("sanitize", std::string(SanitizeVerdictName(report.verdict)));
    if (!item.id.empty()) {
      e.detail.emplace_back("quarantine", item.id);
      e.detail.emplace_back("original_sha256", report.sha256_before);
    }
  };

  if (refused) {
    AuditEvent e{.actor = actor.id,
                 .action = "record.sanitize",
                 .patient = request.patient_id,
                 .record = request.record_id,
                 .outcome = "denied",
                 .reason = report.reason,
                 .source = actor.source};
    Stamp(actor, e);
    e.rule = "sanitize:" + item.verdict;
    e.detail = {{"type", request.record_type}, {"detected_type", report.detected.name}};
    sanitize_detail(e);
    HK_RETURN_IF_ERROR(db_->committer().Run([&](Database& db) -> Status {
      HK_RETURN_IF_ERROR(quarantine_->InsertIn(db, item));
      return audit_->AppendIn(db, e).error();
    }));
    if (report.verdict == SanitizeVerdict::kHeld) {
      return FailedPreconditionError(std::string(kHeldPrefix) + " (quarantine " + item.id +
                                     "): " + report.reason);
    }
    return InvalidArgumentError("the file was refused by the sanitiser (quarantine " + item.id +
                                "): " + report.reason);
  }

  if (disarmed) {
    req.content = outcome.output;
    if (report.output_type != report.detected.name) {
      req.media_type = TypeByName(report.output_type).media_type;
    }
  }
  HK_ASSIGN_OR_RETURN(
      VersionInfo v,
      records_->Put(req, [&](Database& db, const VersionInfo& nv) -> Result<std::uint64_t> {
        AuditEvent e{.actor = actor.id,
                     .action = nv.version == 1 ? "record.create" : "record.update",
                     .patient = nv.patient_id,
                     .record = nv.record_id,
                     .version = nv.version,
                     .source = actor.source};
        Stamp(actor, e);
        e.detail = {{"type", nv.record_type},
                    {"sha256", nv.sha256},
                    {"size", std::to_string(nv.size)},
                    {"media_type", nv.media_type}};
        sanitize_detail(e);
        if (disarmed) {
          item.record_id = nv.record_id;
          item.version = nv.version;
          if (Status st = quarantine_->InsertIn(db, item); !st.ok()) return st;
        }
        return audit_->AppendIn(db, e);
      }));
  PutResult result{std::move(v)};
  result.sanitize_verdict = report.verdict;
  result.quarantine_id = item.id;
  if (ingest.released_from.empty()) result.sanitize_report_json = SanitizeReportJson(report);
  return result;
}

Result<ReadResult> Archive::ReadRecord(const Actor& actor, const std::string& record_id,
                                       std::int64_t version) {
  AuditEvent e{.actor = actor.id,
               .action = "record.read",
               .record = record_id,
               .version = version,
               .source = actor.source};
  Stamp(actor, e);
  Result<VersionInfo> info = records_->GetVersionInfo(record_id, version);
  Result<Bytes> content = info ? records_->ReadContent(*info) : Result<Bytes>(info.error());
  if (!content) {
    const Status err = content.error();
    // Attempts on records that do not exist, and damaged content, are recorded too; malformed
    // requests change nothing.
    if (err.code() == StatusCode::kNotFound || err.code() == StatusCode::kDataLoss) {
      e.outcome = err.code() == StatusCode::kNotFound ? "not_found" : "error";
      if (info) {
        e.patient = info->patient_id;
        e.version = info->version;
      }
      (void)audit_->Append(e);
    }
    return err;
  }
  e.patient = info->patient_id;
  e.version = info->version;
  e.detail = {{"sha256", info->sha256}};
  // The read's entry is durable before any content leaves; if it cannot be, nothing leaves.
  HK_ASSIGN_OR_RETURN(const std::uint64_t seq, audit_->Append(e));
  return ReadResult{std::move(*info), std::move(*content), seq};
}

Result<RecordHistory> Archive::History(const Actor& actor, const std::string& record_id) {
  HK_ASSIGN_OR_RETURN(RecordHistory h, records_->History(record_id));
  AuditEvent e{.actor = actor.id,
               .action = "record.history",
               .patient = h.patient_id,
               .record = record_id,
               .source = actor.source};
  Stamp(actor, e);
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return h;
}

Result<RecordState> Archive::MarkEnteredInError(const Actor& actor, const std::string& record_id,
                                                const std::string& reason) {
  HK_RETURN_IF_ERROR(RefuseIfReadOnly(actor, "record.mark_error", "", record_id));
  return records_->MarkEnteredInError(
      record_id, reason, actor.id, [&](Database& db, const RecordHistory& h, const RecordState& s) {
        AuditEvent e{.actor = actor.id,
                     .action = "record.mark_entered_in_error",
                     .patient = h.patient_id,
                     .record = record_id,
                     .reason = s.reason,
                     .source = actor.source};
        Stamp(actor, e);
        return audit_->AppendIn(db, e);
      });
}

Status Archive::CrossCheck(VerifySink& sink) {
  return db_->Read([&](Database& db) -> Status {
    // Every version row has the audit entry that created it, saying the same thing.
    {
      HK_ASSIGN_OR_RETURN(Statement * s,
                          db.Prepare("SELECT v.record_id, v.version, v.sha256, v.audit_seq, "
                                     "a.entry FROM versions v LEFT JOIN audit_entries a "
                                     "ON a.seq = v.audit_seq ORDER BY v.audit_seq"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        const std::string name =
            "version " + s->ColumnText(0) + "/" + std::to_string(s->ColumnInt(1));
        if (s->ColumnIsNull(4)) {
          sink.Report({name, "its audit entry " + std::to_string(s->ColumnInt(3)) + " is missing"});
          continue;
        }
        Result<DecodedAuditEntry> d = DecodeAuditEntry(s->ColumnTextView(4));
        bool match = false;
        if (d) {
          const AuditEvent& e = d->event;
          std::string sha;
          for (const auto& [k, v] : e.detail) {
            if (k == "sha256") sha = v;
          }
          match = (e.action == "record.create" || e.action == "record.update") &&
                  e.record == s->ColumnText(0) && e.version == s->ColumnInt(1) &&
                  sha == s->ColumnText(2);
        }
        if (!match) {
          sink.Report({name, "does not match its audit entry " + std::to_string(s->ColumnInt(3)) +
                                 " (the version row or the entry was altered)"});
        }
      }
    }
    // Every successful create/update entry has its version row.
    {
      HK_ASSIGN_OR_RETURN(
          Statement * s,
          db.Prepare("SELECT a.seq, a.entry FROM audit_entries a "
                     "WHERE (a.entry LIKE '%\"action\":\"record.create\"%' OR "
                     "       a.entry LIKE '%\"action\":\"record.update\"%') "
                     "AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.audit_seq = a.seq)"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        Result<DecodedAuditEntry> d = DecodeAuditEntry(s->ColumnTextView(1));
        if (d && d->event.outcome != "success") continue;
        const std::string what =
            d ? "version " + d->event.record + "/" + std::to_string(d->event.version) : "a version";
        sink.Report({what, "is missing: audit entry " + std::to_string(s->ColumnInt(0)) +
                               " records its creation but the version row is gone"});
      }
    }
    return OkStatus();
  });
}

Result<VerifySummary> Archive::Verify(const Actor& actor, VerifySink& sink) {
  CountingSink counting(sink);
  VerifySummary summary;
  HK_RETURN_IF_ERROR(records_->Verify(counting));
  HK_RETURN_IF_ERROR(CrossCheck(counting));
  HK_RETURN_IF_ERROR(audit_->Verify(counting, summary.audit));
  HK_RETURN_IF_ERROR(db_->Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT COUNT(*) FROM versions"));
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (row) summary.versions = static_cast<std::uint64_t>(s->ColumnInt(0));
    return s->Run();
  }));
  summary.damage = counting.damage;
  summary.warnings = counting.warnings;
  AuditEvent e{.actor = actor.id,
               .action = "store.verify",
               .outcome = summary.ok() ? "success" : "error",
               .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"versions", std::to_string(summary.versions)},
              {"damaged", std::to_string(summary.damage)},
              {"warnings", std::to_string(summary.warnings)}};
  (void)audit_->Append(e);  // A damaged store may refuse the entry; the report still stands.
  return summary;
}

Result<VerifySummary> Archive::VerifyAudit(const Actor& actor, VerifySink& sink) {
  CountingSink counting(sink);
  VerifySummary summary;
  HK_RETURN_IF_ERROR(audit_->Verify(counting, summary.audit));
  summary.damage = counting.damage;
  summary.warnings = counting.warnings;
  AuditEvent e{.actor = actor.id,
               .action = "audit.verify",
               .outcome = summary.ok() ? "success" : "error",
               .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"entries", std::to_string(summary.audit.entries)},
              {"damaged", std::to_string(summary.damage)}};
  (void)audit_->Append(e);
  return summary;
}

Result<InclusionProofResult> Archive::ProveInclusion(const Actor& actor, std::uint64_t index) {
  HK_ASSIGN_OR_RETURN(InclusionProofResult r, audit_->ProveInclusion(index));
  AuditEvent e{.actor = actor.id, .action = "audit.proof", .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"inclusion", std::to_string(index)}, {"tree_size", std::to_string(r.tree_size)}};
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return r;
}

Result<ConsistencyProofResult> Archive::ProveConsistency(const Actor& actor, std::uint64_t a,
                                                         std::uint64_t b) {
  HK_ASSIGN_OR_RETURN(ConsistencyProofResult r, audit_->ProveConsistency(a, b));
  AuditEvent e{.actor = actor.id, .action = "audit.proof", .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"consistency", std::to_string(a) + ".." + std::to_string(b)}};
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return r;
}

Result<Checkpoint> Archive::WriteCheckpoint(const Actor& actor) {
  // Over the API a checkpoint is a request like any other: its entry comes first, so the
  // checkpoint covers it. Internal checkpoints (init, end of a command) add no entry.
  if (!actor.request_id.empty()) {
    AuditEvent e{.actor = actor.id, .action = "audit.checkpoint", .source = actor.source};
    Stamp(actor, e);
    HK_RETURN_IF_ERROR(audit_->Append(e).error());
  }
  return audit_->WriteCheckpoint();
}

Status Archive::ReadAudit(const Actor& actor, std::string_view purpose, std::uint64_t from,
                          std::uint64_t limit,
                          const std::function<Status(std::uint64_t, std::string_view)>& fn) {
  AuditEvent e{.actor = actor.id, .action = "audit.read", .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"purpose", std::string(purpose)}, {"from", std::to_string(from)}};
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return audit_->ForEach(from, limit, fn);
}

Result<std::uint64_t> Archive::AuditSize() { return audit_->Size(); }

Result<std::vector<std::string>> Archive::Sweep(const Actor& actor, std::chrono::seconds min_age) {
  HK_ASSIGN_OR_RETURN(std::vector<std::string> removed, records_->SweepOrphans(min_age));
  AuditEvent e{.actor = actor.id, .action = "store.sweep", .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"removed_orphans", std::to_string(removed.size())}};
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return removed;
}

Status Archive::CheckpointIfDue() {
  HK_ASSIGN_OR_RETURN(const std::uint64_t size, audit_->Size());
  HK_ASSIGN_OR_RETURN(const std::uint64_t covered, audit_->CheckpointedSize());
  if (size > covered && size - covered >= config_.checkpoint_every_entries) {
    HK_RETURN_IF_ERROR(audit_->WriteCheckpoint().error());
  }
  return OkStatus();
}

Result<std::vector<QuarantineItem>> Archive::ListQuarantine(std::size_t limit) {
  std::vector<QuarantineItem> items;
  HK_RETURN_IF_ERROR(db_->Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(items, quarantine_->ListIn(db, limit));
    return OkStatus();
  }));
  return items;
}

Result<QuarantineItem> Archive::GetQuarantined(const std::string& id,
                                               std::vector<QuarantineDecision>* decisions) {
  if (!IsBlobId(id)) return InvalidArgumentError("a quarantine id is 32 lower-case hex characters");
  QuarantineItem item;
  HK_RETURN_IF_ERROR(db_->Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(item, quarantine_->GetIn(db, id));
    if (decisions != nullptr) {
      HK_ASSIGN_OR_RETURN(*decisions, quarantine_->DecisionsIn(db, id));
    }
    return OkStatus();
  }));
  return item;
}

Result<Bytes> Archive::ReadQuarantined(const Actor& actor, const std::string& id) {
  HK_ASSIGN_OR_RETURN(QuarantineItem item, GetQuarantined(id));
  HK_ASSIGN_OR_RETURN(Bytes original, quarantine_->ReadOriginal(item));
  // The read is on record before the bytes leave (as for versions).
  AuditEvent e{.actor = actor.id,
               .action = "quarantine.read_content",
               .patient = item.patient_id,
               .record = item.record_id,
               .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"quarantine", item.id}, {"sha256", item.sha256}};
  HK_RETURN_IF_ERROR(audit_->Append(e).error());
  return original;
}

namespace {

// The rule for every step of a release: the file is still in quarantine and no program.
Status CheckReleasable(const QuarantineItem& item, QuarantineState state) {
  if (item.executable) {
    return FailedPreconditionError("quarantined file " + item.id +
                                   " is a program or script; programs are never released");
  }
  if (item.patient_id.empty()) {
    return FailedPreconditionError("quarantined file " + item.id +
                                   " belongs to no patient's record (it came in by " +
                                   item.channel + "); download it instead");
  }
  if (state == QuarantineState::kReleased || state == QuarantineState::kRejected) {
    return FailedPreconditionError("quarantined file " + item.id + " was already " +
                                   std::string(QuarantineStateName(state)));
  }
  return OkStatus();
}

}  // namespace

Status Archive::DecideQuarantined(
    const Actor& actor, const std::string& id, std::string_view action, std::string_view kind,
    const std::string& reason,
    const std::function<Status(const QuarantineItem&, QuarantineState)>& allowed) {
  HK_RETURN_IF_ERROR(ValidateReason(reason));
  AuditEvent e{
      .actor = actor.id, .action = std::string(action), .reason = reason, .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"quarantine", id}};
  Status st = db_->committer().Run([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(QuarantineItem item, quarantine_->GetIn(db, id));
    HK_ASSIGN_OR_RETURN(std::vector<QuarantineDecision> decisions,
                        quarantine_->DecisionsIn(db, id));
    e.patient = item.patient_id;
    e.record = item.record_id;
    HK_RETURN_IF_ERROR(allowed(item, QuarantineStore::StateOf(decisions)));
    QuarantineDecision d{.item_id = id,
                         .kind = std::string(kind),
                         .actor = actor.id,
                         .at = FormatRfc3339(env_->clock.Now()),
                         .reason = reason};
    HK_RETURN_IF_ERROR(quarantine_->AddDecisionIn(db, d));
    return audit_->AppendIn(db, e).error();
  });
  if (!st.ok()) {  // Refusals are on record too.
    e.outcome = st.code() == StatusCode::kNotFound ? "not_found" : "denied";
    (void)audit_->Append(e);
  }
  return st;
}

Status Archive::RequestRelease(const Actor& actor, const std::string& id,
                               const std::string& reason) {
  return DecideQuarantined(
      actor, id, "quarantine.request_release", "release-requested", reason,
      [&](const QuarantineItem& item, QuarantineState state) -> Status {
        HK_RETURN_IF_ERROR(CheckReleasable(item, state));
        if (state == QuarantineState::kReleaseRequested) {
          return FailedPreconditionError("a release of quarantined file " + id +
                                         " is already requested; another person approves it");
        }
        return OkStatus();
      });
}

Status Archive::RejectRelease(const Actor& actor, const std::string& id,
                              const std::string& reason) {
  return DecideQuarantined(
      actor, id, "quarantine.reject", "rejected", reason,
      [&](const QuarantineItem&, QuarantineState state) -> Status {
        if (state == QuarantineState::kReleased || state == QuarantineState::kRejected) {
          return FailedPreconditionError("quarantined file " + id + " was already " +
                                         std::string(QuarantineStateName(state)));
        }
        return OkStatus();
      });
}

Result<PutResult> Archive::ApproveRelease(const Actor& actor, const std::string& id) {
  std::vector<QuarantineDecision> decisions;
  HK_ASSIGN_OR_RETURN(QuarantineItem item, GetQuarantined(id, &decisions));
  const QuarantineState state = QuarantineStore::StateOf(decisions);
  // A refused approval is on record too: who tried to release what, and the rule that stopped it.
  auto refuse = [&](Status st, std::string_view rule) -> Status {
    AuditEvent e{.actor = actor.id,
                 .action = "quarantine.release",
                 .patient = item.patient_id,
                 .record = item.record_id,
                 .outcome = "denied",
                 .source = actor.source};
    Stamp(actor, e);
    e.rule = std::string(rule);
    e.detail = {{"quarantine", id}};
    (void)audit_->Append(e);
    return st;
  };
  if (Status st = CheckReleasable(item, state); !st.ok()) {
    return refuse(st, item.executable ? "deny:program" : "deny:state");
  }
  if (state != QuarantineState::kReleaseRequested) {
    return refuse(
        FailedPreconditionError("nobody has requested the release of quarantined file " + id +
                                "; a release needs a request and another person's approval"),
        "deny:not-requested");
  }
  const QuarantineDecision& request = decisions.back();
  if (request.actor == actor.id) {
    return refuse(PermissionDeniedError("the release of quarantined file " + id +
                                        " must be approved by someone other than who requested it"),
                  "deny:same-person");
  }
  if (item.sender == actor.id) {
    return refuse(PermissionDeniedError("the sender of quarantined file " + id +
                                        " cannot approve its release"),
                  "deny:sender");
  }
  HK_ASSIGN_OR_RETURN(Bytes original, quarantine_->ReadOriginal(item));
  PutRequest put;
  put.patient_id = item.patient_id;
  put.record_type = item.record_type;
  // A disarmed original becomes the next version of the record that holds the disarmed copy.
  put.record_id = item.record_id;
  put.media_type = item.media_type;
  put.content = original;
  IngestOptions ingest;
  ingest.channel = item.channel;
  ingest.declared_name = item.declared_name;
  ingest.released_from = item.id;
  HK_ASSIGN_OR_RETURN(PutResult released, PutRecord(actor, put, ingest));
  // The approval after the version: if this failed, the version's audit entry still names the
  // quarantine item it came from, and a retry says "already released" only once recorded.
  AuditEvent e{.actor = actor.id,
               .action = "quarantine.release",
               .patient = item.patient_id,
               .record = released.version.record_id,
               .version = released.version.version,
               .reason = request.reason,
               .source = actor.source};
  Stamp(actor, e);
  e.detail = {{"quarantine", id}, {"requested_by", request.actor}, {"sender", item.sender}};
  HK_RETURN_IF_ERROR(db_->committer().Run([&](Database& db) -> Status {
    QuarantineDecision d{.item_id = id,
                         .kind = "released",
                         .actor = actor.id,
                         .at = FormatRfc3339(env_->clock.Now()),
                         .reason = request.reason,
                         .version = released.version.version};
    HK_RETURN_IF_ERROR(quarantine_->AddDecisionIn(db, d));
    return audit_->AppendIn(db, e).error();
  }));
  return released;
}

Status Archive::KeepInQuarantine(std::vector<Quarantined>& files, AuditEvent e) {
  for (Quarantined& f : files) {
    HK_ASSIGN_OR_RETURN(f.item.id, quarantine_->PutOriginal(f.original));
    if (f.item.created_at.empty()) f.item.created_at = FormatRfc3339(env_->clock.Now());
    e.detail.emplace_back("quarantine", f.item.id);
  }
  return db_->committer().Run([&](Database& db) -> Status {
    for (const Quarantined& f : files) HK_RETURN_IF_ERROR(quarantine_->InsertIn(db, f.item));
    return audit_->AppendIn(db, e).error();
  });
}

}  // namespace hokan
