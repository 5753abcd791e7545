#include "store/metadata_db.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

Result<std::int64_t> Count(MetadataDb& db) {
  std::int64_t n = -1;
  HK_RETURN_IF_ERROR(db.Read([&](Database& d) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare("SELECT COUNT(*) FROM t"));
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (row) n = s->ColumnInt(0);
    return OkStatus();  // Left mid-result on purpose: Read must end the snapshot anyway.
  }));
  return n;
}

// A statement a reader left unfinished must not pin its pooled connection to an old snapshot:
// the next Read on that connection sees what was committed since.
TEST(MetadataDb, ReadsSeeCommitsEvenWhenAStatementWasLeftUnfinished) {
  testing::TempDir tmp;
  auto db = MetadataDb::Open(tmp.path() + "/m.db", DatabaseOptions{.create = true});
  ASSERT_OK(db);
  ASSERT_OK((*db)->WithWriteConnection([](Database& d) { return d.Exec("CREATE TABLE t(x)"); }));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK((*db)->committer().Run([](Database& d) -> Status {
      HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare("INSERT INTO t(x) VALUES (1)"));
      return s->Run();
    }));
    auto n = Count(**db);
    ASSERT_OK(n);
    EXPECT_EQ(*n, i);
  }
}

}  // namespace
}  // namespace hokan
