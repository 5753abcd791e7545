// API tokens for system accounts: scoped, expiring, revocable, stored as SHA-256.
//
// Format: "hkt_" + token id (16 hex digits, public) + "_" + secret (64 hex digits). The id
// finds the row; the secret's SHA-256 is compared in constant time. A secret of 256 random
// bits needs no slow hash.

#include <algorithm>
#include <set>
#include <utility>

#include "identity/identity_store.h"
#include "identity/internal/tables.h"

namespace hokan {
namespace {

using identity_internal::StoredApiToken;
using identity_internal::StoredUser;

constexpr std::string_view kTokenPrefix = "hkt_";
constexpr std::size_t kTokenIdBytes = 8;
constexpr std::size_t kTokenSecretBytes = 32;
constexpr std::size_t kMaxScopes = 32;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool ScopeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == ':';
}

Status ValidateScopes(const std::vector<std::string>& scopes) {
  if (scopes.empty() || scopes.size() > kMaxScopes) {
    return InvalidArgumentError("an API token needs 1-32 scopes");
  }
  std::set<std::string_view> seen;
  for (const std::string& scope : scopes) {
    if (scope.empty() || scope.size() > 64 || !std::all_of(scope.begin(), scope.end(), ScopeChar)) {
      return InvalidArgumentError(
          "scopes must be 1-64 characters of a-z, 0-9, '.', '_', '-' or ':'");
    }
    if (!seen.insert(scope).second) {
      return InvalidArgumentError("scope " + scope + " is listed twice");
    }
  }
  return OkStatus();
}

Status InvalidToken() { return UnauthenticatedError("API token is not valid"); }

}  // namespace

Result<NewApiToken> IdentityStore::CreateApiTokenIn(Database& db, std::string_view user_id,
                                                    std::vector<std::string> scopes,
                                                    TimePoint expires_at) {
  HK_RETURN_IF_ERROR(ValidateScopes(scopes));
  const TimePoint now = Now();
  if (expires_at <= now) return InvalidArgumentError("API token expiry must be in the future");
  if (expires_at - now > options_.max_api_token_lifetime) {
    return InvalidArgumentError("API tokens may live at most " +
                                std::to_string(options_.max_api_token_lifetime.count() / 86400) +
                                " days");
  }
  HK_ASSIGN_OR_RETURN(StoredUser user, LoadUser(db, user_id));
  if (user.user.kind != UserKind::kSystem) {
    return FailedPreconditionError("API tokens are only for system accounts; " + user.user.id +
                                   " is a " + std::string(UserKindName(user.user.kind)) +
                                   " account");
  }
  if (!user.user.ActiveAt(now)) {
    return FailedPreconditionError("user " + user.user.id + " is disabled or expired");
  }

  StoredApiToken t;
  HK_ASSIGN_OR_RETURN(t.info.token_id, RandomHexId(kTokenIdBytes));
  HK_ASSIGN_OR_RETURN(std::string secret, RandomHexId(kTokenSecretBytes));
  t.secret_sha256 = Sha256(AsBytes(secret));
  t.info.user_id = user.user.id;
  t.info.scopes = std::move(scopes);
  t.info.created_at = now;
  t.info.expires_at = std::chrono::floor<std::chrono::milliseconds>(expires_at);
  HK_RETURN_IF_ERROR(tables_->InsertApiToken(db, t));
  NewApiToken out;
  out.token = std::string(kTokenPrefix) + t.info.token_id + "_" + secret;
  out.info = std::move(t.info);
  return out;
}

Result<ResolvedApiToken> IdentityStore::ResolveApiTokenIn(Database& db, std::string_view token) {
  constexpr std::size_t kIdChars = 2 * kTokenIdBytes;
  constexpr std::size_t kSecretChars = 2 * kTokenSecretBytes;
  if (token.size() != kTokenPrefix.size() + kIdChars + 1 + kSecretChars ||
      !token.starts_with(kTokenPrefix) || token[kTokenPrefix.size() + kIdChars] != '_') {
    return InvalidToken();
  }
  const std::string_view id = token.substr(kTokenPrefix.size(), kIdChars);
  const std::string_view secret = token.substr(kTokenPrefix.size() + kIdChars + 1);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return InvalidToken();

  HK_ASSIGN_OR_RETURN(std::optional<StoredApiToken> t, tables_->FindApiToken(db, id));
  if (!t || !ConstantTimeEqual(Sha256(AsBytes(secret)), t->secret_sha256)) return InvalidToken();
  const TimePoint now = Now();
  if (t->info.revoked_at) return UnauthenticatedError("API token has been revoked");
  if (now >= t->info.expires_at) return UnauthenticatedError("API token has expired");
  HK_ASSIGN_OR_RETURN(std::optional<StoredUser> user, tables_->FindUser(db, t->info.user_id));
  if (!user || !user->user.ActiveAt(now)) {
    return UnauthenticatedError("the account of this API token is disabled or expired");
  }
  t->info.last_used_at = now;
  HK_RETURN_IF_ERROR(tables_->UpdateApiToken(db, *t));
  return ResolvedApiToken{std::move(t->info), std::move(user->user)};
}

Status IdentityStore::RevokeApiTokenIn(Database& db, std::string_view token_id) {
  HK_ASSIGN_OR_RETURN(std::optional<StoredApiToken> t, tables_->FindApiToken(db, token_id));
  if (!t) return NotFoundError("no API token " + std::string(token_id));
  if (t->info.revoked_at) return OkStatus();
  t->info.revoked_at = Now();
  return tables_->UpdateApiToken(db, *t);
}

Result<std::vector<ApiTokenInfo>> IdentityStore::ListApiTokens(Database& db,
                                                               std::string_view user_id) {
  HK_ASSIGN_OR_RETURN(std::vector<StoredApiToken> stored, tables_->UserApiTokens(db, user_id));
  std::vector<ApiTokenInfo> out;
  out.reserve(stored.size());
  for (StoredApiToken& t : stored) out.push_back(std::move(t.info));
  return out;
}

}  // namespace hokan
