// Sanitiser (issue 5): MB/s per format on a mixed corpus, with the same files through qpdf and
// unzip alone, measured in the same run, as the floor to compare with.
//
// The corpus is generated here, deterministically (same flags, same bytes), into a scratch
// directory under --dir, and removed at the end (--keep leaves it):
//   pdf   --pdf-pages pages of text (Helvetica, 60 lines a page, Flate-compressed), built with
//         qpdf; every other file also has an /OpenAction JavaScript action, a Launch link
//         annotation and an embedded file in the /EmbeddedFiles name tree.
//   docx  libzip: [Content_Types].xml, _rels/.rels, word/document.xml with --paragraphs
//         paragraphs, word/styles.xml and word/_rels/document.xml.rels.
//   docm  the same, plus word/vbaProject.bin (an OLE2 header and random bytes), its
//         relationship and the macro-enabled content types.
//   xlsx  libzip: a workbook with one sheet of --rows rows x 6 cells (inline strings, numbers).
//   zip   --zip-members text files (--rows / 4 lines each), deflated.
//   csv   --rows rows x 6 columns; every 25th row has a formula cell (=, +, @).
//   png   --image-width x --image-height RGB (a gradient with noise), a tEXt chunk; libpng.
//   jpeg  the same kind of pixels at twice the width and height, quality 90, a COM marker;
//         libjpeg.
//   rtf   --paragraphs paragraphs; every other file has an \object group (\objclass Package,
//         4 KiB of \objdata).
// The text is drawn from a small vocabulary of clinical words and numbers, so it compresses
// like prose (about 3-4x), not like random letters.
//
// Measured, per format, interleaved round by round (--rounds) so that a change in the machine's
// load hits hokan and its floor alike:
//   hokan      hokan::Sanitize() on the bytes in memory, default SanitizeOptions and the file's
//              name as the declared name (as the ingest paths call it). MB/s = input bytes /
//              wall time; verdict and finding counts from the first round; time per file by
//              verdict (a clean file is only inspected, a disarmed one also rewritten). Also
//              hokan::DetectType() alone on the same files, the part of Sanitize() that decides
//              the type (libmagic and hokan's own checks).
//   qpdf-lib   (pdf) QPDF::processMemoryFile + QPDFWriter to memory with the settings hokan's
//              PDF disarmer writes with (object streams preserved, streams compressed, nothing
//              decoded): the least a qpdf-based PDF disarmer can cost.
//   libzip     (docx, docm, xlsx, zip) zip_open_from_source on the bytes and every entry read to
//              the end: what unzipping alone costs.
//   libpng / libjpeg  (png, jpeg) decode every pixel and encode it again with the libraries'
//              defaults (JPEG at quality 92, hokan's): the least a pixel re-encoder costs.
//              (A reference beyond the qpdf/unzip floor.)
// Then, process per file (--cli-rounds rounds; wall and children's CPU time):
//   true       /bin/true, the cost of starting a process at all;
//   qpdf       `qpdf IN OUT` (pdf);
//   unzip      `unzip -p IN > /dev/null` (docx, docm, xlsx, zip);
//   hokan      `hokan sanitize IN --out OUT` (every format; only with --hokan PATH). Its OUT is
//              written with WriteFileAtomically (fsync of the file and its directory); qpdf does
//              not sync.
// Ratios are hokan's time / the floor's time for the same files (= floor MB/s / hokan MB/s).
//
//   sanitize_bench [--dir /tmp/hokan-bench] [--files 30] [--rounds 5] [--cli-rounds 2]
//                  [--formats pdf,docx,docm,xlsx,zip,csv,png,jpeg,rtf] [--hokan PATH]
//                  [--pdf-pages 40] [--paragraphs 3000] [--rows 4000] [--zip-members 12]
//                  [--image-width 640] [--image-height 480] [--keep]
//   (--keep: the corpus stays in DIR/sanitize-bench-corpus/corpus.)
//
// Prints a table per phase and "RESULT key=value ..." lines for the script.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// qpdf 11.3's JSON.hh does not compile as C++20 with clang and libstdc++ (qpdf issue #942, fixed
// in 11.4): QPDFObjectHandle.hh includes it only to declare functions that return a JSON, which
// this file never calls, so a declaration stands in for the header.
#define JSON_HH
class JSON;

#include <jpeglib.h>
#include <png.h>
#include <zip.h>

#include <qpdf/Buffer.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>
#include <qpdf/QUtil.hh>

#include "base/bytes.h"
#include "bench_util.h"
#include "sanitize/sanitize.h"

extern char** environ;

namespace hokan::bench {
namespace {

void PrintPhase(const std::string& name) {
  std::printf("\n-- %s (%s, loadavg %s) --\n", name.c_str(), UtcNow().c_str(),
              LoadAverage().c_str());
  std::fflush(stdout);
}

double Mb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

// Children's CPU time (user + system) so far: every process we spawned and waited for.
double ChildCpuSeconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// --- the corpus ---------------------------------------------------------------------------------

constexpr std::array<const char*, 64> kWords = {
    "patient",   "blood",      "pressure", "mmHg",     "follow",    "up",        "dose",
    "mg",        "daily",      "history",  "reported", "pain",      "left",      "right",
    "chest",     "abdomen",    "normal",   "no",       "signs",     "of",        "infection",
    "the",       "and",        "with",     "was",      "after",     "before",    "admission",
    "discharge", "medication", "allergy",  "none",     "known",     "examined",  "stable",
    "fever",     "cough",      "week",     "month",    "treatment", "continued", "reduced",
    "increased", "renal",      "function", "glucose",  "level",     "insulin",   "scan",
    "showed",    "lesion",     "surgery",  "planned",  "consent",   "obtained",  "family",
    "informed",  "nurse",      "ward",     "clinic",   "review",    "in",        "at",
    "on"};

// A sentence of about `chars` characters: vocabulary words, now and then a number, no
// character that PDF strings, XML, RTF or CSV would need to escape.
std::string Sentence(FastRandom& rng, std::size_t chars) {
  std::string s;
  while (s.size() < chars) {
    if (!s.empty()) s += ' ';
    if (rng.Next() % 8 == 0) {
      s += std::to_string(rng.Next() % 1000);
    } else {
      s += kWords[rng.Next() % kWords.size()];
    }
  }
  s += '.';
  return s;
}

struct Format {
  std::string name;       // Also the extension.
  std::string floor_lib;  // In-process floor, "" for none.
  std::string floor_cli;  // Per-process floor, "" for none.
};

const std::vector<Format>& AllFormats() {
  static const std::vector<Format> kAll = {
      {"pdf", "qpdf-lib", "qpdf"}, {"docx", "libzip", "unzip"}, {"docm", "libzip", "unzip"},
      {"xlsx", "libzip", "unzip"}, {"zip", "libzip", "unzip"},  {"csv", "", ""},
      {"png", "libpng", ""},       {"jpeg", "libjpeg", ""},     {"rtf", "", ""},
  };
  return kAll;
}

struct Sizes {
  std::uint64_t pdf_pages = 40;
  std::uint64_t paragraphs = 3000;
  std::uint64_t rows = 4000;
  std::uint64_t zip_members = 12;
  std::uint64_t image_width = 640;
  std::uint64_t image_height = 480;
};

struct CorpusFile {
  std::string name;  // "f007.pdf"
  std::string path;  // On disk, for the command-line tools.
  Bytes content;
  bool active = false;  // Built with active content (macros, scripts, objects, formulas).
};

// ---- PDF (qpdf) ----

Bytes WritePdf(QPDF& pdf) {
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setStaticID(true);  // Deterministic bytes.
  writer.write();
  std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
  return Bytes(buffer->getBuffer(), buffer->getBuffer() + buffer->getSize());
}

Bytes MakePdf(FastRandom& rng, std::uint64_t pages, bool active) {
  QPDF pdf;
  pdf.emptyPDF();
  QPDFObjectHandle font = pdf.makeIndirectObject(
      QPDFObjectHandle::parse("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"));
  QPDFObjectHandle fonts = QPDFObjectHandle::newDictionary();
  fonts.replaceKey("/F1", font);
  QPDFObjectHandle resources = QPDFObjectHandle::newDictionary();
  resources.replaceKey("/Font", fonts);
  QPDFPageDocumentHelper doc(pdf);
  QPDFObjectHandle first_page;
  for (std::uint64_t p = 0; p < pages; ++p) {
    std::string content = "BT /F1 10 Tf 12 TL 50 760 Td\n";
    for (int line = 0; line < 60; ++line) {
      content += '(';
      content += Sentence(rng, 95);
      content += ") '\n";
    }
    content += "ET\n";
    QPDFObjectHandle page = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Page /MediaBox [0 0 612 792] >>"));
    page.replaceKey("/Contents", pdf.newStream(content));
    page.replaceKey("/Resources", resources);
    doc.addPage(QPDFPageObjectHelper(page), false);
    if (p == 0) first_page = page;
  }
  if (active) {
    QPDFObjectHandle root = pdf.getRoot();
    QPDFObjectHandle js =
        pdf.makeIndirectObject(QPDFObjectHandle::parse("<< /Type /Action /S /JavaScript >>"));
    js.replaceKey("/JS", QPDFObjectHandle::newString("app.alert('hokan-bench');"));
    root.replaceKey("/OpenAction", js);
    QPDFObjectHandle link = pdf.makeIndirectObject(QPDFObjectHandle::parse(
        "<< /Type /Annot /Subtype /Link /Rect [50 40 250 60] /Border [0 0 0]"
        " /A << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >> >>"));
    link.replaceKey("/P", first_page);
    first_page.replaceKey("/Annots", QPDFObjectHandle::newArray({link}));
    std::string attachment;
    for (int line = 0; line < 200; ++line) attachment += Sentence(rng, 80) + "\n";
    QPDFObjectHandle stream = pdf.newStream(attachment);
    stream.getDict().replaceKey("/Type", QPDFObjectHandle::newName("/EmbeddedFile"));
    QPDFObjectHandle spec = pdf.makeIndirectObject(
        QPDFObjectHandle::parse("<< /Type /Filespec /F (notes.txt) /UF (notes.txt) >>"));
    QPDFObjectHandle ef = QPDFObjectHandle::newDictionary();
    ef.replaceKey("/F", stream);
    spec.replaceKey("/EF", ef);
    QPDFObjectHandle tree = QPDFObjectHandle::newDictionary();
    tree.replaceKey("/Names",
                    QPDFObjectHandle::newArray({QPDFObjectHandle::newString("notes.txt"), spec}));
    QPDFObjectHandle names = QPDFObjectHandle::newDictionary();
    names.replaceKey("/EmbeddedFiles", tree);
    root.replaceKey("/Names", names);
  }
  return WritePdf(pdf);
}

// ---- zip-based (libzip) ----

using Entries = std::vector<std::pair<std::string, std::string>>;

Bytes MakeZip(const Entries& entries) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (source == nullptr) Flags::Die("zip_source_buffer_create failed");
  zip_source_keep(source);
  zip_t* zip = zip_open_from_source(source, ZIP_TRUNCATE, &error);
  if (zip == nullptr) Flags::Die("zip_open_from_source failed");
  for (const auto& entry : entries) {
    zip_source_t* data = zip_source_buffer(zip, entry.second.data(), entry.second.size(), 0);
    const zip_int64_t index = zip_file_add(zip, entry.first.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (data == nullptr || index < 0) Flags::Die("zip_file_add failed");
    // A fixed time, so that the same flags give the same bytes.
    zip_file_set_mtime(zip, static_cast<zip_uint64_t>(index), 1'700'000'000, 0);
  }
  if (zip_close(zip) != 0) Flags::Die("zip_close failed");
  zip_stat_t st;
  zip_stat_init(&st);
  zip_source_stat(source, &st);
  Bytes out(st.size);
  if (zip_source_open(source) != 0 ||
      zip_source_read(source, out.data(), out.size()) != static_cast<zip_int64_t>(out.size())) {
    Flags::Die("cannot read the zip back");
  }
  zip_source_close(source);
  zip_source_free(source);
  return out;
}

constexpr char kXmlDecl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
constexpr char kRelsNs[] = "http://schemas.openxmlformats.org/package/2006/relationships";
constexpr char kOfficeDocRel[] =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";

std::string Rels(const std::vector<std::array<std::string, 3>>& rels) {
  std::string s = std::string(kXmlDecl) + "<Relationships xmlns=\"" + kRelsNs + "\">";
  for (const auto& r : rels) {
    s += "<Relationship Id=\"" + r[0] + "\" Type=\"" + r[1] + "\" Target=\"" + r[2] + "\"/>";
  }
  return s + "</Relationships>";
}

std::string ContentTypes(const std::vector<std::string>& defaults_and_overrides) {
  std::string s = std::string(kXmlDecl) +
                  "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                  "<Default Extension=\"rels\" "
                  "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
                  "<Default Extension=\"xml\" ContentType=\"application/xml\"/>";
  for (const std::string& item : defaults_and_overrides) s += item;
  return s + "</Types>";
}

std::string Override(const std::string& part, const std::string& type) {
  return "<Override PartName=\"" + part + "\" ContentType=\"" + type + "\"/>";
}

// An OLE2 compound file header followed by random bytes: what a vbaProject.bin looks like to
// anything that does not parse it (the disarmer removes the part; it need not be valid).
std::string FakeVbaProject(FastRandom& rng) {
  std::vector<std::uint8_t> body(std::size_t{16} << 10);
  rng.Fill(body);
  std::string s = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
  s.append(body.begin(), body.end());
  return s;
}

Bytes MakeDocx(FastRandom& rng, std::uint64_t paragraphs, bool macro) {
  constexpr char kW[] = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
  const std::string main_type =
      macro ? "application/vnd.ms-word.document.macroEnabled.main+xml"
            : "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
  std::vector<std::string> types = {
      Override("/word/document.xml", main_type),
      Override("/word/styles.xml",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml")};
  std::vector<std::array<std::string, 3>> doc_rels = {
      {"rId1", "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles",
       "styles.xml"}};
  if (macro) {
    types.push_back(
        "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>");
    doc_rels.push_back({"rId2", "http://schemas.microsoft.com/office/2006/relationships/vbaProject",
                        "vbaProject.bin"});
  }
  std::string body = std::string(kXmlDecl) + "<w:document xmlns:w=\"" + kW + "\"><w:body>";
  for (std::uint64_t i = 0; i < paragraphs; ++i) {
    if (i % 40 == 0) {
      body += "<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>Section " +
              std::to_string(i / 40 + 1) + "</w:t></w:r></w:p>";
    }
    body += "<w:p><w:r><w:t xml:space=\"preserve\">" + Sentence(rng, 110) + "</w:t></w:r></w:p>";
  }
  body += "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>";
  const std::string styles =
      std::string(kXmlDecl) + "<w:styles xmlns:w=\"" + kW +
      "\"><w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name "
      "w:val=\"Normal\"/></w:style><w:style w:type=\"paragraph\" w:styleId=\"Heading1\"><w:name "
      "w:val=\"heading 1\"/><w:rPr><w:b/></w:rPr></w:style></w:styles>";
  Entries entries = {
      {"[Content_Types].xml", ContentTypes(types)},
      {"_rels/.rels", Rels({{"rId1", kOfficeDocRel, "word/document.xml"}})},
      {"word/document.xml", body},
      {"word/styles.xml", styles},
      {"word/_rels/document.xml.rels", Rels(doc_rels)},
  };
  if (macro) entries.emplace_back("word/vbaProject.bin", FakeVbaProject(rng));
  return MakeZip(entries);
}

std::string CellRef(int column, std::uint64_t row) {
  return std::string(1, static_cast<char>('A' + column)) + std::to_string(row);
}

Bytes MakeXlsx(FastRandom& rng, std::uint64_t rows) {
  constexpr char kS[] = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
  constexpr char kR[] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  std::string sheet =
      std::string(kXmlDecl) + "<worksheet xmlns=\"" + kS + "\" xmlns:r=\"" + kR + "\"><sheetData>";
  for (std::uint64_t r = 1; r <= rows; ++r) {
    sheet += "<row r=\"" + std::to_string(r) + "\">";
    for (int c = 0; c < 6; ++c) {
      if (c % 2 == 0) {
        sheet += "<c r=\"" + CellRef(c, r) + "\" t=\"inlineStr\"><is><t>" + Sentence(rng, 14) +
                 "</t></is></c>";
      } else {
        sheet += "<c r=\"" + CellRef(c, r) + "\"><v>" + std::to_string(rng.Next() % 100000) + "." +
                 std::to_string(rng.Next() % 100) + "</v></c>";
      }
    }
    sheet += "</row>";
  }
  sheet += "</sheetData></worksheet>";
  const std::string workbook = std::string(kXmlDecl) + "<workbook xmlns=\"" + kS + "\" xmlns:r=\"" +
                               kR +
                               "\"><sheets><sheet name=\"Results\" sheetId=\"1\" r:id=\"rId1\"/>"
                               "</sheets></workbook>";
  const Entries entries = {
      {"[Content_Types].xml",
       ContentTypes(
           {Override("/xl/workbook.xml",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
            Override(
                "/xl/worksheets/sheet1.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml")})},
      {"_rels/.rels", Rels({{"rId1", kOfficeDocRel, "xl/workbook.xml"}})},
      {"xl/workbook.xml", workbook},
      {"xl/_rels/workbook.xml.rels",
       Rels({{"rId1",
              "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet",
              "worksheets/sheet1.xml"}})},
      {"xl/worksheets/sheet1.xml", sheet},
  };
  return MakeZip(entries);
}

Bytes MakeTextZip(FastRandom& rng, std::uint64_t members, std::uint64_t lines) {
  Entries entries;
  for (std::uint64_t m = 0; m < members; ++m) {
    std::string text;
    for (std::uint64_t l = 0; l < lines; ++l) text += Sentence(rng, 70) + "\n";
    entries.emplace_back("notes/note" + std::to_string(m) + ".txt", std::move(text));
  }
  return MakeZip(entries);
}

// ---- CSV and RTF ----

Bytes MakeCsv(FastRandom& rng, std::uint64_t rows) {
  static constexpr std::array<const char*, 4> kFormulas = {"=SUM(D2:D9)", "+1+41", "@SUM(D2)",
                                                           "=HYPERLINK(D2)"};
  std::string s = "patient_id,date,code,value,unit,comment\r\n";
  for (std::uint64_t r = 0; r < rows; ++r) {
    s += "P" + std::to_string(100000 + rng.Next() % 900000) + ",2026-" +
         std::to_string(10 + rng.Next() % 3) + "-" + std::to_string(10 + rng.Next() % 18) + ",C" +
         std::to_string(rng.Next() % 1000) + "," + std::to_string(rng.Next() % 1000) + ".5,mg,";
    s += (r % 25 == 7) ? kFormulas[(r / 25) % kFormulas.size()] : Sentence(rng, 30);
    s += "\r\n";
  }
  return ToBytes(s);
}

std::string Hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2 + bytes.size() / 32);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    s += kDigits[bytes[i] >> 4];
    s += kDigits[bytes[i] & 15];
    if (i % 32 == 31) s += '\n';
  }
  return s;
}

Bytes MakeRtf(FastRandom& rng, std::uint64_t paragraphs, bool active) {
  std::string s =
      "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}"
      "{\\f1\\fswiss Arial;}}\n{\\colortbl;\\red0\\green0\\blue0;}\n";
  for (std::uint64_t i = 0; i < paragraphs; ++i) {
    if (i % 40 == 0)
      s += "\\pard\\plain\\f1\\fs28\\b Section " + std::to_string(i / 40 + 1) + "\\par\n";
    s += "\\pard\\plain\\f0\\fs22 " + Sentence(rng, 110) + "\\par\n";
    if (active && i == paragraphs / 2) {
      std::vector<std::uint8_t> payload(4096);
      rng.Fill(payload);
      s += "{\\object\\objemb\\objw2000\\objh1000{\\*\\objclass Package}{\\*\\objdata "
           "0105000002000000080000005061636b616765000000000000000000" +
           Hex(payload) + "}{\\result {\\pard attachment\\par}}}\n";
    }
  }
  return ToBytes(s + "}\n");
}

// ---- images (libpng, libjpeg) ----

[[noreturn]] void PngError(png_structp /*png*/, png_const_charp message) {
  Flags::Die(std::string("libpng: ") + message);
}
void PngWarning(png_structp /*png*/, png_const_charp /*message*/) {}
void PngWriteToBytes(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + size);
}
void PngFlush(png_structp /*png*/) {}

struct PngReadSource {
  ByteView bytes;
  std::size_t at = 0;
};
void PngReadFromBytes(png_structp png, png_bytep data, png_size_t size) {
  auto* src = static_cast<PngReadSource*>(png_get_io_ptr(png));
  if (src->bytes.size() - src->at < size) png_error(png, "truncated");
  std::memcpy(data, src->bytes.data() + src->at, size);
  src->at += size;
}

// RGB pixels, row after row: a diagonal gradient with some noise (photographs and scans are
// neither flat nor random).
std::vector<std::uint8_t> Pixels(FastRandom& rng, std::uint64_t w, std::uint64_t h) {
  std::vector<std::uint8_t> px(w * h * 3);
  for (std::uint64_t y = 0; y < h; ++y) {
    for (std::uint64_t x = 0; x < w; ++x) {
      const std::uint64_t r = rng.Next();
      std::uint8_t* p = &px[(y * w + x) * 3];
      p[0] = static_cast<std::uint8_t>((x * 255 / w + (r & 15)) & 0xFF);
      p[1] = static_cast<std::uint8_t>((y * 255 / h + ((r >> 8) & 15)) & 0xFF);
      p[2] = static_cast<std::uint8_t>(((x + y) * 127 / (w + h) + 64 + ((r >> 16) & 7)) & 0xFF);
    }
  }
  return px;
}

Bytes EncodePng(const std::vector<std::uint8_t>& px, std::uint64_t w, std::uint64_t h,
                bool with_text) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, PngError, PngWarning);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, PngWriteToBytes, PngFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::array<char, 8> key = {"Comment"};
  std::array<char, 48> text = {"scanned at ward 3 by device 0042, operator 17"};
  png_text entry{};
  entry.compression = PNG_TEXT_COMPRESSION_NONE;
  entry.key = key.data();
  entry.text = text.data();
  if (with_text) png_set_text(png, info, &entry, 1);
  png_write_info(png, info);
  for (std::uint64_t y = 0; y < h; ++y) {
    png_write_row(png, px.data() + y * w * 3);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

// The floor for PNG: every pixel decoded and encoded again, libpng's defaults.
std::size_t RecodePng(ByteView in) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, PngError, PngWarning);
  png_infop info = png_create_info_struct(png);
  PngReadSource src{in, 0};
  png_set_read_fn(png, &src, PngReadFromBytes);
  png_read_info(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  png_read_update_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info);
  const png_uint_32 h = png_get_image_height(png, info);
  const int color = png_get_color_type(png, info);
  const std::size_t row_bytes = png_get_rowbytes(png, info);
  std::vector<std::uint8_t> px(row_bytes * h);
  std::vector<png_bytep> rows(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = px.data() + y * row_bytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);

  Bytes out;
  png_structp wpng = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, PngError, PngWarning);
  png_infop winfo = png_create_info_struct(wpng);
  png_set_write_fn(wpng, &out, PngWriteToBytes, PngFlush);
  png_set_IHDR(wpng, winfo, w, h, 8, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(wpng, winfo);
  png_write_image(wpng, rows.data());
  png_write_end(wpng, nullptr);
  png_destroy_write_struct(&wpng, &winfo);
  return out.size();
}

[[noreturn]] void JpegError(j_common_ptr cinfo) {
  std::array<char, JMSG_LENGTH_MAX> message{};
  (*cinfo->err->format_message)(cinfo, message.data());
  Flags::Die(std::string("libjpeg: ") + message.data());
}

Bytes EncodeJpeg(const std::uint8_t* px, std::uint64_t w, std::uint64_t h, int quality,
                 bool with_comment) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = JpegError;
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;  // jpeg_mem_dest's type.
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(w);
  cinfo.image_height = static_cast<JDIMENSION>(h);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  if (with_comment) {
    static constexpr char kComment[] = "scanned at ward 3 by device 0042, operator 17";
    jpeg_write_marker(&cinfo, JPEG_COM, reinterpret_cast<const JOCTET*>(kComment),
                      sizeof kComment - 1);
  }
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(px + static_cast<std::size_t>(cinfo.next_scanline) * w * 3);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  std::free(buffer);  // jpeg_mem_dest's buffer.
  return out;
}

// The floor for JPEG: every pixel decoded (RGB) and encoded again at quality 92, as hokan does.
std::size_t RecodeJpeg(ByteView in) {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = JpegError;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, in.data(), static_cast<unsigned long>(in.size()));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const std::uint64_t w = cinfo.output_width;
  const std::uint64_t h = cinfo.output_height;
  std::vector<std::uint8_t> px(w * h * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = px.data() + static_cast<std::size_t>(cinfo.output_scanline) * w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return EncodeJpeg(px.data(), w, h, 92, false).size();
}

// ---- the whole corpus ----

Bytes MakeFile(const std::string& format, std::uint64_t index, const Sizes& sizes, bool active) {
  std::uint64_t seed = 1000 * (index + 1);
  for (const char c : format) seed = seed * 31 + static_cast<unsigned char>(c);
  FastRandom rng(seed);
  if (format == "pdf") return MakePdf(rng, sizes.pdf_pages, active);
  if (format == "docx") return MakeDocx(rng, sizes.paragraphs, false);
  if (format == "docm") return MakeDocx(rng, sizes.paragraphs, true);
  if (format == "xlsx") return MakeXlsx(rng, sizes.rows);
  if (format == "zip") return MakeTextZip(rng, sizes.zip_members, sizes.rows / 4);
  if (format == "csv") return MakeCsv(rng, sizes.rows);
  if (format == "rtf") return MakeRtf(rng, sizes.paragraphs, active);
  if (format == "png") {
    return EncodePng(Pixels(rng, sizes.image_width, sizes.image_height), sizes.image_width,
                     sizes.image_height, true);
  }
  if (format == "jpeg") {
    const std::uint64_t w = sizes.image_width * 2;
    const std::uint64_t h = sizes.image_height * 2;
    return EncodeJpeg(Pixels(rng, w, h).data(), w, h, 90, true);
  }
  Flags::Die("unknown format " + format);
}

// Which files of a format carry active content by construction.
bool BuiltActive(const std::string& format, std::uint64_t index) {
  if (format == "docm" || format == "csv") return true;
  if (format == "pdf" || format == "rtf") return index % 2 == 0;
  return false;
}

void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) Flags::Die("cannot write " + path);
}

using Corpus = std::map<std::string, std::vector<CorpusFile>>;  // By format.

Corpus MakeCorpus(const std::vector<Format>& formats, std::uint64_t files, const Sizes& sizes,
                  const std::string& dir) {
  PrintPhase("corpus: generated, deterministic");
  Corpus corpus;
  std::printf("%-6s %6s %10s %10s %10s %8s  %s\n", "format", "files", "MB", "KB min", "KB max",
              "active", "seconds to make");
  std::uint64_t total = 0;
  std::uint64_t total_files = 0;
  for (const Format& f : formats) {
    const auto t0 = Clock::now();
    std::vector<CorpusFile>& list = corpus[f.name];
    std::uint64_t bytes = 0;
    std::uint64_t active = 0;
    std::size_t smallest = std::numeric_limits<std::size_t>::max();
    std::size_t largest = 0;
    for (std::uint64_t i = 0; i < files; ++i) {
      CorpusFile file;
      char name[32];
      std::snprintf(name, sizeof name, "f%03llu.%s", static_cast<unsigned long long>(i),
                    f.name.c_str());
      file.name = name;
      file.path = dir + "/" + file.name;
      file.active = BuiltActive(f.name, i);
      file.content = MakeFile(f.name, i, sizes, file.active);
      WriteFile(file.path, file.content);
      bytes += file.content.size();
      active += file.active ? 1 : 0;
      smallest = std::min(smallest, file.content.size());
      largest = std::max(largest, file.content.size());
      list.push_back(std::move(file));
    }
    total += bytes;
    total_files += files;
    std::printf("%-6s %6llu %10.2f %10.1f %10.1f %8llu  %.2f\n", f.name.c_str(),
                static_cast<unsigned long long>(files), Mb(bytes),
                static_cast<double>(smallest) / 1e3, static_cast<double>(largest) / 1e3,
                static_cast<unsigned long long>(active), SecondsSince(t0));
    std::printf("RESULT phase=corpus format=%s files=%llu bytes=%llu active=%llu\n", f.name.c_str(),
                static_cast<unsigned long long>(files), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(active));
  }
  std::printf("%-6s %6llu %10.2f\n", "all", static_cast<unsigned long long>(total_files),
              Mb(total));
  std::printf("RESULT phase=corpus format=all files=%llu bytes=%llu\n",
              static_cast<unsigned long long>(total_files), static_cast<unsigned long long>(total));
  std::fflush(stdout);
  return corpus;
}

// --- in process ---------------------------------------------------------------------------------

std::uint64_t TotalBytes(const std::vector<CorpusFile>& files) {
  std::uint64_t n = 0;
  for (const CorpusFile& f : files) n += f.content.size();
  return n;
}

// The least a qpdf-based PDF disarmer can cost: parse, then write with hokan's settings.
std::size_t QpdfRewrite(const CorpusFile& file) {
  try {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.processMemoryFile(file.name.c_str(), reinterpret_cast<const char*>(file.content.data()),
                          file.content.size());
    QPDFWriter writer(pdf);
    writer.setOutputMemory();
    writer.setObjectStreamMode(qpdf_o_preserve);
    writer.setCompressStreams(true);
    writer.setDecodeLevel(qpdf_dl_none);
    writer.write();
    return writer.getBufferSharedPointer()->getSize();
  } catch (const std::exception& e) {
    Flags::Die(file.name + ": qpdf: " + e.what());
  }
}

// Unzipping alone: every entry read to its end.
std::size_t LibzipReadAll(const CorpusFile& file, std::vector<char>& buffer) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source =
      zip_source_buffer_create(file.content.data(), file.content.size(), 0, &error);
  zip_t* zip = source == nullptr ? nullptr : zip_open_from_source(source, ZIP_RDONLY, &error);
  if (zip == nullptr) Flags::Die(file.name + ": libzip cannot open it");
  std::size_t total = 0;
  const zip_int64_t n = zip_get_num_entries(zip, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_file_t* entry = zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0);
    if (entry == nullptr) Flags::Die(file.name + ": libzip cannot open an entry");
    zip_int64_t got = 0;
    while ((got = zip_fread(entry, buffer.data(), buffer.size())) > 0) {
      total += static_cast<std::size_t>(got);
    }
    if (got < 0) Flags::Die(file.name + ": libzip cannot read an entry");
    zip_fclose(entry);
  }
  zip_discard(zip);
  return total;
}

std::size_t RunFloor(const std::string& floor, const CorpusFile& file, std::vector<char>& buffer) {
  if (floor == "qpdf-lib") return QpdfRewrite(file);
  if (floor == "libzip") return LibzipReadAll(file, buffer);
  if (floor == "libpng") return RecodePng(file.content);
  if (floor == "libjpeg") return RecodeJpeg(file.content);
  Flags::Die("unknown floor " + floor);
}

struct Pass {
  std::vector<double> rounds;  // Wall seconds per round.
  double cpu = 0;              // Process (or children's) CPU seconds, all rounds.
  double wall() const {
    double s = 0;
    for (const double r : rounds) s += r;
    return s;
  }
  double best() const {
    return rounds.empty() ? 0 : *std::min_element(rounds.begin(), rounds.end());
  }
};

struct FormatRun {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;  // One round.
  Pass hokan;
  Pass floor;
  Pass detect;  // DetectType() alone.
  std::uint64_t clean = 0, disarmed = 0, blocked = 0, held = 0;
  // Sanitize() time per file by its verdict, all rounds: verdict name -> (seconds, calls).
  std::map<std::string, std::pair<double, std::uint64_t>> by_verdict;
  std::uint64_t output_bytes = 0;
  std::map<std::string, std::uint64_t> kinds;  // Finding kind (action) -> count.
  std::string first_block_reason;

  double MbPerS(const Pass& p) const {
    return p.wall() > 0 ? Mb(bytes) * static_cast<double>(p.rounds.size()) / p.wall() : 0;
  }
  double BestMbPerS(const Pass& p) const { return p.best() > 0 ? Mb(bytes) / p.best() : 0; }
  double MsPerFile(const Pass& p) const {
    const double n = static_cast<double>(files * p.rounds.size());
    return n > 0 ? 1000.0 * p.wall() / n : 0;
  }
  double CpuMsPerFile(const Pass& p) const {
    const double n = static_cast<double>(files * p.rounds.size());
    return n > 0 ? 1000.0 * p.cpu / n : 0;
  }
};

void Tally(const SanitizeOutcome& outcome, FormatRun& run) {
  const SanitizeReport& r = outcome.report;
  switch (r.verdict) {
    case SanitizeVerdict::kClean:
      ++run.clean;
      break;
    case SanitizeVerdict::kDisarmed:
      ++run.disarmed;
      break;
    case SanitizeVerdict::kBlocked:
      ++run.blocked;
      if (run.first_block_reason.empty()) run.first_block_reason = r.reason;
      break;
    case SanitizeVerdict::kHeld:
      ++run.held;
      break;
  }
  run.output_bytes += outcome.output.size();
  for (const SanitizeFinding& f : r.findings) {
    ++run.kinds[f.kind + "(" + std::string(FindingActionName(f.action)) + ")"];
  }
}

double VerdictMs(const FormatRun& run, const std::string& verdict) {
  const auto it = run.by_verdict.find(verdict);
  if (it == run.by_verdict.end() || it->second.second == 0) return 0;
  return 1000.0 * it->second.first / static_cast<double>(it->second.second);
}

std::string Ratio(double hokan_seconds, double floor_seconds) {
  if (hokan_seconds <= 0 || floor_seconds <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", hokan_seconds / floor_seconds);
  return buf;
}

std::string Fixed(double value, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::map<std::string, FormatRun> InProcess(const std::vector<Format>& formats, const Corpus& corpus,
                                           std::uint64_t rounds) {
  std::map<std::string, FormatRun> runs;
  std::vector<char> buffer(1 << 16);
  for (const Format& f : formats) {
    PrintPhase("in process: " + f.name + ", hokan::Sanitize()" +
               (f.floor_lib.empty() ? std::string() : " and " + f.floor_lib) + ", " +
               std::to_string(rounds) + " rounds, interleaved");
    const std::vector<CorpusFile>& files = corpus.at(f.name);
    FormatRun& run = runs[f.name];
    run.files = files.size();
    run.bytes = TotalBytes(files);
    {  // Warm-up, untimed: libmagic's database, the allocator, the page cache.
      SanitizeOptions options;
      options.declared_name = files.front().name;
      Take(Sanitize(files.front().content, options), "Sanitize");
      if (!f.floor_lib.empty()) RunFloor(f.floor_lib, files.front(), buffer);
    }
    for (std::uint64_t r = 0; r < rounds; ++r) {
      double cpu0 = CpuSeconds();
      auto t0 = Clock::now();
      for (const CorpusFile& file : files) {
        const auto f0 = Clock::now();
        SanitizeOptions options;
        options.declared_name = file.name;
        SanitizeOutcome outcome = Take(Sanitize(file.content, options), "Sanitize " + file.name);
        auto& v = run.by_verdict[std::string(SanitizeVerdictName(outcome.report.verdict))];
        v.first += SecondsSince(f0);
        ++v.second;
        if (r == 0) Tally(outcome, run);
      }
      run.hokan.rounds.push_back(SecondsSince(t0));
      run.hokan.cpu += CpuSeconds() - cpu0;

      cpu0 = CpuSeconds();
      t0 = Clock::now();
      std::size_t types = 0;
      for (const CorpusFile& file : files) types += DetectType(file.content, file.name).name.size();
      run.detect.rounds.push_back(SecondsSince(t0));
      run.detect.cpu += CpuSeconds() - cpu0;
      if (types == 0) Flags::Die("DetectType named no type");
      if (f.floor_lib.empty()) continue;
      cpu0 = CpuSeconds();
      t0 = Clock::now();
      std::size_t sink = 0;
      for (const CorpusFile& file : files) sink += RunFloor(f.floor_lib, file, buffer);
      run.floor.rounds.push_back(SecondsSince(t0));
      run.floor.cpu += CpuSeconds() - cpu0;
      if (sink == 0) Flags::Die(f.floor_lib + " produced nothing");
    }
    std::printf("%-22s %9s %9s %9s %9s %9s\n", "", "MB/s", "best MB/s", "files/s", "ms/file",
                "CPU ms");
    auto row = [&](const std::string& what, const Pass& p) {
      std::printf("%-22s %9.1f %9.1f %9.1f %9.3f %9.3f\n", what.c_str(), run.MbPerS(p),
                  run.BestMbPerS(p), 1000.0 / run.MsPerFile(p), run.MsPerFile(p),
                  run.CpuMsPerFile(p));
    };
    row("hokan Sanitize()", run.hokan);
    row("  of which DetectType()", run.detect);
    std::string verdict_ms;
    for (const auto& kv : run.by_verdict) {
      if (!verdict_ms.empty()) verdict_ms += ", ";
      verdict_ms += kv.first;
      verdict_ms += ' ';
      verdict_ms +=
          Fixed(1000.0 * kv.second.first / static_cast<double>(kv.second.second), 2) + " ms";
    }
    std::printf("Sanitize() per file by verdict: %s\n", verdict_ms.c_str());
    if (!f.floor_lib.empty()) {
      row(f.floor_lib + " (floor)", run.floor);
      std::printf("hokan / %s: %s the time (best rounds: %s)\n", f.floor_lib.c_str(),
                  Ratio(run.hokan.wall(), run.floor.wall()).c_str(),
                  Ratio(run.hokan.best(), run.floor.best()).c_str());
    }
    std::printf(
        "verdicts (round 1): clean %llu, disarmed %llu, blocked %llu, held %llu; "
        "output %.2f MB of %.2f MB in\n",
        static_cast<unsigned long long>(run.clean), static_cast<unsigned long long>(run.disarmed),
        static_cast<unsigned long long>(run.blocked), static_cast<unsigned long long>(run.held),
        Mb(run.output_bytes), Mb(run.bytes));
    if (!run.first_block_reason.empty()) {
      std::printf("first block reason: %s\n", run.first_block_reason.c_str());
    }
    std::string kinds;
    for (const auto& kv : run.kinds) {
      if (!kinds.empty()) kinds += ", ";
      kinds += kv.first;
      kinds += " x";
      kinds += std::to_string(kv.second);
    }
    std::printf("findings (round 1): %s\n", kinds.empty() ? "none" : kinds.c_str());
    std::printf(
        "RESULT phase=inproc format=%s files=%llu mb=%.3f rounds=%llu mb_per_s=%.2f "
        "best_mb_per_s=%.2f files_per_s=%.1f ms_per_file=%.3f cpu_ms_per_file=%.3f clean=%llu "
        "disarmed=%llu blocked=%llu held=%llu out_mb=%.3f floor=%s floor_mb_per_s=%.2f "
        "floor_best_mb_per_s=%.2f floor_ms_per_file=%.3f ratio=%.3f best_ratio=%.3f "
        "detect_ms_per_file=%.3f clean_ms=%.3f disarmed_ms=%.3f\n",
        f.name.c_str(), static_cast<unsigned long long>(run.files), Mb(run.bytes),
        static_cast<unsigned long long>(rounds), run.MbPerS(run.hokan), run.BestMbPerS(run.hokan),
        1000.0 / run.MsPerFile(run.hokan), run.MsPerFile(run.hokan), run.CpuMsPerFile(run.hokan),
        static_cast<unsigned long long>(run.clean), static_cast<unsigned long long>(run.disarmed),
        static_cast<unsigned long long>(run.blocked), static_cast<unsigned long long>(run.held),
        Mb(run.output_bytes), f.floor_lib.empty() ? "none" : f.floor_lib.c_str(),
        run.MbPerS(run.floor), run.BestMbPerS(run.floor), run.MsPerFile(run.floor),
        run.floor.wall() > 0 ? run.hokan.wall() / run.floor.wall() : 0,
        run.floor.best() > 0 ? run.hokan.best() / run.floor.best() : 0, run.MsPerFile(run.detect),
        VerdictMs(run, "clean"), VerdictMs(run, "disarmed"));
    std::fflush(stdout);
  }
  return runs;
}

void InProcessSummary(const std::vector<Format>& formats,
                      const std::map<std::string, FormatRun>& runs) {
  PrintPhase("in process: summary (mixed corpus)");
  std::printf("%-6s %6s %8s | %9s %9s %8s %8s | %-9s %9s %8s %9s | %s\n", "format", "files", "MB",
              "MB/s", "best", "files/s", "CPU ms", "floor", "MB/s", "ms/file", "hokan/fl",
              "clean/disarmed/blocked");
  double all_wall = 0;
  std::uint64_t all_bytes = 0;
  std::uint64_t all_files = 0;
  for (const Format& f : formats) {
    const FormatRun& run = runs.at(f.name);
    const double rounds = static_cast<double>(run.hokan.rounds.size());
    all_wall += run.hokan.wall() / rounds;
    all_bytes += run.bytes;
    all_files += run.files;
    std::printf("%-6s %6llu %8.2f | %9.1f %9.1f %8.1f %8.2f | %-9s %9s %8s %9s | %llu/%llu/%llu\n",
                f.name.c_str(), static_cast<unsigned long long>(run.files), Mb(run.bytes),
                run.MbPerS(run.hokan), run.BestMbPerS(run.hokan), 1000.0 / run.MsPerFile(run.hokan),
                run.CpuMsPerFile(run.hokan), f.floor_lib.empty() ? "-" : f.floor_lib.c_str(),
                f.floor_lib.empty() ? "-" : Fixed(run.MbPerS(run.floor), 1).c_str(),
                f.floor_lib.empty() ? "-" : Fixed(run.MsPerFile(run.floor), 2).c_str(),
                f.floor_lib.empty() ? "-" : Ratio(run.hokan.wall(), run.floor.wall()).c_str(),
                static_cast<unsigned long long>(run.clean),
                static_cast<unsigned long long>(run.disarmed),
                static_cast<unsigned long long>(run.blocked));
  }
  const double mbps = all_wall > 0 ? Mb(all_bytes) / all_wall : 0;
  std::printf("%-6s %6llu %8.2f | %9.1f %9s %8.1f\n", "all",
              static_cast<unsigned long long>(all_files), Mb(all_bytes), mbps, "",
              all_wall > 0 ? static_cast<double>(all_files) / all_wall : 0);
  std::printf("RESULT phase=inproc-all files=%llu mb=%.3f seconds_per_round=%.3f mb_per_s=%.2f\n",
              static_cast<unsigned long long>(all_files), Mb(all_bytes), all_wall, mbps);
  std::fflush(stdout);
}

// --- process per file ---------------------------------------------------------------------------

// Runs argv with stdout and stderr sent to /dev/null; returns its exit status.
int Spawn(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  args.reserve(copy.size() + 1);
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) Flags::Die("cannot start " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) Flags::Die("waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Tool {
  std::string name;  // "hokan", "qpdf", "unzip", "true"
  // The command for one file; OUT is a path under the scratch output directory.
  std::vector<std::string> (*command)(const std::string& binary, const CorpusFile& in,
                                      const std::string& out);
  std::string binary;
  std::vector<int> ok_codes;  // Exit statuses that mean it did its job.
};

std::vector<std::string> HokanCommand(const std::string& binary, const CorpusFile& in,
                                      const std::string& out) {
  return {binary, "sanitize", in.path, "--out", out};
}
std::vector<std::string> QpdfCommand(const std::string& binary, const CorpusFile& in,
                                     const std::string& out) {
  return {binary, in.path, out};
}
std::vector<std::string> UnzipCommand(const std::string& binary, const CorpusFile& in,
                                      const std::string& /*out*/) {
  return {binary, "-p", in.path};
}
std::vector<std::string> TrueCommand(const std::string& binary, const CorpusFile& /*in*/,
                                     const std::string& /*out*/) {
  return {binary};
}

struct CliRun {
  Pass pass;
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;  // Exit status not in ok_codes.
  std::map<int, std::uint64_t> codes;
};

void PerProcess(const std::vector<Format>& formats, const Corpus& corpus, std::uint64_t rounds,
                const std::string& hokan, const std::string& out_dir) {
  PrintPhase("process per file: " + std::to_string(rounds) + " rounds, interleaved");
  std::printf("%-6s %-6s %6s %9s %9s %9s %10s %9s  %s\n", "format", "tool", "runs", "MB/s",
              "files/s", "ms/file", "CPU ms", "hokan/it", "exit codes");
  for (const Format& f : formats) {
    const std::vector<CorpusFile>& files = corpus.at(f.name);
    std::vector<Tool> tools;
    if (!hokan.empty()) tools.push_back({"hokan", HokanCommand, hokan, {0, 1}});
    if (f.floor_cli == "qpdf") tools.push_back({"qpdf", QpdfCommand, "qpdf", {0, 3}});
    if (f.floor_cli == "unzip") tools.push_back({"unzip", UnzipCommand, "unzip", {0}});
    tools.push_back({"true", TrueCommand, "/bin/true", {0}});
    std::vector<CliRun> results(tools.size());
    for (std::uint64_t r = 0; r < rounds; ++r) {
      for (std::size_t t = 0; t < tools.size(); ++t) {
        const double cpu0 = ChildCpuSeconds();
        const auto t0 = Clock::now();
        for (const CorpusFile& file : files) {
          const int code =
              Spawn(tools[t].command(tools[t].binary, file, out_dir + "/" + file.name));
          ++results[t].runs;
          ++results[t].codes[code];
          if (std::find(tools[t].ok_codes.begin(), tools[t].ok_codes.end(), code) ==
              tools[t].ok_codes.end()) {
            ++results[t].failures;
          }
        }
        results[t].pass.rounds.push_back(SecondsSince(t0));
        results[t].pass.cpu += ChildCpuSeconds() - cpu0;
      }
    }
    const std::uint64_t bytes = TotalBytes(files);
    const double hokan_wall = hokan.empty() ? 0 : results[0].pass.wall();
    for (std::size_t t = 0; t < tools.size(); ++t) {
      const CliRun& c = results[t];
      const double wall = c.pass.wall();
      const double n = static_cast<double>(c.runs);
      std::string codes;
      for (const auto& kv : c.codes) {
        if (!codes.empty()) codes += ' ';
        codes += std::to_string(kv.first);
        codes += ':';
        codes += std::to_string(kv.second);
      }
      const bool peer = tools[t].name != "hokan" && tools[t].name != "true" && !hokan.empty();
      const std::string ratio = peer ? Ratio(hokan_wall, wall) : "";
      std::printf("%-6s %-6s %6llu %9.1f %9.1f %9.2f %10.2f %9s  %s%s\n", f.name.c_str(),
                  tools[t].name.c_str(), static_cast<unsigned long long>(c.runs),
                  wall > 0 ? Mb(bytes) * static_cast<double>(rounds) / wall : 0,
                  wall > 0 ? n / wall : 0, 1000.0 * wall / n, 1000.0 * c.pass.cpu / n,
                  ratio.c_str(), codes.c_str(), c.failures > 0 ? "  (FAILURES)" : "");
      std::printf(
          "RESULT phase=cli format=%s tool=%s runs=%llu mb_per_s=%.2f ms_per_file=%.3f "
          "cpu_ms_per_file=%.3f failures=%llu ratio=%.3f\n",
          f.name.c_str(), tools[t].name.c_str(), static_cast<unsigned long long>(c.runs),
          wall > 0 ? Mb(bytes) * static_cast<double>(rounds) / wall : 0, 1000.0 * wall / n,
          1000.0 * c.pass.cpu / n, static_cast<unsigned long long>(c.failures),
          (!peer || wall <= 0) ? 0 : hokan_wall / wall);
    }
    std::fflush(stdout);
  }
}

std::vector<Format> PickFormats(const std::string& list) {
  std::vector<Format> picked;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    const auto& all = AllFormats();
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const Format& f) { return f.name == name; });
    if (it == all.end()) Flags::Die("unknown format in --formats: " + name);
    picked.push_back(*it);
  }
  if (picked.empty()) Flags::Die("--formats names no format");
  return picked;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string dir = flags.Str("dir", "/tmp/hokan-bench");
  const std::uint64_t files = std::max<std::uint64_t>(1, flags.U64("files", 30));
  const std::uint64_t rounds = std::max<std::uint64_t>(1, flags.U64("rounds", 5));
  const std::uint64_t cli_rounds = flags.U64("cli-rounds", 2);
  const std::string hokan = flags.Str("hokan", "");
  const std::vector<Format> formats =
      PickFormats(flags.Str("formats", "pdf,docx,docm,xlsx,zip,csv,png,jpeg,rtf"));
  const bool keep = flags.Has("keep");
  Sizes sizes;
  sizes.pdf_pages = std::max<std::uint64_t>(1, flags.U64("pdf-pages", sizes.pdf_pages));
  sizes.paragraphs = std::max<std::uint64_t>(2, flags.U64("paragraphs", sizes.paragraphs));
  sizes.rows = std::max<std::uint64_t>(4, flags.U64("rows", sizes.rows));
  sizes.zip_members = std::max<std::uint64_t>(1, flags.U64("zip-members", sizes.zip_members));
  sizes.image_width = std::max<std::uint64_t>(8, flags.U64("image-width", sizes.image_width));
  sizes.image_height = std::max<std::uint64_t>(8, flags.U64("image-height", sizes.image_height));

  const auto started = Clock::now();
  PrintHeader("sanitize_bench", argc, argv, dir);
  std::printf("libraries:  qpdf %s, libzip %s, libpng %s, libjpeg API %d\n",
              QPDF::QPDFVersion().c_str(), zip_libzip_version(), png_get_libpng_ver(nullptr),
              JPEG_LIB_VERSION);
  std::printf("tools:      hokan %s; qpdf, unzip and /bin/true from PATH\n",
              hokan.empty() ? "(not given: no hokan CLI runs)" : hokan.c_str());
  std::fflush(stdout);

  // The corpus and the tools' outputs; removed at the end unless --keep.
  std::optional<Scratch> scratch;
  std::string base = dir + "/sanitize-bench-corpus";
  if (keep) {
    std::filesystem::create_directories(base);
  } else {
    scratch.emplace(dir, "sanitize-bench");
    base = scratch->path();
  }
  const std::string corpus_dir = base + "/corpus";
  const std::string out_dir = base + "/out";
  std::filesystem::create_directories(corpus_dir);
  std::filesystem::create_directories(out_dir);
  const Corpus corpus = MakeCorpus(formats, files, sizes, corpus_dir);

  const std::map<std::string, FormatRun> runs = InProcess(formats, corpus, rounds);
  InProcessSummary(formats, runs);
  if (cli_rounds > 0) PerProcess(formats, corpus, cli_rounds, hokan, out_dir);

  std::printf("\npeak RSS of this process: %.1f MiB\n",
              static_cast<double>(ProcStatusKiB("VmHWM")) / 1024.0);
  if (keep) {
    std::printf("corpus kept in %s\n", corpus_dir.c_str());
  } else {
    scratch->Remove();
  }
  PrintFooter(started);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
