// Confirmations (確定) of versions: who confirmed which version when, with the CAdES-T
// signature (CMS, DER) that proves it (issue 4, G-6.12). One per version; a row is never
// changed or deleted (triggers), and carries an HMAC under a key derived from the store's
// KEK, so a confirmation inserted or edited behind hokan's back is refused (kDataLoss) rather
// than shown. The signature itself is re-verified by `hokan verify` against the version's hash.
//
// Thread-safe (stateless apart from the MAC key); every call takes the Database it runs in.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "crypto/crypto.h"
#include "store/sqlite.h"

namespace hokan {

struct Confirmation {
  std::string record_id;
  std::int64_t version = 0;
  std::string confirmer;      // User id.
  std::string confirmed_at;   // RFC 3339.
  std::string method;         // "client-signature" or "server-key".
  Bytes signature;            // CMS SignedData, DER: CAdES-T.
  std::string signer_sha256;  // The signing certificate's SHA-256, hex.
  std::string signer_subject;
  std::string level;           // "CAdES-T".
  std::string timestamp_time;  // The signature timestamp's genTime, RFC 3339.
  std::string tsa_subject;
};

// Long-term evidence for a confirmation (docs/formats/evidence-record.md): the RFC 4998
// evidence record over {content, signature, validation data}, as of one renewal. A renewal
// adds a row with the extended record; rows are never changed.
struct EvidenceRow {
  std::string record_id;
  std::int64_t version = 0;
  std::int64_t renewal = 0;  // 0 for the first archive timestamp, then 1, 2, ...
  Bytes evidence_record;     // DER.
  Bytes validation_data;     // DER (the same in every renewal of a confirmation).
  std::string created_at;
  std::string tsa_not_after;  // The last archive timestamp's TSA certificate expires then.
};

class ConfirmationStore {
 public:
  static Status CreateSchema(Database& db);
  explicit ConfirmationStore(ByteView mac_key);

  // kAlreadyExists when the version is already confirmed.
  Status InsertIn(Database& db, const Confirmation& c);
  // The confirmation of a version, if any. kDataLoss when its row fails the integrity check.
  Result<std::optional<Confirmation>> FindIn(Database& db, const std::string& record_id,
                                             std::int64_t version);
  // Every confirmation, in record/version order, `fn` called for each; a row that fails the
  // integrity check is reported to `fn` with `intact` false (verification lists them all).
  Status ForEachIn(Database& db, const std::function<Status(const Confirmation&, bool intact)>& fn);

  // kAlreadyExists when that renewal is already stored.
  Status InsertEvidenceIn(Database& db, const EvidenceRow& row);
  // The newest evidence of a confirmation, if any; kDataLoss when its row fails the check.
  Result<std::optional<EvidenceRow>> LatestEvidenceIn(Database& db, const std::string& record_id,
                                                      std::int64_t version);

 private:
  Sha256Digest Mac(const Confirmation& c) const;
  Sha256Digest EvidenceMac(const EvidenceRow& e) const;
  HmacSha256 mac_;
};

}  // namespace hokan
