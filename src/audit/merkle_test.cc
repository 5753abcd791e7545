#include "audit/merkle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "testing/status_matchers.h"

namespace hokan::merkle {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;

std::string Hex(const Hash& hash) { return HexEncode(hash); }

std::vector<std::string> Hexes(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const Hash& hash : hashes) out.push_back(Hex(hash));
  return out;
}

Hash FlipBit(Hash hash, std::size_t bit) {
  hash[(bit / 8) % hash.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return hash;
}

// Distinct leaves: the hash of "leaf <i>".
std::vector<Hash> MakeLeaves(std::uint64_t n) {
  std::vector<Hash> leaves;
  leaves.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i)
    leaves.push_back(LeafHash(AsBytes("leaf " + std::to_string(i))));
  return leaves;
}

// MTH straight from RFC 9162 section 2.1.1, hashing bytes directly so that it shares no code
// with merkle.cc beyond SHA-256 itself.
Hash NaiveMth(std::span<const Hash> leaves) {
  if (leaves.empty()) return Sha256(ByteView());
  if (leaves.size() == 1) return leaves[0];
  std::size_t k = 1;
  while (k * 2 < leaves.size()) k *= 2;
  const Hash left = NaiveMth(leaves.first(k));
  const Hash right = NaiveMth(leaves.subspan(k));
  Bytes input = {0x01};
  input.insert(input.end(), left.begin(), left.end());
  input.insert(input.end(), right.begin(), right.end());
  return Sha256(input);
}

// The SubtreeHashFn the audit log would supply, over an in-memory tree; it also checks that
// the proof generator keeps to the documented contract 0 <= begin < end <= size.
SubtreeHashFn SubtreesOf(const std::vector<Hash>& leaves, std::uint64_t size) {
  return [&leaves, size](std::uint64_t begin, std::uint64_t end) -> Result<Hash> {
    if (!(begin < end && end <= size && size <= leaves.size())) {
      ADD_FAILURE() << "subtree_hash(" << begin << ", " << end << ") for size " << size;
      return InternalError("out of range");
    }
    return RootOf(std::span(leaves).subspan(begin, end - begin));
  };
}

// Which side each inclusion-proof element goes on, bottom-up, from the recursive PATH of RFC
// 9162 section 2.1.3.1 (true: the element is the left sibling). The verifier's result depends
// only on this shape, so the same proof and root verify for every (index, size) of equal shape.
std::vector<bool> InclusionShape(std::uint64_t index, std::uint64_t size) {
  std::vector<bool> shape;
  while (size > 1) {
    const std::uint64_t k = std::bit_floor(size - 1);
    shape.insert(shape.begin(), index >= k);
    if (index >= k) {
      index -= k;
      size -= k;
    } else {
      size = k;
    }
  }
  return shape;
}

// The same for SUBPROOF (RFC 9162 section 2.1.4.1): the sides, plus whether the old root is
// left implicit (b stayed true).
std::pair<bool, std::vector<bool>> ConsistencyShape(std::uint64_t old_size,
                                                    std::uint64_t new_size) {
  std::vector<bool> shape;
  bool whole = true;
  while (old_size != new_size) {
    const std::uint64_t k = std::bit_floor(new_size - 1);
    shape.insert(shape.begin(), old_size > k);
    if (old_size > k) {
      old_size -= k;
      new_size -= k;
      whole = false;
    } else {
      new_size = k;
    }
  }
  return {whole, shape};
}

// ---------------------------------------------------------------------------------------------
// Hashing and roots.

TEST(MerkleHashTest, EmptyRootIsSha256OfNothing) {
  // RFC 6962 / Certificate Transparency: the root of the empty tree.
  EXPECT_EQ(Hex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootOf({}), EmptyRoot());
  EXPECT_EQ(CompactRange().Root(), EmptyRoot());
}

TEST(MerkleHashTest, LeafAndNodeHashesArePrefixed) {
  // SHA-256(0x00): the hash of an empty leaf, and the CT root of the tree holding only it.
  EXPECT_EQ(Hex(LeafHash({})), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(LeafHash(AsBytes("abc")), Sha256(Bytes{0x00, 'a', 'b', 'c'}));

  const Hash left = LeafHash(AsBytes("l"));
  const Hash right = LeafHash(AsBytes("r"));
  Bytes input = {0x01};
  input.insert(input.end(), left.begin(), left.end());
  input.insert(input.end(), right.begin(), right.end());
  EXPECT_EQ(NodeHash(left, right), Sha256(input));
  EXPECT_NE(NodeHash(left, right), NodeHash(right, left));
}

TEST(MerkleHashTest, RootOfMatchesNaiveMth) {
  const std::vector<Hash> leaves = MakeLeaves(70);
  for (std::size_t n = 0; n <= 70; ++n) {
    SCOPED_TRACE("size " + std::to_string(n));
    const std::span<const Hash> prefix = std::span(leaves).first(n);
    EXPECT_EQ(RootOf(prefix), NaiveMth(prefix));
  }
}

// The test vectors of the Certificate Transparency reference implementation (RFC 6962 has
// the same hashing as RFC 9162 with SHA-256).
TEST(MerkleHashTest, MatchesCertificateTransparencyTestVectors) {
  const std::vector<Bytes> entries = {
      {},
      {0x00},
      {0x10},
      {0x20, 0x21},
      {0x30, 0x31},
      {0x40, 0x41, 0x42, 0x43},
      {0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57},
      {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e,
       0x6f},
  };
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  std::vector<Hash> leaves;
  CompactRange range;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    leaves.push_back(LeafHash(entries[i]));
    range.Append(leaves.back());
    EXPECT_EQ(Hex(RootOf(leaves)), roots[i]) << "size " << i + 1;
    EXPECT_EQ(Hex(range.Root()), roots[i]) << "size " << i + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// CompactRange.

TEST(CompactRangeTest, AppendMatchesRootOfForEverySize) {
  const std::vector<Hash> leaves = MakeLeaves(300);
  CompactRange range;
  for (std::uint64_t n = 0; n <= 300; ++n) {
    SCOPED_TRACE("size " + std::to_string(n));
    ASSERT_EQ(range.size(), n);
    ASSERT_EQ(range.Root(), RootOf(std::span(leaves).first(n)));
    // One node per set bit, each the root of a perfect subtree, largest (leftmost) first.
    ASSERT_EQ(range.nodes().size(), static_cast<std::size_t>(std::popcount(n)));
    std::uint64_t begin = 0;
    for (std::size_t i = 0; i < range.nodes().size(); ++i) {
      const std::uint64_t width = std::bit_floor(n - begin);
      ASSERT_EQ(range.nodes()[i], RootOf(std::span(leaves).subspan(begin, width))) << i;
      begin += width;
    }
    if (n < 300) range.Append(leaves[n]);
  }
}

TEST(CompactRangeTest, AppendReportsEveryCompletedPerfectSubtree) {
  const std::vector<Hash> leaves = MakeLeaves(300);
  CompactRange range;
  std::uint64_t reported = 0;
  for (std::uint64_t i = 0; i < leaves.size(); ++i) {
    int expected_level = 1;
    range.Append(leaves[i], [&](int level, std::uint64_t index, const Hash& hash) {
      // Levels come in order 1, 2, ...: one per trailing one bit of the old size.
      EXPECT_EQ(level, expected_level++);
      const std::uint64_t begin = index << level;
      const std::uint64_t end = (index + 1) << level;
      EXPECT_EQ(end, i + 1) << "a completed subtree ends at the new leaf";
      EXPECT_EQ(hash, RootOf(std::span(leaves).subspan(begin, end - begin)));
      ++reported;
    });
    EXPECT_EQ(expected_level - 1, std::countr_one(i)) << "size " << i;
  }
  // Every internal node of every perfect subtree is reported exactly once: n - popcount(n).
  EXPECT_EQ(reported, leaves.size() - std::popcount(leaves.size()));
}

TEST(CompactRangeTest, EncodeDecodeRoundTrip) {
  const std::vector<Hash> leaves = MakeLeaves(300);
  CompactRange range;
  for (std::uint64_t n = 0; n <= 300; ++n) {
    const Bytes encoded = range.Encode();
    ASSERT_EQ(encoded.size(), 8 + 32 * static_cast<std::size_t>(std::popcount(n)));
    Result<CompactRange> decoded = CompactRange::Decode(encoded);
    ASSERT_OK(decoded);
    ASSERT_EQ(*decoded, range);
    // A decoded range keeps growing like the original.
    if (n < 300) {
      range.Append(leaves[n]);
      decoded->Append(leaves[n]);
      ASSERT_EQ(*decoded, range);
    }
  }
}

TEST(CompactRangeTest, EncodingLayout) {
  CompactRange range;
  for (const char* entry : {"a", "b", "c", "d", "e"}) range.Append(LeafHash(AsBytes(entry)));
  const Bytes encoded = range.Encode();
  ASSERT_EQ(encoded.size(), 8u + 2 * 32);
  EXPECT_EQ(HexEncode(ByteView(encoded).first(8)), "0000000000000005");
  EXPECT_EQ(HexEncode(ByteView(encoded).subspan(8, 32)), Hex(range.nodes()[0]));
  EXPECT_EQ(HexEncode(ByteView(encoded).subspan(40, 32)), Hex(range.nodes()[1]));
  EXPECT_EQ(HexEncode(CompactRange().Encode()), "0000000000000000");
}

Bytes EncodedRange(std::uint64_t size, std::size_t node_count, std::size_t extra_bytes = 0) {
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<std::uint8_t>(size >> shift));
  out.resize(out.size() + 32 * node_count + extra_bytes, 0xab);
  return out;
}

TEST(CompactRangeTest, HostileDecodesAreDataLoss) {
  EXPECT_THAT(CompactRange::Decode({}), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(Bytes(7, 0)), StatusIs(StatusCode::kDataLoss));
  // Size 5 needs exactly two nodes.
  EXPECT_OK(CompactRange::Decode(EncodedRange(5, 2)));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(5, 0)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(5, 1)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(5, 3)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(5, 2, 1)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(5, 1, 31)), StatusIs(StatusCode::kDataLoss));
  // Size 0 has no nodes.
  EXPECT_OK(CompactRange::Decode(EncodedRange(0, 0)));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(0, 1)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(0, 0, 1)), StatusIs(StatusCode::kDataLoss));
  // Implausible sizes (2^62 and up) are damage even when their nodes are all there, so a
  // corrupt state row can never make Append() abort; below that, the nodes must match.
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(CompactRange::Decode(EncodedRange(max, 0)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(max, 64)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(CompactRange::Decode(EncodedRange(std::uint64_t{1} << 62, 1)),
              StatusIs(StatusCode::kDataLoss));
  const std::uint64_t big = (std::uint64_t{1} << 62) - 1;
  EXPECT_THAT(CompactRange::Decode(EncodedRange(big, 61)), StatusIs(StatusCode::kDataLoss));
  Result<CompactRange> full = CompactRange::Decode(EncodedRange(big, 62));
  ASSERT_OK(full);
  EXPECT_EQ(full->size(), big);
  EXPECT_EQ(full->nodes().size(), 62u);
  Result<CompactRange> top = CompactRange::Decode(EncodedRange(std::uint64_t{1} << 61, 1));
  ASSERT_OK(top);
  EXPECT_EQ(top->Root(), top->nodes()[0]);
}

// ---------------------------------------------------------------------------------------------
// Inclusion proofs.

TEST(InclusionProofTest, EveryProofUpTo70LeavesVerifiesAndMutationsFail) {
  const std::vector<Hash> leaves = MakeLeaves(70);
  for (std::uint64_t size = 1; size <= 70; ++size) {
    const Hash root = RootOf(std::span(leaves).first(size));
    for (std::uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE("index " + std::to_string(index) + " size " + std::to_string(size));
      Result<std::vector<Hash>> proof = InclusionProof(index, size, SubtreesOf(leaves, size));
      ASSERT_OK(proof);
      ASSERT_EQ(proof->size(), InclusionShape(index, size).size());
      const Hash& leaf = leaves[index];
      ASSERT_OK(VerifyInclusion(index, size, leaf, *proof, root));

      // Any flipped bit in any element.
      for (std::size_t i = 0; i < proof->size(); ++i) {
        std::vector<Hash> bad = *proof;
        bad[i] = FlipBit(bad[i], i * 37 + size);
        EXPECT_THAT(VerifyInclusion(index, size, leaf, bad, root), StatusIs(StatusCode::kDataLoss))
            << "element " << i;
      }
      // Wrong leaf, wrong root.
      EXPECT_THAT(VerifyInclusion(index, size, FlipBit(leaf, index), *proof, root),
                  StatusIs(StatusCode::kDataLoss));
      EXPECT_THAT(VerifyInclusion(index, size, leaf, *proof, FlipBit(root, 255)),
                  StatusIs(StatusCode::kDataLoss));
      // Another leaf of the same tree.
      if (size > 1) {
        const Hash& other = leaves[(index + 1) % size];
        EXPECT_THAT(VerifyInclusion(index, size, other, *proof, root),
                    StatusIs(StatusCode::kDataLoss));
      }
      // Wrong index: a different position in the same tree never has the same path.
      for (std::uint64_t wrong = 0; wrong < size; ++wrong) {
        if (wrong == index) continue;
        EXPECT_THAT(VerifyInclusion(wrong, size, leaf, *proof, root),
                    StatusIs(StatusCode::kDataLoss))
            << "index " << wrong;
      }
      EXPECT_THAT(VerifyInclusion(size, size, leaf, *proof, root), StatusIs(StatusCode::kDataLoss));
      // Wrong size: fails unless the path has the same shape, in which case the computation
      // is identical. That is why size and root must come from the same checkpoint.
      for (std::uint64_t wrong : {size - 1, size + 1, size * 2, size + 64}) {
        if (wrong == size) continue;
        const Status status = VerifyInclusion(index, wrong, leaf, *proof, root);
        if (index < wrong && InclusionShape(index, wrong) == InclusionShape(index, size)) {
          EXPECT_OK(status) << "size " << wrong;
        } else {
          EXPECT_THAT(status, StatusIs(StatusCode::kDataLoss)) << "size " << wrong;
        }
      }
      // Truncated, extended, reordered.
      if (!proof->empty()) {
        const std::span<const Hash> all(*proof);
        EXPECT_THAT(VerifyInclusion(index, size, leaf, all.first(all.size() - 1), root),
                    StatusIs(StatusCode::kDataLoss));
        EXPECT_THAT(VerifyInclusion(index, size, leaf, all.subspan(1), root),
                    StatusIs(StatusCode::kDataLoss));
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_THAT(VerifyInclusion(index, size, leaf, longer, root),
                  StatusIs(StatusCode::kDataLoss));
      if (proof->size() >= 2) {
        std::vector<Hash> swapped = *proof;
        std::swap(swapped[0], swapped[1]);
        EXPECT_THAT(VerifyInclusion(index, size, leaf, swapped, root),
                    StatusIs(StatusCode::kDataLoss));
      }
    }
  }
}

TEST(InclusionProofTest, SingleLeafTreeHasEmptyProof) {
  const std::vector<Hash> leaves = MakeLeaves(1);
  Result<std::vector<Hash>> proof = InclusionProof(0, 1, SubtreesOf(leaves, 1));
  ASSERT_OK(proof);
  EXPECT_TRUE(proof->empty());
  EXPECT_OK(VerifyInclusion(0, 1, leaves[0], {}, leaves[0]));
}

TEST(InclusionProofTest, ReasonsNameTheProblem) {
  const std::vector<Hash> leaves = MakeLeaves(5);
  const Hash root = RootOf(leaves);
  Result<std::vector<Hash>> proof = InclusionProof(2, 5, SubtreesOf(leaves, 5));
  ASSERT_OK(proof);
  EXPECT_THAT(VerifyInclusion(2, 5, leaves[3], *proof, root).message(),
              HasSubstr("does not lead to the root"));
  EXPECT_THAT(VerifyInclusion(2, 5, leaves[2], std::span(*proof).first(2), root).message(),
              HasSubstr("wrong length"));
  std::vector<Hash> longer = *proof;
  longer.push_back(root);
  EXPECT_THAT(VerifyInclusion(2, 5, leaves[2], longer, root).message(), HasSubstr("wrong length"));
}

TEST(InclusionProofTest, InvalidParameters) {
  const std::vector<Hash> leaves = MakeLeaves(4);
  EXPECT_THAT(InclusionProof(0, 0, SubtreesOf(leaves, 0)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(InclusionProof(4, 4, SubtreesOf(leaves, 4)), StatusIs(StatusCode::kInvalidArgument));
  const Hash any = leaves[0];
  EXPECT_THAT(VerifyInclusion(0, 0, any, {}, any), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(VerifyInclusion(4, 4, any, {}, any), StatusIs(StatusCode::kDataLoss));
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(VerifyInclusion(max, max, any, {}, any), StatusIs(StatusCode::kDataLoss));
  // Huge sizes are fine to ask about; the short proof is simply wrong.
  EXPECT_THAT(VerifyInclusion(max - 1, max, any, {}, any), StatusIs(StatusCode::kDataLoss));
}

TEST(InclusionProofTest, SubtreeErrorsPropagate) {
  const SubtreeHashFn failing = [](std::uint64_t, std::uint64_t) -> Result<Hash> {
    return UnavailableError("store busy");
  };
  EXPECT_THAT(InclusionProof(3, 10, failing), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(ConsistencyProof(3, 10, failing), StatusIs(StatusCode::kUnavailable));
  // A one-leaf tree and equal sizes need no subtree at all.
  EXPECT_OK(InclusionProof(0, 1, failing));
  EXPECT_OK(ConsistencyProof(7, 7, failing));
}

// ---------------------------------------------------------------------------------------------
// Consistency proofs.

TEST(ConsistencyProofTest, EveryProofUpTo70LeavesVerifiesAndMutationsFail) {
  const std::vector<Hash> leaves = MakeLeaves(71);
  std::vector<Hash> roots;
  for (std::size_t n = 0; n <= 71; ++n) roots.push_back(RootOf(std::span(leaves).first(n)));
  for (std::uint64_t new_size = 1; new_size <= 70; ++new_size) {
    for (std::uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      SCOPED_TRACE("old " + std::to_string(old_size) + " new " + std::to_string(new_size));
      Result<std::vector<Hash>> proof =
          ConsistencyProof(old_size, new_size, SubtreesOf(leaves, new_size));
      ASSERT_OK(proof);
      const Hash& old_root = roots[old_size];
      const Hash& new_root = roots[new_size];
      ASSERT_OK(VerifyConsistency(old_size, new_size, old_root, new_root, *proof));
      if (old_size == new_size) {
        EXPECT_TRUE(proof->empty());
      }

      for (std::size_t i = 0; i < proof->size(); ++i) {
        std::vector<Hash> bad = *proof;
        bad[i] = FlipBit(bad[i], i * 37 + new_size);
        EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, bad),
                    StatusIs(StatusCode::kDataLoss))
            << "element " << i;
      }
      EXPECT_THAT(VerifyConsistency(old_size, new_size, FlipBit(old_root, 3), new_root, *proof),
                  StatusIs(StatusCode::kDataLoss));
      EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, FlipBit(new_root, 3), *proof),
                  StatusIs(StatusCode::kDataLoss));
      // Roots of other sizes.
      EXPECT_THAT(VerifyConsistency(old_size, new_size, roots[old_size - 1], new_root, *proof),
                  StatusIs(StatusCode::kDataLoss));
      EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, roots[new_size + 1], *proof),
                  StatusIs(StatusCode::kDataLoss));
      // Truncated, extended, reordered.
      if (!proof->empty()) {
        const std::span<const Hash> all(*proof);
        EXPECT_THAT(
            VerifyConsistency(old_size, new_size, old_root, new_root, all.first(all.size() - 1)),
            StatusIs(StatusCode::kDataLoss));
        EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, all.subspan(1)),
                    StatusIs(StatusCode::kDataLoss));
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(new_root);
      EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, longer),
                  StatusIs(StatusCode::kDataLoss));
      std::vector<Hash> with_old_root = *proof;
      with_old_root.insert(with_old_root.begin(), old_root);
      EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, with_old_root),
                  StatusIs(StatusCode::kDataLoss));
      if (proof->size() >= 2 && (*proof)[0] != (*proof)[1]) {
        std::vector<Hash> swapped = *proof;
        std::swap(swapped[0], swapped[1]);
        EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, swapped),
                    StatusIs(StatusCode::kDataLoss));
      }
      // Wrong sizes: fail unless the proof has the same shape (see InclusionShape).
      const std::pair<std::uint64_t, std::uint64_t> wrong_sizes[] = {
          {old_size - 1, new_size}, {old_size + 1, new_size},     {old_size, new_size - 1},
          {old_size, new_size + 1}, {old_size + 1, new_size + 1}, {old_size * 2, new_size * 2}};
      for (const auto& [old_wrong, new_wrong] : wrong_sizes) {
        if (old_wrong == old_size && new_wrong == new_size) continue;
        const Status status = VerifyConsistency(old_wrong, new_wrong, old_root, new_root, *proof);
        if (0 < old_wrong && old_wrong <= new_wrong &&
            ConsistencyShape(old_wrong, new_wrong) == ConsistencyShape(old_size, new_size)) {
          EXPECT_OK(status) << old_wrong << " -> " << new_wrong;
        } else {
          EXPECT_THAT(status, StatusIs(StatusCode::kDataLoss)) << old_wrong << " -> " << new_wrong;
        }
      }
    }
  }
}

TEST(ConsistencyProofTest, EqualSizes) {
  const std::vector<Hash> leaves = MakeLeaves(6);
  const Hash root = RootOf(leaves);
  EXPECT_OK(VerifyConsistency(6, 6, root, root, {}));
  EXPECT_THAT(VerifyConsistency(6, 6, root, FlipBit(root, 0), {}), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(6, 6, root, root, std::vector<Hash>{root}),
              StatusIs(StatusCode::kDataLoss));
  // Power-of-two sizes take the same path.
  const Hash root4 = RootOf(std::span(leaves).first(4));
  EXPECT_OK(VerifyConsistency(4, 4, root4, root4, {}));
  EXPECT_THAT(VerifyConsistency(4, 4, root4, root4, std::vector<Hash>{root4}),
              StatusIs(StatusCode::kDataLoss));
}

TEST(ConsistencyProofTest, PowerOfTwoOldSizeLeavesOldRootImplicit) {
  const std::vector<Hash> leaves = MakeLeaves(8);
  // 4 -> 8: the old tree is the left half, so the proof is just the right half.
  Result<std::vector<Hash>> proof = ConsistencyProof(4, 8, SubtreesOf(leaves, 8));
  ASSERT_OK(proof);
  EXPECT_EQ(*proof, std::vector<Hash>{RootOf(std::span(leaves).subspan(4))});
  EXPECT_OK(VerifyConsistency(4, 8, RootOf(std::span(leaves).first(4)), RootOf(leaves), *proof));
  // An empty proof for different sizes never verifies (RFC 9162 section 2.1.4.2 step 1).
  EXPECT_THAT(VerifyConsistency(4, 8, RootOf(std::span(leaves).first(4)), RootOf(leaves), {}),
              StatusIs(StatusCode::kDataLoss));
}

TEST(ConsistencyProofTest, ReasonsNameTheProblem) {
  const std::vector<Hash> leaves = MakeLeaves(5);
  const Hash old_root = RootOf(std::span(leaves).first(3));
  const Hash new_root = RootOf(leaves);
  Result<std::vector<Hash>> proof = ConsistencyProof(3, 5, SubtreesOf(leaves, 5));
  ASSERT_OK(proof);
  EXPECT_THAT(VerifyConsistency(3, 5, new_root, new_root, *proof).message(),
              HasSubstr("does not lead to the old root"));
  EXPECT_THAT(VerifyConsistency(3, 5, old_root, old_root, *proof).message(),
              HasSubstr("does not lead to the new root"));
  EXPECT_THAT(VerifyConsistency(3, 5, old_root, new_root, std::span(*proof).first(1)).message(),
              HasSubstr("wrong length"));
}

TEST(ConsistencyProofTest, InvalidParameters) {
  const std::vector<Hash> leaves = MakeLeaves(4);
  EXPECT_THAT(ConsistencyProof(0, 4, SubtreesOf(leaves, 4)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(0, 0, SubtreesOf(leaves, 0)),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ConsistencyProof(4, 3, SubtreesOf(leaves, 3)),
              StatusIs(StatusCode::kInvalidArgument));
  const Hash any = leaves[0];
  EXPECT_THAT(VerifyConsistency(0, 4, any, any, std::vector<Hash>{any}),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(VerifyConsistency(4, 3, any, any, std::vector<Hash>{any}),
              StatusIs(StatusCode::kDataLoss));
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(VerifyConsistency(max - 1, max, any, any, std::vector<Hash>{any, any}),
              StatusIs(StatusCode::kDataLoss));
}

// ---------------------------------------------------------------------------------------------
// The worked example of docs/formats/audit-log.md. If this test changes, so must the document
// (and the other way round).

TEST(MerkleDocExampleTest, FiveLeaves) {
  std::vector<Hash> leaves;
  for (const char* entry : {"a", "b", "c", "d", "e"}) leaves.push_back(LeafHash(AsBytes(entry)));
  EXPECT_THAT(
      Hexes(leaves),
      ::testing::ElementsAre("022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c",
                             "57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31",
                             "597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8",
                             "d070dc5b8da9aea7dc0f5ad4c29d89965200059c9a0ceca3abd5da2492dcb71d",
                             "2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4"));
  const Hash ab = NodeHash(leaves[0], leaves[1]);
  const Hash abcd = NodeHash(ab, NodeHash(leaves[2], leaves[3]));
  EXPECT_EQ(Hex(ab), "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb");
  EXPECT_EQ(Hex(abcd), "33376a3bd63e9993708a84ddfe6c28ae58b83505dd1fed711bd924ec5a6239f0");
  EXPECT_EQ(Hex(NodeHash(leaves[2], leaves[3])),
            "dbbd68c325614a73dacb4e7a87a2b7b4ae9724b489e5629ee83151fe8f0eafd7");

  const Hash root5 = RootOf(leaves);
  const Hash root3 = RootOf(std::span(leaves).first(3));
  EXPECT_EQ(Hex(root5), "fe14a5426fbd70c0fa73f52342afed0da0bd23c4838662ccf6b88a3070ead97b");
  EXPECT_EQ(Hex(root3), "36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1");

  Result<std::vector<Hash>> inclusion = InclusionProof(2, 5, SubtreesOf(leaves, 5));
  ASSERT_OK(inclusion);
  EXPECT_THAT(
      Hexes(*inclusion),
      ::testing::ElementsAre("d070dc5b8da9aea7dc0f5ad4c29d89965200059c9a0ceca3abd5da2492dcb71d",
                             "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb",
                             "2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4"));
  EXPECT_OK(VerifyInclusion(2, 5, leaves[2], *inclusion, root5));

  Result<std::vector<Hash>> consistency = ConsistencyProof(3, 5, SubtreesOf(leaves, 5));
  ASSERT_OK(consistency);
  EXPECT_THAT(
      Hexes(*consistency),
      ::testing::ElementsAre("597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8",
                             "d070dc5b8da9aea7dc0f5ad4c29d89965200059c9a0ceca3abd5da2492dcb71d",
                             "b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb",
                             "2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4"));
  EXPECT_OK(VerifyConsistency(3, 5, root3, root5, *consistency));

  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf);
  EXPECT_EQ(HexEncode(range.Encode()),
            "0000000000000005"
            "33376a3bd63e9993708a84ddfe6c28ae58b83505dd1fed711bd924ec5a6239f0"
            "2824a7ccda2caa720c85c9fba1e8b5b735eecfdb03878e4f8dfe6c3625030bc4");
  EXPECT_EQ(range.Root(), root5);
  EXPECT_EQ(range.nodes(), (std::vector<Hash>{abcd, leaves[4]}));
  EXPECT_EQ(root5, NodeHash(abcd, leaves[4]));
}

}  // namespace
}  // namespace hokan::merkle
