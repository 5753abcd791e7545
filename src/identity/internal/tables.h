// The identity tables: SQL, row encoding and row MACs. Logic lives in the IdentityStore
// files; this layer only reads and writes rows and refuses rows whose MAC fails.
// The schema is in tables.cc and described in ../README.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "identity/identity.h"
#include "store/sqlite.h"

namespace hokan::identity_internal {

// Times are stored as milliseconds since the Unix epoch (UTC).
std::int64_t ToMillis(TimePoint t);
TimePoint FromMillis(std::int64_t ms);

// Length-prefixed fields, so no two different rows encode alike.
class MacInput {
 public:
  explicit MacInput(std::string_view domain) { Add(domain); }
  MacInput& Add(std::string_view field);
  MacInput& Add(ByteView field) { return Add(AsChars(field)); }
  MacInput& Add(std::int64_t v) { return Add(std::string_view(std::to_string(v))); }
  ByteView view() const { return bytes_; }

 private:
  Bytes bytes_;
};

std::string JoinList(const std::vector<std::string>& items);  // "a,b"
std::vector<std::string> SplitList(std::string_view text);

struct StoredUser {
  User user;
  std::string password_hash;  // Argon2id encoded; empty when the user has none.
  Bytes row_mac;              // As stored: a changed MAC means the row changed.
};

struct FailureState {
  int failures = 0;
  TimePoint last_failure_at;
  TimePoint next_attempt_at;  // Attempts before this are refused unchecked.
};

struct StoredSession {
  Session session;
  Sha256Digest token_sha256{};
};

struct StoredTotp {
  Bytes sealed_secret;
  std::int64_t last_step = -1;  // The newest step used; codes for it or earlier are refused.
  TimePoint created_at;
};

struct StoredReset {
  PasswordResetRecord record;
  Sha256Digest code_hash{};
  std::string state;  // "issued", "used" or "void".
};

struct StoredApiToken {
  ApiTokenInfo info;
  Sha256Digest secret_sha256{};
};

inline constexpr std::string_view kTotpPending = "pending";
inline constexpr std::string_view kTotpActive = "active";

// Not thread-safe on one Database (no connection is); the keys are read-only.
class Tables {
 public:
  Tables(ByteView row_mac_key, ByteView secret_key);

  static Status CreateSchema(Database& db);

  // Keyed hash of a one-time secret (setup secret, reset or recovery code), bound to its
  // purpose and user, so a hash copied to another row or user is useless.
  Sha256Digest SecretHash(std::string_view purpose, std::string_view user_id,
                          std::string_view secret) const;

  // --- users (kDataLoss names the user when the MAC fails)
  Result<std::optional<StoredUser>> FindUser(Database& db, std::string_view user_id) const;
  Result<std::vector<StoredUser>> AllUsers(Database& db) const;
  Status InsertUser(Database& db, StoredUser& user) const;  // Sets row_mac.
  Status UpdateUser(Database& db, StoredUser& user) const;  // Sets row_mac.

  // --- password history: the newest kPasswordHistory hashes, oldest first
  Result<std::vector<std::string>> PasswordHistory(Database& db, std::string_view user_id) const;
  Status AddPasswordHistory(Database& db, std::string_view user_id, std::string_view hash,
                            TimePoint at) const;

  // --- login failures, by login key
  Result<FailureState> Failures(Database& db, std::string_view key) const;
  Status SetFailures(Database& db, std::string_view key, const FailureState& state) const;
  Status ClearFailures(Database& db, std::string_view key) const;

  // --- sessions
  Status InsertSession(Database& db, const StoredSession& s) const;
  Result<std::optional<StoredSession>> FindSessionByToken(Database& db,
                                                          const Sha256Digest& token_sha256) const;
  Status UpdateSessionTimes(Database& db, const StoredSession& s) const;
  Result<bool> DeleteSession(Database& db, std::string_view session_id) const;
  Result<int> DeleteUserSessions(Database& db, std::string_view user_id) const;
  Status DeleteDeadSessions(Database& db, TimePoint created_before, TimePoint seen_before) const;

  // --- TOTP secrets (state kTotpPending or kTotpActive) and recovery codes
  Result<Bytes> SealTotpSecret(std::string_view user_id, ByteView secret) const;
  Result<SecretBytes> OpenTotpSecret(std::string_view user_id, ByteView sealed) const;
  Result<std::optional<StoredTotp>> FindTotp(Database& db, std::string_view user_id,
                                             std::string_view state) const;
  Status PutTotp(Database& db, std::string_view user_id, std::string_view state,
                 const StoredTotp& totp) const;
  Status DeleteTotp(Database& db, std::string_view user_id) const;
  Status ReplaceRecoveryCodes(Database& db, std::string_view user_id,
                              const std::vector<Sha256Digest>& hashes, TimePoint at) const;
  // Marks the code used; false when there is no unused code with this hash.
  Result<bool> UseRecoveryCode(Database& db, std::string_view user_id, const Sha256Digest& hash,
                               TimePoint at) const;

  // --- certificates bound to users (TLS client and signing: one table each)
  Result<std::optional<ClientCertBinding>> FindCert(Database& db, CertUsage usage,
                                                    std::string_view fingerprint) const;
  Result<std::vector<ClientCertBinding>> UserCerts(Database& db, CertUsage usage,
                                                   std::string_view user_id) const;
  Status InsertCert(Database& db, CertUsage usage, const ClientCertBinding& binding) const;
  Result<bool> DeleteCert(Database& db, CertUsage usage, std::string_view fingerprint) const;

  // --- API tokens
  Status InsertApiToken(Database& db, const StoredApiToken& token) const;
  Result<std::optional<StoredApiToken>> FindApiToken(Database& db, std::string_view token_id) const;
  Result<std::vector<StoredApiToken>> UserApiTokens(Database& db, std::string_view user_id) const;
  Status UpdateApiToken(Database& db, const StoredApiToken& token) const;

  // --- password resets
  Status InsertReset(Database& db, const StoredReset& reset) const;
  Result<std::vector<StoredReset>> IssuedResets(Database& db, std::string_view user_id) const;
  Status SetResetState(Database& db, StoredReset& reset, std::string_view state) const;

  // --- setup secrets
  Status ReplaceSetupSecret(Database& db, const Sha256Digest& hash, TimePoint at) const;
  Result<std::optional<Sha256Digest>> UnusedSetupSecret(Database& db) const;
  Status UseSetupSecret(Database& db, TimePoint at) const;

 private:
  Sha256Digest UserMac(const StoredUser& u) const;
  Sha256Digest SessionMac(const StoredSession& s) const;
  Sha256Digest TotpMac(std::string_view user_id, std::string_view state, const StoredTotp& t) const;
  Sha256Digest CertMac(CertUsage usage, const ClientCertBinding& b) const;
  Sha256Digest ApiTokenMac(const StoredApiToken& t) const;
  Sha256Digest ResetMac(const StoredReset& r) const;

  HmacSha256 mac_;
  SecretBytes secret_key_;
};

}  // namespace hokan::identity_internal
