// The PDF disarmer (pdf.cc, docs/sanitize/pdf.md). Fixtures are built here with qpdf (or by hand
// when they must be broken); every disarmed output is re-opened with qpdf, every object walked
// for active content, the benign page checked, and the file run through `qpdf --check`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

// qpdf 11.3's JSON.hh does not compile as C++20 with clang and libstdc++ (qpdf issue #942, fixed
// in 11.4): QPDFObjectHandle.hh includes it only to declare functions that return a JSON, which
// this file never calls, so a declaration stands in for the header.
#define JSON_HH
class JSON;

#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>

#include "sanitize/internal/disarm.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using Action = SanitizeFinding::Action;

constexpr std::string_view kPageContent = "BT /F1 24 Tf 72 720 Td (Benign page one) Tj ET";
constexpr std::string_view kTextOperator = "(Benign page one) Tj";
constexpr std::string_view kScript = "app.alert('hokan-test-payload-7731');";
// What of the script shows in the bytes (qpdf escapes the parentheses of a string).
constexpr std::string_view kScriptMarker = "hokan-test-payload-7731";

// A one-page PDF built with qpdf, to which each test adds its active content.
class PdfFixture {
 public:
  PdfFixture() {
    pdf_.setSuppressWarnings(true);
    pdf_.emptyPDF();
    QPDFObjectHandle font = Indirect("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    QPDFObjectHandle resources = QPDFObjectHandle::parse("<< /Font << >> >>");
    resources.getKey("/Font").replaceKey("/F1", font);
    page_ = Indirect("<< /Type /Page /MediaBox [0 0 612 792] >>");
    page_.replaceKey("/Contents", pdf_.newStream(std::string(kPageContent)));
    page_.replaceKey("/Resources", resources);
    QPDFPageDocumentHelper(pdf_).addPage(QPDFPageObjectHelper(page_), false);
  }

  QPDF& pdf() { return pdf_; }
  QPDFObjectHandle root() { return pdf_.getRoot(); }
  QPDFObjectHandle page() { return page_; }

  QPDFObjectHandle Indirect(const std::string& text) {
    return pdf_.makeIndirectObject(QPDFObjectHandle::parse(text));
  }
  QPDFObjectHandle JavaScriptAction() {
    QPDFObjectHandle action = Indirect("<< /Type /Action /S /JavaScript >>");
    action.replaceKey("/JS", QPDFObjectHandle::newString(std::string(kScript)));
    return action;
  }
  void AddAnnotation(QPDFObjectHandle annotation) {
    annotation.replaceKey("/P", page_);
    if (!page_.hasKey("/Annots")) page_.replaceKey("/Annots", QPDFObjectHandle::newArray());
    page_.getKey("/Annots").appendItem(annotation);
  }

  struct WriteOptions {
    bool object_streams = false;     // Objects packed (and compressed) in object streams.
    bool keep_unreferenced = false;  // Write objects nothing refers to.
  };
  Bytes Write() { return Write(WriteOptions{}); }
  Bytes Write(WriteOptions options) {
    QPDFWriter writer(pdf_);
    writer.setOutputMemory();
    writer.setStaticID(true);
    writer.setPreserveUnreferencedObjects(options.keep_unreferenced);
    if (options.object_streams) {
      writer.setObjectStreamMode(qpdf_o_generate);
    } else {
      writer.setObjectStreamMode(qpdf_o_disable);
      writer.setCompressStreams(false);  // Strings and streams stay visible in the bytes.
    }
    writer.write();
    std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
    return Bytes(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());
  }

 private:
  QPDF pdf_;
  QPDFObjectHandle page_;
};

// A PDF written by hand, for structures qpdf would not write: objects 1..n (1 is the catalog),
// an exact xref table, and the trailer.
Bytes HandMadePdf(const std::vector<std::string>& objects) {
  std::string out = "%PDF-1.7\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (const std::size_t offset : offsets) {
    std::string digits = std::to_string(offset);
    out += std::string(10 - digits.size(), '0') + digits + " 00000 n \n";
  }
  out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\n";
  out += "startxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return ToBytes(out);
}

std::string PageObjectWithText() {
  return "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>";
}
std::string ContentStream() {
  return "<< /Length " + std::to_string(kPageContent.size()) + " >>\nstream\n" +
         std::string(kPageContent) + "\nendstream";
}

// What a re-opened output holds.
struct Inspection {
  bool opened = false;
  bool warnings = false;
  int pages = 0;
  bool text_kept = false;
  std::vector<std::string> active;  // Active content still there, described.
  int uri_actions = 0;
  int annotations = 0;
};

void InspectValue(const QPDFObjectHandle& value, Inspection& found) {
  std::vector<QPDFObjectHandle> stack = {value};
  static const std::set<std::string> kBadActions = {
      "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR",
      "/GoToE",      "/Sound",  "/Movie",      "/Rendition",  "/RichMediaExecute"};
  static const std::set<std::string> kBadAnnotations = {"/FileAttachment", "/RichMedia", "/3D",
                                                        "/Screen"};
  while (!stack.empty()) {
    QPDFObjectHandle obj = stack.back();
    stack.pop_back();
    if (obj.isArray()) {
      for (const QPDFObjectHandle& item : obj.aitems()) {
        if (!item.isIndirect()) stack.push_back(item);
      }
      continue;
    }
    if (!obj.isDictionary() && !obj.isStream()) continue;
    QPDFObjectHandle dict = obj.isStream() ? obj.getDict() : obj;
    QPDFObjectHandle s = dict.getKey("/S");
    if (s.isName() && kBadActions.count(s.getName()) != 0) found.active.push_back(s.getName());
    if (s.isNameAndEquals("/URI")) ++found.uri_actions;
    QPDFObjectHandle subtype = dict.getKey("/Subtype");
    if (subtype.isName() && kBadAnnotations.count(subtype.getName()) != 0) {
      found.active.push_back(subtype.getName());
    }
    if (dict.getKey("/Type").isNameAndEquals("/EmbeddedFile")) found.active.push_back("stream");
    for (const char* key :
         {"/JS", "/EF", "/AF", "/XFA", "/JavaScript", "/EmbeddedFiles", "/NeedsRendering"}) {
      if (dict.hasKey(key)) found.active.push_back(key);
    }
    for (const auto& item : dict.ditems()) {
      if (!item.second.isIndirect()) stack.push_back(item.second);
    }
  }
}

Inspection Inspect(const Bytes& bytes) {
  Inspection found;
  QPDF pdf;
  pdf.setSuppressWarnings(true);
  try {
    pdf.processMemoryFile("out", reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (const QPDFObjectHandle& obj : pdf.getAllObjects()) InspectValue(obj, found);
    InspectValue(pdf.getTrailer(), found);
    std::vector<QPDFPageObjectHelper> pages = QPDFPageDocumentHelper(pdf).getAllPages();
    found.pages = static_cast<int>(pages.size());
    if (!pages.empty()) {
      std::shared_ptr<Buffer> content =
          pages[0].getObjectHandle().getKey("/Contents").getStreamData(qpdf_dl_generalized);
      const std::string_view text(reinterpret_cast<const char*>(content->getBuffer()),
                                  content->getSize());
      found.text_kept = text.find(kTextOperator) != std::string_view::npos;
      QPDFObjectHandle annots = pages[0].getObjectHandle().getKey("/Annots");
      found.annotations = annots.isArray() ? annots.getArrayNItems() : 0;
    }
    found.opened = true;
    found.warnings = pdf.anyWarnings();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the output does not open: " << e.what();
  }
  return found;
}

std::string WriteTemp(const ::hokan::testing::TempDir& dir, const Bytes& bytes) {
  std::string path = dir.path() + "/in.pdf";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return path;
}

// `qpdf --check` exits 0 only for a file with neither errors nor warnings.
bool QpdfCheckPasses(const Bytes& bytes) {
  ::hokan::testing::TempDir dir;
  const std::string path = WriteTemp(dir, bytes);
  return std::system(("qpdf --check '" + path + "' >/dev/null 2>&1").c_str()) == 0;
}

// The file in qpdf's QDF form, object streams unpacked and streams uncompressed: what a grep of
// the bytes would see if nothing were hidden by compression.
std::string QdfText(const Bytes& bytes) {
  ::hokan::testing::TempDir dir;
  const std::string in = WriteTemp(dir, bytes);
  const std::string out = dir.path() + "/qdf.pdf";
  const int rc = std::system(
      ("qpdf --qdf --object-streams=disable '" + in + "' '" + out + "' >/dev/null 2>&1").c_str());
  EXPECT_EQ(rc, 0);
  std::ifstream file(out, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

bool HasBytes(const Bytes& bytes, std::string_view text) {
  return AsChars(bytes).find(text) != std::string_view::npos;
}

struct Disarmed {
  Result<Bytes> output = InternalError("not run");
  std::vector<SanitizeFinding> findings;
  bool blocked = false;
};

Disarmed Disarm(const Bytes& in, SanitizeLimits limits = {}) {
  SanitizeOptions options;
  options.limits = limits;
  Context ctx(options);
  Disarmed result;
  result.output = DisarmPdf(in, ctx);
  result.findings = ctx.findings();
  result.blocked = ctx.blocked();
  return result;
}

std::vector<std::string> ActiveKinds(const Disarmed& d) {
  std::vector<std::string> kinds;
  for (const SanitizeFinding& f : d.findings) {
    if (f.active) kinds.push_back(f.kind);
  }
  return kinds;
}

int CountKind(const Disarmed& d, std::string_view kind) {
  const std::vector<std::string> kinds = ActiveKinds(d);
  return static_cast<int>(std::count(kinds.begin(), kinds.end(), kind));
}

const SanitizeFinding* FindKind(const Disarmed& d, std::string_view kind) {
  for (const SanitizeFinding& f : d.findings) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

// The checks every disarmed output must pass: it opens without warnings, holds no active
// content, keeps the page and its text, and passes `qpdf --check`; disarming it again changes
// nothing.
void ExpectDisarmedAndIntact(const Bytes& out, int pages = 1) {
  const Inspection found = Inspect(out);
  EXPECT_TRUE(found.opened);
  EXPECT_FALSE(found.warnings);
  EXPECT_THAT(found.active, ::testing::IsEmpty());
  EXPECT_EQ(found.pages, pages);
  EXPECT_TRUE(found.text_kept);
  EXPECT_TRUE(QpdfCheckPasses(out));
  const Disarmed again = Disarm(out);
  ASSERT_OK(again.output);
  EXPECT_EQ(*again.output, out);
  EXPECT_THAT(ActiveKinds(again), ::testing::IsEmpty());
}

TEST(PdfDisarm, CleanPdfIsReturnedByteForByte) {
  PdfFixture fixture;
  fixture.root().replaceKey("/OpenAction",
                            QPDFObjectHandle::parse("<< /S /GoTo /D [0 /Fit] >>"));  // Harmless.
  for (const bool object_streams : {false, true}) {
    const Bytes in = fixture.Write({.object_streams = object_streams});
    ASSERT_TRUE(QpdfCheckPasses(in));
    const Disarmed d = Disarm(in);
    ASSERT_OK(d.output);
    EXPECT_EQ(*d.output, in);
    EXPECT_THAT(d.findings, ::testing::IsEmpty());
  }
}

// G-6.5-C12: a PDF received from outside that runs JavaScript or launches a program on opening
// is disarmed — the scripts and Launch actions are gone from the bytes, the page stays.
TEST(PdfDisarm, RemovesJavaScriptAndLaunchActions) {
  PdfFixture fixture;
  QPDFObjectHandle launch = fixture.Indirect("<< /S /Launch /F (cmd.exe) >>");
  QPDFObjectHandle open_action = fixture.JavaScriptAction();
  open_action.replaceKey("/Next", launch);
  fixture.root().replaceKey("/OpenAction", open_action);
  // The document-level JavaScript name tree.
  QPDFObjectHandle names = QPDFObjectHandle::parse("<< /JavaScript << /Names [(init)] >> >>");
  names.getKey("/JavaScript").getKey("/Names").appendItem(fixture.JavaScriptAction());
  fixture.root().replaceKey("/Names", names);
  // The catalog's and the page's additional actions.
  QPDFObjectHandle catalog_aa = QPDFObjectHandle::newDictionary();
  catalog_aa.replaceKey("/WC", fixture.JavaScriptAction());
  fixture.root().replaceKey("/AA", catalog_aa);
  fixture.page().replaceKey("/AA", QPDFObjectHandle::parse("<< /O << /S /Launch /F (a.bat) >> >>"));
  // A link that launches a program when clicked.
  fixture.AddAnnotation(fixture.Indirect(
      "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /Win << /F (calc.exe) "
      ">> >> >>"));

  const Bytes in = fixture.Write();
  ASSERT_TRUE(HasBytes(in, kScriptMarker));
  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  const Bytes& out = *d.output;
  EXPECT_NE(out, in);
  EXPECT_THAT(ActiveKinds(d), Contains("javascript"));
  EXPECT_THAT(ActiveKinds(d), Contains("launch-action"));
  for (const SanitizeFinding& f : d.findings) {
    EXPECT_EQ(f.action, Action::kRemoved) << f.kind;
    EXPECT_FALSE(f.location.empty()) << f.kind;
    EXPECT_THAT(f.detail, Not(HasSubstr("hokan-test-payload")));
  }
  const SanitizeFinding* tree = nullptr;
  for (const SanitizeFinding& f : d.findings) {
    if (f.location == "/Root/Names/JavaScript") tree = &f;
  }
  ASSERT_NE(tree, nullptr);
  EXPECT_EQ(tree->kind, "javascript");

  ExpectDisarmedAndIntact(out);
  EXPECT_EQ(Inspect(out).annotations, 1);  // The link stays, without its action.
  for (const std::string_view gone : {kScriptMarker, std::string_view("/JavaScript"),
                                      std::string_view("/Launch"), std::string_view("calc.exe")}) {
    EXPECT_FALSE(HasBytes(out, gone)) << gone;
    EXPECT_THAT(QdfText(out), Not(HasSubstr(std::string(gone)))) << gone;
  }
}

// Object streams are compressed, so a grep of the bytes proves nothing: the objects are walked.
TEST(PdfDisarm, RemovesJavaScriptPackedInObjectStreams) {
  PdfFixture fixture;
  fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
  QPDFObjectHandle js_stream = fixture.pdf().newStream(std::string(kScript));
  QPDFObjectHandle action = fixture.Indirect("<< /S /JavaScript >>");
  action.replaceKey("/JS", js_stream);  // JavaScript in a stream, not a string.
  fixture.page().replaceKey("/AA", QPDFObjectHandle::newDictionary());
  fixture.page().getKey("/AA").replaceKey("/C", action);

  const Bytes in = fixture.Write({.object_streams = true});
  ASSERT_FALSE(HasBytes(in, "/JavaScript"));  // Hidden by compression.
  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), Contains("javascript"));
  ExpectDisarmedAndIntact(*d.output);
  const std::string qdf = QdfText(*d.output);
  EXPECT_THAT(qdf, Not(HasSubstr("/JavaScript")));
  EXPECT_THAT(qdf, Not(HasSubstr(std::string(kScriptMarker))));
  EXPECT_THAT(qdf, HasSubstr(std::string(kTextOperator)));
}

TEST(PdfDisarm, RemovesEmbeddedFilesAndAttachments) {
  PdfFixture fixture;
  auto file_spec = [&](const std::string& name, const std::string& payload) {
    QPDFObjectHandle stream = fixture.pdf().newStream(payload);
    stream.getDict().replaceKey("/Type", QPDFObjectHandle::newName("/EmbeddedFile"));
    QPDFObjectHandle spec = fixture.Indirect("<< /Type /Filespec /EF << >> >>");
    spec.replaceKey("/F", QPDFObjectHandle::newString(name));
    spec.getKey("/EF").replaceKey("/F", stream);
    return spec;
  };
  QPDFObjectHandle names = QPDFObjectHandle::parse("<< /EmbeddedFiles << /Names [(a.exe)] >> >>");
  names.getKey("/EmbeddedFiles")
      .getKey("/Names")
      .appendItem(file_spec("a.exe", "EMBEDDED-PAYLOAD-ONE"));
  fixture.root().replaceKey("/Names", names);
  fixture.root().replaceKey("/Collection", QPDFObjectHandle::parse("<< /View /D >>"));
  QPDFObjectHandle associated = QPDFObjectHandle::newArray();
  associated.appendItem(file_spec("data.xml", "EMBEDDED-PAYLOAD-TWO"));
  fixture.root().replaceKey("/AF", associated);
  QPDFObjectHandle attachment =
      fixture.Indirect("<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] >>");
  attachment.replaceKey("/FS", file_spec("b.docm", "EMBEDDED-PAYLOAD-THREE"));
  fixture.AddAnnotation(attachment);
  fixture.AddAnnotation(
      fixture.Indirect("<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (Note) >>"));

  const Bytes in = fixture.Write();
  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), Contains("embedded-file"));
  ASSERT_NE(FindKind(d, "embedded-file"), nullptr);
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_EQ(Inspect(*d.output).annotations, 1);  // The text note stays.
  const std::string qdf = QdfText(*d.output);
  for (const char* gone : {"EMBEDDED-PAYLOAD", "/EmbeddedFile", "/FileAttachment", "/Collection"}) {
    EXPECT_THAT(qdf, Not(HasSubstr(gone)));
  }
}

TEST(PdfDisarm, RemovesRichMedia3DAndScreenAnnotations) {
  PdfFixture fixture;
  fixture.AddAnnotation(fixture.Indirect(
      "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] /RichMediaContent << >> >>"));
  fixture.AddAnnotation(fixture.Indirect("<< /Type /Annot /Subtype /3D /Rect [0 0 10 10] >>"));
  fixture.AddAnnotation(fixture.Indirect(
      "<< /Type /Annot /Subtype /Screen /Rect [0 0 10 10] /A << /S /Rendition /OP 0 >> >>"));
  fixture.AddAnnotation(
      fixture.Indirect("<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (Note) >>"));

  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_EQ(CountKind(d, "rich-media"), 3);
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_EQ(Inspect(*d.output).annotations, 1);
}

TEST(PdfDisarm, RemovesXfaButKeepsTheAcroForm) {
  PdfFixture fixture;
  QPDFObjectHandle field =
      fixture.Indirect("<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [0 0 100 20] >>");
  fixture.AddAnnotation(field);
  QPDFObjectHandle form = fixture.Indirect("<< /Fields [] >>");
  form.getKey("/Fields").appendItem(field);
  form.replaceKey("/XFA", fixture.pdf().newStream("<xdp:xdp><script>evil()</script></xdp:xdp>"));
  fixture.root().replaceKey("/AcroForm", form);
  fixture.root().replaceKey("/NeedsRendering", QPDFObjectHandle::newBool(true));

  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), Contains("xfa"));
  ExpectDisarmedAndIntact(*d.output);
  QPDF out;
  out.processMemoryFile("out", reinterpret_cast<const char*>(d.output->data()), d.output->size());
  QPDFObjectHandle acro_form = out.getRoot().getKey("/AcroForm");
  ASSERT_TRUE(acro_form.isDictionary());
  EXPECT_EQ(acro_form.getKey("/Fields").getArrayNItems(), 1);
  EXPECT_FALSE(out.getRoot().hasKey("/NeedsRendering"));
  EXPECT_THAT(QdfText(*d.output), Not(HasSubstr("evil()")));
}

TEST(PdfDisarm, RemovesFormActionsButKeepsResetForm) {
  PdfFixture fixture;
  QPDFObjectHandle submit = fixture.Indirect(
      "<< /Type /Annot /Subtype /Widget /FT /Btn /T (send) /Rect [0 0 100 20] "
      "/A << /S /SubmitForm /F << /FS /URL /F (https://example.invalid/collect) >> >> >>");
  QPDFObjectHandle keyed = fixture.Indirect(
      "<< /Type /Annot /Subtype /Widget /FT /Tx /T (dose) /Rect [0 30 100 50] /AA << >> >>");
  keyed.getKey("/AA").replaceKey("/K", fixture.JavaScriptAction());
  QPDFObjectHandle reset = fixture.Indirect(
      "<< /Type /Annot /Subtype /Widget /FT /Btn /T (clear) /Rect [0 60 100 80] "
      "/A << /S /ResetForm >> >>");
  for (const QPDFObjectHandle& widget : {submit, keyed, reset}) fixture.AddAnnotation(widget);
  QPDFObjectHandle form = fixture.Indirect("<< /Fields [] >>");
  for (const QPDFObjectHandle& widget : {submit, keyed, reset}) {
    form.getKey("/Fields").appendItem(widget);
  }
  fixture.root().replaceKey("/AcroForm", form);
  fixture.page().replaceKey("/AA",
                            QPDFObjectHandle::parse("<< /O << /S /ImportData /F (x.fdf) >> >>"));

  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), Contains("submit-action"));
  EXPECT_THAT(ActiveKinds(d), Contains("import-action"));
  EXPECT_THAT(ActiveKinds(d), Contains("javascript"));
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_EQ(Inspect(*d.output).annotations, 3);
  const std::string qdf = QdfText(*d.output);
  EXPECT_THAT(qdf, HasSubstr("/ResetForm"));
  EXPECT_THAT(qdf, Not(HasSubstr("example.invalid")));
}

// A web link the reader clicks stays (reported, not active); a URI that opens by itself goes.
TEST(PdfDisarm, KeepsClickedWebLinksAndRemovesAutomaticOnes) {
  PdfFixture fixture;
  fixture.AddAnnotation(
      fixture.Indirect("<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
                       "/A << /S /URI /URI (https://example.org/guide) >> >>"));
  {
    const Bytes in = fixture.Write();
    const Disarmed d = Disarm(in);
    ASSERT_OK(d.output);
    EXPECT_EQ(*d.output, in);
    const SanitizeFinding* link = FindKind(d, "uri-link");
    ASSERT_NE(link, nullptr);
    EXPECT_FALSE(link->active);
    EXPECT_EQ(link->action, Action::kReported);
    EXPECT_THAT(ActiveKinds(d), ::testing::IsEmpty());
  }
  fixture.root().replaceKey(
      "/OpenAction", QPDFObjectHandle::parse("<< /S /URI /URI (https://tracker.invalid/open) >>"));
  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), ::testing::ElementsAre("uri-action"));
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_EQ(Inspect(*d.output).uri_actions, 1);  // The link's.
  EXPECT_THAT(QdfText(*d.output), Not(HasSubstr("tracker.invalid")));
}

TEST(PdfDisarm, RemovesRemoteGoToActions) {
  PdfFixture fixture;
  fixture.AddAnnotation(fixture.Indirect(
      "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] "
      "/A << /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\x.pdf) /D [0 /Fit] >> >>"));
  fixture.root().replaceKey("/OpenAction",
                            QPDFObjectHandle::parse("<< /S /GoToE /D [0 /Fit] /T << /R /C >> >>"));
  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_EQ(CountKind(d, "remote-goto"), 2);
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_THAT(QdfText(*d.output), Not(HasSubstr("attacker")));
}

TEST(PdfDisarm, RemovesBookmarkActionsAndSurvivesNextLoops) {
  PdfFixture fixture;
  // Bookmark: its action runs a GoTo whose /Next chain loops through a script.
  QPDFObjectHandle go_to = fixture.Indirect("<< /S /GoTo /D [0 /Fit] >>");
  QPDFObjectHandle script = fixture.JavaScriptAction();
  go_to.replaceKey("/Next", script);
  script.replaceKey("/Next", go_to);
  QPDFObjectHandle outlines = fixture.Indirect("<< /Type /Outlines /Count 1 >>");
  QPDFObjectHandle item = fixture.Indirect("<< /Title (Chapter 1) >>");
  item.replaceKey("/Parent", outlines);
  item.replaceKey("/A", go_to);
  outlines.replaceKey("/First", item);
  outlines.replaceKey("/Last", item);
  fixture.root().replaceKey("/Outlines", outlines);
  // A second bookmark whose own action is a script.
  QPDFObjectHandle item2 = fixture.Indirect("<< /Title (Chapter 2) >>");
  item2.replaceKey("/Parent", outlines);
  item2.replaceKey("/A", fixture.JavaScriptAction());
  item.replaceKey("/Next", item2);
  item2.replaceKey("/Prev", item);
  outlines.replaceKey("/Last", item2);

  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), Contains("javascript"));
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_THAT(QdfText(*d.output), HasSubstr("Chapter 2"));

  // A loop of harmless actions is left alone, and does not hang.
  PdfFixture benign;
  QPDFObjectHandle a = benign.Indirect("<< /S /GoTo /D [0 /Fit] >>");
  QPDFObjectHandle b = benign.Indirect("<< /S /GoTo /D [0 /FitH 100] >>");
  a.replaceKey("/Next", b);
  b.replaceKey("/Next", a);
  benign.root().replaceKey("/OpenAction", a);
  const Bytes in = benign.Write();
  const Disarmed clean = Disarm(in);
  ASSERT_OK(clean.output);
  EXPECT_EQ(*clean.output, in);
}

TEST(PdfDisarm, BlocksPdfEncryptedWithAUserPassword) {
  PdfFixture fixture;
  QPDFWriter writer(fixture.pdf());
  writer.setOutputMemory();
  writer.setR6EncryptionParameters("user-secret", "owner-secret", true, true, true, true, true,
                                   true, qpdf_r3p_full, true);
  writer.write();
  std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
  const Bytes in(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());

  const Disarmed d = Disarm(in);
  EXPECT_TRUE(d.blocked);
  const SanitizeFinding* encrypted = FindKind(d, "encrypted");
  ASSERT_NE(encrypted, nullptr);
  EXPECT_EQ(encrypted->action, Action::kBlocked);
}

TEST(PdfDisarm, OpensPdfEncryptedWithAnEmptyUserPassword) {
  PdfFixture fixture;
  fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
  QPDFWriter writer(fixture.pdf());
  writer.setOutputMemory();
  writer.setR6EncryptionParameters("", "owner-secret", true, true, true, true, true, true,
                                   qpdf_r3p_full, true);
  writer.write();
  std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
  const Bytes in(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());

  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_FALSE(d.blocked);
  EXPECT_THAT(ActiveKinds(d), ::testing::ElementsAre("javascript"));
  ExpectDisarmedAndIntact(*d.output);
  QPDF out;
  out.processMemoryFile("out", reinterpret_cast<const char*>(d.output->data()), d.output->size());
  EXPECT_TRUE(out.isEncrypted());  // The owner's restrictions are kept.
}

TEST(PdfDisarm, MalformedInputIsAClearError) {
  PdfFixture fixture;
  const Bytes good = fixture.Write();
  const std::vector<Bytes> bad = {
      {},
      ToBytes("not a pdf at all, just some text that goes on for a while"),
      ToBytes("%PDF-1.7\n%%EOF\n"),
      Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 3)),
  };
  for (const Bytes& in : bad) {
    const Disarmed d = Disarm(in);
    ASSERT_THAT(d.output, StatusIs(StatusCode::kInvalidArgument)) << in.size();
    EXPECT_THAT(d.output.error().message(), HasSubstr("malformed PDF"));
    EXPECT_THAT(d.output.error().message(), Not(HasSubstr("Benign")));
  }
}

// A broken cross-reference table: qpdf rebuilds it, the file is disarmed and written sound.
TEST(PdfDisarm, RepairsBrokenXrefAndStillDisarms) {
  PdfFixture fixture;
  fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
  Bytes in = fixture.Write();
  std::string text = ToString(in);
  const std::size_t at = text.rfind("startxref\n") + 10;
  const std::size_t end = text.find('\n', at);
  text.replace(at, end - at, std::string(end - at, '9'));
  in = ToBytes(text);

  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), ::testing::ElementsAre("javascript"));
  EXPECT_NE(FindKind(d, "repaired"), nullptr);
  ExpectDisarmedAndIntact(*d.output);
}

TEST(PdfDisarm, CyclicPageTreeDoesNotHang) {
  // /Kids of the page tree holds the tree itself, and the page's /Parent points at itself.
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
      "<< /Type /Pages /Kids [4 0 R 2 0 R] /Count 2 /Parent 2 0 R >>",
      ContentStream(),
      "<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>",
      "<< /S /JavaScript /JS (" + std::string(kScript) + ") /Next 5 0 R >>",
  };
  const Disarmed d = Disarm(HandMadePdf(objects));
  if (d.output.has_value()) {
    EXPECT_THAT(ActiveKinds(d), Contains("javascript"));
    EXPECT_FALSE(HasBytes(*d.output, kScriptMarker));
  } else {
    EXPECT_THAT(d.output, StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST(PdfDisarm, DeeplyNestedArraysDoNotCrash) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R /Deep " + deep + " >>",
      "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
      ContentStream(),
      PageObjectWithText(),
  };
  const Disarmed d = Disarm(HandMadePdf(objects));
  (void)d;  // Any outcome but a crash: qpdf caps the nesting and warns.
}

// An action object nothing refers to is still in the bytes, where a reader that rebuilds a
// damaged file could find it: the rewrite drops it.
TEST(PdfDisarm, DropsUnreferencedActiveObjects) {
  PdfFixture fixture;
  (void)fixture.JavaScriptAction();  // Made indirect, referenced by nothing.
  const Bytes in = fixture.Write({.keep_unreferenced = true});
  ASSERT_TRUE(HasBytes(in, kScriptMarker));
  const Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_THAT(ActiveKinds(d), ::testing::ElementsAre("javascript"));
  EXPECT_FALSE(HasBytes(*d.output, kScriptMarker));
  ExpectDisarmedAndIntact(*d.output);
}

// An incremental update that drops /OpenAction leaves the script in the earlier revision's bytes:
// as an object still in the cross-reference table but unreferenced, or, when the update also
// redefines that object, only in bytes qpdf no longer reads (found by name in the raw bytes).
TEST(PdfDisarm, DropsActiveContentLeftInEarlierRevisions) {
  for (const bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "action object redefined" : "action object left unreferenced");
    PdfFixture fixture;
    fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
    const Bytes first = fixture.Write();
    QPDF parsed;
    parsed.processMemoryFile("first", reinterpret_cast<const char*>(first.data()), first.size());
    const int root = parsed.getRoot().getObjGen().getObj();
    const int pages = parsed.getRoot().getKey("/Pages").getObjGen().getObj();
    const int action = parsed.getRoot().getKey("/OpenAction").getObjGen().getObj();
    std::string text = ToString(first);
    const std::size_t prev_at = text.rfind("startxref\n") + 10;
    const std::string prev = text.substr(prev_at, text.find('\n', prev_at) - prev_at);
    auto xref_entry = [](int number, std::size_t offset) {
      const std::string digits = std::to_string(offset);
      return std::to_string(number) + " 1\n" + std::string(10 - digits.size(), '0') + digits +
             " 00000 n \n";
    };
    std::string xref = "xref\n" + xref_entry(root, text.size());
    text += std::to_string(root) + " 0 obj\n<< /Type /Catalog /Pages " + std::to_string(pages) +
            " 0 R >>\nendobj\n";
    if (overwrite) {
      xref += xref_entry(action, text.size());
      text += std::to_string(action) + " 0 obj\nnull\nendobj\n";
    }
    const std::size_t xref_at = text.size();
    text += xref;
    text += "trailer\n<< /Size " + std::to_string(parsed.getObjectCount() + 1);
    text += " /Root " + std::to_string(root) + " 0 R /Prev " + prev;
    text += " >>\nstartxref\n" + std::to_string(xref_at) + "\n%%EOF\n";
    const Bytes in = ToBytes(text);
    ASSERT_TRUE(QpdfCheckPasses(in));

    const Disarmed d = Disarm(in);
    ASSERT_OK(d.output);
    EXPECT_THAT(ActiveKinds(d),
                ::testing::ElementsAre(overwrite ? "unreferenced-active" : "javascript"));
    EXPECT_FALSE(HasBytes(*d.output, kScriptMarker));
    EXPECT_FALSE(HasBytes(*d.output, "/JavaScript"));
    ExpectDisarmedAndIntact(*d.output);
  }
}

TEST(PdfDisarm, ObjectStreamBombHitsTheExpansionLimit) {
  PdfFixture fixture;
  fixture.root().replaceKey("/Big",
                            fixture.Indirect("<< /Filler (" + std::string(1 << 20, 'A') + ") >>"));
  const Bytes in = fixture.Write({.object_streams = true});
  ASSERT_LT(in.size(), 64u << 10);
  SanitizeLimits limits;
  limits.max_expanded_bytes = 256u << 10;
  const Disarmed d = Disarm(in, limits);
  EXPECT_THAT(d.output, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(d.blocked);
  EXPECT_NE(FindKind(d, "limit-exceeded"), nullptr);
}

TEST(PdfDisarm, ReportsThatASignatureIsInvalidated) {
  PdfFixture fixture;
  QPDFObjectHandle field = fixture.Indirect(
      "<< /Type /Annot /Subtype /Widget /FT /Sig /T (sig) /Rect [0 0 0 0] "
      "/V << /Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 10 20 10] /Contents <00> >> >>");
  fixture.AddAnnotation(field);
  QPDFObjectHandle form = fixture.Indirect("<< /Fields [] /SigFlags 3 >>");
  form.getKey("/Fields").appendItem(field);
  fixture.root().replaceKey("/AcroForm", form);
  fixture.root().replaceKey("/Perms",
                            QPDFObjectHandle::parse("<< /UR3 << /Type /Sig /Filter /Adobe.PPKLite "
                                                    "/Contents <00> /Reference [] >> >>"));
  {
    const Bytes in = fixture.Write();
    const Disarmed d = Disarm(in);
    ASSERT_OK(d.output);
    EXPECT_EQ(*d.output, in);  // Nothing to remove: the signature survives.
  }
  fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  const SanitizeFinding* invalidated = FindKind(d, "signature-invalidated");
  ASSERT_NE(invalidated, nullptr);
  EXPECT_FALSE(invalidated->active);
  ExpectDisarmedAndIntact(*d.output);
  QPDF out;
  out.processMemoryFile("out", reinterpret_cast<const char*>(d.output->data()), d.output->size());
  EXPECT_FALSE(out.getRoot().getKey("/Perms").hasKey("/UR3"));
  EXPECT_TRUE(out.getRoot().getKey("/AcroForm").getKey("/Fields").getArrayItem(0).hasKey("/V"));
}

// A page with many scripted links: each is removed, the report lists the first hundred and
// counts the rest.
TEST(PdfDisarm, ManyFindingsAreSummarised) {
  PdfFixture fixture;
  for (int i = 0; i < 150; ++i) {
    fixture.AddAnnotation(fixture.Indirect(
        "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (x.exe) >> >>"));
  }
  const Disarmed d = Disarm(fixture.Write());
  ASSERT_OK(d.output);
  EXPECT_EQ(CountKind(d, "launch-action"), 101);
  EXPECT_THAT(d.findings.back().detail, HasSubstr("50 more"));
  EXPECT_TRUE(d.findings.back().active);
  ExpectDisarmedAndIntact(*d.output);
  EXPECT_EQ(Inspect(*d.output).annotations, 150);
}

// End to end: detection, this disarmer, the verdict and report.
TEST(PdfDisarm, ThroughSanitize) {
  PdfFixture fixture;
  const Bytes clean = fixture.Write();
  fixture.root().replaceKey("/OpenAction", fixture.JavaScriptAction());
  const Bytes active = fixture.Write();

  SanitizeOptions options;
  options.declared_name = "referral.pdf";
  Result<SanitizeOutcome> outcome = Sanitize(clean, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "pdf");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kClean);
  EXPECT_EQ(outcome->output, clean);

  outcome = Sanitize(active, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(outcome->report.output_type, "pdf");
  ASSERT_FALSE(outcome->report.findings.empty());
  EXPECT_EQ(outcome->report.findings[0].kind, "javascript");
  ExpectDisarmedAndIntact(outcome->output);

  options.policy.per_type["pdf"] = SanitizeAction::kBlock;
  outcome = Sanitize(active, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(outcome->output.empty());

  outcome = Sanitize(ToBytes("%PDF-1.7\ngarbage without any structure\n"), SanitizeOptions{});
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
}

}  // namespace
}  // namespace hokan::sanitize_internal
