// Tampering with a closed store, as an attacker with file access would (SQLite triggers
// dropped first), must be named by verification: Archive::Verify reports the damaged object,
// and `hokan verify` / `hokan audit verify` exit 1 naming it (G-6.5-C8 log tamper detection,
// G-7.1-C3 history kept intact).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "service/archive.h"
#include "subprocess.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

namespace fs = std::filesystem;
using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::hokan::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- Direct access, as an attacker has it. -------------------------------------------------

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    out[fs::relative(e.path(), dir).string()] = e.is_directory() ? "<dir>" : ReadAll(e.path());
  }
  return out;
}

// Runs SQL on the closed store's database with the plain SQLite library.
void Sql(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir + "/metadata.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message << "\n" << sql;
}

// One text column of the first row of `sql`.
std::string SqlText(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2((dir + "/metadata.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) out = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  EXPECT_FALSE(out.empty()) << sql;
  return out;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class CollectingSink final : public VerifySink {
 public:
  void Report(const Problem& p) override {
    if (p.damage) damaged.push_back(p.object);
    all.push_back((p.damage ? "DAMAGED " : "WARNING ") + p.object + ": " + p.message);
  }
  void Progress(std::string_view, std::uint64_t, std::uint64_t) override {}
  std::vector<std::string> damaged;
  std::vector<std::string> all;
};

struct Version {
  std::string record_id;
  std::int64_t version = 0;
  std::string blob_id;
  std::string name() const { return "version " + record_id + "/" + std::to_string(version); }
};

class TamperTest : public ::testing::Test {
 protected:
  // A store with three records, one of them updated, a read, and a checkpoint over all of it:
  // audit entries 0 (init) .. 5 (read); every one covered by a signed checkpoint.
  void SetUp() override {
    dir_ = tmp_.path() + "/store";
    ASSERT_OK(Archive::Init(env_, dir_, actor_));
    Result<std::unique_ptr<Archive>> archive = Archive::Open(env_, dir_);
    ASSERT_OK(archive);
    const std::vector<std::string> contents = {"first note", "second note", "third note",
                                               "first note, corrected"};
    std::string first_record;
    for (std::size_t i = 0; i < contents.size(); ++i) {
      PutRequest req{.patient_id = i == 1 ? "PAT-1" : "PAT-0",
                     .record_type = "note",
                     .record_id = i == 3 ? first_record : "",
                     .content = AsBytes(contents[i])};
      Result<PutResult> put = (*archive)->PutRecord(actor_, req);
      ASSERT_OK(put);
      if (i == 0) first_record = put->version.record_id;
      versions_.push_back({put->version.record_id, put->version.version, put->version.blob_id});
    }
    ASSERT_OK((*archive)->ReadRecord(actor_, first_record, 1));
    ASSERT_OK((*archive)->WriteCheckpoint(actor_));
    // versions_: a/1, b/1, c/1, a/2 with audit entries 1..4; the read is entry 5.
  }

  std::string BlobPath(const Version& v) const {
    return dir_ + "/blobs/" + v.blob_id.substr(0, 2) + "/" + v.blob_id;
  }

  // Archive::Verify on the tampered store; returns the damaged objects.
  std::vector<std::string> VerifyDamage() {
    Result<std::unique_ptr<Archive>> archive = Archive::Open(env_, dir_);
    EXPECT_OK(archive);
    if (!archive) return {};
    CollectingSink sink;
    Result<VerifySummary> summary = (*archive)->Verify(actor_, sink);
    EXPECT_OK(summary);
    if (summary) {
      EXPECT_FALSE(summary->ok());
      EXPECT_EQ(summary->damage, sink.damaged.size());
    }
    for (const std::string& line : sink.all) std::printf("  %s\n", line.c_str());
    return sink.damaged;
  }

  // `hokan verify` (and with `audit`, `hokan audit verify`) exits 1 naming every object.
  void ExpectCliNames(const std::vector<std::string>& objects, bool audit) {
    const ProcessResult r = RunHokan({"verify", "--dir", dir_});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("FAILED:"));
    for (const std::string& o : objects) EXPECT_THAT(r.out, HasSubstr("DAMAGED " + o + ":"));
    if (!audit) return;
    const ProcessResult a = RunHokan({"audit", "verify", "--dir", dir_});
    EXPECT_EQ(a.exit_code, 1) << a.out << a.err;
    EXPECT_THAT(a.out, HasSubstr("FAILED:"));
    for (const std::string& o : objects) EXPECT_THAT(a.out, HasSubstr("DAMAGED " + o + ":"));
  }

  PosixFileSystem fs_;
  SystemClock clock_;
  Env env_{fs_, clock_};
  const Actor actor_{"local:tamper-test", "test"};
  hokan::testing::TempDir tmp_;
  std::string dir_;
  std::vector<Version> versions_;
};

TEST_F(TamperTest, UntouchedStoreVerifies) {
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env_, dir_);
  ASSERT_OK(archive);
  CollectingSink sink;
  Result<VerifySummary> summary = (*archive)->Verify(actor_, sink);
  ASSERT_OK(summary);
  EXPECT_TRUE(summary->ok());
  EXPECT_THAT(sink.damaged, IsEmpty());
  EXPECT_EQ(summary->versions, 4u);
  archive->reset();
  const ProcessResult r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(RunHokan({"audit", "verify", "--dir", dir_}).exit_code, 0);
}

TEST_F(TamperTest, FlippedBlobByteNamesVersion) {
  const Version& v = versions_[1];
  std::string blob = ReadAll(BlobPath(v));
  ASSERT_GT(blob.size(), 20u);
  blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 0x01);
  WriteAll(BlobPath(v), blob);
  const std::vector<std::string> damaged = VerifyDamage();
  EXPECT_THAT(damaged, Contains(v.name()));
  EXPECT_EQ(damaged.size(), 1u);
  ExpectCliNames({v.name()}, false);
}

TEST_F(TamperTest, SwappedBlobsNameBothVersions) {
  const Version& a = versions_[0];
  const Version& b = versions_[2];
  const std::string tmp = BlobPath(a) + ".swap";
  fs::rename(BlobPath(a), tmp);
  fs::rename(BlobPath(b), BlobPath(a));
  fs::rename(tmp, BlobPath(b));
  const std::vector<std::string> damaged = VerifyDamage();
  EXPECT_THAT(damaged, Contains(a.name()));
  EXPECT_THAT(damaged, Contains(b.name()));
  ExpectCliNames({a.name(), b.name()}, false);
}

TEST_F(TamperTest, ChangedVersionHashNamesVersion) {
  const Version& v = versions_[2];
  Sql(dir_, "DROP TRIGGER versions_immutable; UPDATE versions SET sha256 = '" +
                std::string(64, 'a') + "' WHERE record_id = " + Quote(v.record_id) +
                " AND version = " + std::to_string(v.version) + ";");
  EXPECT_THAT(VerifyDamage(), Contains(v.name()));
  ExpectCliNames({v.name()}, false);
}

TEST_F(TamperTest, ChangedMediaTypeNamesVersion) {
  const Version& v = versions_[0];
  Sql(dir_,
      "DROP TRIGGER versions_immutable; UPDATE versions SET media_type = 'application/x-evil' "
      "WHERE record_id = " +
          Quote(v.record_id) + " AND version = " + std::to_string(v.version) + ";");
  EXPECT_THAT(VerifyDamage(), Contains(v.name()));
  ExpectCliNames({v.name()}, false);
}

// G-7.1-C3: deleting the latest version (to hide an amendment) is found through the audit
// entry that recorded its creation, even though versions 1..n-1 are still dense.
TEST_F(TamperTest, DeletedLatestVersionIsNamedByAuditCrossCheck) {
  const Version& v = versions_[3];
  ASSERT_EQ(v.version, 2);
  Sql(dir_, "DROP TRIGGER versions_undeletable; DELETE FROM versions WHERE record_id = " +
                Quote(v.record_id) + " AND version = 2;");
  EXPECT_THAT(VerifyDamage(), Contains(v.name()));
  ExpectCliNames({v.name()}, false);
}

// G-7.1-B1: moving a record to another patient (a mix-up) is caught by the record row's MAC.
TEST_F(TamperTest, RecordMovedToAnotherPatientIsNamed) {
  const Version& v = versions_[2];
  Sql(dir_,
      "DROP TRIGGER records_immutable; INSERT OR IGNORE INTO patients VALUES ('PAT-9', "
      "'2026-01-01T00:00:00.000Z'); UPDATE records SET patient_id = 'PAT-9' "
      "WHERE record_id = " +
          Quote(v.record_id) + ";");
  EXPECT_THAT(VerifyDamage(), Contains("record " + v.record_id));
  ExpectCliNames({"record " + v.record_id}, false);
}

// Rewriting the reason a record was marked entered-in-error is caught by the state row's MAC.
TEST_F(TamperTest, ChangedEnteredInErrorReasonIsNamed) {
  const Version& v = versions_[1];
  {
    Result<std::unique_ptr<Archive>> archive = Archive::Open(env_, dir_);
    ASSERT_OK(archive);
    ASSERT_OK((*archive)->MarkEnteredInError(actor_, v.record_id, "wrong patient"));
    ASSERT_OK((*archive)->WriteCheckpoint(actor_));
  }
  Sql(dir_,
      "DROP TRIGGER states_immutable; UPDATE record_states SET reason = 'duplicate' "
      "WHERE record_id = " +
          Quote(v.record_id) + ";");
  const std::string object = "record " + v.record_id + " state 1";
  EXPECT_THAT(VerifyDamage(), Contains(object));
  ExpectCliNames({object}, false);
}

// G-6.5-C8 from here on: the audit log itself.
TEST_F(TamperTest, ChangedAuditEntryIsNamed) {
  Sql(dir_,
      "DROP TRIGGER audit_entries_immutable; UPDATE audit_entries SET entry = "
      "replace(entry, 'local:tamper-test', 'local:someone-else') WHERE seq = 5;");
  ASSERT_THAT(SqlText(dir_, "SELECT entry FROM audit_entries WHERE seq = 5"),
              HasSubstr("someone-else"));
  EXPECT_THAT(VerifyDamage(), Contains("audit entry 5"));
  ExpectCliNames({"audit entry 5"}, true);
}

TEST_F(TamperTest, DeletedAuditEntryIsNamed) {
  Sql(dir_, "DROP TRIGGER audit_entries_undeletable; DELETE FROM audit_entries WHERE seq = 5;");
  const std::vector<std::string> damaged = VerifyDamage();
  EXPECT_THAT(damaged, Contains("audit entry 5"));
  ExpectCliNames({"audit entry 5"}, true);
}

TEST_F(TamperTest, DeletedMiddleAuditEntryIsNamed) {
  Sql(dir_, "DROP TRIGGER audit_entries_undeletable; DELETE FROM audit_entries WHERE seq = 2;");
  const std::vector<std::string> damaged = VerifyDamage();
  EXPECT_THAT(damaged, Contains("audit entry 2"));
  // The version whose creation it recorded has lost its entry too.
  EXPECT_THAT(damaged, Contains(versions_[1].name()));
  ExpectCliNames({"audit entry 2"}, true);
}

TEST_F(TamperTest, InsertedAuditEntryAtEndIsNamed) {
  const std::string entry =
      "{\"seq\":6,\"time\":\"2026-01-01T00:00:00.000Z\",\"actor\":\"local:tamper-test\","
      "\"action\":\"record.read\",\"record\":\"" +
      versions_[0].record_id + "\",\"outcome\":\"success\",\"source\":\"test\"}";
  Bytes leaf_input = {0x00};
  leaf_input.insert(leaf_input.end(), entry.begin(), entry.end());
  const Sha256Digest leaf = Sha256(leaf_input);
  const std::string leaf_hex = HexEncode(leaf);
  Sql(dir_, "INSERT INTO audit_entries(seq, entry, leaf_hash, mac) VALUES (6, " + Quote(entry) +
                ", x'" + leaf_hex + "', randomblob(32));");
  EXPECT_THAT(VerifyDamage(), Contains("audit entry 6"));
  ExpectCliNames({"audit entry 6"}, true);
}

TEST_F(TamperTest, ReorderedAuditEntriesAreBothNamed) {
  // Swap whole rows (text, leaf hash and MAC) of entries 2 and 4.
  Sql(dir_,
      "DROP TRIGGER audit_entries_immutable;"
      "CREATE TEMP TABLE t AS SELECT * FROM audit_entries WHERE seq IN (2, 4);"
      "UPDATE audit_entries SET (entry, leaf_hash, mac) = "
      "  (SELECT entry, leaf_hash, mac FROM t WHERE t.seq = 6 - audit_entries.seq)"
      "  WHERE seq IN (2, 4);");
  ASSERT_THAT(SqlText(dir_, "SELECT entry FROM audit_entries WHERE seq = 2"),
              HasSubstr("\"seq\":4,"));
  const std::vector<std::string> damaged = VerifyDamage();
  EXPECT_THAT(damaged, Contains("audit entry 2"));
  EXPECT_THAT(damaged, Contains("audit entry 4"));
  ExpectCliNames({"audit entry 2", "audit entry 4"}, true);
}

TEST_F(TamperTest, ChangedCheckpointNoteIsNamed) {
  const std::string id = SqlText(dir_, "SELECT MAX(id) FROM audit_checkpoints");
  std::string note = SqlText(dir_, "SELECT note FROM audit_checkpoints WHERE id = " + id);
  // The first character of the root line (third line of the note).
  const std::size_t line2 = note.find('\n');
  ASSERT_NE(line2, std::string::npos);
  const std::size_t line3 = note.find('\n', line2 + 1);
  ASSERT_NE(line3, std::string::npos);
  char& c = note[line3 + 1];
  c = c == 'A' ? 'B' : 'A';
  Sql(dir_, "DROP TRIGGER audit_checkpoints_immutable; UPDATE audit_checkpoints SET note = " +
                Quote(note) + " WHERE id = " + id + ";");
  EXPECT_THAT(VerifyDamage(), Contains("checkpoint #" + id));
  ExpectCliNames({"checkpoint #" + id}, true);
}

TEST_F(TamperTest, WrongKeyIsRefusedAndChangesNothing) {
  const std::string other = tmp_.path() + "/other";
  ASSERT_OK(Archive::Init(env_, other, actor_));
  fs::copy_file(other + "/keys/kek.key", dir_ + "/keys/kek.key",
                fs::copy_options::overwrite_existing);
  const auto before = Snapshot(dir_);
  EXPECT_THAT(Archive::Open(env_, dir_), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(Snapshot(dir_) == before);
  const ProcessResult r = RunHokan({"verify", "--dir", dir_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 1);  // Not "damaged": the key is wrong, the store is fine.
  EXPECT_THAT(r.err, HasSubstr("not this store's key"));
  EXPECT_TRUE(Snapshot(dir_) == before);
}

}  // namespace
}  // namespace hokan
