// The zip disarmer (docs/sanitize/zip.md): every member is sanitised as a file of its own
// (Context::Nested, one level deeper), kept when clean, replaced when disarmed, dropped when
// refused. Members whose names would escape the folder they are unpacked into, links, and
// members named like programs are dropped too. Encrypted members, too many entries, nesting too
// deep and decompression bombs refuse the whole archive. When nothing changes the archive is
// passed on byte for byte; otherwise it is written afresh (internal/zip.h).
#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/internal/zip.h"
#include "sanitize/sanitize.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

std::string LowerExtension(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const std::size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos) return "";
  std::string ext(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// Extensions Windows runs, installs or follows when the file is opened, beyond the program and
// script types hokan detects by content (TypeClaimedByName() knows those): shortcuts, registry
// files, help files, installers, search connectors.
constexpr std::array<std::string_view, 28> kRunnableExtensions = {
    "pif",        "reg",
    "inf",        "url",
    "msc",        "chm",
    "hlp",        "scf",
    "library-ms", "settingcontent-ms",
    "appref-ms",  "application",
    "gadget",     "msp",
    "mst",        "ws",
    "wsc",        "jnlp",
    "desktop",    "apk",
    "appx",       "msix",
    "appxbundle", "msixbundle",
    "xll",        "xbap",
    "diagcab",    "searchconnector-ms"};

// The type a member's name claims when that type runs: the member is dropped whatever it holds,
// since whoever unpacks it would start it by its name.
std::string RunnableByName(std::string_view name) {
  // Windows drops trailing dots and spaces from a file name: "run.bat. " is unpacked as run.bat.
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.remove_suffix(1);
  std::string claimed = TypeClaimedByName(name);
  if (!claimed.empty() && MakeType(claimed).executable) return claimed;
  std::string ext = LowerExtension(name);
  if (std::find(kRunnableExtensions.begin(), kRunnableExtensions.end(), ext) !=
      kRunnableExtensions.end()) {
    return ext;
  }
  return "";
}

std::string RefusalKind(const SanitizeReport& report) {
  for (const SanitizeFinding& finding : report.findings) {
    if (finding.action == Action::kBlocked) return finding.kind;
  }
  for (const SanitizeFinding& finding : report.findings) {
    if (finding.active) return finding.kind;
  }
  return report.verdict == SanitizeVerdict::kHeld ? "held" : "refused";
}

struct Member {
  const ZipEntry* entry = nullptr;
  std::string name;
  Bytes data;
};

}  // namespace

Result<Bytes> DisarmZip(ByteView in, Context& ctx) {
  HK_ASSIGN_OR_RETURN(std::unique_ptr<ZipReader> zip, ZipReader::Open(in));
  const std::vector<ZipEntry>& entries = zip->entries();
  if (entries.size() > ctx.limits().max_archive_entries) {
    ctx.Add("limit-exceeded", "", Action::kBlocked,
            "The archive has " + std::to_string(entries.size()) + " entries, more than " +
                std::to_string(ctx.limits().max_archive_entries) + " (max_archive_entries).",
            false);
    return FailedPreconditionError("too many entries in the archive");
  }
  std::set<std::string> names;
  for (const ZipEntry& entry : entries) {
    if (entry.encrypted) {
      ctx.Add("encrypted", entry.name, Action::kBlocked,
              "An entry is encrypted: hokan cannot look inside it, so the archive is refused.",
              false);
      return InvalidArgumentError("the archive has an encrypted entry");
    }
    // Unpackers differ in which of two equal names wins (and a case-insensitive file system
    // makes "A.txt" and "a.txt" one file): the member hokan checked might not be the one
    // unpacked.
    if (!names.insert(FoldName(entry.name)).second) {
      ctx.Add("malformed", entry.name, Action::kBlocked,
              "Two entries have the same name (ignoring case); unpackers differ in which one "
              "they keep.",
              false);
      return InvalidArgumentError("the archive has two entries with the same name");
    }
  }

  bool changed = false;
  if (!zip->consistent()) {
    ctx.Add("inconsistent-archive", "", Action::kNeutralised,
            "The zip structure is inconsistent (local headers that disagree with the central "
            "directory, or bytes outside the entries); the archive was rewritten from its "
            "central directory.",
            false);
    changed = true;
  }
  std::vector<Member> kept;
  for (const ZipEntry& entry : entries) {
    const std::string unsafe = entry.symlink ? "it is a symbolic link" : UnsafeNameReason(entry);
    if (!unsafe.empty()) {
      ctx.Add("unsafe-path", entry.name, Action::kRemoved,
              "An entry that would be unpacked outside its folder was dropped: " + unsafe + ".");
      changed = true;
      continue;
    }
    if (HasBackslashSeparator(entry.name)) {
      ctx.Add("unsafe-path", entry.name, Action::kReported,
              "The name uses '\\' as a folder separator (Windows tools write these); it stays "
              "as it is, and was checked with '\\' as a separator.",
              false);
    }
    if (entry.directory) {
      kept.push_back(Member{&entry, entry.name, {}});
      continue;
    }
    const std::string runnable = RunnableByName(entry.name);
    if (!runnable.empty()) {
      ctx.Add("executable", entry.name, Action::kRemoved,
              "A member named as a program, script or shortcut (" + runnable +
                  ") was dropped: whoever unpacks it would start it by its name.");
      changed = true;
      continue;
    }
    HK_ASSIGN_OR_RETURN(Bytes data, zip->Read(entry, ctx));
    SanitizeOutcome outcome = ctx.Nested(entry.name, data);
    if (ctx.blocked()) return FailedPreconditionError("a limit was exceeded inside the archive");
    const SanitizeReport& report = outcome.report;
    switch (report.verdict) {
      case SanitizeVerdict::kClean:
        kept.push_back(Member{&entry, entry.name, std::move(data)});
        break;
      case SanitizeVerdict::kDisarmed: {
        // A member whose type changed (a .docm that lost its macros is a docx) is renamed when
        // its extension named the old type: Office refuses a file whose extension and content
        // disagree.
        std::string name = entry.name;
        const std::string& from = report.detected.name;
        const std::string& to = report.output_type;
        if (!to.empty() && to != from && LowerExtension(name) == from) {
          const std::string stem = name.substr(0, name.size() - from.size());
          for (const std::string& candidate :
               {stem + to, stem.substr(0, stem.size() - 1) + " (disarmed)." + to}) {
            if (names.insert(FoldName(candidate)).second) {
              name = candidate;
              std::string detail = "Renamed to " + name;
              detail.append(": its type changed from ").append(from).append(" to ").append(to);
              detail.append(" when its active content was removed.");
              ctx.Add("renamed", entry.name, Action::kReported, std::move(detail), false);
              break;
            }
          }
        }
        kept.push_back(Member{&entry, std::move(name), std::move(outcome.output)});
        changed = true;
        break;
      }
      case SanitizeVerdict::kBlocked:
      case SanitizeVerdict::kHeld:
        ctx.Add("blocked-entry", entry.name, Action::kRemoved,
                "The member was refused (" + RefusalKind(report) + ") and dropped.");
        changed = true;
        break;
    }
  }
  if (!changed) return Bytes(in.begin(), in.end());

  ZipWriter writer;
  for (Member& member : kept) {
    if (member.entry->directory) {
      HK_RETURN_IF_ERROR(writer.AddDirectory(member.name, member.entry->mtime));
    } else {
      HK_RETURN_IF_ERROR(writer.Add(member.name, std::move(member.data),
                                    member.entry->compression_method != 0, member.entry->mtime));
    }
  }
  return writer.Finish();
}

}  // namespace hokan::sanitize_internal
