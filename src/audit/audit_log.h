// The append-only audit log (G-6.5-C7, G-6.5-C8): one entry per action, written in the same
// transaction as the action, as the leaves of an RFC 9162 Merkle tree with signed
// checkpoints. Each row also carries an HMAC over (seq, leaf hash) under a key derived from
// the KEK, so verification names the exact entry that was changed, inserted or reordered,
// not only the checkpoint interval it falls in. Spec: docs/formats/audit-log.md.
//
// Thread-safe. Writes go through the metadata database's group committer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_event.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "base/env.h"
#include "base/status.h"
#include "crypto/crypto.h"
#include "store/metadata_db.h"
#include "store/verify_report.h"

namespace hokan {

struct AuditVerifyStats {
  std::uint64_t entries = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t covered = 0;  // Entries covered by the latest valid checkpoint.
  std::optional<Checkpoint> latest;
};

struct InclusionProofResult {
  std::uint64_t index = 0;
  std::uint64_t tree_size = 0;
  std::string entry;  // The entry text (its leaf hash is SHA-256(0x00 || entry)).
  merkle::Hash leaf_hash{};
  merkle::Hash root{};
  std::vector<merkle::Hash> proof;
  std::string checkpoint;  // The signed checkpoint whose root the proof leads to.
};

struct ConsistencyProofResult {
  std::uint64_t old_size = 0;
  std::uint64_t new_size = 0;
  merkle::Hash old_root{};
  merkle::Hash new_root{};
  std::vector<merkle::Hash> proof;
  std::string old_checkpoint;  // Signed checkpoints at those sizes, when there are such.
  std::string new_checkpoint;
};

class AuditLog final : public CommitObserver {
 public:
  static Status CreateSchema(Database& db);

  // Registers with `db`'s committer. `env` and `db` must outlive the log. `mac_key` is the
  // per-entry HMAC key; `origin` names the log in checkpoints.
  AuditLog(Env& env, MetadataDb& db, ByteView mac_key, SigningKey signer, std::string origin);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends inside the caller's committer unit (same transaction as the action). Returns
  // the entry's sequence number.
  Result<std::uint64_t> AppendIn(Database& db, const AuditEvent& event);
  // Appends in a unit of its own and returns once durable.
  Result<std::uint64_t> Append(const AuditEvent& event);

  // Signs and stores a checkpoint of the whole log as it is now.
  Result<Checkpoint> WriteCheckpoint();
  // Number of entries, and the size covered by the latest checkpoint.
  Result<std::uint64_t> Size();
  Result<std::uint64_t> CheckpointedSize();

  // Recomputes every leaf, MAC and root and checks every checkpoint. Streams problems.
  Status Verify(VerifySink& sink, AuditVerifyStats& stats);

  // Proof that entry `index` is in the tree of the latest checkpoint (a checkpoint is
  // written first when the latest one does not cover `index`).
  Result<InclusionProofResult> ProveInclusion(std::uint64_t index);
  // Proof that the tree of `old_size` is a prefix of the tree of `new_size`.
  Result<ConsistencyProofResult> ProveConsistency(std::uint64_t old_size, std::uint64_t new_size);

  // Calls `fn(seq, entry text)` for entries [from, from + limit) in order.
  Status ForEach(std::uint64_t from, std::uint64_t limit,
                 const std::function<Status(std::uint64_t, std::string_view)>& fn);

  const std::string& origin() const { return origin_; }
  Bytes public_key() const { return signer_.PublicKeyRaw(); }

  // CommitObserver.
  Status OnBatchBegin(Database& db) override;
  void OnUnitBegin() override;
  void OnUnitRolledBack() override;
  Status OnBeforeCommit(Database& db) override;
  void OnBatchEnd(bool committed) override;

 private:
  // MTH of entries [begin, end), from stored subtree nodes where it can.
  Result<merkle::Hash> SubtreeHash(Database& db, std::uint64_t begin, std::uint64_t end);
  // The perfect subtree of height `level` over leaves [index << level, (index + 1) << level).
  Result<merkle::Hash> PerfectSubtreeHash(Database& db, int level, std::uint64_t index);
  // MTH of entries [begin, end) from their leaf hashes (reads every one).
  Result<merkle::Hash> LeafRangeHash(Database& db, std::uint64_t begin, std::uint64_t end);
  Sha256Digest EntryMac(std::uint64_t seq, const merkle::Hash& leaf) const;

  Env& env_;
  MetadataDb& db_;
  HmacSha256 mac_;
  const SigningKey signer_;
  const std::string origin_;

  // Touched only by the committer's leader, one batch at a time.
  merkle::CompactRange pending_;
  merkle::CompactRange unit_start_;
  bool dirty_ = false;
};

}  // namespace hokan
