#include "store/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/metadata_db.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<MetadataDb>> db =
        MetadataDb::Open(dir_.path() + "/c.db", {.create = true});
    ASSERT_OK(db);
    db_ = std::move(*db);
    ASSERT_OK(db_->WithWriteConnection(
        [](Database& c) { return c.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"); }));
  }
  std::int64_t Count() {
    std::int64_t n = -1;
    EXPECT_OK(db_->Read([&](Database& c) -> Status {
      HK_ASSIGN_OR_RETURN(Statement * s, c.Prepare("SELECT COUNT(*) FROM t"));
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (row) n = s->ColumnInt(0);
      return s->Run();
    }));
    return n;
  }
  static Status Insert(Database& c, std::int64_t k) {
    HK_ASSIGN_OR_RETURN(Statement * s, c.Prepare("INSERT INTO t(k, v) VALUES (?1, 'x')"));
    return s->Bind(1, k).Run();
  }

  testing::TempDir dir_;
  std::unique_ptr<MetadataDb> db_;
};

TEST_F(CommitterTest, ConcurrentUnitsShareCommits) {
  constexpr int kThreads = 16;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_OK(db_->committer().Run([&](Database& c) { return Insert(c, t * 1000 + i); }));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(Count(), kThreads * kEach);
  EXPECT_EQ(db_->committer().units(), static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(db_->committer().batches(), db_->committer().units());
}

TEST_F(CommitterTest, AFailingUnitRollsBackAloneAndReturnsItsOwnError) {
  ASSERT_OK(db_->committer().Run([&](Database& c) { return Insert(c, 1); }));
  // The second insert of key 1 violates the primary key; its other write goes back with it.
  Status st = db_->committer().Run([&](Database& c) -> Status {
    HK_RETURN_IF_ERROR(Insert(c, 2));
    return Insert(c, 1);
  });
  EXPECT_THAT(st, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(Count(), 1);
  EXPECT_OK(db_->committer().Run([&](Database& c) { return Insert(c, 3); }));
  EXPECT_EQ(Count(), 2);
}

class CountingObserver final : public CommitObserver {
 public:
  Status OnBatchBegin(Database&) override {
    ++begins;
    return OkStatus();
  }
  void OnUnitBegin() override { ++units; }
  void OnUnitRolledBack() override { ++rolled_back; }
  Status OnBeforeCommit(Database&) override {
    return fail_commit ? UnavailableError("no") : OkStatus();
  }
  void OnBatchEnd(bool committed) override { committed ? ++commits : ++aborts; }
  int begins = 0, units = 0, rolled_back = 0, commits = 0, aborts = 0;
  bool fail_commit = false;
};

TEST_F(CommitterTest, ObserversSeeEveryStepAndCanFailTheBatch) {
  CountingObserver o;
  db_->committer().AddObserver(&o);
  ASSERT_OK(db_->committer().Run([&](Database& c) { return Insert(c, 1); }));
  EXPECT_THAT(db_->committer().Run([](Database&) { return InvalidArgumentError("bad"); }),
              StatusIs(StatusCode::kInvalidArgument));
  o.fail_commit = true;
  EXPECT_THAT(db_->committer().Run([&](Database& c) { return Insert(c, 2); }),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(Count(), 1);  // The failed batch left nothing behind.
  EXPECT_EQ(o.begins, 3);
  EXPECT_EQ(o.units, 3);
  EXPECT_EQ(o.rolled_back, 1);
  EXPECT_EQ(o.commits, 1);
  EXPECT_EQ(o.aborts, 2);
}

}  // namespace
}  // namespace hokan
