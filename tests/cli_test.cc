// The real `hokan` binary on a real directory: what an operator sees (exit codes, one-line
// errors, JSON on stdout) and what the store keeps. Every error case also checks that the
// data directory is byte-for-byte unchanged and that no patient data reaches stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "crypto/crypto.h"
#include "subprocess.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

namespace fs = std::filesystem;
using ::hokan::testing::Child;
using ::hokan::testing::Finish;
using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::hokan::testing::RunProcess;
using ::hokan::testing::Spawn;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kPatient[] = "PAT-7731";
constexpr char kSecret[] = "clinical note: SECRET-4242 glucose 5.1 mmol/l\n";

// ---------------------------------------------------------------------------------------------
// Processes.

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + " signal " + std::to_string(r.signal) +
         "\n--- stdout ---\n" + r.out + "--- stderr ---\n" + r.err;
}

// ---------------------------------------------------------------------------------------------
// Files.

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

std::uint32_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xffffffff;
  return st.st_mode & 07777;
}

std::string Sha256Hex(std::string_view bytes) { return HexEncode(Sha256(AsBytes(bytes))); }

// Every file and directory under `dir` with its mode and, for files, its bytes.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    const std::string mode = std::to_string(ModeOf(e.path().string()));
    out[rel] = e.is_directory() ? "dir " + mode : "file " + mode + " " + ReadAll(e.path());
  }
  return out;
}

std::string SnapshotDiff(const std::map<std::string, std::string>& before,
                         const std::map<std::string, std::string>& after) {
  std::string diff;
  for (const auto& [name, what] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      diff += "removed: " + name + "\n";
    } else if (it->second != what) {
      diff += "changed: " + name + "\n";
    }
  }
  for (const auto& [name, what] : after) {
    if (!before.contains(name)) diff += "added: " + name + "\n";
  }
  return diff;
}

std::string CurrentUser() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr ? pw->pw_name : "uid" + std::to_string(::geteuid());
}

Json ParseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string JoinHashes(const Json& proof) {
  std::string out;
  for (const Json& h : proof) {
    if (!out.empty()) out += ",";
    out += h.get<std::string>();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path() + "/store";
    input_ = tmp_.path() + "/input.txt";
    WriteAll(input_, kSecret);
    const ProcessResult init = RunHokan({"init", "--dir", dir_});
    ASSERT_EQ(init.exit_code, 0) << Describe(init);
  }

  // `record put` of `file` for kPatient; returns the parsed JSON.
  Json Put(const std::string& file, const std::string& record = "") {
    std::vector<std::string> args = {"record",    "put",    "--dir",  dir_,
                                     "--patient", kPatient, "--file", file};
    if (record.empty()) {
      args.insert(args.end(), {"--type", "note"});
    } else {
      args.insert(args.end(), {"--record", record});
    }
    const ProcessResult r = RunHokan(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return ParseJson(r.out);
  }

  std::vector<Json> Export() {
    const ProcessResult r = RunHokan({"audit", "export", "--dir", dir_, "--format", "jsonl"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    std::vector<Json> entries;
    for (const std::string& line : Lines(r.out)) entries.push_back(ParseJson(line));
    return entries;
  }

  // Runs a command that must fail cleanly: non-zero exit (not a crash or the bug exit
  // code), nothing on stdout, exactly one "hokan: " line on stderr without patient data,
  // and the data directory unchanged to the byte.
  ProcessResult ExpectCleanFailure(const std::vector<std::string>& args) {
    SCOPED_TRACE("hokan " + ::testing::PrintToString(args));
    const auto before = Snapshot(dir_);
    ProcessResult r = RunHokan(args);
    EXPECT_EQ(r.signal, 0) << Describe(r);
    EXPECT_NE(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.exit_code, 70) << "internal-error exit code: " << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    const std::vector<std::string> lines = Lines(r.err);
    EXPECT_EQ(lines.size(), 1u) << Describe(r);
    EXPECT_THAT(r.err, StartsWith("hokan: "));
    EXPECT_THAT(r.err, Not(HasSubstr("terminate")));
    EXPECT_THAT(r.err, Not(HasSubstr("Aborted")));
    EXPECT_THAT(r.err, Not(HasSubstr("internal error")));
    EXPECT_THAT(r.err, Not(HasSubstr("#0 ")));  // A stack trace.
    EXPECT_THAT(r.err, Not(HasSubstr(kPatient)));
    EXPECT_THAT(r.err, Not(HasSubstr("SECRET-4242")));
    EXPECT_EQ(SnapshotDiff(before, Snapshot(dir_)), "") << "the store changed";
    return r;
  }

  std::vector<std::string> PutArgs() const {
    return {"record", "put",    "--dir", dir_,     "--patient",
            kPatient, "--type", "note",  "--file", input_};
  }

  hokan::testing::TempDir tmp_;
  std::string dir_;
  std::string input_;
};

TEST_F(CliTest, InitCreatesPrivateLayout) {
  EXPECT_TRUE(fs::is_regular_file(dir_ + "/hokan.toml"));
  EXPECT_TRUE(fs::is_regular_file(dir_ + "/metadata.db"));
  for (const char* d : {"", "/blobs", "/keys"}) {
    SCOPED_TRACE(d);
    EXPECT_TRUE(fs::is_directory(dir_ + d));
    EXPECT_EQ(ModeOf(dir_ + d), 0700u);
  }
  for (const char* f :
       {"/keys/kek.key", "/keys/audit-signing.pem", "/hokan.toml", "/metadata.db"}) {
    SCOPED_TRACE(f);
    EXPECT_EQ(ModeOf(dir_ + f), 0600u);
  }
  EXPECT_THAT(ReadAll(dir_ + "/keys/kek.key"), HasSubstr("hokan-kek-v1 "));
  EXPECT_THAT(ReadAll(dir_ + "/keys/audit-signing.pem"), HasSubstr("PRIVATE KEY"));
}

TEST_F(CliTest, SecondInitIsRefusedAndStoreUntouched) {
  const std::string toml = ReadAll(dir_ + "/hokan.toml");
  const ProcessResult r = ExpectCleanFailure({"init", "--dir", dir_});
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  EXPECT_EQ(ReadAll(dir_ + "/hokan.toml"), toml);
}

// G-7.1-C3: an update adds a version; the old one is kept and readable.
TEST_F(CliTest, PutGetHistoryKeepsEveryVersion) {
  const std::string v1_text = kSecret;
  const std::string v2_text = "clinical note: corrected, SECRET-4242 glucose 5.3 mmol/l\n";
  const std::string v2_file = tmp_.path() + "/v2.txt";
  WriteAll(v2_file, v2_text);

  const Json v1 = Put(input_);
  ASSERT_TRUE(v1.is_object());
  const std::string record = v1.value("record_id", "");
  EXPECT_EQ(record.size(), 24u);
  EXPECT_EQ(v1.value("version", 0), 1);
  EXPECT_EQ(v1.value("sha256", ""), Sha256Hex(v1_text));
  EXPECT_EQ(v1.value("patient_id", ""), kPatient);
  ASSERT_TRUE(v1.contains("audit_seq"));

  const Json v2 = Put(v2_file, record);
  EXPECT_EQ(v2.value("record_id", ""), record);
  EXPECT_EQ(v2.value("version", 0), 2);
  EXPECT_EQ(v2.value("sha256", ""), Sha256Hex(v2_text));
  EXPECT_GT(v2.value("audit_seq", 0), v1.value("audit_seq", 0));

  const std::string latest = tmp_.path() + "/latest.out";
  ProcessResult r = RunHokan({"record", "get", "--dir", dir_, "--record", record, "--out", latest});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadAll(latest), v2_text);

  const std::string old = tmp_.path() + "/old.out";
  r = RunHokan(
      {"record", "get", "--dir", dir_, "--record", record, "--version", "1", "--out", old});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(ReadAll(old), v1_text);
  EXPECT_EQ(ParseJson(r.out).value("version", 0), 1);

  r = RunHokan({"record", "history", "--dir", dir_, "--record", record});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json h = ParseJson(r.out);
  EXPECT_EQ(h.value("record_id", ""), record);
  EXPECT_EQ(h.value("patient_id", ""), kPatient);
  EXPECT_EQ(h.value("status", ""), "active");
  ASSERT_TRUE(h.contains("versions"));
  ASSERT_EQ(h["versions"].size(), 2u);
  EXPECT_EQ(h["versions"][0].value("version", 0), 1);
  EXPECT_EQ(h["versions"][0].value("sha256", ""), Sha256Hex(v1_text));
  EXPECT_EQ(h["versions"][1].value("version", 0), 2);
  EXPECT_EQ(h["versions"][1].value("sha256", ""), Sha256Hex(v2_text));
}

TEST_F(CliTest, GetRefusesToOverwriteOut) {
  const std::string record = Put(input_).value("record_id", "");
  const std::string out = tmp_.path() + "/exists.out";
  WriteAll(out, "keep me");
  const ProcessResult r =
      ExpectCleanFailure({"record", "get", "--dir", dir_, "--record", record, "--out", out});
  EXPECT_THAT(r.err, HasSubstr("exists"));
  EXPECT_EQ(ReadAll(out), "keep me");
}

// G-6.5-C7: a read is recorded with who, what, which patient and record, and the entry is
// committed before the content leaves the process.
TEST_F(CliTest, ReadIsAuditedBeforeContentLeaves) {
  const Json put = Put(input_);
  const std::string record = put.value("record_id", "");
  const std::string out = tmp_.path() + "/read.out";
  ProcessResult r = RunHokan({"record", "get", "--dir", dir_, "--record", record, "--out", out});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json got = ParseJson(r.out);
  ASSERT_TRUE(got.contains("read_audit_seq")) << r.out;
  const std::uint64_t read_seq = got["read_audit_seq"].get<std::uint64_t>();
  EXPECT_GT(read_seq, put.value("audit_seq", std::uint64_t{0}));

  r = RunHokan({"audit", "tail", "--dir", dir_, "--lines", "50"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  std::optional<Json> read_entry;
  std::uint64_t last_seq = 0;
  for (const std::string& line : Lines(r.out)) {
    const Json e = ParseJson(line);
    last_seq = e.value("seq", std::uint64_t{0});
    if (e.value("seq", std::uint64_t{0}) == read_seq) read_entry = e;
  }
  ASSERT_TRUE(read_entry.has_value()) << "read entry " << read_seq << " not in\n" << r.out;
  EXPECT_EQ(read_entry->value("action", ""), "record.read");
  EXPECT_EQ(read_entry->value("actor", ""), "local:" + CurrentUser());
  EXPECT_EQ(read_entry->value("record", ""), record);
  EXPECT_EQ(read_entry->value("patient", ""), kPatient);
  EXPECT_EQ(read_entry->value("version", 0), 1);
  EXPECT_EQ(read_entry->value("outcome", ""), "success");
  EXPECT_EQ(read_entry->value("source", ""), "cli");
  EXPECT_FALSE(read_entry->value("time", "").empty());
  // The tail itself was audited after the read.
  EXPECT_GT(last_seq, read_seq);
  EXPECT_THAT(r.out, Not(HasSubstr("SECRET-4242")));

  // Ordering, observed from outside: the content is larger than a pipe's buffer, so `get
  // --out -` blocks on stdout until we read. When the first bytes arrive the read's entry
  // must already be committed in the database.
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
  const std::string big_file = tmp_.path() + "/big.bin";
  WriteAll(big_file, big);
  const std::string big_record = Put(big_file).value("record_id", "");
  Child child = Spawn(
      {HK_HOKAN_BINARY, "record", "get", "--dir", dir_, "--record", big_record, "--out", "-"});
  ASSERT_GT(child.pid, 0);
  std::string first(4096, '\0');
  ssize_t n = 0;
  do {
    n = ::read(child.out, first.data(), first.size());
  } while (n < 0 && errno == EINTR);
  EXPECT_GT(n, 0) << "no content arrived";
  first.resize(n > 0 ? static_cast<std::size_t>(n) : 0);

  // The child is still blocked on its stdout here, so it is reaped below whatever we find.
  auto count_read_entries = [&]() -> int {
    sqlite3* db = nullptr;
    int count = -1;
    if (sqlite3_open_v2((dir_ + "/metadata.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_busy_timeout(db, 10000);
      sqlite3_stmt* stmt = nullptr;
      const std::string pattern = "%\"record\":\"" + big_record + "\"%";
      if (sqlite3_prepare_v2(db,
                             "SELECT COUNT(*) FROM audit_entries WHERE entry LIKE "
                             "'%\"action\":\"record.read\"%' AND entry LIKE ?1",
                             -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_bind_text(stmt, 1, pattern.c_str(), -1, SQLITE_TRANSIENT) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        count = sqlite3_column_int(stmt, 0);
      } else {
        ADD_FAILURE() << sqlite3_errmsg(db);
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return count;
  };
  const int read_entries = count_read_entries();
  const ProcessResult rest = Finish(child, first);
  EXPECT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_EQ(read_entries, 1) << "content left before its read was audited";
  EXPECT_TRUE(rest.out == big) << "content differs (" << rest.out.size() << " bytes)";
}

TEST_F(CliTest, VerifyAndAuditVerifyPass) {
  const std::string record = Put(input_).value("record_id", "");
  Put(input_, record);
  ProcessResult r = RunHokan({"verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, StartsWith("OK:"));
  EXPECT_THAT(r.out, HasSubstr("2 versions"));
  r = RunHokan({"audit", "verify", "--dir", dir_});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.out, StartsWith("OK:"));
}

// G-6.5-C8: anyone holding a proof can check it with the reference verifier.
TEST_F(CliTest, InclusionProofVerifiesWithReferenceTool) {
  const std::string record = Put(input_).value("record_id", "");
  Put(input_, record);
  const std::uint64_t index = 2;  // After store.init and user.setup_secret: record.create.
  const ProcessResult r =
      RunHokan({"audit", "proof", "--dir", dir_, "--inclusion", std::to_string(index)});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json p = ParseJson(r.out);
  EXPECT_EQ(p.value("type", ""), "inclusion");
  EXPECT_EQ(p.value("index", std::uint64_t{99}), index);
  const std::string entry = p.value("entry", "");
  EXPECT_THAT(entry, HasSubstr("\"action\":\"record.create\""));
  std::string leaf_input = std::string(1, '\0') + entry;
  EXPECT_EQ(p.value("leaf_hash", ""), Sha256Hex(leaf_input));
  EXPECT_THAT(p.value("checkpoint", ""), HasSubstr("hokan/"));

  const std::string tool = std::string(HK_SOURCE_DIR) + "/tools/verify_audit_proof.py";
  if (!fs::exists(tool)) GTEST_SKIP() << tool << " does not exist yet; proof not checked";
  const std::vector<std::string> base = {"python3",
                                         tool,
                                         "inclusion",
                                         "--index",
                                         std::to_string(index),
                                         "--size",
                                         std::to_string(p.value("tree_size", std::uint64_t{0})),
                                         "--leaf-hash",
                                         p.value("leaf_hash", ""),
                                         "--proof",
                                         JoinHashes(p["proof"]),
                                         "--root"};
  std::vector<std::string> good = base;
  good.push_back(p.value("root", ""));
  ProcessResult v = RunProcess(good);
  EXPECT_EQ(v.exit_code, 0) << Describe(v);
  EXPECT_THAT(v.out, StartsWith("OK"));

  // The tool does check: a different root fails.
  std::string wrong_root = p.value("root", "");
  ASSERT_FALSE(wrong_root.empty());
  wrong_root[0] = wrong_root[0] == '0' ? '1' : '0';
  std::vector<std::string> bad = base;
  bad.push_back(wrong_root);
  v = RunProcess(bad);
  EXPECT_EQ(v.exit_code, 1) << Describe(v);
}

TEST_F(CliTest, ConsistencyProofVerifiesWithReferenceTool) {
  const std::string record = Put(input_).value("record_id", "");
  Put(input_, record);
  Put(input_);
  const std::uint64_t new_size = Export().size();
  ASSERT_GE(new_size, 5u);
  const std::uint64_t old_size = 3;
  const ProcessResult r = RunHokan({"audit", "proof", "--dir", dir_, "--consistency",
                                    std::to_string(old_size), std::to_string(new_size)});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json p = ParseJson(r.out);
  EXPECT_EQ(p.value("type", ""), "consistency");
  EXPECT_EQ(p.value("old_size", std::uint64_t{0}), old_size);
  EXPECT_EQ(p.value("new_size", std::uint64_t{0}), new_size);

  const std::string tool = std::string(HK_SOURCE_DIR) + "/tools/verify_audit_proof.py";
  if (!fs::exists(tool)) GTEST_SKIP() << tool << " does not exist yet; proof not checked";
  const ProcessResult v =
      RunProcess({"python3", tool, "consistency", "--old-size", std::to_string(old_size),
                  "--new-size", std::to_string(new_size), "--old-root", p.value("old_root", ""),
                  "--new-root", p.value("new_root", ""), "--proof", JoinHashes(p["proof"])});
  EXPECT_EQ(v.exit_code, 0) << Describe(v);
  EXPECT_THAT(v.out, StartsWith("OK"));
}

// G-6.5-C7: the whole log exports as one JSON object per line, sequence numbers dense from 0.
TEST_F(CliTest, AuditExportIsDenseJsonl) {
  const std::string record = Put(input_).value("record_id", "");
  ASSERT_EQ(RunHokan({"record", "history", "--dir", dir_, "--record", record}).exit_code, 0);
  const std::vector<Json> entries = Export();
  ASSERT_GE(entries.size(), 3u);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(entries[i].is_object());
    EXPECT_EQ(entries[i].value("seq", std::uint64_t{999999}), i);
    EXPECT_FALSE(entries[i].value("time", "").empty());
    EXPECT_EQ(entries[i].value("actor", ""), "local:" + CurrentUser());
    EXPECT_FALSE(entries[i].value("action", "").empty());
    EXPECT_FALSE(entries[i].value("outcome", "").empty());
  }
  EXPECT_EQ(entries[0].value("action", ""), "store.init");
  EXPECT_EQ(entries[1].value("action", ""), "user.setup_secret");  // Printed by init.
  EXPECT_EQ(entries[2].value("action", ""), "record.create");
  EXPECT_EQ(entries[2].value("patient", ""), kPatient);
}

// --- Errors: one line, a non-zero exit, no patient data, nothing changed. ----------------

TEST_F(CliTest, MissingDirIsRefused) {
  std::vector<std::string> args = PutArgs();
  args.erase(args.begin() + 2, args.begin() + 4);  // --dir D
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--dir"));
}

TEST_F(CliTest, UnknownOptionIsRefused) {
  std::vector<std::string> args = PutArgs();
  args.insert(args.end(), {"--colour", "red"});
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--colour"));
}

TEST_F(CliTest, EmptyPatientIsRefused) {
  std::vector<std::string> args = PutArgs();
  args[5] = "";
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--patient"));
}

TEST_F(CliTest, BadPatientIdIsRefusedWithoutEchoingIt) {
  std::vector<std::string> args = PutArgs();
  args[5] = std::string(kPatient) + "; DROP/../x";
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("patient id"));
}

TEST_F(CliTest, MissingFileOptionIsRefused) {
  std::vector<std::string> args = PutArgs();
  args.erase(args.end() - 2, args.end());  // --file F
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--file"));
}

TEST_F(CliTest, NonexistentFileIsRefused) {
  std::vector<std::string> args = PutArgs();
  args.back() = tmp_.path() + "/no-such-file.txt";
  const ProcessResult r = ExpectCleanFailure(args);
  EXPECT_EQ(r.exit_code, 3);
}

TEST_F(CliTest, ContentOverLimitIsRefused) {
  const std::string toml_path = dir_ + "/hokan.toml";
  std::string toml = ReadAll(toml_path);
  const std::size_t at = toml.find("max_content_bytes = ");
  ASSERT_NE(at, std::string::npos) << toml;
  const std::size_t eol = toml.find('\n', at);
  toml.replace(at, eol - at, "max_content_bytes = 10");
  WriteAll(toml_path, toml);
  const ProcessResult r = ExpectCleanFailure(PutArgs());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("max_content_bytes"));
}

TEST_F(CliTest, AnotherStoresKeyIsRefused) {
  const std::string other = tmp_.path() + "/other";
  ASSERT_EQ(RunHokan({"init", "--dir", other}).exit_code, 0);
  const std::string record = Put(input_).value("record_id", "");
  fs::copy_file(other + "/keys/kek.key", dir_ + "/keys/kek.key",
                fs::copy_options::overwrite_existing);
  ASSERT_EQ(ModeOf(dir_ + "/keys/kek.key"), 0600u);
  ProcessResult r = ExpectCleanFailure(PutArgs());
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.err, HasSubstr("not this store's key"));
  const std::string out = tmp_.path() + "/wrong-key.out";
  r = ExpectCleanFailure({"record", "get", "--dir", dir_, "--record", record, "--out", out});
  EXPECT_FALSE(fs::exists(out));
  ExpectCleanFailure({"verify", "--dir", dir_});
}

TEST_F(CliTest, MissingKeyFileIsRefused) {
  const std::string record = Put(input_).value("record_id", "");
  fs::remove(dir_ + "/keys/kek.key");
  ProcessResult r = ExpectCleanFailure(PutArgs());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("kek.key"));
  const std::string out = tmp_.path() + "/no-key.out";
  ExpectCleanFailure({"record", "get", "--dir", dir_, "--record", record, "--out", out});
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(CliTest, KeyFileReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod((dir_ + "/keys/kek.key").c_str(), 0644), 0);
  const ProcessResult r = ExpectCleanFailure(PutArgs());
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_THAT(r.err, HasSubstr("chmod"));
}

TEST_F(CliTest, CorruptMetadataDbIsRefused) {
  const std::string record = Put(input_).value("record_id", "");
  {
    std::fstream db(dir_ + "/metadata.db", std::ios::binary | std::ios::in | std::ios::out);
    const std::string garbage(100, '\x5a');
    db.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    ASSERT_TRUE(db.good());
  }
  ExpectCleanFailure(PutArgs());
  const std::string out = tmp_.path() + "/corrupt.out";
  ExpectCleanFailure({"record", "get", "--dir", dir_, "--record", record, "--out", out});
  EXPECT_FALSE(fs::exists(out));
  const ProcessResult r = ExpectCleanFailure({"verify", "--dir", dir_});
  EXPECT_THAT(r.err, HasSubstr("metadata"));
}

}  // namespace
}  // namespace hokan
