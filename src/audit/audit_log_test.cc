#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "base/posix_env.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

class CollectingSink final : public VerifySink {
 public:
  void Report(const Problem& p) override { problems.push_back(p); }
  void Progress(std::string_view, std::uint64_t, std::uint64_t) override {}
  bool Names(std::string_view object) const {
    for (const Problem& p : problems) {
      if (p.damage && p.object == object) return true;
    }
    return false;
  }
  int damage() const {
    int n = 0;
    for (const Problem& p : problems) n += p.damage ? 1 : 0;
    return n;
  }
  std::vector<Problem> problems;
};

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/audit.db";
    Open(/*create=*/true);
  }

  void Open(bool create) {
    log_.reset();
    db_.reset();
    Result<std::unique_ptr<MetadataDb>> db = MetadataDb::Open(path_, {.create = create});
    ASSERT_OK(db);
    db_ = std::move(*db);
    if (create) {
      ASSERT_OK(db_->WithWriteConnection([](Database& c) { return AuditLog::CreateSchema(c); }));
      Result<SigningKey> key = SigningKey::Generate();
      ASSERT_OK(key);
      Result<std::string> pem = key->PrivatePem();
      ASSERT_OK(pem);
      pem_ = *pem;
    }
    Result<SigningKey> key = SigningKey::FromPrivatePem(pem_);
    ASSERT_OK(key);
    log_ = std::make_unique<AuditLog>(env_, *db_, mac_key_, std::move(*key), "hokan/test");
  }

  AuditEvent Event(int i) {
    return AuditEvent{.actor = "local:test",
                      .action = "record.read",
                      .patient = "P1",
                      .record = "r" + std::to_string(i),
                      .source = "test"};
  }

  // Runs raw SQL on the database file, as an attacker with file access would.
  void Tamper(const std::string& sql) {
    log_.reset();
    db_.reset();
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(raw,
                                ("DROP TRIGGER IF EXISTS audit_entries_immutable;"
                                 "DROP TRIGGER IF EXISTS audit_entries_undeletable;"
                                 "DROP TRIGGER IF EXISTS audit_checkpoints_immutable;" +
                                 sql)
                                    .c_str(),
                                nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
    Open(/*create=*/false);
  }

  // `n` entries appended in one committer unit (one transaction): fast for large logs.
  void AppendInOneCommit(int n) {
    ASSERT_OK(db_->committer().Run([&](Database& db) -> Status {
      for (int i = 0; i < n; ++i) HK_RETURN_IF_ERROR(log_->AppendIn(db, Event(i)).error());
      return OkStatus();
    }));
  }

  CollectingSink VerifyNow() {
    CollectingSink sink;
    AuditVerifyStats stats;
    EXPECT_OK(log_->Verify(sink, stats));
    return sink;
  }

  testing::TempDir dir_;
  std::string path_;
  PosixFileSystem fs_;
  SystemClock clock_;
  Env env_{fs_, clock_};
  Bytes mac_key_ = Bytes(32, 7);
  std::string pem_;
  std::unique_ptr<MetadataDb> db_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsAreDenseAndVerify) {
  for (int i = 0; i < 10; ++i) {
    Result<std::uint64_t> seq = log_->Append(Event(i));
    ASSERT_OK(seq);
    EXPECT_EQ(*seq, static_cast<std::uint64_t>(i));
  }
  ASSERT_OK(log_->WriteCheckpoint());
  CollectingSink sink = VerifyNow();
  EXPECT_EQ(sink.damage(), 0);
  Result<std::uint64_t> covered = log_->CheckpointedSize();
  ASSERT_OK(covered);
  EXPECT_EQ(*covered, 10u);
}

TEST_F(AuditLogTest, ConcurrentAppendsShareCommitsAndStayDense) {
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) EXPECT_OK(log_->Append(Event(t * 1000 + i)));
    });
  }
  for (std::thread& t : threads) t.join();
  Result<std::uint64_t> size = log_->Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, static_cast<std::uint64_t>(kThreads * kEach));
  // Group commit: fewer durable commits than appends.
  EXPECT_LT(db_->committer().batches(), db_->committer().units());
  ASSERT_OK(log_->WriteCheckpoint());
  EXPECT_EQ(VerifyNow().damage(), 0);
}

TEST_F(AuditLogTest, InclusionAndConsistencyProofsVerify) {
  for (int i = 0; i < 37; ++i) ASSERT_OK(log_->Append(Event(i)));
  for (std::uint64_t index : {0u, 1u, 17u, 36u}) {
    Result<InclusionProofResult> p = log_->ProveInclusion(index);
    ASSERT_OK(p);
    EXPECT_EQ(p->tree_size, 37u);
    EXPECT_OK(merkle::VerifyInclusion(index, p->tree_size, merkle::LeafHash(AsBytes(p->entry)),
                                      p->proof, p->root));
    Result<Checkpoint> c = VerifyCheckpoint(p->checkpoint, "hokan/test", log_->public_key());
    ASSERT_OK(c);
    EXPECT_EQ(c->root, p->root);
  }
  Result<ConsistencyProofResult> c = log_->ProveConsistency(5, 37);
  ASSERT_OK(c);
  EXPECT_OK(merkle::VerifyConsistency(5, 37, c->old_root, c->new_root, c->proof));
  EXPECT_THAT(log_->ProveConsistency(0, 5), testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveConsistency(5, 38), testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->ProveInclusion(37), testing::StatusIs(StatusCode::kNotFound));
}

// A proof is checked against the signed root before it is handed out: a log whose stored
// leaves no longer match its checkpoint yields an error, never a proof that does not verify.
TEST_F(AuditLogTest, ProofOverDamagedLeavesIsRefused) {
  for (int i = 0; i < 9; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  ASSERT_OK(log_->ProveInclusion(2));
  Tamper("UPDATE audit_entries SET leaf_hash = zeroblob(32) WHERE seq = 6;");
  EXPECT_THAT(log_->ProveInclusion(2), testing::StatusIs(StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, ProofOfAChangedEntryIsRefused) {
  for (int i = 0; i < 9; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper("UPDATE audit_entries SET entry = replace(entry, '\"r1\"', '\"r7\"') WHERE seq = 1;");
  EXPECT_THAT(log_->ProveInclusion(1), testing::StatusIs(StatusCode::kDataLoss));
  EXPECT_OK(log_->ProveInclusion(4));  // Other entries' proofs do not use entry 1's text.
}

// Logs past 256 entries keep subtree hashes, so proofs read O(log n) rows. The proofs must be
// the RFC 9162 ones (they verify against the signed root; consistency against both roots).
TEST_F(AuditLogTest, ProofsFromStoredNodesVerifyAtEverySizeShape) {
  constexpr int kEntries = 70000;  // Past 2^16: levels 8 and 16 are both in play.
  AppendInOneCommit(kEntries);
  Result<Checkpoint> checkpoint = log_->WriteCheckpoint();
  ASSERT_OK(checkpoint);
  for (std::uint64_t index : {0u, 255u, 256u, 257u, 4095u, 65535u, 65536u, 69999u}) {
    Result<InclusionProofResult> p = log_->ProveInclusion(index);
    ASSERT_OK(p) << index;
    EXPECT_EQ(p->root, checkpoint->root);
    EXPECT_OK(merkle::VerifyInclusion(index, p->tree_size, p->leaf_hash, p->proof, p->root));
  }
  for (auto [a, b] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
           {1, 70000}, {255, 257}, {256, 65536}, {300, 70000}, {65536, 70000}, {69999, 70000}}) {
    Result<ConsistencyProofResult> c = log_->ProveConsistency(a, b);
    ASSERT_OK(c) << a << ".." << b;
    EXPECT_OK(merkle::VerifyConsistency(a, b, c->old_root, c->new_root, c->proof));
  }
  CollectingSink sink = VerifyNow();
  EXPECT_EQ(sink.damage(), 0);
}

TEST_F(AuditLogTest, AlteredStoredNodeIsNamedAndNeverYieldsABadProof) {
  AppendInOneCommit(600);
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper(
      "DROP TRIGGER IF EXISTS audit_nodes_immutable; "
      "UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 8 AND idx = 1;");
  EXPECT_TRUE(VerifyNow().Names("audit node 8/1"));
  // A proof for entry 10 needs the subtree [256, 512): refused rather than wrong.
  EXPECT_THAT(log_->ProveInclusion(10), testing::StatusIs(StatusCode::kDataLoss));
}

TEST_F(AuditLogTest, MissingStoredNodeFallsBackToLeaves) {
  AppendInOneCommit(600);
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper(
      "DROP TRIGGER IF EXISTS audit_nodes_undeletable; "
      "DELETE FROM audit_nodes WHERE level = 8 AND idx = 1;");
  EXPECT_TRUE(VerifyNow().Names("audit node 8/1"));
  Result<InclusionProofResult> p = log_->ProveInclusion(10);
  ASSERT_OK(p);
  EXPECT_OK(merkle::VerifyInclusion(10, p->tree_size, p->leaf_hash, p->proof, p->root));
}

// G-6.5-C8: direct edits of the SQLite file are detected and the entry is named.
TEST_F(AuditLogTest, ChangedEntryIsNamed) {
  for (int i = 0; i < 6; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper(
      "UPDATE audit_entries SET entry = replace(entry, 'local:test', 'local:evil') "
      "WHERE seq = 3;");
  CollectingSink sink = VerifyNow();
  EXPECT_TRUE(sink.Names("audit entry 3"));
}

TEST_F(AuditLogTest, ChangedEntryWithRecomputedLeafIsStillNamed) {
  for (int i = 0; i < 6; ++i) ASSERT_OK(log_->Append(Event(i)));
  Tamper(
      "UPDATE audit_entries SET entry = replace(entry, 'r2', 'r9'), "
      "leaf_hash = zeroblob(32) WHERE seq = 2;");
  EXPECT_TRUE(VerifyNow().Names("audit entry 2"));
}

TEST_F(AuditLogTest, DeletedEntryIsNamed) {
  for (int i = 0; i < 6; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper("DELETE FROM audit_entries WHERE seq = 2;");
  CollectingSink sink = VerifyNow();
  EXPECT_TRUE(sink.Names("audit entry 2"));
}

TEST_F(AuditLogTest, DeletedTailBeforeCheckpointIsDetected) {
  for (int i = 0; i < 6; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper("DELETE FROM audit_entries WHERE seq >= 4;");
  CollectingSink sink = VerifyNow();
  EXPECT_GT(sink.damage(), 0);
  bool names_checkpoint = false;
  for (const Problem& p : sink.problems) {
    names_checkpoint |= p.object.rfind("checkpoint #", 0) == 0;
  }
  EXPECT_TRUE(names_checkpoint);
}

TEST_F(AuditLogTest, InsertedEntryIsNamed) {
  for (int i = 0; i < 4; ++i) ASSERT_OK(log_->Append(Event(i)));
  Tamper(
      "INSERT INTO audit_entries(seq, entry, leaf_hash, mac) VALUES (4, "
      "'{\"seq\":4,\"time\":\"t\",\"actor\":\"x\",\"action\":\"y\",\"outcome\":\"success\"}', "
      "zeroblob(32), zeroblob(32));");
  EXPECT_TRUE(VerifyNow().Names("audit entry 4"));
}

TEST_F(AuditLogTest, ReorderedEntriesAreNamed) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(log_->Append(Event(i)));
  Tamper(
      "UPDATE audit_entries SET entry = (SELECT entry FROM audit_entries WHERE seq = 3), "
      "leaf_hash = (SELECT leaf_hash FROM audit_entries WHERE seq = 3), "
      "mac = (SELECT mac FROM audit_entries WHERE seq = 3) WHERE seq = 1;");
  EXPECT_TRUE(VerifyNow().Names("audit entry 1"));
}

TEST_F(AuditLogTest, ForgedCheckpointIsNamed) {
  for (int i = 0; i < 3; ++i) ASSERT_OK(log_->Append(Event(i)));
  ASSERT_OK(log_->WriteCheckpoint());
  Tamper(
      "UPDATE audit_checkpoints SET note = replace(note, char(10) || '3' || char(10), "
      "char(10) || '2' || char(10));");
  CollectingSink sink = VerifyNow();
  bool named = false;
  for (const Problem& p : sink.problems)
    named |= p.damage && p.object.rfind("checkpoint #", 0) == 0;
  EXPECT_TRUE(named);
}

TEST_F(AuditLogTest, UncoveredEntriesAreAWarningNotDamage) {
  ASSERT_OK(log_->Append(Event(0)));
  CollectingSink sink = VerifyNow();
  EXPECT_EQ(sink.damage(), 0);
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_FALSE(sink.problems[0].damage);
}

TEST_F(AuditLogTest, ForEachReturnsStoredBytesInOrder) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(log_->Append(Event(i)));
  std::vector<std::uint64_t> seqs;
  ASSERT_OK(log_->ForEach(1, 3, [&](std::uint64_t seq, std::string_view entry) {
    seqs.push_back(seq);
    EXPECT_EQ(entry.substr(0, 9 + std::to_string(seq).size()),
              "{\"seq\":" + std::to_string(seq) + ",\"");
    return OkStatus();
  }));
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace hokan
