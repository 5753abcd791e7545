#include "service/quarantine.h"

#include <utility>

#include "base/encoding.h"
#include "service/internal/row_mac.h"

namespace hokan {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS quarantine (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  sender TEXT NOT NULL,
  channel TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  record_type TEXT NOT NULL,
  declared_name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  detected_type TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  report_json TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  version INTEGER NOT NULL,
  executable INTEGER NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS quarantine_by_time ON quarantine (created_at);
CREATE TRIGGER IF NOT EXISTS quarantine_immutable BEFORE UPDATE ON quarantine
  BEGIN SELECT RAISE(ABORT, 'quarantine rows are immutable'); END;
CREATE TRIGGER IF NOT EXISTS quarantine_undeletable BEFORE DELETE ON quarantine
  BEGIN SELECT RAISE(ABORT, 'quarantine rows are never deleted'); END;
CREATE TABLE IF NOT EXISTS quarantine_decisions (
  item_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL,
  version INTEGER NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (item_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS quarantine_decisions_immutable BEFORE UPDATE ON quarantine_decisions
  BEGIN SELECT RAISE(ABORT, 'quarantine decisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS quarantine_decisions_undeletable BEFORE DELETE ON quarantine_decisions
  BEGIN SELECT RAISE(ABORT, 'quarantine decisions are never deleted'); END;
)sql";

constexpr char kColumns[] =
    "id, created_at, sender, channel, patient_id, record_id, record_type, declared_name, "
    "media_type, detected_type, verdict, reason, report_json, sha256, size, version, executable, "
    "row_mac";

using service_internal::AppendMacField;

QuarantineItem ReadItem(const Statement& st) {
  QuarantineItem q;
  q.id = st.ColumnText(0);
  q.created_at = st.ColumnText(1);
  q.sender = st.ColumnText(2);
  q.channel = st.ColumnText(3);
  q.patient_id = st.ColumnText(4);
  q.record_id = st.ColumnText(5);
  q.record_type = st.ColumnText(6);
  q.declared_name = st.ColumnText(7);
  q.media_type = st.ColumnText(8);
  q.detected_type = st.ColumnText(9);
  q.verdict = st.ColumnText(10);
  q.reason = st.ColumnText(11);
  q.report_json = st.ColumnText(12);
  q.sha256 = st.ColumnText(13);
  q.size = static_cast<std::uint64_t>(st.ColumnInt(14));
  q.version = st.ColumnInt(15);
  q.executable = st.ColumnInt(16) != 0;
  return q;
}

}  // namespace

std::string_view QuarantineStateName(QuarantineState state) {
  switch (state) {
    case QuarantineState::kQuarantined:
      return "quarantined";
    case QuarantineState::kReleaseRequested:
      return "release-requested";
    case QuarantineState::kReleased:
      return "released";
    case QuarantineState::kRejected:
      return "rejected";
  }
  return "quarantined";
}

Status QuarantineStore::CreateSchema(Database& db) { return db.Exec(kSchema); }

QuarantineStore::QuarantineStore(BlobStore& blobs, SecretBytes seal_key, ByteView mac_key)
    : blobs_(blobs), seal_key_(std::move(seal_key)), mac_(mac_key) {}

Sha256Digest QuarantineStore::ItemMac(const QuarantineItem& q) const {
  Bytes in;
  const std::string size = std::to_string(q.size);
  const std::string version = std::to_string(q.version);
  for (std::string_view f :
       {std::string_view("quarantine v1"), std::string_view(q.id), std::string_view(q.created_at),
        std::string_view(q.sender), std::string_view(q.channel), std::string_view(q.patient_id),
        std::string_view(q.record_id), std::string_view(q.record_type),
        std::string_view(q.declared_name), std::string_view(q.media_type),
        std::string_view(q.detected_type), std::string_view(q.verdict), std::string_view(q.reason),
        std::string_view(q.report_json), std::string_view(q.sha256), std::string_view(size),
        std::string_view(version), std::string_view(q.executable ? "1" : "0")}) {
    AppendMacField(in, f);
  }
  return mac_.Mac(in);
}

Sha256Digest QuarantineStore::DecisionMac(const QuarantineDecision& d) const {
  Bytes in;
  const std::string seq = std::to_string(d.seq);
  const std::string version = std::to_string(d.version);
  for (std::string_view f :
       {std::string_view("quarantine decision v1"), std::string_view(d.item_id),
        std::string_view(seq), std::string_view(d.kind), std::string_view(d.actor),
        std::string_view(d.at), std::string_view(d.reason), std::string_view(version)}) {
    AppendMacField(in, f);
  }
  return mac_.Mac(in);
}

Result<std::string> QuarantineStore::PutOriginal(ByteView original) {
  HK_ASSIGN_OR_RETURN(std::string id, RandomHexId(16));
  HK_ASSIGN_OR_RETURN(Bytes sealed, AeadSeal(seal_key_.view(), original, AsBytes(id)));
  HK_RETURN_IF_ERROR(blobs_.Put(id, sealed));
  return id;
}

Result<Bytes> QuarantineStore::ReadOriginal(const QuarantineItem& item) {
  Result<Bytes> sealed = blobs_.Get(item.id);
  if (!sealed) {
    if (sealed.error().code() == StatusCode::kNotFound) {
      return DataLossError("the quarantined original " + item.id + " is missing");
    }
    return sealed.error();
  }
  Result<Bytes> plain = AeadOpen(seal_key_.view(), *sealed, AsBytes(item.id));
  if (!plain) {
    return DataLossError("the quarantined original " + item.id +
                         " was changed outside hokan (it does not decrypt)");
  }
  const Sha256Digest digest = Sha256(*plain);
  if (HexEncode(digest) != item.sha256) {
    return DataLossError("the quarantined original " + item.id + " does not match its hash");
  }
  return plain;
}

Status QuarantineStore::InsertIn(Database& db, const QuarantineItem& q) {
  const Sha256Digest mac = ItemMac(q);
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare(std::string("INSERT INTO quarantine (") + kColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                 "?13, ?14, ?15, ?16, ?17, ?18)"));
  return st->Bind(1, q.id)
      .Bind(2, q.created_at)
      .Bind(3, q.sender)
      .Bind(4, q.channel)
      .Bind(5, q.patient_id)
      .Bind(6, q.record_id)
      .Bind(7, q.record_type)
      .Bind(8, q.declared_name)
      .Bind(9, q.media_type)
      .Bind(10, q.detected_type)
      .Bind(11, q.verdict)
      .Bind(12, q.reason)
      .Bind(13, q.report_json)
      .Bind(14, q.sha256)
      .Bind(15, static_cast<std::int64_t>(q.size))
      .Bind(16, q.version)
      .Bind(17, std::int64_t{q.executable ? 1 : 0})
      .BindBlob(18, ByteView(mac.data(), mac.size()))
      .Run();
}

Result<QuarantineItem> QuarantineStore::GetIn(Database& db, const std::string& id) {
  HK_ASSIGN_OR_RETURN(Statement * st, db.Prepare(std::string("SELECT ") + kColumns +
                                                 " FROM quarantine WHERE id = ?1"));
  st->Bind(1, id);
  HK_ASSIGN_OR_RETURN(const bool row, st->Step());
  if (!row) return NotFoundError("no quarantined file " + id);
  QuarantineItem q = ReadItem(*st);
  const Sha256Digest mac = ItemMac(q);
  if (!ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(17))) {
    return DataLossError("the quarantine row " + id +
                         " was changed outside hokan (its integrity check fails)");
  }
  HK_ASSIGN_OR_RETURN(const bool more, st->Step());
  (void)more;
  return q;
}

Result<std::vector<QuarantineItem>> QuarantineStore::ListIn(Database& db, std::size_t limit) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare(std::string("SELECT ") + kColumns +
                                 " FROM quarantine ORDER BY created_at DESC, id LIMIT ?1"));
  st->Bind(1, static_cast<std::int64_t>(limit));
  std::vector<QuarantineItem> items;
  while (true) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    QuarantineItem q = ReadItem(*st);
    const Sha256Digest mac = ItemMac(q);
    if (!ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(17))) {
      return DataLossError("the quarantine row " + q.id +
                           " was changed outside hokan (its integrity check fails)");
    }
    items.push_back(std::move(q));
  }
  return items;
}

Result<std::vector<QuarantineDecision>> QuarantineStore::DecisionsIn(Database& db,
                                                                     const std::string& id) {
  HK_ASSIGN_OR_RETURN(Statement * st,
                      db.Prepare("SELECT item_id, seq, kind, actor, at, reason, version, row_mac "
                                 "FROM quarantine_decisions WHERE item_id = ?1 ORDER BY seq"));
  st->Bind(1, id);
  std::vector<QuarantineDecision> out;
  while (true) {
    HK_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) break;
    QuarantineDecision d{.item_id = st->ColumnText(0),
                         .seq = st->ColumnInt(1),
                         .kind = st->ColumnText(2),
                         .actor = st->ColumnText(3),
                         .at = st->ColumnText(4),
                         .reason = st->ColumnText(5),
                         .version = st->ColumnInt(6)};
    const Sha256Digest mac = DecisionMac(d);
    if (!ConstantTimeEqual(ByteView(mac.data(), mac.size()), st->ColumnBlobView(7))) {
      return DataLossError("a decision on quarantined file " + id +
                           " was changed outside hokan (its integrity check fails)");
    }
    out.push_back(std::move(d));
  }
  return out;
}

Status QuarantineStore::AddDecisionIn(Database& db, QuarantineDecision& d) {
  HK_ASSIGN_OR_RETURN(std::vector<QuarantineDecision> before, DecisionsIn(db, d.item_id));
  d.seq = static_cast<std::int64_t>(before.size()) + 1;
  const Sha256Digest mac = DecisionMac(d);
  HK_ASSIGN_OR_RETURN(
      Statement * st,
      db.Prepare("INSERT INTO quarantine_decisions (item_id, seq, kind, actor, at, "
                 "reason, version, row_mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  return st->Bind(1, d.item_id)
      .Bind(2, d.seq)
      .Bind(3, d.kind)
      .Bind(4, d.actor)
      .Bind(5, d.at)
      .Bind(6, d.reason)
      .Bind(7, d.version)
      .BindBlob(8, ByteView(mac.data(), mac.size()))
      .Run();
}

QuarantineState QuarantineStore::StateOf(const std::vector<QuarantineDecision>& decisions) {
  QuarantineState state = QuarantineState::kQuarantined;
  for (const QuarantineDecision& d : decisions) {
    if (d.kind == "release-requested") state = QuarantineState::kReleaseRequested;
    if (d.kind == "released") state = QuarantineState::kReleased;
    if (d.kind == "rejected") state = QuarantineState::kRejected;
  }
  return state;
}

}  // namespace hokan
