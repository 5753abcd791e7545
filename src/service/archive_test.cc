#include "service/archive.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/posix_env.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() + "/store";
    ASSERT_OK(Archive::Init(env_, dir_, me_));
    Result<std::unique_ptr<Archive>> a = Archive::Open(env_, dir_);
    ASSERT_OK(a);
    archive_ = std::move(*a);
  }

  Result<PutResult> Put(const std::string& text, const std::string& record = "",
                        const std::string& patient = "P1") {
    PutRequest req{.patient_id = patient,
                   .record_type = record.empty() ? "progress-note" : "",
                   .record_id = record,
                   .media_type = "text/plain",
                   .content = AsBytes(text)};
    return archive_->PutRecord(me_, req);
  }

  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    EXPECT_OK(archive_->audit().ForEach(0, 1000, [&](std::uint64_t, std::string_view e) {
      Result<DecodedAuditEntry> d = DecodeAuditEntry(e);
      EXPECT_OK(d);
      if (d) actions.push_back(d->event.action + ":" + d->event.outcome);
      return OkStatus();
    }));
    return actions;
  }

  testing::TempDir tmp_;
  PosixFileSystem fs_;
  SystemClock clock_;
  Env env_{fs_, clock_};
  Actor me_{"local:tester", "test"};
  std::string dir_;
  std::unique_ptr<Archive> archive_;
};

// G-7.1-C3: an update adds a version; the earlier one stays readable, with its history.
TEST_F(ArchiveTest, UpdatesAddVersionsAndKeepTheOldOnes) {
  Result<PutResult> v1 = Put("first");
  ASSERT_OK(v1);
  EXPECT_EQ(v1->version.version, 1);
  Result<PutResult> v2 = Put("second", v1->version.record_id);
  ASSERT_OK(v2);
  EXPECT_EQ(v2->version.version, 2);
  EXPECT_EQ(v2->version.record_type, "progress-note");

  Result<ReadResult> latest = archive_->ReadRecord(me_, v1->version.record_id, 0);
  ASSERT_OK(latest);
  EXPECT_EQ(ToString(latest->content), "second");
  Result<ReadResult> old = archive_->ReadRecord(me_, v1->version.record_id, 1);
  ASSERT_OK(old);
  EXPECT_EQ(ToString(old->content), "first");
  EXPECT_EQ(old->version.sha256, HexEncode(Sha256(AsBytes("first"))));

  Result<RecordHistory> h = archive_->History(me_, v1->version.record_id);
  ASSERT_OK(h);
  ASSERT_EQ(h->versions.size(), 2u);
  EXPECT_EQ(h->status, "active");
}

// G-6.5-C7: writes and reads are audited, reads before the content is handed out.
TEST_F(ArchiveTest, EveryActionIsAudited) {
  Result<PutResult> v1 = Put("text");
  ASSERT_OK(v1);
  Result<ReadResult> r = archive_->ReadRecord(me_, v1->version.record_id, 0);
  ASSERT_OK(r);
  EXPECT_GT(r->audit_seq, v1->version.audit_seq);
  EXPECT_THAT(archive_->ReadRecord(me_, "000000000000000000000000", 0),
              StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(AuditActions(),
            (std::vector<std::string>{"store.init:success", "record.create:success",
                                      "record.read:success", "record.read:not_found"}));
}

TEST_F(ArchiveTest, EnteredInErrorIsAStateNotADeletion) {
  Result<PutResult> v1 = Put("wrong patient");
  ASSERT_OK(v1);
  const std::string id = v1->version.record_id;
  Result<RecordState> s = archive_->MarkEnteredInError(me_, id, "wrong patient");
  ASSERT_OK(s);
  EXPECT_EQ(s->status, "entered-in-error");
  EXPECT_THAT(archive_->MarkEnteredInError(me_, id, "again"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Put("more", id), StatusIs(StatusCode::kFailedPrecondition));
  Result<RecordHistory> h = archive_->History(me_, id);
  ASSERT_OK(h);
  EXPECT_EQ(h->status, "entered-in-error");
  ASSERT_EQ(h->states.size(), 1u);
  EXPECT_EQ(h->states[0].reason, "wrong patient");
  EXPECT_OK(archive_->ReadRecord(me_, id, 1));  // Still readable.
}

TEST_F(ArchiveTest, BadInputIsRefusedAndChangesNothing) {
  Result<PutResult> v1 = Put("x");
  ASSERT_OK(v1);
  Result<std::uint64_t> before = archive_->AuditSize();
  ASSERT_OK(before);
  EXPECT_THAT(Put("x", "", ""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Put("x", "", "P 1"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Put("x", "not-hex"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Put("x", v1->version.record_id, "P2"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Put("x", "0123456789abcdef01234567"), StatusIs(StatusCode::kNotFound));
  PutRequest bad_type{.patient_id = "P1", .record_type = "Bad Type", .content = AsBytes("x")};
  EXPECT_THAT(archive_->PutRecord(me_, bad_type), StatusIs(StatusCode::kInvalidArgument));
  PutRequest bad_media{
      .patient_id = "P1", .record_type = "note", .media_type = "pdf", .content = AsBytes("x")};
  EXPECT_THAT(archive_->PutRecord(me_, bad_media), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(archive_->MarkEnteredInError(me_, v1->version.record_id, ""),
              StatusIs(StatusCode::kInvalidArgument));
  Result<std::uint64_t> after = archive_->AuditSize();
  ASSERT_OK(after);
  EXPECT_EQ(*after, *before);
  // No blob was left behind by the refused writes.
  int blobs = 0;
  Result<std::vector<std::string>> shards = fs_.ListDir(dir_ + "/blobs");
  ASSERT_OK(shards);
  for (const std::string& s : *shards) {
    Result<std::vector<std::string>> files = fs_.ListDir(dir_ + "/blobs/" + s);
    ASSERT_OK(files);
    blobs += static_cast<int>(files->size());
  }
  EXPECT_EQ(blobs, 1);
}

TEST_F(ArchiveTest, ContentOverTheLimitIsRefused) {
  archive_.reset();
  Result<Bytes> text = fs_.ReadFile(dir_ + "/hokan.toml");
  ASSERT_OK(text);
  std::string config = ToString(*text);
  const std::size_t at = config.find("max_content_bytes = ");
  config.replace(at, config.find('\n', at) - at, "max_content_bytes = 4");
  ASSERT_OK(fs_.Remove(dir_ + "/hokan.toml"));
  Result<std::unique_ptr<WritableFile>> f = fs_.NewWritableFile(dir_ + "/hokan.toml");
  ASSERT_OK(f);
  ASSERT_OK((*f)->Append(AsBytes(config)));
  ASSERT_OK((*f)->Close());
  Result<std::unique_ptr<Archive>> a = Archive::Open(env_, dir_);
  ASSERT_OK(a);
  archive_ = std::move(*a);
  EXPECT_OK(Put("four"));
  EXPECT_THAT(Put("fives"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(ArchiveTest, InitRefusesAnExistingStoreOrANonEmptyDirectory) {
  EXPECT_THAT(Archive::Init(env_, dir_, me_), StatusIs(StatusCode::kAlreadyExists));
  const std::string other = tmp_.path() + "/other";
  ASSERT_OK(fs_.CreateDir(other));
  Result<std::unique_ptr<WritableFile>> f = fs_.NewWritableFile(other + "/x");
  ASSERT_OK(f);
  ASSERT_OK((*f)->Close());
  EXPECT_THAT(Archive::Init(env_, other, me_), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Archive::Open(env_, other), StatusIs(StatusCode::kNotFound));
}

TEST_F(ArchiveTest, VerifyPassesOnAHealthyStore) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(Put("note " + std::to_string(i)));
  ASSERT_OK(archive_->CheckpointIfDue());
  struct Sink final : VerifySink {
    void Report(const Problem& p) override { problems.push_back(p.object + ": " + p.message); }
    void Progress(std::string_view, std::uint64_t, std::uint64_t) override {}
    std::vector<std::string> problems;
  } sink;
  Result<VerifySummary> s = archive_->Verify(me_, sink);
  ASSERT_OK(s);
  EXPECT_TRUE(s->ok());
  EXPECT_EQ(s->versions, 5u);
  EXPECT_TRUE(sink.problems.empty()) << sink.problems[0];
}

}  // namespace
}  // namespace hokan
