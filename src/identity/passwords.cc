// Setting passwords (G-6.5-C14a, C14d, C14e) and administrator resets (G-6.5-C14b).
//
// SetPassword does its Argon2id work (the proof, up to five history checks, the new hash)
// before it opens a write transaction, then re-checks in the unit that nothing it relied on
// changed meanwhile.

#include <algorithm>
#include <utility>

#include "crypto/password_hash.h"
#include "identity/identity_store.h"
#include "identity/internal/codes.h"
#include "identity/internal/key_gate.h"
#include "identity/internal/tables.h"
#include "identity/password_policy.h"

namespace hokan {
namespace {

using identity_internal::FailureState;
using identity_internal::NormalizeCode;
using identity_internal::StoredReset;
using identity_internal::StoredUser;

constexpr std::size_t kResetCodeChars = 20;  // 100 bits.
constexpr std::size_t kMaxVerificationText = 200;

Status ResetRefused() {
  return PermissionDeniedError("password reset code is wrong, used or expired");
}

Status ValidateVerificationText(std::string_view what, std::string_view text) {
  if (text.empty() || text.size() > kMaxVerificationText ||
      std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return InvalidArgumentError(std::string(what) +
                                " must be 1-200 characters without control characters");
  }
  return OkStatus();
}

// The issued, unexpired reset whose code is `code`, if any.
std::optional<StoredReset> MatchReset(std::vector<StoredReset>& issued, const Sha256Digest& hash,
                                      TimePoint now) {
  std::optional<StoredReset> found;
  for (StoredReset& r : issued) {
    if (ConstantTimeEqual(r.code_hash, hash) && now < r.record.expires_at) found = std::move(r);
  }
  return found;
}

}  // namespace

Result<PasswordChange> IdentityStore::SetPassword(std::string_view user_id_in,
                                                  std::string_view new_password,
                                                  const PasswordProof& proof,
                                                  const PasswordHook& in_unit) {
  const bool by_reset = proof.kind == PasswordProof::Kind::kResetCode;
  const std::string user_id(user_id_in);
  if (!ValidateUserId(user_id).ok()) {
    if (by_reset) return ResetRefused();
    return NotFoundError("no user " + user_id);
  }
  identity_internal::KeyGate::Hold hold(*gate_, user_id);
  const Sha256Digest code_hash =
      tables_->SecretHash("password reset", user_id, NormalizeCode(proof.secret));

  // Phase 1: snapshot.
  std::optional<StoredUser> user;
  std::vector<std::string> history;
  std::optional<StoredReset> reset;
  TimePoint now = Now();
  HK_RETURN_IF_ERROR(db_.Read([&](Database& d) -> Status {
    HK_ASSIGN_OR_RETURN(user, tables_->FindUser(d, user_id));
    if (!user) return by_reset ? ResetRefused() : NotFoundError("no user " + user_id);
    if (by_reset) {
      HK_ASSIGN_OR_RETURN(std::vector<StoredReset> issued, tables_->IssuedResets(d, user_id));
      reset = MatchReset(issued, code_hash, now);
      if (!reset) return ResetRefused();
    } else {
      HK_RETURN_IF_ERROR(CheckNotLockedOut(d, user_id, now));
    }
    HK_ASSIGN_OR_RETURN(history, tables_->PasswordHistory(d, user_id));
    return OkStatus();
  }));

  // Phase 2: Argon2id with no lock held.
  if (!by_reset) {
    const bool has_hash = !user->password_hash.empty();
    const bool match =
        VerifyCounted(proof.secret, has_hash ? user->password_hash : dummy_hash_) && has_hash;
    if (!match) {
      // Counts like a failed login: a stolen session must not become a password oracle.
      HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& d) -> Status {
        const TimePoint at = Now();
        HK_ASSIGN_OR_RETURN(FailureState failures, tables_->Failures(d, user_id));
        return RecordFailureIn(d, user_id, failures, at).error();
      }));
      return PermissionDeniedError("current password is wrong");
    }
  }
  HK_RETURN_IF_ERROR(
      CheckPassword(new_password, PasswordContext{.user_id = user_id,
                                                  .display_name = user->user.display_name,
                                                  .two_factor = options_.require_two_factor,
                                                  .previous_hashes = history}));
  HK_ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password, options_.password_hash));

  // Phase 3: store, if nothing changed meanwhile.
  PasswordChange change{.user_id = user_id};
  HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& d) -> Status {
    now = Now();
    HK_ASSIGN_OR_RETURN(std::optional<StoredUser> current, tables_->FindUser(d, user_id));
    if (!current || current->row_mac != user->row_mac) {
      return UnavailableError("user " + user_id +
                              " changed while the password was being set; try again");
    }
    if (by_reset) {
      HK_ASSIGN_OR_RETURN(std::vector<StoredReset> issued, tables_->IssuedResets(d, user_id));
      std::optional<StoredReset> still = MatchReset(issued, code_hash, now);
      if (!still || still->record.reset_id != reset->record.reset_id) return ResetRefused();
      HK_RETURN_IF_ERROR(tables_->SetResetState(d, *still, "used"));
      change.reset = still->record;
      // Whoever knew the old password may hold a session; a reset ends them all.
      HK_RETURN_IF_ERROR(tables_->DeleteUserSessions(d, user_id).error());
      HK_RETURN_IF_ERROR(tables_->ClearFailures(d, user_id));
    }
    current->password_hash = hash;
    HK_RETURN_IF_ERROR(tables_->UpdateUser(d, *current));
    HK_RETURN_IF_ERROR(tables_->AddPasswordHistory(d, user_id, hash, now));
    if (in_unit) return in_unit(d, change);
    return OkStatus();
  }));
  return change;
}

Result<IssuedPasswordReset> IdentityStore::IssuePasswordResetIn(Database& db,
                                                                std::string_view user_id,
                                                                std::string_view admin_id,
                                                                std::string_view verified_by,
                                                                std::string_view method) {
  // G-6.5-C14b: resetting is for someone else, whose identity a person has checked. An
  // administrator changes their own password with the current one, like everyone.
  if (admin_id == user_id) {
    return PermissionDeniedError(
        "administrators cannot reset their own password; change it with the current one or ask "
        "another administrator");
  }
  HK_RETURN_IF_ERROR(ValidateUserId(admin_id));
  HK_RETURN_IF_ERROR(ValidateVerificationText("who verified the identity", verified_by));
  HK_RETURN_IF_ERROR(ValidateVerificationText("how the identity was verified", method));
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  const std::string& id = user.user.id;
  const TimePoint now = Now();

  HK_ASSIGN_OR_RETURN(std::vector<StoredReset> earlier, tables_->IssuedResets(db, id));
  for (StoredReset& r : earlier) HK_RETURN_IF_ERROR(tables_->SetResetState(db, r, "void"));

  IssuedPasswordReset out;
  HK_ASSIGN_OR_RETURN(out.code, identity_internal::RandomCode(kResetCodeChars));
  StoredReset r;
  HK_ASSIGN_OR_RETURN(r.record.reset_id, RandomHexId(16));
  r.record.user_id = id;
  r.record.admin_id = std::string(admin_id);
  r.record.verified_by = std::string(verified_by);
  r.record.method = std::string(method);
  r.record.issued_at = now;
  r.record.expires_at = now + options_.reset_code_lifetime;
  r.code_hash = tables_->SecretHash("password reset", id, NormalizeCode(out.code));
  r.state = "issued";
  HK_RETURN_IF_ERROR(tables_->InsertReset(db, r));
  out.record = r.record;

  // The old password may be what was compromised: it stops working now, and only the code
  // leads to a new one. It stays in the history, so it cannot be chosen again.
  user.password_hash.clear();
  HK_RETURN_IF_ERROR(tables_->UpdateUser(db, user));
  HK_RETURN_IF_ERROR(tables_->DeleteUserSessions(db, id).error());
  // A user locked out by their own forgotten password can sign in once they set a new one.
  HK_RETURN_IF_ERROR(tables_->ClearFailures(db, id));
  return out;
}

}  // namespace hokan
