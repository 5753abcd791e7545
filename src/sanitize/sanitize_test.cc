// The pipeline as a whole: type by content, programs and scripts blocked, policy, limits, the
// malware scan, reports. Each format's disarmer has its own *_test.cc.
#include "sanitize/sanitize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/encoding.h"
#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "sanitize/clamav.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kEicar =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

// A minimal PE: the DOS header's e_lfanew points at "PE\0\0".
Bytes MinimalPe() {
  Bytes pe(256, 0);
  pe[0] = 'M';
  pe[1] = 'Z';
  pe[0x3c] = 0x80;
  pe[0x80] = 'P';
  pe[0x81] = 'E';
  return pe;
}

Bytes MinimalElf() {
  Bytes elf(64, 0);
  const std::string_view head =
      "\x7f"
      "ELF\x02\x01\x01";
  std::copy(head.begin(), head.end(), elf.begin());
  return elf;
}

SanitizeOutcome SanitizeFile(ByteView in, std::string name = "", SanitizePolicy policy = {}) {
  SanitizeOptions options;
  options.declared_name = std::move(name);
  options.policy = std::move(policy);
  Result<SanitizeOutcome> outcome = Sanitize(in, options);
  EXPECT_TRUE(outcome.has_value());
  return outcome.has_value() ? std::move(outcome.value()) : SanitizeOutcome{};
}

bool HasFinding(const SanitizeReport& report, std::string_view kind) {
  for (const SanitizeFinding& f : report.findings) {
    if (f.kind == kind) return true;
  }
  return false;
}

TEST(SanitizeDetect, TypesComeFromContentNotNames) {
  EXPECT_EQ(DetectType(MinimalPe(), "report.pdf").name, "pe");
  EXPECT_EQ(DetectType(MinimalElf(), "scan.jpg").name, "elf");
  EXPECT_EQ(DetectType(AsBytes("%PDF-1.7\n%\xe2\xe3\n"), "letter.docx").name, "pdf");
  EXPECT_EQ(DetectType(AsBytes("{\\rtf1\\ansi hello}")).name, "rtf");
  EXPECT_EQ(DetectType(AsBytes("\x89PNG\r\n\x1a\n....")).name, "png");
  EXPECT_EQ(DetectType(AsBytes("\xFF\xD8\xFF\xE0....")).name, "jpeg");
  EXPECT_EQ(DetectType(AsBytes("MSH|^~\\&|HIS|...")).name, "hl7v2");
  EXPECT_EQ(DetectType(AsBytes("<?xml version=\"1.0\"?><ClinicalDocument/>")).name, "xml");
  EXPECT_EQ(DetectType(AsBytes("{\"resourceType\":\"Patient\"}")).name, "json");
  EXPECT_EQ(DetectType(AsBytes("a,b\n1,2\n"), "lab.csv").name, "csv");
  EXPECT_EQ(DetectType(AsBytes("Progress note: stable.\n")).name, "text");
  EXPECT_EQ(DetectType(AsBytes(std::string_view("\xCA\xFE\xBA\xBE\x00\x00\x00\x34", 8))).name,
            "java-class");
  EXPECT_EQ(DetectType(AsBytes(std::string_view("\xCA\xFE\xBA\xBE\x00\x00\x00\x02", 8))).name,
            "mach-o");
  EXPECT_TRUE(DetectType(MinimalPe()).executable);
  EXPECT_FALSE(DetectType(AsBytes("%PDF-1.4")).executable);
  EXPECT_THAT(DetectType(MinimalPe()).description, HasSubstr("MS Windows"));  // libmagic's words
}

TEST(SanitizeDetect, ScriptsAreRecognisedInTextAndByTheirNames) {
  EXPECT_EQ(DetectType(AsBytes("#!/bin/sh\nrm -rf /\n")).name, "script-shell");
  EXPECT_EQ(DetectType(AsBytes("@echo off\r\ndel *.*\r\n")).name, "script-batch");
  EXPECT_EQ(DetectType(AsBytes("IEX (New-Object System.Net.WebClient).DownloadString('x')")).name,
            "script-powershell");
  EXPECT_EQ(DetectType(AsBytes("Set s = CreateObject(\"WScript.Shell\")\ns.Run \"calc\"")).name,
            "script-vbscript");
  EXPECT_EQ(DetectType(AsBytes("<html><head><hta:application id=x/></head></html>")).name, "hta");
  // Plain text that claims to be a script is treated as the script it claims to be.
  EXPECT_EQ(DetectType(AsBytes("echo hello\n"), "run.bat").name, "script-batch");
  EXPECT_EQ(DetectType(AsBytes("var x = 1;\n"), "invoice.pdf.js").name, "script-javascript");
  // But a name never makes a program look harmless.
  EXPECT_EQ(DetectType(MinimalPe(), "notes.txt").name, "pe");
}

// G-6.5-C12: a program renamed to .pdf is detected by content and refused, and said so.
TEST(SanitizeBlock, G_6_5_C12_ExecutableRenamedToPdfIsBlocked) {
  for (const Bytes& program : {MinimalPe(), MinimalElf()}) {
    SanitizeOutcome outcome = SanitizeFile(program, "discharge-summary.pdf");
    EXPECT_EQ(outcome.report.verdict, SanitizeVerdict::kBlocked);
    EXPECT_TRUE(outcome.output.empty());
    EXPECT_TRUE(HasFinding(outcome.report, "executable"));
    EXPECT_TRUE(HasFinding(outcome.report, "type-mismatch"));
    EXPECT_THAT(outcome.report.reason, HasSubstr("never let in"));
    EXPECT_EQ(outcome.report.sha256_before, HexEncode(Sha256(program)));
    EXPECT_TRUE(outcome.report.sha256_after.empty());
  }
}

TEST(SanitizeBlock, G_6_5_C12_ScriptsAreBlockedWhateverThePolicy) {
  SanitizePolicy lenient;
  lenient.default_action = SanitizeAction::kDisarm;
  SanitizeOutcome outcome =
      SanitizeFile(AsBytes("@echo off\r\nformat c:\r\n"), "readme.txt", lenient);
  EXPECT_EQ(outcome.report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_EQ(outcome.report.detected.name, "script-batch");
}

// G-6.5-C10: the EICAR test file is recognised even without a ClamAV database.
TEST(SanitizeBlock, G_6_5_C10_EicarIsBlockedWithoutClamav) {
  SanitizeOutcome outcome = SanitizeFile(AsBytes(kEicar), "eicar.txt");
  EXPECT_EQ(outcome.report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(HasFinding(outcome.report, "malware"));
  EXPECT_THAT(outcome.report.reason, HasSubstr("EICAR"));
}

TEST(SanitizeBlock, UnknownBinaryAndHtmlAreNotLetIn) {
  Bytes random(4096);
  for (std::size_t i = 0; i < random.size(); ++i)
    random[i] = static_cast<std::uint8_t>(i * 131 + 7);
  random[0] = 0x01;
  SanitizeOutcome unknown = SanitizeFile(random);
  EXPECT_EQ(unknown.report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(HasFinding(unknown.report, "unsupported-type"));
  SanitizeOutcome html =
      SanitizeFile(AsBytes("<!DOCTYPE html><html><script>alert(1)</script></html>"));
  EXPECT_EQ(html.report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_EQ(html.report.detected.name, "html");
}

TEST(SanitizeLimits, OversizedInputIsBlockedBeforeAnyParsing) {
  SanitizeOptions options;
  options.limits.max_input_bytes = 10;
  Result<SanitizeOutcome> outcome = Sanitize(AsBytes("%PDF-1.7 and more than ten bytes"), options);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(HasFinding(outcome->report, "limit-exceeded"));
}

// DICOM preamble polyglot (a PE header in the 128-byte preamble, CVE-2019-11687): zeroed.
TEST(SanitizeDicom, ProgramInPreambleIsZeroedAndDataKept) {
  Bytes dicom(128 + 4 + 16, 0);
  const Bytes pe = MinimalPe();
  std::copy(pe.begin(), pe.begin() + 128, dicom.begin());
  std::copy_n("DICM", 4, dicom.begin() + 128);
  for (std::size_t i = 132; i < dicom.size(); ++i) dicom[i] = static_cast<std::uint8_t>(i);
  SanitizeOutcome outcome = SanitizeFile(dicom, "ct.dcm");
  ASSERT_EQ(outcome.report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(outcome.report.detected.name, "dicom");
  ASSERT_EQ(outcome.output.size(), dicom.size());
  EXPECT_TRUE(std::all_of(outcome.output.begin(), outcome.output.begin() + 128,
                          [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(std::equal(outcome.output.begin() + 128, outcome.output.end(), dicom.begin() + 128));
  EXPECT_EQ(DetectType(outcome.output).name, "dicom");

  Bytes clean = dicom;
  std::fill(clean.begin(), clean.begin() + 128, std::uint8_t{0});
  SanitizeOutcome untouched = SanitizeFile(clean, "ct.dcm");
  EXPECT_EQ(untouched.report.verdict, SanitizeVerdict::kClean);
  EXPECT_EQ(untouched.output, clean);
  EXPECT_EQ(untouched.report.sha256_after, untouched.report.sha256_before);
}

TEST(SanitizePolicy, BlockAndHoldApplyOnlyToFilesWithActiveContent) {
  Bytes dicom(132, 0);
  dicom[0] = 'M';
  dicom[1] = 'Z';
  std::copy_n("DICM", 4, dicom.begin() + 128);
  SanitizePolicy hold;
  hold.per_type["dicom"] = SanitizeAction::kHold;
  SanitizeOutcome held = SanitizeFile(dicom, "", hold);
  EXPECT_EQ(held.report.verdict, SanitizeVerdict::kHeld);
  EXPECT_TRUE(held.output.empty());
  EXPECT_EQ(held.report.policy_action, SanitizeAction::kHold);

  SanitizePolicy block;
  block.default_action = SanitizeAction::kBlock;
  EXPECT_EQ(SanitizeFile(dicom, "", block).report.verdict, SanitizeVerdict::kBlocked);
  // Nothing active: the policy has nothing to act on.
  Bytes clean(132, 0);
  std::copy_n("DICM", 4, clean.begin() + 128);
  EXPECT_EQ(SanitizeFile(clean, "", block).report.verdict, SanitizeVerdict::kClean);

  EXPECT_EQ(ParseSanitizeAction("hold").value(), SanitizeAction::kHold);
  EXPECT_FALSE(ParseSanitizeAction("allow").has_value());
}

TEST(SanitizeReport, JsonCarriesTypeVerdictFindingsAndHashes) {
  SanitizeOutcome outcome = SanitizeFile(MinimalPe(), "x.pdf");
  const nlohmann::json j = nlohmann::json::parse(SanitizeReportJson(outcome.report));
  EXPECT_EQ(j["format"], "hokan-sanitize-report/1");
  EXPECT_EQ(j["declared_name"], "x.pdf");
  EXPECT_EQ(j["detected"]["type"], "pe");
  EXPECT_EQ(j["detected"]["executable"], true);
  EXPECT_EQ(j["verdict"], "blocked");
  EXPECT_EQ(j["before"]["sha256"], HexEncode(Sha256(MinimalPe())));
  EXPECT_EQ(j["before"]["size"], 256);
  EXPECT_TRUE(j["after"].is_null());
  ASSERT_GE(j["findings"].size(), 2u);
  EXPECT_EQ(j["findings"][0]["kind"], "type-mismatch");
  EXPECT_EQ(j["findings"][0]["action"], "reported");
  EXPECT_EQ(j["findings"][1]["kind"], "executable");
  EXPECT_EQ(j["findings"][1]["action"], "blocked");
  EXPECT_TRUE(j["malware_scan"].is_null());
}

// G-6.5-C10: with a ClamAV database present, files are scanned by libclamav and the database's
// age is reported. The database here is a real ClamAV hash-signature file made by the test.
TEST(SanitizeClamav, G_6_5_C10_SignatureMatchBlocksAndDatabaseAgeIsReported) {
  testing::TempDir dir;
  const std::string payload = "Progress note that a test signature calls malware.\n";
  const std::string sha256 = HexEncode(Sha256(AsBytes(payload)));
  {
    std::ofstream hsb(dir.path() + "/hokan-test.hsb");
    hsb << sha256 << ":" << payload.size() << ":Hokan.Test.Signature\n";
  }
  PosixFileSystem fs;
  const auto now = std::chrono::system_clock::now() + std::chrono::hours(24 * 3 + 1);
  Result<std::unique_ptr<ClamavScanner>> scanner = ClamavScanner::Open(fs, dir.path(), now);
  ASSERT_TRUE(scanner.has_value()) << scanner.error().message();
  EXPECT_EQ((*scanner)->database_age_days(), 3);
  EXPECT_THAT((*scanner)->engine(), HasSubstr("ClamAV"));

  SanitizeOptions options;
  options.scanner = scanner->get();
  Result<SanitizeOutcome> bad = Sanitize(AsBytes(payload), options);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->report.verdict, SanitizeVerdict::kBlocked);
  ASSERT_TRUE(bad->report.malware_scan.has_value());
  EXPECT_THAT(bad->report.malware_scan->signatures, ::testing::Contains(HasSubstr("Hokan.Test")));
  EXPECT_EQ(bad->report.malware_scan->database_age_days, 3);

  Result<SanitizeOutcome> good = Sanitize(AsBytes("Another, harmless note.\n"), options);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->report.verdict, SanitizeVerdict::kClean);
  const nlohmann::json j = nlohmann::json::parse(SanitizeReportJson(good->report));
  EXPECT_EQ(j["malware_scan"]["database_age_days"], 3);
  EXPECT_EQ(j["malware_scan"]["database_version"], "hokan-test.hsb");
}

TEST(SanitizeClamav, MissingDatabaseIsAClearError) {
  testing::TempDir dir;
  PosixFileSystem fs;
  Result<std::unique_ptr<ClamavScanner>> scanner =
      ClamavScanner::Open(fs, dir.path(), std::chrono::system_clock::now());
  ASSERT_FALSE(scanner.has_value());
  EXPECT_EQ(scanner.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(scanner.error().message(), HasSubstr("no ClamAV signature database"));
}

}  // namespace
}  // namespace hokan
