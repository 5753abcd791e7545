// RTF disarming (G-6.5-C12): OLE objects, DDE and remote include fields, remote templates and
// data stores are cut out; the benign text stays byte for byte and the output re-reads cleanly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "sanitize/internal/disarm.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

struct Disarmed {
  Result<Bytes> result;
  std::vector<SanitizeFinding> findings;
};

Disarmed RunRtf(std::string_view rtf) {
  SanitizeOptions options;
  Context ctx(options);
  Result<Bytes> result = DisarmRtf(AsBytes(rtf), ctx);
  return {std::move(result), ctx.findings()};
}

// Disarms `rtf`, expects success, and checks that the output is a fixed point: it tokenises
// cleanly (balanced, nothing left to remove) and comes back unchanged.
std::string DisarmClean(std::string_view rtf, std::vector<SanitizeFinding>* findings = nullptr) {
  Disarmed first = RunRtf(rtf);
  EXPECT_OK(first.result);
  if (!first.result.has_value()) return "";
  std::string out = ToString(*first.result);
  Disarmed again = RunRtf(out);
  EXPECT_OK(again.result) << out;
  if (again.result.has_value()) {
    EXPECT_EQ(ToString(*again.result), out);
  }
  EXPECT_TRUE(again.findings.empty()) << "left behind in: " << out;
  if (findings != nullptr) *findings = first.findings;
  return out;
}

std::vector<std::string> Kinds(const std::vector<SanitizeFinding>& findings) {
  std::vector<std::string> kinds;
  kinds.reserve(findings.size());
  for (const SanitizeFinding& f : findings) kinds.push_back(f.kind);
  return kinds;
}

// An embedded Word document as Word writes it: \objdata holds the hex of an OLE1 header and a
// compound file (D0CF11E0...); \result holds the picture Word shows in its place.
constexpr std::string_view kObjectDoc =
    "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\n"
    "\\pard Benign text 123\\par\n"
    "{\\object\\objemb\\objupdate\\objw2000\\objh1000{\\*\\objclass Word.Document.8}"
    "{\\*\\objdata 01050000020000000e000000576f72642e446f63756d656e742e380000000000000000"
    "00000400d0cf11e0a1b11ae1000000000000000000000000}"
    "{\\result{\\pict\\wmetafile8\\picw100\\pich100 010009000003}}}\n"
    "\\par More benign text.}";

TEST(RtfDisarm, ObjectIsRemovedAndTextKept) {
  std::vector<SanitizeFinding> findings;
  const std::string out = DisarmClean(kObjectDoc, &findings);
  EXPECT_THAT(out, HasSubstr("\\pard Benign text 123\\par\n"));
  EXPECT_THAT(out, HasSubstr("\\par More benign text.}"));
  EXPECT_THAT(out, Not(HasSubstr("\\object")));
  EXPECT_THAT(out, Not(HasSubstr("objdata")));
  EXPECT_THAT(out, Not(HasSubstr("objupdate")));
  EXPECT_THAT(out, Not(HasSubstr("d0cf11e0")));
  // The picture Word showed for the object stays, in a group of its own.
  EXPECT_THAT(out, HasSubstr("{{\\pict\\wmetafile8\\picw100\\pich100 010009000003}}"));
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, "ole-object");
  EXPECT_EQ(findings[0].action, SanitizeFinding::Action::kRemoved);
  EXPECT_TRUE(findings[0].active);
  EXPECT_EQ(findings[0].location, "offset " + std::to_string(kObjectDoc.find("{\\object")));
}

TEST(RtfDisarm, ObjectWithoutResultIsCutWhole) {
  EXPECT_EQ(DisarmClean("{\\rtf1 A{\\object\\objemb{\\*\\objdata 0102}}B}"), "{\\rtf1 AB}");
}

TEST(RtfDisarm, OrphanObjectDataIsCut) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1 A{\\*\\objdata 0102}B}", &findings), "{\\rtf1 AB}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("ole-object"));
}

// Word switches a group to an object destination wherever the word appears in it.
TEST(RtfDisarm, ObjectDestinationInsideAGroupIsCutFromThere) {
  EXPECT_EQ(DisarmClean("{\\rtf1 {\\b bold \\objdata 0102}after}"), "{\\rtf1 {\\b bold }after}");
}

TEST(RtfDisarm, ControlWordBeforeACutDoesNotRunIntoTheNextText) {
  // Without the space, "\b" and "x" would read as the control word "\bx".
  EXPECT_EQ(DisarmClean("{\\rtf1\\b{\\object\\objdata 00}x}"), "{\\rtf1\\b x}");
  EXPECT_EQ(DisarmClean("{\\rtf1\\b0{\\object\\objdata 00}{\\*\\datastore 01}5}"),
            "{\\rtf1\\b0 5}");
  EXPECT_EQ(DisarmClean("{\\rtf1\\b{\\object\\objdata 00}\\i x}"), "{\\rtf1\\b\\i x}");
}

TEST(RtfDisarm, BinaryDataWithBracesIsSkipped) {
  // \bin3 makes the next three bytes raw data: these braces do not close anything.
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1 A{\\object{\\*\\objdata \\bin3 }}{}}B}", &findings),
            "{\\rtf1 AB}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("ole-object"));
}

TEST(RtfDisarm, DdeAutoFieldInstructionIsRemovedResultKept) {
  constexpr std::string_view kDoc =
      "{\\rtf1\\ansi Before "
      "{\\field{\\*\\fldinst {\\rtlch DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k "
      "calc.exe\"}}"
      "{\\fldrslt {Shown text}}} after.}";
  std::vector<SanitizeFinding> findings;
  const std::string out = DisarmClean(kDoc, &findings);
  EXPECT_EQ(out, "{\\rtf1\\ansi Before {\\field{\\fldrslt {Shown text}}} after.}");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, "dde-field");
  EXPECT_TRUE(findings[0].active);
  EXPECT_THAT(findings[0].detail, Not(HasSubstr("calc")));  // No file content in reports.
}

TEST(RtfDisarm, ObfuscatedDdeKeywordIsFound) {
  // The keyword split over groups, a hex escape and a Unicode escape with its fallback byte.
  constexpr std::string_view kDoc =
      "{\\rtf1{\\field{\\*\\fldinst {\\rtlch D}{\\'44}\\u69 ?AUTO c:\\\\a.exe}"
      "{\\fldrslt x}}}";
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean(kDoc, &findings), "{\\rtf1{\\field{\\fldrslt x}}}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("dde-field"));
}

// Removing the object brings "\u68" (whose one fallback byte is skipped) next to "DDE": the
// first pass reads "DDDE", the output reads "DDE". The output is read again until it is clean.
TEST(RtfDisarm, CutsThatJoinTokensAreReadAgain) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1{\\field{\\*\\fldinst \\u68{\\object\\objdata 00}DDE c:\\\\a.exe}"
                        "{\\fldrslt r}}}",
                        &findings),
            "{\\rtf1{\\field{\\fldrslt r}}}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("ole-object", "dde-field"));
}

TEST(RtfDisarm, RemoteIncludeFieldIsRemovedLocalAndHyperlinkKept) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1{\\field{\\*\\fldinst INCLUDEPICTURE \"http://evil.example/p.png\""
                        " \\\\d}{\\fldrslt pic}}}",
                        &findings),
            "{\\rtf1{\\field{\\fldrslt pic}}}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("external-link"));

  EXPECT_EQ(DisarmClean("{\\rtf1{\\field{\\*\\fldinst INCLUDETEXT "
                        "\"\\\\\\\\\\\\\\\\server\\\\\\\\share\\\\\\\\a.docx\"}{\\fldrslt t}}}",
                        &findings),
            "{\\rtf1{\\field{\\fldrslt t}}}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("external-link"));

  for (std::string_view clean :
       {"{\\rtf1{\\field{\\*\\fldinst INCLUDEPICTURE \"C:\\\\\\\\pics\\\\\\\\a.png\"}"
        "{\\fldrslt pic}}}",
        "{\\rtf1{\\field{\\*\\fldinst HYPERLINK \"https://www.mhlw.go.jp/\"}{\\fldrslt MHLW}}}",
        "{\\rtf1{\\field{\\*\\fldinst PAGE}{\\fldrslt 1}}}"}) {
    EXPECT_EQ(DisarmClean(clean, &findings), clean);
    EXPECT_TRUE(findings.empty()) << clean;
  }
}

TEST(RtfDisarm, RemoteTemplateIsRemovedLocalKept) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1{\\*\\template http://evil.example/t.dotm}Text}", &findings),
            "{\\rtf1 Text}");  // The space keeps "\\rtf1" from running into "Text".
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("remote-template"));

  constexpr std::string_view kLocal = "{\\rtf1{\\*\\template C:\\\\Templates\\\\Normal.dotm}Text}";
  EXPECT_EQ(DisarmClean(kLocal, &findings), kLocal);
  EXPECT_TRUE(findings.empty());
}

TEST(RtfDisarm, DatastoreIsRemoved) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1 a{\\*\\datastore 0105000002000000}b}", &findings), "{\\rtf1 ab}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("datastore"));
}

TEST(RtfDisarm, StrayObjectWordsAreCut) {
  std::vector<SanitizeFinding> findings;
  EXPECT_EQ(DisarmClean("{\\rtf1\\objupdate Hello\\objemb}", &findings), "{\\rtf1 Hello}");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].kind, "ole-object");
  EXPECT_THAT(findings[0].detail, HasSubstr("2 object control word"));
}

TEST(RtfDisarm, TooMuchToRemoveIsRefused) {
  std::string rtf = "{\\rtf1 ";
  for (int i = 0; i <= 100'000; ++i) rtf += "\\objupdate x";
  rtf += "}";
  Disarmed result = RunRtf(rtf);
  EXPECT_THAT(result.result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.result.error().message(), HasSubstr("more than 100000"));
}

TEST(RtfDisarm, TrailingDataIsRemovedWhitespaceKept) {
  std::vector<SanitizeFinding> findings;
  const std::string polyglot = "{\\rtf1 x}" + std::string("PK\x03\x04", 4) + "payload";
  EXPECT_EQ(DisarmClean(polyglot, &findings), "{\\rtf1 x}");
  EXPECT_THAT(Kinds(findings), ::testing::ElementsAre("trailing-data"));
  EXPECT_EQ(DisarmClean("{\\rtf1 x}\r\n", &findings), "{\\rtf1 x}\r\n");
  EXPECT_TRUE(findings.empty());
}

TEST(RtfDisarm, CleanDocumentIsUnchanged) {
  constexpr std::string_view kDoc =
      "{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 MS Mincho;}}"
      "{\\*\\generator Riched20 10.0;}\\viewkind4\\uc1\\pard\\f0\\fs22 "
      "\\'90\\'66\\'97\\'c3\\'98\\'5e \\u35386?\\par {\\pict\\pngblip 89504e47}\\{literal\\}\\par}";
  Disarmed result = RunRtf(kDoc);
  ASSERT_OK(result.result);
  EXPECT_EQ(ToString(*result.result), kDoc);
  EXPECT_TRUE(result.findings.empty());
}

TEST(RtfDisarm, HugeBinLengthIsMalformed) {
  Disarmed result = RunRtf("{\\rtf1 {\\object{\\*\\objdata \\bin2147483647 abc}}}");
  EXPECT_THAT(result.result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.result.error().message(), HasSubstr("malformed RTF"));
  EXPECT_THAT(result.result.error().message(), HasSubstr("\\bin"));
  EXPECT_THAT(RunRtf("{\\rtf1 \\bin-5 ab}").result, StatusIs(StatusCode::kInvalidArgument));
}

TEST(RtfDisarm, DeepNestingIsMalformedWithoutRecursion) {
  std::string deep = "{\\rtf1 ";
  deep.append(10'000, '{');
  deep += "x";
  deep.append(10'000, '}');
  deep += "}";
  Disarmed result = RunRtf(deep);
  EXPECT_THAT(result.result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.result.error().message(), HasSubstr("nested deeper than 1000"));

  std::string fine = "{\\rtf1 ";
  fine.append(900, '{');
  fine.append(900, '}');
  fine += "}";
  EXPECT_OK(RunRtf(fine).result);
}

TEST(RtfDisarm, UnbalancedAndBrokenInputIsMalformed) {
  for (std::string_view bad : {"{\\rtf1 abc", "{\\rtf1 {\\object{\\*\\objdata 01}", "{\\rtf1 \\",
                               "{\\rtf1 \\'4}", "{\\rtf1 \\'zz}", "not rtf", ""}) {
    Disarmed result = RunRtf(bad);
    EXPECT_THAT(result.result, StatusIs(StatusCode::kInvalidArgument)) << bad;
    if (!result.result.has_value()) {
      EXPECT_THAT(result.result.error().message(), HasSubstr("malformed RTF")) << bad;
    }
  }
}

// End to end through Sanitize(): detected by content, disarmed, reported.
TEST(RtfDisarm, SanitizeDisarmsAnRtfWithAnObject) {
  SanitizeOptions options;
  options.declared_name = "letter.rtf";
  Result<SanitizeOutcome> outcome = Sanitize(AsBytes(kObjectDoc), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "rtf");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_THAT(Kinds(outcome->report.findings), ::testing::Contains("ole-object"));
  EXPECT_THAT(ToString(outcome->output), HasSubstr("Benign text 123"));
  EXPECT_THAT(ToString(outcome->output), Not(HasSubstr("objdata")));

  options.policy.default_action = SanitizeAction::kBlock;
  outcome = Sanitize(AsBytes(kObjectDoc), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(outcome->output.empty());

  options.policy.default_action = SanitizeAction::kDisarm;
  outcome = Sanitize(AsBytes("{\\rtf1 plain}"), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kClean);
}

TEST(RtfDisarm, SanitizeBlocksMalformedRtf) {
  SanitizeOptions options;
  Result<SanitizeOutcome> outcome = Sanitize(AsBytes("{\\rtf1 {\\b unclosed"), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_THAT(Kinds(outcome->report.findings), ::testing::Contains("malformed"));
}

}  // namespace
}  // namespace hokan::sanitize_internal
