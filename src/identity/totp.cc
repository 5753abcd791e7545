// Two-factor login: TOTP (RFC 6238), recovery codes, client certificates.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "base/check.h"
#include "base/encoding.h"
#include "identity/identity_store.h"
#include "identity/internal/codes.h"
#include "identity/internal/tables.h"

namespace hokan {
namespace {

using identity_internal::NormalizeCode;
using identity_internal::StoredTotp;
using identity_internal::StoredUser;

constexpr std::size_t kTotpSecretBytes = 20;    // RFC 4226 recommends 160 bits for HMAC-SHA1.
constexpr std::size_t kRecoveryCodeChars = 12;  // 60 bits; the lockout bounds guessing.
constexpr std::size_t kMaxIssuer = 64;

// RFC 6238: T = floor((unix time - T0) / X) with T0 = 0, X = 30.
std::int64_t StepOf(std::int64_t unix_time) {
  return unix_time >= 0 ? unix_time / kTotpPeriodSeconds
                        : (unix_time - kTotpPeriodSeconds + 1) / kTotpPeriodSeconds;
}

std::int64_t StepAt(TimePoint t) {
  return StepOf(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

std::string CodeForStep(ByteView key, std::int64_t step, int digits) {
  std::array<std::uint8_t, 8> counter{};
  auto c = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(c & 0xff);
    c >>= 8;
  }
  const Sha1Digest mac = HmacSha1(key, counter);
  // RFC 4226 section 5.3, dynamic truncation.
  const std::size_t offset = mac[19] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                               static_cast<std::uint32_t>(mac[offset + 3]);
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string out = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - out.size(), '0') + out;
}

// The step within `skew` of `now` whose code is `digits` and that is newer than `last_step`,
// or -1. Every candidate is computed and compared in constant time.
std::int64_t MatchStep(ByteView key, std::string_view digits, TimePoint now, std::int64_t last_step,
                       int skew) {
  const std::int64_t current = StepAt(now);
  std::int64_t found = -1;
  for (std::int64_t step = current - skew; step <= current + skew; ++step) {
    const std::string code = CodeForStep(key, step, kTotpDigits);
    if (ConstantTimeEqual(AsBytes(code), AsBytes(digits)) && step > last_step && found < 0) {
      found = step;
    }
  }
  return found;
}

// RFC 3986 unreserved characters stay; everything else is %XX.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Status MissingSecret(std::string_view user_id) {
  return DataLossError("the TOTP secret of user " + std::string(user_id) +
                       " is missing although the user is enrolled (changed outside hokan)");
}

}  // namespace

std::string TotpCode(ByteView key, std::int64_t unix_time, int digits) {
  HK_CHECK(digits >= 6 && digits <= 8);
  return CodeForStep(key, StepOf(unix_time), digits);
}

Result<TotpEnrolment> IdentityStore::BeginTotpEnrolmentIn(Database& db, std::string_view user_id,
                                                          std::string_view issuer) {
  if (issuer.empty() || issuer.size() > kMaxIssuer || issuer.find(':') != std::string_view::npos ||
      std::any_of(issuer.begin(), issuer.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return InvalidArgumentError(
        "TOTP issuer must be 1-64 characters without ':' or control "
        "characters");
  }
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  SecretBytes secret(kTotpSecretBytes);
  HK_RETURN_IF_ERROR(RandomBytes(secret.mutable_view()));
  StoredTotp pending;
  HK_ASSIGN_OR_RETURN(pending.sealed_secret, tables_->SealTotpSecret(user.user.id, secret.view()));
  pending.created_at = Now();
  HK_RETURN_IF_ERROR(tables_->PutTotp(db, user.user.id, identity_internal::kTotpPending, pending));

  TotpEnrolment e;
  e.secret_base32 = Base32Encode(secret.view(), /*padding=*/false);
  e.otpauth_uri = "otpauth://totp/" + PercentEncode(issuer) + ":" + PercentEncode(user.user.id) +
                  "?secret=" + e.secret_base32 + "&issuer=" + PercentEncode(issuer) +
                  "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
                  "&period=" + std::to_string(kTotpPeriodSeconds);
  return e;
}

Result<TotpConfirmation> IdentityStore::ConfirmTotpIn(Database& db, std::string_view user_id,
                                                      std::string_view code) {
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  const std::string& id = user.user.id;
  HK_ASSIGN_OR_RETURN(std::optional<StoredTotp> pending,
                      tables_->FindTotp(db, id, identity_internal::kTotpPending));
  if (!pending) {
    return FailedPreconditionError("no TOTP enrolment is pending for user " + id +
                                   "; begin one first");
  }
  std::string digits;
  if (!identity_internal::ParseTotpCode(code, digits)) {
    return InvalidArgumentError("TOTP code must be 6 digits");
  }
  HK_ASSIGN_OR_RETURN(SecretBytes secret, tables_->OpenTotpSecret(id, pending->sealed_secret));
  const TimePoint now = Now();
  const std::int64_t step = MatchStep(secret.view(), digits, now, -1, options_.totp_skew_steps);
  if (step < 0) {
    return PermissionDeniedError(
        "TOTP code does not match; check the authenticator app's clock and try again");
  }

  // The pending secret becomes the only one; the code just shown cannot log in again.
  HK_RETURN_IF_ERROR(tables_->DeleteTotp(db, id));
  StoredTotp active = std::move(*pending);
  active.last_step = step;
  active.created_at = now;
  HK_RETURN_IF_ERROR(tables_->PutTotp(db, id, identity_internal::kTotpActive, active));

  TotpConfirmation out;
  std::vector<Sha256Digest> hashes;
  for (int i = 0; i < options_.recovery_codes; ++i) {
    HK_ASSIGN_OR_RETURN(std::string rc, identity_internal::RandomCode(kRecoveryCodeChars));
    hashes.push_back(tables_->SecretHash("recovery code", id, NormalizeCode(rc)));
    out.recovery_codes.push_back(std::move(rc));
  }
  HK_RETURN_IF_ERROR(tables_->ReplaceRecoveryCodes(db, id, hashes, now));
  user.user.totp_enrolled = true;
  HK_RETURN_IF_ERROR(tables_->UpdateUser(db, user));
  return out;
}

Status IdentityStore::ResetSecondFactorIn(Database& db, std::string_view user_id,
                                          std::string_view admin_id) {
  if (admin_id == user_id) {
    return PermissionDeniedError(
        "administrators cannot reset their own second factor; ask another administrator");
  }
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  HK_RETURN_IF_ERROR(tables_->DeleteTotp(db, user.user.id));
  user.user.totp_enrolled = false;
  HK_RETURN_IF_ERROR(tables_->UpdateUser(db, user));
  // The lost device may be in someone else's hands: sessions it opened end too.
  return tables_->DeleteUserSessions(db, user.user.id).error();
}

Result<bool> IdentityStore::VerifyTotpIn(Database& db, const std::string& user_id,
                                         std::string_view digits, TimePoint now) {
  HK_ASSIGN_OR_RETURN(std::optional<StoredTotp> totp,
                      tables_->FindTotp(db, user_id, identity_internal::kTotpActive));
  if (!totp) return MissingSecret(user_id);
  HK_ASSIGN_OR_RETURN(SecretBytes secret, tables_->OpenTotpSecret(user_id, totp->sealed_secret));
  // A step once used is spent, and so is every earlier one: a code seen over a shoulder or
  // replayed from a log cannot log in again.
  const std::int64_t step =
      MatchStep(secret.view(), digits, now, totp->last_step, options_.totp_skew_steps);
  if (step < 0) return false;
  totp->last_step = step;
  HK_RETURN_IF_ERROR(tables_->PutTotp(db, user_id, identity_internal::kTotpActive, *totp));
  return true;
}

Result<bool> IdentityStore::UseRecoveryCodeIn(Database& db, const std::string& user_id,
                                              std::string_view code, TimePoint now) {
  const std::string normalized = NormalizeCode(code);
  if (normalized.empty()) return false;
  return tables_->UseRecoveryCode(db, user_id,
                                  tables_->SecretHash("recovery code", user_id, normalized), now);
}

// ---------------------------------------------------------------------------------------------
// Client certificates.

Result<ClientCertBinding> IdentityStore::BindCertIn(Database& db, CertUsage usage,
                                                    std::string_view user_id,
                                                    std::string_view fingerprint) {
  HK_ASSIGN_OR_RETURN(std::string fp, identity_internal::NormalizeFingerprint(fingerprint));
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  HK_ASSIGN_OR_RETURN(std::optional<ClientCertBinding> existing, tables_->FindCert(db, usage, fp));
  if (existing) return AlreadyExistsError("this certificate is already bound to a user");
  ClientCertBinding b{std::move(fp), user.user.id, Now()};
  HK_RETURN_IF_ERROR(tables_->InsertCert(db, usage, b));
  return b;
}

Status IdentityStore::UnbindCertIn(Database& db, CertUsage usage, std::string_view fingerprint) {
  HK_ASSIGN_OR_RETURN(std::string fp, identity_internal::NormalizeFingerprint(fingerprint));
  HK_ASSIGN_OR_RETURN(bool deleted, tables_->DeleteCert(db, usage, fp));
  if (!deleted) return NotFoundError("no user is bound to this certificate");
  return OkStatus();
}

Result<ClientCertBinding> IdentityStore::BindClientCertIn(Database& db, std::string_view user_id,
                                                          std::string_view fingerprint) {
  return BindCertIn(db, CertUsage::kTlsClient, user_id, fingerprint);
}

Status IdentityStore::UnbindClientCertIn(Database& db, std::string_view fingerprint) {
  return UnbindCertIn(db, CertUsage::kTlsClient, fingerprint);
}

Result<User> IdentityStore::UserForClientCert(Database& db, std::string_view fingerprint) {
  HK_ASSIGN_OR_RETURN(std::string fp, identity_internal::NormalizeFingerprint(fingerprint));
  HK_ASSIGN_OR_RETURN(std::optional<ClientCertBinding> binding,
                      tables_->FindCert(db, CertUsage::kTlsClient, fp));
  if (!binding) return NotFoundError("no user is bound to this client certificate");
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, binding->user_id));
  if (!user.user.ActiveAt(Now())) {
    return UnauthenticatedError(
        "the account bound to this client certificate is disabled or expired");
  }
  return std::move(user.user);
}

Result<std::vector<ClientCertBinding>> IdentityStore::ListCerts(Database& db, CertUsage usage,
                                                                std::string_view user_id) {
  return tables_->UserCerts(db, usage, user_id);
}

Result<std::vector<ClientCertBinding>> IdentityStore::ListClientCerts(Database& db,
                                                                      std::string_view user_id) {
  return ListCerts(db, CertUsage::kTlsClient, user_id);
}

Result<std::optional<std::string>> IdentityStore::SigningCertOwner(Database& db,
                                                                   std::string_view fingerprint) {
  HK_ASSIGN_OR_RETURN(std::string fp, identity_internal::NormalizeFingerprint(fingerprint));
  HK_ASSIGN_OR_RETURN(std::optional<ClientCertBinding> binding,
                      tables_->FindCert(db, CertUsage::kSigning, fp));
  if (!binding) return std::optional<std::string>();
  return std::optional<std::string>(binding->user_id);
}

}  // namespace hokan
