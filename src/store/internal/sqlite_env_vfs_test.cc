#include "store/internal/sqlite_env_vfs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/posix_env.h"
#include "testing/fake_file_system.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::store_internal {
namespace {

using ::hokan::testing::FakeFileSystem;
using ::hokan::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kVfsName[] = "hokan-test";
constexpr char kDbPath[] = "/db/test.db";

// An open connection, closed with sqlite3_close_v2 when it dies.
class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens `path` through the VFS; the result code of sqlite3_open_v2.
  int Open(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    Close();
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, kVfsName);
    if (rc != SQLITE_OK) Close();
    return rc;
  }

  // Returns the result code of sqlite3_close_v2 (SQLITE_OK for a connection never opened).
  int Close() {
    const int rc = sqlite3_close_v2(db_);
    db_ = nullptr;
    return rc;
  }

  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }

  // The first column of every row, as text; empty if the statement fails.
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      rows.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  std::string ErrorMessage() const { return db_ == nullptr ? "" : sqlite3_errmsg(db_); }

 private:
  sqlite3* db_ = nullptr;
};

// The settings the store must use with this VFS (see sqlite_env_vfs.h).
constexpr char kPragmas[] =
    "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";

void OpenDatabase(Connection& db, const std::string& pragmas = kPragmas) {
  ASSERT_EQ(db.Open(kDbPath), SQLITE_OK) << db.ErrorMessage();
  ASSERT_EQ(db.Exec(pragmas), SQLITE_OK) << db.ErrorMessage();
}

std::string InsertSql(int id) {
  return "INSERT INTO t(id, v) VALUES(" + std::to_string(id) + ", 'row " + std::to_string(id) +
         "')";
}

std::vector<std::string> Ids(Connection& db) { return db.Query("SELECT id FROM t ORDER BY id"); }

// A fake disk with the VFS registered on it and a connection slot. Members die in reverse
// order: the connection, then the VFS, then the file system.
struct World {
  World() {
    HK_CHECK(fs.CreateDir("/db").ok());
    HK_CHECK(fs.SyncDir("/").ok());
    auto registered = SqliteEnvVfs::Register(fs, kVfsName);
    HK_CHECK(registered.has_value());
    vfs = std::move(*registered);
  }

  FakeFileSystem fs;
  std::unique_ptr<SqliteEnvVfs> vfs;
  Connection db;
};

class SqliteEnvVfsTest : public ::testing::Test {
 protected:
  FakeFileSystem& fs() { return world_->fs; }
  Connection& db() { return world_->db; }
  sqlite3_vfs* vfs() { return sqlite3_vfs_find(kVfsName); }

  // Starts again on a new, empty disk.
  void ResetWorld() {
    world_.reset();  // Frees the VFS name first.
    world_ = std::make_unique<World>();
  }

  // A database with table t holding rows 1..rows, each committed on its own.
  void CreateDatabase(int rows, const std::string& pragmas = kPragmas) {
    OpenDatabase(db(), pragmas);
    ASSERT_EQ(db().Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"), SQLITE_OK)
        << db().ErrorMessage();
    for (int id = 1; id <= rows; ++id) {
      ASSERT_EQ(db().Exec(InsertSql(id)), SQLITE_OK) << db().ErrorMessage();
    }
  }

  // Power cut, then a fresh connection, as after a reboot. The old connection is closed
  // with every mutating operation failing: it belongs to the world before the power loss,
  // and a crashed process could not write anything more.
  void PowerLossAndReopen(const std::string& pragmas = kPragmas) {
    fs().SimulatePowerLoss();
    fs().FailAfter(0);
    db().Close();  // Must not crash although every file handle is dead.
    fs().ClearFaults();
    OpenDatabase(db(), pragmas);
  }

  struct CrashReport {
    int steps = 0;     // Mutating operations the step takes without faults.
    int failures = 0;  // Runs in which the step reported failure.
  };

  // Cuts the power after every possible number k of completed mutating operations of
  // `step` (counted on a run without faults), on a fresh database made by `setup` each
  // time. After each cut the database must pass integrity_check and satisfy `check`
  // (given whether `step` reported success), and must take new commits.
  template <typename Setup, typename Step, typename Check>
  CrashReport CrashAtEveryStep(Setup setup, Step step, Check check,
                               const std::string& pragmas = kPragmas) {
    ResetWorld();
    setup();
    const int before = fs().mutating_ops();
    EXPECT_TRUE(step());
    const int steps = fs().mutating_ops() - before;
    EXPECT_GT(steps, 0);

    CrashReport report{.steps = steps};
    for (int k = 0; k <= steps + 1; ++k) {
      SCOPED_TRACE("power lost after " + std::to_string(k) + " of " + std::to_string(steps) +
                   " steps");
      ResetWorld();
      setup();
      fs().FailAfter(k);
      const bool ok = step();
      if (!ok) ++report.failures;
      PowerLossAndReopen(pragmas);
      EXPECT_EQ(db().Query("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
      check(ok);
      EXPECT_EQ(db().Exec(InsertSql(100)), SQLITE_OK) << db().ErrorMessage();
    }
    return report;
  }

  std::unique_ptr<World> world_ = std::make_unique<World>();
};

// --- Registration ---------------------------------------------------------------------------

TEST(SqliteEnvVfsRegister, RegistersAndUnregistersByName) {
  FakeFileSystem fs;
  {
    auto vfs = SqliteEnvVfs::Register(fs, "hokan-register-test");
    ASSERT_OK(vfs);
    EXPECT_EQ((*vfs)->name(), "hokan-register-test");
    EXPECT_NE(sqlite3_vfs_find("hokan-register-test"), nullptr);
    EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find("hokan-register-test"))
        << "must not become the default VFS";
    EXPECT_THAT(SqliteEnvVfs::Register(fs, "hokan-register-test"),
                StatusIs(StatusCode::kAlreadyExists));
  }
  EXPECT_EQ(sqlite3_vfs_find("hokan-register-test"), nullptr);
  EXPECT_THAT(SqliteEnvVfs::Register(fs, ""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(SqliteEnvVfs::Register(fs, "unix"), StatusIs(StatusCode::kAlreadyExists));
}

// --- The VFS methods, called directly ---------------------------------------------------------

// Storage for one sqlite3_file of the VFS, closed when it dies.
class RawFile {
 public:
  explicit RawFile(sqlite3_vfs* vfs) : vfs_(vfs), storage_((vfs->szOsFile + 7) / 8) {}
  ~RawFile() { Close(); }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;

  int Open(const char* path, int flags) {
    return vfs_->xOpen(vfs_, path, file(), flags, &out_flags_);
  }
  int Close() {
    if (file()->pMethods == nullptr) return SQLITE_OK;
    const int rc = file()->pMethods->xClose(file());
    file()->pMethods = nullptr;
    return rc;
  }
  int Write(std::string_view data, sqlite3_int64 offset) {
    return file()->pMethods->xWrite(file(), data.data(), static_cast<int>(data.size()), offset);
  }
  int Read(std::string& out, int amount, sqlite3_int64 offset) {
    out.assign(static_cast<std::size_t>(amount), '?');
    return file()->pMethods->xRead(file(), out.data(), amount, offset);
  }
  int Sync() { return file()->pMethods->xSync(file(), SQLITE_SYNC_FULL); }
  int Truncate(sqlite3_int64 size) { return file()->pMethods->xTruncate(file(), size); }
  int Size(sqlite3_int64& size) { return file()->pMethods->xFileSize(file(), &size); }

  sqlite3_file* file() { return reinterpret_cast<sqlite3_file*>(storage_.data()); }

 private:
  sqlite3_vfs* vfs_;
  std::vector<std::uint64_t> storage_;  // 8-byte aligned, like SQLite's allocations.
  int out_flags_ = 0;
};

constexpr int kCreateFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MAIN_JOURNAL;

using SqliteEnvVfsMethodsTest = SqliteEnvVfsTest;

TEST_F(SqliteEnvVfsMethodsTest, OpenCreatesOnlyWhenAsked) {
  RawFile missing(vfs());
  EXPECT_EQ(missing.Open("/db/missing", SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB),
            SQLITE_CANTOPEN);
  EXPECT_EQ(missing.file()->pMethods, nullptr);
  EXPECT_THAT(fs().Stat("/db/missing"), StatusIs(StatusCode::kNotFound));

  RawFile created(vfs());
  ASSERT_EQ(created.Open("/db/new", kCreateFlags), SQLITE_OK);
  EXPECT_OK(fs().Stat("/db/new"));

  RawFile exclusive(vfs());
  EXPECT_EQ(exclusive.Open("/db/new", kCreateFlags | SQLITE_OPEN_EXCLUSIVE), SQLITE_CANTOPEN);
  RawFile in_missing_dir(vfs());
  EXPECT_EQ(in_missing_dir.Open("/nodir/x", kCreateFlags), SQLITE_CANTOPEN);
}

TEST_F(SqliteEnvVfsMethodsTest, ShortReadIsZeroFilled) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/f", kCreateFlags), SQLITE_OK);
  ASSERT_EQ(f.Write("abc", 0), SQLITE_OK);
  std::string out;
  EXPECT_EQ(f.Read(out, 3, 0), SQLITE_OK);
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(f.Read(out, 6, 1), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(out, std::string("bc\0\0\0\0", 6));
  EXPECT_EQ(f.Read(out, 4, 100), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(out, std::string(4, '\0'));
}

TEST_F(SqliteEnvVfsMethodsTest, WriteTruncateAndSizeForward) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/f", kCreateFlags), SQLITE_OK);
  ASSERT_EQ(f.Write("hello", 2), SQLITE_OK);
  sqlite3_int64 size = -1;
  ASSERT_EQ(f.Size(size), SQLITE_OK);
  EXPECT_EQ(size, 7);
  ASSERT_EQ(f.Truncate(4), SQLITE_OK);
  auto contents = fs().ReadFile("/db/f");
  ASSERT_OK(contents);
  EXPECT_EQ(ToString(*contents), std::string("\0\0he", 4));
}

TEST_F(SqliteEnvVfsMethodsTest, FirstSyncOfACreatedFileAlsoSyncsItsDirectory) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/journal", kCreateFlags), SQLITE_OK);
  ASSERT_EQ(f.Write("data", 0), SQLITE_OK);
  int before = fs().mutating_ops();
  ASSERT_EQ(f.Sync(), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 2);  // File and directory.
  before = fs().mutating_ops();
  ASSERT_EQ(f.Sync(), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 1);  // File only.
  f.Close();
  fs().SimulatePowerLoss();
  auto contents = fs().ReadFile("/db/journal");
  ASSERT_OK(contents);
  EXPECT_EQ(ToString(*contents), "data");
}

TEST_F(SqliteEnvVfsMethodsTest, SyncOfAnExistingFileDoesNotSyncTheDirectory) {
  auto made = fs().NewWritableFile("/db/old");
  ASSERT_OK(made);
  ASSERT_OK((*made)->Close());
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/old", kCreateFlags), SQLITE_OK);
  const int before = fs().mutating_ops();
  ASSERT_EQ(f.Sync(), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 1);
}

TEST_F(SqliteEnvVfsMethodsTest, FailedDirectorySyncIsRetried) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/journal", kCreateFlags), SQLITE_OK);
  fs().FailAfter(1);  // The file sync succeeds, the directory sync fails.
  EXPECT_EQ(f.Sync(), SQLITE_IOERR_DIR_FSYNC);
  fs().ClearFaults();
  const int before = fs().mutating_ops();
  ASSERT_EQ(f.Sync(), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 2);
}

TEST_F(SqliteEnvVfsMethodsTest, ReadOnlyFilesRefuseWrites) {
  auto made = fs().NewWritableFile("/db/ro");
  ASSERT_OK(made);
  ASSERT_OK((*made)->Append(AsBytes("abc")));
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/ro", SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB), SQLITE_OK);
  std::string out;
  EXPECT_EQ(f.Read(out, 3, 0), SQLITE_OK);
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(f.Write("x", 0), SQLITE_IOERR_WRITE);
  EXPECT_EQ(f.Truncate(0), SQLITE_IOERR_TRUNCATE);
  auto contents = fs().ReadFile("/db/ro");
  ASSERT_OK(contents);
  EXPECT_EQ(ToString(*contents), "abc");
}

TEST_F(SqliteEnvVfsMethodsTest, DeleteOnCloseRemovesTheFile) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/tmp", kCreateFlags | SQLITE_OPEN_DELETEONCLOSE), SQLITE_OK);
  ASSERT_EQ(f.Write("x", 0), SQLITE_OK);
  EXPECT_OK(fs().Stat("/db/tmp"));
  EXPECT_EQ(f.Close(), SQLITE_OK);
  EXPECT_THAT(fs().Stat("/db/tmp"), StatusIs(StatusCode::kNotFound));
}

TEST_F(SqliteEnvVfsMethodsTest, NamelessTemporaryFilesLiveInMemory) {
  auto before = fs().ListDir("/db");
  ASSERT_OK(before);
  RawFile f(vfs());
  ASSERT_EQ(f.Open(nullptr, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_DELETEONCLOSE |
                                SQLITE_OPEN_TEMP_JOURNAL),
            SQLITE_OK);
  const int ops = fs().mutating_ops();
  ASSERT_EQ(f.Write("temp", 3), SQLITE_OK);
  ASSERT_EQ(f.Sync(), SQLITE_OK);
  std::string out;
  EXPECT_EQ(f.Read(out, 8, 0), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(out, std::string("\0\0\0temp\0", 8));
  ASSERT_EQ(f.Truncate(2), SQLITE_OK);
  sqlite3_int64 size = -1;
  ASSERT_EQ(f.Size(size), SQLITE_OK);
  EXPECT_EQ(size, 2);
  EXPECT_EQ(fs().mutating_ops(), ops);
  EXPECT_EQ(f.Close(), SQLITE_OK);
  auto after = fs().ListDir("/db");
  ASSERT_OK(after);
  EXPECT_EQ(*after, *before);
}

TEST_F(SqliteEnvVfsMethodsTest, DeleteForwardsAndSyncsTheDirectoryWhenAsked) {
  auto made = fs().NewWritableFile("/db/j");
  ASSERT_OK(made);
  ASSERT_OK((*made)->Close());
  ASSERT_OK(fs().SyncDir("/db"));
  int before = fs().mutating_ops();
  EXPECT_EQ(vfs()->xDelete(vfs(), "/db/j", 0), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 1);
  fs().SimulatePowerLoss();
  EXPECT_OK(fs().Stat("/db/j"));  // Not synced: the name came back.

  before = fs().mutating_ops();
  EXPECT_EQ(vfs()->xDelete(vfs(), "/db/j", 1), SQLITE_OK);
  EXPECT_EQ(fs().mutating_ops() - before, 2);
  fs().SimulatePowerLoss();
  EXPECT_THAT(fs().Stat("/db/j"), StatusIs(StatusCode::kNotFound));

  EXPECT_EQ(vfs()->xDelete(vfs(), "/db/j", 0), SQLITE_IOERR_DELETE_NOENT);
}

TEST_F(SqliteEnvVfsMethodsTest, AccessUsesStat) {
  int result = -1;
  EXPECT_EQ(vfs()->xAccess(vfs(), "/db/none", SQLITE_ACCESS_EXISTS, &result), SQLITE_OK);
  EXPECT_EQ(result, 0);

  auto made = fs().NewWritableFile("/db/empty");
  ASSERT_OK(made);
  ASSERT_OK((*made)->Close());
  EXPECT_EQ(vfs()->xAccess(vfs(), "/db/empty", SQLITE_ACCESS_EXISTS, &result), SQLITE_OK);
  EXPECT_EQ(result, 0);  // Like the unix VFS: an empty file is not a hot journal.
  EXPECT_EQ(vfs()->xAccess(vfs(), "/db/empty", SQLITE_ACCESS_READWRITE, &result), SQLITE_OK);
  EXPECT_EQ(result, 1);

  made = fs().NewWritableFile("/db/full");
  ASSERT_OK(made);
  ASSERT_OK((*made)->Append(AsBytes("x")));
  EXPECT_EQ(vfs()->xAccess(vfs(), "/db/full", SQLITE_ACCESS_EXISTS, &result), SQLITE_OK);
  EXPECT_EQ(result, 1);
  EXPECT_EQ(vfs()->xAccess(vfs(), "/db", SQLITE_ACCESS_EXISTS, &result), SQLITE_OK);
  EXPECT_EQ(result, 1);

  EXPECT_EQ(vfs()->xAccess(vfs(), "relative", SQLITE_ACCESS_EXISTS, &result), SQLITE_IOERR_ACCESS);
}

TEST_F(SqliteEnvVfsMethodsTest, FullPathnameCopiesAbsolutePaths) {
  char out[16];
  EXPECT_EQ(vfs()->xFullPathname(vfs(), "/db/x", sizeof out, out), SQLITE_OK);
  EXPECT_STREQ(out, "/db/x");
  EXPECT_EQ(vfs()->xFullPathname(vfs(), "db/x", sizeof out, out), SQLITE_CANTOPEN);
  EXPECT_EQ(vfs()->xFullPathname(vfs(), "/db/a-much-longer-name", sizeof out, out),
            SQLITE_CANTOPEN);
}

TEST_F(SqliteEnvVfsMethodsTest, ErrorsMapToIoErrorCodes) {
  RawFile f(vfs());
  ASSERT_EQ(f.Open("/db/f", kCreateFlags), SQLITE_OK);
  ASSERT_EQ(f.Write("abc", 0), SQLITE_OK);
  fs().FailAfter(0);
  EXPECT_EQ(f.Write("x", 0), SQLITE_IOERR_WRITE);
  EXPECT_EQ(f.Truncate(0), SQLITE_IOERR_TRUNCATE);
  EXPECT_EQ(f.Sync(), SQLITE_IOERR_FSYNC);
  EXPECT_EQ(vfs()->xDelete(vfs(), "/db/f", 0), SQLITE_IOERR_DELETE);
  RawFile g(vfs());
  EXPECT_EQ(g.Open("/db/g", kCreateFlags), SQLITE_CANTOPEN);
  fs().ClearFaults();

  fs().SimulatePowerLoss();  // Every handle dies.
  std::string out;
  EXPECT_EQ(f.Read(out, 1, 0), SQLITE_IOERR_READ);
  sqlite3_int64 size = 0;
  EXPECT_EQ(f.Size(size), SQLITE_IOERR_FSTAT);
  EXPECT_EQ(f.Close(), SQLITE_OK);
}

TEST_F(SqliteEnvVfsMethodsTest, TimeAndRandomnessComeFromTheDefaultVfs) {
  sqlite3_int64 ms = 0;
  ASSERT_EQ(vfs()->xCurrentTimeInt64(vfs(), &ms), SQLITE_OK);
  double day = 0;
  ASSERT_EQ(vfs()->xCurrentTime(vfs(), &day), SQLITE_OK);
  EXPECT_GT(day, 2460000.0);  // After 2023 (Julian day number).
  EXPECT_NEAR(static_cast<double>(ms) / 86'400'000.0, day, 1.0);
  char random[16] = {};
  EXPECT_EQ(vfs()->xRandomness(vfs(), sizeof random, random), static_cast<int>(sizeof random));
}

// --- The SQLite engine on the fake file system ------------------------------------------------

TEST_F(SqliteEnvVfsTest, RunsSqliteInWalMode) {
  CreateDatabase(3);
  EXPECT_EQ(db().Query("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(db().Query("PRAGMA locking_mode"), std::vector<std::string>{"exclusive"});
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3"));
  auto names = fs().ListDir("/db");
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("test.db", "test.db-wal"));  // No -shm file.
  EXPECT_EQ(db().Query("PRAGMA integrity_check"), std::vector<std::string>{"ok"});

  ASSERT_EQ(db().Close(), SQLITE_OK);
  names = fs().ListDir("/db");
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("test.db"));  // Checkpointed and removed at close.
  OpenDatabase(db());
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3"));
}

TEST_F(SqliteEnvVfsTest, SpillsTemporaryDataToMemoryFiles) {
  CreateDatabase(0);
  ASSERT_EQ(db().Exec("PRAGMA temp_store=FILE; PRAGMA temp.cache_size=2;"
                      "CREATE TEMP TABLE big(x);"
                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                      " WHERE i < 500) INSERT INTO big SELECT randomblob(400) FROM n;"),
            SQLITE_OK)
      << db().ErrorMessage();
  EXPECT_EQ(db().Query("SELECT count(*) FROM big"), std::vector<std::string>{"500"});
  auto names = fs().ListDir("/db");
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("test.db", "test.db-wal"));
}

TEST_F(SqliteEnvVfsTest, RunsOnTheRealFileSystemToo) {
  ::hokan::testing::TempDir dir;
  PosixFileSystem posix;
  world_.reset();
  auto vfs = SqliteEnvVfs::Register(posix, kVfsName);
  ASSERT_OK(vfs);
  {
    Connection db;
    ASSERT_EQ(db.Open(dir.path() + "/real.db"), SQLITE_OK) << db.ErrorMessage();
    ASSERT_EQ(db.Exec(kPragmas), SQLITE_OK) << db.ErrorMessage();
    ASSERT_EQ(db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"), SQLITE_OK);
    ASSERT_EQ(db.Exec(InsertSql(1)), SQLITE_OK) << db.ErrorMessage();
    ASSERT_EQ(db.Close(), SQLITE_OK);
    ASSERT_EQ(db.Open(dir.path() + "/real.db"), SQLITE_OK) << db.ErrorMessage();
    ASSERT_EQ(db.Exec(kPragmas), SQLITE_OK) << db.ErrorMessage();
    EXPECT_THAT(Ids(db), ElementsAre("1"));
  }
  auto names = posix.ListDir(dir.path());
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("real.db"));
}

// A read-only connection reads a WAL left by a crash without checkpointing it into the
// database or removing it.
TEST_F(SqliteEnvVfsTest, ReadOnlyConnectionLeavesTheFilesAlone) {
  CreateDatabase(3);
  fs().SimulatePowerLoss();
  fs().FailAfter(0);
  db().Close();
  fs().ClearFaults();
  auto db_before = fs().ReadFile(kDbPath);
  ASSERT_OK(db_before);
  auto wal_before = fs().ReadFile(std::string(kDbPath) + "-wal");
  ASSERT_OK(wal_before);

  Connection reader;
  ASSERT_EQ(reader.Open(kDbPath, SQLITE_OPEN_READONLY), SQLITE_OK) << reader.ErrorMessage();
  ASSERT_EQ(reader.Exec("PRAGMA locking_mode=EXCLUSIVE"), SQLITE_OK) << reader.ErrorMessage();
  EXPECT_THAT(Ids(reader), ElementsAre("1", "2", "3"));
  EXPECT_EQ(reader.Exec(InsertSql(4)) & 0xff, SQLITE_READONLY);
  ASSERT_EQ(reader.Close(), SQLITE_OK);

  auto db_after = fs().ReadFile(kDbPath);
  ASSERT_OK(db_after);
  EXPECT_EQ(*db_after, *db_before);
  auto wal_after = fs().ReadFile(std::string(kDbPath) + "-wal");
  ASSERT_OK(wal_after);
  EXPECT_EQ(*wal_after, *wal_before);
}

// (a) Committed rows survive a power cut.
TEST_F(SqliteEnvVfsTest, CommittedRowsSurvivePowerLoss) {
  CreateDatabase(5);
  PowerLossAndReopen();
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3", "4", "5"));
  EXPECT_EQ(db().Query("PRAGMA integrity_check"), std::vector<std::string>{"ok"});

  // And again, after more commits on the recovered database.
  ASSERT_EQ(db().Exec(InsertSql(6)), SQLITE_OK) << db().ErrorMessage();
  PowerLossAndReopen();
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3", "4", "5", "6"));
}

// (c) A multi-statement transaction committed with synchronous=FULL is kept whole; one
// still open at the power cut is lost whole.
TEST_F(SqliteEnvVfsTest, CommittedTransactionSurvivesAndOpenOneVanishes) {
  CreateDatabase(1);
  ASSERT_EQ(db().Exec("BEGIN; " + InsertSql(2) + "; " + InsertSql(3) + "; COMMIT;"), SQLITE_OK)
      << db().ErrorMessage();
  ASSERT_EQ(db().Exec("BEGIN; " + InsertSql(4) + "; " + InsertSql(5)), SQLITE_OK);
  PowerLossAndReopen();
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3"));
  EXPECT_EQ(db().Query("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

TEST_F(SqliteEnvVfsTest, CheckpointedRowsSurvivePowerLoss) {
  CreateDatabase(3);
  ASSERT_EQ(db().Query("PRAGMA wal_checkpoint(TRUNCATE)").size(), 1u);
  ASSERT_EQ(db().Exec(InsertSql(4)), SQLITE_OK);
  PowerLossAndReopen();
  EXPECT_THAT(Ids(db()), ElementsAre("1", "2", "3", "4"));
  EXPECT_EQ(db().Query("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
}

// (b) Cut the power after every possible number of completed I/O steps of a commit: the
// database is always intact, and an acknowledged commit is always there.
TEST_F(SqliteEnvVfsTest, CommitSurvivesPowerLossAtEveryStep) {
  const CrashReport report = CrashAtEveryStep(
      [&] { CreateDatabase(1); }, [&] { return db().Exec(InsertSql(2)) == SQLITE_OK; },
      [&](bool committed) {
        const std::vector<std::string> ids = Ids(db());
        if (committed) {
          EXPECT_THAT(ids, ElementsAre("1", "2"));
        } else {
          EXPECT_THAT(ids, ::testing::AnyOf(ElementsAre("1"), ElementsAre("1", "2")));
        }
      });
  // Every cut before the last step made the commit fail; none after it did.
  EXPECT_EQ(report.failures, report.steps);
  RecordProperty("mutating_ops_per_commit", report.steps);
  std::printf("A one-row WAL commit took %d mutating operations.\n", report.steps);
}

// The first commit also creates the WAL file, whose name must become durable.
TEST_F(SqliteEnvVfsTest, FirstCommitSurvivesPowerLossAtEveryStep) {
  const CrashReport report = CrashAtEveryStep(
      [&] {
        CreateDatabase(0);
        ASSERT_EQ(db().Close(), SQLITE_OK);  // Checkpoints and removes the WAL.
        OpenDatabase(db());
      },
      [&] { return db().Exec(InsertSql(1)) == SQLITE_OK; },
      [&](bool committed) {
        const std::vector<std::string> ids = Ids(db());
        if (committed) {
          EXPECT_THAT(ids, ElementsAre("1"));
        } else {
          EXPECT_THAT(ids, ::testing::AnyOf(IsEmpty(), ElementsAre("1")));
        }
      });
  EXPECT_EQ(report.failures, report.steps);
  std::printf("A first WAL commit took %d mutating operations.\n", report.steps);
}

TEST_F(SqliteEnvVfsTest, CheckpointSurvivesPowerLossAtEveryStep) {
  const CrashReport report =
      CrashAtEveryStep([&] { CreateDatabase(20); },
                       [&] {
                         return db().Query("PRAGMA wal_checkpoint(TRUNCATE)") ==
                                std::vector<std::string>{"0"};  // busy = 0
                       },
                       [&](bool) { EXPECT_EQ(Ids(db()).size(), 20u); });
  EXPECT_EQ(report.failures, report.steps);
}

// sqlite3_close_v2 checkpoints and removes the WAL, and reports no I/O errors.
TEST_F(SqliteEnvVfsTest, CloseSurvivesPowerLossAtEveryStep) {
  CrashAtEveryStep([&] { CreateDatabase(20); }, [&] { return db().Close() == SQLITE_OK; },
                   [&](bool) { EXPECT_EQ(Ids(db()).size(), 20u); });
}

// The rollback journal, which the store does not use, works too. In exclusive locking mode
// SQLite commits by zeroing and syncing the journal header instead of deleting the file.
TEST_F(SqliteEnvVfsTest, RollbackJournalCommitSurvivesPowerLossAtEveryStep) {
  const std::string pragmas =
      "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;";
  const CrashReport report = CrashAtEveryStep(
      [&] { CreateDatabase(3, pragmas); },
      [&] {
        return db().Exec("BEGIN; " + InsertSql(4) + "; " + InsertSql(5) + "; COMMIT") == SQLITE_OK;
      },
      [&](bool committed) {
        const std::vector<std::string> ids = Ids(db());
        if (committed) {
          EXPECT_THAT(ids, ElementsAre("1", "2", "3", "4", "5"));
        } else {
          EXPECT_THAT(ids, ::testing::AnyOf(ElementsAre("1", "2", "3"),
                                            ElementsAre("1", "2", "3", "4", "5")));
        }
      },
      pragmas);
  EXPECT_EQ(report.failures, report.steps);
  std::printf("A two-row rollback-journal commit took %d mutating operations.\n", report.steps);
}

// Creating the database itself: once the schema is committed, it survives.
TEST_F(SqliteEnvVfsTest, CreatingTheDatabaseSurvivesPowerLossAtEveryStep) {
  const CrashReport report = CrashAtEveryStep(
      [&] {},
      [&] {
        if (db().Open(kDbPath) != SQLITE_OK || db().Exec(kPragmas) != SQLITE_OK) return false;
        return db().Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)") == SQLITE_OK;
      },
      [&](bool created) {
        const std::vector<std::string> tables =
            db().Query("SELECT name FROM sqlite_schema WHERE type = 'table'");
        if (created) {
          EXPECT_THAT(tables, ElementsAre("t"));
        } else if (tables.empty()) {
          ASSERT_EQ(db().Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)"),
                    SQLITE_OK);
        }
      });
  EXPECT_EQ(report.failures, report.steps);
}

}  // namespace
}  // namespace hokan::store_internal
