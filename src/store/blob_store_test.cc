#include "store/blob_store.h"

#include <gtest/gtest.h>

#include "testing/fake_file_system.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

constexpr char kId[] = "3f00112233445566778899aabbccddee";

TEST(FileBlobStore, PutIsDurableAndNeverOverwrites) {
  testing::FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/blobs"));
  ASSERT_OK(fs.SyncDir("/"));
  FileBlobStore blobs(fs, "/blobs", /*sync=*/true);
  ASSERT_OK(blobs.Put(kId, AsBytes("sealed")));
  EXPECT_THAT(blobs.Put(kId, AsBytes("other")), StatusIs(StatusCode::kAlreadyExists));
  fs.SimulatePowerLoss();
  Result<Bytes> got = blobs.Get(kId);
  ASSERT_OK(got);
  EXPECT_EQ(ToString(*got), "sealed");
}

// Fails exactly the n-th mutating operation (a transient fault such as a full disk that is
// freed again), so that the store's own cleanup after the failure can run.
class OneFaultFileSystem final : public FileSystem {
 public:
  OneFaultFileSystem(FileSystem& base, int fail_at) : base_(base), fail_at_(fail_at) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    HK_RETURN_IF_ERROR(Step());
    HK_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_.NewWritableFile(path));
    return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, std::move(f)));
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path,
                                                                 bool create) override {
    return base_.OpenRandomAccessFile(path, create);
  }
  Result<Bytes> ReadFile(const std::string& path) override { return base_.ReadFile(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    HK_RETURN_IF_ERROR(Step());
    return base_.Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    HK_RETURN_IF_ERROR(Step());
    return base_.Remove(path);
  }
  Status CreateDir(const std::string& path) override {
    HK_RETURN_IF_ERROR(Step());
    return base_.CreateDir(path);
  }
  Status SyncDir(const std::string& dir) override {
    HK_RETURN_IF_ERROR(Step());
    return base_.SyncDir(dir);
  }
  Status SyncAll(const std::string& path) override {
    HK_RETURN_IF_ERROR(Step());
    return base_.SyncAll(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }
  bool fired() const { return fired_; }

 private:
  class File final : public WritableFile {
   public:
    File(OneFaultFileSystem& fs, std::unique_ptr<WritableFile> f) : fs_(fs), f_(std::move(f)) {}
    Status Append(ByteView data) override {
      HK_RETURN_IF_ERROR(fs_.Step());
      return f_->Append(data);
    }
    Status Sync() override {
      HK_RETURN_IF_ERROR(fs_.Step());
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }

   private:
    OneFaultFileSystem& fs_;
    std::unique_ptr<WritableFile> f_;
  };
  Status Step() {
    if (step_++ != fail_at_) return OkStatus();
    fired_ = true;
    return UnavailableError("injected fault (disk full)");
  }
  FileSystem& base_;
  const int fail_at_;
  int step_ = 0;
  bool fired_ = false;
};

// A write that fails at any step (disk full, I/O error) leaves no partial blob behind, and one
// that succeeded survives a power cut.
TEST(FileBlobStore, FailedPutLeavesNothingAtEveryStep) {
  for (int fail_at = 0;; ++fail_at) {
    SCOPED_TRACE("fault at step " + std::to_string(fail_at));
    testing::FakeFileSystem disk;
    ASSERT_OK(disk.CreateDir("/blobs"));
    ASSERT_OK(disk.SyncDir("/"));
    OneFaultFileSystem fs(disk, fail_at);
    FileBlobStore blobs(fs, "/blobs", /*sync=*/true);
    const Status put = blobs.Put(kId, AsBytes("sealed"));
    Result<std::vector<std::string>> names = blobs.ListShard("3f");
    ASSERT_OK(names);
    if (!fs.fired()) {  // Every step done: the put succeeded and the loop is complete.
      ASSERT_OK(put);
      EXPECT_EQ(*names, std::vector<std::string>{kId});
      disk.SimulatePowerLoss();
      EXPECT_OK(blobs.Get(kId));
      break;
    }
    EXPECT_FALSE(put.ok());
    EXPECT_TRUE(names->empty()) << "partial blob left behind";
  }
}

TEST(FileBlobStore, MalformedIdsAreRefused) {
  testing::FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/blobs"));
  FileBlobStore blobs(fs, "/blobs", /*sync=*/true);
  EXPECT_THAT(blobs.Put("../../etc/passwd", AsBytes("x")), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(blobs.Get("../x"), StatusIs(StatusCode::kDataLoss));
  EXPECT_FALSE(IsBlobId("3F00112233445566778899AABBCCDDEE"));
  EXPECT_TRUE(IsBlobId(kId));
}

}  // namespace
}  // namespace hokan
