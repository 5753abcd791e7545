#include "identity/identity_store.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "crypto/password_hash.h"
#include "identity/internal/codes.h"
#include "identity/internal/key_gate.h"
#include "identity/internal/tables.h"
#include "identity/password_policy.h"

namespace hokan {
namespace {

using identity_internal::NormalizeCode;
using identity_internal::RandomCode;
using identity_internal::StoredUser;

constexpr std::size_t kMaxName = 128;
constexpr std::size_t kMaxRoles = 32;
constexpr std::size_t kSetupSecretChars = 24;  // 120 bits.

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Status ValidateDisplayName(std::string_view name) {
  if (name.empty() || name.size() > kMaxName || HasControl(name)) {
    return InvalidArgumentError("display name must be 1-128 characters without control characters");
  }
  return OkStatus();
}

Status ValidateDepartment(std::string_view department) {
  if (department.size() > kMaxName || HasControl(department)) {
    return InvalidArgumentError(
        "department must be at most 128 characters without control "
        "characters");
  }
  return OkStatus();
}

// Role names are checked against the role list by policy; here only that they can be stored.
Status ValidateRoles(const std::vector<std::string>& roles) {
  if (roles.size() > kMaxRoles) return InvalidArgumentError("a user has at most 32 roles");
  std::set<std::string_view> seen;
  for (const std::string& role : roles) {
    if (role.empty() || role.size() > 64 || !std::all_of(role.begin(), role.end(), IdChar)) {
      return InvalidArgumentError(
          "role names must be 1-64 characters of a-z, 0-9, '.', '_' or '-'");
    }
    if (!seen.insert(role).second) return InvalidArgumentError("role " + role + " is listed twice");
  }
  return OkStatus();
}

TimePoint FloorMillis(TimePoint t) { return std::chrono::floor<std::chrono::milliseconds>(t); }

Status ValidateExpiry(UserKind kind, const std::optional<TimePoint>& expires_at, TimePoint now) {
  // G-6.8-C4: a maintenance account that is never removed outlives the engineer's contract.
  if (kind == UserKind::kMaintenance && !expires_at) {
    return InvalidArgumentError("maintenance accounts must have an expiry date");
  }
  if (expires_at && *expires_at <= now) {
    return InvalidArgumentError("account expiry must be in the future");
  }
  return OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Free functions of identity.h.

std::string_view UserKindName(UserKind kind) {
  switch (kind) {
    case UserKind::kPerson:
      return "person";
    case UserKind::kSystem:
      return "system";
    case UserKind::kMaintenance:
      return "maintenance";
  }
  return "person";
}

Result<UserKind> ParseUserKind(std::string_view name) {
  for (UserKind k : {UserKind::kPerson, UserKind::kSystem, UserKind::kMaintenance}) {
    if (UserKindName(k) == name) return k;
  }
  return InvalidArgumentError("user kind must be person, system or maintenance");
}

bool User::ActiveAt(TimePoint now) const { return !disabled && (!expires_at || now < *expires_at); }

Status ValidateUserId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), IdChar)) {
    return InvalidArgumentError("user id must be 1-64 characters of a-z, 0-9, '.', '_' or '-'");
  }
  return OkStatus();
}

std::string_view FactorName(Factor factor) {
  switch (factor) {
    case Factor::kPassword:
      return "password";
    case Factor::kTotp:
      return "totp";
    case Factor::kRecoveryCode:
      return "recovery_code";
    case Factor::kClientCertificate:
      return "client_certificate";
  }
  return "password";
}

std::string_view LoginOutcomeKindName(LoginOutcome::Kind kind) {
  switch (kind) {
    case LoginOutcome::Kind::kOk:
      return "ok";
    case LoginOutcome::Kind::kFailed:
      return "failed";
    case LoginOutcome::Kind::kSecondFactorRequired:
      return "second_factor_required";
    case LoginOutcome::Kind::kLockedOut:
      return "locked_out";
  }
  return "failed";
}

bool RecentlyAuthenticated(const Session& session, TimePoint now, std::chrono::seconds window) {
  return session.authenticated_at <= now && now - session.authenticated_at <= window;
}

// ---------------------------------------------------------------------------------------------
// Construction.

Status IdentityStore::CreateSchema(Database& db) {
  return identity_internal::Tables::CreateSchema(db);
}

Result<std::unique_ptr<IdentityStore>> IdentityStore::Open(Env& env, MetadataDb& db,
                                                           ByteView row_mac_key,
                                                           ByteView secret_key,
                                                           const IdentityOptions& options) {
  if (row_mac_key.size() < 16) {
    return InvalidArgumentError("identity row MAC key must be at least 16 bytes");
  }
  if (secret_key.size() != kAeadKeySize) {
    return InvalidArgumentError("identity secret key must be 32 bytes");
  }
  if (options.failures_before_delay < 1 ||
      options.failures_before_lockout < options.failures_before_delay ||
      options.session_idle_timeout.count() <= 0 || options.session_lifetime.count() <= 0 ||
      options.totp_skew_steps < 0 || options.recovery_codes < 1) {
    return InvalidArgumentError("identity options are out of range");
  }
  // Unknown users are checked against this hash of a password nobody knows, made with the
  // same parameters as real hashes, so they cost the same work.
  HK_ASSIGN_OR_RETURN(std::string nobody, RandomHexId(32));
  HK_ASSIGN_OR_RETURN(std::string dummy, HashPassword(nobody, options.password_hash));
  return std::unique_ptr<IdentityStore>(
      new IdentityStore(env, db, row_mac_key, secret_key, options, std::move(dummy)));
}

IdentityStore::IdentityStore(Env& env, MetadataDb& db, ByteView row_mac_key, ByteView secret_key,
                             const IdentityOptions& options, std::string dummy_hash)
    : env_(env),
      db_(db),
      options_(options),
      tables_(std::make_unique<identity_internal::Tables>(row_mac_key, secret_key)),
      gate_(std::make_unique<identity_internal::KeyGate>()),
      dummy_hash_(std::move(dummy_hash)) {}

IdentityStore::~IdentityStore() = default;

// Stored times have millisecond precision; working in it keeps returned values equal to what
// a later read gives.
TimePoint IdentityStore::Now() const { return FloorMillis(env_.clock.Now()); }

bool IdentityStore::VerifyCounted(std::string_view password, std::string_view encoded) {
  verifications_.fetch_add(1);
  return VerifyPassword(password, encoded);
}

Result<StoredUser> IdentityStore::LoadUser(Database& db, std::string_view user_id) {
  HK_ASSIGN_OR_RETURN(std::optional<StoredUser> user, tables_->FindUser(db, user_id));
  if (!user) return NotFoundError("no user " + std::string(user_id));
  return std::move(*user);
}

// ---------------------------------------------------------------------------------------------
// Setup secret.

Result<std::string> IdentityStore::CreateSetupSecretIn(Database& db) {
  HK_ASSIGN_OR_RETURN(std::string secret, RandomCode(kSetupSecretChars));
  HK_RETURN_IF_ERROR(tables_->ReplaceSetupSecret(
      db, tables_->SecretHash("setup secret", "", NormalizeCode(secret)), Now()));
  return secret;
}

Status IdentityStore::ConsumeSetupSecretIn(Database& db, std::string_view secret) {
  HK_ASSIGN_OR_RETURN(std::optional<Sha256Digest> stored, tables_->UnusedSetupSecret(db));
  const Sha256Digest given = tables_->SecretHash("setup secret", "", NormalizeCode(secret));
  if (!stored || !ConstantTimeEqual(given, *stored)) {
    return PermissionDeniedError("setup secret is wrong or has already been used");
  }
  return tables_->UseSetupSecret(db, Now());
}

// ---------------------------------------------------------------------------------------------
// Users.

Result<User> IdentityStore::CreateUserIn(Database& db, const NewUser& nu) {
  HK_RETURN_IF_ERROR(ValidateUserId(nu.id));
  HK_RETURN_IF_ERROR(ValidateDisplayName(nu.display_name));
  HK_RETURN_IF_ERROR(ValidateRoles(nu.roles));
  HK_RETURN_IF_ERROR(ValidateDepartment(nu.department));
  const TimePoint now = Now();
  HK_RETURN_IF_ERROR(ValidateExpiry(nu.kind, nu.expires_at, now));
  HK_ASSIGN_OR_RETURN(std::optional<StoredUser> existing, tables_->FindUser(db, nu.id));
  if (existing) return AlreadyExistsError("user " + nu.id + " already exists");

  StoredUser s;
  s.user.id = nu.id;
  s.user.display_name = nu.display_name;
  s.user.kind = nu.kind;
  s.user.roles = nu.roles;
  s.user.department = nu.department;
  if (nu.expires_at) s.user.expires_at = FloorMillis(*nu.expires_at);
  s.user.created_at = now;
  if (!nu.initial_password.empty()) {
    HK_RETURN_IF_ERROR(CheckPassword(nu.initial_password,
                                     PasswordContext{.user_id = nu.id,
                                                     .display_name = nu.display_name,
                                                     .two_factor = options_.require_two_factor}));
    HK_ASSIGN_OR_RETURN(s.password_hash, HashPassword(nu.initial_password, options_.password_hash));
    s.user.has_password = true;
  }
  HK_RETURN_IF_ERROR(tables_->InsertUser(db, s));
  if (s.user.has_password) {
    HK_RETURN_IF_ERROR(tables_->AddPasswordHistory(db, s.user.id, s.password_hash, now));
  }
  return s.user;
}

Result<User> IdentityStore::GetUser(Database& db, std::string_view user_id) {
  HK_ASSIGN_OR_RETURN(StoredUser s, LoadUser(db, user_id));
  return std::move(s.user);
}

Result<std::vector<User>> IdentityStore::ListUsers(Database& db) {
  HK_ASSIGN_OR_RETURN(std::vector<StoredUser> all, tables_->AllUsers(db));
  std::vector<User> out;
  out.reserve(all.size());
  for (StoredUser& s : all) out.push_back(std::move(s.user));
  return out;
}

Result<User> IdentityStore::UpdateUserIn(Database& db, std::string_view user_id,
                                         const std::function<Status(User&)>& change) {
  HK_ASSIGN_OR_RETURN(StoredUser s, LoadUser(db, user_id));
  HK_RETURN_IF_ERROR(change(s.user));
  HK_RETURN_IF_ERROR(tables_->UpdateUser(db, s));
  return std::move(s.user);
}

Result<User> IdentityStore::SetRolesIn(Database& db, std::string_view user_id,
                                       std::vector<std::string> roles) {
  HK_RETURN_IF_ERROR(ValidateRoles(roles));
  return UpdateUserIn(db, user_id, [&](User& u) {
    u.roles = std::move(roles);
    return OkStatus();
  });
}

Result<User> IdentityStore::SetDisabledIn(Database& db, std::string_view user_id, bool disabled) {
  return UpdateUserIn(db, user_id, [&](User& u) {
    u.disabled = disabled;
    return OkStatus();
  });
}

Result<User> IdentityStore::SetExpiryIn(Database& db, std::string_view user_id,
                                        std::optional<TimePoint> expires_at) {
  const TimePoint now = Now();
  return UpdateUserIn(db, user_id, [&](User& u) {
    HK_RETURN_IF_ERROR(ValidateExpiry(u.kind, expires_at, now));
    u.expires_at = expires_at ? std::optional<TimePoint>(FloorMillis(*expires_at)) : std::nullopt;
    return OkStatus();
  });
}

Result<User> IdentityStore::SetDepartmentIn(Database& db, std::string_view user_id,
                                            std::string department) {
  HK_RETURN_IF_ERROR(ValidateDepartment(department));
  return UpdateUserIn(db, user_id, [&](User& u) {
    u.department = std::move(department);
    return OkStatus();
  });
}

Result<User> IdentityStore::SetDisplayNameIn(Database& db, std::string_view user_id,
                                             std::string display_name) {
  HK_RETURN_IF_ERROR(ValidateDisplayName(display_name));
  return UpdateUserIn(db, user_id, [&](User& u) {
    u.display_name = std::move(display_name);
    return OkStatus();
  });
}

}  // namespace hokan
