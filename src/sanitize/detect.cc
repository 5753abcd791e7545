// Type by content (README.md): hokan's own checks first (programs, containers, formats whose
// first bytes decide), then scripts among text, then libmagic for the rest and for the
// description. An extension is only ever used to be stricter, never to let something in.
#include <magic.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/sanitize.h"

namespace hokan {
namespace {

using sanitize_internal::MakeType;

// How far into a file the text and script checks look.
constexpr std::size_t kLookAhead = std::size_t{64} << 10;

bool StartsWith(ByteView in, std::string_view prefix) {
  return in.size() >= prefix.size() && std::memcmp(in.data(), prefix.data(), prefix.size()) == 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Extension(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot + 1 == name.size()) return "";
  return Lower(name.substr(dot + 1));
}

// One libmagic cookie per thread (magic_t is not thread-safe; loading the database is slow).
struct MagicCookie {
  magic_t cookie = nullptr;
  MagicCookie() {
    cookie = magic_open(MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ENCODING | MAGIC_ERROR);
    if (cookie != nullptr && magic_load(cookie, nullptr) != 0) {
      magic_close(cookie);
      cookie = nullptr;
    }
  }
  ~MagicCookie() {
    if (cookie != nullptr) magic_close(cookie);
  }
  MagicCookie(const MagicCookie&) = delete;
  MagicCookie& operator=(const MagicCookie&) = delete;
};

std::string MagicDescription(ByteView in) {
  thread_local MagicCookie magic;
  if (magic.cookie == nullptr) return "";
  // libmagic looks at the start of a file; 64 KiB is plenty and bounds its work.
  const std::size_t n = std::min<std::size_t>(in.size(), kLookAhead);
  const char* text = magic_buffer(magic.cookie, in.data(), n);
  return text != nullptr ? std::string(text) : std::string();
}

// The EICAR anti-virus test file: a 68-byte DOS program made of printable characters, that
// every scanner reports (G-6.5-C10). It may be followed by up to 60 bytes of white space.
bool IsEicar(ByteView in) {
  static constexpr std::string_view kEicar =
      "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  if (!StartsWith(in, kEicar) || in.size() > 128) return false;
  return std::all_of(in.begin() + kEicar.size(), in.end(),
                     [](std::uint8_t c) { return std::isspace(c) != 0 || c == 0x1a; });
}

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                              [](char a, char b) {
                                return std::tolower(static_cast<unsigned char>(a)) ==
                                       std::tolower(static_cast<unsigned char>(b));
                              });
  return it != haystack.end();
}

// Strong signs that a text file is a script for Windows Script Host, PowerShell or cmd.exe.
// Clinical text does not say these; a note that quotes one is better refused than run.
std::string ScriptKind(std::string_view text) {
  // Lower-cased once: ~20 markers are searched over up to 64 KiB on every text file ingested.
  const std::string head = Lower(text.substr(0, std::min<std::size_t>(text.size(), kLookAhead)));
  std::size_t start = 0;
  while (start < head.size() && std::isspace(static_cast<unsigned char>(head[start])) != 0) {
    ++start;
  }
  const std::string_view body = std::string_view(head).substr(start);
  auto has = [&](std::string_view sign) { return head.find(sign) != std::string::npos; };
  if (body.starts_with("#!")) return "script-shell";
  if (has("<hta:application")) return "hta";
  if ((body.substr(0, 64).find("<job") != std::string_view::npos ||
       body.substr(0, 64).find("<package") != std::string_view::npos) &&
      has("<script")) {
    return "script-wsf";
  }
  if (body.substr(0, 16).find("@echo off") != std::string_view::npos || has("%comspec%")) {
    return "script-batch";
  }
  for (std::string_view sign : {"invoke-expression", "-encodedcommand", "set-executionpolicy",
                                "new-object system.net.webclient", "downloadstring(",
                                "start-process ", "[system.reflection.assembly]"}) {
    if (has(sign)) return "script-powershell";
  }
  for (std::string_view sign :
       {"wscript.shell", "createobject(\"", "wscript.createobject", "shell.application"}) {
    if (has(sign)) {
      return has("activexobject") || has("function ") ? "script-javascript" : "script-vbscript";
    }
  }
  if (has("new activexobject(") || has("eval(unescape(")) return "script-javascript";
  return "";
}

// Looks like text: no NUL and few control characters in the first 64 KiB.
bool LooksLikeText(ByteView in) {
  const std::size_t n = std::min<std::size_t>(in.size(), kLookAhead);
  std::size_t controls = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t c = in[i];
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != 0x0c && c != 0x1a) ++controls;
  }
  return controls * 100 <= n;
}

std::string TextType(ByteView in, std::string_view ext) {
  std::string_view text = AsChars(in);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])) != 0) {
    ++start;
  }
  const std::string_view body = text.substr(start);
  if (body.starts_with("MSH|") || body.starts_with("FHS|") || body.starts_with("BHS|")) {
    return "hl7v2";
  }
  if (body.starts_with("<")) {
    if (ContainsNoCase(body.substr(0, 1024), "<html") ||
        ContainsNoCase(body.substr(0, 1024), "<!doctype html")) {
      return "html";
    }
    if (ContainsNoCase(body.substr(0, 1024), "<svg")) return "svg";
    return "xml";
  }
  if (body.starts_with("{") || body.starts_with("[")) return "json";
  if (ext == "csv") return "csv";
  if (ext == "tsv" || ext == "tab") return "tsv";
  return "text";
}

// Java class files and fat Mach-O binaries share the magic CAFEBABE; a class file's next word is
// its version (major >= 45), a fat binary's is its (small) number of architectures.
std::string CafeBabe(ByteView in) {
  if (in.size() < 8) return "mach-o";
  const unsigned second =
      (unsigned{in[4]} << 24) | (unsigned{in[5]} << 16) | (unsigned{in[6]} << 8) | unsigned{in[7]};
  return second >= 45 ? "java-class" : "mach-o";
}

// "MZ" followed by e_lfanew pointing at "PE\0\0": a Windows program. (A bare "MZ" at the start
// of text is only text; "MZ" before binary bytes is a DOS program and blocked as well.)
bool HasPeHeader(ByteView in) {
  if (in.size() < 0x40) return false;
  const std::uint32_t offset = std::uint32_t{in[0x3c]} | (std::uint32_t{in[0x3d]} << 8) |
                               (std::uint32_t{in[0x3e]} << 16) | (std::uint32_t{in[0x3f]} << 24);
  return offset <= in.size() - 4 && std::memcmp(in.data() + offset, "PE\0\0", 4) == 0;
}

std::string DetectName(ByteView in, std::string_view ext) {
  if (IsEicar(in)) return "com-eicar";
  // Before the program checks: a DICOM file whose preamble holds a program header is a
  // polyglot that the DICOM disarmer neutralises (sanitize.cc).
  if (in.size() >= 132 && std::memcmp(in.data() + 128, "DICM", 4) == 0) return "dicom";
  if (StartsWith(in, "MZ") && (HasPeHeader(in) || !LooksLikeText(in))) return "pe";
  if (StartsWith(in,
                 "\x7f"
                 "ELF"))
    return "elf";
  for (std::string_view m :
       {std::string_view("\xFE\xED\xFA\xCE", 4), std::string_view("\xCE\xFA\xED\xFE", 4),
        std::string_view("\xFE\xED\xFA\xCF", 4), std::string_view("\xCF\xFA\xED\xFE", 4)}) {
    if (StartsWith(in, m)) return "mach-o";
  }
  if (StartsWith(in, std::string_view("\xCA\xFE\xBA\xBE", 4))) return CafeBabe(in);
  if (StartsWith(in, std::string_view("\x4C\x00\x00\x00\x01\x14\x02\x00", 8))) return "lnk";
  if (StartsWith(in, "PK\x03\x04") || StartsWith(in, "PK\x05\x06")) {
    if (auto type = sanitize_internal::DetectZipType(in)) return type->name;
    return "zip";  // Unreadable: DisarmZip says why.
  }
  if (StartsWith(in, std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))) {
    if (auto type = sanitize_internal::DetectOle2Type(in)) return type->name;
    return "ole2";
  }
  if (StartsWith(in, "\x89PNG\r\n\x1a\n")) return "png";
  if (StartsWith(in, "\xFF\xD8\xFF")) return "jpeg";
  if (StartsWith(in, std::string_view("II*\0", 4)) ||
      StartsWith(in, std::string_view("MM\0*", 4))) {
    return "tiff";
  }
  if (StartsWith(in, "{\\rtf")) return "rtf";
  // PDF readers accept the header anywhere in the first KiB: a PDF behind other bytes is still a
  // PDF (and a polyglot), so it is found there too.
  {
    const std::string_view head = AsChars(in.first(std::min<std::size_t>(in.size(), 1024)));
    if (head.find("%PDF-") != std::string_view::npos) return "pdf";
  }
  // Disk images (ISO 9660, VHD, VHDX, Apple DMG trailer).
  if (in.size() >= 0x8006 && std::memcmp(in.data() + 0x8001, "CD001", 5) == 0) return "disk-image";
  if (StartsWith(in, "conectix") || StartsWith(in, "vhdxfile")) return "disk-image";
  if (in.size() >= 512 && std::memcmp(in.data() + in.size() - 512, "koly", 4) == 0) {
    return "disk-image";
  }
  if (in.empty()) return "text";
  if (LooksLikeText(in)) {
    std::string script = ScriptKind(AsChars(in));
    if (!script.empty()) return script;
    return TextType(in, ext);
  }
  return "unknown";
}

// Extensions whose files Windows runs when opened: a text file named like one is treated as the
// script it claims to be.
std::string ScriptByExtension(std::string_view ext) {
  if (ext == "js" || ext == "jse" || ext == "mjs") return "script-javascript";
  if (ext == "vbs" || ext == "vbe") return "script-vbscript";
  if (ext == "ps1" || ext == "psm1" || ext == "psd1") return "script-powershell";
  if (ext == "bat" || ext == "cmd") return "script-batch";
  if (ext == "sh" || ext == "bash" || ext == "command") return "script-shell";
  if (ext == "hta") return "hta";
  if (ext == "wsf" || ext == "wsh" || ext == "sct") return "script-wsf";
  return "";
}

}  // namespace

std::string TypeClaimedByName(std::string_view declared_name) {
  const std::string ext = Extension(declared_name);
  if (ext.empty()) return "";
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kAliases = {{
      {"jpg", "jpeg"},       {"jpe", "jpeg"},         {"tif", "tiff"},       {"txt", "text"},
      {"log", "text"},       {"dcm", "dicom"},        {"exe", "pe"},         {"dll", "pe"},
      {"scr", "pe"},         {"sys", "pe"},           {"com", "pe"},         {"cpl", "pe"},
      {"ocx", "pe"},         {"htm", "html"},         {"hl7", "hl7v2"},      {"so", "elf"},
      {"dylib", "mach-o"},   {"class", "java-class"}, {"iso", "disk-image"}, {"img", "disk-image"},
      {"vhd", "disk-image"}, {"dmg", "disk-image"},
  }};
  for (const auto& [alias, name] : kAliases) {
    if (ext == alias) return std::string(name);
  }
  std::string script = ScriptByExtension(ext);
  if (!script.empty()) return script;
  const DetectedType known = MakeType(ext);
  if (known.media_type != "application/octet-stream" || ext == "unknown") {
    return ext == "unknown" ? "" : ext;
  }
  return ext == "html" || ext == "svg" ? ext : "";
}

DetectedType DetectType(ByteView content, std::string_view declared_name) {
  const std::string ext = Extension(declared_name);
  std::string name = DetectName(content, ext);
  if (name == "text" || name == "csv" || name == "tsv") {
    const std::string script = ScriptByExtension(ext);
    if (!script.empty()) name = script;
  }
  DetectedType type = MakeType(name);
  // libmagic costs ~100 us a file; it is asked only where its words help a person: files hokan
  // refuses (what was it?) — not for every clinical note on the hot ingest path.
  if (type.executable || name == "unknown" || name == "html" || name == "svg") {
    type.description = MagicDescription(content);
  }
  if (type.description.empty()) type.description = type.media_type;
  return type;
}

}  // namespace hokan
