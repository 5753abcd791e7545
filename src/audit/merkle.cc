#include "audit/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>

namespace hokan::merkle {

namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;
constexpr std::size_t kSizeBytes = 8;
constexpr std::size_t kHashBytes = std::tuple_size_v<Hash>;

// The largest power of two strictly smaller than n (RFC 9162 section 2.1.1's k). Needs n > 1.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

bool IsPowerOfTwo(std::uint64_t n) { return std::has_single_bit(n); }

Hash MthRecursive(std::span<const Hash> leaves) {
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = SplitPoint(leaves.size());
  return NodeHash(MthRecursive(leaves.first(k)), MthRecursive(leaves.subspan(k)));
}

}  // namespace

Hash LeafHash(ByteView entry) {
  Sha256Hasher hasher;
  const std::uint8_t prefix = kLeafPrefix;
  hasher.Update(ByteView(&prefix, 1));
  hasher.Update(entry);
  return hasher.Finish();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<std::uint8_t, 1 + 2 * kHashBytes> input;
  input[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), input.begin() + 1);
  std::copy(right.begin(), right.end(), input.begin() + 1 + kHashBytes);
  return Sha256(input);
}

Hash EmptyRoot() { return Sha256(ByteView()); }

Hash RootOf(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  // Recursion depth is log2(n), so the stack stays small for any log that fits in memory.
  return MthRecursive(leaf_hashes);
}

void CompactRange::Append(const Hash& leaf_hash) {
  Append(leaf_hash, [](int, std::uint64_t, const Hash&) {});
}

Hash FoldFromRight(std::span<const Hash> nodes) {
  if (nodes.empty()) return EmptyRoot();
  // Smaller subtrees sit to the right and hang off the right spine of the tree, so the root is
  // folded from the right.
  Hash root = nodes.back();
  for (auto it = nodes.rbegin() + 1; it != nodes.rend(); ++it) root = NodeHash(*it, root);
  return root;
}

Hash CompactRange::Root() const { return FoldFromRight(nodes_); }

Bytes CompactRange::Encode() const {
  Bytes out;
  out.reserve(kSizeBytes + nodes_.size() * kHashBytes);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(size_ >> shift));
  }
  for (const Hash& node : nodes_) out.insert(out.end(), node.begin(), node.end());
  return out;
}

Result<CompactRange> CompactRange::Decode(ByteView encoded) {
  if (encoded.size() < kSizeBytes) return DataLossError("compact range: shorter than its size");
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < kSizeBytes; ++i) size = (size << 8) | encoded[i];
  // No real log reaches 2^62 entries; a larger size is damage, and would make Append() abort.
  if (size >= (std::uint64_t{1} << 62)) return DataLossError("compact range: size is implausible");
  // popcount(size) <= 64, so the expected length cannot overflow and bounds the allocation.
  const std::size_t node_count = static_cast<std::size_t>(std::popcount(size));
  if (encoded.size() != kSizeBytes + node_count * kHashBytes) {
    return DataLossError("compact range: length does not match its size");
  }
  CompactRange range;
  range.size_ = size;
  range.nodes_.resize(node_count);
  for (std::size_t i = 0; i < node_count; ++i) {
    const ByteView node = encoded.subspan(kSizeBytes + i * kHashBytes, kHashBytes);
    std::copy(node.begin(), node.end(), range.nodes_[i].begin());
  }
  return range;
}

Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const SubtreeHashFn& subtree_hash) {
  HK_CHECK(subtree_hash);
  if (index >= size) {
    return InvalidArgumentError("inclusion proof: index " + std::to_string(index) +
                                " is not below size " + std::to_string(size));
  }
  // PATH(m, D[begin:end]) unrolled top-down: each level contributes the hash of the half that
  // does not hold the leaf. RFC 9162 lists the path bottom-up, hence the reverse at the end.
  std::vector<Hash> proof;
  std::uint64_t begin = 0;
  std::uint64_t end = size;
  while (end - begin > 1) {
    const std::uint64_t mid = begin + SplitPoint(end - begin);
    if (index < mid) {
      HK_ASSIGN_OR_RETURN(Hash right, subtree_hash(mid, end));
      proof.push_back(right);
      end = mid;
    } else {
      HK_ASSIGN_OR_RETURN(Hash left, subtree_hash(begin, mid));
      proof.push_back(left);
      begin = mid;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const SubtreeHashFn& subtree_hash) {
  HK_CHECK(subtree_hash);
  if (old_size == 0 || old_size > new_size) {
    return InvalidArgumentError("consistency proof: need 0 < old size (" +
                                std::to_string(old_size) + ") <= new size (" +
                                std::to_string(new_size) + ")");
  }
  // SUBPROOF(m, D[begin:end], b) unrolled top-down, with m = old_size - begin. `whole` is b:
  // true while the old tree's root is still the root of the subtree being descended, in which
  // case the verifier already knows it and it is left out.
  std::vector<Hash> proof;
  std::uint64_t begin = 0;
  std::uint64_t end = new_size;
  bool whole = true;
  while (old_size != end) {
    const std::uint64_t mid = begin + SplitPoint(end - begin);
    if (old_size <= mid) {
      HK_ASSIGN_OR_RETURN(Hash right, subtree_hash(mid, end));
      proof.push_back(right);
      end = mid;
    } else {
      HK_ASSIGN_OR_RETURN(Hash left, subtree_hash(begin, mid));
      proof.push_back(left);
      begin = mid;
      whole = false;
    }
  }
  if (!whole) {
    HK_ASSIGN_OR_RETURN(Hash old_subtree, subtree_hash(begin, end));
    proof.push_back(old_subtree);
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Status VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  // RFC 9162 section 2.1.3.2, step by step. fn walks the leaf's position up the tree and sn
  // the last leaf's; the bits of fn say on which side each proof element goes.
  if (index >= size) return DataLossError("inclusion proof: index is not below the tree size");
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return DataLossError("inclusion proof has the wrong length (too long)");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      // "If LSB(fn) is not set, right-shift both until LSB(fn) is set or fn is 0": a no-op
      // when LSB(fn) is already set, so the RFC's guard needs no separate test.
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return DataLossError("inclusion proof has the wrong length (too short)");
  if (r != root) return DataLossError("inclusion proof does not lead to the root");
  return OkStatus();
}

Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, std::span<const Hash> proof) {
  if (old_size == 0) return DataLossError("consistency proof: old tree size is zero");
  if (old_size > new_size) {
    return DataLossError("consistency proof: old tree size is above the new tree size");
  }
  if (old_size == new_size) {
    // RFC 9162 section 2.1.4.1: PROOF(m, D[m]) is empty; the two roots must simply match.
    if (!proof.empty()) return DataLossError("consistency proof for equal sizes is not empty");
    if (old_root != new_root) return DataLossError("equal tree sizes but different roots");
    return OkStatus();
  }
  // RFC 9162 section 2.1.4.2, step by step, with consistency_path[i] read as path(i).
  // Step 1.
  if (proof.empty()) return DataLossError("consistency proof has the wrong length (empty)");
  // Step 2: a power-of-two old tree is a whole subtree of the new one, so its root is the
  // proof's implicit first element.
  const bool prepend = IsPowerOfTwo(old_size);
  const std::size_t path_size = proof.size() + (prepend ? 1 : 0);
  auto path = [&](std::size_t i) -> const Hash& {
    if (prepend) return i == 0 ? old_root : proof[i - 1];
    return proof[i];
  };
  // Steps 3 and 4.
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  // Step 5.
  Hash fr = path(0);
  Hash sr = path(0);
  // Step 6.
  for (std::size_t i = 1; i < path_size; ++i) {
    const Hash& c = path(i);
    if (sn == 0) return DataLossError("consistency proof has the wrong length (too long)");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  // Step 7.
  if (sn != 0) return DataLossError("consistency proof has the wrong length (too short)");
  if (fr != old_root) return DataLossError("consistency proof does not lead to the old root");
  if (sr != new_root) return DataLossError("consistency proof does not lead to the new root");
  return OkStatus();
}

}  // namespace hokan::merkle
