#include "service/confirmation_store.h"

#include <functional>

#include "service/internal/row_mac.h"

namespace hokan {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS confirmations (
  record_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  confirmer TEXT NOT NULL,
  confirmed_at TEXT NOT NULL,
  method TEXT NOT NULL,
  signature BLOB NOT NULL,
  signer_sha256 TEXT NOT NULL,
  signer_subject TEXT NOT NULL,
  level TEXT NOT NULL,
  timestamp_time TEXT NOT NULL,
  tsa_subject TEXT NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (record_id, version)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS confirmations_immutable BEFORE UPDATE ON confirmations
  BEGIN SELECT RAISE(ABORT, 'confirmations are immutable'); END;
CREATE TRIGGER IF NOT EXISTS confirmations_undeletable BEFORE DELETE ON confirmations
  BEGIN SELECT RAISE(ABORT, 'confirmations are never deleted'); END;
CREATE TABLE IF NOT EXISTS evidence_records (
  record_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  renewal INTEGER NOT NULL,
  evidence_record BLOB NOT NULL,
  validation_data BLOB NOT NULL,
  created_at TEXT NOT NULL,
  tsa_not_after TEXT NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (record_id, version, renewal)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS evidence_immutable BEFORE UPDATE ON evidence_records
  BEGIN SELECT RAISE(ABORT, 'evidence records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS evidence_undeletable BEFORE DELETE ON evidence_records
  BEGIN SELECT RAISE(ABORT, 'evidence records are never deleted'); END;
)sql";

constexpr char kColumns[] =
    "record_id, version, confirmer, confirmed_at, method, signature, signer_sha256, "
    "signer_subject, level, timestamp_time, tsa_subject, row_mac";

using service_internal::AppendMacField;

Confirmation Read(const Statement& st) {
  Confirmation c;
  c.record_id = st.ColumnText(0);
  c.version = st.ColumnInt(1);
  c.confirmer = st.ColumnText(2);
  c.confirmed_at = st.ColumnText(3);
  c.method = st.ColumnText(4);
  c.signature = st.ColumnBlob(5);
  c.signer_sha256 = st.ColumnText(6);
  c.signer_subject = st.ColumnText(7);
  c.level = st.ColumnText(8);
  c.timestamp_time = st.ColumnText(9);
  c.tsa_subject = st.ColumnText(10);
  return c;
}

}  // namespace

Status ConfirmationStore::CreateSchema(Database& db) { return db.Exec(kSchema); }

ConfirmationStore::ConfirmationStore(ByteView mac_key) : mac_(mac_key) {}

Sha256Digest ConfirmationStore::Mac(const Confirmation& c) const {
  Bytes in;
  const std::string version = std::to_string(c.version);
  for (std::string_view f :
       {std::string_view("confirmation v1"), std::string_view(c.record_id),
        std::string_view(version), std::string_view(c.confirmer), std::string_view(c.confirmed_at),
        std::string_view(c.method), AsChars(c.signature), std::string_view(c.signer_sha256),
        std::string_view(c.signer_subject), std::string_view(c.level),
        std::string_view(c.timestamp_time), std::string_view(c.tsa_subject)}) {
    AppendMacField(in, f);
  }
  return mac_.Mac(in);
}

Status ConfirmationStore::InsertIn(Database& db, const Confirmation& c) {
  HK_ASSIGN_OR_RETURN(std::optional<Confirmation> existing, FindIn(db, c.record_id, c.version));
  if (existing) {
    return AlreadyExistsError("version " + c.record_id + "/" + std::to_string(c.version) +
                              " is already confirmed");
  }
  const Sha256Digest mac = Mac(c);
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare(std::string("INSERT INTO confirmations (") + kColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  return st->Bind(1, c.record_id)
      .Bind(2, c.version)
      .Bind(3, c.confirmer)
      .Bind(4, c.confirmed_at)
      .Bind(5, c.method)
      .BindBlob(6, c.signature)
      .Bind(7, c.signer_sha256)
      .Bind(8, c.signer_subject)
      .Bind(9, c.level)
      .Bind(10, c.timestamp_time)
      .Bind(11, c.tsa_subject)
      .BindBlob(12, ByteView(mac.data(), mac.size()))
      .Run();
}

Result<std::optional<Confirmation>> ConfirmationStore::FindIn(Database& db,
                                                              const std::string& record_id,
                                                              std::int64_t version) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare(std::string("SELECT ") + kColumns +
                                 " FROM confirmations WHERE record_id = ?1 AND version = ?2"));
  st->Bind(1, record_id).Bind(2, version);
  HK_ASSIGN_OR_RETURN(const bool row, st->Step());
  if (!row) return std::optional<Confirmation>();
  Confirmation c = Read(*st);
  const Sha256Digest mac = Mac(c);
  const bool intact = ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(11));
  HK_ASSIGN_OR_RETURN(const bool another, st->Step());  // Steps to the end (primary key).
  if (another) return InternalError("two confirmations of one version");
  if (!intact) {
    return DataLossError("the confirmation of version " + record_id + "/" +
                         std::to_string(version) +
                         " was changed outside hokan (its integrity check fails)");
  }
  return std::optional<Confirmation>(std::move(c));
}

Status ConfirmationStore::ForEachIn(
    Database& db, const std::function<Status(const Confirmation&, bool intact)>& fn) {
  HK_ASSIGN_OR_RETURN(Statement * st, db.Prepare(std::string("SELECT ") + kColumns +
                                                 " FROM confirmations ORDER BY record_id, "
                                                 "version"));
  for (;;) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    Confirmation c = Read(*st);
    const Sha256Digest mac = Mac(c);
    const bool intact = ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(11));
    HK_RETURN_IF_ERROR(fn(c, intact));
  }
  return OkStatus();
}

Sha256Digest ConfirmationStore::EvidenceMac(const EvidenceRow& e) const {
  Bytes in;
  const std::string version = std::to_string(e.version);
  const std::string renewal = std::to_string(e.renewal);
  for (std::string_view f :
       {std::string_view("evidence v1"), std::string_view(e.record_id), std::string_view(version),
        std::string_view(renewal), AsChars(e.evidence_record), AsChars(e.validation_data),
        std::string_view(e.created_at), std::string_view(e.tsa_not_after)}) {
    AppendMacField(in, f);
  }
  return mac_.Mac(in);
}

Status ConfirmationStore::InsertEvidenceIn(Database& db, const EvidenceRow& e) {
  HK_ASSIGN_OR_RETURN(Statement * found,
                      db.Prepare("SELECT 1 FROM evidence_records WHERE record_id = ?1 AND "
                                 "version = ?2 AND renewal = ?3"));
  found->Bind(1, e.record_id).Bind(2, e.version).Bind(3, e.renewal);
  HK_ASSIGN_OR_RETURN(const bool exists, found->Step());
  if (exists) {
    HK_ASSIGN_OR_RETURN(const bool more, found->Step());
    (void)more;
    return AlreadyExistsError("this evidence renewal is already stored");
  }
  const Sha256Digest mac = EvidenceMac(e);
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("INSERT INTO evidence_records (record_id, version, renewal, "
                                 "evidence_record, validation_data, created_at, tsa_not_after, "
                                 "row_mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  return st->Bind(1, e.record_id)
      .Bind(2, e.version)
      .Bind(3, e.renewal)
      .BindBlob(4, e.evidence_record)
      .BindBlob(5, e.validation_data)
      .Bind(6, e.created_at)
      .Bind(7, e.tsa_not_after)
      .BindBlob(8, ByteView(mac.data(), mac.size()))
      .Run();
}

Result<std::optional<EvidenceRow>> ConfirmationStore::LatestEvidenceIn(Database& db,
                                                                       const std::string& record_id,
                                                                       std::int64_t version) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT renewal, evidence_record, validation_data, created_at, "
                                 "tsa_not_after, row_mac FROM evidence_records WHERE record_id = "
                                 "?1 AND version = ?2 ORDER BY renewal DESC LIMIT 1"));
  st->Bind(1, record_id).Bind(2, version);
  HK_ASSIGN_OR_RETURN(const bool row, st->Step());
  if (!row) return std::optional<EvidenceRow>();
  EvidenceRow e;
  e.record_id = record_id;
  e.version = version;
  e.renewal = st->ColumnInt(0);
  e.evidence_record = st->ColumnBlob(1);
  e.validation_data = st->ColumnBlob(2);
  e.created_at = st->ColumnText(3);
  e.tsa_not_after = st->ColumnText(4);
  const Sha256Digest mac = EvidenceMac(e);
  const bool intact = ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(5));
  HK_ASSIGN_OR_RETURN(const bool more, st->Step());
  (void)more;
  if (!intact) {
    return DataLossError("the evidence record of version " + record_id + "/" +
                         std::to_string(version) +
                         " was changed outside hokan (its integrity check fails)");
  }
  return std::optional<EvidenceRow>(std::move(e));
}

}  // namespace hokan
