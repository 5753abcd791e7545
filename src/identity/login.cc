// Login, re-authentication, lockout and sessions (G-6.5-C13, G-6.5-D4).
//
// A login runs in three phases so that Argon2id never runs inside the write transaction:
//  1. a snapshot read of the failure count and the user row;
//  2. the password check, with no lock held;
//  3. one committer unit that re-reads both, checks the second factor (TOTP steps and
//     recovery codes must be used atomically), records the outcome and calls the hook.
// If the user row changed between 1 and 3 (an administrator disabled the account, say), the
// attempt starts again. Attempts for one login id are serialised in-process by the KeyGate.

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/encoding.h"
#include "crypto/password_hash.h"
#include "identity/identity_store.h"
#include "identity/internal/codes.h"
#include "identity/internal/key_gate.h"
#include "identity/internal/tables.h"

namespace hokan {
namespace identity_internal {

enum class SecondFactorCheck {
  kPassed,       // A possession factor was shown; `factors` names it.
  kMissing,      // The user has one but none was given.
  kWrong,        // A code was given and is wrong (or a used recovery code).
  kNotEnrolled,  // The user has no possession factor yet.
};

struct LoginAttempt {
  std::string key;      // Failure-count key.
  std::string user_id;  // Empty when the login id cannot be a user id.
  const LoginRequest* request = nullptr;
  std::optional<StoredUser> user;  // From the snapshot.
  bool password_ok = false;
  std::string rehash;  // A new hash when the stored one has outdated parameters.
  // Re-authentication: the session to refresh (by token hash); null for a login.
  const Sha256Digest* session_token_sha256 = nullptr;
};

}  // namespace identity_internal

namespace {

using identity_internal::FailureState;
using identity_internal::LoginAttempt;
using identity_internal::SecondFactorCheck;
using identity_internal::StoredSession;
using identity_internal::StoredUser;

constexpr int kMaxRounds = 3;
constexpr std::size_t kSessionTokenBytes = 32;
constexpr std::size_t kSessionIdBytes = 16;

// "15 minutes", "12 hours", "90 seconds".
std::string Describe(std::chrono::seconds d) {
  const auto n = d.count();
  if (n >= 3600 && n % 3600 == 0) {
    return std::to_string(n / 3600) + (n == 3600 ? " hour" : " hours");
  }
  if (n >= 60 && n % 60 == 0) {
    return std::to_string(n / 60) + (n == 60 ? " minute" : " minutes");
  }
  return std::to_string(n) + (n == 1 ? " second" : " seconds");
}

bool IsSessionToken(std::string_view token) {
  return token.size() == 2 * kSessionTokenBytes &&
         std::all_of(token.begin(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status InvalidSession() { return UnauthenticatedError("session is not valid; sign in again"); }

LoginOutcome LockedOut(TimePoint next_attempt_at, TimePoint now) {
  LoginOutcome o;
  o.kind = LoginOutcome::Kind::kLockedOut;
  o.retry_after = std::chrono::ceil<std::chrono::seconds>(next_attempt_at - now);
  return o;
}

// The failure-count key for a login id. Ids are lower case, so "NSato" is "nsato"; text that
// cannot be an id is counted under a digest of itself (no unbounded text in the table).
void LoginKey(std::string_view login_id, std::string& key, std::string& user_id) {
  std::string lower(login_id);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (ValidateUserId(lower).ok()) {
    key = lower;
    user_id = lower;
  } else {
    key = "#" + HexEncode(Sha256(AsBytes(login_id))).substr(0, 32);
    user_id.clear();
  }
}

Status CheckSessionAlive(const Session& s, TimePoint now, const IdentityOptions& options) {
  if (now - s.created_at >= options.session_lifetime) {
    return UnauthenticatedError("session ended after " + Describe(options.session_lifetime) +
                                "; sign in again");
  }
  if (now - s.last_seen >= options.session_idle_timeout) {
    return UnauthenticatedError("session locked after " + Describe(options.session_idle_timeout) +
                                " without use; sign in again");
  }
  return OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Login.

Result<LoginOutcome> IdentityStore::Login(const LoginRequest& request, const LoginHook& in_unit) {
  std::string key;
  std::string user_id;
  LoginKey(request.login_id, key, user_id);
  identity_internal::KeyGate::Hold hold(*gate_, key);
  LoginAttempt attempt{.key = key, .user_id = user_id, .request = &request};
  return RunLogin(attempt, in_unit);
}

Result<LoginOutcome> IdentityStore::Reauthenticate(std::string_view session_token,
                                                   const LoginRequest& proof,
                                                   const LoginHook& in_unit) {
  if (!IsSessionToken(session_token)) return InvalidSession();
  const Sha256Digest token_sha256 = Sha256(AsBytes(session_token));
  std::string user_id;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& d) -> Status {
    HK_ASSIGN_OR_RETURN(std::optional<StoredSession> s,
                        tables_->FindSessionByToken(d, token_sha256));
    if (!s) return InvalidSession();
    HK_RETURN_IF_ERROR(CheckSessionAlive(s->session, Now(), options_));
    user_id = s->session.user_id;
    return OkStatus();
  }));
  identity_internal::KeyGate::Hold hold(*gate_, user_id);
  LoginAttempt attempt{
      .key = user_id, .user_id = user_id, .request = &proof, .session_token_sha256 = &token_sha256};
  return RunLogin(attempt, in_unit);
}

Result<LoginOutcome> IdentityStore::RunLogin(LoginAttempt& attempt, const LoginHook& in_unit) {
  const LoginRequest& request = *attempt.request;
  for (int round = 0; round < kMaxRounds; ++round) {
    // Phase 1: snapshot.
    FailureState failures;
    attempt.user.reset();
    HK_RETURN_IF_ERROR(db_.Read([&](Database& d) -> Status {
      HK_ASSIGN_OR_RETURN(failures, tables_->Failures(d, attempt.key));
      if (!attempt.user_id.empty()) {
        HK_ASSIGN_OR_RETURN(attempt.user, tables_->FindUser(d, attempt.user_id));
      }
      return OkStatus();
    }));
    const TimePoint now = Now();
    if (now < failures.next_attempt_at) {
      // Refused unchecked: no Argon2id, so a locked account costs the server nothing.
      const LoginOutcome outcome = LockedOut(failures.next_attempt_at, now);
      if (in_unit) {
        HK_RETURN_IF_ERROR(
            db_.committer().Run([&](Database& d) -> Status { return in_unit(d, outcome); }));
      }
      return outcome;
    }

    // Phase 2: the password, with no lock held. Unknown users and users without a password
    // are checked against the dummy hash: the same work and the same answer as a wrong
    // password (G-6.5-D4).
    const bool has_hash = attempt.user && !attempt.user->password_hash.empty();
    const bool match =
        VerifyCounted(request.password, has_hash ? attempt.user->password_hash : dummy_hash_);
    attempt.password_ok = has_hash && match;
    attempt.rehash.clear();
    if (attempt.password_ok &&
        PasswordNeedsRehash(attempt.user->password_hash, options_.password_hash)) {
      // Best effort: the old hash keeps working if this fails.
      Result<std::string> rehash = HashPassword(request.password, options_.password_hash);
      if (rehash) attempt.rehash = std::move(*rehash);
    }

    // Phase 3: decide and record, atomically.
    bool retry = false;
    LoginOutcome outcome;
    HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& d) -> Status {
      HK_ASSIGN_OR_RETURN(outcome, FinishLoginIn(d, attempt, retry));
      if (retry || !in_unit) return OkStatus();
      return in_unit(d, outcome);
    }));
    if (!retry) return outcome;
  }
  return UnavailableError("the account changed during sign-in; try again");
}

Result<LoginOutcome> IdentityStore::FinishLoginIn(Database& db, const LoginAttempt& attempt,
                                                  bool& retry) {
  const TimePoint now = Now();
  HK_ASSIGN_OR_RETURN(FailureState failures, tables_->Failures(db, attempt.key));
  if (now < failures.next_attempt_at) return LockedOut(failures.next_attempt_at, now);

  std::optional<StoredUser> user;
  if (!attempt.user_id.empty()) {
    HK_ASSIGN_OR_RETURN(user, tables_->FindUser(db, attempt.user_id));
  }
  if (user.has_value() != attempt.user.has_value() ||
      (user && user->row_mac != attempt.user->row_mac)) {
    retry = true;
    return LoginOutcome{};
  }

  std::optional<StoredSession> session;
  if (attempt.session_token_sha256 != nullptr) {
    HK_ASSIGN_OR_RETURN(session, tables_->FindSessionByToken(db, *attempt.session_token_sha256));
    if (!session) return InvalidSession();
    HK_RETURN_IF_ERROR(CheckSessionAlive(session->session, now, options_));
  }

  // Disabled and expired accounts fail exactly like a wrong password, and count the same, so
  // the outcome says nothing about the account.
  if (!attempt.password_ok || !user->user.ActiveAt(now)) {
    return RecordFailureIn(db, attempt.key, failures, now);
  }
  std::vector<Factor> factors = {Factor::kPassword};
  HK_ASSIGN_OR_RETURN(SecondFactorCheck check,
                      CheckSecondFactorIn(db, *user, *attempt.request, now, factors));
  bool restricted = false;
  switch (check) {
    case SecondFactorCheck::kWrong:
      return RecordFailureIn(db, attempt.key, failures, now);
    case SecondFactorCheck::kMissing: {
      LoginOutcome o;
      o.kind = LoginOutcome::Kind::kSecondFactorRequired;
      o.user_id = user->user.id;
      return o;
    }
    case SecondFactorCheck::kPassed:
      break;
    case SecondFactorCheck::kNotEnrolled:
      // G-6.5-C13: one factor is not enough; the session can only enrol one.
      restricted = options_.require_two_factor;
      break;
  }

  if (!attempt.rehash.empty()) {
    user->password_hash = attempt.rehash;
    HK_RETURN_IF_ERROR(tables_->UpdateUser(db, *user));
  }
  HK_RETURN_IF_ERROR(tables_->ClearFailures(db, attempt.key));

  LoginOutcome o;
  o.kind = LoginOutcome::Kind::kOk;
  o.user_id = user->user.id;
  if (session) {
    session->session.authenticated_at = now;
    session->session.last_seen = now;
    HK_RETURN_IF_ERROR(tables_->UpdateSessionTimes(db, *session));
    o.session = session->session;
  } else {
    HK_ASSIGN_OR_RETURN(o.session, CreateSessionIn(db, user->user.id, restricted,
                                                   std::move(factors), now, o.session_token));
    // Sessions nobody can use any more go when someone signs in.
    HK_RETURN_IF_ERROR(tables_->DeleteDeadSessions(db, now - options_.session_lifetime,
                                                   now - options_.session_idle_timeout));
  }
  return o;
}

LoginOutcome IdentityStore::CountFailure(FailureState& f, TimePoint now) const {
  if (f.failures > 0 && now - f.last_failure_at >= options_.failure_memory) f.failures = 0;
  ++f.failures;
  f.last_failure_at = now;
  f.next_attempt_at = now;
  LoginOutcome o;  // kFailed, every other field at its default.
  if (f.failures >= options_.failures_before_lockout) {
    f.next_attempt_at = now + options_.lockout;
    o.lockout_started = true;
  } else if (f.failures >= options_.failures_before_delay) {
    const int doublings = std::min(f.failures - options_.failures_before_delay, 30);
    const auto delay = std::min<std::chrono::seconds>(
        options_.first_delay * (std::int64_t{1} << doublings), options_.lockout);
    f.next_attempt_at = now + delay;
  }
  return o;
}

Result<LoginOutcome> IdentityStore::RecordFailureIn(Database& db, const std::string& key,
                                                    FailureState failures, TimePoint now) {
  LoginOutcome o = CountFailure(failures, now);
  HK_RETURN_IF_ERROR(tables_->SetFailures(db, key, failures));
  return o;
}

Result<SecondFactorCheck> IdentityStore::CheckSecondFactorIn(Database& db, const StoredUser& user,
                                                             const LoginRequest& request,
                                                             TimePoint now,
                                                             std::vector<Factor>& factors) {
  const std::string& id = user.user.id;
  if (!request.client_cert_fingerprint.empty()) {
    Result<std::string> fp =
        identity_internal::NormalizeFingerprint(request.client_cert_fingerprint);
    if (fp) {
      HK_ASSIGN_OR_RETURN(std::optional<ClientCertBinding> binding,
                          tables_->FindCert(db, CertUsage::kTlsClient, *fp));
      if (binding && binding->user_id == id) {
        factors.push_back(Factor::kClientCertificate);
        return SecondFactorCheck::kPassed;
      }
    }
  }
  if (user.user.totp_enrolled) {
    if (request.second_factor.empty()) return SecondFactorCheck::kMissing;
    std::string digits;
    if (identity_internal::ParseTotpCode(request.second_factor, digits)) {
      HK_ASSIGN_OR_RETURN(bool ok, VerifyTotpIn(db, id, digits, now));
      if (!ok) return SecondFactorCheck::kWrong;
      factors.push_back(Factor::kTotp);
      return SecondFactorCheck::kPassed;
    }
    HK_ASSIGN_OR_RETURN(bool used, UseRecoveryCodeIn(db, id, request.second_factor, now));
    if (!used) return SecondFactorCheck::kWrong;
    factors.push_back(Factor::kRecoveryCode);
    return SecondFactorCheck::kPassed;
  }
  // A bound certificate is this user's possession factor; without it there is nothing else.
  HK_ASSIGN_OR_RETURN(std::vector<ClientCertBinding> certs,
                      tables_->UserCerts(db, CertUsage::kTlsClient, id));
  if (!certs.empty()) return SecondFactorCheck::kMissing;
  return SecondFactorCheck::kNotEnrolled;
}

Status IdentityStore::CheckNotLockedOut(Database& db, const std::string& key, TimePoint now) {
  HK_ASSIGN_OR_RETURN(FailureState failures, tables_->Failures(db, key));
  if (now < failures.next_attempt_at) {
    return PermissionDeniedError(
        "too many failed attempts; try again in " +
        Describe(std::chrono::ceil<std::chrono::seconds>(failures.next_attempt_at - now)));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Sessions.

Result<Session> IdentityStore::CreateSessionIn(Database& db, const std::string& user_id,
                                               bool restricted, std::vector<Factor> factors,
                                               TimePoint now, std::string& token) {
  StoredSession s;
  HK_ASSIGN_OR_RETURN(s.session.id, RandomHexId(kSessionIdBytes));
  HK_ASSIGN_OR_RETURN(token, RandomHexId(kSessionTokenBytes));
  s.token_sha256 = Sha256(AsBytes(token));
  s.session.user_id = user_id;
  s.session.created_at = now;
  s.session.last_seen = now;
  s.session.authenticated_at = now;
  s.session.restricted = restricted;
  s.session.factors = std::move(factors);
  HK_RETURN_IF_ERROR(tables_->InsertSession(db, s));
  return s.session;
}

Status IdentityStore::LoadLiveSession(Database& db, std::string_view token, TimePoint now,
                                      StoredSession& session, StoredUser& user) {
  if (!IsSessionToken(token)) return InvalidSession();
  HK_ASSIGN_OR_RETURN(std::optional<StoredSession> s,
                      tables_->FindSessionByToken(db, Sha256(AsBytes(token))));
  if (!s) return InvalidSession();
  HK_RETURN_IF_ERROR(CheckSessionAlive(s->session, now, options_));
  HK_ASSIGN_OR_RETURN(std::optional<StoredUser> u, tables_->FindUser(db, s->session.user_id));
  if (!u || !u->user.ActiveAt(now)) {
    return UnauthenticatedError("the session's account is disabled or expired");
  }
  session = std::move(*s);
  user = std::move(*u);
  return OkStatus();
}

Result<ResolvedSession> IdentityStore::ResolveSessionIn(Database& db, std::string_view token) {
  const TimePoint now = Now();
  StoredSession s;
  StoredUser user;
  HK_RETURN_IF_ERROR(LoadLiveSession(db, token, now, s, user));
  if (s.session.last_seen + options_.session_touch_interval <= now) {
    s.session.last_seen = now;
    HK_RETURN_IF_ERROR(tables_->UpdateSessionTimes(db, s));
  }
  return ResolvedSession{std::move(s.session), std::move(user.user)};
}

Result<ResolvedSession> IdentityStore::PeekSession(Database& db, std::string_view token,
                                                   bool& touch_due) {
  const TimePoint now = Now();
  StoredSession s;
  StoredUser user;
  HK_RETURN_IF_ERROR(LoadLiveSession(db, token, now, s, user));
  touch_due = s.session.last_seen + options_.session_touch_interval <= now;
  return ResolvedSession{std::move(s.session), std::move(user.user)};
}

Status IdentityStore::RevokeSessionIn(Database& db, std::string_view session_id) {
  HK_ASSIGN_OR_RETURN(bool deleted, tables_->DeleteSession(db, session_id));
  if (!deleted) return NotFoundError("no session " + std::string(session_id));
  return OkStatus();
}

Result<int> IdentityStore::RevokeUserSessionsIn(Database& db, std::string_view user_id) {
  return tables_->DeleteUserSessions(db, user_id);
}

}  // namespace hokan
