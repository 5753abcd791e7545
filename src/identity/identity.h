// The values the identity module hands out: users, sessions, login outcomes, API tokens,
// password resets, and the options that set the guideline's numbers (lockout, timeouts).
// The store that keeps them is identity_store.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/password_hash.h"

namespace hokan {

// ---------------------------------------------------------------------------------------------
// Users.

enum class UserKind {
  kPerson,       // A member of staff.
  kSystem,       // Another system (API tokens, client certificates).
  kMaintenance,  // A vendor's maintenance engineer: must expire (G-6.8-C3, G-6.8-C4).
};
// "person", "system", "maintenance".
std::string_view UserKindName(UserKind kind);
Result<UserKind> ParseUserKind(std::string_view name);

struct User {
  std::string id;  // [a-z0-9._-]{1,64}; also the login id.
  std::string display_name;
  UserKind kind = UserKind::kPerson;
  // Role names; policy decides what they mean and which exist. Identity stores them.
  std::vector<std::string> roles;
  std::string department;  // May be empty.
  // After this instant the account cannot sign in or use tokens. Always set for maintenance.
  std::optional<TimePoint> expires_at;
  bool disabled = false;
  bool has_password = false;
  bool totp_enrolled = false;
  TimePoint created_at;

  // Not disabled and not expired at `now`.
  bool ActiveAt(TimePoint now) const;
  friend bool operator==(const User&, const User&) = default;
};

struct NewUser {
  std::string id;
  std::string display_name;
  UserKind kind = UserKind::kPerson;
  std::vector<std::string> roles;
  std::string department;
  std::optional<TimePoint> expires_at;  // Required for kMaintenance.
  // Only for the first administrator (whose setup secret is consumed in the same unit) and
  // demo users. Everyone else gets a one-time code from IssuePasswordResetIn and chooses
  // their own password, so no administrator ever knows it (G-6.5-C14c). Empty: no password.
  std::string initial_password;
};

// OK when `id` is 1-64 characters of a-z, 0-9, '.', '_', '-'.
Status ValidateUserId(std::string_view id);

// ---------------------------------------------------------------------------------------------
// Sessions and login.

enum class Factor {
  kPassword,           // Knowledge.
  kTotp,               // Possession: the authenticator app.
  kRecoveryCode,       // Possession: the printed recovery codes.
  kClientCertificate,  // Possession: a TLS client certificate bound to the user.
};
// "password", "totp", "recovery_code", "client_certificate".
std::string_view FactorName(Factor factor);

struct Session {
  std::string id;  // Public: goes into audit entries. Never the token.
  std::string user_id;
  TimePoint created_at;
  TimePoint last_seen;
  TimePoint authenticated_at;  // Login or the latest re-authentication.
  // True when two-factor login is required but the user has no second factor yet: the
  // service allows only enrolment and password change with it.
  bool restricted = false;
  std::vector<Factor> factors;  // How the user proved who they are, in order.
  friend bool operator==(const Session&, const Session&) = default;
};

// True when the session's user proved who they are within `window` of `now` (the service
// asks for this before sensitive actions).
bool RecentlyAuthenticated(const Session& session, TimePoint now,
                           std::chrono::seconds window = std::chrono::minutes(5));

struct LoginRequest {
  std::string login_id;  // Compared case-insensitively (ids are lower case).
  std::string password;
  // A 6-digit TOTP code or a recovery code; empty when the client has not asked yet.
  std::string second_factor;
  // SHA-256 of the TLS client certificate (hex); empty when there is none.
  std::string client_cert_fingerprint;
};

struct LoginOutcome {
  enum class Kind {
    kOk,
    // Wrong password, unknown user, disabled or expired account, wrong second factor: all
    // the same outcome with every other field at its default (G-6.5-D4).
    kFailed,
    // The password was right; ask for the TOTP or recovery code (or a client certificate).
    kSecondFactorRequired,
    // Too many failures: the attempt was refused without checking anything.
    kLockedOut,
  };
  Kind kind = Kind::kFailed;
  std::string user_id;                  // kOk and kSecondFactorRequired.
  Session session;                      // kOk.
  std::string session_token;            // kOk from Login: shown once, stored only as SHA-256.
  std::chrono::seconds retry_after{0};  // kLockedOut: when the next attempt is allowed.
  bool lockout_started = false;         // kFailed: this failure began a temporary lockout.

  friend bool operator==(const LoginOutcome&, const LoginOutcome&) = default;
};
// "ok", "failed", "second_factor_required", "locked_out".
std::string_view LoginOutcomeKindName(LoginOutcome::Kind kind);

struct ResolvedSession {
  Session session;
  User user;
};

// ---------------------------------------------------------------------------------------------
// Passwords.

// What entitles the caller to set a user's password.
struct PasswordProof {
  enum class Kind { kCurrentPassword, kResetCode };
  Kind kind = Kind::kCurrentPassword;
  std::string secret;
  static PasswordProof CurrentPassword(std::string password) {
    return {Kind::kCurrentPassword, std::move(password)};
  }
  static PasswordProof ResetCode(std::string code) { return {Kind::kResetCode, std::move(code)}; }
};

// An administrator's password reset (G-6.5-C14b): who verified the user's identity, and how.
// The service puts it in the audit entry.
struct PasswordResetRecord {
  std::string reset_id;
  std::string user_id;
  std::string admin_id;     // Who issued the reset.
  std::string verified_by;  // Who checked the user's identity (may be the admin).
  std::string method;       // How, e.g. "in person, staff ID card".
  TimePoint issued_at;
  TimePoint expires_at;
  friend bool operator==(const PasswordResetRecord&, const PasswordResetRecord&) = default;
};

struct IssuedPasswordReset {
  PasswordResetRecord record;
  // One-time code for the user (shown once), who chooses the new password with it.
  std::string code;
};

struct PasswordChange {
  std::string user_id;
  std::optional<PasswordResetRecord> reset;  // Set when a reset code was the proof.
};

// ---------------------------------------------------------------------------------------------
// Two-factor login.

inline constexpr int kTotpPeriodSeconds = 30;
inline constexpr int kTotpDigits = 6;

// RFC 6238 TOTP (HMAC-SHA1, T0 = 0, 30-second steps): the `digits`-digit code for
// `unix_time`, zero-padded. `digits` is 6 to 8.
std::string TotpCode(ByteView key, std::int64_t unix_time, int digits = kTotpDigits);

struct TotpEnrolment {
  std::string secret_base32;  // For typing in by hand; unpadded.
  // otpauth://totp/<issuer>:<user>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
  std::string otpauth_uri;
};

struct TotpConfirmation {
  std::vector<std::string> recovery_codes;  // Shown once; each works once.
};

// What a certificate bound to a user is for.
enum class CertUsage {
  kTlsClient,  // A TLS client certificate: the possession factor at sign-in.
  kSigning,    // A signing certificate (HPKI): the user's own key for confirming versions.
};

struct ClientCertBinding {
  std::string fingerprint;  // SHA-256 of the DER certificate, lower-case hex.
  std::string user_id;
  TimePoint bound_at;
  friend bool operator==(const ClientCertBinding&, const ClientCertBinding&) = default;
};

// ---------------------------------------------------------------------------------------------
// API tokens (systems).

struct ApiTokenInfo {
  std::string token_id;  // Public: goes into audit entries and listings.
  std::string user_id;
  std::vector<std::string> scopes;
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<TimePoint> revoked_at;
  std::optional<TimePoint> last_used_at;
  friend bool operator==(const ApiTokenInfo&, const ApiTokenInfo&) = default;
};

struct NewApiToken {
  ApiTokenInfo info;
  std::string token;  // "hkt_<token id>_<secret>": shown once, stored only as SHA-256.
};

struct ResolvedApiToken {
  ApiTokenInfo token;
  User user;
};

// ---------------------------------------------------------------------------------------------
// Options. Every default is the guideline's safe value; README.md lists them.

struct IdentityOptions {
  // G-6.5-C13: a user without a second factor gets only a restricted session (enrolment and
  // password change). Also selects the password length rule (8 with, 13 without; G-6.5-C14d).
  bool require_two_factor = true;
  // Argon2id cost. Tests lower it; production keeps the default.
  PasswordHashParams password_hash;

  // G-6.5-D4. After `failures_before_delay` consecutive failures for a login id, the next
  // attempt must wait `first_delay`, doubling with each further failure; from
  // `failures_before_lockout` failures on, each failure locks the login id for `lockout`.
  // Attempts inside a wait are refused unchecked. Success resets the count; so does
  // `failure_memory` without failures.
  int failures_before_delay = 5;
  std::chrono::seconds first_delay{1};
  int failures_before_lockout = 10;
  std::chrono::seconds lockout = std::chrono::minutes(15);
  std::chrono::seconds failure_memory = std::chrono::hours(24);

  // Sessions lock after `session_idle_timeout` without use and end `session_lifetime` after
  // login, whichever comes first.
  std::chrono::seconds session_idle_timeout = std::chrono::minutes(15);
  std::chrono::seconds session_lifetime = std::chrono::hours(12);
  // A session's last use is written at most this often (each write is a durable commit), so
  // the idle lock takes effect between session_idle_timeout and that plus this interval.
  std::chrono::seconds session_touch_interval = std::chrono::seconds(60);

  std::chrono::seconds reset_code_lifetime = std::chrono::hours(24);
  std::chrono::seconds max_api_token_lifetime = std::chrono::hours(24 * 366);
  // TOTP codes one step (30 s) either side of now are accepted, for clock drift.
  int totp_skew_steps = 1;
  int recovery_codes = 10;
};

}  // namespace hokan
