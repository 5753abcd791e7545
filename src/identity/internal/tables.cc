#include "identity/internal/tables.h"

#include <chrono>
#include <utility>

#include "identity/password_policy.h"

namespace hokan::identity_internal {
namespace {

// Times: milliseconds since the Unix epoch, UTC. Lists: comma-separated (their items are
// validated to contain no commas). Row MACs: HMAC-SHA256 over the length-prefixed fields
// named in each *Mac() below, under a domain string per table.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS users (
  user_id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  roles TEXT NOT NULL,
  department TEXT NOT NULL,
  expires_at INTEGER,
  disabled INTEGER NOT NULL,
  password_hash TEXT NOT NULL,
  totp_enrolled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS password_history (
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  set_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS password_history_by_user ON password_history(user_id, seq);
CREATE TABLE IF NOT EXISTS login_failures (
  login_key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  token_sha256 BLOB NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  authenticated_at INTEGER NOT NULL,
  restricted INTEGER NOT NULL,
  factors TEXT NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS totp_secrets (
  user_id TEXT NOT NULL,
  state TEXT NOT NULL,
  sealed_secret BLOB NOT NULL,
  last_step INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  row_mac BLOB NOT NULL,
  PRIMARY KEY (user_id, state)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recovery_codes (
  user_id TEXT NOT NULL,
  code_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS client_certs (
  fingerprint TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  bound_at INTEGER NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS client_certs_by_user ON client_certs(user_id);
CREATE TABLE IF NOT EXISTS signing_certs (
  fingerprint TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  bound_at INTEGER NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signing_certs_by_user ON signing_certs(user_id);
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  secret_sha256 BLOB NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens(user_id);
CREATE TABLE IF NOT EXISTS password_resets (
  reset_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  code_hash BLOB NOT NULL,
  admin_id TEXT NOT NULL,
  verified_by TEXT NOT NULL,
  method TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  row_mac BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS password_resets_by_user ON password_resets(user_id, state);
CREATE TABLE IF NOT EXISTS setup_secrets (
  seq INTEGER PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  used_at INTEGER
);
)sql";

// A statement left on a row keeps its connection's read snapshot open: a pooled reader would
// then serve that old snapshot to the next Read(). Point lookups therefore step to the end.
Status Finish(Statement& s) {
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return OkStatus();
  }
}

Status Tampered(std::string_view what, std::string_view user_id) {
  return DataLossError(std::string(what) + " of user " + std::string(user_id) +
                       " fails its integrity check (changed outside hokan, or corrupt)");
}

std::optional<TimePoint> OptionalTime(const Statement& s, int column) {
  if (s.ColumnIsNull(column)) return std::nullopt;
  return FromMillis(s.ColumnInt(column));
}

void BindOptionalTime(Statement& s, int index, const std::optional<TimePoint>& t) {
  if (t) {
    s.Bind(index, ToMillis(*t));
  } else {
    s.BindNull(index);
  }
}

std::int64_t OptionalMillis(const std::optional<TimePoint>& t) { return t ? ToMillis(*t) : -1; }

Sha256Digest DigestFrom(ByteView bytes) {
  Sha256Digest d{};
  if (bytes.size() == d.size()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

// Factors as stored in sessions: their names, comma-separated.
std::string JoinFactors(const std::vector<Factor>& factors) {
  std::vector<std::string> names;
  names.reserve(factors.size());
  for (Factor f : factors) names.emplace_back(FactorName(f));
  return JoinList(names);
}

std::vector<Factor> SplitFactors(std::string_view text) {
  std::vector<Factor> out;
  for (const std::string& name : SplitList(text)) {
    for (Factor f :
         {Factor::kPassword, Factor::kTotp, Factor::kRecoveryCode, Factor::kClientCertificate}) {
      if (FactorName(f) == name) out.push_back(f);
    }
  }
  return out;
}

constexpr std::string_view kUserColumns =
    "user_id, display_name, kind, roles, department, expires_at, disabled, password_hash, "
    "totp_enrolled, created_at, row_mac";

Result<StoredUser> ReadUserRow(const Statement& s) {
  StoredUser u;
  u.user.id = s.ColumnText(0);
  u.user.display_name = s.ColumnText(1);
  Result<UserKind> kind = ParseUserKind(s.ColumnTextView(2));
  if (!kind) return Tampered("the stored row", u.user.id);
  u.user.kind = *kind;
  u.user.roles = SplitList(s.ColumnTextView(3));
  u.user.department = s.ColumnText(4);
  u.user.expires_at = OptionalTime(s, 5);
  u.user.disabled = s.ColumnInt(6) != 0;
  u.password_hash = s.ColumnText(7);
  u.user.has_password = !u.password_hash.empty();
  u.user.totp_enrolled = s.ColumnInt(8) != 0;
  u.user.created_at = FromMillis(s.ColumnInt(9));
  u.row_mac = s.ColumnBlob(10);
  return u;
}

constexpr std::string_view kSessionColumns =
    "session_id, token_sha256, user_id, created_at, last_seen, authenticated_at, restricted, "
    "factors, row_mac";

constexpr std::string_view kApiTokenColumns =
    "token_id, user_id, secret_sha256, scopes, created_at, expires_at, revoked_at, last_used_at, "
    "row_mac";

StoredApiToken ReadApiTokenRow(const Statement& s) {
  StoredApiToken t;
  t.info.token_id = s.ColumnText(0);
  t.info.user_id = s.ColumnText(1);
  t.secret_sha256 = DigestFrom(s.ColumnBlobView(2));
  t.info.scopes = SplitList(s.ColumnTextView(3));
  t.info.created_at = FromMillis(s.ColumnInt(4));
  t.info.expires_at = FromMillis(s.ColumnInt(5));
  t.info.revoked_at = OptionalTime(s, 6);
  t.info.last_used_at = OptionalTime(s, 7);
  return t;
}

constexpr std::string_view kResetColumns =
    "reset_id, user_id, code_hash, admin_id, verified_by, method, issued_at, expires_at, state, "
    "row_mac";

}  // namespace

std::int64_t ToMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromMillis(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

MacInput& MacInput::Add(std::string_view field) {
  const auto n = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes_.push_back(static_cast<std::uint8_t>(n >> shift));
  }
  bytes_.insert(bytes_.end(), field.begin(), field.end());
  return *this;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out.push_back(',');
    out += item;
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Tables::Tables(ByteView row_mac_key, ByteView secret_key)
    : mac_(row_mac_key), secret_key_(secret_key) {}

Status Tables::CreateSchema(Database& db) { return db.Exec(kSchema); }

Sha256Digest Tables::SecretHash(std::string_view purpose, std::string_view user_id,
                                std::string_view secret) const {
  MacInput in("identity secret v1");
  in.Add(purpose).Add(user_id).Add(secret);
  return mac_.Mac(in.view());
}

// ---------------------------------------------------------------------------------------------
// Users.

Sha256Digest Tables::UserMac(const StoredUser& s) const {
  const User& u = s.user;
  MacInput in("identity users v1");
  in.Add(u.id)
      .Add(u.display_name)
      .Add(UserKindName(u.kind))
      .Add(JoinList(u.roles))
      .Add(u.department)
      .Add(OptionalMillis(u.expires_at))
      .Add(std::int64_t{u.disabled ? 1 : 0})
      .Add(s.password_hash)
      .Add(std::int64_t{u.totp_enrolled ? 1 : 0})
      .Add(ToMillis(u.created_at));
  return mac_.Mac(in.view());
}

Result<std::optional<StoredUser>> Tables::FindUser(Database& db, std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT " + std::string(kUserColumns) +
                                                " FROM users WHERE user_id = ?"));
  s->Bind(1, user_id);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredUser>();
  HK_ASSIGN_OR_RETURN(StoredUser u, ReadUserRow(*s));
  HK_RETURN_IF_ERROR(Finish(*s));
  if (!ConstantTimeEqual(u.row_mac, UserMac(u))) return Tampered("the stored row", u.user.id);
  return std::optional<StoredUser>(std::move(u));
}

Result<std::vector<StoredUser>> Tables::AllUsers(Database& db) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT " + std::string(kUserColumns) +
                                                " FROM users ORDER BY user_id"));
  std::vector<StoredUser> out;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    HK_ASSIGN_OR_RETURN(StoredUser u, ReadUserRow(*s));
    if (!ConstantTimeEqual(u.row_mac, UserMac(u))) return Tampered("the stored row", u.user.id);
    out.push_back(std::move(u));
  }
  return out;
}

Status Tables::InsertUser(Database& db, StoredUser& u) const {
  const Sha256Digest mac = UserMac(u);
  u.row_mac.assign(mac.begin(), mac.end());
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("INSERT INTO users (" + std::string(kUserColumns) +
                                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->Bind(1, u.user.id)
      .Bind(2, u.user.display_name)
      .Bind(3, UserKindName(u.user.kind))
      .Bind(4, JoinList(u.user.roles))
      .Bind(5, u.user.department);
  BindOptionalTime(*s, 6, u.user.expires_at);
  s->Bind(7, std::int64_t{u.user.disabled ? 1 : 0})
      .Bind(8, u.password_hash)
      .Bind(9, std::int64_t{u.user.totp_enrolled ? 1 : 0})
      .Bind(10, ToMillis(u.user.created_at))
      .BindBlob(11, mac);
  return s->Run();
}

Status Tables::UpdateUser(Database& db, StoredUser& u) const {
  u.user.has_password = !u.password_hash.empty();
  const Sha256Digest mac = UserMac(u);
  u.row_mac.assign(mac.begin(), mac.end());
  HK_ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare("UPDATE users SET display_name = ?, kind = ?, roles = ?, department = ?, "
                 "expires_at = ?, disabled = ?, password_hash = ?, totp_enrolled = ?, "
                 "row_mac = ? WHERE user_id = ?"));
  s->Bind(1, u.user.display_name)
      .Bind(2, UserKindName(u.user.kind))
      .Bind(3, JoinList(u.user.roles))
      .Bind(4, u.user.department);
  BindOptionalTime(*s, 5, u.user.expires_at);
  s->Bind(6, std::int64_t{u.user.disabled ? 1 : 0})
      .Bind(7, u.password_hash)
      .Bind(8, std::int64_t{u.user.totp_enrolled ? 1 : 0})
      .BindBlob(9, mac)
      .Bind(10, u.user.id);
  return s->Run();
}

// ---------------------------------------------------------------------------------------------
// Password history.

Result<std::vector<std::string>> Tables::PasswordHistory(Database& db,
                                                         std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT hash FROM password_history WHERE user_id = ? "
                                 "ORDER BY seq DESC LIMIT ?"));
  s->Bind(1, user_id).Bind(2, static_cast<std::int64_t>(kPasswordHistory));
  std::vector<std::string> newest_first;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    newest_first.push_back(s->ColumnText(0));
  }
  return std::vector<std::string>(newest_first.rbegin(), newest_first.rend());
}

Status Tables::AddPasswordHistory(Database& db, std::string_view user_id, std::string_view hash,
                                  TimePoint at) const {
  HK_ASSIGN_OR_RETURN(
      Statement * insert,
      db.Prepare("INSERT INTO password_history (user_id, hash, set_at) VALUES (?, ?, ?)"));
  insert->Bind(1, user_id).Bind(2, hash).Bind(3, ToMillis(at));
  HK_RETURN_IF_ERROR(insert->Run());
  // Older hashes are never checked again; keeping them would only help an attacker.
  HK_ASSIGN_OR_RETURN(
      Statement * prune,
      db.Prepare("DELETE FROM password_history WHERE user_id = ?1 AND seq NOT IN "
                 "(SELECT seq FROM password_history WHERE user_id = ?1 ORDER BY seq DESC "
                 "LIMIT ?2)"));
  prune->Bind(1, user_id).Bind(2, static_cast<std::int64_t>(kPasswordHistory));
  return prune->Run();
}

// ---------------------------------------------------------------------------------------------
// Login failures.

Result<FailureState> Tables::Failures(Database& db, std::string_view key) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT failures, last_failure_at, "
                                                "next_attempt_at FROM login_failures "
                                                "WHERE login_key = ?"));
  s->Bind(1, key);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  FailureState f;
  if (row) {
    f.failures = static_cast<int>(s->ColumnInt(0));
    f.last_failure_at = FromMillis(s->ColumnInt(1));
    f.next_attempt_at = FromMillis(s->ColumnInt(2));
    HK_RETURN_IF_ERROR(Finish(*s));
  }
  return f;
}

Status Tables::SetFailures(Database& db, std::string_view key, const FailureState& f) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT OR REPLACE INTO login_failures (login_key, failures, "
                                 "last_failure_at, next_attempt_at) VALUES (?, ?, ?, ?)"));
  s->Bind(1, key)
      .Bind(2, std::int64_t{f.failures})
      .Bind(3, ToMillis(f.last_failure_at))
      .Bind(4, ToMillis(f.next_attempt_at));
  return s->Run();
}

Status Tables::ClearFailures(Database& db, std::string_view key) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("DELETE FROM login_failures WHERE login_key = ?"));
  s->Bind(1, key);
  return s->Run();
}

// ---------------------------------------------------------------------------------------------
// Sessions. last_seen is outside the MAC: it changes on every request, and moving it only
// keeps alive a session whose token the mover must already have.

Sha256Digest Tables::SessionMac(const StoredSession& s) const {
  MacInput in("identity sessions v1");
  in.Add(s.session.id)
      .Add(s.token_sha256)
      .Add(s.session.user_id)
      .Add(ToMillis(s.session.created_at))
      .Add(ToMillis(s.session.authenticated_at))
      .Add(std::int64_t{s.session.restricted ? 1 : 0})
      .Add(JoinFactors(s.session.factors));
  return mac_.Mac(in.view());
}

Status Tables::InsertSession(Database& db, const StoredSession& st) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT INTO sessions (" + std::string(kSessionColumns) +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->Bind(1, st.session.id)
      .BindBlob(2, st.token_sha256)
      .Bind(3, st.session.user_id)
      .Bind(4, ToMillis(st.session.created_at))
      .Bind(5, ToMillis(st.session.last_seen))
      .Bind(6, ToMillis(st.session.authenticated_at))
      .Bind(7, std::int64_t{st.session.restricted ? 1 : 0})
      .Bind(8, JoinFactors(st.session.factors))
      .BindBlob(9, SessionMac(st));
  return s->Run();
}

Result<std::optional<StoredSession>> Tables::FindSessionByToken(
    Database& db, const Sha256Digest& token_sha256) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT " + std::string(kSessionColumns) +
                                                " FROM sessions WHERE token_sha256 = ?"));
  s->BindBlob(1, token_sha256);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredSession>();
  StoredSession st;
  st.session.id = s->ColumnText(0);
  st.token_sha256 = DigestFrom(s->ColumnBlobView(1));
  st.session.user_id = s->ColumnText(2);
  st.session.created_at = FromMillis(s->ColumnInt(3));
  st.session.last_seen = FromMillis(s->ColumnInt(4));
  st.session.authenticated_at = FromMillis(s->ColumnInt(5));
  st.session.restricted = s->ColumnInt(6) != 0;
  st.session.factors = SplitFactors(s->ColumnTextView(7));
  const Bytes mac = s->ColumnBlob(8);
  HK_RETURN_IF_ERROR(Finish(*s));
  if (!ConstantTimeEqual(mac, SessionMac(st))) {
    return Tampered("a stored session", st.session.user_id);
  }
  return std::optional<StoredSession>(std::move(st));
}

Status Tables::UpdateSessionTimes(Database& db, const StoredSession& st) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("UPDATE sessions SET last_seen = ?, authenticated_at = ?, "
                                 "row_mac = ? WHERE session_id = ?"));
  s->Bind(1, ToMillis(st.session.last_seen))
      .Bind(2, ToMillis(st.session.authenticated_at))
      .BindBlob(3, SessionMac(st))
      .Bind(4, st.session.id);
  return s->Run();
}

Result<bool> Tables::DeleteSession(Database& db, std::string_view session_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("DELETE FROM sessions WHERE session_id = ? RETURNING 1"));
  s->Bind(1, session_id);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (row) HK_RETURN_IF_ERROR(Finish(*s));
  return row;
}

Result<int> Tables::DeleteUserSessions(Database& db, std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("DELETE FROM sessions WHERE user_id = ? RETURNING 1"));
  s->Bind(1, user_id);
  int n = 0;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ++n;
  }
  return n;
}

Status Tables::DeleteDeadSessions(Database& db, TimePoint created_before,
                                  TimePoint seen_before) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("DELETE FROM sessions WHERE created_at <= ? OR last_seen <= ?"));
  s->Bind(1, ToMillis(created_before)).Bind(2, ToMillis(seen_before));
  return s->Run();
}

// ---------------------------------------------------------------------------------------------
// TOTP secrets and recovery codes.

namespace {
Bytes TotpAad(std::string_view user_id) {
  MacInput in("identity totp secret v1");
  in.Add(user_id);
  const ByteView v = in.view();
  return Bytes(v.begin(), v.end());
}
}  // namespace

Result<Bytes> Tables::SealTotpSecret(std::string_view user_id, ByteView secret) const {
  return AeadSeal(secret_key_.view(), secret, TotpAad(user_id));
}

Result<SecretBytes> Tables::OpenTotpSecret(std::string_view user_id, ByteView sealed) const {
  Result<Bytes> plain = AeadOpen(secret_key_.view(), sealed, TotpAad(user_id));
  if (!plain) {
    if (plain.error().code() == StatusCode::kDataLoss) {
      return Tampered("the TOTP secret", user_id);
    }
    return plain.error();
  }
  SecretBytes out(*plain);
  SecureZero(*plain);
  return out;
}

Sha256Digest Tables::TotpMac(std::string_view user_id, std::string_view state,
                             const StoredTotp& t) const {
  MacInput in("identity totp v1");
  in.Add(user_id).Add(state).Add(t.sealed_secret).Add(t.last_step).Add(ToMillis(t.created_at));
  return mac_.Mac(in.view());
}

Result<std::optional<StoredTotp>> Tables::FindTotp(Database& db, std::string_view user_id,
                                                   std::string_view state) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT sealed_secret, last_step, created_at, row_mac FROM "
                                 "totp_secrets WHERE user_id = ? AND state = ?"));
  s->Bind(1, user_id).Bind(2, state);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredTotp>();
  StoredTotp t;
  t.sealed_secret = s->ColumnBlob(0);
  t.last_step = s->ColumnInt(1);
  t.created_at = FromMillis(s->ColumnInt(2));
  const Bytes mac = s->ColumnBlob(3);
  HK_RETURN_IF_ERROR(Finish(*s));
  if (!ConstantTimeEqual(mac, TotpMac(user_id, state, t))) {
    return Tampered("the TOTP secret", user_id);
  }
  return std::optional<StoredTotp>(std::move(t));
}

Status Tables::PutTotp(Database& db, std::string_view user_id, std::string_view state,
                       const StoredTotp& t) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT OR REPLACE INTO totp_secrets (user_id, state, "
                                 "sealed_secret, last_step, created_at, row_mac) "
                                 "VALUES (?, ?, ?, ?, ?, ?)"));
  s->Bind(1, user_id)
      .Bind(2, state)
      .BindBlob(3, t.sealed_secret)
      .Bind(4, t.last_step)
      .Bind(5, ToMillis(t.created_at))
      .BindBlob(6, TotpMac(user_id, state, t));
  return s->Run();
}

Status Tables::DeleteTotp(Database& db, std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * secrets,
                      db.Prepare("DELETE FROM totp_secrets WHERE user_id = ?"));
  secrets->Bind(1, user_id);
  HK_RETURN_IF_ERROR(secrets->Run());
  HK_ASSIGN_OR_RETURN(Statement * codes,
                      db.Prepare("DELETE FROM recovery_codes WHERE user_id = ?"));
  codes->Bind(1, user_id);
  return codes->Run();
}

Status Tables::ReplaceRecoveryCodes(Database& db, std::string_view user_id,
                                    const std::vector<Sha256Digest>& hashes, TimePoint at) const {
  HK_ASSIGN_OR_RETURN(Statement * clear,
                      db.Prepare("DELETE FROM recovery_codes WHERE user_id = ?"));
  clear->Bind(1, user_id);
  HK_RETURN_IF_ERROR(clear->Run());
  for (const Sha256Digest& h : hashes) {
    HK_ASSIGN_OR_RETURN(Statement * s,
                        db.Prepare("INSERT INTO recovery_codes (user_id, code_hash, created_at) "
                                   "VALUES (?, ?, ?)"));
    s->Bind(1, user_id).BindBlob(2, h).Bind(3, ToMillis(at));
    HK_RETURN_IF_ERROR(s->Run());
  }
  return OkStatus();
}

Result<bool> Tables::UseRecoveryCode(Database& db, std::string_view user_id,
                                     const Sha256Digest& hash, TimePoint at) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND "
                                 "code_hash = ? AND used_at IS NULL RETURNING 1"));
  s->Bind(1, ToMillis(at)).Bind(2, user_id).BindBlob(3, hash);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (row) HK_RETURN_IF_ERROR(Finish(*s));
  return row;
}

// ---------------------------------------------------------------------------------------------
// Certificates bound to users: TLS client certificates and signing certificates, in tables of
// the same shape whose MACs differ by domain, so a row cannot move from one to the other.

namespace {

const char* CertTable(CertUsage usage) {
  return usage == CertUsage::kSigning ? "signing_certs" : "client_certs";
}
const char* CertWhat(CertUsage usage) {
  return usage == CertUsage::kSigning ? "a signing certificate binding"
                                      : "a client certificate binding";
}

}  // namespace

Sha256Digest Tables::CertMac(CertUsage usage, const ClientCertBinding& b) const {
  MacInput in(usage == CertUsage::kSigning ? "identity signing certs v1"
                                           : "identity client certs v1");
  in.Add(b.fingerprint).Add(b.user_id).Add(ToMillis(b.bound_at));
  return mac_.Mac(in.view());
}

Result<std::optional<ClientCertBinding>> Tables::FindCert(Database& db, CertUsage usage,
                                                          std::string_view fingerprint) const {
  HK_ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare(std::string("SELECT fingerprint, user_id, bound_at, row_mac FROM ") +
                 CertTable(usage) + " WHERE fingerprint = ?"));
  s->Bind(1, fingerprint);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<ClientCertBinding>();
  ClientCertBinding b{s->ColumnText(0), s->ColumnText(1), FromMillis(s->ColumnInt(2))};
  const Bytes mac = s->ColumnBlob(3);
  HK_RETURN_IF_ERROR(Finish(*s));
  if (!ConstantTimeEqual(mac, CertMac(usage, b))) return Tampered(CertWhat(usage), b.user_id);
  return std::optional<ClientCertBinding>(std::move(b));
}

Result<std::vector<ClientCertBinding>> Tables::UserCerts(Database& db, CertUsage usage,
                                                         std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare(std::string("SELECT fingerprint, user_id, bound_at, row_mac FROM ") +
                 CertTable(usage) + " WHERE user_id = ? ORDER BY bound_at, " + "fingerprint"));
  s->Bind(1, user_id);
  std::vector<ClientCertBinding> out;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ClientCertBinding b{s->ColumnText(0), s->ColumnText(1), FromMillis(s->ColumnInt(2))};
    if (!ConstantTimeEqual(s->ColumnBlobView(3), CertMac(usage, b))) {
      return Tampered(CertWhat(usage), b.user_id);
    }
    out.push_back(std::move(b));
  }
  return out;
}

Status Tables::InsertCert(Database& db, CertUsage usage, const ClientCertBinding& b) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare(std::string("INSERT INTO ") + CertTable(usage) +
                                 " (fingerprint, user_id, bound_at, row_mac) VALUES (?, ?, ?, ?)"));
  s->Bind(1, b.fingerprint)
      .Bind(2, b.user_id)
      .Bind(3, ToMillis(b.bound_at))
      .BindBlob(4, CertMac(usage, b));
  return s->Run();
}

Result<bool> Tables::DeleteCert(Database& db, CertUsage usage, std::string_view fingerprint) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string("DELETE FROM ") + CertTable(usage) +
                                                " WHERE fingerprint = ? RETURNING 1"));
  s->Bind(1, fingerprint);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (row) HK_RETURN_IF_ERROR(Finish(*s));
  return row;
}

// ---------------------------------------------------------------------------------------------
// API tokens. last_used_at is outside the MAC (it changes on every use); revocation is in it,
// so a revoked token cannot be brought back by editing the row.

Sha256Digest Tables::ApiTokenMac(const StoredApiToken& t) const {
  MacInput in("identity api tokens v1");
  in.Add(t.info.token_id)
      .Add(t.info.user_id)
      .Add(t.secret_sha256)
      .Add(JoinList(t.info.scopes))
      .Add(ToMillis(t.info.created_at))
      .Add(ToMillis(t.info.expires_at))
      .Add(OptionalMillis(t.info.revoked_at));
  return mac_.Mac(in.view());
}

Status Tables::InsertApiToken(Database& db, const StoredApiToken& t) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT INTO api_tokens (" + std::string(kApiTokenColumns) +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->Bind(1, t.info.token_id)
      .Bind(2, t.info.user_id)
      .BindBlob(3, t.secret_sha256)
      .Bind(4, JoinList(t.info.scopes))
      .Bind(5, ToMillis(t.info.created_at))
      .Bind(6, ToMillis(t.info.expires_at));
  BindOptionalTime(*s, 7, t.info.revoked_at);
  BindOptionalTime(*s, 8, t.info.last_used_at);
  s->BindBlob(9, ApiTokenMac(t));
  return s->Run();
}

Result<std::optional<StoredApiToken>> Tables::FindApiToken(Database& db,
                                                           std::string_view token_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT " + std::string(kApiTokenColumns) +
                                                " FROM api_tokens WHERE token_id = ?"));
  s->Bind(1, token_id);
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredApiToken>();
  StoredApiToken t = ReadApiTokenRow(*s);
  const Bytes mac = s->ColumnBlob(8);
  HK_RETURN_IF_ERROR(Finish(*s));
  if (!ConstantTimeEqual(mac, ApiTokenMac(t))) {
    return Tampered("an API token", t.info.user_id);
  }
  return std::optional<StoredApiToken>(std::move(t));
}

Result<std::vector<StoredApiToken>> Tables::UserApiTokens(Database& db,
                                                          std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT " + std::string(kApiTokenColumns) +
                                 " FROM api_tokens WHERE user_id = ? ORDER BY created_at, "
                                 "token_id"));
  s->Bind(1, user_id);
  std::vector<StoredApiToken> out;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    StoredApiToken t = ReadApiTokenRow(*s);
    if (!ConstantTimeEqual(s->ColumnBlobView(8), ApiTokenMac(t))) {
      return Tampered("an API token", t.info.user_id);
    }
    out.push_back(std::move(t));
  }
  return out;
}

Status Tables::UpdateApiToken(Database& db, const StoredApiToken& t) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("UPDATE api_tokens SET revoked_at = ?, last_used_at = ?, "
                                 "row_mac = ? WHERE token_id = ?"));
  BindOptionalTime(*s, 1, t.info.revoked_at);
  BindOptionalTime(*s, 2, t.info.last_used_at);
  s->BindBlob(3, ApiTokenMac(t)).Bind(4, t.info.token_id);
  return s->Run();
}

// ---------------------------------------------------------------------------------------------
// Password resets.

Sha256Digest Tables::ResetMac(const StoredReset& r) const {
  MacInput in("identity password resets v1");
  in.Add(r.record.reset_id)
      .Add(r.record.user_id)
      .Add(r.code_hash)
      .Add(r.record.admin_id)
      .Add(r.record.verified_by)
      .Add(r.record.method)
      .Add(ToMillis(r.record.issued_at))
      .Add(ToMillis(r.record.expires_at))
      .Add(r.state);
  return mac_.Mac(in.view());
}

Status Tables::InsertReset(Database& db, const StoredReset& r) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT INTO password_resets (" + std::string(kResetColumns) +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s->Bind(1, r.record.reset_id)
      .Bind(2, r.record.user_id)
      .BindBlob(3, r.code_hash)
      .Bind(4, r.record.admin_id)
      .Bind(5, r.record.verified_by)
      .Bind(6, r.record.method)
      .Bind(7, ToMillis(r.record.issued_at))
      .Bind(8, ToMillis(r.record.expires_at))
      .Bind(9, r.state)
      .BindBlob(10, ResetMac(r));
  return s->Run();
}

Result<std::vector<StoredReset>> Tables::IssuedResets(Database& db,
                                                      std::string_view user_id) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT " + std::string(kResetColumns) +
                                 " FROM password_resets WHERE user_id = ? AND state = 'issued' "
                                 "ORDER BY issued_at, reset_id"));
  s->Bind(1, user_id);
  std::vector<StoredReset> out;
  while (true) {
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    StoredReset r;
    r.record.reset_id = s->ColumnText(0);
    r.record.user_id = s->ColumnText(1);
    r.code_hash = DigestFrom(s->ColumnBlobView(2));
    r.record.admin_id = s->ColumnText(3);
    r.record.verified_by = s->ColumnText(4);
    r.record.method = s->ColumnText(5);
    r.record.issued_at = FromMillis(s->ColumnInt(6));
    r.record.expires_at = FromMillis(s->ColumnInt(7));
    r.state = s->ColumnText(8);
    if (!ConstantTimeEqual(s->ColumnBlobView(9), ResetMac(r))) {
      return Tampered("a password reset", r.record.user_id);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status Tables::SetResetState(Database& db, StoredReset& r, std::string_view state) const {
  r.state = std::string(state);
  HK_ASSIGN_OR_RETURN(
      Statement * s,
      db.Prepare("UPDATE password_resets SET state = ?, row_mac = ? WHERE reset_id = ?"));
  s->Bind(1, r.state).BindBlob(2, ResetMac(r)).Bind(3, r.record.reset_id);
  return s->Run();
}

// ---------------------------------------------------------------------------------------------
// Setup secrets.

Status Tables::ReplaceSetupSecret(Database& db, const Sha256Digest& hash, TimePoint at) const {
  HK_RETURN_IF_ERROR(db.Exec("UPDATE setup_secrets SET state = 'void' WHERE state = 'unused'"));
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT INTO setup_secrets (secret_hash, created_at, state) "
                                 "VALUES (?, ?, 'unused')"));
  s->BindBlob(1, hash).Bind(2, ToMillis(at));
  return s->Run();
}

Result<std::optional<Sha256Digest>> Tables::UnusedSetupSecret(Database& db) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT secret_hash FROM setup_secrets WHERE state = 'unused' "
                                 "ORDER BY seq DESC LIMIT 1"));
  HK_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<Sha256Digest>();
  const Sha256Digest hash = DigestFrom(s->ColumnBlobView(0));
  HK_RETURN_IF_ERROR(Finish(*s));
  return std::optional<Sha256Digest>(hash);
}

Status Tables::UseSetupSecret(Database& db, TimePoint at) const {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("UPDATE setup_secrets SET state = 'used', used_at = ? "
                                 "WHERE state = 'unused'"));
  s->Bind(1, ToMillis(at));
  return s->Run();
}

}  // namespace hokan::identity_internal
