// OLE2 / compound files (ole2.cc). Real documents come from LibreOffice (made once, cached under
// $HK_TEST_TMPDIR); active content is added to them by rewriting the compound file with libgsf,
// and malformed containers are written byte by byte.
#include <gmock/gmock.h>
#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-input.h>
#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-memory.h>
#include <gsf/gsf-output.h>
#include <gsf/gsf-utils.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/posix_env.h"
#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::sanitize_internal {
namespace {

using ::testing::HasSubstr;
using Action = SanitizeFinding::Action;
using Clsid = std::array<std::uint8_t, 16>;

// ---- Compound files as trees, through libgsf ----

struct Node {
  std::string name;
  bool storage = false;
  Bytes data;
  Clsid clsid{};
  std::vector<Node> children;

  Node* Find(std::string_view child_name) {
    for (Node& child : children) {
      if (child.name == child_name) return &child;
    }
    return nullptr;
  }
  const Node* Find(std::string_view child_name) const {
    return const_cast<Node*>(this)->Find(child_name);
  }
};

Node Stream(std::string name, Bytes data) { return Node{std::move(name), false, std::move(data)}; }
Node Storage(std::string name, std::vector<Node> children) {
  Node node{std::move(name), true};
  node.children = std::move(children);
  return node;
}

void InitGsf() {
  static std::once_flag once;
  std::call_once(once, [] { gsf_init(); });
}

void ReadInto(GsfInfile* dir, Node& node) {
  const int n = gsf_infile_num_children(dir);
  for (int i = 0; i < n; ++i) {
    GsfInput* child = gsf_infile_child_by_index(dir, i);
    ASSERT_NE(child, nullptr);
    Node c;
    c.name = gsf_infile_name_by_index(dir, i);
    c.storage = gsf_infile_num_children(GSF_INFILE(child)) >= 0;
    if (c.storage) {
      gsf_infile_msole_get_class_id(GSF_INFILE_MSOLE(child), c.clsid.data());
      ReadInto(GSF_INFILE(child), c);
    } else {
      c.data.resize(static_cast<std::size_t>(gsf_input_size(child)));
      if (!c.data.empty()) {
        EXPECT_NE(gsf_input_read(child, c.data.size(), c.data.data()), nullptr);
      }
    }
    g_object_unref(child);
    node.children.push_back(std::move(c));
  }
}

// The whole tree with every stream's bytes; nullopt when libgsf cannot read it.
std::optional<Node> ReadCfb(ByteView bytes) {
  InitGsf();
  GsfInput* input = gsf_input_memory_new(bytes.data(), static_cast<gsf_off_t>(bytes.size()), FALSE);
  GsfInfile* ole = gsf_infile_msole_new(input, nullptr);
  g_object_unref(input);
  if (ole == nullptr) return std::nullopt;
  Node root{"", true};
  gsf_infile_msole_get_class_id(GSF_INFILE_MSOLE(ole), root.clsid.data());
  ReadInto(ole, root);
  g_object_unref(ole);
  return root;
}

void WriteInto(GsfOutfile* dir, const Node& node) {
  for (const Node& c : node.children) {
    GsfOutput* out = gsf_outfile_new_child(dir, c.name.c_str(), c.storage);
    if (c.storage) {
      gsf_outfile_msole_set_class_id(GSF_OUTFILE_MSOLE(out), c.clsid.data());
      WriteInto(GSF_OUTFILE(out), c);
    } else if (!c.data.empty()) {
      gsf_output_write(out, c.data.size(), c.data.data());
    }
    gsf_output_close(out);
    g_object_unref(out);
  }
}

Bytes WriteCfb(const Node& root) {
  InitGsf();
  GsfOutput* sink = gsf_output_memory_new();
  GsfOutfile* ole = gsf_outfile_msole_new(sink);
  gsf_outfile_msole_set_class_id(GSF_OUTFILE_MSOLE(ole), root.clsid.data());
  WriteInto(ole, root);
  gsf_output_close(GSF_OUTPUT(ole));
  g_object_unref(ole);
  const guint8* data = gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(sink));
  Bytes out(data, data + gsf_output_size(sink));
  g_object_unref(sink);
  return out;
}

// ---- LibreOffice fixtures ----

std::string TestTmpBase() {
  for (const char* var : {"HK_TEST_TMPDIR", "TMPDIR"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && *value != '\0') return value;
  }
  return "/tmp";
}

bool HaveSoffice() { return std::system("command -v soffice >/dev/null 2>&1") == 0; }

// Converts `source` (a file named `source_name` with `source_text`) to `format` with LibreOffice
// in a fresh profile; empty on failure.
Bytes Convert(std::string_view source_name, ByteView source, std::string_view format) {
  PosixFileSystem fs;
  testing::TempDir tmp;
  const std::string in = tmp.path() + "/" + std::string(source_name);
  {
    auto file = fs.NewWritableFile(in);
    if (!file.has_value() || !(*file)->Append(source).ok() || !(*file)->Close().ok()) return {};
  }
  const std::string command = "soffice -env:UserInstallation=file://" + tmp.path() +
                              "/lo --headless --convert-to " + std::string(format) + " --outdir " +
                              tmp.path() + "/out " + in + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) return {};
  auto listed = fs.ListDir(tmp.path() + "/out");
  if (!listed.has_value() || listed->size() != 1) return {};
  auto out = fs.ReadFile(tmp.path() + "/out/" + (*listed)[0]);
  return out.has_value() ? std::move(out.value()) : Bytes{};
}

// A LibreOffice-made document, cached by name so that reruns do not start LibreOffice again.
// Written to a temporary name and renamed, so parallel test processes never see half a file.
Bytes LibreOfficeFixture(const std::string& name, std::string_view source_name,
                         std::string_view source_text, std::string_view format) {
  PosixFileSystem fs;
  const std::string dir = TestTmpBase() + "/ole2-fixtures";
  const std::string path = dir + "/" + name;
  if (auto cached = fs.ReadFile(path); cached.has_value() && !cached->empty()) {
    return std::move(cached.value());
  }
  EXPECT_TRUE(HaveSoffice())
      << "soffice (LibreOffice) is missing; scripts/install-deps.sh installs it";
  Bytes made = Convert(source_name, AsBytes(source_text), format);
  EXPECT_FALSE(made.empty()) << "LibreOffice could not make " << name;
  if (made.empty()) return made;
  (void)fs.CreateDir(TestTmpBase());
  (void)fs.CreateDir(dir);
  const std::string temp = path + ".tmp." + std::to_string(getpid());
  auto file = fs.NewWritableFile(temp);
  if (file.has_value() && (*file)->Append(made).ok() && (*file)->Close().ok()) {
    (void)fs.Rename(temp, path);
  }
  return made;
}

constexpr std::string_view kBenign = "Benign text 123";

Bytes BenignDoc() {
  return LibreOfficeFixture("benign.doc", "benign.txt", "Benign text 123\n", "doc");
}
Bytes BenignXls() {
  return LibreOfficeFixture("benign.xls", "benign.csv", "Name,Value\nBenign text 123,42\n", "xls");
}
Bytes BenignPpt() {
  return LibreOfficeFixture("benign.ppt", "benign.fodp",
                            R"(<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:body><office:presentation><draw:page draw:name="p1">
<draw:frame svg:x="2cm" svg:y="2cm" svg:width="10cm" svg:height="3cm"><draw:text-box>
<text:p>Benign text 123</text:p></draw:text-box></draw:frame>
</draw:page></office:presentation></office:body></office:document>
)",
                            "ppt");
}

// ---- Active content to add ----

Node VbaStorage(std::string name) {
  return Storage(std::move(name),
                 {Storage("VBA", {Stream("dir", Bytes(300, 0x01)),
                                  Stream("_VBA_PROJECT", Bytes{0xCC, 0x61, 0xFF, 0xFF, 0x00}),
                                  Stream("Module1", ToBytes("Attribute VB_Name = \"Module1\"\n"
                                                            "Sub AutoOpen()\nShell \"calc\"\n"
                                                            "End Sub\n"))}),
                  Stream("PROJECT", ToBytes("ID=\"{00000000-0000-0000-0000-000000000000}\"\r\n")),
                  Stream("PROJECTwm", ToBytes("Module1\0M\0o\0d\0u\0l\0e\0001\0\0\0\0\0"))});
}

// An OLE "Package" object: the file it carries runs when the object is opened.
Node PackageObject(std::string name) {
  Bytes native = ToBytes("\x20\x00\x00\x00\x02\x00run.bat\0C:\\run.bat\0");
  const std::string script = "calc.exe\r\n";
  native.insert(native.end(), script.begin(), script.end());
  return Storage(std::move(name), {Stream("\x01Ole", Bytes(20, 0)),
                                   Stream("\x01"
                                          "CompObj",
                                          Bytes(76, 0x02)),
                                   Stream("\x01Ole10Native", native)});
}

Bytes WithAdded(ByteView original, std::vector<Node> added) {
  std::optional<Node> tree = ReadCfb(original);
  EXPECT_TRUE(tree.has_value());
  if (!tree) return {};
  for (Node& node : added) tree->children.push_back(std::move(node));
  return WriteCfb(*tree);
}

// ---- Running the disarmer ----

struct Disarmed {
  Result<Bytes> output = Bytes{};
  std::vector<SanitizeFinding> findings;
  bool blocked = false;
};

Disarmed Disarm(ByteView in, SanitizeLimits limits = {}) {
  SanitizeOptions options;
  options.limits = limits;
  Context ctx(options);
  const DetectedType type = DetectOle2Type(in).value_or(MakeType("ole2"));
  Disarmed result;
  result.output = DisarmOle2(in, type, ctx);
  result.findings = ctx.findings();
  result.blocked = ctx.blocked();
  return result;
}

const SanitizeFinding* FindingOf(const Disarmed& d, std::string_view kind) {
  for (const SanitizeFinding& f : d.findings) {
    if (f.kind == kind) return &f;
  }
  return nullptr;
}

bool HasEntry(const Node& node, std::string_view name) {
  for (const Node& child : node.children) {
    if (child.name == name || (child.storage && HasEntry(child, name))) return true;
  }
  return false;
}

std::string Dump(const std::vector<SanitizeFinding>& findings) {
  std::string out;
  for (const SanitizeFinding& f : findings) {
    out += f.kind + " at " + f.location + " (" + std::string(FindingActionName(f.action)) +
           "): " + f.detail + "\n";
  }
  return out;
}

// ---- Detection ----

TEST(Ole2DisarmDetect, TypesComeFromStreamsAndTheRootClsid) {
  const Bytes doc = BenignDoc();
  const Bytes xls = BenignXls();
  const Bytes ppt = BenignPpt();
  ASSERT_FALSE(doc.empty());
  ASSERT_FALSE(xls.empty());
  ASSERT_FALSE(ppt.empty());
  EXPECT_EQ(DetectOle2Type(doc)->name, "doc");
  EXPECT_EQ(DetectOle2Type(xls)->name, "xls");
  EXPECT_EQ(DetectOle2Type(ppt)->name, "ppt");
  EXPECT_EQ(DetectType(doc).name, "doc");

  // A Windows Installer database: by its root CLSID, or by its mangled stream names.
  Node msi{"", true};
  msi.clsid = {0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
               0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  msi.children.push_back(Stream("\x05SummaryInformation", Bytes(64, 0)));
  msi.children.push_back(Stream("WordDocument", Bytes(64, 0)));  // A disguise does not help.
  const std::optional<DetectedType> msi_type = DetectOle2Type(WriteCfb(msi));
  ASSERT_TRUE(msi_type.has_value());
  EXPECT_EQ(msi_type->name, "msi");
  EXPECT_TRUE(msi_type->executable);
  Node mangled{"", true};
  mangled.children.push_back(Stream("\xE4\xA1\x80\xE3\xBC\xBF\xE4\x95\xB2", Bytes(16, 1)));
  EXPECT_EQ(DetectOle2Type(WriteCfb(mangled))->name, "msi");

  Node other{"", true};
  other.children.push_back(Stream("Contents", Bytes(100, 7)));
  EXPECT_EQ(DetectOle2Type(WriteCfb(other))->name, "ole2");

  EXPECT_FALSE(DetectOle2Type(AsBytes("not a compound file")).has_value());
  const Bytes half(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(doc.size() / 2));
  EXPECT_FALSE(DetectOle2Type(half).has_value());
}

// ---- Clean documents ----

TEST(Ole2Disarm, CleanDocumentsAreReturnedByteForByte) {
  for (const Bytes& clean : {BenignDoc(), BenignXls(), BenignPpt()}) {
    ASSERT_FALSE(clean.empty());
    const Disarmed d = Disarm(clean);
    ASSERT_OK(d.output);
    EXPECT_TRUE(d.findings.empty()) << Dump(d.findings);
    EXPECT_EQ(*d.output, clean);
  }
}

// ---- Word ----

TEST(Ole2Disarm, DocMacrosAndObjectPoolAreRemovedAndTheTextStays) {
  const Bytes original = BenignDoc();
  ASSERT_FALSE(original.empty());
  const Bytes hostile = WithAdded(
      original, {VbaStorage("Macros"), Storage("ObjectPool", {PackageObject("_1234567890"),
                                                              PackageObject("_1234567891")})});
  ASSERT_EQ(DetectOle2Type(hostile)->name, "doc");

  const Disarmed d = Disarm(hostile);
  ASSERT_OK(d.output);
  EXPECT_FALSE(d.blocked) << Dump(d.findings);
  const SanitizeFinding* vba = FindingOf(d, "vba-project");
  ASSERT_NE(vba, nullptr);
  EXPECT_EQ(vba->location, "Macros");
  EXPECT_EQ(vba->action, Action::kRemoved);
  EXPECT_TRUE(vba->active);
  const SanitizeFinding* object = FindingOf(d, "ole-object");
  ASSERT_NE(object, nullptr);
  EXPECT_EQ(object->location, "ObjectPool/_1234567890");
  EXPECT_EQ(object->action, Action::kRemoved);
  EXPECT_THAT(object->detail, HasSubstr("package"));

  // Re-read with libgsf: the storages are gone, the document's streams are the same bytes.
  const std::optional<Node> before = ReadCfb(original);
  const std::optional<Node> after = ReadCfb(*d.output);
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->Find("Macros"), nullptr);
  EXPECT_EQ(after->Find("ObjectPool"), nullptr);
  EXPECT_FALSE(HasEntry(*after, "\x01Ole10Native"));
  EXPECT_FALSE(HasEntry(*after, "VBA"));
  EXPECT_EQ(after->clsid, before->clsid);
  for (const Node& stream : before->children) {
    const Node* kept = after->Find(stream.name);
    ASSERT_NE(kept, nullptr) << stream.name;
    EXPECT_EQ(kept->data, stream.data) << stream.name;
  }
  ASSERT_NE(after->Find("WordDocument"), nullptr);

  // Detected again, the output is a clean doc.
  EXPECT_EQ(DetectOle2Type(*d.output)->name, "doc");
  const Disarmed again = Disarm(*d.output);
  ASSERT_OK(again.output);
  EXPECT_TRUE(again.findings.empty()) << Dump(again.findings);
  EXPECT_EQ(*again.output, *d.output);
}

// G-6.5-C12: a disarmed Word document still opens in LibreOffice with its text; so does a
// disarmed Excel workbook.
TEST(Ole2Disarm, DisarmedDocumentsOpenInLibreOfficeWithTheirText) {
  ASSERT_TRUE(HaveSoffice()) << "soffice (LibreOffice) is missing; scripts/install-deps.sh "
                                "installs it";
  const Bytes doc =
      WithAdded(BenignDoc(), {VbaStorage("Macros"), Storage("ObjectPool", {PackageObject("_1")})});
  const Disarmed d = Disarm(doc);
  ASSERT_OK(d.output);
  ASSERT_FALSE(d.blocked) << Dump(d.findings);
  ASSERT_NE(*d.output, doc);
  const Bytes text = Convert("disarmed.doc", *d.output, "txt:Text");
  EXPECT_THAT(ToString(text), HasSubstr(std::string(kBenign)));

  const Bytes xls =
      WithAdded(BenignXls(), {VbaStorage("_VBA_PROJECT_CUR"), PackageObject("MBD00000001")});
  const Disarmed x = Disarm(xls);
  ASSERT_OK(x.output);
  ASSERT_FALSE(x.blocked) << Dump(x.findings);
  const Bytes csv = Convert("disarmed.xls", *x.output, "csv");
  EXPECT_THAT(ToString(csv), HasSubstr(std::string(kBenign)));
}

// The Word document with its FIB changed by `patch`.
Bytes DocWithFib(const std::function<void(Bytes&)>& patch) {
  std::optional<Node> tree = ReadCfb(BenignDoc());
  EXPECT_TRUE(tree.has_value());
  if (!tree) return {};
  Node* word = tree->Find("WordDocument");
  EXPECT_NE(word, nullptr);
  if (word == nullptr) return {};
  patch(word->data);
  return WriteCfb(*tree);
}

TEST(Ole2Disarm, EncryptedOrOldWordDocumentsAreRefused) {
  // fEncrypted: bit 8 of the FIB flags at 0x0A.
  const Disarmed encrypted = Disarm(DocWithFib([](Bytes& fib) { fib[0x0B] |= 0x01; }));
  EXPECT_TRUE(encrypted.blocked);
  ASSERT_NE(FindingOf(encrypted, "encrypted"), nullptr);
  EXPECT_EQ(FindingOf(encrypted, "encrypted")->action, Action::kBlocked);

  // Word 6/95 (nFib 0x0065): WordBasic macros would live inside the document stream.
  const Disarmed word6 = Disarm(DocWithFib([](Bytes& fib) {
    fib[2] = 0x65;
    fib[3] = 0x00;
  }));
  EXPECT_TRUE(word6.blocked);
  ASSERT_NE(FindingOf(word6, "unsupported-type"), nullptr);

  // Not a FIB at all.
  EXPECT_THAT(Disarm(DocWithFib([](Bytes& fib) { fib[0] = 0; })).output,
              testing::StatusIs(StatusCode::kInvalidArgument));
}

TEST(Ole2Disarm, ActiveContentWhereItCannotBeRemovedBlocks) {
  // A VBA storage deep inside a doc, and a package stream at its root: Word's own places for
  // them are Macros and ObjectPool, anything else is refused rather than guessed at.
  const Bytes doc = BenignDoc();
  const Disarmed nested = Disarm(WithAdded(doc, {Storage("Custom", {VbaStorage("Stuff")})}));
  EXPECT_TRUE(nested.blocked);
  ASSERT_NE(FindingOf(nested, "vba-project"), nullptr);
  EXPECT_EQ(FindingOf(nested, "vba-project")->location, "Custom/Stuff/VBA");

  const Disarmed package =
      Disarm(WithAdded(doc, {Stream("\x01Ole10Native", ToBytes("payload")), VbaStorage("Macros")}));
  EXPECT_TRUE(package.blocked);
  ASSERT_NE(FindingOf(package, "ole-object"), nullptr);
  EXPECT_EQ(FindingOf(package, "ole-object")->location, "\\x01Ole10Native");
  // The Macros storage would have been removed, but nothing is removed from a refused file.
  ASSERT_NE(FindingOf(package, "vba-project"), nullptr);
  EXPECT_EQ(FindingOf(package, "vba-project")->action, Action::kReported);
}

// ---- Excel ----

TEST(Ole2Disarm, XlsVbaProjectAndEmbeddedObjectsAreRemoved) {
  const Bytes original = BenignXls();
  ASSERT_FALSE(original.empty());
  const Bytes hostile =
      WithAdded(original, {VbaStorage("_VBA_PROJECT_CUR"), PackageObject("MBD0049DB15")});
  const Disarmed d = Disarm(hostile);
  ASSERT_OK(d.output);
  EXPECT_FALSE(d.blocked) << Dump(d.findings);
  ASSERT_NE(FindingOf(d, "vba-project"), nullptr);
  EXPECT_EQ(FindingOf(d, "vba-project")->location, "_VBA_PROJECT_CUR");
  ASSERT_NE(FindingOf(d, "ole-object"), nullptr);
  EXPECT_EQ(FindingOf(d, "ole-object")->location, "MBD0049DB15");

  const std::optional<Node> after = ReadCfb(*d.output);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->Find("_VBA_PROJECT_CUR"), nullptr);
  EXPECT_EQ(after->Find("MBD0049DB15"), nullptr);
  EXPECT_EQ(after->Find("Workbook")->data, ReadCfb(original)->Find("Workbook")->data);
  EXPECT_EQ(DetectOle2Type(*d.output)->name, "xls");
}

// A BIFF8 record: type, length, data.
void Record(Bytes& out, std::uint16_t type, const Bytes& data) {
  out.push_back(static_cast<std::uint8_t>(type));
  out.push_back(static_cast<std::uint8_t>(type >> 8));
  out.push_back(static_cast<std::uint8_t>(data.size()));
  out.push_back(static_cast<std::uint8_t>(data.size() >> 8));
  out.insert(out.end(), data.begin(), data.end());
}

Bytes Bof(std::uint16_t dt) {
  Bytes data(16, 0);
  data[0] = 0x00;
  data[1] = 0x06;  // BIFF8
  data[2] = static_cast<std::uint8_t>(dt);
  data[3] = static_cast<std::uint8_t>(dt >> 8);
  return data;
}

// A minimal BIFF8 workbook stream: globals (BOF, [FILEPASS], BoundSheet8, EOF) and one sheet
// (BOF, EOF). `sheet_dt` goes into BoundSheet8, `bof_dt` into the sheet's BOF.
Bytes Biff8Workbook(std::uint8_t sheet_dt, std::uint16_t bof_dt, bool filepass = false,
                    std::int64_t position_shift = 0) {
  Bytes out;
  Record(out, 0x0809, Bof(0x0005));
  if (filepass) Record(out, 0x002F, Bytes(54, 0x01));
  const Bytes name = ToBytes(std::string_view("\x06\x00Macro1", 8));
  const std::size_t sheet_at = out.size() + 4 + (6 + name.size()) + 4;
  const auto position =
      static_cast<std::uint32_t>(static_cast<std::int64_t>(sheet_at) + position_shift);
  Bytes sheet{static_cast<std::uint8_t>(position),
              static_cast<std::uint8_t>(position >> 8),
              static_cast<std::uint8_t>(position >> 16),
              static_cast<std::uint8_t>(position >> 24),
              0x00,
              sheet_dt};
  sheet.insert(sheet.end(), name.begin(), name.end());
  Record(out, 0x0085, sheet);
  Record(out, 0x000A, {});
  EXPECT_EQ(out.size(), sheet_at);
  Record(out, 0x0809, Bof(bof_dt));
  Record(out, 0x000A, {});
  return out;
}

Bytes XlsWith(Bytes workbook) {
  Node root{"", true};
  root.children.push_back(Stream("Workbook", std::move(workbook)));
  return WriteCfb(root);
}

TEST(Ole2Disarm, XlmMacroSheetIsRefused) {
  const Bytes worksheet = XlsWith(Biff8Workbook(0, 0x0010));
  ASSERT_EQ(DetectOle2Type(worksheet)->name, "xls");
  const Disarmed clean = Disarm(worksheet);
  ASSERT_OK(clean.output);
  EXPECT_TRUE(clean.findings.empty()) << Dump(clean.findings);

  // The sheet list says "macro sheet" (dt = 1).
  const Disarmed listed = Disarm(XlsWith(Biff8Workbook(1, 0x0040)));
  EXPECT_TRUE(listed.blocked);
  const SanitizeFinding* xlm = FindingOf(listed, "xlm-macro-sheet");
  ASSERT_NE(xlm, nullptr);
  EXPECT_EQ(xlm->action, Action::kBlocked);
  EXPECT_TRUE(xlm->active);
  EXPECT_EQ(xlm->location, "Workbook/sheet 1");
  EXPECT_THAT(xlm->detail, Not(HasSubstr("Macro1")));  // Sheet names are content.

  // The sheet list says "worksheet", the sheet's own BOF says "macro sheet".
  const Disarmed hidden = Disarm(XlsWith(Biff8Workbook(0, 0x0040)));
  EXPECT_TRUE(hidden.blocked);
  EXPECT_NE(FindingOf(hidden, "xlm-macro-sheet"), nullptr);
}

TEST(Ole2Disarm, EncryptedOrBrokenWorkbookIsRefused) {
  const Disarmed encrypted = Disarm(XlsWith(Biff8Workbook(0, 0x0010, /*filepass=*/true)));
  EXPECT_TRUE(encrypted.blocked);
  ASSERT_NE(FindingOf(encrypted, "encrypted"), nullptr);

  const Disarmed wrong_position = Disarm(XlsWith(Biff8Workbook(0, 0x0010, false, 1000)));
  EXPECT_THAT(wrong_position.output, testing::StatusIs(StatusCode::kInvalidArgument));

  Bytes no_eof = Biff8Workbook(0, 0x0010);
  no_eof.resize(20);
  EXPECT_THAT(Disarm(XlsWith(no_eof)).output, testing::StatusIs(StatusCode::kInvalidArgument));

  // An encrypted OOXML package inside a compound file.
  Node agile{"", true};
  agile.children.push_back(Stream("EncryptionInfo", Bytes(200, 4)));
  agile.children.push_back(Stream("EncryptedPackage", Bytes(5000, 5)));
  const Disarmed package = Disarm(WriteCfb(agile));
  EXPECT_TRUE(package.blocked);
  EXPECT_NE(FindingOf(package, "encrypted"), nullptr);
}

// ---- PowerPoint ----

Bytes PptWithAppended(const Bytes& records) {
  std::optional<Node> tree = ReadCfb(BenignPpt());
  EXPECT_TRUE(tree.has_value());
  if (!tree) return {};
  Node* stream = tree->Find("PowerPoint Document");
  EXPECT_NE(stream, nullptr);
  if (stream == nullptr) return {};
  stream->data.insert(stream->data.end(), records.begin(), records.end());
  return WriteCfb(*tree);
}

Bytes PptRecord(std::uint16_t ver_instance, std::uint16_t type, const Bytes& data) {
  Bytes out{static_cast<std::uint8_t>(ver_instance), static_cast<std::uint8_t>(ver_instance >> 8),
            static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(type >> 8)};
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(data.size() >> (8 * i)));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(Ole2Disarm, PptWithVbaOrObjectsIsRefused) {
  // An ExOleObjStg record (an embedded object's storage) at the end of the record stream.
  const Disarmed object = Disarm(PptWithAppended(PptRecord(0x0000, 0x1011, Bytes(64, 0xAB))));
  ASSERT_FALSE(object.output.has_value() && !object.blocked) << Dump(object.findings);
  EXPECT_TRUE(object.blocked);
  ASSERT_NE(FindingOf(object, "ole-object"), nullptr);
  EXPECT_EQ(FindingOf(object, "ole-object")->location, "PowerPoint Document");

  // A VBAInfo container with its atom, and the project's storage.
  Bytes vba = PptRecord(0x000F, 0x03FF,
                        PptRecord(0x0002, 0x0400, Bytes{1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0}));
  const Bytes storage = PptRecord(0x0000, 0x1011, Bytes(64, 0xCD));
  vba.insert(vba.end(), storage.begin(), storage.end());
  const Disarmed macro = Disarm(PptWithAppended(vba));
  EXPECT_TRUE(macro.blocked);
  ASSERT_NE(FindingOf(macro, "vba-project"), nullptr);
  EXPECT_EQ(FindingOf(macro, "ole-object"), nullptr) << Dump(macro.findings);

  // A container whose data is too short for the record header it should hold.
  EXPECT_THAT(Disarm(PptWithAppended(PptRecord(0x000F, 0x0FF0, Bytes(4, 0)))).output,
              testing::StatusIs(StatusCode::kInvalidArgument));
}

// ---- Other compound files ----

TEST(Ole2Disarm, ProgramsAndUnknownCompoundFilesAreRefusedThroughSanitize) {
  Node msi{"", true};
  msi.clsid = {0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00,
               0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  msi.children.push_back(Stream("\x05SummaryInformation", Bytes(64, 0)));
  Result<SanitizeOutcome> installer = Sanitize(WriteCfb(msi), SanitizeOptions{});
  ASSERT_OK(installer);
  EXPECT_EQ(installer->report.detected.name, "msi");
  EXPECT_EQ(installer->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_TRUE(installer->output.empty());

  Node other{"", true};
  other.children.push_back(Stream("__substg1.0_37010102", Bytes(5000, 0x4D)));
  Result<SanitizeOutcome> unknown = Sanitize(WriteCfb(other), SanitizeOptions{});
  ASSERT_OK(unknown);
  EXPECT_EQ(unknown->report.detected.name, "ole2");
  EXPECT_EQ(unknown->report.verdict, SanitizeVerdict::kBlocked);
}

TEST(Ole2Disarm, DocWithMacrosIsDisarmedThroughSanitize) {
  const Bytes doc = WithAdded(BenignDoc(), {VbaStorage("Macros")});
  SanitizeOptions options;
  options.declared_name = "letter.doc";
  Result<SanitizeOutcome> outcome = Sanitize(doc, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "doc");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed) << outcome->report.reason;
  EXPECT_EQ(outcome->report.output_type, "doc");
  ASSERT_FALSE(outcome->output.empty());
  EXPECT_EQ(ReadCfb(outcome->output)->Find("Macros"), nullptr);

  options.policy.default_action = SanitizeAction::kBlock;
  Result<SanitizeOutcome> refused = Sanitize(doc, options);
  ASSERT_OK(refused);
  EXPECT_EQ(refused->report.verdict, SanitizeVerdict::kBlocked);
}

// ---- Malformed containers ----

void Put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void Put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A version 3 compound file written byte by byte: sector 0 is the FAT, sector 1 the directory
// (the root and one 4096-byte stream "WordDocument" starting with a Word 97 FIB), sectors 2..9
// the stream. Offsets of the FAT entries are 512 + 4 * sector.
constexpr std::size_t kFat = 512;
constexpr std::size_t kDir = 1024;
constexpr std::size_t FatEntry(std::size_t sector) { return kFat + 4 * sector; }
Bytes TinyCfb() {
  Bytes b(512 + 10 * 512, 0);
  const std::array<std::uint8_t, 8> magic = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
  std::copy(magic.begin(), magic.end(), b.begin());
  Put16(b, 0x18, 0x3E);
  Put16(b, 0x1A, 3);
  Put16(b, 0x1C, 0xFFFE);
  Put16(b, 0x1E, 9);
  Put16(b, 0x20, 6);
  Put32(b, 0x2C, 1);           // FAT sectors
  Put32(b, 0x30, 1);           // first directory sector
  Put32(b, 0x38, 4096);        // mini stream cutoff
  Put32(b, 0x3C, 0xFFFFFFFE);  // no mini FAT
  Put32(b, 0x44, 0xFFFFFFFE);  // no DIFAT sectors
  Put32(b, 0x4C, 0);           // the FAT is sector 0
  for (std::size_t i = 1; i < 109; ++i) Put32(b, 0x4C + 4 * i, 0xFFFFFFFF);
  for (std::size_t i = 0; i < 128; ++i) Put32(b, FatEntry(i), 0xFFFFFFFF);
  Put32(b, FatEntry(0), 0xFFFFFFFD);  // FAT sector
  Put32(b, kFat + 4, 0xFFFFFFFE);     // directory: one sector
  for (std::uint32_t s = 2; s < 9; ++s) Put32(b, FatEntry(s), s + 1);
  Put32(b, FatEntry(9), 0xFFFFFFFE);  // the stream: sectors 2..9
  const auto name = [&](std::size_t entry, std::u16string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) Put16(b, entry + 2 * i, text[i]);
    Put16(b, entry + 0x40, static_cast<std::uint16_t>(2 * (text.size() + 1)));
  };
  for (std::size_t e = 0; e < 4; ++e) {
    const std::size_t at = kDir + 128 * e;
    Put32(b, at + 0x44, 0xFFFFFFFF);
    Put32(b, at + 0x48, 0xFFFFFFFF);
    Put32(b, at + 0x4C, 0xFFFFFFFF);
  }
  name(kDir, u"Root Entry");
  b[kDir + 0x42] = 5;
  Put32(b, kDir + 0x4C, 1);  // child: entry 1
  Put32(b, kDir + 0x74, 0xFFFFFFFE);
  name(kDir + 128, u"WordDocument");
  b[kDir + 128 + 0x42] = 2;
  Put32(b, kDir + 128 + 0x74, 2);
  Put32(b, kDir + 128 + 0x78, 4096);
  const std::size_t data = 512 + 2 * 512;  // sector 2
  Put16(b, data, 0xA5EC);
  Put16(b, data + 2, 0x00C1);
  return b;
}

// Each malformed file must be refused quickly with kInvalidArgument, by detection and disarming.
void ExpectRefusedQuickly(const Bytes& bad, std::string_view what) {
  SCOPED_TRACE(std::string(what));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(DetectOle2Type(bad).has_value());
  const Disarmed d = Disarm(bad);
  EXPECT_THAT(d.output, testing::StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(d.output.error().message(), HasSubstr("compound file"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Ole2DisarmMalformed, TheHandMadeFileIsValid) {
  const Bytes good = TinyCfb();
  ASSERT_EQ(DetectOle2Type(good)->name, "doc");
  const Disarmed d = Disarm(good);
  ASSERT_OK(d.output);
  EXPECT_EQ(*d.output, good);
  ASSERT_TRUE(ReadCfb(good).has_value());
  EXPECT_EQ(ReadCfb(good)->Find("WordDocument")->data.size(), 4096u);
}

TEST(Ole2DisarmMalformed, CyclicChainsAreRefused) {
  Bytes stream_loop = TinyCfb();
  Put32(stream_loop, FatEntry(9), 2);  // The stream's last sector points back at its first.
  ExpectRefusedQuickly(stream_loop, "stream chain loop");

  Bytes self_loop = TinyCfb();
  Put32(self_loop, FatEntry(5), 5);
  ExpectRefusedQuickly(self_loop, "sector pointing at itself");

  Bytes directory_loop = TinyCfb();
  Put32(directory_loop, FatEntry(1), 1);
  ExpectRefusedQuickly(directory_loop, "directory chain loop");

  Bytes tree_loop = TinyCfb();
  Put32(tree_loop, kDir + 128 + 0x48, 1);  // The stream is its own right sibling.
  ExpectRefusedQuickly(tree_loop, "directory tree loop");

  Bytes shared = TinyCfb();
  Put32(shared, kDir + 128 + 0x74, 1);  // The stream starts in the directory's sector.
  ExpectRefusedQuickly(shared, "stream sharing the directory's sector");
}

TEST(Ole2DisarmMalformed, HugeDeclaredSizesAreRefused) {
  Bytes huge_stream = TinyCfb();
  Put32(huge_stream, kDir + 128 + 0x78, 0x7FFFFFFF);
  ExpectRefusedQuickly(huge_stream, "stream size");

  Bytes long_chain_claim = TinyCfb();
  Put32(long_chain_claim, kDir + 128 + 0x78, 5000);  // More than its 8 sectors hold.
  ExpectRefusedQuickly(long_chain_claim, "stream longer than its chain");

  Bytes huge_fat = TinyCfb();
  Put32(huge_fat, 0x2C, 0xFFFFFFFF);
  ExpectRefusedQuickly(huge_fat, "FAT sector count");

  Bytes huge_difat = TinyCfb();
  Put32(huge_difat, 0x48, 0x7FFFFFFF);
  ExpectRefusedQuickly(huge_difat, "DIFAT sector count");

  Bytes sector_size = TinyCfb();
  Put16(sector_size, 0x1E, 30);
  ExpectRefusedQuickly(sector_size, "sector size");
}

TEST(Ole2DisarmMalformed, TruncatedFilesAreRefused) {
  const Bytes good = TinyCfb();
  for (const std::size_t size : {std::size_t{0}, std::size_t{8}, std::size_t{511}, std::size_t{600},
                                 std::size_t{1100}, good.size() - 1}) {
    ExpectRefusedQuickly(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)),
                         "truncated to " + std::to_string(size));
  }
  const Bytes doc = BenignDoc();
  ExpectRefusedQuickly(
      Bytes(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(doc.size() / 2)),
      "LibreOffice doc cut in half");
}

// Damage anywhere in a real document: an answer (any answer) every time, never a crash or hang.
TEST(Ole2DisarmMalformed, CorruptedDocumentsNeverCrash) {
  const Bytes doc = WithAdded(BenignDoc(), {VbaStorage("Macros")});
  ASSERT_FALSE(doc.empty());
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < doc.size(); at += 37) {
    Bytes bad = doc;
    bad[at] ^= 0xFF;
    (void)DetectOle2Type(bad);
    const Disarmed d = Disarm(bad);
    if (d.output.has_value() && !d.blocked) {
      // Whatever comes out is a compound file with no VBA project left.
      const std::optional<Node> tree = ReadCfb(*d.output);
      ASSERT_TRUE(tree.has_value()) << "at " << at;
      EXPECT_FALSE(HasEntry(*tree, "VBA")) << "at " << at;
    }
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(Ole2DisarmLimits, TooManyEntriesIsALimit) {
  Node root{"", true};
  for (int i = 0; i < 40; ++i) root.children.push_back(Stream("s" + std::to_string(i), {1}));
  SanitizeLimits limits;
  limits.max_archive_entries = 16;
  const Disarmed d = Disarm(WriteCfb(root), limits);
  EXPECT_THAT(d.output, testing::StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_NE(FindingOf(d, "limit-exceeded"), nullptr);
  EXPECT_TRUE(d.blocked);
}

}  // namespace
}  // namespace hokan::sanitize_internal
