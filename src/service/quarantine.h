// Quarantine: every original that the sanitiser changed, blocked or held, kept encrypted
// (AES-256-GCM under a key derived from the store's KEK, in <data>/quarantine/xx/<id>), with
// its sanitisation report. Only the security officer reads it; a release into the records
// needs a request and an approval by two different people, neither of them the sender
// (G-6.5-C12). Rows are append-only and carry an HMAC like every other row.
//
// Thread-safe (the database serialises writers).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/crypto.h"
#include "store/blob_store.h"
#include "store/sqlite.h"

namespace hokan {

struct QuarantineItem {
  std::string id;          // 32 lower-case hex; also the blob id of the sealed original.
  std::string created_at;  // RFC 3339.
  std::string sender;      // Actor id of who sent the file ("user:alice", "local:bob").
  std::string channel;     // Way in: api, cli, import, maintenance.
  std::string patient_id;
  std::string record_id;  // The record it was for (empty: a new record).
  std::string record_type;
  std::string declared_name;
  std::string media_type;     // As declared by the sender.
  std::string detected_type;  // By content.
  std::string verdict;        // disarmed | blocked | held
  std::string reason;         // Why it was blocked or held ("" for disarmed).
  std::string report_json;    // The sanitisation report.
  std::string sha256;         // Of the original.
  std::uint64_t size = 0;
  std::int64_t version = 0;  // disarmed: the version that holds the disarmed copy.
  bool executable = false;   // A program or script: can never be released.
};

// One step of the release procedure (append-only).
struct QuarantineDecision {
  std::string item_id;
  std::int64_t seq = 0;
  std::string kind;  // release-requested | released | rejected
  std::string actor;
  std::string at;
  std::string reason;
  std::int64_t version = 0;  // released: the version the original became.
};

// The state an item is in, from its decisions.
enum class QuarantineState { kQuarantined, kReleaseRequested, kReleased, kRejected };
std::string_view QuarantineStateName(QuarantineState state);

class QuarantineStore {
 public:
  static Status CreateSchema(Database& db);
  // `blobs` must outlive the store; `seal_key` encrypts originals, `mac_key` protects rows.
  QuarantineStore(BlobStore& blobs, SecretBytes seal_key, ByteView mac_key);

  // Encrypts and stores the original (durably) before its row is written: the write-path
  // invariant, as for versions. Returns the new id.
  Result<std::string> PutOriginal(ByteView original);
  Status InsertIn(Database& db, const QuarantineItem& item);
  Status AddDecisionIn(Database& db, QuarantineDecision& decision);  // Sets seq.

  // kNotFound; kDataLoss when a row fails its integrity check.
  Result<QuarantineItem> GetIn(Database& db, const std::string& id);
  Result<std::vector<QuarantineDecision>> DecisionsIn(Database& db, const std::string& id);
  // Newest first, at most `limit`.
  Result<std::vector<QuarantineItem>> ListIn(Database& db, std::size_t limit);
  // kDataLoss when the sealed original was changed or lost.
  Result<Bytes> ReadOriginal(const QuarantineItem& item);

  static QuarantineState StateOf(const std::vector<QuarantineDecision>& decisions);

 private:
  Sha256Digest ItemMac(const QuarantineItem& item) const;
  Sha256Digest DecisionMac(const QuarantineDecision& d) const;

  BlobStore& blobs_;
  SecretBytes seal_key_;
  HmacSha256 mac_;
};

}  // namespace hokan
