// PDF disarmer (docs/sanitize/pdf.md): reads the file with qpdf, cuts every reference to active
// content (JavaScript, Launch/SubmitForm/ImportData/remote-goto/media actions, embedded files,
// RichMedia/3D/Screen annotations, XFA), and writes the document afresh so that what was cut is
// gone from the bytes, not just unreferenced. A file with nothing to remove is returned as it came.
//
// The walk is by reference, not by object: a URI action is harmless as the /A of a link the reader
// clicks, and removed where it runs by itself (/OpenAction, /AA, /Next). Indirect objects are
// visited once (cycles in /Parent, /Kids or /Next cannot loop); qpdf's parser already bounds the
// nesting of direct objects, and the walks below are iterative anyway.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// qpdf 11.3's JSON.hh does not compile as C++20 with clang and libstdc++ (qpdf issue #942, fixed
// in 11.4): QPDFObjectHandle.hh includes it only to declare functions that return a JSON, which
// this file never calls, so a declaration stands in for the header.
#define JSON_HH
class JSON;

#include <qpdf/Constants.h>

#include <qpdf/Buffer.hh>
#include <qpdf/Pipeline.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFObjGen.hh>
#include <qpdf/QPDFObjectHandle.hh>
#include <qpdf/QPDFWriter.hh>
#include <qpdf/QPDFXRefEntry.hh>

#include "sanitize/internal/disarm.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

// A PDF with more indirect objects than this is refused (real documents have thousands).
constexpr std::size_t kMaxObjects = 1'000'000;
// Values (dictionary entries and array items) the walk will look at before giving up.
constexpr std::uint64_t kMaxValues = 20'000'000;
// Longest dictionary key quoted in a finding's location.
constexpr std::size_t kMaxKeyChars = 48;
// Findings of one kind listed one by one; the rest are counted in one more finding.
constexpr int kMaxFindingsPerKind = 100;

// What a reference leads to, when it is active content.
struct Active {
  std::string_view kind;  // Finding kind; empty when the value is not active.
  std::string_view what;  // For the finding's detail, e.g. "A JavaScript action".
  bool uri = false;       // A URI action: kept as the /A of a link or bookmark.
};

struct NameRule {
  std::string_view name;
  Active active;
};

// Action types (/S) that run something, fetch something or leave the document.
constexpr NameRule kActionRules[] = {
    {"/JavaScript", {"javascript", "A JavaScript action"}},
    {"/Launch", {"launch-action", "A Launch action (runs a program or opens a file)"}},
    {"/SubmitForm", {"submit-action", "A SubmitForm action (sends form data to a server)"}},
    {"/ImportData", {"import-action", "An ImportData action (loads form data from a file)"}},
    {"/GoToR", {"remote-goto", "A GoToR action (opens another PDF file)"}},
    {"/GoToE", {"remote-goto", "A GoToE action (opens an embedded PDF file)"}},
    {"/Rendition", {"media-action", "A Rendition action (plays media)"}},
    {"/Sound", {"media-action", "A Sound action (plays a sound)"}},
    {"/Movie", {"media-action", "A Movie action (plays a movie)"}},
    {"/RichMediaExecute", {"media-action", "A RichMediaExecute action (runs rich media)"}},
    {"/URI", {"uri-action", "A URI action that opens a web address by itself", true}},
};

// Annotation types (/Subtype) that carry files, media or programs.
constexpr NameRule kAnnotationRules[] = {
    {"/FileAttachment", {"embedded-file", "A FileAttachment annotation (an attached file)"}},
    {"/RichMedia", {"rich-media", "A RichMedia annotation (Flash or video with scripts)"}},
    {"/3D", {"rich-media", "A 3D annotation (3D artwork, which may carry JavaScript)"}},
    {"/Screen", {"rich-media", "A Screen annotation (plays media)"}},
    {"/Movie", {"rich-media", "A Movie annotation"}},
    {"/Sound", {"rich-media", "A Sound annotation"}},
};

// Dictionary keys whose value is active content wherever they appear.
constexpr NameRule kKeyRules[] = {
    {"/JS", {"javascript", "A /JS entry (JavaScript)"}},
    {"/JavaScript", {"javascript", "The document-level JavaScript name tree"}},
    {"/EmbeddedFiles", {"embedded-file", "The embedded files name tree"}},
    {"/EF", {"embedded-file", "An /EF entry (embedded file streams)"}},
    {"/AF", {"embedded-file", "An /AF entry (associated files)"}},
    {"/XFA", {"xfa", "An XFA form (scripts and a second form model beside the PDF's own)"}},
    {"/AlternatePresentations",
     {"rich-media", "The alternate presentations (slide show) name tree"}},
};

// Raw names that, when present in the bytes but absent from what qpdf reads, point to content
// outside the current revision (an earlier incremental update, a damaged part). Each is long
// enough not to turn up by chance in compressed or image data (/JS alone would, about once in
// 300 MB; an action with /JS also has /S /JavaScript).
constexpr std::string_view kRawTokens[] = {
    "/JavaScript", "/Launch",     "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
    "/XFA",        "/SubmitForm", "/ImportData",   "/GoToR",         "/GoToE",
};

template <std::size_t N>
Active Lookup(const NameRule (&rules)[N], std::string_view name) {
  for (const NameRule& rule : rules) {
    if (rule.name == name) return rule.active;
  }
  return {};
}

// Printable ASCII only, at most `max` characters: qpdf's messages and PDF names go into
// findings and errors, which must stay one readable line.
std::string Printable(std::string_view text, std::size_t max) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string ObjectLabel(QPDFObjGen og) {
  return "object " + std::to_string(og.getObj()) + " " + std::to_string(og.getGen());
}

std::string Capitalised(std::string_view what) {
  std::string out(what);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

QPDFObjectHandle DictOf(QPDFObjectHandle obj) { return obj.isStream() ? obj.getDict() : obj; }

// The active content a dictionary or stream is, if any.
Active Classify(QPDFObjectHandle obj) {
  if (!obj.isDictionary() && !obj.isStream()) return {};
  QPDFObjectHandle dict = DictOf(obj);
  if (obj.isStream() && dict.getKey("/Type").isNameAndEquals("/EmbeddedFile")) {
    return {"embedded-file", "An embedded file stream"};
  }
  QPDFObjectHandle type = dict.getKey("/S");
  if (type.isName()) {
    const Active action = Lookup(kActionRules, type.getName());
    if (!action.kind.empty()) return action;
    if (type.getName() == "/Thread" && dict.hasKey("/F")) {
      return {"remote-goto", "A Thread action that opens another file"};
    }
  }
  if (dict.hasKey("/JS")) return {"javascript", "A dictionary with JavaScript (/JS)"};
  QPDFObjectHandle subtype = dict.getKey("/Subtype");
  if (subtype.isName()) {
    const Active annotation = Lookup(kAnnotationRules, subtype.getName());
    if (!annotation.kind.empty()) return annotation;
  }
  return {};
}

bool IsLinkOrBookmark(QPDFObjectHandle container) {
  if (!container.isDictionary()) return false;
  if (container.getKey("/Subtype").isNameAndEquals("/Link")) return true;
  return container.hasKey("/Title") && container.hasKey("/Parent");  // An outline item.
}

// A sink that counts decoded bytes and stops the decoder once past `limit`.
class CountingSink final : public Pipeline {
 public:
  explicit CountingSink(std::uint64_t limit) : Pipeline("hokan-count", nullptr), limit_(limit) {}
  void write(unsigned char const* /*data*/, size_t len) override {
    count_ += len;
    if (count_ > limit_) throw std::length_error("decoded stream over the limit");
  }
  void finish() override {}
  std::uint64_t count() const { return count_; }

 private:
  std::uint64_t limit_;
  std::uint64_t count_ = 0;
};

class PdfDisarmer {
 public:
  PdfDisarmer(QPDF& pdf, Context& ctx) : pdf_(pdf), ctx_(ctx) {}

  // Everything short of writing; afterwards changed() says whether the file must be rewritten.
  // `raw` is the file's bytes, searched for names of active content qpdf did not see; empty
  // when checking a file qpdf itself just wrote.
  Status Run(ByteView raw);
  bool changed() const { return changed_; }
  bool signed_document() const { return signed_; }

 private:
  Status CheckLimits();
  Status FindReachable();
  void DropUnreferenced();
  void CutActiveContent();
  void CheckRawTokens(ByteView in);
  // Decides about one value inside `container`; true when the reference must be cut.
  bool Judge(const QPDFObjectHandle& container, std::string_view key, const QPDFObjectHandle& value,
             const std::string& location);
  void Removed(const Active& active, const std::string& location);
  // Context::Add for the walk's findings, at most kMaxFindingsPerKind of each kind.
  void Found(std::string_view kind, const std::string& location, Action action, std::string detail,
             bool active);
  void SummariseOverflow();

  QPDF& pdf_;
  Context& ctx_;
  std::set<QPDFObjGen> reachable_;
  std::set<QPDFObjGen> to_null_;  // Active indirect objects, replaced by null before writing.
  bool changed_ = false;
  bool signed_ = false;
  bool removed_embedded_files_ = false;
  bool removed_xfa_ = false;
  struct Overflow {
    Action action = Action::kReported;
    bool active = false;
    int listed = 0;
    int more = 0;
  };
  std::map<std::string, Overflow, std::less<>> per_kind_;
};

Status PdfDisarmer::Run(ByteView raw) {
  HK_RETURN_IF_ERROR(CheckLimits());
  HK_RETURN_IF_ERROR(FindReachable());
  DropUnreferenced();
  CutActiveContent();
  if (!changed_) CheckRawTokens(raw);
  SummariseOverflow();
  if (pdf_.anyWarnings()) {
    ctx_.Add("repaired", "", Action::kReported,
             "qpdf had to repair the file's structure (" + std::to_string(pdf_.numWarnings()) +
                 " warnings); it was rewritten as qpdf reads it, so every reader sees the same "
                 "document.",
             false);
    changed_ = true;
  }
  if (!changed_) return OkStatus();
  for (const QPDFObjGen& og : to_null_) pdf_.replaceObject(og, QPDFObjectHandle::newNull());
  QPDFObjectHandle root = pdf_.getRoot();
  if (removed_embedded_files_) root.removeKey("/Collection");  // A portfolio with no files.
  if (removed_xfa_) root.removeKey("/NeedsRendering");
  return OkStatus();
}

// Object count, and the decoded size of every object stream (qpdf decodes them whole to read
// the objects inside, so a decompression bomb must be stopped before that).
Status PdfDisarmer::CheckLimits() {
  const std::map<QPDFObjGen, QPDFXRefEntry> xref = pdf_.getXRefTable();
  if (xref.size() > kMaxObjects) {
    ctx_.Add("limit-exceeded", "", Action::kBlocked,
             "The PDF has more than " + std::to_string(kMaxObjects) + " objects.", false);
    return FailedPreconditionError("the PDF has more than " + std::to_string(kMaxObjects) +
                                   " objects");
  }
  std::set<int> object_streams;
  for (const auto& entry : xref) {
    if (entry.second.getType() == 2) object_streams.insert(entry.second.getObjStreamNumber());
  }
  for (const int number : object_streams) {
    QPDFObjectHandle stream = pdf_.getObjectByID(number, 0);
    if (!stream.isStream()) continue;  // qpdf reports the damage when it resolves the objects.
    const std::string where = ObjectLabel(QPDFObjGen(number, 0));
    CountingSink sink(ctx_.limits().max_expanded_bytes);
    try {
      stream.pipeStreamData(&sink, nullptr, 0, qpdf_dl_generalized, true, false);
    } catch (const std::length_error&) {
      // Past the limit: ChargeExpanded below refuses it.
    }
    QPDFObjectHandle length = stream.getDict().getKey("/Length");
    const std::uint64_t compressed = length.isInteger() && length.getIntValue() > 0
                                         ? static_cast<std::uint64_t>(length.getIntValue())
                                         : 0;
    HK_RETURN_IF_ERROR(ctx_.CheckRatio(where, compressed, sink.count()));
    HK_RETURN_IF_ERROR(ctx_.ChargeExpanded(sink.count()));
  }
  return OkStatus();
}

// Every indirect object reachable from the trailer, read-only; also notes signatures.
Status PdfDisarmer::FindReachable() {
  std::vector<QPDFObjectHandle> stack = {pdf_.getTrailer()};
  std::uint64_t values = 0;
  while (!stack.empty()) {
    QPDFObjectHandle obj = stack.back();
    stack.pop_back();
    if (obj.isIndirect() && !reachable_.insert(obj.getObjGen()).second) continue;
    auto push = [&](QPDFObjectHandle child) {
      ++values;
      if (child.isIndirect() || child.isDictionary() || child.isArray()) stack.push_back(child);
    };
    if (obj.isArray()) {
      for (const QPDFObjectHandle& item : obj.aitems()) push(item);
    } else if (obj.isDictionary() || obj.isStream()) {
      QPDFObjectHandle dict = DictOf(obj);
      if (dict.hasKey("/ByteRange") && dict.hasKey("/Contents")) signed_ = true;
      for (const auto& item : dict.ditems()) push(item.second);
    }
    if (values > kMaxValues) {
      ctx_.Add("limit-exceeded", "", Action::kBlocked,
               "The PDF has more than " + std::to_string(kMaxValues) + " values.", false);
      return FailedPreconditionError("the PDF has more than " + std::to_string(kMaxValues) +
                                     " values");
    }
  }
  return OkStatus();
}

// Objects no reference leads to are dropped by the rewrite; active ones among them are reported
// (a reader that rebuilds a damaged cross-reference table may still find them).
void PdfDisarmer::DropUnreferenced() {
  for (QPDFObjectHandle obj : pdf_.getAllObjects()) {
    if (reachable_.count(obj.getObjGen()) != 0) continue;
    Active active = Classify(obj);
    if (active.kind.empty() && obj.isDictionary() && obj.hasKey("/EF")) {
      active = {"embedded-file", "A file specification with an embedded file"};
    }
    if (active.kind.empty()) continue;
    Found(active.kind, ObjectLabel(obj.getObjGen()), Action::kRemoved,
          std::string(active.what) + ", in an object nothing refers to, was dropped.", true);
    changed_ = true;
  }
}

void PdfDisarmer::Removed(const Active& active, const std::string& location) {
  Found(active.kind, location, Action::kRemoved, Capitalised(active.what) + " was removed.", true);
  changed_ = true;
  if (active.kind == "embedded-file") removed_embedded_files_ = true;
  if (active.kind == "xfa") removed_xfa_ = true;
}

void PdfDisarmer::Found(std::string_view kind, const std::string& location, Action action,
                        std::string detail, bool active) {
  auto it = per_kind_.find(kind);
  if (it == per_kind_.end()) it = per_kind_.emplace(std::string(kind), Overflow{}).first;
  Overflow& seen = it->second;
  if (seen.listed == kMaxFindingsPerKind) {
    ++seen.more;
    return;
  }
  ++seen.listed;
  seen.action = action;
  seen.active = active;
  ctx_.Add(std::string(kind), location, action, std::move(detail), active);
}

void PdfDisarmer::SummariseOverflow() {
  for (const auto& [kind, seen] : per_kind_) {
    if (seen.more == 0) continue;
    ctx_.Add(kind, "", seen.action,
             std::to_string(seen.more) + " more findings of this kind are not listed one by one.",
             seen.active);
  }
}

bool PdfDisarmer::Judge(const QPDFObjectHandle& container, std::string_view key,
                        const QPDFObjectHandle& value, const std::string& location) {
  if (!key.empty()) {
    const Active by_key = Lookup(kKeyRules, key);
    if (!by_key.kind.empty()) {
      Removed(by_key, location);
      return true;
    }
  }
  const Active active = Classify(value);
  if (active.kind.empty()) return false;
  if (active.uri && key == "/A" && IsLinkOrBookmark(container)) {
    Found("uri-link", location, Action::kReported,
          "A link opens a web address when the reader clicks it; it was kept.", false);
    return false;
  }
  Removed(active, location);
  if (value.isIndirect() && !active.uri) to_null_.insert(value.getObjGen());
  return true;
}

// The walk that cuts: from the trailer, through every reference that is not cut.
void PdfDisarmer::CutActiveContent() {
  struct Item {
    QPDFObjectHandle obj;
    std::string path;
    bool pairs = false;  // An array of name-tree or number-tree pairs: cut items become null.
  };
  const QPDFObjGen root = pdf_.getRoot().getObjGen();
  std::set<QPDFObjGen> visited;
  std::vector<Item> stack;
  stack.push_back({pdf_.getTrailer(), "trailer"});
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    QPDFObjectHandle obj = item.obj;
    if (obj.isIndirect()) {
      const QPDFObjGen og = obj.getObjGen();
      if (!visited.insert(og).second) continue;
      item.path = og == root ? "/Root" : ObjectLabel(og) + " ";
    }
    const bool trailer = item.path == "trailer";
    auto descend = [&](QPDFObjectHandle child, std::string path, bool pairs) {
      if (child.isIndirect()) {
        if (visited.count(child.getObjGen()) == 0) stack.push_back({child, "", false});
      } else if (child.isDictionary() || child.isArray()) {
        stack.push_back({child, std::move(path), pairs});
      }
    };
    if (obj.isArray()) {
      std::vector<int> cut;
      const int n = obj.getArrayNItems();
      for (int i = 0; i < n; ++i) {
        QPDFObjectHandle child = obj.getArrayItem(i);
        const std::string location = child.isIndirect() ? ObjectLabel(child.getObjGen())
                                                        : item.path + "[" + std::to_string(i) + "]";
        if (Judge(obj, "", child, location)) {
          cut.push_back(i);
        } else {
          descend(child, item.path + "[" + std::to_string(i) + "]", false);
        }
      }
      for (auto i = cut.rbegin(); i != cut.rend(); ++i) {
        if (item.pairs) {
          obj.setArrayItem(*i, QPDFObjectHandle::newNull());
        } else {
          obj.eraseItem(*i);
        }
      }
    } else if (obj.isDictionary() || obj.isStream()) {
      QPDFObjectHandle dict = DictOf(obj);
      std::vector<std::string> cut;
      for (const std::string& key : dict.getKeys()) {
        if (trailer && key == "/Encrypt") continue;  // qpdf writes it anew.
        QPDFObjectHandle child = dict.getKey(key);
        const std::string path = item.path + Printable(key, kMaxKeyChars);
        if (Judge(dict, key, child, path)) {
          cut.push_back(key);
        } else {
          descend(child, path, key == "/Names" || key == "/Nums");
        }
      }
      for (const std::string& key : cut) dict.removeKey(key);
    }
  }
}

void PdfDisarmer::CheckRawTokens(ByteView in) {
  const std::string_view bytes = AsChars(in);
  constexpr std::string_view kDelimiters = " \t\r\n\f/<>[]()%{}";
  // One pass over the names in the file: every '/' is compared with each token.
  for (std::size_t at = bytes.find('/'); at != std::string_view::npos;
       at = bytes.find('/', at + 1)) {
    for (const std::string_view token : kRawTokens) {
      if (bytes.compare(at, token.size(), token) != 0) continue;
      const std::size_t end = at + token.size();
      if (end < bytes.size() && bytes[end] != '\0' &&
          kDelimiters.find(bytes[end]) == std::string_view::npos) {
        continue;
      }
      ctx_.Add("unreferenced-active", "offset " + std::to_string(at), Action::kRemoved,
               "The name " + std::string(token) +
                   " appears outside the objects the file's cross-reference table leads to (an "
                   "earlier revision or a damaged part); the file was rewritten without it.");
      changed_ = true;
      return;
    }
  }
}

std::string DescribeQpdfError(const QPDFExc& e) {
  std::string message = "malformed PDF: " + Printable(e.getMessageDetail(), 160);
  if (!e.getObject().empty()) message += " (" + Printable(e.getObject(), 40) + ")";
  if (e.getFilePosition() > 0) message += " at offset " + std::to_string(e.getFilePosition());
  return message;
}

// Re-reads a rewritten file and checks it again, with a scratch context: it must open and have
// nothing left to remove. A failure here is a bug in this file, and the file is refused.
Status Verify(ByteView out, const SanitizeOptions& options) {
  QPDF pdf;
  pdf.setSuppressWarnings(true);
  pdf.processMemoryFile("disarmed pdf", reinterpret_cast<const char*>(out.data()), out.size());
  if (!pdf.getRoot().getKey("/Pages").isDictionary()) {
    return InvalidArgumentError(
        "malformed PDF: no page tree is left after removing active content");
  }
  Context scratch(options);
  PdfDisarmer check(pdf, scratch);
  HK_RETURN_IF_ERROR(check.Run({}));
  for (const SanitizeFinding& finding : scratch.findings()) {
    if (finding.active) return InternalError("the rewritten PDF still holds " + finding.kind);
  }
  return OkStatus();
}

Result<Bytes> DisarmOrThrow(ByteView in, Context& ctx) {
  QPDF pdf;
  pdf.setSuppressWarnings(true);
  try {
    pdf.processMemoryFile("pdf", reinterpret_cast<const char*>(in.data()), in.size());
  } catch (const QPDFExc& e) {
    if (e.getErrorCode() != qpdf_e_password) throw;
    ctx.Add("encrypted", "", Action::kBlocked,
            "The PDF is encrypted with a password; hokan cannot look inside it.", false);
    return Bytes{};
  }
  if (pdf.isEncrypted()) {
    ctx.Add("encrypted", "/Encrypt", Action::kReported,
            "The PDF is encrypted with an empty user password; it was opened and checked.", false);
  }
  PdfDisarmer disarmer(pdf, ctx);
  HK_RETURN_IF_ERROR(disarmer.Run(in));
  if (!disarmer.changed()) return Bytes(in.begin(), in.end());

  // A usage-rights signature (Reader extensions) cannot match the rewritten file; left in, the
  // reader would warn that the document was changed.
  QPDFObjectHandle perms = pdf.getRoot().getKey("/Perms");
  if (perms.isDictionary() && (perms.hasKey("/UR3") || perms.hasKey("/UR"))) {
    perms.removeKey("/UR3");
    perms.removeKey("/UR");
    ctx.Add("signature-invalidated", "/Root/Perms", Action::kReported,
            "The usage-rights signature (reader extensions) would not match the rewritten file; "
            "it was removed.",
            false);
  }
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.setObjectStreamMode(qpdf_o_preserve);
  writer.setCompressStreams(true);
  writer.setDecodeLevel(qpdf_dl_none);  // Never decode (and so never expand) stream data.
  if (!pdf.isEncrypted()) writer.setDeterministicID(true);
  writer.write();
  const std::shared_ptr<Buffer> buffer = writer.getBufferSharedPointer();
  if (disarmer.signed_document()) {
    ctx.Add("signature-invalidated", "", Action::kReported,
            "The PDF was digitally signed; rewriting it without the removed content invalidates "
            "the signature.",
            false);
  }
  const std::uint8_t* data = buffer->getBuffer();
  Bytes out(data, data + buffer->getSize());
  HK_RETURN_IF_ERROR(Verify(out, ctx.options()));
  return out;
}

}  // namespace

Result<Bytes> DisarmPdf(ByteView in, Context& ctx) {
  try {
    return DisarmOrThrow(in, ctx);
  } catch (const QPDFExc& e) {
    return InvalidArgumentError(DescribeQpdfError(e));
  } catch (const std::bad_alloc&) {
    return FailedPreconditionError("reading the PDF needs more memory than is available");
  } catch (const std::exception& e) {
    return InvalidArgumentError("malformed PDF: " + Printable(e.what(), 160));
  } catch (...) {
    return InvalidArgumentError("malformed PDF: qpdf could not read it");
  }
}

}  // namespace hokan::sanitize_internal
