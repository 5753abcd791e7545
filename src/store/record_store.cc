#include "store/record_store.h"

#include <algorithm>
#include <chrono>

#include "base/encoding.h"
#include "base/time.h"
#include "store/internal/rows.h"

namespace hokan {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE patients (
  patient_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE records (
  record_id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL REFERENCES patients(patient_id),
  type TEXT NOT NULL,
  created_at TEXT NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX records_by_patient ON records(patient_id);
CREATE TABLE versions (
  record_id TEXT NOT NULL REFERENCES records(record_id),
  version INTEGER NOT NULL,
  version_id TEXT NOT NULL UNIQUE,
  blob_id TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  author TEXT NOT NULL,
  entered_at TEXT NOT NULL,
  source TEXT NOT NULL,
  wrapped_key BLOB NOT NULL,
  audit_seq INTEGER NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (record_id, version)
) WITHOUT ROWID;
-- Verification walks versions in audit order and looks them up by audit entry.
CREATE INDEX versions_by_audit_seq ON versions(audit_seq);
CREATE TABLE record_states (
  record_id TEXT NOT NULL REFERENCES records(record_id),
  state_no INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  audit_seq INTEGER NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (record_id, state_no)
) WITHOUT ROWID;
CREATE TRIGGER records_immutable BEFORE UPDATE ON records
  BEGIN SELECT RAISE(ABORT, 'records are immutable'); END;
CREATE TRIGGER records_undeletable BEFORE DELETE ON records
  BEGIN SELECT RAISE(ABORT, 'records are never deleted'); END;
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
  BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
CREATE TRIGGER versions_undeletable BEFORE DELETE ON versions
  BEGIN SELECT RAISE(ABORT, 'versions are never deleted'); END;
CREATE TRIGGER states_immutable BEFORE UPDATE ON record_states
  BEGIN SELECT RAISE(ABORT, 'record states are immutable'); END;
CREATE TRIGGER states_undeletable BEFORE DELETE ON record_states
  BEGIN SELECT RAISE(ABORT, 'record states are never deleted'); END;
)sql";

using store_internal::kVersionColumns;
using store_internal::kVersionMacColumn;
using store_internal::ReadVersionRow;

// Length-prefixed fields, so no two different rows encode alike.
class MacInput {
 public:
  explicit MacInput(std::string_view domain) { Add(domain); }
  MacInput& Add(std::string_view field) {
    const auto n = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes_.push_back(static_cast<std::uint8_t>(n >> shift));
    bytes_.insert(bytes_.end(), field.begin(), field.end());
    return *this;
  }
  MacInput& Add(ByteView field) { return Add(AsChars(field)); }
  MacInput& Add(std::int64_t v) { return Add(std::to_string(v)); }
  ByteView view() const { return bytes_; }

 private:
  Bytes bytes_;
};

bool AllOf(std::string_view s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }
bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
bool TypeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}
bool HexChar(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::string VersionName(const std::string& record_id, std::int64_t version) {
  return "version " + record_id + "/" + std::to_string(version);
}

}  // namespace

Status ValidatePatientId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !AllOf(id, IdChar)) {
    return InvalidArgumentError(
        "patient id must be 1-64 characters of letters, digits, '.', '_' or '-'");
  }
  return OkStatus();
}

Status ValidateRecordType(std::string_view t) {
  if (t.empty() || t.size() > 64 || !AllOf(t, TypeChar)) {
    return InvalidArgumentError(
        "record type must be 1-64 characters of lower-case letters, digits, '.', '_' or '-'");
  }
  return OkStatus();
}

Status ValidateRecordId(std::string_view id) {
  if (id.size() != 24 || !AllOf(id, HexChar)) {
    return InvalidArgumentError("record id must be 24 lower-case hex characters");
  }
  return OkStatus();
}

Status ValidateMediaType(std::string_view m) {
  const std::size_t slash = m.find('/');
  const bool printable = std::all_of(m.begin(), m.end(), [](char c) { return c > ' ' && c < 127; });
  if (m.size() > 127 || slash == std::string_view::npos || slash == 0 || slash + 1 == m.size() ||
      !printable) {
    return InvalidArgumentError("media type must look like type/subtype (e.g. application/pdf)");
  }
  return OkStatus();
}

Status ValidateReason(std::string_view reason) {
  const bool controls = std::any_of(reason.begin(), reason.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\t';
  });
  if (reason.empty() || reason.size() > 1000 || controls) {
    return InvalidArgumentError("reason must be 1-1000 characters on one line");
  }
  return OkStatus();
}

RecordStore::RecordStore(Env& env, MetadataDb& db, BlobStore& blobs, SecretBytes kek,
                         std::string store_id, StoreOptions options)
    : env_(env),
      db_(db),
      blobs_(blobs),
      kek_(std::move(kek)),
      store_id_(std::move(store_id)),
      options_(options),
      row_mac_(HkdfSha256(kek_.view(), "hokan", "metadata row mac v1", 32).view()) {}

Status RecordStore::CreateSchema(Database& db) { return db.Exec(kSchema); }

Bytes RecordStore::BlobAad(const std::string& record_id, const std::string& version_id) const {
  MacInput in("hokan blob v1");
  in.Add(store_id_).Add(record_id).Add(version_id);
  return Bytes(in.view().begin(), in.view().end());
}

Bytes RecordStore::KeyAad(const std::string& record_id, const std::string& version_id) const {
  MacInput in("hokan data key v1");
  in.Add(store_id_).Add(record_id).Add(version_id);
  return Bytes(in.view().begin(), in.view().end());
}

Sha256Digest RecordStore::VersionMac(const VersionInfo& v) const {
  MacInput in("versions");
  in.Add(store_id_)
      .Add(v.record_id)
      .Add(v.version)
      .Add(v.version_id)
      .Add(v.blob_id)
      .Add(v.sha256)
      .Add(static_cast<std::int64_t>(v.size))
      .Add(v.media_type)
      .Add(v.author)
      .Add(v.entered_at)
      .Add(v.source)
      .Add(ByteView(v.wrapped_key))
      .Add(static_cast<std::int64_t>(v.audit_seq));
  return row_mac_.Mac(in.view());
}

Sha256Digest RecordStore::RecordMac(const std::string& record_id, const std::string& patient_id,
                                    const std::string& type, const std::string& created_at) const {
  MacInput in("records");
  in.Add(store_id_).Add(record_id).Add(patient_id).Add(type).Add(created_at);
  return row_mac_.Mac(in.view());
}

Sha256Digest RecordStore::StateMac(const std::string& record_id, const RecordState& s) const {
  MacInput in("record_states");
  in.Add(store_id_)
      .Add(record_id)
      .Add(s.state_no)
      .Add(s.status)
      .Add(s.reason)
      .Add(s.actor)
      .Add(s.at)
      .Add(static_cast<std::int64_t>(s.audit_seq));
  return row_mac_.Mac(in.view());
}

Result<VersionInfo> RecordStore::Put(const PutRequest& request, const VersionAuditHook& audit) {
  HK_RETURN_IF_ERROR(ValidatePatientId(request.patient_id));
  if (request.record_id.empty()) {
    HK_RETURN_IF_ERROR(ValidateRecordType(request.record_type));
  } else {
    HK_RETURN_IF_ERROR(ValidateRecordId(request.record_id));
    if (!request.record_type.empty()) HK_RETURN_IF_ERROR(ValidateRecordType(request.record_type));
  }
  HK_RETURN_IF_ERROR(ValidateMediaType(request.media_type));
  if (request.content.size() > options_.max_content_bytes) {
    return InvalidArgumentError(
        "content is " + std::to_string(request.content.size()) + " bytes; the limit is " +
        std::to_string(options_.max_content_bytes) + " (store.max_content_bytes)");
  }

  VersionInfo v;
  if (request.record_id.empty()) {
    HK_ASSIGN_OR_RETURN(v.record_id, RandomHexId(12));
  } else {
    v.record_id = request.record_id;
  }
  HK_ASSIGN_OR_RETURN(v.version_id, RandomHexId(16));
  HK_ASSIGN_OR_RETURN(v.blob_id, RandomHexId(16));
  v.patient_id = request.patient_id;
  v.record_type = request.record_type;
  v.sha256 = HexEncode(Sha256(request.content));
  v.size = request.content.size();
  v.media_type = request.media_type;
  v.author = request.author;
  v.source = request.source;

  // 1. Encrypt with a fresh data key; the blob is durable before any row refers to it.
  SecretBytes data_key(kAeadKeySize);
  HK_RETURN_IF_ERROR(RandomBytes(data_key.mutable_view()));
  HK_ASSIGN_OR_RETURN(
      Bytes sealed, AeadSeal(data_key.view(), request.content, BlobAad(v.record_id, v.version_id)));
  HK_ASSIGN_OR_RETURN(v.wrapped_key,
                      AeadSeal(kek_.view(), data_key.view(), KeyAad(v.record_id, v.version_id)));
  HK_RETURN_IF_ERROR(blobs_.Put(v.blob_id, sealed));

  // 2. Rows and audit entry in one group-committed transaction.
  const bool new_record = request.record_id.empty();
  Status st = db_.committer().Run([&](Database& db) -> Status {
    v.entered_at = FormatRfc3339(env_.clock.Now());
    if (new_record) {
      HK_ASSIGN_OR_RETURN(Statement * p,
                          db.Prepare("INSERT OR IGNORE INTO patients(patient_id, created_at) "
                                     "VALUES (?1, ?2)"));
      HK_RETURN_IF_ERROR(p->Bind(1, v.patient_id).Bind(2, v.entered_at).Run());
      const Sha256Digest mac = RecordMac(v.record_id, v.patient_id, v.record_type, v.entered_at);
      HK_ASSIGN_OR_RETURN(Statement * r,
                          db.Prepare("INSERT INTO records(record_id, patient_id, type, created_at, "
                                     "row_mac) VALUES (?1, ?2, ?3, ?4, ?5)"));
      HK_RETURN_IF_ERROR(r->Bind(1, v.record_id)
                             .Bind(2, v.patient_id)
                             .Bind(3, v.record_type)
                             .Bind(4, v.entered_at)
                             .BindBlob(5, mac)
                             .Run());
      v.version = 1;
    } else {
      HK_ASSIGN_OR_RETURN(
          Statement * q,
          db.Prepare("SELECT r.patient_id, r.type, "
                     "(SELECT status FROM record_states s WHERE s.record_id = r.record_id "
                     " ORDER BY state_no DESC LIMIT 1), "
                     "(SELECT COALESCE(MAX(version), 0) FROM versions v "
                     " WHERE v.record_id = r.record_id) "
                     "FROM records r WHERE r.record_id = ?1"));
      q->Bind(1, v.record_id);
      HK_ASSIGN_OR_RETURN(const bool found, q->Step());
      if (!found) return NotFoundError("record " + v.record_id + " does not exist");
      const std::string patient = q->ColumnText(0);
      const std::string type = q->ColumnText(1);
      const bool in_error = !q->ColumnIsNull(2);
      v.version = q->ColumnInt(3) + 1;
      HK_RETURN_IF_ERROR(q->Run());
      if (patient != v.patient_id) {
        return InvalidArgumentError("record " + v.record_id +
                                    " belongs to another patient; check --patient");
      }
      if (!v.record_type.empty() && type != v.record_type) {
        return InvalidArgumentError("record " + v.record_id + " has type " + type);
      }
      if (in_error) {
        return FailedPreconditionError("record " + v.record_id +
                                       " is marked entered-in-error; it takes no new versions");
      }
      v.record_type = type;
    }
    HK_ASSIGN_OR_RETURN(v.audit_seq, audit(db, v));
    const Sha256Digest mac = VersionMac(v);
    HK_ASSIGN_OR_RETURN(
        Statement * ins,
        db.Prepare("INSERT INTO versions(record_id, version, version_id, blob_id, sha256, size, "
                   "media_type, author, entered_at, source, wrapped_key, audit_seq, row_mac) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    return ins->Bind(1, v.record_id)
        .Bind(2, v.version)
        .Bind(3, v.version_id)
        .Bind(4, v.blob_id)
        .Bind(5, v.sha256)
        .Bind(6, static_cast<std::int64_t>(v.size))
        .Bind(7, v.media_type)
        .Bind(8, v.author)
        .Bind(9, v.entered_at)
        .Bind(10, v.source)
        .BindBlob(11, v.wrapped_key)
        .Bind(12, static_cast<std::int64_t>(v.audit_seq))
        .BindBlob(13, mac)
        .Run();
  });
  if (!st.ok()) {
    // The blob is referenced by nothing: remove it now (the sweep would, later).
    (void)blobs_.Remove(v.blob_id);
    return st;
  }
  return v;
}

Result<VersionInfo> RecordStore::GetVersionInfo(const std::string& record_id,
                                                std::int64_t version) {
  HK_RETURN_IF_ERROR(ValidateRecordId(record_id));
  if (version < 0) return InvalidArgumentError("version must be 1 or more");
  Result<VersionInfo> out = NotFoundError("record " + record_id + " does not exist");
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    const std::string sql = std::string("SELECT ") + std::string(kVersionColumns) +
                            " FROM versions v JOIN records r USING (record_id) "
                            "WHERE v.record_id = ?1 AND (?2 = 0 OR v.version = ?2) "
                            "ORDER BY v.version DESC LIMIT 1";
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare(sql));
    s->Bind(1, record_id).Bind(2, version);
    HK_ASSIGN_OR_RETURN(const bool found, s->Step());
    if (found) {
      VersionInfo v = ReadVersionRow(*s);
      const ByteView mac = s->ColumnBlobView(kVersionMacColumn);
      if (!ConstantTimeEqual(mac, VersionMac(v))) {
        out = DataLossError(VersionName(v.record_id, v.version) + ": row was altered");
      } else {
        out = std::move(v);
      }
    } else if (version != 0) {
      out = NotFoundError("record " + record_id + " has no version " + std::to_string(version));
    }
    return s->Run();
  }));
  if (!out && out.error().code() == StatusCode::kNotFound && version != 0) {
    // Say which is missing: the record, or only that version.
    Result<VersionInfo> any = GetVersionInfo(record_id, 0);
    if (!any) return any.error();
  }
  return out;
}

Result<Bytes> RecordStore::ReadContent(const VersionInfo& v) {
  const std::string name = VersionName(v.record_id, v.version);
  Result<Bytes> sealed = blobs_.Get(v.blob_id);
  if (!sealed) {
    if (sealed.error().code() == StatusCode::kNotFound) {
      return DataLossError(name + ": its blob " + v.blob_id + " is missing");
    }
    return sealed.error().WithContext(name);
  }
  Result<Bytes> data_key = AeadOpen(kek_.view(), v.wrapped_key, KeyAad(v.record_id, v.version_id));
  if (!data_key) return DataLossError(name + ": its data key does not unwrap");
  SecretBytes key{ByteView(*data_key)};
  SecureZero(*data_key);
  Result<Bytes> plain = AeadOpen(key.view(), *sealed, BlobAad(v.record_id, v.version_id));
  if (!plain) return DataLossError(name + ": blob " + v.blob_id + " does not decrypt");
  if (HexEncode(Sha256(*plain)) != v.sha256 || plain->size() != v.size) {
    return DataLossError(name + ": content does not match its SHA-256");
  }
  return plain;
}

Result<RecordHistory> RecordStore::HistoryIn(Database& db, const std::string& record_id) const {
  RecordHistory h;
  h.record_id = record_id;
  {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT patient_id, type, created_at, row_mac "
                                                  "FROM records WHERE record_id = ?1"));
    s->Bind(1, record_id);
    HK_ASSIGN_OR_RETURN(const bool found, s->Step());
    if (!found) return NotFoundError("record " + record_id + " does not exist");
    h.patient_id = s->ColumnText(0);
    h.record_type = s->ColumnText(1);
    h.created_at = s->ColumnText(2);
    const bool ok = ConstantTimeEqual(
        s->ColumnBlobView(3), RecordMac(record_id, h.patient_id, h.record_type, h.created_at));
    HK_RETURN_IF_ERROR(s->Run());
    if (!ok) return DataLossError("record " + record_id + ": row was altered");
  }
  {
    const std::string sql = std::string("SELECT ") + std::string(kVersionColumns) +
                            " FROM versions v JOIN records r USING (record_id) "
                            "WHERE v.record_id = ?1 ORDER BY v.version";
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare(sql));
    s->Bind(1, record_id);
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      VersionInfo v = ReadVersionRow(*s);
      if (!ConstantTimeEqual(s->ColumnBlobView(kVersionMacColumn), VersionMac(v))) {
        const std::string name = VersionName(v.record_id, v.version);
        (void)s->Run();
        return DataLossError(name + ": row was altered");
      }
      h.versions.push_back(std::move(v));
    }
  }
  {
    HK_ASSIGN_OR_RETURN(
        Statement * s,
        db.Prepare(std::string("SELECT ") + std::string(store_internal::kStateColumns) +
                   " FROM record_states WHERE record_id = ?1 ORDER BY state_no"));
    s->Bind(1, record_id);
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      RecordState st = store_internal::ReadStateRow(*s, 0);
      if (!ConstantTimeEqual(s->ColumnBlobView(store_internal::kStateColumnCount),
                             StateMac(record_id, st))) {
        (void)s->Run();
        return DataLossError("record " + record_id + " state " + std::to_string(st.state_no) +
                             ": row was altered");
      }
      h.states.push_back(std::move(st));
    }
  }
  h.status = h.states.empty() ? "active" : h.states.back().status;
  return h;
}

Result<RecordHistory> RecordStore::History(const std::string& record_id) {
  HK_RETURN_IF_ERROR(ValidateRecordId(record_id));
  Result<RecordHistory> out = InternalError("history not read");
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    out = HistoryIn(db, record_id);
    return OkStatus();
  }));
  return out;
}

Result<std::vector<RecordHistory>> RecordStore::RecordsOfPatient(const std::string& patient_id) {
  HK_RETURN_IF_ERROR(ValidatePatientId(patient_id));
  std::vector<RecordHistory> out;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    std::vector<std::string> ids;
    {
      HK_ASSIGN_OR_RETURN(Statement * s,
                          db.Prepare("SELECT record_id FROM records WHERE patient_id = ?1 "
                                     "ORDER BY created_at, record_id"));
      s->Bind(1, patient_id);
      for (;;) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        ids.push_back(s->ColumnText(0));
      }
    }
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      HK_ASSIGN_OR_RETURN(RecordHistory h, HistoryIn(db, id));
      out.push_back(std::move(h));
    }
    return OkStatus();
  }));
  return out;
}

Result<RecordState> RecordStore::MarkEnteredInError(const std::string& record_id,
                                                    const std::string& reason,
                                                    const std::string& actor,
                                                    const StateAuditHook& audit) {
  HK_RETURN_IF_ERROR(ValidateRecordId(record_id));
  HK_RETURN_IF_ERROR(ValidateReason(reason));
  RecordState state;
  HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(RecordHistory h, HistoryIn(db, record_id));
    if (h.status == "entered-in-error") {
      return FailedPreconditionError("record " + record_id + " is already entered-in-error");
    }
    state.state_no = h.states.empty() ? 1 : h.states.back().state_no + 1;
    state.status = "entered-in-error";
    state.reason = reason;
    state.actor = actor;
    state.at = FormatRfc3339(env_.clock.Now());
    HK_ASSIGN_OR_RETURN(state.audit_seq, audit(db, h, state));
    const Sha256Digest mac = StateMac(record_id, state);
    HK_ASSIGN_OR_RETURN(Statement * ins,
                        db.Prepare("INSERT INTO record_states(record_id, state_no, status, reason, "
                                   "actor, at, audit_seq, row_mac) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return ins->Bind(1, record_id)
        .Bind(2, state.state_no)
        .Bind(3, state.status)
        .Bind(4, state.reason)
        .Bind(5, state.actor)
        .Bind(6, state.at)
        .Bind(7, static_cast<std::int64_t>(state.audit_seq))
        .BindBlob(8, mac)
        .Run();
  }));
  return state;
}

}  // namespace hokan
