#include "service/care_store.h"

#include "base/time.h"

namespace hokan {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS care_relationships (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  department TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS care_by_patient ON care_relationships(patient_id);
CREATE TABLE IF NOT EXISTS break_glass (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  granted_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  reason TEXT NOT NULL,
  reviewed_by TEXT NOT NULL DEFAULT '',
  reviewed_at TEXT NOT NULL DEFAULT '',
  review_note TEXT NOT NULL DEFAULT '',
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS break_glass_by_user ON break_glass(user_id, patient_id);
CREATE TABLE IF NOT EXISTS labels (
  target TEXT NOT NULL,
  label TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  PRIMARY KEY (target, label)
) WITHOUT ROWID;
)sql";

// Fields joined with their lengths, so no two field lists encode alike.
Bytes Fields(std::initializer_list<std::string_view> fields) {
  Bytes out;
  for (const std::string_view f : fields) {
    const std::uint64_t n = f.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

bool IsLabel(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

Status CheckTarget(std::string_view target) {
  if (target.rfind("patient:", 0) == 0 || target.rfind("record:", 0) == 0) return OkStatus();
  return InvalidArgumentError("a label applies to \"patient:<id>\" or \"record:<id>\"");
}

}  // namespace

Status CareStore::CreateSchema(Database& db) { return db.Exec(kSchema); }

CareStore::CareStore(ByteView mac_key) : mac_(mac_key) {}

Sha256Digest CareStore::RelationshipMac(const StoredRelationship& r,
                                        const std::string& valid_until) const {
  const CareRelationship& c = r.relationship;
  return mac_.Mac(Fields({"care v1", r.id, c.user_id, c.department, c.patient_id,
                          FormatRfc3339(c.valid_from), valid_until, r.created_by, r.created_at}));
}

Sha256Digest CareStore::GrantMac(const BreakGlassGrant& g) const {
  return mac_.Mac(Fields({"break-glass v1", g.id, g.user_id, g.patient_id,
                          FormatRfc3339(g.granted_at), FormatRfc3339(g.expires_at), g.reason}));
}

Result<StoredRelationship> CareStore::AddRelationshipIn(Database& db, const CareRelationship& r,
                                                        const std::string& created_by,
                                                        TimePoint now) {
  if (r.user_id.empty() == r.department.empty()) {
    return InvalidArgumentError("a care relationship names either a user or a department");
  }
  if (r.patient_id.empty()) return InvalidArgumentError("a care relationship names a patient");
  if (r.valid_until && *r.valid_until <= r.valid_from) {
    return InvalidArgumentError("a care relationship must end after it begins");
  }
  StoredRelationship s;
  HK_ASSIGN_OR_RETURN(std::string id, RandomHexId(12));
  s.id = "c-" + id;
  s.relationship = r;
  s.created_by = created_by;
  s.created_at = FormatRfc3339(now);
  const std::string until = r.valid_until ? FormatRfc3339(*r.valid_until) : "";
  const Sha256Digest mac = RelationshipMac(s, until);
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("INSERT INTO care_relationships(id, user_id, department, "
                                 "patient_id, valid_from, valid_until, created_by, created_at, "
                                 "row_mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  HK_RETURN_IF_ERROR(st->Bind(1, s.id)
                         .Bind(2, r.user_id)
                         .Bind(3, r.department)
                         .Bind(4, r.patient_id)
                         .Bind(5, FormatRfc3339(r.valid_from))
                         .Bind(6, until)
                         .Bind(7, created_by)
                         .Bind(8, s.created_at)
                         .BindBlob(9, ByteView(mac.data(), mac.size()))
                         .Run());
  return s;
}

Result<std::vector<StoredRelationship>> CareStore::RelationshipsOf(Database& db,
                                                                   const std::string& patient_id) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT id, user_id, department, valid_from, valid_until, "
                                 "created_by, created_at, row_mac FROM care_relationships "
                                 "WHERE patient_id = ?1 ORDER BY created_at, id"));
  st->Bind(1, patient_id);
  std::vector<StoredRelationship> out;
  for (;;) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    StoredRelationship s;
    s.id = st->ColumnText(0);
    s.relationship.user_id = st->ColumnText(1);
    s.relationship.department = st->ColumnText(2);
    s.relationship.patient_id = patient_id;
    HK_ASSIGN_OR_RETURN(s.relationship.valid_from, ParseRfc3339(st->ColumnTextView(3)));
    const std::string until = st->ColumnText(4);
    if (!until.empty()) {
      HK_ASSIGN_OR_RETURN(TimePoint t, ParseRfc3339(until));
      s.relationship.valid_until = t;
    }
    s.created_by = st->ColumnText(5);
    s.created_at = st->ColumnText(6);
    const Sha256Digest mac = RelationshipMac(s, until);
    if (!ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(7))) {
      return DataLossError("care relationship " + s.id +
                           " was changed outside hokan (its integrity check fails)");
    }
    out.push_back(std::move(s));
  }
  return out;
}

Status CareStore::EndRelationshipIn(Database& db, const std::string& id, TimePoint at) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT patient_id FROM care_relationships WHERE id = ?1"));
  st->Bind(1, id);
  HK_ASSIGN_OR_RETURN(const bool row, st->Step());
  if (!row) return NotFoundError("no care relationship " + id);
  const std::string patient = st->ColumnText(0);
  HK_RETURN_IF_ERROR(st->Run());
  HK_ASSIGN_OR_RETURN(std::vector<StoredRelationship> all, RelationshipsOf(db, patient));
  for (StoredRelationship& s : all) {
    if (s.id != id) continue;
    if (s.relationship.valid_until && *s.relationship.valid_until <= at) {
      return FailedPreconditionError("care relationship " + id + " has already ended");
    }
    const TimePoint end = std::max(at, s.relationship.valid_from + std::chrono::seconds(1));
    s.relationship.valid_until = end;
    const std::string until = FormatRfc3339(end);
    const Sha256Digest mac = RelationshipMac(s, until);
    HK_ASSIGN_OR_RETURN(
        Statement * up,
        db.Prepare("UPDATE care_relationships SET valid_until = ?2, row_mac = ?3 WHERE id = ?1"));
    return up->Bind(1, id).Bind(2, until).BindBlob(3, ByteView(mac.data(), mac.size())).Run();
  }
  return NotFoundError("no care relationship " + id);
}

Status CareStore::AddGrantIn(Database& db, const BreakGlassGrant& g) {
  const Sha256Digest mac = GrantMac(g);
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("INSERT INTO break_glass(id, user_id, patient_id, granted_at, "
                                 "expires_at, reason, row_mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                 "?7)"));
  return st->Bind(1, g.id)
      .Bind(2, g.user_id)
      .Bind(3, g.patient_id)
      .Bind(4, FormatRfc3339(g.granted_at))
      .Bind(5, FormatRfc3339(g.expires_at))
      .Bind(6, g.reason)
      .BindBlob(7, ByteView(mac.data(), mac.size()))
      .Run();
}

namespace {

// Columns: id, user_id, patient_id, granted_at, expires_at, reason, reviewed_by, reviewed_at,
// review_note, row_mac.
constexpr std::string_view kGrantColumns =
    "id, user_id, patient_id, granted_at, expires_at, reason, reviewed_by, reviewed_at, "
    "review_note, row_mac";

Result<StoredGrant> ReadGrant(Statement& st) {
  StoredGrant s;
  s.grant.id = st.ColumnText(0);
  s.grant.user_id = st.ColumnText(1);
  s.grant.patient_id = st.ColumnText(2);
  HK_ASSIGN_OR_RETURN(s.grant.granted_at, ParseRfc3339(st.ColumnTextView(3)));
  HK_ASSIGN_OR_RETURN(s.grant.expires_at, ParseRfc3339(st.ColumnTextView(4)));
  s.grant.reason = st.ColumnText(5);
  s.reviewed_by = st.ColumnText(6);
  s.reviewed_at = st.ColumnText(7);
  s.review_note = st.ColumnText(8);
  return s;
}

}  // namespace

Result<std::vector<BreakGlassGrant>> CareStore::GrantsOf(Database& db, const std::string& user_id,
                                                         const std::string& patient_id) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT " + std::string(kGrantColumns) +
                                 " FROM break_glass WHERE user_id = ?1 AND patient_id = ?2"));
  st->Bind(1, user_id).Bind(2, patient_id);
  std::vector<BreakGlassGrant> out;
  for (;;) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    HK_ASSIGN_OR_RETURN(StoredGrant g, ReadGrant(*st));
    const Sha256Digest mac = GrantMac(g.grant);
    if (!ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(9))) {
      return DataLossError("break-glass grant " + g.grant.id +
                           " was changed outside hokan (its integrity check fails)");
    }
    out.push_back(std::move(g.grant));
  }
  return out;
}

Result<std::vector<StoredGrant>> CareStore::ListGrants(Database& db, bool unreviewed_only,
                                                       std::size_t limit) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT " + std::string(kGrantColumns) + " FROM break_glass" +
                                 (unreviewed_only ? " WHERE reviewed_by = ''" : "") +
                                 " ORDER BY granted_at DESC, id LIMIT ?1"));
  st->Bind(1, static_cast<std::int64_t>(limit));
  std::vector<StoredGrant> out;
  for (;;) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    HK_ASSIGN_OR_RETURN(StoredGrant g, ReadGrant(*st));
    out.push_back(std::move(g));
  }
  return out;
}

Status CareStore::ReviewGrantIn(Database& db, const std::string& id, const std::string& reviewer,
                                const std::string& note, TimePoint now) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("UPDATE break_glass SET reviewed_by = ?2, reviewed_at = ?3, "
                                 "review_note = ?4 WHERE id = ?1 AND reviewed_by = ''"));
  HK_RETURN_IF_ERROR(
      st->Bind(1, id).Bind(2, reviewer).Bind(3, FormatRfc3339(now)).Bind(4, note).Run());
  HK_ASSIGN_OR_RETURN(Statement * changed, db.Prepare("SELECT changes()"));
  HK_ASSIGN_OR_RETURN(const bool row, changed->Step());
  const bool did = row && changed->ColumnInt(0) == 1;
  HK_RETURN_IF_ERROR(changed->Run());
  if (!did) return NotFoundError("no unreviewed break-glass grant " + id);
  return OkStatus();
}

Status CareStore::SetLabelIn(Database& db, const std::string& target, const std::string& label,
                             const std::string& by, TimePoint now) {
  HK_RETURN_IF_ERROR(CheckTarget(target));
  if (!IsLabel(label)) {
    return InvalidArgumentError("a label is 1 to 32 of a-z, 0-9, '-' and '_'");
  }
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("INSERT OR IGNORE INTO labels(target, label, set_by, set_at) "
                                 "VALUES (?1, ?2, ?3, ?4)"));
  return st->Bind(1, target).Bind(2, label).Bind(3, by).Bind(4, FormatRfc3339(now)).Run();
}

Status CareStore::ClearLabelIn(Database& db, const std::string& target, const std::string& label) {
  HK_RETURN_IF_ERROR(CheckTarget(target));
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("DELETE FROM labels WHERE target = ?1 AND label = ?2"));
  return st->Bind(1, target).Bind(2, label).Run();
}

Result<std::vector<std::string>> CareStore::LabelsOf(Database& db, const std::string& patient_id,
                                                     const std::string& record_id) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT DISTINCT label FROM labels WHERE target IN (?1, ?2) "
                                 "ORDER BY label"));
  st->Bind(1, "patient:" + patient_id).Bind(2, record_id.empty() ? "" : "record:" + record_id);
  std::vector<std::string> out;
  for (;;) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    out.push_back(st->ColumnText(0));
  }
  return out;
}

}  // namespace hokan
