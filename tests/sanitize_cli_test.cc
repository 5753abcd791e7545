// The issue-5 CLI contract, through the real binary: `hokan sanitize IN --out OUT --report R`
// writes OUT only for files it lets in (exit 0), refuses programs and blocked files (exit 1,
// no OUT), and writes the JSON report either way; bad usage or unreadable input is exit 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "sanitize_fixtures.h"
#include "subprocess.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::MinimalPe;
using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::hokan::testing::RunHokanWithInput;
using ::testing::HasSubstr;

class SanitizeCliTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(Path(name), std::ios::binary) << bytes;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  bool Exists(const std::string& name) const { return std::ifstream(Path(name)).good(); }
  nlohmann::json Report(const std::string& name) const {
    return nlohmann::json::parse(Read(name), nullptr, false);
  }

  testing::TempDir dir_;
};

// G-6.5-C12: a program renamed to .pdf is detected by content and refused; the report says so.
TEST_F(SanitizeCliTest, G_6_5_C12_ProgramRenamedToPdfIsRefusedWithAReport) {
  Write("summary.pdf", MinimalPe());
  ProcessResult r = RunHokan(
      {"sanitize", Path("summary.pdf"), "--out", Path("out.pdf"), "--report", Path("report.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(Exists("out.pdf"));
  EXPECT_THAT(r.err, HasSubstr("blocked: pe"));
  const nlohmann::json report = Report("report.json");
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["verdict"], "blocked");
  EXPECT_EQ(report["detected"]["type"], "pe");
  EXPECT_EQ(report["declared_name"], "summary.pdf");
  EXPECT_EQ(report["findings"][0]["kind"], "type-mismatch");
}

// G-6.5-C10: the EICAR test file is refused (no ClamAV needed).
TEST_F(SanitizeCliTest, G_6_5_C10_EicarIsRefused) {
  Write("eicar.com", "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
  ProcessResult r = RunHokan(
      {"sanitize", Path("eicar.com"), "--out", Path("out"), "--report", Path("report.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(Exists("out"));
  EXPECT_EQ(Report("report.json")["findings"].back()["kind"], "malware");
}

TEST_F(SanitizeCliTest, CleanTextIsWrittenUnchanged) {
  const std::string note = "Progress note: afebrile, stable. 経過良好。\n";
  Write("note.txt", note);
  ProcessResult r = RunHokan(
      {"sanitize", Path("note.txt"), "--out", Path("out.txt"), "--report", Path("report.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Read("out.txt"), note);
  const nlohmann::json report = Report("report.json");
  EXPECT_EQ(report["verdict"], "clean");
  EXPECT_EQ(report["before"]["sha256"], report["after"]["sha256"]);
}

// A mail gateway pipes the file through: IN and OUT may be standard input and output.
TEST_F(SanitizeCliTest, FiltersStandardInputToStandardOutput) {
  ProcessResult r = RunHokanWithInput(
      {"sanitize", "-", "--out", "-", "--name", "labs.csv", "--report", Path("report.json")},
      "test,value\nHbA1c,6.1\nnote,=HYPERLINK(\"http://example.invalid\")\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("HbA1c,6.1\n"));
  EXPECT_THAT(r.out, HasSubstr("'=HYPERLINK"));
  const nlohmann::json report = Report("report.json");
  EXPECT_EQ(report["verdict"], "disarmed");
  EXPECT_EQ(report["detected"]["type"], "csv");
  EXPECT_THAT(r.err, HasSubstr("formula-injection"));
}

TEST_F(SanitizeCliTest, BlockPolicyRefusesInsteadOfDisarming) {
  Write("labs.csv", "a,b\n1,=cmd|' /C calc'!A0\n");
  ProcessResult r = RunHokan({"sanitize", Path("labs.csv"), "--out", Path("out.csv"), "--rule",
                              "csv=block", "--report", Path("report.json")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(Exists("out.csv"));
  EXPECT_EQ(Report("report.json")["policy_action"], "block");
}

TEST_F(SanitizeCliTest, BadUsageAndUnreadableInputAreExitTwo) {
  EXPECT_EQ(RunHokan({"sanitize"}).exit_code, 2);
  EXPECT_EQ(RunHokan({"sanitize", Path("missing.pdf"), "--out", Path("o")}).exit_code, 2);
  Write("a.txt", "hello\n");
  EXPECT_EQ(RunHokan({"sanitize", Path("a.txt")}).exit_code, 2);  // No --out.
  ProcessResult bad_rule =
      RunHokan({"sanitize", Path("a.txt"), "--out", Path("o"), "--rule", "docm=allow"});
  EXPECT_EQ(bad_rule.exit_code, 2);
  EXPECT_THAT(bad_rule.err, HasSubstr("--rule docm=allow"));
  ProcessResult bad_db =
      RunHokan({"sanitize", Path("a.txt"), "--out", Path("o"), "--clamav-db", Path("nodb")});
  EXPECT_NE(bad_db.exit_code, 0);
  EXPECT_FALSE(Exists("o"));
  EXPECT_EQ(RunHokan({"sanitize", "--help"}).exit_code, 0);
}

// `hokan record put` goes through the same sanitiser; the refused original is in quarantine,
// where `hokan quarantine` shows it and hands it out (audited), but never releases a program.
TEST_F(SanitizeCliTest, G_6_5_C12_RecordPutOfAProgramIsRefusedAndQuarantined) {
  const std::string dir = Path("store");
  ASSERT_EQ(RunHokan({"init", "--dir", dir}).exit_code, 0);
  Write("letter.pdf", MinimalPe());
  ProcessResult put =
      RunHokan({"record", "put", "--dir", dir, "--patient", "P0001", "--type", "referral-letter",
                "--file", Path("letter.pdf"), "--media-type", "application/pdf"});
  EXPECT_EQ(put.exit_code, 2) << put.err;
  EXPECT_THAT(put.err, HasSubstr("refused by the sanitiser"));

  ProcessResult list = RunHokan({"quarantine", "list", "--dir", dir});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json items = nlohmann::json::parse(list.out)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["declared_name"], "letter.pdf");
  EXPECT_EQ(items[0]["channel"], "cli");
  const std::string id = items[0]["id"];
  ProcessResult show = RunHokan({"quarantine", "show", "--dir", dir, "--id", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(nlohmann::json::parse(show.out)["report"]["detected"]["type"], "pe");
  ASSERT_EQ(RunHokan({"quarantine", "content", "--dir", dir, "--id", id, "--out", Path("orig")})
                .exit_code,
            0);
  EXPECT_EQ(Read("orig"), MinimalPe());
  ProcessResult release = RunHokan(
      {"quarantine", "request-release", "--dir", dir, "--id", id, "--reason", "vendor viewer"});
  EXPECT_EQ(release.exit_code, 4) << release.err;
  EXPECT_THAT(release.err, HasSubstr("never released"));

  // A clean note goes in, and says so.
  Write("note.txt", "Stable. Continue current medication.\n");
  ProcessResult ok =
      RunHokan({"record", "put", "--dir", dir, "--patient", "P0001", "--type", "progress-note",
                "--file", Path("note.txt"), "--media-type", "text/plain"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["sanitize"], "clean");
  ProcessResult verify = RunHokan({"verify", "--dir", dir});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace hokan
