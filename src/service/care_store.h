// Who cares for which patient, emergency (break-glass) grants, and sensitivity labels: the
// facts the access policy decides on (docs/access-control.md). Stored in the metadata
// database beside the records, so a change commits with its audit entry.
//
// Relationships and grants widen access, so each row carries an HMAC under a key derived
// from the store's KEK: a row inserted or edited behind hokan's back is refused (kDataLoss)
// rather than obeyed. Labels only narrow access.
//
// Thread-safe (stateless apart from the MAC key); every call takes the Database it runs in.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/crypto.h"
#include "policy/policy.h"
#include "store/sqlite.h"

namespace hokan {

struct StoredRelationship {
  std::string id;
  CareRelationship relationship;
  std::string created_by;
  std::string created_at;
};

struct StoredGrant {
  BreakGlassGrant grant;
  std::string reviewed_by;  // Empty until a security officer reviewed it.
  std::string reviewed_at;
  std::string review_note;
};

class CareStore {
 public:
  static Status CreateSchema(Database& db);
  explicit CareStore(ByteView mac_key);

  // kInvalidArgument unless exactly one of user/department is set and the period is sane.
  Result<StoredRelationship> AddRelationshipIn(Database& db, const CareRelationship& r,
                                               const std::string& created_by, TimePoint now);
  // Every relationship of the patient (the policy checks validity at the time of use).
  Result<std::vector<StoredRelationship>> RelationshipsOf(Database& db,
                                                          const std::string& patient_id);
  // Ends a relationship at `at` (kept for the record; no row is deleted).
  Status EndRelationshipIn(Database& db, const std::string& id, TimePoint at);

  Status AddGrantIn(Database& db, const BreakGlassGrant& grant);
  Result<std::vector<BreakGlassGrant>> GrantsOf(Database& db, const std::string& user_id,
                                                const std::string& patient_id);
  // Grants for review, newest first; `unreviewed_only` leaves out the reviewed ones.
  Result<std::vector<StoredGrant>> ListGrants(Database& db, bool unreviewed_only,
                                              std::size_t limit);
  Status ReviewGrantIn(Database& db, const std::string& id, const std::string& reviewer,
                       const std::string& note, TimePoint now);

  // `target` is "patient:<id>" or "record:<id>". Labels: see policy.h.
  Status SetLabelIn(Database& db, const std::string& target, const std::string& label,
                    const std::string& by, TimePoint now);
  Status ClearLabelIn(Database& db, const std::string& target, const std::string& label);
  Result<std::vector<std::string>> LabelsOf(Database& db, const std::string& patient_id,
                                            const std::string& record_id);

 private:
  Sha256Digest RelationshipMac(const StoredRelationship& r, const std::string& valid_until) const;
  Sha256Digest GrantMac(const BreakGlassGrant& g) const;
  HmacSha256 mac_;
};

}  // namespace hokan
