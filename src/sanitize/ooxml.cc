// The OOXML disarmer (docs/sanitize/ooxml.md): Office Open XML packages (docx/docm/xlsx/xlsm/
// pptx/pptm and their templates, slide shows and add-ins) lose their VBA projects, Excel 4.0
// macro sheets, ActiveX controls, embedded OLE objects, external links and remote templates,
// DDE and include fields, and ribbon customisations; [Content_Types].xml, every .rels and the
// XML that pointed at what went are repaired, and a macro-enabled type becomes the macro-free
// one. Embedded Office packages are sanitised as files of their own (Context::Nested).
//
// The package is read with libzip (internal/zip.h) and its XML with libxml2: no network, no DTD
// (OPC forbids one; a part with a DOCTYPE is refused), no entity substitution.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/internal/zip.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

// What the detector reads of a package (content types, the root relationships) at most.
constexpr std::uint64_t kMaxDetectPart = 8u << 20;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

// The last segment of a relationship type URI ("…/relationships/oleObject" → "oleObject").
std::string_view TypeSuffix(std::string_view type) {
  const std::size_t slash = type.find_last_of('/');
  return slash == std::string_view::npos ? type : type.substr(slash + 1);
}

std::string BaseName(std::string_view key) {
  const std::size_t slash = key.find_last_of('/');
  return std::string(slash == std::string_view::npos ? key : key.substr(slash + 1));
}

std::string Extension(std::string_view key) {
  const std::string base = BaseName(key);
  const std::size_t dot = base.find_last_of('.');
  return dot == std::string::npos ? "" : base.substr(dot + 1);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A part name as a lookup key: no leading '/', percent-decoded, ASCII lower case (OPC compares
// part names case-insensitively).
std::string PartKey(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  return Lower(PercentDecode(name));
}

// ---------------------------------------------------------------------------------------------
// XML (libxml2)

void InitXml() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

Result<XmlDocPtr> ParseXml(ByteView bytes, std::string_view part) {
  InitXml();
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    return InvalidArgumentError("part " + std::string(part) + " is too large to parse");
  }
  // No XML_PARSE_NOENT (entities stay references), no DTD loading, no network.
  XmlDocPtr doc(xmlReadMemory(reinterpret_cast<const char*>(bytes.data()),
                              static_cast<int>(bytes.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (doc == nullptr || xmlDocGetRootElement(doc.get()) == nullptr) {
    return InvalidArgumentError("part " + std::string(part) + " is not well-formed XML");
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return InvalidArgumentError("part " + std::string(part) +
                                " has a document type declaration, which OOXML does not allow");
  }
  return doc;
}

Bytes SerializeXml(xmlDoc* doc) {
  xmlChar* text = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc, &text, &size, "UTF-8");
  Bytes out;
  if (text != nullptr && size > 0) out.assign(text, text + size);
  xmlFree(text);
  return out;
}

std::string_view LocalName(const xmlNode* node) {
  return node->name != nullptr ? reinterpret_cast<const char*>(node->name) : "";
}

std::string_view NsHref(const xmlNode* node) {
  return node->ns != nullptr && node->ns->href != nullptr
             ? reinterpret_cast<const char*>(node->ns->href)
             : "";
}

bool IsElement(const xmlNode* node, std::string_view local) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && LocalName(node) == local;
}

std::string AttrText(const xmlAttr* attr) {
  xmlChar* value = xmlNodeGetContent(reinterpret_cast<const xmlNode*>(attr));
  std::string out = value != nullptr ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

// The attribute with this local name, whatever its namespace.
std::optional<std::string> Attr(const xmlNode* node, std::string_view local) {
  for (const xmlAttr* attr = node->properties; attr != nullptr; attr = attr->next) {
    if (attr->name != nullptr && reinterpret_cast<const char*>(attr->name) == local) {
      return AttrText(attr);
    }
  }
  return std::nullopt;
}

std::string Text(const xmlNode* node) {
  xmlChar* value = xmlNodeGetContent(node);
  std::string out = value != nullptr ? reinterpret_cast<const char*>(value) : "";
  xmlFree(value);
  return out;
}

template <typename F>
void ForEachElement(xmlNode* node, const F& f) {
  for (xmlNode* child = node; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    f(child);
    ForEachElement(child->children, f);
  }
}

std::vector<xmlNode*> ElementChildren(xmlNode* node) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

void RemoveNode(xmlNode* node) {
  xmlUnlinkNode(node);
  xmlFreeNode(node);
}

// Moves the children of `node` in its place, then removes it.
void Unwrap(xmlNode* node) {
  while (node->children != nullptr) {
    xmlNode* child = node->children;
    xmlUnlinkNode(child);
    xmlAddPrevSibling(node, child);
  }
  RemoveNode(node);
}

constexpr std::string_view kMcNs = "http://schemas.openxmlformats.org/markup-compatibility/2006";
constexpr std::array<std::string_view, 2> kRelNs = {
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships"};
constexpr std::array<std::string_view, 2> kWordNs = {
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main"};
constexpr std::string_view kVmlOfficeNs = "urn:schemas-microsoft-com:office:office";

bool InWordNs(const xmlNode* node) {
  return std::find(kWordNs.begin(), kWordNs.end(), NsHref(node)) != kWordNs.end();
}

// The relationship ids an element refers to (r:id, r:embed, r:link, … and VML's o:relid).
std::vector<std::string> RelationshipRefs(const xmlNode* node) {
  std::vector<std::string> ids;
  for (const xmlAttr* attr = node->properties; attr != nullptr; attr = attr->next) {
    if (attr->ns == nullptr || attr->ns->href == nullptr) continue;
    const std::string_view href = reinterpret_cast<const char*>(attr->ns->href);
    const bool rel = std::find(kRelNs.begin(), kRelNs.end(), href) != kRelNs.end();
    const bool vml = href == kVmlOfficeNs && attr->name != nullptr &&
                     std::string_view(reinterpret_cast<const char*>(attr->name)) == "relid";
    if (rel || vml) ids.push_back(AttrText(attr));
  }
  return ids;
}

// What to take out when `node` must go: the smallest enclosing structure that would be left
// broken without it. An alternate-content block goes whole (both branches show the same
// object); a drawing frame goes with its anchor; a list that must not be empty
// (<oleObjects>, <controls>, …) goes with its last member.
xmlNode* RemovalTarget(xmlNode* node) {
  xmlNode* target = node;
  for (;;) {
    xmlNode* parent = target->parent;
    if (parent == nullptr || parent->type != XML_ELEMENT_NODE) return target;
    const std::string_view name = LocalName(target);
    const std::string_view parent_name = LocalName(parent);
    if ((parent_name == "Choice" || parent_name == "Fallback") && NsHref(parent) == kMcNs &&
        parent->parent != nullptr && parent->parent->type == XML_ELEMENT_NODE) {
      target = parent->parent;
      continue;
    }
    if (name == "graphicData" || name == "graphic") {
      target = parent;
      continue;
    }
    if ((name == "inline" || name == "anchor") && parent_name == "drawing") {
      target = parent;
      continue;
    }
    if (name == "graphicFrame" && parent_name.ends_with("Anchor")) {
      target = parent;
      continue;
    }
    static constexpr std::array<std::string_view, 5> kNonEmptyLists = {
        "oleObjects", "controls", "externalReferences", "hyperlinks", "definedNames"};
    if (std::find(kNonEmptyLists.begin(), kNonEmptyLists.end(), parent_name) !=
            kNonEmptyLists.end() &&
        ElementChildren(parent).size() == 1) {
      target = parent;
      continue;
    }
    return target;
  }
}

// Removes every node in `nodes` (each with what RemovalTarget() adds), once, never the root.
// Word hyperlinks are unwrapped instead: their text stays.
void RemoveAll(xmlDoc* doc, const std::vector<xmlNode*>& nodes) {
  xmlNode* root = xmlDocGetRootElement(doc);
  std::vector<xmlNode*> unwrap;
  std::set<xmlNode*> targets;
  for (xmlNode* node : nodes) {
    if (LocalName(node) == "hyperlink" && InWordNs(node)) {
      unwrap.push_back(node);
      continue;
    }
    xmlNode* target = RemovalTarget(node);
    if (target != root) targets.insert(target);
  }
  for (xmlNode* node : unwrap) {
    bool inside = false;
    for (xmlNode* up = node->parent; up != nullptr && !inside; up = up->parent) {
      inside = targets.count(up) != 0;
    }
    if (!inside) Unwrap(node);
  }
  std::vector<xmlNode*> outermost;
  for (xmlNode* target : targets) {
    bool inside = false;
    for (xmlNode* up = target->parent; up != nullptr && !inside; up = up->parent) {
      inside = targets.count(up) != 0;
    }
    if (!inside) outermost.push_back(target);
  }
  for (xmlNode* target : outermost) RemoveNode(target);
}

// ---------------------------------------------------------------------------------------------
// The package model: content types and relationships.

struct ContentTypes {
  std::map<std::string, std::string> defaults;   // Extension (lower case) → content type.
  std::map<std::string, std::string> overrides;  // Part key → content type.

  std::string For(const std::string& key) const {
    if (const auto it = overrides.find(key); it != overrides.end()) return it->second;
    if (const auto it = defaults.find(Extension(key)); it != defaults.end()) return it->second;
    return "";
  }
};

ContentTypes ReadContentTypes(xmlDoc* doc) {
  ContentTypes types;
  for (xmlNode* node : ElementChildren(xmlDocGetRootElement(doc))) {
    const std::string type = Lower(Trim(Attr(node, "ContentType").value_or("")));
    if (LocalName(node) == "Default") {
      types.defaults[Lower(Attr(node, "Extension").value_or(""))] = type;
    } else if (LocalName(node) == "Override") {
      types.overrides[PartKey(Attr(node, "PartName").value_or(""))] = type;
    }
  }
  return types;
}

struct Relationship {
  std::string id;
  std::string type;
  std::string target;
  bool external = false;
  std::string target_key;  // Internal targets: the part key (may name no part).
  bool removed = false;
};

// An internal target resolved against its source part; nullopt when it leaves the package.
std::optional<std::string> ResolveTarget(std::string_view source_key, std::string_view target) {
  std::string_view path = target.substr(0, target.find('#'));
  if (path.empty()) return std::nullopt;
  std::vector<std::string> segments;
  std::string joined;
  if (path.front() != '/') {
    const std::size_t slash = source_key.find_last_of('/');
    if (slash != std::string_view::npos) joined = std::string(source_key.substr(0, slash + 1));
  }
  joined += PercentDecode(path);
  std::size_t start = 0;
  while (start <= joined.size()) {
    const std::size_t end = std::min(joined.find('/', start), joined.size());
    const std::string segment = joined.substr(start, end - start);
    start = end + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (segments.empty()) return std::nullopt;
      segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string key;
  for (const std::string& segment : segments) key += (key.empty() ? "" : "/") + segment;
  return Lower(key);
}

// A target that names something outside the package even though TargetMode says Internal.
bool LooksExternal(std::string_view target) {
  const std::string lower = Lower(target);
  return lower.find("://") != std::string::npos || lower.starts_with("\\\\") ||
         lower.starts_with("//") || lower.starts_with("mhtml:") || lower.starts_with("file:") ||
         (lower.size() > 1 && lower[1] == ':' &&
          std::isalpha(static_cast<unsigned char>(lower[0])));
}

std::vector<Relationship> ReadRelationships(xmlDoc* doc, std::string_view source_key) {
  std::vector<Relationship> rels;
  for (xmlNode* node : ElementChildren(xmlDocGetRootElement(doc))) {
    if (LocalName(node) != "Relationship") continue;
    Relationship rel;
    rel.id = Attr(node, "Id").value_or("");
    rel.type = Trim(Attr(node, "Type").value_or(""));
    rel.target = Trim(Attr(node, "Target").value_or(""));
    rel.external = EqualsNoCase(Trim(Attr(node, "TargetMode").value_or("")), "External") ||
                   LooksExternal(rel.target);
    if (!rel.external) rel.target_key = ResolveTarget(source_key, rel.target).value_or("");
    rels.push_back(std::move(rel));
  }
  return rels;
}

// The source part of a .rels part ("word/_rels/document.xml.rels" → "word/document.xml"; the
// package's own "_rels/.rels" → ""). nullopt: not a relationships part.
std::optional<std::string> RelsSource(std::string_view key) {
  if (!key.ends_with(".rels")) return std::nullopt;
  const std::size_t slash = key.find_last_of('/');
  const std::string_view dir = slash == std::string_view::npos ? "" : key.substr(0, slash + 1);
  if (!dir.ends_with("_rels/") || (dir.size() > 6 && dir[dir.size() - 7] != '/')) {
    return std::nullopt;
  }
  const std::string_view file = key.substr(dir.size());
  return std::string(dir.substr(0, dir.size() - 6)) + std::string(file.substr(0, file.size() - 5));
}

struct MainType {
  std::string_view content_type;
  std::string_view name;
  std::string_view macro_free;  // The type it becomes once its macros are gone; empty: itself.
};

constexpr std::array<MainType, 16> kMainTypes = {{
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "docx",
     ""},
    {"application/vnd.ms-word.document.macroenabled.main+xml", "docm", "docx"},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml", "dotx",
     ""},
    {"application/vnd.ms-word.template.macroenabledtemplate.main+xml", "dotm", "dotx"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xlsx", ""},
    {"application/vnd.ms-excel.sheet.macroenabled.main+xml", "xlsm", "xlsx"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml", "xltx", ""},
    {"application/vnd.ms-excel.template.macroenabled.main+xml", "xltm", "xltx"},
    {"application/vnd.ms-excel.addin.macroenabled.main+xml", "xlam", "xlsx"},
    {"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", "pptx",
     ""},
    {"application/vnd.ms-powerpoint.presentation.macroenabled.main+xml", "pptm", "pptx"},
    {"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml", "potx", ""},
    {"application/vnd.ms-powerpoint.template.macroenabled.main+xml", "potm", "potx"},
    {"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml", "ppsx", ""},
    {"application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml", "ppsm", "ppsx"},
    {"application/vnd.ms-powerpoint.addin.macroenabled.main+xml", "ppam", "pptx"},
}};

const MainType* MainTypeByContentType(std::string_view content_type) {
  for (const MainType& type : kMainTypes) {
    if (type.content_type == content_type) return &type;
  }
  return nullptr;
}

const MainType* MainTypeByName(std::string_view name) {
  for (const MainType& type : kMainTypes) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

// The main document part: the target of the package's officeDocument relationship.
std::optional<std::string> MainPartKey(const std::vector<Relationship>& root_rels) {
  for (const Relationship& rel : root_rels) {
    if (!rel.external && TypeSuffix(rel.type) == "officeDocument" && !rel.target_key.empty()) {
      return rel.target_key;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// What the disarmer takes out.

enum class PartClass {
  kKeep,
  kVba,           // VBA project, its signatures and data, key bindings, toolbars.
  kXlm,           // Excel 4.0 macro sheets, international macro sheets, dialog sheets.
  kActiveX,       // ActiveX control parts.
  kOle,           // Embedded OLE objects (and anything else in an embeddings folder).
  kPackage,       // An embedded Office package or imported chunk: sanitised as its own file.
  kExternalLink,  // Excel external workbook links (and their DDE links).
  kCustomUi,      // Ribbon customisation: buttons and callbacks wired to macros.
};

const std::set<std::string_view> kVbaContentTypes = {
    "application/vnd.ms-office.vbaproject",
    "application/vnd.ms-office.vbaprojectsignature",
    "application/vnd.ms-office.vbaprojectsignatureagile",
    "application/vnd.ms-office.vbaprojectsignaturev3",
    "application/vnd.ms-word.vbadata+xml",
    "application/vnd.ms-word.keymapcustomizations+xml",
    "application/vnd.ms-word.attachedtoolbars",
    "application/vnd.ms-excel.vbaproject",
};
const std::set<std::string_view> kVbaRelTypes = {
    "vbaProject",  "vbaProjectSignature",  "vbaProjectSignatureAgile", "vbaProjectSignatureV3",
    "wordVbaData", "keyMapCustomizations", "attachedToolbars"};
const std::set<std::string_view> kXlmContentTypes = {
    "application/vnd.ms-excel.macrosheet+xml",
    "application/vnd.ms-excel.intlmacrosheet+xml",
    "application/vnd.ms-excel.macrosheet",
    "application/vnd.ms-excel.intlmacrosheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.dialogsheet+xml",
};
const std::set<std::string_view> kXlmRelTypes = {"xlMacrosheet", "xlIntlMacrosheet", "dialogsheet"};
const std::set<std::string_view> kActiveXContentTypes = {"application/vnd.ms-office.activex+xml",
                                                         "application/vnd.ms-office.activex"};
const std::set<std::string_view> kActiveXRelTypes = {"control", "activeXControlBinary"};

PartClass Classify(const std::string& key, const std::string& content_type,
                   const std::set<std::string>& inbound) {
  const auto has_inbound = [&](const std::set<std::string_view>& types) {
    return std::any_of(inbound.begin(), inbound.end(),
                       [&](const std::string& t) { return types.count(t) != 0; });
  };
  const std::string base = BaseName(key);
  if (kVbaContentTypes.count(content_type) != 0 || has_inbound(kVbaRelTypes) ||
      (base.starts_with("vbaproject") && base.ends_with(".bin")) || base == "vbadata.xml") {
    return PartClass::kVba;
  }
  if (kXlmContentTypes.count(content_type) != 0 || has_inbound(kXlmRelTypes) ||
      key.find("/macrosheets/") != std::string::npos ||
      key.find("/dialogsheets/") != std::string::npos) {
    return PartClass::kXlm;
  }
  if (kActiveXContentTypes.count(content_type) != 0 || has_inbound(kActiveXRelTypes) ||
      key.find("/activex/") != std::string::npos) {
    return PartClass::kActiveX;
  }
  if (content_type ==
          "application/vnd.openxmlformats-officedocument.spreadsheetml.externallink+xml" ||
      inbound.count("externalLink") != 0 || key.find("/externallinks/") != std::string::npos) {
    return PartClass::kExternalLink;
  }
  if (inbound.count("extensibility") != 0 || key.starts_with("customui/")) {
    return PartClass::kCustomUi;
  }
  if (inbound.count("oleObject") != 0 ||
      content_type == "application/vnd.openxmlformats-officedocument.oleobject") {
    return PartClass::kOle;
  }
  if (inbound.count("package") != 0 || inbound.count("aFChunk") != 0) return PartClass::kPackage;
  if (key.find("/embeddings/") != std::string::npos) return PartClass::kOle;
  return PartClass::kKeep;
}

// Word field instructions that run or fetch something. Their shown result stays.
struct FieldRule {
  std::string_view keyword;
  std::string_view kind;
  std::string_view what;
};
constexpr std::array<FieldRule, 8> kFieldRules = {{
    {"DDEAUTO", "dde-field", "runs a program through DDE when the document opens"},
    {"DDE", "dde-field", "runs a program through DDE"},
    {"INCLUDETEXT", "external-link", "fetches text from another file or address"},
    {"INCLUDEPICTURE", "external-link", "fetches a picture from another file or address"},
    {"INCLUDE", "external-link", "fetches content from another file"},
    {"IMPORT", "external-link", "fetches a picture from another file"},
    {"LINK", "external-link", "links an object in another file"},
    {"DATABASE", "external-link", "queries an external data source"},
}};

// The field's command word (upper case); empty when the instruction starts with something else.
std::string FieldKeyword(std::string_view instruction) {
  instruction = Trim(instruction);
  std::string word;
  for (char c : instruction) {
    if (std::isalpha(static_cast<unsigned char>(c)) == 0) break;
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return word;
}

const FieldRule* DangerousField(std::string_view instruction) {
  const std::string keyword = FieldKeyword(instruction);
  for (const FieldRule& rule : kFieldRules) {
    if (rule.keyword == keyword) return &rule;
  }
  return nullptr;
}

// Hyperlinks that may stay: to a web page or a mail address, or a relative reference (a
// bookmark, a neighbouring document) that reaches no file share and names no program. Anything
// else — file shares (which also leak the reader's Windows credentials), protocol handlers
// (ms-msdt:, search-ms:), programs — goes; the link's text stays.
bool SafeHyperlink(std::string_view target) {
  const std::string lower = Lower(Trim(target));
  if (lower.starts_with("http://") || lower.starts_with("https://") ||
      lower.starts_with("mailto:")) {
    return true;
  }
  if (lower.find(':') != std::string::npos || lower.find("//") != std::string::npos ||
      lower.find('\\') != std::string::npos) {
    return false;
  }
  const std::string ext = Extension(lower.substr(0, lower.find_first_of("#?")));
  static constexpr std::array<std::string_view, 18> kPrograms = {
      "exe", "com", "bat", "cmd", "scr", "pif", "lnk", "js",  "jse",
      "vbs", "vbe", "ps1", "hta", "msi", "jar", "url", "reg", "wsf"};
  return std::find(kPrograms.begin(), kPrograms.end(), ext) == kPrograms.end();
}

// A template path on the reader's own disk ("C:\…", "file:///C:/…") fetches nothing remote.
bool LocalPath(std::string_view target) {
  std::string lower = Lower(Trim(target));
  if (lower.starts_with("file:///")) lower = lower.substr(8);
  return lower.size() > 2 && std::isalpha(static_cast<unsigned char>(lower[0])) != 0 &&
         lower[1] == ':' && (lower[2] == '\\' || lower[2] == '/');
}

// Excel formulas that refer to an external workbook ("[1]Sheet1!A1").
bool RefersToExternalBook(std::string_view formula) {
  for (std::size_t i = 0; i + 2 < formula.size(); ++i) {
    if (formula[i] != '[') continue;
    std::size_t j = i + 1;
    while (j < formula.size() && std::isdigit(static_cast<unsigned char>(formula[j])) != 0) ++j;
    if (j > i + 1 && j < formula.size() && formula[j] == ']') return true;
  }
  return false;
}

// The finding that made a nested file refused, by kind ("executable", "vba-project" when the
// policy held it, ...).
std::string RefusalKind(const SanitizeReport& report) {
  for (const SanitizeFinding& finding : report.findings) {
    if (finding.action == Action::kBlocked) return finding.kind;
  }
  for (const SanitizeFinding& finding : report.findings) {
    if (finding.active) return finding.kind;
  }
  return report.verdict == SanitizeVerdict::kHeld ? "held" : "refused";
}

bool MayHoldXmlText(ByteView data, std::initializer_list<std::string_view> needles) {
  // UTF-16 parts (allowed by OPC) do not show ASCII needles: those are always parsed.
  if (data.size() >= 2 && (data[0] == 0xFF || data[0] == 0xFE || data[0] == 0 || data[1] == 0)) {
    return true;
  }
  const std::string_view text = AsChars(data);
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
  });
}

// ---------------------------------------------------------------------------------------------

class OoxmlDisarmer {
 public:
  OoxmlDisarmer(ByteView in, const DetectedType& type, Context& ctx)
      : in_(in), type_(type), ctx_(ctx) {}

  Result<Bytes> Run();

 private:
  struct Part {
    const ZipEntry* entry = nullptr;
    std::string key;
    Bytes data;
    bool removed = false;
    bool dirty = false;  // Data replaced (nested package) or XML to be written back.
  };
  struct RelsPart {
    std::size_t part = 0;    // Index of the .rels part.
    std::string source_key;  // "" for the package.
    std::vector<Relationship> rels;
  };

  Status CheckEntries();
  Status LoadParts();
  Status LoadStructure();
  Result<xmlDoc*> Doc(std::size_t part);
  std::optional<std::size_t> PartIndex(const std::string& key) const;
  const RelsPart* RelsOf(const std::string& source_key) const;
  std::set<std::string> Reachable() const;
  bool SourceRemoved(const RelsPart& rels) const;

  void RemoveClassifiedParts();
  void SanitiseEmbeddedPackages();
  void RemoveExternalRelationships();
  Status RemoveLaunchActions();
  void RemoveUnreachableParts(const std::set<std::string>& reachable_before);
  Status RepairRelationships();
  Status RepairWorkbook(std::size_t part, const std::set<std::string>& removed_ids);
  Status RemoveExternalFormulas();
  Status RemoveDangerousFields();
  Status RepairContentTypes();
  Result<Bytes> Write();

  void RemovePart(std::size_t index) {
    parts_[index].removed = true;
    changed_ = true;
  }

  ByteView in_;
  const DetectedType& type_;
  Context& ctx_;
  std::unique_ptr<ZipReader> zip_;
  std::vector<Part> parts_;
  std::map<std::string, std::size_t> by_key_;
  std::map<std::size_t, XmlDocPtr> docs_;
  std::size_t content_types_part_ = 0;
  ContentTypes content_types_;
  std::vector<RelsPart> rels_;
  std::string main_key_;
  std::set<std::string> removed_sheet_names_;
  bool sheets_removed_ = false;
  bool external_books_removed_ = false;
  bool changed_ = false;
};

Result<Bytes> OoxmlDisarmer::Run() {
  HK_ASSIGN_OR_RETURN(zip_, ZipReader::Open(in_));
  HK_RETURN_IF_ERROR(CheckEntries());
  HK_RETURN_IF_ERROR(LoadParts());
  HK_RETURN_IF_ERROR(LoadStructure());
  if (!zip_->consistent()) {
    ctx_.Add("inconsistent-archive", "", Action::kNeutralised,
             "The zip structure is inconsistent (local headers that disagree with the central "
             "directory, or bytes outside the entries); the package was rewritten from its "
             "central directory.",
             false);
    changed_ = true;
  }

  const std::set<std::string> reachable_before = Reachable();
  RemoveClassifiedParts();
  SanitiseEmbeddedPackages();
  if (ctx_.blocked()) return FailedPreconditionError("a limit was exceeded inside the package");
  RemoveExternalRelationships();
  HK_RETURN_IF_ERROR(RemoveLaunchActions());
  RemoveUnreachableParts(reachable_before);
  HK_RETURN_IF_ERROR(RepairRelationships());
  HK_RETURN_IF_ERROR(RemoveExternalFormulas());
  HK_RETURN_IF_ERROR(RemoveDangerousFields());
  if (!changed_) return Bytes(in_.begin(), in_.end());
  HK_RETURN_IF_ERROR(RepairContentTypes());
  return Write();
}

Status OoxmlDisarmer::CheckEntries() {
  const std::vector<ZipEntry>& entries = zip_->entries();
  if (entries.size() > ctx_.limits().max_archive_entries) {
    ctx_.Add("limit-exceeded", "", Action::kBlocked,
             "The package has " + std::to_string(entries.size()) + " parts, more than " +
                 std::to_string(ctx_.limits().max_archive_entries) + " (max_archive_entries).",
             false);
    return FailedPreconditionError("too many parts in the package");
  }
  std::set<std::string> seen;
  for (const ZipEntry& entry : entries) {
    if (entry.encrypted) {
      ctx_.Add("encrypted", entry.name, Action::kBlocked,
               "A part is encrypted at the zip level, which hokan cannot look inside.", false);
      return InvalidArgumentError("the package has an encrypted part");
    }
    const std::string unsafe = UnsafeNameReason(entry);
    if (!unsafe.empty()) {
      ctx_.Add("malformed", entry.name, Action::kBlocked, "Invalid part name: " + unsafe + ".",
               false);
      return InvalidArgumentError("the package has an invalid part name");
    }
    // OPC part names are case-insensitive, and readers differ in which of two equal names they
    // use: the one hokan checks might not be the one Office opens.
    if (!seen.insert(FoldName(entry.name)).second) {
      ctx_.Add("malformed", entry.name, Action::kBlocked,
               "Two parts have the same name (ignoring case); readers differ in which one they "
               "use.",
               false);
      return InvalidArgumentError("the package has two parts with the same name");
    }
  }
  return OkStatus();
}

Status OoxmlDisarmer::LoadParts() {
  for (const ZipEntry& entry : zip_->entries()) {
    Part part;
    part.entry = &entry;
    part.key = PartKey(entry.name);
    if (!entry.directory) {
      HK_ASSIGN_OR_RETURN(part.data, zip_->Read(entry, ctx_));
    }
    by_key_[part.key] = parts_.size();
    parts_.push_back(std::move(part));
  }
  return OkStatus();
}

Result<xmlDoc*> OoxmlDisarmer::Doc(std::size_t part) {
  if (auto it = docs_.find(part); it != docs_.end()) return it->second.get();
  HK_ASSIGN_OR_RETURN(XmlDocPtr doc, ParseXml(parts_[part].data, parts_[part].entry->name));
  xmlDoc* raw = doc.get();
  docs_[part] = std::move(doc);
  return raw;
}

std::optional<std::size_t> OoxmlDisarmer::PartIndex(const std::string& key) const {
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

const OoxmlDisarmer::RelsPart* OoxmlDisarmer::RelsOf(const std::string& source_key) const {
  for (const RelsPart& rels : rels_) {
    if (rels.source_key == source_key) return &rels;
  }
  return nullptr;
}

bool OoxmlDisarmer::SourceRemoved(const RelsPart& rels) const {
  if (parts_[rels.part].removed) return true;
  if (rels.source_key.empty()) return false;
  const std::optional<std::size_t> source = PartIndex(rels.source_key);
  return source.has_value() && parts_[*source].removed;
}

Status OoxmlDisarmer::LoadStructure() {
  const std::optional<std::size_t> types = PartIndex("[content_types].xml");
  if (!types) return InvalidArgumentError("the package has no [Content_Types].xml");
  content_types_part_ = *types;
  HK_ASSIGN_OR_RETURN(xmlDoc * types_doc, Doc(*types));
  content_types_ = ReadContentTypes(types_doc);
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    const std::optional<std::string> source = RelsSource(parts_[i].key);
    if (!source || parts_[i].entry->directory) continue;
    HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(i));
    rels_.push_back(RelsPart{i, *source, ReadRelationships(doc, *source)});
  }
  const RelsPart* root = RelsOf("");
  const std::optional<std::string> main = root ? MainPartKey(root->rels) : std::nullopt;
  if (!main || !PartIndex(*main)) {
    return InvalidArgumentError("the package names no main document part that exists");
  }
  main_key_ = *main;
  return OkStatus();
}

// Parts reachable from the package's relationships through internal relationships of parts
// that are not removed.
std::set<std::string> OoxmlDisarmer::Reachable() const {
  std::set<std::string> seen;
  std::vector<std::string> queue = {""};
  while (!queue.empty()) {
    const std::string source = std::move(queue.back());
    queue.pop_back();
    const RelsPart* rels = RelsOf(source);
    if (rels == nullptr) continue;
    for (const Relationship& rel : rels->rels) {
      if (rel.external || rel.removed || rel.target_key.empty()) continue;
      const std::optional<std::size_t> target = PartIndex(rel.target_key);
      if (!target || parts_[*target].removed) continue;
      if (seen.insert(rel.target_key).second) queue.push_back(rel.target_key);
    }
  }
  return seen;
}

void OoxmlDisarmer::RemoveClassifiedParts() {
  std::map<std::string, std::set<std::string>> inbound;
  for (const RelsPart& rels : rels_) {
    for (const Relationship& rel : rels.rels) {
      if (!rel.external) inbound[rel.target_key].insert(std::string(TypeSuffix(rel.type)));
    }
  }
  const bool spreadsheet = type_.name.starts_with("xl");
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    Part& part = parts_[i];
    if (part.entry->directory || i == content_types_part_ || RelsSource(part.key)) continue;
    const std::string content_type = content_types_.For(part.key);
    if (content_type.empty()) {
      ctx_.Add("orphan-part", part.entry->name, Action::kRemoved,
               "A part without a content type (Office does not use it) was removed.", false);
      RemovePart(i);
      continue;
    }
    const PartClass cls = Classify(part.key, content_type, inbound[part.key]);
    const std::string& where = part.entry->name;
    switch (cls) {
      case PartClass::kKeep:
      case PartClass::kPackage:
        continue;
      case PartClass::kVba:
        ctx_.Add("vba-project", where, Action::kRemoved,
                 "A VBA macro project (or its data, signature or key bindings) was removed.");
        break;
      case PartClass::kXlm:
        ctx_.Add("xlm-macro-sheet", where, Action::kRemoved,
                 "An Excel 4.0 macro sheet (or dialog sheet) was removed, with its sheet entry "
                 "and the names that referred to it.");
        sheets_removed_ = true;
        break;
      case PartClass::kActiveX:
        ctx_.Add("activex", where, Action::kRemoved, "An ActiveX control was removed.");
        break;
      case PartClass::kOle:
        ctx_.Add("ole-object", where, Action::kRemoved,
                 "An embedded OLE object was removed (its preview picture stays).");
        break;
      case PartClass::kExternalLink: {
        const bool dde = AsChars(part.data).find("ddeLink") != std::string_view::npos;
        ctx_.Add(dde ? "dde-field" : "external-link", where, Action::kRemoved,
                 dde ? "An Excel DDE link (runs a program through DDE) was removed; cells keep "
                       "their last values."
                     : "A link to an external workbook was removed; cells keep their last "
                       "values.");
        external_books_removed_ = true;
        break;
      }
      case PartClass::kCustomUi:
        ctx_.Add("custom-ui", where, Action::kRemoved,
                 "A ribbon customisation (buttons and callbacks wired to macros) was removed.");
        break;
    }
    RemovePart(i);
  }
  // Excel rebuilds the calculation chain; a stale one that names a removed sheet is an error.
  if (sheets_removed_ && spreadsheet) {
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      if (content_types_.For(parts_[i].key) ==
          "application/vnd.openxmlformats-officedocument.spreadsheetml.calcchain+xml") {
        RemovePart(i);
      }
    }
  }
}

void OoxmlDisarmer::SanitiseEmbeddedPackages() {
  std::map<std::string, std::set<std::string>> inbound;
  for (const RelsPart& rels : rels_) {
    if (SourceRemoved(rels)) continue;
    for (const Relationship& rel : rels.rels) {
      if (!rel.external) inbound[rel.target_key].insert(std::string(TypeSuffix(rel.type)));
    }
  }
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    Part& part = parts_[i];
    if (part.removed || part.entry->directory) continue;
    const std::set<std::string>& types = inbound[part.key];
    if (types.count("package") == 0 && types.count("aFChunk") == 0) continue;
    const SanitizeOutcome outcome = ctx_.Nested(part.entry->name, part.data);
    if (ctx_.blocked()) return;
    const SanitizeReport& report = outcome.report;
    const bool same_type = report.output_type.empty() || report.output_type == report.detected.name;
    if (report.verdict == SanitizeVerdict::kClean) continue;
    if (report.verdict == SanitizeVerdict::kDisarmed && same_type) {
      part.data = outcome.output;
      part.dirty = true;
      changed_ = true;
      continue;
    }
    // Renaming the part to its new type would also mean new content types and OLE class ids;
    // an embedded package that changed type, or was refused, goes.
    const bool chunk = types.count("aFChunk") != 0;
    ctx_.Add(chunk ? "embedded-file" : "ole-object", part.entry->name, Action::kRemoved,
             std::string(chunk ? "An imported chunk" : "An embedded package") +
                 (report.verdict == SanitizeVerdict::kDisarmed
                      ? " had its macros removed, which changes its type; it was removed."
                      : " was refused (" + RefusalKind(report) + "); it was removed."));
    RemovePart(i);
  }
}

void OoxmlDisarmer::RemoveExternalRelationships() {
  for (RelsPart& rels : rels_) {
    if (SourceRemoved(rels)) continue;
    const std::string& where = parts_[rels.part].entry->name;
    for (Relationship& rel : rels.rels) {
      if (!rel.external || rel.removed) continue;
      const std::string_view suffix = TypeSuffix(rel.type);
      if (suffix == "hyperlink") {
        if (SafeHyperlink(rel.target)) continue;
        ctx_.Add("external-link", where, Action::kRemoved,
                 "A hyperlink to something other than a web page or a mail address (a file "
                 "share, a program or protocol handler) was removed; its text stays.");
      } else if (suffix == "attachedTemplate") {
        const bool remote = !LocalPath(rel.target);
        ctx_.Add("remote-template", where, Action::kRemoved,
                 remote ? "A template fetched from another computer or address when the "
                          "document opens was removed."
                        : "A reference to a template on the author's disk was removed.",
                 remote);
      } else {
        // The type's last segment names it for people (oleObject, image, frame); it comes from
        // the file, so only a plain word of it is repeated.
        const bool plain =
            suffix.size() <= 40 && std::all_of(suffix.begin(), suffix.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0;
            });
        ctx_.Add("external-link", where, Action::kRemoved,
                 "An external " + (plain ? std::string(suffix) + " " : std::string()) +
                     "relationship (fetched when the file is opened or updated) was removed.");
      }
      rel.removed = true;
      changed_ = true;
    }
  }
}

// PowerPoint action settings that run a program, a macro or an object's verb when a shape is
// clicked or hovered over; the relationship naming the program goes with them.
Status OoxmlDisarmer::RemoveLaunchActions() {
  if (!type_.name.starts_with("p")) return OkStatus();
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    Part& part = parts_[i];
    if (part.removed || part.entry->directory || RelsSource(part.key) ||
        !part.key.ends_with(".xml") || i == content_types_part_ ||
        !MayHoldXmlText(part.data, {"ppaction://program", "ppaction://macro", "ppaction://ole"})) {
      continue;
    }
    HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(i));
    std::vector<xmlNode*> gone;
    std::set<std::string> ids;
    ForEachElement(xmlDocGetRootElement(doc), [&](xmlNode* node) {
      const std::string action = Lower(Attr(node, "action").value_or(""));
      if (!action.starts_with("ppaction://program") && !action.starts_with("ppaction://macro") &&
          !action.starts_with("ppaction://ole")) {
        return;
      }
      gone.push_back(node);
      for (const std::string& id : RelationshipRefs(node)) ids.insert(id);
      ctx_.Add("launch-action", part.entry->name, Action::kRemoved,
               "A click or hover action that runs a program, a macro or an embedded object was "
               "removed.");
    });
    if (gone.empty()) continue;
    RemoveAll(doc, gone);
    for (RelsPart& rels : rels_) {
      if (rels.source_key != part.key) continue;
      for (Relationship& rel : rels.rels) {
        if (ids.count(rel.id) != 0) rel.removed = true;
      }
    }
    part.dirty = true;
    changed_ = true;
  }
  return OkStatus();
}

void OoxmlDisarmer::RemoveUnreachableParts(const std::set<std::string>& reachable_before) {
  // What only a removed part used (a control's binary, a VBA project's data) goes with it.
  // Parts nothing referred to in the first place are left as they were.
  const std::set<std::string> reachable_after = Reachable();
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (parts_[i].removed || reachable_before.count(parts_[i].key) == 0) continue;
    if (reachable_after.count(parts_[i].key) == 0) RemovePart(i);
  }
  // Relationship parts of removed parts.
  for (const RelsPart& rels : rels_) {
    if (SourceRemoved(rels) && !parts_[rels.part].removed) RemovePart(rels.part);
  }
}

Status OoxmlDisarmer::RepairRelationships() {
  for (RelsPart& rels : rels_) {
    if (SourceRemoved(rels)) continue;
    std::set<std::string> removed_ids;
    for (Relationship& rel : rels.rels) {
      if (!rel.external && !rel.removed) {
        const std::optional<std::size_t> target = PartIndex(rel.target_key);
        if (target && parts_[*target].removed) rel.removed = true;
      }
      if (rel.removed) removed_ids.insert(rel.id);
    }
    if (removed_ids.empty()) continue;
    HK_ASSIGN_OR_RETURN(xmlDoc * rels_doc, Doc(rels.part));
    std::vector<xmlNode*> gone;
    for (xmlNode* node : ElementChildren(xmlDocGetRootElement(rels_doc))) {
      if (LocalName(node) == "Relationship" &&
          removed_ids.count(Attr(node, "Id").value_or("")) != 0) {
        gone.push_back(node);
      }
    }
    for (xmlNode* node : gone) RemoveNode(node);
    parts_[rels.part].dirty = true;
    changed_ = true;

    // The source's XML must not point at relationships that are gone.
    if (rels.source_key.empty()) continue;
    const std::optional<std::size_t> source = PartIndex(rels.source_key);
    if (!source) continue;
    if (rels.source_key == main_key_ && type_.name.starts_with("xl")) {
      HK_RETURN_IF_ERROR(RepairWorkbook(*source, removed_ids));
    }
    HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(*source));
    std::vector<xmlNode*> refs;
    ForEachElement(xmlDocGetRootElement(doc), [&](xmlNode* node) {
      for (const std::string& id : RelationshipRefs(node)) {
        if (removed_ids.count(id) != 0) {
          refs.push_back(node);
          break;
        }
      }
    });
    RemoveAll(doc, refs);
    parts_[*source].dirty = true;
  }
  return OkStatus();
}

// The workbook after sheets went: names that belonged to or pointed at them, and views that
// counted them, follow; macro names and auto-run names go in any case.
Status OoxmlDisarmer::RepairWorkbook(std::size_t part, const std::set<std::string>& removed_ids) {
  HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(part));
  xmlNode* root = xmlDocGetRootElement(doc);
  std::vector<int> removed_positions;
  std::vector<std::string> removed_names;
  int sheet_count = 0;
  ForEachElement(root, [&](xmlNode* node) {
    if (!IsElement(node, "sheet") || !IsElement(node->parent, "sheets")) return;
    for (const std::string& id : RelationshipRefs(node)) {
      if (removed_ids.count(id) != 0) {
        removed_positions.push_back(sheet_count);
        removed_names.push_back(Lower(Attr(node, "name").value_or("")));
      }
    }
    ++sheet_count;
  });
  const auto new_position = [&](int old) -> std::optional<int> {
    int shift = 0;
    for (int removed : removed_positions) {
      if (removed == old) return std::nullopt;
      if (removed < old) ++shift;
    }
    return old - shift;
  };
  std::vector<xmlNode*> gone;
  ForEachElement(root, [&](xmlNode* node) {
    if (IsElement(node, "definedName")) {
      const std::string name = Lower(Attr(node, "name").value_or(""));
      const std::string formula = Lower(Text(node));
      bool drop = Attr(node, "function") == "1" || Attr(node, "vbProcedure") == "1" ||
                  Attr(node, "xlm") == "1";
      for (std::string_view trigger : {"auto_open", "auto_close", "auto_activate",
                                       "auto_deactivate", "_xlnm.auto_open", "_xlnm.auto_close"}) {
        drop = drop || name.starts_with(trigger);
      }
      for (const std::string& sheet : removed_names) {
        std::string quoted = "'";
        for (char c : sheet) quoted += c == '\'' ? std::string("''") : std::string(1, c);
        drop = drop || formula.find(sheet + "!") != std::string::npos ||
               formula.find(quoted + "'!") != std::string::npos;
      }
      if (external_books_removed_ && RefersToExternalBook(formula)) drop = true;
      if (const std::optional<std::string> local = Attr(node, "localSheetId"); local && !drop) {
        const std::optional<int> moved = new_position(std::atoi(local->c_str()));
        if (!moved) {
          drop = true;
        } else {
          xmlSetProp(node, reinterpret_cast<const xmlChar*>("localSheetId"),
                     reinterpret_cast<const xmlChar*>(std::to_string(*moved).c_str()));
        }
      }
      if (drop) gone.push_back(node);
    } else if (IsElement(node, "workbookView")) {
      for (const char* attr : {"activeTab", "firstSheet"}) {
        if (const std::optional<std::string> value = Attr(node, attr)) {
          const int moved = new_position(std::atoi(value->c_str())).value_or(0);
          xmlSetProp(node, reinterpret_cast<const xmlChar*>(attr),
                     reinterpret_cast<const xmlChar*>(std::to_string(moved).c_str()));
        }
      }
    }
  });
  RemoveAll(doc, gone);
  parts_[part].dirty = true;
  return OkStatus();
}

// Cells whose formula reads a removed external workbook keep their last value, not the formula.
Status OoxmlDisarmer::RemoveExternalFormulas() {
  if (!external_books_removed_) return OkStatus();
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    Part& part = parts_[i];
    if (part.removed || content_types_.For(part.key) !=
                            "application/vnd.openxmlformats-officedocument.spreadsheetml."
                            "worksheet+xml") {
      continue;
    }
    if (!MayHoldXmlText(part.data, {"["})) continue;
    HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(i));
    std::vector<xmlNode*> gone;
    std::set<std::string> shared;
    ForEachElement(xmlDocGetRootElement(doc), [&](xmlNode* node) {
      if (!IsElement(node, "f") || !RefersToExternalBook(Text(node))) return;
      gone.push_back(node);
      if (Attr(node, "t") == "shared") shared.insert(Attr(node, "si").value_or(""));
    });
    if (gone.empty()) continue;
    // Cells that share a removed formula only name its index.
    ForEachElement(xmlDocGetRootElement(doc), [&](xmlNode* node) {
      if (IsElement(node, "f") && Attr(node, "t") == "shared" &&
          shared.count(Attr(node, "si").value_or("")) != 0 &&
          std::find(gone.begin(), gone.end(), node) == gone.end()) {
        gone.push_back(node);
      }
    });
    for (xmlNode* node : gone) RemoveNode(node);
    part.dirty = true;
    changed_ = true;
  }
  return OkStatus();
}

// Word fields are runs: begin, instruction text, separate, the shown result, end — nested,
// and split over as many runs as the author (or an attacker hiding "DDEAUTO") likes. A field
// that runs or fetches something loses everything but its result; so does a field whose command
// word is computed by another field (an obfuscation, never seen in ordinary documents).
Status OoxmlDisarmer::RemoveDangerousFields() {
  if (!type_.name.starts_with("do")) return OkStatus();
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    Part& part = parts_[i];
    if (part.removed || part.entry->directory || RelsSource(part.key) ||
        !part.key.ends_with(".xml") || i == content_types_part_) {
      continue;
    }
    if (!MayHoldXmlText(part.data, {"instrText", "InstrText", "fldSimple"})) continue;
    HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(i));

    struct Field {
      std::vector<xmlNode*> nodes;
      std::string instruction;
      bool separated = false;
      bool computed = false;
    };
    struct Hit {
      const FieldRule* rule;  // Null: a computed command word.
      std::vector<xmlNode*> nodes;
    };
    std::vector<Field> open;
    std::vector<Hit> hits;
    std::vector<std::pair<xmlNode*, const FieldRule*>> simple;
    const auto add_to_open = [&](xmlNode* node) {
      for (Field& field : open) {
        if (!field.separated) field.nodes.push_back(node);
      }
    };
    const auto close = [&](Field field) {
      const FieldRule* rule = DangerousField(field.instruction);
      if (rule != nullptr || field.computed) hits.push_back(Hit{rule, std::move(field.nodes)});
    };
    ForEachElement(xmlDocGetRootElement(doc), [&](xmlNode* node) {
      if (!InWordNs(node)) return;
      const std::string_view name = LocalName(node);
      if (name == "fldChar") {
        const std::string kind = Attr(node, "fldCharType").value_or("");
        if (kind == "begin") {
          if (!open.empty() && !open.back().separated && Trim(open.back().instruction).empty()) {
            open.back().computed = true;
          }
          add_to_open(node);
          open.push_back(Field{{node}, "", false, false});
        } else if (kind == "separate" && !open.empty()) {
          add_to_open(node);
          open.back().separated = true;
          open.back().nodes.push_back(node);
        } else if (kind == "end" && !open.empty()) {
          Field field = std::move(open.back());
          open.pop_back();
          field.nodes.push_back(node);
          add_to_open(node);
          close(std::move(field));
        }
      } else if (name == "instrText" || name == "delInstrText") {
        if (open.empty() || open.back().separated) {
          // Instruction text outside any field: Word ignores it, but it says what it says.
          if (const FieldRule* rule = DangerousField(Text(node))) hits.push_back(Hit{rule, {node}});
          return;
        }
        open.back().instruction += Text(node);
        add_to_open(node);
      } else if (name == "t" || name == "delText") {
        add_to_open(node);
      } else if (name == "fldSimple") {
        if (const FieldRule* rule = DangerousField(Attr(node, "instr").value_or(""))) {
          simple.emplace_back(node, rule);
        }
      }
    });
    while (!open.empty()) {  // Fields never ended: judged on what they have.
      Field field = std::move(open.back());
      open.pop_back();
      close(std::move(field));
    }
    if (hits.empty() && simple.empty()) continue;

    std::set<xmlNode*> gone;
    for (const Hit& hit : hits) {
      ctx_.Add(hit.rule != nullptr ? std::string(hit.rule->kind) : "dde-field", part.entry->name,
               Action::kRemoved,
               hit.rule != nullptr
                   ? "A " + std::string(hit.rule->keyword) + " field (" +
                         std::string(hit.rule->what) + ") was removed; its shown result stays."
                   : "A field whose command is computed by another field (a way to hide DDE) "
                     "was removed; its shown result stays.");
      gone.insert(hit.nodes.begin(), hit.nodes.end());
    }
    for (xmlNode* node : gone) RemoveNode(node);
    for (const auto& [node, rule] : simple) {
      ctx_.Add(std::string(rule->kind), part.entry->name, Action::kRemoved,
               "A " + std::string(rule->keyword) + " field (" + std::string(rule->what) +
                   ") was removed; its shown result stays.");
    }
    for (const auto& entry : simple) Unwrap(entry.first);
    part.dirty = true;
    changed_ = true;
  }
  return OkStatus();
}

Status OoxmlDisarmer::RepairContentTypes() {
  HK_ASSIGN_OR_RETURN(xmlDoc * doc, Doc(content_types_part_));
  std::set<std::string> extensions_left;
  for (const Part& part : parts_) {
    if (!part.removed && !part.entry->directory) extensions_left.insert(Extension(part.key));
  }
  const MainType* main = MainTypeByName(type_.name);
  const bool switch_type = main != nullptr && !main->macro_free.empty();
  const MainType* target = switch_type ? MainTypeByName(main->macro_free) : nullptr;
  bool main_overridden = false;
  std::vector<xmlNode*> gone;
  for (xmlNode* node : ElementChildren(xmlDocGetRootElement(doc))) {
    const std::string type = Lower(Trim(Attr(node, "ContentType").value_or("")));
    if (LocalName(node) == "Override") {
      const std::string key = PartKey(Attr(node, "PartName").value_or(""));
      const std::optional<std::size_t> part = PartIndex(key);
      if (!part || parts_[*part].removed) {
        gone.push_back(node);
      } else if (key == main_key_) {
        main_overridden = true;
        if (target != nullptr) {
          xmlSetProp(node, reinterpret_cast<const xmlChar*>("ContentType"),
                     reinterpret_cast<const xmlChar*>(std::string(target->content_type).c_str()));
        }
      }
    } else if (LocalName(node) == "Default") {
      const std::string ext = Lower(Attr(node, "Extension").value_or(""));
      const bool active = kVbaContentTypes.count(type) != 0 || kXlmContentTypes.count(type) != 0 ||
                          kActiveXContentTypes.count(type) != 0;
      if (active && extensions_left.count(ext) == 0) gone.push_back(node);
    }
  }
  for (xmlNode* node : gone) RemoveNode(node);
  if (target != nullptr && !main_overridden) {
    xmlNode* node = xmlNewChild(xmlDocGetRootElement(doc), xmlDocGetRootElement(doc)->ns,
                                reinterpret_cast<const xmlChar*>("Override"), nullptr);
    const std::string part_name = "/" + parts_[*PartIndex(main_key_)].entry->name;
    xmlSetProp(node, reinterpret_cast<const xmlChar*>("PartName"),
               reinterpret_cast<const xmlChar*>(part_name.c_str()));
    xmlSetProp(node, reinterpret_cast<const xmlChar*>("ContentType"),
               reinterpret_cast<const xmlChar*>(std::string(target->content_type).c_str()));
  }
  if (target != nullptr) ctx_.SetOutputType(std::string(target->name));
  parts_[content_types_part_].dirty = true;
  return OkStatus();
}

Result<Bytes> OoxmlDisarmer::Write() {
  for (auto& [index, doc] : docs_) {
    if (parts_[index].dirty && !parts_[index].removed) parts_[index].data = SerializeXml(doc.get());
  }
  ZipWriter writer;
  std::vector<std::size_t> order;
  order.push_back(content_types_part_);
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (i != content_types_part_) order.push_back(i);
  }
  for (std::size_t i : order) {
    Part& part = parts_[i];
    if (part.removed) continue;
    if (part.entry->directory) {
      HK_RETURN_IF_ERROR(writer.AddDirectory(part.entry->name, part.entry->mtime));
      continue;
    }
    HK_RETURN_IF_ERROR(writer.Add(part.entry->name, std::move(part.data),
                                  part.entry->compression_method != 0, part.entry->mtime));
  }
  return writer.Finish();
}

}  // namespace

std::optional<DetectedType> DetectZipType(ByteView in) {
  Result<std::unique_ptr<ZipReader>> opened = ZipReader::Open(in);
  if (!opened.has_value()) return std::nullopt;
  const ZipReader& zip = **opened;
  // Programs first: a Java archive (or an Android package) is refused whatever else it holds.
  for (const ZipEntry& entry : zip.entries()) {
    const std::string name = Lower(entry.name);
    if (name.ends_with(".class") || name == "meta-inf/manifest.mf" || name == "classes.dex") {
      return MakeType("jar");
    }
  }
  const ZipEntry* types_entry = zip.Find("[Content_Types].xml");
  if (types_entry == nullptr) {
    // OpenDocument files keep Basic macros as XML: hokan has no disarmer for them, so they are
    // refused as a type of their own rather than passed through as a plain zip.
    if (const ZipEntry* mimetype = zip.Find("mimetype")) {
      Result<Bytes> text = zip.Read(*mimetype, 256);
      if (text.has_value() && AsChars(*text).starts_with("application/vnd.oasis.opendocument")) {
        return MakeType("odf");
      }
    }
    return MakeType("zip");
  }
  // From here on it says it is an Office package: what does not parse is an unknown one
  // (refused), not a plain zip whose members would be checked one by one.
  const DetectedType unknown = MakeType("ooxml");
  const ZipEntry* root_entry = zip.Find("_rels/.rels");
  if (root_entry == nullptr) return MakeType("zip");
  Result<Bytes> root_bytes = zip.Read(*root_entry, kMaxDetectPart);
  Result<Bytes> types_bytes = zip.Read(*types_entry, kMaxDetectPart);
  if (!root_bytes.has_value() || !types_bytes.has_value()) return unknown;
  Result<XmlDocPtr> root_doc = ParseXml(*root_bytes, "_rels/.rels");
  Result<XmlDocPtr> types_doc = ParseXml(*types_bytes, "[Content_Types].xml");
  if (!root_doc.has_value() || !types_doc.has_value()) return unknown;
  const std::optional<std::string> main = MainPartKey(ReadRelationships(root_doc->get(), ""));
  // Other packages use the same conventions (XPS, NuGet, 3MF): without an Office document
  // they are zips, whose members are sanitised one by one.
  if (!main) return MakeType("zip");
  const std::string content_type = ReadContentTypes(types_doc->get()).For(*main);
  if (const MainType* type = MainTypeByContentType(content_type)) return MakeType(type->name);
  return unknown;
}

Result<Bytes> DisarmOoxml(ByteView in, const DetectedType& type, Context& ctx) {
  try {
    OoxmlDisarmer disarmer(in, type, ctx);
    return disarmer.Run();
  } catch (const std::bad_alloc&) {
    return UnavailableError("out of memory while disarming an Office package");
  }
}

}  // namespace hokan::sanitize_internal
