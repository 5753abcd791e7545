// G-7.3-C7 crash consistency at every I/O step (STYLE.md rule 10): the whole write and read
// paths, SQLite included, run on a FakeFileSystem through the env VFS. For every k, the power
// is cut after k mutating operations of a PutRecord (or ReadRecord); after the restart the
// store must open, verify without damage, and hold every acknowledged version, and a write
// is either wholly there or not visible at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "service/archive.h"
#include "store/internal/sqlite_env_vfs.h"
#include "testing/fake_file_system.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::store_internal::SqliteEnvVfs;
using ::hokan::testing::FakeFileSystem;
using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kVfsName[] = "hk-integration-fake-fs";
constexpr char kDir[] = "/data";
constexpr int kMaxSteps = 1000;  // A write takes far fewer; a loop that gets here is a bug.

struct Acked {
  std::string record_id;
  std::int64_t version = 0;
  std::string sha256;
};

class CollectingSink final : public VerifySink {
 public:
  void Report(const Problem& p) override {
    (p.damage ? damage : warnings).push_back(p.object + ": " + p.message);
  }
  void Progress(std::string_view, std::uint64_t, std::uint64_t) override {}
  std::vector<std::string> damage;
  std::vector<std::string> warnings;
};

std::string Sha256Hex(ByteView bytes) { return HexEncode(Sha256(bytes)); }

class FakeFsWritePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<SqliteEnvVfs>> vfs = SqliteEnvVfs::Register(fs_, kVfsName);
    ASSERT_OK(vfs);
    vfs_ = std::move(*vfs);
  }

  Result<std::unique_ptr<Archive>> Open() { return Archive::Open(env_, kDir, options_); }

  // A store with one acknowledged record; returns its id.
  std::string InitWithOneRecord() {
    EXPECT_OK(Archive::Init(env_, kDir, actor_, options_));
    Result<std::unique_ptr<Archive>> archive = Open();
    EXPECT_OK(archive);
    if (!archive) return "";
    const std::string content = "first version";
    Result<PutResult> put = (*archive)->PutRecord(
        actor_, {.patient_id = "PAT-1", .record_type = "note", .content = AsBytes(content)});
    EXPECT_OK(put);
    if (!put) return "";
    acked_.push_back({put->version.record_id, put->version.version, put->version.sha256});
    return put->version.record_id;
  }

  // After a restart: every acknowledged version reads back and the store verifies.
  void ExpectHealthy(Archive& archive) {
    for (const Acked& a : acked_) {
      SCOPED_TRACE("acknowledged " + a.record_id + "/" + std::to_string(a.version));
      Result<ReadResult> read = archive.ReadRecord(actor_, a.record_id, a.version);
      ASSERT_OK(read);
      EXPECT_EQ(read->version.sha256, a.sha256);
      EXPECT_EQ(Sha256Hex(read->content), a.sha256);
    }
    CollectingSink sink;
    Result<VerifySummary> summary = archive.Verify(actor_, sink);
    ASSERT_OK(summary);
    EXPECT_TRUE(summary->ok()) << ::testing::PrintToString(sink.damage);
    EXPECT_THAT(sink.damage, ::testing::IsEmpty());
  }

  FakeFileSystem fs_;
  SystemClock clock_;
  Env env_{fs_, clock_};
  std::unique_ptr<SqliteEnvVfs> vfs_;  // Declared after fs_: unregistered before it dies.
  const ArchiveOptions options_{.sqlite_vfs = kVfsName};
  const Actor actor_{"local:fault-test", "test"};
  std::vector<Acked> acked_;
};

TEST_F(FakeFsWritePathTest, PutSurvivesPowerLossAtEveryStep) {
  const std::string record = InitWithOneRecord();
  ASSERT_FALSE(record.empty());
  bool finished = false;
  for (int k = 0; k < kMaxSteps && !finished; ++k) {
    SCOPED_TRACE("power lost after " + std::to_string(k) + " steps");
    const std::string content = "version written with " + std::to_string(k) + " steps allowed";
    const std::string content_sha = Sha256Hex(AsBytes(content));
    std::size_t versions_before = 0;
    Result<PutResult> put = InternalError("not run");
    {
      Result<std::unique_ptr<Archive>> archive = Open();
      ASSERT_OK(archive);
      Result<RecordHistory> h = (*archive)->records().History(record);
      ASSERT_OK(h);
      versions_before = h->versions.size();
      fs_.FailAfter(k);
      const int ops_before = fs_.mutating_ops();
      put = (*archive)->PutRecord(actor_, {.patient_id = "PAT-1",
                                           .record_type = "note",
                                           .record_id = record,
                                           .content = AsBytes(content)});
      // The put never needed the fault: this is the last step count to try. Closing the
      // archive below still runs into it, which is one more crash to survive.
      finished = put.has_value() && fs_.mutating_ops() - ops_before <= k;
    }  // The archive closes with the fault still armed.
    fs_.SimulatePowerLoss();

    Result<std::unique_ptr<Archive>> archive = Open();
    ASSERT_OK(archive);
    Result<RecordHistory> h = (*archive)->records().History(record);
    ASSERT_OK(h);
    if (put) {
      // Acknowledged means durable.
      EXPECT_EQ(put->version.sha256, content_sha);
      acked_.push_back({record, put->version.version, content_sha});
      ASSERT_EQ(h->versions.size(), versions_before + 1);
    } else {
      // Failed: the old versions only, or the old ones and the complete new one.
      ASSERT_TRUE(h->versions.size() == versions_before ||
                  h->versions.size() == versions_before + 1)
          << h->versions.size() << " versions, " << versions_before << " before";
      if (h->versions.size() == versions_before + 1) {
        const VersionInfo& v = h->versions.back();
        EXPECT_EQ(v.sha256, content_sha);
        Result<ReadResult> read = (*archive)->ReadRecord(actor_, record, v.version);
        ASSERT_OK(read);
        EXPECT_EQ(Sha256Hex(read->content), content_sha);
        acked_.push_back({record, v.version, content_sha});  // Now it must stay.
      }
    }
    for (std::size_t i = 0; i < h->versions.size(); ++i) {
      EXPECT_EQ(h->versions[i].version, static_cast<std::int64_t>(i + 1));
    }
    ExpectHealthy(**archive);
    if (HasFatalFailure()) return;
  }
  EXPECT_TRUE(finished) << "no put succeeded within " << kMaxSteps << " steps";
}

TEST_F(FakeFsWritePathTest, ReadSurvivesPowerLossAtEveryStep) {
  const std::string record = InitWithOneRecord();
  ASSERT_FALSE(record.empty());
  bool finished = false;
  for (int k = 0; k < kMaxSteps && !finished; ++k) {
    SCOPED_TRACE("power lost after " + std::to_string(k) + " steps");
    Result<ReadResult> read = InternalError("not run");
    {
      Result<std::unique_ptr<Archive>> archive = Open();
      ASSERT_OK(archive);
      fs_.FailAfter(k);
      const int ops_before = fs_.mutating_ops();
      read = (*archive)->ReadRecord(actor_, record, 1);
      finished = read.has_value() && fs_.mutating_ops() - ops_before <= k;
    }
    // A read whose audit entry could not be made durable hands out nothing: the error
    // carries no content, and an OK result must have its entry on disk after the crash.
    if (!read) {
      EXPECT_THAT(read, StatusIs(StatusCode::kUnavailable));
    } else {
      EXPECT_EQ(Sha256Hex(read->content), acked_[0].sha256);
    }
    fs_.SimulatePowerLoss();

    Result<std::unique_ptr<Archive>> archive = Open();
    ASSERT_OK(archive);
    if (read) {
      std::string entry;
      ASSERT_OK((*archive)->audit().ForEach(read->audit_seq, 1,
                                            [&](std::uint64_t, std::string_view text) {
                                              entry = std::string(text);
                                              return OkStatus();
                                            }));
      EXPECT_THAT(entry, HasSubstr("\"action\":\"record.read\""));
      EXPECT_THAT(entry, HasSubstr("\"record\":\"" + record + "\""));
      EXPECT_THAT(entry, HasSubstr("\"outcome\":\"success\""));
    }
    ExpectHealthy(**archive);
    if (HasFatalFailure()) return;
  }
  EXPECT_TRUE(finished) << "no read succeeded within " << kMaxSteps << " steps";
}

// Not asked of init by the write path, but the same rule: after a crash during `init` the
// directory is either not a store yet (hokan.toml is written last) or a sound one.
TEST_F(FakeFsWritePathTest, InitSurvivesPowerLossAtEveryStep) {
  bool finished = false;
  for (int k = 0; k < kMaxSteps && !finished; ++k) {
    SCOPED_TRACE("power lost after " + std::to_string(k) + " steps");
    // A fresh directory each time: a failed init may leave a partial one behind.
    const std::string dir = std::string(kDir) + std::to_string(k);
    fs_.FailAfter(k);
    const int ops_before = fs_.mutating_ops();
    Result<InitResult> init = Archive::Init(env_, dir, actor_, options_);
    finished = init.has_value() && fs_.mutating_ops() - ops_before <= k;
    fs_.SimulatePowerLoss();

    Result<std::unique_ptr<Archive>> archive = Archive::Open(env_, dir, options_);
    if (init) {
      ASSERT_OK(archive);
    }
    if (!archive) {
      EXPECT_THAT(archive, StatusIs(StatusCode::kNotFound));
      continue;
    }
    CollectingSink sink;
    Result<VerifySummary> summary = (*archive)->Verify(actor_, sink);
    ASSERT_OK(summary);
    EXPECT_TRUE(summary->ok()) << ::testing::PrintToString(sink.damage);
  }
  EXPECT_TRUE(finished) << "no init succeeded within " << kMaxSteps << " steps";
}

}  // namespace
}  // namespace hokan
