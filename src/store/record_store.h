// Patients, records and their immutable versions (ARCHITECTURE.md "Data model").
//
// Content is encrypted at rest: each version gets a fresh AES-256-GCM data key, wrapped by
// the key-encryption key (KEK). The blob and the wrapped key are bound to (store, record,
// version id) as associated data, so a blob cannot be moved to another version undetected.
// Rows carry an HMAC (key derived from the KEK) over their fields, so a changed row is named
// by verification. Nothing is overwritten or deleted: updates add versions, and marking a
// record entered-in-error adds a state.
//
// The write path (ARCHITECTURE.md): encrypt, write and fsync the blob and its directory;
// then, in one group-committed transaction, insert the rows and the audit entry (the
// caller's hook); only then return.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"
#include "store/blob_store.h"
#include "store/metadata_db.h"
#include "store/verify_report.h"

namespace hokan {

struct StoreOptions {
  // Larger contents are rejected with kInvalidArgument before anything is written.
  std::uint64_t max_content_bytes = 64ull * 1024 * 1024;
};

struct VersionInfo {
  std::string record_id;
  std::int64_t version = 0;
  std::string version_id;
  std::string patient_id;
  std::string record_type;
  std::string sha256;  // Hex, of the plaintext.
  std::uint64_t size = 0;
  std::string media_type;
  std::string author;
  std::string entered_at;  // RFC 3339.
  std::string source;
  std::uint64_t audit_seq = 0;
  // Internal: where the encrypted content is and its wrapped data key.
  std::string blob_id;
  Bytes wrapped_key;
};

struct RecordState {
  std::int64_t state_no = 0;
  std::string status;  // "entered-in-error"
  std::string reason;
  std::string actor;
  std::string at;
  std::uint64_t audit_seq = 0;
};

struct RecordHistory {
  std::string record_id;
  std::string patient_id;
  std::string record_type;
  std::string created_at;
  std::string status;                 // "active" or the latest state's status.
  std::vector<VersionInfo> versions;  // Ascending.
  std::vector<RecordState> states;    // Ascending.
};

struct PutRequest {
  std::string patient_id;
  std::string record_type;
  std::string record_id;  // Empty: a new record.
  std::string media_type = "application/octet-stream";
  std::string author;
  std::string source;
  ByteView content;
};

// Runs inside the write transaction, after the rows are written; returns the audit entry's
// sequence number. Its failure fails the write: no row commits without its audit entry.
using VersionAuditHook = std::function<Result<std::uint64_t>(Database&, const VersionInfo&)>;
using StateAuditHook =
    std::function<Result<std::uint64_t>(Database&, const RecordHistory&, const RecordState&)>;

// Identifier rules (kInvalidArgument with the rule when broken).
Status ValidatePatientId(std::string_view id);   // [A-Za-z0-9._-]{1,64}
Status ValidateRecordType(std::string_view t);   // [a-z0-9._-]{1,64}
Status ValidateRecordId(std::string_view id);    // 24 lower-case hex
Status ValidateMediaType(std::string_view m);    // type/subtype, printable, <= 127
Status ValidateReason(std::string_view reason);  // 1..1000 bytes of UTF-8 without controls

class RecordStore {
 public:
  // `env`, `db` and `blobs` must outlive the store.
  RecordStore(Env& env, MetadataDb& db, BlobStore& blobs, SecretBytes kek, std::string store_id,
              StoreOptions options);
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  static Status CreateSchema(Database& db);

  Result<VersionInfo> Put(const PutRequest& request, const VersionAuditHook& audit);

  // `version` 0 means the latest. kNotFound when the record or version does not exist.
  Result<VersionInfo> GetVersionInfo(const std::string& record_id, std::int64_t version);
  // Decrypts and checks the SHA-256: kDataLoss when the blob is missing, does not decrypt
  // or does not match.
  Result<Bytes> ReadContent(const VersionInfo& info);
  Result<RecordHistory> History(const std::string& record_id);
  // Every record of a patient, oldest first, each with its versions and states.
  Result<std::vector<RecordHistory>> RecordsOfPatient(const std::string& patient_id);

  // Adds the state "entered-in-error". kFailedPrecondition if it already is.
  Result<RecordState> MarkEnteredInError(const std::string& record_id, const std::string& reason,
                                         const std::string& actor, const StateAuditHook& audit);

  // Every version's blob exists, decrypts and matches its hash; every row's MAC holds;
  // versions are dense; every blob is referenced (orphans are warnings). Streams problems.
  Status Verify(VerifySink& sink);

  // Removes orphan blobs older than `min_age` (left by interrupted writes). Returns their ids.
  Result<std::vector<std::string>> SweepOrphans(std::chrono::seconds min_age);

  const std::string& store_id() const { return store_id_; }

 private:
  Bytes BlobAad(const std::string& record_id, const std::string& version_id) const;
  Bytes KeyAad(const std::string& record_id, const std::string& version_id) const;
  Sha256Digest VersionMac(const VersionInfo& v) const;
  Sha256Digest RecordMac(const std::string& record_id, const std::string& patient_id,
                         const std::string& type, const std::string& created_at) const;
  Sha256Digest StateMac(const std::string& record_id, const RecordState& s) const;
  Result<RecordHistory> HistoryIn(Database& db, const std::string& record_id) const;
  Status VerifyShard(const std::string& shard, VerifySink& sink, std::uint64_t& checked,
                     std::uint64_t total);

  Env& env_;
  MetadataDb& db_;
  BlobStore& blobs_;
  const SecretBytes kek_;
  const std::string store_id_;
  const StoreOptions options_;
  HmacSha256 row_mac_;
};

}  // namespace hokan
