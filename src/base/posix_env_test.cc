#include "base/posix_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PosixFileSystemTest : public ::testing::Test {
 protected:
  std::string P(const std::string& name) const { return JoinPath(dir_.path(), name); }

  void WriteFile(const std::string& name, std::string_view contents) {
    auto file = fs_.NewWritableFile(P(name));
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append(AsBytes(contents)));
    ASSERT_OK((*file)->Sync());
    ASSERT_OK((*file)->Close());
  }

  std::string Read(const std::string& name) {
    auto bytes = fs_.ReadFile(P(name));
    if (!bytes) return "<" + bytes.error().ToString() + ">";
    return ToString(*bytes);
  }

  // The mode the OS reports, bypassing PosixFileSystem::Stat.
  static unsigned RawMode(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }

  testing::TempDir dir_;
  PosixFileSystem fs_;
};

TEST_F(PosixFileSystemTest, NewWritableFileCreatesA0600File) {
  const mode_t old_umask = ::umask(0);  // Even a permissive umask must not widen the mode.
  WriteFile("a", "hello");
  ::umask(old_umask);
  EXPECT_EQ(RawMode(P("a")), 0600u);
  EXPECT_EQ(Read("a"), "hello");
}

TEST_F(PosixFileSystemTest, CreateDirMakesA0700Directory) {
  const mode_t old_umask = ::umask(0);
  ASSERT_OK(fs_.CreateDir(P("d")));
  ::umask(old_umask);
  EXPECT_EQ(RawMode(P("d")), 0700u);
  auto info = fs_.Stat(P("d"));
  ASSERT_OK(info);
  EXPECT_TRUE(info->is_directory);
  EXPECT_EQ(info->mode, 0700u);
}

TEST_F(PosixFileSystemTest, RandomAccessFilesAre0600) {
  const mode_t old_umask = ::umask(0);
  auto file = fs_.OpenRandomAccessFile(P("r"), /*create=*/true);
  ::umask(old_umask);
  ASSERT_OK(file);
  EXPECT_EQ(RawMode(P("r")), 0600u);
}

TEST_F(PosixFileSystemTest, NewWritableFileIsExclusive) {
  WriteFile("a", "old");
  auto again = fs_.NewWritableFile(P("a"));
  EXPECT_THAT(again, StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(again.error().message(), HasSubstr(P("a")));
  EXPECT_EQ(Read("a"), "old");
}

TEST_F(PosixFileSystemTest, NewWritableFileInAMissingDirectoryIsNotFound) {
  EXPECT_THAT(fs_.NewWritableFile(P("missing/a")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, AppendsAccumulate) {
  auto file = fs_.NewWritableFile(P("log"));
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("one ")));
  ASSERT_OK((*file)->Append({}));
  ASSERT_OK((*file)->Append(AsBytes("two")));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Close());
  EXPECT_OK((*file)->Close());
  EXPECT_EQ(Read("log"), "one two");
  EXPECT_THAT((*file)->Append(AsBytes("x")), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(PosixFileSystemTest, ReadsLargeFiles) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>(i % 251);
  WriteFile("big", big);
  EXPECT_EQ(Read("big"), big);
}

TEST_F(PosixFileSystemTest, ReadFileErrors) {
  EXPECT_THAT(fs_.ReadFile(P("missing")), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(fs_.CreateDir(P("d")));
  EXPECT_THAT(fs_.ReadFile(P("d")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(PosixFileSystemTest, StatReportsSizeModeAndTime) {
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(5);
  WriteFile("a", "12345");
  auto info = fs_.Stat(P("a"));
  ASSERT_OK(info);
  EXPECT_FALSE(info->is_directory);
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->mode, 0600u);
  EXPECT_GT(info->modified, before);
  EXPECT_LT(info->modified, std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_THAT(fs_.Stat(P("missing")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, RenameReplacesTheTarget) {
  WriteFile("a", "new");
  WriteFile("b", "old");
  ASSERT_OK(fs_.Rename(P("a"), P("b")));
  ASSERT_OK(fs_.SyncDir(dir_.path()));
  EXPECT_EQ(Read("b"), "new");
  EXPECT_THAT(fs_.Stat(P("a")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_.Rename(P("a"), P("c")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, RemoveFilesAndEmptyDirectories) {
  WriteFile("a", "x");
  ASSERT_OK(fs_.Remove(P("a")));
  EXPECT_THAT(fs_.Stat(P("a")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_.Remove(P("a")), StatusIs(StatusCode::kNotFound));

  ASSERT_OK(fs_.CreateDir(P("d")));
  WriteFile("d/x", "x");
  EXPECT_THAT(fs_.Remove(P("d")), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(fs_.Remove(P("d/x")));
  ASSERT_OK(fs_.Remove(P("d")));
  EXPECT_THAT(fs_.Stat(P("d")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, CreateDirErrors) {
  ASSERT_OK(fs_.CreateDir(P("d")));
  EXPECT_THAT(fs_.CreateDir(P("d")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(fs_.CreateDir(P("missing/d")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, ListDirIsSortedWithoutDots) {
  auto empty = fs_.ListDir(dir_.path());
  ASSERT_OK(empty);
  EXPECT_THAT(*empty, IsEmpty());
  for (const char* name : {"b", "c", "a", ".hidden"}) WriteFile(name, "");
  ASSERT_OK(fs_.CreateDir(P("sub")));
  auto names = fs_.ListDir(dir_.path());
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre(".hidden", "a", "b", "c", "sub"));
  EXPECT_THAT(fs_.ListDir(P("missing")), StatusIs(StatusCode::kNotFound));
}

TEST_F(PosixFileSystemTest, SyncDir) {
  EXPECT_OK(fs_.SyncDir(dir_.path()));
  EXPECT_THAT(fs_.SyncDir(P("missing")), StatusIs(StatusCode::kNotFound));
  WriteFile("a", "");
  EXPECT_THAT(fs_.SyncDir(P("a")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(PosixFileSystemTest, RandomAccessReadWriteTruncateSize) {
  EXPECT_THAT(fs_.OpenRandomAccessFile(P("r"), /*create=*/false), StatusIs(StatusCode::kNotFound));
  auto opened = fs_.OpenRandomAccessFile(P("r"), /*create=*/true);
  ASSERT_OK(opened);
  RandomAccessFile& f = **opened;

  ASSERT_OK(f.Write(0, AsBytes("hello")));
  ASSERT_OK(f.Write(8, AsBytes("world")));  // Leaves a zero-filled gap.
  auto size = f.Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 13u);
  EXPECT_EQ(Read("r"), std::string("hello\0\0\0world", 13));

  std::uint8_t buf[32];
  auto n = f.Read(3, 4, buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), std::string("lo\0\0", 4));
  n = f.Read(10, sizeof buf, buf);  // Short at the end of the file.
  ASSERT_OK(n);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), "rld");
  n = f.Read(1000, sizeof buf, buf);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);

  ASSERT_OK(f.Write(1, AsBytes("EL")));  // Overwrites in place.
  ASSERT_OK(f.Sync());
  ASSERT_OK(f.Truncate(5));
  EXPECT_EQ(Read("r"), "hELlo");
  ASSERT_OK(f.Truncate(7));
  EXPECT_EQ(Read("r"), std::string("hELlo\0\0", 7));
  size = f.Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 7u);

  // Opening an existing file with `create` neither truncates nor fails.
  auto again = fs_.OpenRandomAccessFile(P("r"), /*create=*/true);
  ASSERT_OK(again);
  size = (*again)->Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 7u);
}

TEST_F(PosixFileSystemTest, RandomAccessOfADirectoryIsInvalid) {
  ASSERT_OK(fs_.CreateDir(P("d")));
  EXPECT_THAT(fs_.OpenRandomAccessFile(P("d"), /*create=*/true),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(SystemClock, IsNearTheSystemTime) {
  SystemClock clock;
  const auto now = std::chrono::system_clock::now();
  const auto seen = clock.Now();
  EXPECT_LT(seen - now, std::chrono::seconds(5));
  EXPECT_GT(seen - now, -std::chrono::seconds(5));
}

TEST(PathHelpers, JoinPathAndDirName) {
  EXPECT_EQ(JoinPath("/db", "a"), "/db/a");
  EXPECT_EQ(JoinPath("/db/", "a"), "/db/a");
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("", "a"), "a");
  EXPECT_EQ(DirName("/db/a"), "/db");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(DirName("/db/sub/a"), "/db/sub");
}

}  // namespace
}  // namespace hokan
