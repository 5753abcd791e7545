// One opened data directory and its use cases: act, then audit, in one transaction. The CLI
// (and later HTTP and the web UI) call only this layer, so no path bypasses the audit log.
//
// Data directory (docs/formats/data-directory.md):
//   hokan.toml            configuration (its presence marks a complete store)
//   metadata.db           SQLite: patients, records, versions, audit log, checkpoints
//   blobs/xx/<id>         encrypted contents
//   quarantine/xx/<id>    encrypted originals the sanitiser changed, blocked or held
//   keys/kek.key          key-encryption key (0600)
//   keys/audit-signing.pem, keys/audit-signing.pub.pem   checkpoint signing key (0600)
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "base/env.h"
#include "base/status.h"
#include "sanitize/sanitize.h"
#include "service/config.h"
#include "service/quarantine.h"
#include "service/sanitizer.h"
#include "store/blob_store.h"
#include "store/metadata_db.h"
#include "store/record_store.h"
#include "store/verify_report.h"

namespace hokan {

// Who is acting, and from where. Local command-line use is "local:<os user>".
struct Actor {
  std::string id;
  std::string source;  // "cli", or the API client's address.
  // Set by the API layer after authentication and the policy decision; copied into every
  // audit entry the action writes (docs/formats/audit-log.md).
  std::string role;
  std::string session;
  std::string rule;
  std::string request_id;
  bool break_glass = false;
  bool maintenance = false;
  bool review = false;  // List the access for review (break-glass, vip).
};

// An audit entry of `action` by `actor`, with every fact the Actor carries.
AuditEvent ActorEvent(const Actor& actor, std::string_view action);

struct ArchiveOptions {
  // SQLite VFS for tests on a fake file system (see store/internal/sqlite_env_vfs.h).
  std::string sqlite_vfs;
  // Durable commits and blob fsyncs. Only benchmarks that measure something else turn it off.
  bool sync = true;
  // Init only: adjusts the configuration before it is written (the demo turns two-factor
  // login off for its own store).
  std::function<void(Config&)> configure;
};

struct InitResult {
  std::string store_id;
  std::string kek_id;
  std::string audit_public_key_pem;
};

// How a file came in, for the sanitiser (issue 5): every put goes through it.
struct IngestOptions {
  std::string channel = "api";  // api, cli, import, maintenance: selects [sanitize] rules.
  std::string declared_name;    // The file name the sender gave, if any (compared only).
  // Only for a quarantined original released by two people (ReleaseQuarantined): stored as
  // sent, without sanitising again.
  std::string released_from;
};

// True for the error PutRecord returns when the sanitiser blocked or held the file (its audit
// entry, record.sanitize, is already written).
bool IsSanitizerRefusal(const Status& status);

struct PutResult {
  VersionInfo version;
  SanitizeVerdict sanitize_verdict = SanitizeVerdict::kClean;
  std::string quarantine_id;  // Set when the original was kept in quarantine (disarmed).
  std::string sanitize_report_json;
};

struct ReadResult {
  VersionInfo version;
  Bytes content;
  std::uint64_t audit_seq = 0;  // The read's own audit entry.
};

struct VerifySummary {
  std::uint64_t versions = 0;
  std::uint64_t damage = 0;
  std::uint64_t warnings = 0;
  AuditVerifyStats audit;
  bool ok() const { return damage == 0; }
};

// A change refused on a read-only emergency copy (G-6.10) is audited as denied with this
// rule, by the archive ([server] read_only) and by the API service (also `serve --read-only`).
inline constexpr std::string_view kReadOnlyRule = "read_only";
// The refusal's message when the store itself is marked read-only in hokan.toml.
inline constexpr std::string_view kReadOnlyStoreRefusal =
    "this store is a read-only emergency copy ([server] read_only in hokan.toml); changes are "
    "refused";

class Archive {
 public:
  // Creates a new store in `dir` (created if missing; must be empty if present).
  // kAlreadyExists when a store is already there.
  static Result<InitResult> Init(Env& env, const std::string& dir, const Actor& actor,
                                 const ArchiveOptions& options = {});
  // kNotFound when `dir` holds no store; kPermissionDenied / kInvalidArgument for key files;
  // kFailedPrecondition when the key file belongs to another store.
  static Result<std::unique_ptr<Archive>> Open(Env& env, const std::string& dir,
                                               const ArchiveOptions& options = {});
  ~Archive();
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;

  // Sanitises the content first (IngestOptions). Clean: stored as sent. Disarmed: the
  // disarmed copy is stored and the original quarantined, in the same transaction as the
  // version. Blocked: kInvalidArgument, held: kFailedPrecondition — the original is in
  // quarantine, the message names its id and the reason, nothing else is stored.
  Result<PutResult> PutRecord(const Actor& actor, const PutRequest& request,
                              const IngestOptions& ingest = {});
  // The read's audit entry is durable before this returns the content.
  Result<ReadResult> ReadRecord(const Actor& actor, const std::string& record_id,
                                std::int64_t version);
  Result<RecordHistory> History(const Actor& actor, const std::string& record_id);
  Result<RecordState> MarkEnteredInError(const Actor& actor, const std::string& record_id,
                                         const std::string& reason);

  // Store + audit log + their agreement (every version has its audit entry and vice versa).
  Result<VerifySummary> Verify(const Actor& actor, VerifySink& sink);
  Result<VerifySummary> VerifyAudit(const Actor& actor, VerifySink& sink);

  Result<InclusionProofResult> ProveInclusion(const Actor& actor, std::uint64_t index);
  Result<ConsistencyProofResult> ProveConsistency(const Actor& actor, std::uint64_t a,
                                                  std::uint64_t b);
  Result<Checkpoint> WriteCheckpoint(const Actor& actor);
  // Reading the log is itself audited (G-6.5-C8) before anything is handed out.
  Status ReadAudit(const Actor& actor, std::string_view purpose, std::uint64_t from,
                   std::uint64_t limit,
                   const std::function<Status(std::uint64_t, std::string_view)>& fn);
  Result<std::uint64_t> AuditSize();

  Result<std::vector<std::string>> Sweep(const Actor& actor, std::chrono::seconds min_age);

  // Signs a checkpoint when enough entries are uncovered (audit.checkpoint_every_entries).
  Status CheckpointIfDue();

  // The quarantine (security officer only; ApiService checks the policy).
  Result<std::vector<QuarantineItem>> ListQuarantine(std::size_t limit);
  Result<QuarantineItem> GetQuarantined(const std::string& id,
                                        std::vector<QuarantineDecision>* decisions = nullptr);
  // The original's bytes; the read is audited (quarantine.read_content) before they are returned.
  Result<Bytes> ReadQuarantined(const Actor& actor, const std::string& id);
  // The two-person release (G-6.5-C12): `Request` records who asks and why; `Approve` by
  // another person (neither the requester nor the sender) stores the original as a new version
  // of its record, unsanitised; `Reject` ends it. Programs can never be released.
  Status RequestRelease(const Actor& actor, const std::string& id, const std::string& reason);
  Result<PutResult> ApproveRelease(const Actor& actor, const std::string& id);
  Status RejectRelease(const Actor& actor, const std::string& id, const std::string& reason);

  // Keeps originals in quarantine (sealed first, then all rows and `e` in one transaction);
  // fills each item's id. For ways in other than PutRecord (maintenance transfers).
  struct Quarantined {
    QuarantineItem item;
    ByteView original;
  };
  Status KeepInQuarantine(std::vector<Quarantined>& files, AuditEvent e);

  const Sanitizer& sanitizer() const { return *sanitizer_; }
  Env& env() { return *env_; }
  const Config& config() const { return config_; }
  const std::string& dir() const { return dir_; }
  // A key for another part of the service (identity rows, care rows), derived from the KEK
  // with HKDF under `purpose`.
  SecretBytes DeriveKey(std::string_view purpose) const;
  RecordStore& records() { return *records_; }
  AuditLog& audit() { return *audit_; }
  MetadataDb& db() { return *db_; }

 private:
  explicit Archive(Config config);
  // [server] read_only: every change is refused here too, so no path (the command line, an
  // import) writes to an emergency copy. The refusal is audited with rule "read_only".
  Status RefuseIfReadOnly(const Actor& actor, std::string_view action, const std::string& patient,
                          const std::string& record);
  Status CrossCheck(VerifySink& sink);
  // One step of a quarantined file's release procedure: `allowed` checks the item's state
  // inside the transaction; the decision and its audit entry commit together, a refusal is
  // audited alone.
  Status DecideQuarantined(
      const Actor& actor, const std::string& id, std::string_view action, std::string_view kind,
      const std::string& reason,
      const std::function<Status(const QuarantineItem&, QuarantineState)>& allowed);

  const Config config_;
  std::string dir_;
  SecretBytes key_root_;
  std::unique_ptr<MetadataDb> db_;
  std::unique_ptr<FileBlobStore> blobs_;
  std::unique_ptr<RecordStore> records_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Sanitizer> sanitizer_;
  std::unique_ptr<FileBlobStore> quarantine_blobs_;
  std::unique_ptr<QuarantineStore> quarantine_;
  Env* env_ = nullptr;
};

}  // namespace hokan
