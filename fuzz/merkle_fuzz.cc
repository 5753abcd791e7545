// libFuzzer target for audit/merkle.h. Hostile bytes go to CompactRange::Decode and, sliced
// into sizes, indices and hash lists, to VerifyInclusion and VerifyConsistency, which must
// never crash. Proofs generated for trees whose sizes come from the input must verify, and
// must stop verifying when one bit changes; a violation traps.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "audit/merkle.h"

namespace {

using hokan::Bytes;
using hokan::ByteView;
using hokan::merkle::CompactRange;
using hokan::merkle::Hash;

void Require(bool condition) {
  if (!condition) __builtin_trap();
}

Hash ConsumeHash(FuzzedDataProvider& fdp) {
  Hash hash{};
  const std::vector<std::uint8_t> bytes = fdp.ConsumeBytes<std::uint8_t>(hash.size());
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

// Tree sizes and indices: mostly small, so the bit walks end in every state, sometimes any
// 64-bit value, so overflow at the top is exercised too.
std::uint64_t ConsumeSize(FuzzedDataProvider& fdp) {
  if (fdp.ConsumeBool()) return fdp.ConsumeIntegral<std::uint64_t>();
  return fdp.ConsumeIntegralInRange<std::uint64_t>(0, 200);
}

std::vector<Hash> ConsumeProof(FuzzedDataProvider& fdp) {
  std::vector<Hash> proof(fdp.ConsumeIntegralInRange<std::size_t>(0, 70));
  for (Hash& hash : proof) hash = ConsumeHash(fdp);
  return proof;
}

void FuzzDecode(ByteView input) {
  hokan::Result<CompactRange> decoded = CompactRange::Decode(input);
  if (!decoded) return;
  Require(decoded->Encode() == Bytes(input.begin(), input.end()));
  (void)decoded->Root();
  if (decoded->size() < std::numeric_limits<std::uint64_t>::max()) {
    CompactRange grown = *decoded;
    grown.Append(Hash{});
    Require(grown.size() == decoded->size() + 1);
    Require(grown.nodes().size() == static_cast<std::size_t>(std::popcount(grown.size())));
  }
}

void FuzzVerifiers(FuzzedDataProvider& fdp) {
  const std::uint64_t index = ConsumeSize(fdp);
  const std::uint64_t size = ConsumeSize(fdp);
  const Hash leaf = ConsumeHash(fdp);
  const Hash root = ConsumeHash(fdp);
  const std::vector<Hash> inclusion = ConsumeProof(fdp);
  (void)hokan::merkle::VerifyInclusion(index, size, leaf, inclusion, root);

  const std::uint64_t old_size = ConsumeSize(fdp);
  const std::uint64_t new_size = ConsumeSize(fdp);
  const Hash old_root = ConsumeHash(fdp);
  const Hash new_root = ConsumeHash(fdp);
  const std::vector<Hash> consistency = ConsumeProof(fdp);
  (void)hokan::merkle::VerifyConsistency(old_size, new_size, old_root, new_root, consistency);
}

void FlipBit(Hash& hash, std::size_t bit) {
  hash[(bit / 8) % hash.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
}

void FuzzGeneratedProofs(FuzzedDataProvider& fdp) {
  const std::uint64_t size = fdp.ConsumeIntegralInRange<std::uint64_t>(1, 160);
  const std::uint64_t index = fdp.ConsumeIntegralInRange<std::uint64_t>(0, size - 1);
  const std::uint64_t old_size = fdp.ConsumeIntegralInRange<std::uint64_t>(1, size);
  const std::uint32_t seed = fdp.ConsumeIntegral<std::uint32_t>();
  const std::size_t flip = fdp.ConsumeIntegral<std::uint16_t>();

  std::vector<Hash> leaves;
  CompactRange range;
  for (std::uint64_t i = 0; i < size; ++i) {
    const std::uint8_t entry[] = {
        static_cast<std::uint8_t>(seed),       static_cast<std::uint8_t>(seed >> 8),
        static_cast<std::uint8_t>(seed >> 16), static_cast<std::uint8_t>(seed >> 24),
        static_cast<std::uint8_t>(i),          static_cast<std::uint8_t>(i >> 8)};
    leaves.push_back(hokan::merkle::LeafHash(entry));
    range.Append(leaves.back());
  }
  const Hash root = hokan::merkle::RootOf(leaves);
  Require(range.Root() == root);
  const Hash old_root = hokan::merkle::RootOf(std::span(leaves).first(old_size));

  const hokan::merkle::SubtreeHashFn subtree_hash = [&](std::uint64_t begin,
                                                        std::uint64_t end) -> hokan::Result<Hash> {
    Require(begin < end && end <= size);
    return hokan::merkle::RootOf(std::span(leaves).subspan(begin, end - begin));
  };

  hokan::Result<std::vector<Hash>> inclusion =
      hokan::merkle::InclusionProof(index, size, subtree_hash);
  Require(inclusion.has_value());
  Require(hokan::merkle::VerifyInclusion(index, size, leaves[index], *inclusion, root).ok());
  // One flipped bit, in a proof element or in the leaf, must break the proof.
  Hash leaf = leaves[index];
  const std::size_t target = flip % (inclusion->size() + 1);
  FlipBit(target == inclusion->size() ? leaf : (*inclusion)[target], flip / 8);
  Require(!hokan::merkle::VerifyInclusion(index, size, leaf, *inclusion, root).ok());

  hokan::Result<std::vector<Hash>> consistency =
      hokan::merkle::ConsistencyProof(old_size, size, subtree_hash);
  Require(consistency.has_value());
  Require(hokan::merkle::VerifyConsistency(old_size, size, old_root, root, *consistency).ok());
  Hash bad_old_root = old_root;
  const std::size_t c_target = flip % (consistency->size() + 1);
  FlipBit(c_target == consistency->size() ? bad_old_root : (*consistency)[c_target], flip / 8);
  Require(!hokan::merkle::VerifyConsistency(old_size, size, bad_old_root, root, *consistency).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzDecode(ByteView(data, size));
  FuzzedDataProvider fdp(data, size);
  FuzzVerifiers(fdp);
  FuzzGeneratedProofs(fdp);
  return 0;
}
