// Text disarming: encodings Japanese hospital systems write are accepted as they are; invalid
// bytes are refused; CSV/TSV cells that a spreadsheet would run as formulas are neutralised
// (G-6.5-C12: external files are checked and made harmless before they are used).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Disarmed {
  Result<Bytes> result;
  std::vector<SanitizeFinding> findings;
};

Disarmed RunText(std::string_view text, std::string_view type, bool neutralise = true) {
  SanitizeOptions options;
  options.policy.neutralise_csv_formulas = neutralise;
  Context ctx(options);
  Result<Bytes> result = DisarmText(AsBytes(text), MakeType(type), ctx);
  return {std::move(result), ctx.findings()};
}

std::string Out(const Disarmed& d) {
  EXPECT_OK(d.result);
  return d.result.has_value() ? ToString(*d.result) : "";
}

std::vector<std::string> Locations(const std::vector<SanitizeFinding>& findings) {
  std::vector<std::string> out;
  out.reserve(findings.size());
  for (const SanitizeFinding& f : findings) out.push_back(f.location);
  return out;
}

TEST(TextDisarm, Utf8IsCleanAndUnchanged) {
  for (std::string_view type : {"text", "csv", "tsv", "xml", "json", "hl7v2"}) {
    const std::string text =
        "\xEF\xBB\xBF患者ID,診療録\r\n12345,\"所見, 特記なし\"\r\n";  // BOM, UTF-8.
    Disarmed d = RunText(text, type);
    EXPECT_EQ(Out(d), text) << type;
    EXPECT_TRUE(d.findings.empty()) << type;
  }
}

TEST(TextDisarm, ShiftJisIsAcceptedAndReported) {
  // "診療録" in Shift_JIS.
  const std::string sjis = "\x90\x66\x97\xC3\x98\x5E\r\n";
  Disarmed d = RunText(sjis, "text");
  EXPECT_EQ(Out(d), sjis);  // Not transcoded.
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].kind, "encoding");
  EXPECT_EQ(d.findings[0].action, SanitizeFinding::Action::kReported);
  EXPECT_FALSE(d.findings[0].active);
  EXPECT_THAT(d.findings[0].detail, HasSubstr("Shift_JIS"));
}

TEST(TextDisarm, EucJpAndIso2022JpAreReported) {
  Disarmed euc = RunText("\xBF\xC7\xCE\xC5\xCF\xBF\n", "text");  // "診療録" in EUC-JP.
  EXPECT_EQ(Out(euc), "\xBF\xC7\xCE\xC5\xCF\xBF\n");
  ASSERT_EQ(euc.findings.size(), 1u);
  EXPECT_THAT(euc.findings[0].detail, HasSubstr("EUC-JP"));

  Disarmed jis = RunText("\x1b$B?GNEO?\x1b(B\n", "text");
  ASSERT_EQ(jis.findings.size(), 1u);
  EXPECT_THAT(jis.findings[0].detail, HasSubstr("ISO-2022-JP"));
}

TEST(TextDisarm, NulAndInvalidBytesAreMalformed) {
  Disarmed nul = RunText(std::string("abc\xE3\x81\x82\0def", 10), "text");
  EXPECT_THAT(nul.result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(nul.result.error().message(), "malformed text: invalid byte sequence at offset 6");

  // 0xFF is in none of the encodings.
  Disarmed invalid = RunText("ok\xFF", "json");
  EXPECT_THAT(invalid.result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(invalid.result.error().message(), HasSubstr("at offset 2"));

  // A lead byte cut off at the end.
  EXPECT_THAT(RunText("abc\x90", "csv").result, StatusIs(StatusCode::kInvalidArgument));
}

TEST(TextDisarm, CsvFormulaCellsAreNeutralised) {
  const std::string csv =
      "name,link,cmd\r\n"
      "a,=HYPERLINK(\"http://x\"),+cmd|' /C calc'!A0\r\n"
      "b,@SUM(1),-2+3+cmd\r\n"
      "c,\"=1+2\",\"say \"\"hi\"\"\"\r\n";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(Out(d),
            "name,link,cmd\r\n"
            "a,'=HYPERLINK(\"http://x\"),'+cmd|' /C calc'!A0\r\n"
            "b,'@SUM(1),'-2+3+cmd\r\n"
            "c,\"'=1+2\",\"say \"\"hi\"\"\"\r\n");
  EXPECT_THAT(Locations(d.findings),
              ElementsAre("row 2 column 2", "row 2 column 3", "row 3 column 2", "row 3 column 3",
                          "row 4 column 2"));
  for (const SanitizeFinding& f : d.findings) {
    EXPECT_EQ(f.kind, "formula-injection");
    EXPECT_EQ(f.action, SanitizeFinding::Action::kNeutralised);
    EXPECT_TRUE(f.active);
  }
  // Neutralised output is a fixed point.
  Disarmed again = RunText(Out(d), "csv");
  EXPECT_EQ(Out(again), Out(d));
  EXPECT_TRUE(again.findings.empty());
}

TEST(TextDisarm, NumbersAndPhoneNumbersAreLeftAlone) {
  const std::string csv =
      "patient,phone,delta,note\n"
      "1,+81-3-1234-5678,-12.5,-\n"
      "2,03-1234-5678,+5,\"-1.5E-3\"\n"
      "3,+81 (3) 1234 5678,-0.25,2024/04/01\n";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(Out(d), csv);
  EXPECT_TRUE(d.findings.empty());
}

TEST(TextDisarm, QuotedFieldsWithNewlinesAndOddTriggers) {
  // A quoted field spans lines; tab and CR at the start of a cell, a formula behind spaces.
  const std::string csv = "\"multi\nline\",x\n\"\t=1\",\"\r=2\",  =3,\" @4\"\nlast";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(Out(d), "\"multi\nline\",x\n\"'\t=1\",\"'\r=2\",'  =3,\"' @4\"\nlast");
  EXPECT_THAT(Locations(d.findings),
              ElementsAre("row 2 column 1", "row 2 column 2", "row 2 column 3", "row 2 column 4"));
}

TEST(TextDisarm, TsvAndSemicolonCsv) {
  Disarmed tsv = RunText("a\t=1\t-3\n=cmd|x\tb\n", "tsv");
  EXPECT_EQ(Out(tsv), "a\t'=1\t-3\n'=cmd|x\tb\n");
  Disarmed semi = RunText("a;b\n1;=1+1\n", "csv");
  EXPECT_EQ(Out(semi), "a;b\n1;'=1+1\n");
}

TEST(TextDisarm, ShiftJisCsvIsNeutralisedBytewise) {
  // Shift_JIS trail bytes never equal , " CR or LF, so cells split correctly.
  const std::string csv = "\x90\x66,=1+2\r\n";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(Out(d), "\x90\x66,'=1+2\r\n");
  ASSERT_EQ(d.findings.size(), 2u);  // encoding + formula.
}

// In ISO-2022-JP, kanji are pairs of ASCII-looking bytes between escape sequences: "=+" and ",!"
// below are kanji, not a formula and a delimiter. A formula after a switch back to ASCII is one.
TEST(TextDisarm, Iso2022JpCsvIsNeutralisedOutsideKanji) {
  const std::string csv = "a,\x1b$B=+\x1b(B,\x1b(B=1\n\x1b$B,!\x1b(B,=2\n";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(Out(d), "a,\x1b$B=+\x1b(B,'\x1b(B=1\n\x1b$B,!\x1b(B,'=2\n");
  ASSERT_EQ(d.findings.size(), 3u);
  EXPECT_THAT(d.findings[0].detail, HasSubstr("ISO-2022-JP"));
  EXPECT_EQ(d.findings[1].location, "row 1 column 3");
  EXPECT_EQ(d.findings[2].location, "row 2 column 2");
}

TEST(TextDisarm, PolicyCanTurnNeutralisingOff) {
  Disarmed d = RunText("a,=1+2\n", "csv", /*neutralise=*/false);
  EXPECT_EQ(Out(d), "a,=1+2\n");
  EXPECT_TRUE(d.findings.empty());
  // Other text types are never rewritten.
  EXPECT_EQ(Out(RunText("=1+2\n", "text")), "=1+2\n");
}

TEST(TextDisarm, ManyFormulaCellsAreSummarised) {
  std::string csv;
  for (int i = 0; i < 250; ++i) csv += "=1\n";
  Disarmed d = RunText(csv, "csv");
  EXPECT_EQ(d.findings.size(), 101u);
  EXPECT_THAT(d.findings.back().detail, HasSubstr("150 more"));
}

// End to end: detection decides CSV by the declared name, Sanitize() reports the cells.
TEST(TextDisarm, SanitizeNeutralisesCsv) {
  SanitizeOptions options;
  options.declared_name = "labs.csv";
  Result<SanitizeOutcome> outcome = Sanitize(AsBytes("id,value\n1,=WEBSERVICE(\"x\")\n"), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "csv");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(ToString(outcome->output), "id,value\n1,'=WEBSERVICE(\"x\")\n");

  outcome = Sanitize(AsBytes("\x90\x66\x97\xC3\x98\x5E\n"), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kClean);
}

}  // namespace
}  // namespace hokan::sanitize_internal
