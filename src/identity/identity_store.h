// Users and how they prove who they are: passwords (Argon2id), two-factor login (TOTP,
// recovery codes, client certificates), sessions, API tokens, lockout after failures, the
// first administrator's setup secret, and administrator password resets. Tables live in the
// store's metadata database; README.md lists them and the defaults.
//
// Writes come as `...In(Database& db, ...)`: they run inside the caller's committer unit, so
// the service appends the audit entry in the same transaction:
//
//   db.committer().Run([&](Database& d) -> Status {
//     HK_ASSIGN_OR_RETURN(User user, identity.CreateUserIn(d, new_user));
//     return audit.AppendIn(d, EventFor(user)).error();
//   });
//
// Reads take a Database& too: use them inside a unit or in MetadataDb::Read().
//
// Login, Reauthenticate and SetPassword are different: they run Argon2id (~80 ms and 64 MiB
// each, up to seven times for a password change), which must not hold the write transaction
// that every other writer waits for. They read in a snapshot, hash with no lock held, then
// record the outcome in a committer unit of their own and call `in_unit` inside it (the
// service appends its audit entry there). Never call them from inside a unit or a Read().
// Attempts for the same login id are serialised in this process, so parallel guesses cannot
// slip past the failure count.
//
// Rows that grant power (users, sessions, API tokens, client-certificate bindings, password
// resets, TOTP secrets) carry an HMAC; a row that fails it is refused with kDataLoss naming
// the user, so editing the database cannot make anyone an administrator. TOTP secrets are
// encrypted (AES-256-GCM). Passwords, tokens, codes and secrets are stored only hashed and
// never appear in a Status message.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"
#include "identity/identity.h"
#include "store/metadata_db.h"

namespace hokan {

namespace identity_internal {
class Tables;
class KeyGate;
struct StoredUser;
struct StoredSession;
struct FailureState;
struct LoginAttempt;
enum class SecondFactorCheck;
}  // namespace identity_internal

class IdentityStore {
 public:
  // Runs inside the unit that records a login or re-authentication outcome (every outcome,
  // including failures and lockouts): append the audit entry here. An error rolls the unit
  // back and is returned.
  using LoginHook = std::function<Status(Database&, const LoginOutcome&)>;
  // Runs inside the unit that stores a new password.
  using PasswordHook = std::function<Status(Database&, const PasswordChange&)>;

  // Creates the identity tables when missing (CREATE ... IF NOT EXISTS): at init and when
  // opening a store made before they existed.
  static Status CreateSchema(Database& db);

  // `row_mac_key`: HMAC key for the rows (the service derives it from the KEK with HKDF, info
  // "identity row mac v1"). `secret_key`: 32-byte AES-256-GCM key for TOTP secrets.
  // Computes the dummy password hash that unknown users are checked against. `env` and `db`
  // must outlive the store.
  static Result<std::unique_ptr<IdentityStore>> Open(Env& env, MetadataDb& db, ByteView row_mac_key,
                                                     ByteView secret_key,
                                                     const IdentityOptions& options = {});
  ~IdentityStore();
  IdentityStore(const IdentityStore&) = delete;
  IdentityStore& operator=(const IdentityStore&) = delete;

  const IdentityOptions& options() const { return options_; }

  // --- First administrator (no default passwords anywhere) -----------------------------------

  // A new one-time setup secret for `hokan init` to print; any earlier unused one stops
  // working. Stored only as a keyed hash.
  Result<std::string> CreateSetupSecretIn(Database& db);
  // OK once for the current secret (compared in constant time); kPermissionDenied when it is
  // wrong or already used. The service then creates the first administrator in the same unit.
  Status ConsumeSetupSecretIn(Database& db, std::string_view secret);

  // --- Users ---------------------------------------------------------------------------------

  // kInvalidArgument for a bad id, name, role or department, an expiry not in the future, a
  // maintenance account without expiry (G-6.8-C4), or an initial password the rules refuse;
  // kAlreadyExists for a taken id.
  Result<User> CreateUserIn(Database& db, const NewUser& user);
  // kNotFound; kDataLoss when the stored row fails its MAC.
  Result<User> GetUser(Database& db, std::string_view user_id);
  // Sorted by id. kDataLoss names the first tampered row.
  Result<std::vector<User>> ListUsers(Database& db);
  // Each returns the user as changed.
  Result<User> SetRolesIn(Database& db, std::string_view user_id, std::vector<std::string> roles);
  Result<User> SetDisabledIn(Database& db, std::string_view user_id, bool disabled);
  // kInvalidArgument when clearing the expiry of a maintenance account or when it is not in
  // the future.
  Result<User> SetExpiryIn(Database& db, std::string_view user_id,
                           std::optional<TimePoint> expires_at);
  Result<User> SetDepartmentIn(Database& db, std::string_view user_id, std::string department);
  Result<User> SetDisplayNameIn(Database& db, std::string_view user_id, std::string display_name);

  // --- Passwords -----------------------------------------------------------------------------

  // Sets the password after checking `proof` and the rules (CheckPassword with the last 5
  // passwords; two-factor length when options().require_two_factor). Stored as Argon2id.
  //  - kPermissionDenied: wrong current password (counts as a login failure), locked out, or a
  //    reset code that is wrong, used, expired or for someone else.
  //  - kInvalidArgument: the rules refuse the new password.
  // A reset code also ends every session of the user.
  Result<PasswordChange> SetPassword(std::string_view user_id, std::string_view new_password,
                                     const PasswordProof& proof,
                                     const PasswordHook& in_unit = nullptr);

  // G-6.5-C14b: an administrator resets a user's password after someone (`verified_by`)
  // checked the user's identity by `method`. Returns the record for the audit entry and a
  // one-time code (valid options().reset_code_lifetime) that the user sets a new password
  // with; the administrator never sees or sets the password. The current password stops
  // working, earlier unused codes are void, and the user's sessions end.
  // kPermissionDenied when `admin_id` is `user_id`; kInvalidArgument for empty or over-long
  // `verified_by` or `method`.
  Result<IssuedPasswordReset> IssuePasswordResetIn(Database& db, std::string_view user_id,
                                                   std::string_view admin_id,
                                                   std::string_view verified_by,
                                                   std::string_view method);

  // --- Login and sessions --------------------------------------------------------------------

  // G-6.5-C13, G-6.5-D4. See LoginOutcome. An unknown user costs the same Argon2id work as a
  // wrong password and gives the identical outcome. Errors (not outcomes) only for broken
  // storage (kDataLoss, kUnavailable, kInternal).
  Result<LoginOutcome> Login(const LoginRequest& request, const LoginHook& in_unit = nullptr);

  // Proves again who the session's user is (password and, when enrolled, second factor;
  // `proof.login_id` is ignored) and moves the session's authenticated_at to now. Failures
  // count like login failures. kUnauthenticated when the session is not valid.
  Result<LoginOutcome> Reauthenticate(std::string_view session_token, const LoginRequest& proof,
                                      const LoginHook& in_unit = nullptr);

  // The session for a token, after checking the idle timeout and absolute lifetime and that
  // the user is still active; moves last_seen to now. kUnauthenticated otherwise (the message
  // says whether it expired or locked).
  Result<ResolvedSession> ResolveSessionIn(Database& db, std::string_view token);
  // The same checks without writing (for a read transaction): `touch_due` says whether
  // ResolveSessionIn would record the use now (options().session_touch_interval).
  Result<ResolvedSession> PeekSession(Database& db, std::string_view token, bool& touch_due);
  // Logout. kNotFound when there is no such session.
  Status RevokeSessionIn(Database& db, std::string_view session_id);
  // Ends every session of the user; returns how many there were.
  Result<int> RevokeUserSessionsIn(Database& db, std::string_view user_id);

  // --- Two-factor login ----------------------------------------------------------------------

  // A new TOTP secret awaiting confirmation (replaces any earlier unconfirmed one). `issuer`
  // names this system in the authenticator app.
  Result<TotpEnrolment> BeginTotpEnrolmentIn(Database& db, std::string_view user_id,
                                             std::string_view issuer);
  // Checks `code` against the pending secret; on success it becomes the user's TOTP secret
  // (replacing an earlier one) and options().recovery_codes new recovery codes replace any
  // earlier ones. kPermissionDenied for a wrong code, kFailedPrecondition when nothing is
  // pending.
  Result<TotpConfirmation> ConfirmTotpIn(Database& db, std::string_view user_id,
                                         std::string_view code);
  // An administrator removes a user's TOTP secret and recovery codes (lost phone); the user
  // enrols again after the next login. kPermissionDenied for their own account.
  Status ResetSecondFactorIn(Database& db, std::string_view user_id, std::string_view admin_id);

  // Binds a TLS client certificate (SHA-256 of its DER, hex; colons allowed) to a user; it
  // then counts as the possession factor. kAlreadyExists when bound to anyone.
  Result<ClientCertBinding> BindClientCertIn(Database& db, std::string_view user_id,
                                             std::string_view fingerprint);
  Status UnbindClientCertIn(Database& db, std::string_view fingerprint);
  // The active user bound to the certificate. kNotFound when none; kUnauthenticated when the
  // user is disabled or expired.
  Result<User> UserForClientCert(Database& db, std::string_view fingerprint);
  Result<std::vector<ClientCertBinding>> ListClientCerts(Database& db, std::string_view user_id);

  // Certificates of either usage (identity.h CertUsage). A signing certificate bound to a
  // user is the only certificate whose signatures confirm versions in that user's name
  // (issue 4). kAlreadyExists when the certificate is bound to anyone for that usage.
  Result<ClientCertBinding> BindCertIn(Database& db, CertUsage usage, std::string_view user_id,
                                       std::string_view fingerprint);
  Status UnbindCertIn(Database& db, CertUsage usage, std::string_view fingerprint);
  Result<std::vector<ClientCertBinding>> ListCerts(Database& db, CertUsage usage,
                                                   std::string_view user_id);
  // The user a signing certificate is bound to, if any (bound users may be disabled: the
  // caller checks the confirming user is active).
  Result<std::optional<std::string>> SigningCertOwner(Database& db, std::string_view fingerprint);

  // --- API tokens (system accounts) ----------------------------------------------------------

  // kInvalidArgument for bad scopes or an expiry not in the future or beyond
  // options().max_api_token_lifetime; kFailedPrecondition unless the user is an active
  // system account.
  Result<NewApiToken> CreateApiTokenIn(Database& db, std::string_view user_id,
                                       std::vector<std::string> scopes, TimePoint expires_at);
  // kUnauthenticated for an unknown, malformed, expired or revoked token or an inactive user.
  // Records the use (last_used_at).
  Result<ResolvedApiToken> ResolveApiTokenIn(Database& db, std::string_view token);
  // kNotFound for an unknown id; revoking twice is OK.
  Status RevokeApiTokenIn(Database& db, std::string_view token_id);
  Result<std::vector<ApiTokenInfo>> ListApiTokens(Database& db, std::string_view user_id);

  // Argon2id verifications run so far: lets tests show that an unknown user costs the same
  // work as a wrong password.
  std::uint64_t password_verifications() const { return verifications_.load(); }

 private:
  IdentityStore(Env& env, MetadataDb& db, ByteView row_mac_key, ByteView secret_key,
                const IdentityOptions& options, std::string dummy_hash);

  TimePoint Now() const;
  bool VerifyCounted(std::string_view password, std::string_view encoded);
  Result<identity_internal::StoredUser> LoadUser(Database& db, std::string_view user_id);
  Result<User> UpdateUserIn(Database& db, std::string_view user_id,
                            const std::function<Status(User&)>& change);

  // Login phases (login.cc).
  // The live session for `token` and its user, or kUnauthenticated.
  Status LoadLiveSession(Database& db, std::string_view token, TimePoint now,
                         identity_internal::StoredSession& session,
                         identity_internal::StoredUser& user);
  Result<LoginOutcome> RunLogin(identity_internal::LoginAttempt& attempt, const LoginHook& in_unit);
  Result<LoginOutcome> FinishLoginIn(Database& db, const identity_internal::LoginAttempt& attempt,
                                     bool& retry);
  Result<identity_internal::SecondFactorCheck> CheckSecondFactorIn(
      Database& db, const identity_internal::StoredUser& user, const LoginRequest& request,
      TimePoint now, std::vector<Factor>& factors);
  // Counts one failure into `f` (delay, lockout) and returns the kFailed outcome.
  LoginOutcome CountFailure(identity_internal::FailureState& f, TimePoint now) const;
  Result<LoginOutcome> RecordFailureIn(Database& db, const std::string& key,
                                       identity_internal::FailureState failures, TimePoint now);
  // kPermissionDenied while `key` must wait.
  Status CheckNotLockedOut(Database& db, const std::string& key, TimePoint now);
  Result<Session> CreateSessionIn(Database& db, const std::string& user_id, bool restricted,
                                  std::vector<Factor> factors, TimePoint now, std::string& token);

  // Second factors (totp.cc).
  Result<bool> VerifyTotpIn(Database& db, const std::string& user_id, std::string_view digits,
                            TimePoint now);
  Result<bool> UseRecoveryCodeIn(Database& db, const std::string& user_id, std::string_view code,
                                 TimePoint now);

  Env& env_;
  MetadataDb& db_;
  const IdentityOptions options_;
  std::unique_ptr<identity_internal::Tables> tables_;
  std::unique_ptr<identity_internal::KeyGate> gate_;
  const std::string dummy_hash_;  // Checked for unknown users, so they cost the same.
  std::atomic<std::uint64_t> verifications_{0};
};

}  // namespace hokan
