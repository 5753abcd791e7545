// The backup module on a fake file system: keys, the directory target, snapshots (full and
// incremental), crash safety at every step (G-6.10-C4f), and verification that names the
// damaged, missing or forged piece (G-6.10-B1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/checkpoint.h"
#include "backup/backup_key.h"
#include "backup/restore.h"
#include "backup/snapshot.h"
#include "backup/target.h"
#include "backup/verify.h"
#include "base/encoding.h"
#include "store/atomic_write.h"
#include "testing/fake_file_system.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"

namespace hokan::backup {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(fs_.CreateDir("/data"));
    ASSERT_OK(fs_.SyncDir("/"));
    for (const char* d : {"/data/keys", "/data/blobs", "/data/blobs/ab", "/data/blobs/cd",
                          "/data/quarantine", "/data/quarantine/ef"}) {
      ASSERT_OK(fs_.CreateDir(d));
      ASSERT_OK(fs_.SyncDir(DirName(d)));
    }
    Write("/data", "hokan.toml", "store_id = \"s1\"\n");
    Write("/data/keys", "kek.key", "hokan-kek-v1 c2VjcmV0\n");
    Write("/data/blobs/ab", "ab000000000000000000000000000001", std::string(5000, 'a'));
    Write("/data/blobs/cd", "cd000000000000000000000000000002", std::string(7000, 'c'));
    Write("/data/quarantine/ef", "ef000000000000000000000000000003", "held original");
    // A stray temporary and the live database are never copied; the copy is.
    Write("/data", "metadata.db", "live database, changing");
    Write("/data", "x.tmp", "half-written");
    std::string db;
    for (int i = 0; i < 3000; ++i) db += "row " + std::to_string(i) + "\n";
    Write("/data", ".copy.db", db);
    for (int i = 0; i < 10; ++i) AddAuditEntry();
    auto t = DirectoryTarget::Open(fs_, "/target", true);
    ASSERT_OK(t);
    target_ = std::move(*t);
    target_->set_pack_bytes(8192);  // Several packs per run.
  }

  void Write(const std::string& dir, const std::string& name, const std::string& content) {
    ASSERT_OK(WriteNewFileDurably(fs_, dir, name, AsBytes(content)));
  }

  void AddAuditEntry() {
    leaves_.push_back(merkle::LeafHash(AsBytes("entry " + std::to_string(leaves_.size()))));
  }

  AuditBinding Binding() {
    AuditBinding b;
    b.origin = "hokan test";
    b.public_key = signer_.PublicKeyRaw();
    b.tree_size = leaves_.size();
    b.root = merkle::RootOf(leaves_);
    auto cp = SignCheckpoint(signer_, b.origin, b.tree_size, b.root, "2027-01-15T08:00:00Z");
    EXPECT_OK(cp);
    b.checkpoint = cp ? cp->note : "";
    const std::vector<merkle::Hash> leaves = leaves_;
    b.prove_consistency = [leaves](std::uint64_t old_size) {
      return merkle::ConsistencyProof(
          old_size, leaves.size(), [&leaves](std::uint64_t begin, std::uint64_t end) {
            return Result<merkle::Hash>(merkle::RootOf(std::span<const merkle::Hash>(
                leaves.data() + begin, static_cast<std::size_t>(end - begin))));
          });
    };
    return b;
  }

  SnapshotSource Source() {
    return SnapshotSource{.data_dir = "/data",
                          .db_copy_path = "/data/.copy.db",
                          .store_id = "s1",
                          .host = "test-host",
                          .versions = 2,
                          .audit_entries = leaves_.size()};
  }

  Result<WriteResult> Snapshot(BackupTarget& target) {
    clock_.Advance(std::chrono::seconds(1));
    return WriteSnapshot(fs_, clock_, Source(), Binding(), key_, signer_, target,
                         WriteOptions{.db_piece_size = 4096});
  }
  Result<WriteResult> Snapshot() { return Snapshot(*target_); }

  std::vector<std::string> Problems(const TargetCheck& c) {
    std::vector<std::string> out;
    for (const SnapshotCheck& s : c.snapshots) {
      for (const std::string& p : s.problems) out.push_back(s.snapshot_id + ": " + p);
    }
    return out;
  }

  Result<TargetCheck> Check(const BackupKey* key = nullptr) {
    return VerifyTarget(*target_, VerifyOptions{.key = key == nullptr ? &key_ : key});
  }

  ::hokan::testing::FakeFileSystem fs_;
  ::hokan::testing::ManualClock clock_;
  SigningKey signer_ = std::move(SigningKey::Generate().value());
  BackupKey key_ = std::move(BackupKey::Generate().value());
  std::vector<merkle::Hash> leaves_;
  std::unique_ptr<DirectoryTarget> target_;
};

TEST(BackupKeyTest, RecoveryKeyRoundTripsAndMistypesAreNamed) {
  auto key = BackupKey::Generate();
  ASSERT_OK(key);
  const std::string text = key->RecoveryKey();
  EXPECT_THAT(text, ::testing::StartsWith("hkb1-"));
  auto back = BackupKey::FromRecoveryKey("  " + text + "\n");
  ASSERT_OK(back);
  EXPECT_EQ(back->Id(), key->Id());
  EXPECT_EQ(back->ObjectId("x"), key->ObjectId("x"));
  // One hex digit changed: the checksum says so, without echoing the key.
  std::string typo = text;
  typo[5] = typo[5] == '0' ? '1' : '0';
  auto bad = BackupKey::FromRecoveryKey(typo);
  ASSERT_THAT(bad, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.error().message(), HasSubstr("mistyped"));
  EXPECT_THAT(bad.error().message(), Not(HasSubstr(typo.substr(5, 8))));
  EXPECT_THAT(BackupKey::FromRecoveryKey("hkb1-zz"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(BackupKey::FromRecoveryKey(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST(BackupKeyTest, KeyFileIsPrivateAndReadBack) {
  ::hokan::testing::FakeFileSystem fs;
  ASSERT_OK(fs.CreateDir("/k"));
  auto made = CreateBackupKeyFile(fs, "/k/backup.key");
  ASSERT_OK(made);
  auto read = ReadBackupKeyFile(fs, "/k/backup.key");
  ASSERT_OK(read);
  EXPECT_EQ(read->Id(), made->Id());
  EXPECT_THAT(CreateBackupKeyFile(fs, "/k/backup.key"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(ReadBackupKeyFile(fs, "/k/missing.key"), StatusIs(StatusCode::kNotFound));
}

TEST_F(BackupTest, TargetRefusesANonEmptyDirectoryThatIsNotATarget) {
  ASSERT_OK(fs_.CreateDir("/home"));
  Write("/home", "thesis.doc", "mine");
  auto t = DirectoryTarget::Open(fs_, "/home", true);
  ASSERT_THAT(t, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(t.error().message(), HasSubstr("not empty"));
  EXPECT_THAT(DirectoryTarget::Open(fs_, "/nowhere", false), StatusIs(StatusCode::kNotFound));
}

// A first run killed while it lays out the target (before its marker) leaves empty layout
// directories; the next run finishes the layout instead of calling the directory foreign.
TEST_F(BackupTest, TargetInterruptedWhileBeingCreatedIsFinishedByTheNextRun) {
  ASSERT_OK(fs_.CreateDir("/media"));
  ASSERT_OK(fs_.SyncDir("/"));
  int steps = 0;
  {
    const int before = fs_.mutating_ops();
    ASSERT_OK(DirectoryTarget::Open(fs_, "/media/probe", true));
    steps = fs_.mutating_ops() - before;
  }
  ASSERT_GT(steps, 3);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("power lost after step " + std::to_string(k));
    const std::string dir = "/media/t" + std::to_string(k);
    fs_.FailAfter(k);
    EXPECT_FALSE(DirectoryTarget::Open(fs_, dir, true).has_value());
    fs_.SimulatePowerLoss();
    EXPECT_THAT(DirectoryTarget::Open(fs_, dir, false), StatusIs(StatusCode::kNotFound));
    auto t = DirectoryTarget::Open(fs_, dir, true);
    ASSERT_OK(t);
    EXPECT_OK((*t)->ListSnapshots());
    EXPECT_OK(DirectoryTarget::Open(fs_, dir, false));
  }
  // A layout directory with something in it is not an interrupted first run.
  ASSERT_OK(fs_.CreateDir("/media/used"));
  ASSERT_OK(fs_.CreateDir("/media/used/snapshots"));
  Write("/media/used/snapshots", "notes.txt", "mine");
  EXPECT_THAT(DirectoryTarget::Open(fs_, "/media/used", true),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(BackupTest, SnapshotHoldsEveryFileButTheLiveDatabaseAndTemporaries) {
  auto w = Snapshot();
  ASSERT_OK(w);
  std::vector<std::string> paths;
  std::size_t db_pieces = 0;
  for (const ManifestEntry& e : w->manifest.entries) {
    if (e.kind == "db") {
      ++db_pieces;
    } else {
      paths.push_back(e.path);
    }
  }
  EXPECT_GT(db_pieces, 3u);  // 4 KiB pieces of a ~26 KB copy.
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre(
                         "hokan.toml", "keys/kek.key", "blobs/ab/ab000000000000000000000000000001",
                         "blobs/cd/cd000000000000000000000000000002",
                         "quarantine/ef/ef000000000000000000000000000003"));
  EXPECT_EQ(w->manifest.audit_consistency, "first");
  EXPECT_EQ(w->objects_reused, 0u);
  // Nothing on the target is readable without the key.
  auto sealed = target_->GetObject(w->manifest.entries.back().object);
  ASSERT_OK(sealed);
  EXPECT_EQ(AsChars(*sealed).find("held original"), std::string_view::npos);
}

TEST_F(BackupTest, IncrementalSendsOnlyWhatChanged) {
  auto first = Snapshot();
  ASSERT_OK(first);
  Write("/data/blobs/ab", "ab000000000000000000000000000009", std::string(3000, 'n'));
  for (int i = 0; i < 5; ++i) AddAuditEntry();
  auto second = Snapshot();
  ASSERT_OK(second);
  EXPECT_EQ(second->objects_written, 1u);  // The new blob; the database copy did not change.
  EXPECT_EQ(second->manifest.previous_snapshot, first->manifest.snapshot_id);
  EXPECT_EQ(second->manifest.audit_consistency, "consistent");
  auto check = Check();
  ASSERT_OK(check);
  EXPECT_TRUE(check->ok()) << ::testing::PrintToString(Problems(*check));
  ASSERT_EQ(check->snapshots.size(), 2u);
  EXPECT_EQ(check->snapshots[1].audit, "consistent with " + first->manifest.snapshot_id);
}

// G-6.10-B1: a snapshot taken after the audit log was rewritten is flagged, not trusted.
TEST_F(BackupTest, AuditLogRewrittenBetweenSnapshotsIsFlagged) {
  ASSERT_OK(Snapshot());
  leaves_[3] = merkle::LeafHash(AsBytes("rewritten history"));
  AddAuditEntry();
  auto second = Snapshot();
  ASSERT_OK(second);  // Written all the same: its data may be all there is.
  EXPECT_THAT(second->manifest.audit_consistency, HasSubstr("inconsistent"));
  auto check = Check();
  ASSERT_OK(check);
  EXPECT_FALSE(check->ok());
  EXPECT_THAT(::testing::PrintToString(Problems(*check)),
              AllOf(HasSubstr(second->manifest.snapshot_id), HasSubstr("not consistent")));
}

// A pack index is read from the target, which may be damaged or hostile: a location outside
// its pack (also one whose offset + size wraps around 2^64) makes the whole index name
// nothing, rather than a read of exabytes.
TEST_F(BackupTest, PackIndexNamingBytesOutsideItsPackIsIgnored) {
  ASSERT_OK(fs_.CreateDir("/target/packs/00"));
  ASSERT_OK(fs_.SyncDir("/target/packs"));
  const std::string pack = std::string(32, '0');
  Write("/target/packs/00", pack + ".pack", "ten bytes!");
  const std::string id(64, 'e');
  for (const std::string& where :
       {std::string("9999999999999999999 8446744073709551617"), std::string("0 11"),
        std::string("11 0"), std::string("18446744073709551616 0"), std::string("+1 2"),
        std::string("1 -2"), std::string("0x1 2")}) {
    SCOPED_TRACE(where);
    (void)fs_.Remove("/target/packs/00/" + pack + ".index");
    std::string index = "hokan-pack-index v1\n" + id;
    index.append(" ").append(where).append("\n");
    Write("/target/packs/00", pack + ".index", index);
    auto t = DirectoryTarget::Open(fs_, "/target", false);
    ASSERT_OK(t);
    auto has = (*t)->HasObject(id);
    ASSERT_OK(has);
    EXPECT_FALSE(*has);
    EXPECT_THAT((*t)->GetObject(id), StatusIs(StatusCode::kNotFound));
  }
  // The same index with a location inside the pack names the object.
  (void)fs_.Remove("/target/packs/00/" + pack + ".index");
  Write("/target/packs/00", pack + ".index", "hokan-pack-index v1\n" + id + " 4 6\n");
  auto t = DirectoryTarget::Open(fs_, "/target", false);
  ASSERT_OK(t);
  auto got = (*t)->GetObject(id);
  ASSERT_OK(got);
  EXPECT_EQ(std::string(AsChars(*got)), "bytes!");
}

TEST_F(BackupTest, DamagedMissingAndForgedPiecesAreNamed) {
  target_->set_pack_bytes(1);  // One object per pack, so one can go missing alone.
  auto w = Snapshot();
  ASSERT_OK(w);
  const ManifestEntry& blob = w->manifest.entries[w->manifest.entries.size() - 2];
  const ManifestEntry& other = w->manifest.entries[w->manifest.entries.size() - 1];
  auto blob_at = target_->Locate(blob.object);
  auto other_at = target_->Locate(other.object);
  ASSERT_OK(blob_at);
  ASSERT_OK(other_at);
  ASSERT_TRUE(blob_at->has_value() && other_at->has_value());
  ASSERT_OK(fs_.CorruptByte((*blob_at)->pack_path, (*blob_at)->offset + 20));
  ASSERT_OK(fs_.Remove((*other_at)->pack_path));
  auto t = DirectoryTarget::Open(fs_, "/target", false);  // A new run sees the target as is.
  ASSERT_OK(t);
  target_ = std::move(*t);
  auto check = Check();
  ASSERT_OK(check);
  const std::string problems = ::testing::PrintToString(Problems(*check));
  EXPECT_THAT(problems, AllOf(HasSubstr("object " + blob.object), HasSubstr("damaged"),
                              HasSubstr("object " + other.object), HasSubstr("missing")));
  // Without the key the same damage is found from the sealed bytes alone.
  auto keyless = VerifyTarget(*target_, VerifyOptions{});
  ASSERT_OK(keyless);
  EXPECT_FALSE(keyless->ok());

  // A restore stops at the first bad object and names it.
  auto r = RestoreSnapshot(*target_, w->manifest.snapshot_id, key_, fs_, "/restored");
  ASSERT_THAT(r, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(r.error().message(), HasSubstr("object "));
}

TEST_F(BackupTest, ForgedManifestIsRefusedAndRestoresNothing) {
  auto w = Snapshot();
  ASSERT_OK(w);
  const std::string path = target_->SnapshotPath(w->manifest.snapshot_id);
  auto bytes = fs_.ReadFile(path);
  ASSERT_OK(bytes);
  std::string text(AsChars(*bytes));
  // Point the config entry at another path (an attacker steering a restore).
  const std::size_t at = text.find("\"hokan.toml\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "\"hokan.tomm\"");
  ASSERT_OK(fs_.Remove(path));
  Write(DirName(path), path.substr(DirName(path).size() + 1), text);
  auto check = Check();
  ASSERT_OK(check);
  EXPECT_THAT(::testing::PrintToString(Problems(*check)),
              AllOf(HasSubstr("signature does not verify"), HasSubstr("MAC does not verify")));
  auto r = RestoreSnapshot(*target_, w->manifest.snapshot_id, key_, fs_, "/restored");
  ASSERT_THAT(r, StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(r.error().message(), HasSubstr("forged or changed"));
  EXPECT_THAT(fs_.Stat("/restored"), StatusIs(StatusCode::kNotFound));
}

// A manifest signed and MACed by the right keys still cannot steer a restore outside its
// directory: paths are checked when it is parsed.
TEST_F(BackupTest, ManifestPathsOutsideTheDirectoryAreRefused) {
  for (const char* path :
       {"../etc/cron.d/x", "/etc/passwd", "keys/../../x", "a//b", "a/./b", "blobs/ab\\..\\x", ""}) {
    SCOPED_TRACE(path);
    Manifest m;
    m.snapshot_id = "20270115T080000.000Z-00000000";
    m.audit_public_key = signer_.PublicKeyRaw();
    m.entries.push_back(ManifestEntry{.kind = "file",
                                      .path = path,
                                      .object = std::string(64, 'a'),
                                      .sha256 = std::string(64, 'b'),
                                      .sealed_sha256 = std::string(64, 'c')});
    auto bytes = EncodeManifest(m, key_, signer_);
    ASSERT_OK(bytes);
    auto p = ParseManifest(*bytes);
    ASSERT_THAT(p, StatusIs(StatusCode::kDataLoss));
    EXPECT_THAT(p.error().message(), HasSubstr("malformed"));
  }
  // Truncated or garbled manifests are named as such, never half-read.
  auto w = Snapshot();
  ASSERT_OK(w);
  auto good = target_->GetSnapshot(w->manifest.snapshot_id);
  ASSERT_OK(good);
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, good->size() / 2, good->size() - 1}) {
    EXPECT_THAT(ParseManifest(ByteView(good->data(), cut)), StatusIs(StatusCode::kDataLoss));
  }
}

// The body is written without a document tree (100k entries and more); it must still be
// exactly the JSON library's compact dump of itself (format v1 as first written: keys sorted,
// names escaped), and read back whole.
TEST_F(BackupTest, ManifestBodyIsCanonicalJsonAndRoundTrips) {
  Manifest m;
  m.snapshot_id = "20270115T080000.000Z-00000000";
  m.store_id = "s1";
  m.source_dir = "/srv/hokan \"main\"\\data";
  m.checkpoint = "hokan test\n3\nroot\n";
  m.audit_public_key = signer_.PublicKeyRaw();
  m.consistency_proof = {merkle::Hash{}, merkle::Hash{}};
  m.audit_consistency = "consistent";
  for (const char* path : {"blobs/ab/ab12", "files/\xe3\x82\xab\xe3\x83\xab\xe3\x83\x86.pdf",
                           "files/a\"quoted\" name", "metadata.db"}) {
    m.entries.push_back(ManifestEntry{.kind = "file",
                                      .path = path,
                                      .object = std::string(64, 'a'),
                                      .size = 18446744073709551615ULL,
                                      .sha256 = std::string(64, 'b'),
                                      .sealed_size = 7,
                                      .sealed_sha256 = std::string(64, 'c')});
  }
  auto bytes = EncodeManifest(m, key_, signer_);
  ASSERT_OK(bytes);
  auto p = ParseManifest(*bytes);
  ASSERT_OK(p);
  EXPECT_TRUE(p->signature_ok);
  EXPECT_TRUE(CheckMac(*p, key_));
  EXPECT_EQ(nlohmann::json::parse(p->body).dump(), p->body);
  EXPECT_EQ(p->manifest.source_dir, m.source_dir);
  EXPECT_EQ(p->manifest.consistency_proof.size(), 2u);
  ASSERT_EQ(p->manifest.entries.size(), m.entries.size());
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    EXPECT_EQ(p->manifest.entries[i].path, m.entries[i].path);
    EXPECT_EQ(p->manifest.entries[i].size, m.entries[i].size);
    EXPECT_EQ(p->manifest.entries[i].sealed_size, 7u);
  }
  // A name that is not UTF-8 is an error, not a crash.
  m.entries[0].path = "files/\xff\xfe";
  EXPECT_THAT(EncodeManifest(m, key_, signer_), StatusIs(StatusCode::kInvalidArgument));
}

// Hostile bodies: each is refused as malformed, none is half-read.
TEST_F(BackupTest, MalformedManifestObjectsAreRefused) {
  Manifest m;
  m.snapshot_id = "20270115T080000.000Z-00000000";
  m.audit_public_key = signer_.PublicKeyRaw();
  m.entries.push_back(ManifestEntry{.kind = "blob",
                                    .path = "blobs/ab/ab12",
                                    .object = std::string(64, 'a'),
                                    .sha256 = std::string(64, 'b'),
                                    .sealed_sha256 = std::string(64, 'c')});
  auto good = EncodeManifest(m, key_, signer_);
  ASSERT_OK(good);
  const std::string text(AsChars(*good));
  const std::string entry = R"(["blob","blobs/ab/ab12",")" + std::string(64, 'a') + R"(",0,")" +
                            std::string(64, 'b') + R"(",0,")" + std::string(64, 'c') + R"("])";
  ASSERT_NE(text.find(entry), std::string::npos);
  for (const std::string& replacement :
       {std::string("7"), std::string("{}"), std::string("[]"), std::string("[[1]]"),
        entry + ",null", std::string(entry).append("],\"objects\":[").append(entry),
        entry.substr(0, entry.size() - 1) + ",1]",
        std::string(R"(["blob","blobs/ab/ab12","x",0,"y",0,"z"])"),
        std::string(R"(["blob","blobs/ab/ab12",null,0,"y",0,"z"])"),
        std::string(R"(["blob","blobs/ab/ab12","x",-1,"y",0,"z"])"),
        std::string(R"(["blob","blobs/ab/ab12","x",1.5,"y",0,"z"])"),
        std::string(R"(["blob","blobs/ab/ab12","x",0,"y",0])")}) {
    SCOPED_TRACE(replacement);
    std::string bad = text;
    bad.replace(bad.find(entry), entry.size(), replacement);
    auto p = ParseManifest(AsBytes(bad));
    ASSERT_THAT(p, StatusIs(StatusCode::kDataLoss));
  }
}

TEST_F(BackupTest, WrongKeyIsNamedAsSuch) {
  auto w = Snapshot();
  ASSERT_OK(w);
  auto other = BackupKey::Generate();
  ASSERT_OK(other);
  auto r = RestoreSnapshot(*target_, w->manifest.snapshot_id, *other, fs_, "/restored");
  ASSERT_THAT(r, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(r.error().message(), AllOf(HasSubstr(key_.Id()), HasSubstr(other->Id())));
  auto check = Check(&*other);
  ASSERT_OK(check);
  EXPECT_THAT(::testing::PrintToString(Problems(*check)), HasSubstr("not the given key"));
}

TEST_F(BackupTest, RestoreWritesTheSameFilesWithTheConfigLast) {
  auto w = Snapshot();
  ASSERT_OK(w);
  auto r = RestoreSnapshot(*target_, w->manifest.snapshot_id, key_, fs_, "/restored");
  ASSERT_OK(r);
  for (const char* rel : {"hokan.toml", "keys/kek.key", "blobs/ab/ab000000000000000000000000000001",
                          "quarantine/ef/ef000000000000000000000000000003"}) {
    auto a = fs_.ReadFile(JoinPath("/data", rel));
    auto b = fs_.ReadFile(JoinPath("/restored", rel));
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(*a, *b) << rel;
  }
  auto db = fs_.ReadFile("/restored/metadata.db");
  auto copy = fs_.ReadFile("/data/.copy.db");
  ASSERT_OK(db);
  ASSERT_OK(copy);
  EXPECT_EQ(*db, *copy);
  EXPECT_THAT(fs_.Stat("/restored/x.tmp"), StatusIs(StatusCode::kNotFound));
  // Restoring over something is refused.
  EXPECT_THAT(RestoreSnapshot(*target_, w->manifest.snapshot_id, key_, fs_, "/data"),
              StatusIs(StatusCode::kFailedPrecondition));
}

// G-6.10-C4f: power lost at any step of a backup leaves either no snapshot or a complete one,
// and the next run completes (reusing what the interrupted one left after checking it).
TEST_F(BackupTest, PowerLossAtEveryStepNeverLeavesAnIncompleteSnapshot) {
  ASSERT_OK(Snapshot());  // A base, so the interrupted runs are incremental ones.
  int blobs = 0;
  auto new_blob = [&] {
    char name[40];
    std::snprintf(name, sizeof name, "cd%030d", 100 + blobs++);
    Write("/data/blobs/cd", name, std::string(4000, static_cast<char>('a' + blobs % 26)));
    AddAuditEntry();
  };
  // Count the steps of one incremental run on a scratch target.
  ASSERT_OK(fs_.CreateDir("/probe"));
  int steps = 0;
  {
    auto probe = DirectoryTarget::Open(fs_, "/probe/t", true);
    ASSERT_OK(probe);
    ASSERT_OK(Snapshot(**probe));
    new_blob();
    const int before = fs_.mutating_ops();
    ASSERT_OK(Snapshot(**probe));
    steps = fs_.mutating_ops() - before;
  }
  ASSERT_GT(steps, 5);
  int interrupted = 0;
  // A run takes `steps` operations, give or take the two that make a new pack directory.
  for (int k = 0; k < steps + 3; ++k) {
    SCOPED_TRACE("power lost after step " + std::to_string(k));
    new_blob();
    auto listed_before = target_->ListSnapshots();
    ASSERT_OK(listed_before);
    fs_.FailAfter(k);
    const bool completed = Snapshot().has_value();
    interrupted += completed ? 0 : 1;
    fs_.SimulatePowerLoss();
    auto t = DirectoryTarget::Open(fs_, "/target", false);
    ASSERT_OK(t);
    target_ = std::move(*t);
    auto listed = target_->ListSnapshots();
    ASSERT_OK(listed);
    // An interrupted run adds no snapshot; a completed one added exactly one, durably.
    EXPECT_EQ(listed->size(), listed_before->size() + (completed ? 1 : 0));
    auto check = Check();
    ASSERT_OK(check);
    EXPECT_TRUE(check->ok()) << ::testing::PrintToString(Problems(*check));
  }
  EXPECT_GE(interrupted, steps - 2);
  EXPECT_LT(interrupted, steps + 3);  // The last runs had enough steps to complete.
  auto done = Snapshot();
  ASSERT_OK(done);
  auto check = Check();
  ASSERT_OK(check);
  EXPECT_TRUE(check->ok()) << ::testing::PrintToString(Problems(*check));
}

}  // namespace
}  // namespace hokan::backup
