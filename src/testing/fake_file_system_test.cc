#include "testing/fake_file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "base/posix_env.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Creates `path` holding `contents`, synced, and makes its name durable.
void WriteDurableFile(FakeFileSystem& fs, const std::string& path, const std::string& contents) {
  auto file = fs.NewWritableFile(path);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes(contents)));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Close());
  ASSERT_OK(fs.SyncDir(DirName(path)));
}

std::string ReadString(FakeFileSystem& fs, const std::string& path) {
  Result<Bytes> bytes = fs.ReadFile(path);
  if (!bytes) return "<" + bytes.error().ToString() + ">";
  return ToString(*bytes);
}

// STYLE.md rule 12's idiom, written here so the fake can be tested before store/ has it.
Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents) {
  const std::string tmp = JoinPath(dir, name + ".tmp");
  HK_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(tmp));
  HK_RETURN_IF_ERROR(file->Append(contents));
  HK_RETURN_IF_ERROR(file->Sync());
  HK_RETURN_IF_ERROR(file->Close());
  HK_RETURN_IF_ERROR(fs.Rename(tmp, JoinPath(dir, name)));
  return fs.SyncDir(dir);
}

// --- Semantics shared with PosixFileSystem ---------------------------------------------------
// The same tests run on the fake and on the real file system, so the fake cannot drift.

enum class Kind { kFake, kPosix };

class FileSystemContract : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kFake) {
      fs_ = std::make_unique<FakeFileSystem>();
      root_ = "/root";
      ASSERT_OK(fs_->CreateDir(root_));
    } else {
      temp_dir_ = std::make_unique<TempDir>();
      fs_ = std::make_unique<PosixFileSystem>();
      root_ = temp_dir_->path();
    }
  }

  std::string P(const std::string& name) const { return JoinPath(root_, name); }

  void WriteFile(const std::string& name, const std::string& contents) {
    auto file = fs_->NewWritableFile(P(name));
    ASSERT_OK(file);
    ASSERT_OK((*file)->Append(AsBytes(contents)));
    ASSERT_OK((*file)->Sync());
    ASSERT_OK((*file)->Close());
  }

  std::string Read(const std::string& name) {
    Result<Bytes> bytes = fs_->ReadFile(P(name));
    if (!bytes) return "<" + std::string(StatusCodeName(bytes.error().code())) + ">";
    return ToString(*bytes);
  }

  std::unique_ptr<TempDir> temp_dir_;
  std::unique_ptr<FileSystem> fs_;
  std::string root_;
};

std::string KindName(const ::testing::TestParamInfo<Kind>& kind) {
  return kind.param == Kind::kFake ? "Fake" : "Posix";
}

INSTANTIATE_TEST_SUITE_P(FakeAndPosix, FileSystemContract,
                         ::testing::Values(Kind::kFake, Kind::kPosix), KindName);

TEST_P(FileSystemContract, WritesAndReadsAFile) {
  auto file = fs_->NewWritableFile(P("a"));
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("hello ")));
  ASSERT_OK((*file)->Append(AsBytes("world")));
  ASSERT_OK((*file)->Close());
  EXPECT_OK((*file)->Close());  // Idempotent.
  EXPECT_EQ(Read("a"), "hello world");
  EXPECT_THAT((*file)->Append(AsBytes("x")), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT((*file)->Sync(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_P(FileSystemContract, NewWritableFileIsExclusive) {
  WriteFile("a", "old");
  ASSERT_OK(fs_->CreateDir(P("d")));
  EXPECT_THAT(fs_->NewWritableFile(P("a")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(fs_->NewWritableFile(P("d")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(Read("a"), "old");  // Never truncates.
}

TEST_P(FileSystemContract, NewWritableFileNeedsADirectoryAsParent) {
  EXPECT_THAT(fs_->NewWritableFile(P("missing/a")), StatusIs(StatusCode::kNotFound));
  WriteFile("file", "x");
  EXPECT_THAT(fs_->NewWritableFile(P("file/a")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(FileSystemContract, MissingNamesAreNotFound) {
  EXPECT_THAT(fs_->ReadFile(P("nope")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->Stat(P("nope")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->Remove(P("nope")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->Rename(P("nope"), P("other")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->ListDir(P("nope")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->SyncDir(P("nope")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->OpenRandomAccessFile(P("nope"), false), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->OpenRandomAccessFile(P("nope/a"), true), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->CreateDir(P("nope/sub")), StatusIs(StatusCode::kNotFound));
}

TEST_P(FileSystemContract, ListDirIsSortedAndHasOnlyDirectChildren) {
  for (const char* name : {"c", "a", "b"}) WriteFile(name, "");
  ASSERT_OK(fs_->CreateDir(P("sub")));
  WriteFile("sub/z", "");
  auto names = fs_->ListDir(root_);
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("a", "b", "c", "sub"));
  EXPECT_THAT(fs_->ListDir(P("a")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs_->SyncDir(P("a")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(FileSystemContract, StatGivesModesAndSizes) {
  WriteFile("a", "12345");
  ASSERT_OK(fs_->CreateDir(P("d")));
  auto file = fs_->Stat(P("a"));
  ASSERT_OK(file);
  EXPECT_FALSE(file->is_directory);
  EXPECT_EQ(file->size, 5u);
  EXPECT_EQ(file->mode, 0600u);
  auto dir = fs_->Stat(P("d"));
  ASSERT_OK(dir);
  EXPECT_TRUE(dir->is_directory);
  EXPECT_EQ(dir->mode, 0700u);
}

TEST_P(FileSystemContract, DirectoryPathsMayEndInASlash) {
  ASSERT_OK(fs_->CreateDir(P("d/")));
  WriteFile("d//a", "x");
  EXPECT_EQ(Read("d/a"), "x");
  EXPECT_OK(fs_->Stat(P("d/")));
  EXPECT_OK(fs_->SyncDir(P("d/")));
  auto names = fs_->ListDir(P("d//"));
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("a"));
}

TEST_P(FileSystemContract, TheWrongKindOfFileIsInvalid) {
  ASSERT_OK(fs_->CreateDir(P("d")));
  EXPECT_THAT(fs_->ReadFile(P("d")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs_->OpenRandomAccessFile(P("d"), true), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs_->OpenRandomAccessFile(P("d"), false), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(FileSystemContract, CreateDirOfATakenNameFails) {
  ASSERT_OK(fs_->CreateDir(P("d")));
  EXPECT_THAT(fs_->CreateDir(P("d")), StatusIs(StatusCode::kAlreadyExists));
  WriteFile("a", "");
  EXPECT_THAT(fs_->CreateDir(P("a")), StatusIs(StatusCode::kAlreadyExists));
}

TEST_P(FileSystemContract, RenameReplacesTheTarget) {
  WriteFile("a", "new");
  WriteFile("b", "old");
  ASSERT_OK(fs_->Rename(P("a"), P("b")));
  EXPECT_EQ(Read("b"), "new");
  EXPECT_THAT(fs_->Stat(P("a")), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(fs_->Rename(P("b"), P("b")));
  EXPECT_EQ(Read("b"), "new");
}

TEST_P(FileSystemContract, RenameMovesDirectoriesWithTheirContents) {
  ASSERT_OK(fs_->CreateDir(P("a")));
  WriteFile("a/x", "x");
  ASSERT_OK(fs_->Rename(P("a"), P("b")));
  EXPECT_EQ(Read("b/x"), "x");
  EXPECT_THAT(fs_->Rename(P("b"), P("b/c")), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(fs_->CreateDir(P("full")));
  WriteFile("full/y", "y");
  EXPECT_THAT(fs_->Rename(P("b"), P("full")), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(fs_->Rename(P("b/x"), P("full")), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs_->Rename(P("b"), P("full/y")), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(fs_->CreateDir(P("empty")));
  EXPECT_OK(fs_->Rename(P("b"), P("empty")));
  EXPECT_EQ(Read("empty/x"), "x");
}

TEST_P(FileSystemContract, RemoveDeletesFilesAndOnlyEmptyDirectories) {
  ASSERT_OK(fs_->CreateDir(P("d")));
  WriteFile("d/a", "x");
  EXPECT_THAT(fs_->Remove(P("d")), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(fs_->Remove(P("d/a")));
  EXPECT_THAT(fs_->ReadFile(P("d/a")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs_->Remove(P("d/a")), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(fs_->Remove(P("d")));
  EXPECT_THAT(fs_->Stat(P("d")), StatusIs(StatusCode::kNotFound));
}

TEST_P(FileSystemContract, OpenHandleOutlivesRemove) {
  auto file = fs_->OpenRandomAccessFile(P("a"), /*create=*/true);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Write(0, AsBytes("abc")));
  ASSERT_OK(fs_->Remove(P("a")));
  ASSERT_OK((*file)->Write(3, AsBytes("d")));
  std::uint8_t buf[8] = {};
  auto n = (*file)->Read(0, sizeof buf, buf);
  ASSERT_OK(n);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), *n), "abcd");
  EXPECT_THAT(fs_->Stat(P("a")), StatusIs(StatusCode::kNotFound));
}

TEST_P(FileSystemContract, RandomAccessReadWriteTruncateSize) {
  EXPECT_THAT(fs_->OpenRandomAccessFile(P("r"), /*create=*/false), StatusIs(StatusCode::kNotFound));
  auto file = fs_->OpenRandomAccessFile(P("r"), /*create=*/true);
  ASSERT_OK(file);
  RandomAccessFile& f = **file;
  auto size = f.Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 0u);
  ASSERT_OK(f.Write(2, AsBytes("xy")));  // The gap is zero-filled.
  size = f.Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 4u);
  EXPECT_EQ(Read("r"), std::string("\0\0xy", 4));

  std::uint8_t buf[10];
  auto n = f.Read(3, sizeof buf, buf);  // Short only at the end.
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(buf[0], 'y');
  n = f.Read(100, sizeof buf, buf);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);

  ASSERT_OK(f.Sync());
  ASSERT_OK(f.Truncate(1));
  EXPECT_EQ(Read("r"), std::string("\0", 1));
  ASSERT_OK(f.Truncate(3));  // Growing fills with zeros.
  EXPECT_EQ(Read("r"), std::string("\0\0\0", 3));

  auto again = fs_->OpenRandomAccessFile(P("r"), /*create=*/true);  // Existing: kept as is.
  ASSERT_OK(again);
  size = (*again)->Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 3u);
  auto info = fs_->Stat(P("r"));
  ASSERT_OK(info);
  EXPECT_EQ(info->mode, 0600u);
}

// --- Fake-only behaviour --------------------------------------------------------------------

TEST(FakeFileSystem, RootExistsAndIsEmpty) {
  FakeFileSystem fs;
  auto info = fs.Stat("/");
  ASSERT_OK(info);
  EXPECT_TRUE(info->is_directory);
  EXPECT_EQ(info->mode, 0700u);
  auto names = fs.ListDir("/");
  ASSERT_OK(names);
  EXPECT_THAT(*names, IsEmpty());
  EXPECT_THAT(fs.NewWritableFile("/"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(fs.CreateDir("/"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(fs.Remove("/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs.Rename("/", "/x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(FakeFileSystem, ModifiedTimeMovesForward) {
  FakeFileSystem fs;
  WriteDurableFile(fs, "/a", "1");
  auto before = fs.Stat("/a");
  ASSERT_OK(before);
  auto file = fs.OpenRandomAccessFile("/a", false);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Write(0, AsBytes("2")));
  auto after = fs.Stat("/a");
  ASSERT_OK(after);
  EXPECT_LT(before->modified, after->modified);
}

TEST(FakeFileSystem, RejectsRelativeAndDottedPaths) {
  FakeFileSystem fs;
  EXPECT_THAT(fs.NewWritableFile("a"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs.NewWritableFile(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs.ReadFile("/db/../a"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs.Stat("/./a"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(FakeFileSystem, AbsurdOffsetsAreDiskFullNotACrash) {
  FakeFileSystem fs;
  auto file = fs.OpenRandomAccessFile("/r", /*create=*/true);
  ASSERT_OK(file);
  EXPECT_THAT((*file)->Write(std::uint64_t{1} << 62, AsBytes("x")),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*file)->Write(~std::uint64_t{0}, AsBytes("x")), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*file)->Truncate(std::uint64_t{1} << 62), StatusIs(StatusCode::kUnavailable));
}

// --- Power loss ---------------------------------------------------------------------------

TEST(FakeFileSystemPowerLoss, SyncedBytesSurvive) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/db"));
  ASSERT_OK(fs.SyncDir("/"));
  WriteDurableFile(fs, "/db/a", "durable");
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/db/a"), "durable");
}

TEST(FakeFileSystemPowerLoss, UnsyncedAppendsVanish) {
  FakeFileSystem fs;
  auto file = fs.NewWritableFile("/log");
  ASSERT_OK(file);
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK((*file)->Append(AsBytes("one ")));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Append(AsBytes("two")));
  EXPECT_EQ(ReadString(fs, "/log"), "one two");
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/log"), "one ");
}

TEST(FakeFileSystemPowerLoss, UnsyncedRandomWritesAndTruncatesVanish) {
  FakeFileSystem fs;
  auto file = fs.OpenRandomAccessFile("/r", /*create=*/true);
  ASSERT_OK(file);
  ASSERT_OK((*file)->Write(0, AsBytes("abcdef")));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK((*file)->Write(0, AsBytes("XY")));
  ASSERT_OK((*file)->Truncate(4));
  EXPECT_EQ(ReadString(fs, "/r"), "XYcd");
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/r"), "abcdef");
}

TEST(FakeFileSystemPowerLoss, UnsyncedCreateVanishes) {
  FakeFileSystem fs;
  auto file = fs.NewWritableFile("/a");
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("x")));
  fs.SimulatePowerLoss();
  EXPECT_THAT(fs.Stat("/a"), StatusIs(StatusCode::kNotFound));
}

TEST(FakeFileSystemPowerLoss, SyncedFileWithoutDirSyncVanishes) {
  FakeFileSystem fs;
  auto file = fs.NewWritableFile("/a");
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("x")));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Close());
  EXPECT_THAT(fs.ReadDurable("/a"), StatusIs(StatusCode::kNotFound));
  fs.SimulatePowerLoss();
  EXPECT_THAT(fs.ReadFile("/a"), StatusIs(StatusCode::kNotFound));
}

TEST(FakeFileSystemPowerLoss, DirSyncedNameWithUnsyncedBytesIsEmpty) {
  FakeFileSystem fs;
  auto file = fs.NewWritableFile("/a");
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("x")));
  ASSERT_OK(fs.SyncDir("/"));
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/a"), "");
}

TEST(FakeFileSystemPowerLoss, RenameWithoutSyncDirReverts) {
  FakeFileSystem fs;
  WriteDurableFile(fs, "/a", "A");
  WriteDurableFile(fs, "/b", "B");
  ASSERT_OK(fs.Rename("/a", "/b"));
  EXPECT_EQ(ReadString(fs, "/b"), "A");
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/a"), "A");
  EXPECT_EQ(ReadString(fs, "/b"), "B");
}

TEST(FakeFileSystemPowerLoss, RenameWithSyncDirSticks) {
  FakeFileSystem fs;
  WriteDurableFile(fs, "/a", "A");
  WriteDurableFile(fs, "/b", "B");
  ASSERT_OK(fs.Rename("/a", "/b"));
  ASSERT_OK(fs.SyncDir("/"));
  fs.SimulatePowerLoss();
  EXPECT_THAT(fs.Stat("/a"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(ReadString(fs, "/b"), "A");
}

TEST(FakeFileSystemPowerLoss, RenameAcrossDirectoriesNeedsBothDirSyncs) {
  auto setup = [](FakeFileSystem& fs) {
    ASSERT_OK(fs.CreateDir("/src"));
    ASSERT_OK(fs.CreateDir("/dst"));
    ASSERT_OK(fs.SyncDir("/"));
    WriteDurableFile(fs, "/src/f", "F");
    ASSERT_OK(fs.Rename("/src/f", "/dst/f"));
  };
  {
    FakeFileSystem fs;
    setup(fs);
    ASSERT_OK(fs.SyncDir("/dst"));
    fs.SimulatePowerLoss();
    EXPECT_EQ(ReadString(fs, "/src/f"), "F");  // The removal was not made durable.
    EXPECT_EQ(ReadString(fs, "/dst/f"), "F");
  }
  {
    FakeFileSystem fs;
    setup(fs);
    ASSERT_OK(fs.SyncDir("/src"));
    fs.SimulatePowerLoss();
    EXPECT_THAT(fs.Stat("/src/f"), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(fs.Stat("/dst/f"), StatusIs(StatusCode::kNotFound));
  }
  {
    FakeFileSystem fs;
    setup(fs);
    ASSERT_OK(fs.SyncDir("/src"));
    ASSERT_OK(fs.SyncDir("/dst"));
    fs.SimulatePowerLoss();
    EXPECT_THAT(fs.Stat("/src/f"), StatusIs(StatusCode::kNotFound));
    EXPECT_EQ(ReadString(fs, "/dst/f"), "F");
  }
}

TEST(FakeFileSystemPowerLoss, RemoveWithoutSyncDirReverts) {
  FakeFileSystem fs;
  WriteDurableFile(fs, "/a", "A");
  ASSERT_OK(fs.Remove("/a"));
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/a"), "A");
  ASSERT_OK(fs.Remove("/a"));
  ASSERT_OK(fs.SyncDir("/"));
  fs.SimulatePowerLoss();
  EXPECT_THAT(fs.Stat("/a"), StatusIs(StatusCode::kNotFound));
}

TEST(FakeFileSystemPowerLoss, CreateDirIsDurableAfterParentSync) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/a"));
  ASSERT_OK(fs.CreateDir("/b"));
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK(fs.CreateDir("/b/c"));
  fs.SimulatePowerLoss();
  EXPECT_OK(fs.Stat("/a"));
  EXPECT_OK(fs.Stat("/b"));
  EXPECT_THAT(fs.Stat("/b/c"), StatusIs(StatusCode::kNotFound));
}

TEST(FakeFileSystemPowerLoss, ContentsOfAnUnsyncedDirectoryAreLost) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/db"));
  WriteDurableFile(fs, "/db/a", "A");  // Synced inside /db, but /db itself is not in "/".
  fs.SimulatePowerLoss();
  EXPECT_THAT(fs.Stat("/db"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(fs.Stat("/db/a"), StatusIs(StatusCode::kNotFound));
  auto names = fs.ListDir("/");
  ASSERT_OK(names);
  EXPECT_THAT(*names, IsEmpty());
}

TEST(FakeFileSystemPowerLoss, HandlesDieWithThePower) {
  FakeFileSystem fs;
  auto writable = fs.NewWritableFile("/w");
  ASSERT_OK(writable);
  auto random = fs.OpenRandomAccessFile("/r", /*create=*/true);
  ASSERT_OK(random);
  ASSERT_OK(fs.SyncDir("/"));
  fs.SimulatePowerLoss();

  const auto lost = StatusIs(StatusCode::kUnavailable);
  EXPECT_THAT((*writable)->Append(AsBytes("x")), lost);
  EXPECT_THAT((*writable)->Sync(), lost);
  EXPECT_THAT((*writable)->Close(), lost);
  std::uint8_t buf[1];
  EXPECT_THAT((*random)->Read(0, 1, buf), lost);
  EXPECT_THAT((*random)->Write(0, AsBytes("x")), lost);
  EXPECT_THAT((*random)->Truncate(0), lost);
  EXPECT_THAT((*random)->Sync(), lost);
  EXPECT_THAT((*random)->Size(), lost);
  EXPECT_THAT((*random)->Size().error().message(), HasSubstr("power loss"));
  // The names survived (the directory was synced); a new handle works.
  auto reopened = fs.OpenRandomAccessFile("/r", /*create=*/false);
  ASSERT_OK(reopened);
  EXPECT_OK((*reopened)->Write(0, AsBytes("x")));
}

TEST(FakeFileSystemPowerLoss, HandleThatOutlivesTheFileSystemFailsSafely) {
  std::unique_ptr<RandomAccessFile> file;
  {
    FakeFileSystem fs;
    auto opened = fs.OpenRandomAccessFile("/r", /*create=*/true);
    ASSERT_OK(opened);
    file = std::move(*opened);
  }
  EXPECT_THAT(file->Write(0, AsBytes("x")), StatusIs(StatusCode::kUnavailable));
}

TEST(FakeFileSystemPowerLoss, ReadDurableShowsWhatWouldSurvive) {
  FakeFileSystem fs;
  auto file = fs.NewWritableFile("/a");
  ASSERT_OK(file);
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK((*file)->Append(AsBytes("ab")));
  ASSERT_OK((*file)->Sync());
  ASSERT_OK((*file)->Append(AsBytes("cd")));
  auto durable = fs.ReadDurable("/a");
  ASSERT_OK(durable);
  EXPECT_EQ(ToString(*durable), "ab");
  EXPECT_EQ(ReadString(fs, "/a"), "abcd");
}

TEST(FakeFileSystemPowerLoss, CorruptByteIsDurable) {
  FakeFileSystem fs;
  WriteDurableFile(fs, "/a", "abc");
  ASSERT_OK(fs.CorruptByte("/a", 1));
  const std::string corrupted = {'a', static_cast<char>('b' ^ 0xff), 'c'};
  EXPECT_EQ(ReadString(fs, "/a"), corrupted);
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/a"), corrupted);
  EXPECT_THAT(fs.CorruptByte("/a", 3), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(fs.CorruptByte("/missing", 0), StatusIs(StatusCode::kNotFound));
}

// --- Fault injection ----------------------------------------------------------------------

TEST(FakeFileSystemFaults, FailAfterCountsMutatingOperations) {
  FakeFileSystem fs;
  fs.FailAfter(2);
  auto file = fs.NewWritableFile("/a");  // 1
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("x")));  // 2
  const Status failed = (*file)->Append(AsBytes("y"));
  EXPECT_THAT(failed, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(failed.message(), "injected fault");
  EXPECT_THAT((*file)->Sync(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.SyncDir("/"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.CreateDir("/d"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.Rename("/a", "/b"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.Remove("/a"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.NewWritableFile("/c"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.OpenRandomAccessFile("/c", /*create=*/true), StatusIs(StatusCode::kUnavailable));

  // Failed operations had no effect; reads, Stat, ListDir and opening an existing file
  // still work.
  EXPECT_EQ(ReadString(fs, "/a"), "x");
  EXPECT_OK(fs.Stat("/a"));
  auto names = fs.ListDir("/");
  ASSERT_OK(names);
  EXPECT_THAT(*names, ElementsAre("a"));
  auto random = fs.OpenRandomAccessFile("/a", /*create=*/true);
  ASSERT_OK(random);
  EXPECT_OK((*random)->Size());
  EXPECT_THAT((*random)->Write(0, AsBytes("z")), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*random)->Truncate(0), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*random)->Sync(), StatusIs(StatusCode::kUnavailable));
  EXPECT_OK((*file)->Close());

  fs.ClearFaults();
  EXPECT_OK(fs.SyncDir("/"));
}

TEST(FakeFileSystemFaults, FailAfterZeroFailsTheFirstOperation) {
  FakeFileSystem fs;
  fs.FailAfter(0);
  EXPECT_THAT(fs.CreateDir("/d"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fs.Stat("/d"), StatusIs(StatusCode::kNotFound));
}

TEST(FakeFileSystemFaults, MutatingOpsCountsEveryAttempt) {
  FakeFileSystem fs;
  EXPECT_EQ(fs.mutating_ops(), 0);
  const int start = fs.mutating_ops();
  ASSERT_OK(WriteFileAtomically(fs, "/", "KEYS", AsBytes("k")));
  // Create, append, sync, rename, sync dir; Close does not count.
  EXPECT_EQ(fs.mutating_ops() - start, 5);

  auto file = fs.OpenRandomAccessFile("/KEYS", /*create=*/true);  // Exists: not counted.
  ASSERT_OK(file);
  std::uint8_t buf[1];
  ASSERT_OK((*file)->Read(0, 1, buf));
  ASSERT_OK((*file)->Size());
  ASSERT_OK(fs.ReadFile("/KEYS"));
  ASSERT_OK(fs.ListDir("/"));
  EXPECT_EQ(fs.mutating_ops() - start, 5);

  fs.FailAfter(0);
  EXPECT_THAT(fs.SyncDir("/"), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(fs.mutating_ops() - start, 6);
}

TEST(FakeFileSystemFaults, PowerLossClearsFaults) {
  FakeFileSystem fs;
  fs.FailAfter(0);
  EXPECT_THAT(fs.CreateDir("/d"), StatusIs(StatusCode::kUnavailable));
  fs.SimulatePowerLoss();
  EXPECT_OK(fs.CreateDir("/d"));
}

// STYLE.md rule 10: cut the power after every possible number of completed steps; the file
// is always wholly old or wholly new, and acknowledged means durable.
TEST(FakeFileSystemFaults, WriteFileAtomicallySurvivesPowerLossAtEveryStep) {
  const Bytes old_contents = {1, 1, 1};
  const Bytes new_contents = {2, 2, 2, 2};

  int steps_needed = 0;
  {
    FakeFileSystem fs;
    ASSERT_OK(fs.CreateDir("/db"));
    ASSERT_OK(WriteFileAtomically(fs, "/db", "KEYS", old_contents));
    const int before = fs.mutating_ops();
    ASSERT_OK(WriteFileAtomically(fs, "/db", "KEYS", new_contents));
    steps_needed = fs.mutating_ops() - before;
  }
  ASSERT_EQ(steps_needed, 5);

  int failures = 0;
  for (int steps = 0; steps <= steps_needed + 1; ++steps) {
    SCOPED_TRACE("power lost after " + std::to_string(steps) + " steps");
    FakeFileSystem fs;
    ASSERT_OK(fs.CreateDir("/db"));
    ASSERT_OK(fs.SyncDir("/"));
    ASSERT_OK(WriteFileAtomically(fs, "/db", "KEYS", old_contents));

    fs.FailAfter(steps);
    const Status write = WriteFileAtomically(fs, "/db", "KEYS", new_contents);
    fs.SimulatePowerLoss();

    Result<Bytes> seen = fs.ReadFile("/db/KEYS");
    ASSERT_OK(seen);
    if (write.ok()) {
      EXPECT_EQ(*seen, new_contents);
    } else {
      ++failures;
      EXPECT_TRUE(*seen == old_contents || *seen == new_contents);
    }
  }
  EXPECT_EQ(failures, steps_needed);
}

// The same idiom with a step left out loses data, and the fake notices.
TEST(FakeFileSystemFaults, SkippingTheFileSyncIsCaught) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/db"));
  ASSERT_OK(fs.SyncDir("/"));
  ASSERT_OK(WriteFileAtomically(fs, "/db", "KEYS", AsBytes("old")));
  auto file = fs.NewWritableFile("/db/KEYS.tmp");
  ASSERT_OK(file);
  ASSERT_OK((*file)->Append(AsBytes("new")));
  ASSERT_OK((*file)->Close());  // No Sync().
  ASSERT_OK(fs.Rename("/db/KEYS.tmp", "/db/KEYS"));
  ASSERT_OK(fs.SyncDir("/db"));
  fs.SimulatePowerLoss();
  EXPECT_EQ(ReadString(fs, "/db/KEYS"), "");  // Neither old nor new: the bug is visible.
}

TEST(FakeFileSystem, IsThreadSafe) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/db"));
  ASSERT_OK(fs.SyncDir("/"));
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&fs, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_OK(WriteFileAtomically(fs, "/db", name, AsBytes(name)));
        EXPECT_OK(fs.ListDir("/db"));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto names = fs.ListDir("/db");
  ASSERT_OK(names);
  EXPECT_EQ(names->size(), 200u);
  fs.SimulatePowerLoss();
  names = fs.ListDir("/db");
  ASSERT_OK(names);
  EXPECT_EQ(names->size(), 200u);
}

}  // namespace
}  // namespace hokan::testing

namespace hokan::testing {
namespace {

TEST(FakeFileSystemSyncAll, MakesEveryFileAndNameDurable) {
  FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/d"));
  ASSERT_OK(fs.CreateDir("/d/e"));
  {
    auto f = fs.NewWritableFile("/d/e/x");
    ASSERT_OK(f);
    ASSERT_OK((*f)->Append(AsBytes("unsynced")));
    ASSERT_OK((*f)->Close());
  }
  ASSERT_OK(fs.SyncAll("/d"));
  {
    auto f = fs.NewWritableFile("/d/later");  // After the barrier: lost.
    ASSERT_OK(f);
  }
  fs.SimulatePowerLoss();
  auto x = fs.ReadFile("/d/e/x");
  ASSERT_OK(x);
  EXPECT_EQ(ToString(*x), "unsynced");
  EXPECT_THAT(fs.Stat("/d/later"), StatusIs(StatusCode::kNotFound));
  fs.FailAfter(0);
  EXPECT_THAT(fs.SyncAll("/d"), StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace hokan::testing
