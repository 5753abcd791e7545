// RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs over SHA-256.
// Spec: docs/formats/audit-log.md. Pure functions and small values; no I/O.
//
//   leaf hash  = SHA-256(0x00 || entry bytes)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
// For n > 1 leaves, MTH(D[n]) = NODE(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of
// two smaller than n.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/check.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan::merkle {

using Hash = Sha256Digest;

Hash LeafHash(ByteView entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// MTH of a list of leaf hashes (empty list: EmptyRoot()).
Hash RootOf(std::span<const Hash> leaf_hashes);

// NODE(n0, NODE(n1, ... NODE(n[k-2], n[k-1]))): the root over perfect subtrees of decreasing
// size laid side by side, as in a compact range (no nodes: EmptyRoot()).
Hash FoldFromRight(std::span<const Hash> nodes);

// The tree [0, size) as the roots of its perfect subtrees, largest (leftmost) first: one per
// set bit of `size`. Enough to append a leaf and compute the root in O(log n), so the log
// never re-reads old entries to extend the tree.
class CompactRange {
 public:
  CompactRange() = default;
  std::uint64_t size() const { return size_; }
  const std::vector<Hash>& nodes() const { return nodes_; }

  void Append(const Hash& leaf_hash);
  // As Append, and calls on_node(level, index, hash) for every perfect subtree of height
  // `level` >= 1 that this leaf completes: the one over leaves [index << level,
  // (index + 1) << level). The audit log keeps some of them so proofs need not re-read leaves.
  template <typename OnNode>
  void Append(const Hash& leaf_hash, OnNode&& on_node);
  Hash Root() const;

  // Layout: size (8 bytes, big-endian) | nodes (32 bytes each, as nodes()).
  Bytes Encode() const;
  // kDataLoss when the length does not match popcount(size) nodes.
  static Result<CompactRange> Decode(ByteView encoded);

  friend bool operator==(const CompactRange&, const CompactRange&) = default;

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

template <typename OnNode>
void CompactRange::Append(const Hash& leaf_hash, OnNode&& on_node) {
  // 2^64 - 1 entries cannot be written; reaching it means a corrupt size slipped through.
  HK_CHECK(size_ < ~std::uint64_t{0});
  const std::uint64_t new_size = size_ + 1;
  // Each trailing one bit of size_ is a perfect subtree of the same height as the new node, so
  // they merge from the right, like carries in binary addition.
  Hash node = leaf_hash;
  int level = 0;
  for (std::uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    node = NodeHash(nodes_.back(), node);
    nodes_.pop_back();
    ++level;
    on_node(level, (new_size >> level) - 1, node);
  }
  nodes_.push_back(node);
  size_ = new_size;
}

// MTH(D[begin:end]) for the log being proved: supplied by the caller (the audit log reads
// leaf hashes from its store). Called only with 0 <= begin < end <= size.
using SubtreeHashFn = std::function<Result<Hash>(std::uint64_t begin, std::uint64_t end)>;

// RFC 9162 section 2.1.3.1 PATH(index, D[size]). kInvalidArgument unless index < size.
Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const SubtreeHashFn& subtree_hash);
// RFC 9162 section 2.1.4.1 PROOF(old_size, D[new_size]). kInvalidArgument unless
// 0 < old_size <= new_size.
Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const SubtreeHashFn& subtree_hash);

// RFC 9162 section 2.1.3.2. OK, or kDataLoss saying what does not match.
Status VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root);
// RFC 9162 section 2.1.4.2. OK, or kDataLoss saying what does not match.
Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof);

}  // namespace hokan::merkle
