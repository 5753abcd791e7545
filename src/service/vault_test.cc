// The vault's retention (G-6.10-C4f: generations, WORM period): prune keeps every snapshot
// younger than min_days and the daily/weekly/monthly generations, removes the rest with the
// objects only they needed, and what remains still verifies.
#include "service/vault.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "audit/checkpoint.h"
#include "backup/snapshot.h"
#include "backup/verify.h"
#include "base/posix_env.h"
#include "store/atomic_write.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;

TEST(VaultTest, PruneKeepsGenerationsAndTheWormPeriod) {
  ::hokan::testing::TempDir tmp;
  PosixFileSystem fs;
  ::hokan::testing::ManualClock clock;
  Env env{fs, clock};
  const std::string v = tmp.path() + "/vault";
  ASSERT_OK(Vault::Init(env, v, {}));
  auto vault = Vault::Open(env, v);
  ASSERT_OK(vault);
  ASSERT_OK((*vault)->AddClient("ward-a"));
  EXPECT_THAT((*vault)->AddClient("ward-a"),
              ::hokan::testing::StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT((*vault)->AddClient("../x"),
              ::hokan::testing::StatusIs(StatusCode::kInvalidArgument));

  // A small data directory; one new blob per daily snapshot, for 60 days.
  const std::string d = tmp.path() + "/data";
  ASSERT_OK(fs.CreateDir(d));
  ASSERT_OK(fs.CreateDir(d + "/blobs"));
  ASSERT_OK(fs.CreateDir(d + "/blobs/ab"));
  ASSERT_OK(WriteNewFileDurably(fs, d, "hokan.toml", AsBytes("x = 1\n")));
  ASSERT_OK(WriteNewFileDurably(fs, d, ".copy.db", AsBytes(std::string(10000, 'd'))));
  auto signer = SigningKey::Generate();
  ASSERT_OK(signer);
  auto key = backup::BackupKey::Generate();
  ASSERT_OK(key);
  auto target = backup::DirectoryTarget::Open(fs, v + "/data/ward-a", false);
  ASSERT_OK(target);
  std::vector<merkle::Hash> leaves;
  std::vector<std::string> ids;
  for (int day = 0; day < 60; ++day) {
    char name[40];
    std::snprintf(name, sizeof name, "ab%030d", day);
    ASSERT_OK(
        WriteNewFileDurably(fs, d + "/blobs/ab", name, AsBytes(std::string(100, 'a' + day % 26))));
    // The configuration changes daily: its old versions live only in old snapshots.
    ASSERT_OK(fs.Remove(d + "/hokan.toml"));
    ASSERT_OK(WriteNewFileDurably(fs, d, "hokan.toml", AsBytes("day = " + std::to_string(day))));
    leaves.push_back(merkle::LeafHash(AsBytes(std::string(name))));
    backup::AuditBinding b;
    b.origin = "o";
    b.public_key = signer->PublicKeyRaw();
    b.tree_size = leaves.size();
    b.root = merkle::RootOf(leaves);
    auto cp = SignCheckpoint(*signer, "o", b.tree_size, b.root, "2027-01-15T08:00:00Z");
    ASSERT_OK(cp);
    b.checkpoint = cp->note;
    b.prove_consistency = [&leaves](std::uint64_t old_size) {
      return merkle::ConsistencyProof(
          old_size, leaves.size(), [&](std::uint64_t s, std::uint64_t e) {
            return Result<merkle::Hash>(merkle::RootOf(
                std::span<const merkle::Hash>(leaves.data() + s, static_cast<std::size_t>(e - s))));
          });
    };
    backup::SnapshotSource src{.data_dir = d, .db_copy_path = d + "/.copy.db", .store_id = "s"};
    auto w = backup::WriteSnapshot(fs, clock, src, b, *key, *signer, **target);
    ASSERT_OK(w);
    ids.push_back(w->manifest.snapshot_id);
    clock.Advance(std::chrono::hours(24));
  }

  auto dry = (*vault)->Prune(true);
  ASSERT_OK(dry);
  EXPECT_FALSE(dry->removed.empty());
  EXPECT_EQ((*target)->ListSnapshots()->size(), 60u);  // A dry run removes nothing.

  auto pruned = (*vault)->Prune(false);
  ASSERT_OK(pruned);
  EXPECT_EQ(pruned->removed, dry->removed);
  EXPECT_GT(pruned->objects_removed, 0u);
  auto left = (*target)->ListSnapshots();
  ASSERT_OK(left);
  const std::set<std::string> kept(left->begin(), left->end());
  // Every snapshot of the last min_days (30) days is still there ...
  for (int day = 60 - 30; day < 60; ++day) EXPECT_EQ(kept.count(ids[day]), 1u) << day;
  // ... and older ones only as weekly/monthly generations: fewer than all.
  EXPECT_LT(kept.size(), 60u);
  EXPECT_GT(kept.size(), 30u);
  for (const std::string& r : pruned->removed) EXPECT_THAT(r, HasSubstr("ward-a/"));
  // What remains is whole, as another process (here: this target, which read the index before
  // the prune) sees it.
  backup::VerifyOptions o;
  o.key = &*key;
  auto check = backup::VerifyTarget(**target, o);
  ASSERT_OK(check);
  for (const backup::SnapshotCheck& s : check->snapshots) {
    EXPECT_TRUE(s.ok()) << s.snapshot_id << ": " << ::testing::PrintToString(s.problems);
  }
}

}  // namespace
}  // namespace hokan

namespace hokan {
namespace {

// Found by fuzz/backup_fuzz.cc: a huge float where a whole number belongs was converted
// (undefined behaviour) instead of refused.
TEST(VaultConfigTest, NumbersMustBeWholeNumbersInRange) {
  EXPECT_TRUE(ParseVaultConfig("[retention]\nmin_days = 45\n", "v.toml").has_value());
  for (const char* bad : {"[retention]\nmin_days = 1e300\n", "[retention]\nmin_days = 4.5\n",
                          "[retention]\nmin_days = -1\n", "max_object_bytes = 8.8e60\n",
                          "[retention]\nkeep_last = 0\n", "[retention]\nkeep_yearly = 3\n"}) {
    auto c = ParseVaultConfig(bad, "v.toml");
    EXPECT_THAT(c, ::hokan::testing::StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace hokan
