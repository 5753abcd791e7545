// Long-term evidence: RFC 4998 Evidence Records (ERS) with SHA-256 hash trees. One TSA request
// covers a whole batch of data object groups through a Merkle tree, yet every group keeps an
// evidence record of its own (its reduced hash tree plus the shared timestamp) that verifies
// without the others. Before a timestamp's TSA certificate expires or its algorithms weaken,
// a new archive timestamp over the previous one extends the chain (timestamp renewal,
// RFC 4998 §5.2). docs/formats/evidence-record.md specifies what is stored.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "signature/cades.h"
#include "signature/timestamp.h"

namespace hokan {

// Validation data (docs/formats/evidence-record.md): the certificates of the signer's path and of
// the signature timestamp's TSA path, and the CRLs their issuers signed, collected while the
// signature is valid so that it can still be checked when CRLs are no longer published.
struct ValidationData {
  std::vector<Bytes> certificates;  // DER.
  std::vector<Bytes> crls;          // DER.
};
// Collects them for a CAdES signature verified with `options` (which must let it validate:
// kFailedPrecondition with the report's reason otherwise), encoded as DER.
Result<Bytes> CollectValidationData(ByteView cms_der, const SignatureVerifyOptions& options);
Result<ValidationData> ReadValidationData(ByteView der);

// The reduced hash tree of one group: the first list holds the group's own hashes, each next
// list the sibling hashes on the way to the root (RFC 4998 §4.2-4.3).
using ReducedHashtree = std::vector<std::vector<Sha256Digest>>;

struct HashTreeBatch {
  Sha256Digest root{};                   // What the TSA timestamps.
  std::vector<ReducedHashtree> reduced;  // One per group, in input order.
};

// The hash tree over data object groups (each at least one hash): a group's node is the hash
// of its sorted, concatenated hashes; parents hash their two children sorted and concatenated;
// an unpaired node moves up unchanged. kInvalidArgument for no groups or an empty group.
Result<HashTreeBatch> BuildHashTree(const std::vector<std::vector<Sha256Digest>>& groups);

// The root a reduced hash tree leads to from `group` (each hash must be in the first list).
// kInvalidArgument when a hash of the group is missing from the first list.
Result<Sha256Digest> HashtreeRoot(const ReducedHashtree& tree,
                                  const std::vector<Sha256Digest>& group);

// A new evidence record: one chain with one archive timestamp (digest SHA-256, the reduced
// hash tree, the token, a TimeStampToken over the tree's root).
Result<Bytes> MakeEvidenceRecord(const ReducedHashtree& tree, ByteView timestamp_token);

// What a timestamp renewal covers: the SHA-256 of the DER of the last archive timestamp's
// timeStamp field.
Result<Sha256Digest> RenewalDigest(ByteView evidence_record);
// The record with an archive timestamp appended to its last chain. `token` is over
// RenewalDigest(evidence_record) itself when `tree` is empty, else over the root `tree`
// leads to from it (renewals of many records batched in one hash tree, {digest} as a group).
Result<Bytes> RenewEvidenceRecord(ByteView evidence_record, const ReducedHashtree& tree,
                                  ByteView token);

struct ArchiveTimestampReport {
  TimestampVerification timestamp;  // Over the root its hash tree leads to.
};

struct EvidenceVerification {
  bool valid = false;
  std::string reason;  // One sentence when !valid.
  // Every archive timestamp's token is over the root its hash tree leads to from what it
  // covers: the data is what was timestamped (false means changed data, not a trust issue).
  bool hashes_match = false;
  int chains = 0;
  std::vector<ArchiveTimestampReport> archive_timestamps;  // In order.
  std::string first_time;  // The first archive timestamp's genTime: existence proven since.
  std::string latest_tsa_not_after;  // When the last TSA certificate expires: renew before.
};

// Verifies `evidence_record` for the data object group `group` (the hashes it was made for):
// the first archive timestamp's hash tree leads from the group to its token's imprint, each
// later one in the chain covers the previous timestamp and was made while the previous TSA
// certificate was still valid, and every token verifies (TSA path at its genTime) with
// `options`. kInvalidArgument when the input is not an evidence record.
Result<EvidenceVerification> VerifyEvidenceRecord(ByteView evidence_record,
                                                  const std::vector<Sha256Digest>& group,
                                                  const TimestampVerifyOptions& options);
std::string EvidenceVerificationJson(const EvidenceVerification& v);

}  // namespace hokan
