// Content disarm and reconstruction (CDR): every file that enters hokan passes through
// Sanitize(), which detects its type by content, removes active content (macros, scripts,
// embedded objects and programs, external links), blocks what cannot be made safe, and writes a
// report of every finding. The same function serves `hokan sanitize` (a mail-gateway filter) and
// every ingest path of the server (G-6.5-C12, G-6.8-C9, G-6.5-C10).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan {

// What to do with a file that carries active content. Executables and scripts are always
// blocked, whatever the policy says.
enum class SanitizeAction {
  kDisarm,  // Remove the active content, keep the rest (default).
  kBlock,   // Refuse the file.
  kHold,    // Keep the original in quarantine until a second person approves its release.
};
std::string_view SanitizeActionName(SanitizeAction action);
Result<SanitizeAction> ParseSanitizeAction(std::string_view name);

// The outcome for one file.
enum class SanitizeVerdict {
  kClean,     // Nothing active found; the output is the input, byte for byte.
  kDisarmed,  // Active content removed; the output differs from the input.
  kBlocked,   // Refused; no output.
  kHeld,      // Active content found and the policy holds such files; no output.
};
std::string_view SanitizeVerdictName(SanitizeVerdict verdict);

// Limits that keep hostile input (zip bombs, deep nesting, huge declared sizes) from exhausting
// the machine. Exceeding one blocks the file with a finding that names the limit.
struct SanitizeLimits {
  std::uint64_t max_input_bytes = 512ull << 20;   // One file as received.
  std::uint64_t max_expanded_bytes = 1ull << 30;  // Sum over everything decompressed.
  std::uint32_t max_expansion_ratio = 200;        // Decompressed / compressed, per entry.
  std::uint32_t max_archive_entries = 10'000;     // Per archive.
  std::uint32_t max_depth = 4;                    // Archives in archives (the file is 0).
  std::uint64_t max_image_pixels = 100'000'000;   // Width x height.
};

struct SanitizePolicy {
  SanitizeAction default_action = SanitizeAction::kDisarm;
  // Per detected type name (DetectedType::name, e.g. "docm", "pdf"), overriding the default.
  std::map<std::string, SanitizeAction, std::less<>> per_type;
  // Text files: prefix cells that a spreadsheet would run as formulas (=, +, -, @, tab, CR)
  // with an apostrophe. On by default for CSV/TSV.
  bool neutralise_csv_formulas = true;

  SanitizeAction For(std::string_view type_name) const;
};

// The type of a file, decided by its content. `name` is a short stable token used in reports,
// policies and configuration ("pdf", "docx", "docm", "xlsm", "doc", "rtf", "png", "zip",
// "text", "csv", "pe", "elf", "script-powershell", ... — docs/sanitize.md lists them all).
struct DetectedType {
  std::string name;
  std::string media_type;   // The IANA media type of `name`.
  std::string description;  // libmagic's description, for people.
  bool executable = false;  // A program or script: always blocked.
};

// One thing the sanitiser noticed. `kind` is a stable token ("vba-project", "javascript",
// "launch-action", "embedded-file", "dde-field", "external-link", "remote-template",
// "activex", "ole-object", "xlm-macro-sheet", "formula-injection", "metadata",
// "trailing-data", "type-mismatch", "encrypted", "limit-exceeded", "malformed", "executable",
// "malware", "encoding", "datastore", ...); docs/sanitize.md lists them.
struct SanitizeFinding {
  enum class Action {
    kRemoved,      // Taken out of the output.
    kNeutralised,  // Left in place, made inert (e.g. a formula prefixed with ').
    kBlocked,      // Caused the whole file to be refused.
    kReported,     // Noted only (e.g. an extension that does not match the content).
  };
  std::string kind;
  std::string location;  // Where, inside the file: a part name, object number, entry path.
  Action action = Action::kReported;
  std::string detail;  // One sentence; never content of the file.
  // Active content (macro, script, embedded object or program, a link that fetches or runs
  // something). The policy's block/hold applies to a file with at least one such finding;
  // metadata removal or a type mismatch alone does not count.
  bool active = false;
};
std::string_view FindingActionName(SanitizeFinding::Action action);

// Result of a malware scan (libclamav), when a signature database is configured.
struct MalwareScanInfo {
  std::string engine;            // "ClamAV 1.4.6"
  std::string database_version;  // e.g. "daily 27450" or the newest file's name
  std::int64_t database_age_days = 0;
  std::vector<std::string> signatures;  // Names of the signatures that matched; empty = none.
};

struct SanitizeReport {
  std::string sanitizer;      // "hokan-sanitize 1"
  std::string declared_name;  // As given by the sender (may be empty).
  DetectedType detected;
  SanitizeVerdict verdict = SanitizeVerdict::kClean;
  SanitizeAction policy_action = SanitizeAction::kDisarm;
  std::string reason;  // For kBlocked/kHeld: the first finding that decided it, in words.
  std::vector<SanitizeFinding> findings;
  std::string sha256_before;  // Hex.
  std::uint64_t size_before = 0;
  std::string sha256_after;  // Hex; empty when there is no output.
  std::uint64_t size_after = 0;
  std::string output_type;  // Type name of the output (a docm disarms into a docx).
  std::optional<MalwareScanInfo> malware_scan;
};

// A malware scanner run on the original before disarming (and on archive members). Implemented
// by ClamavScanner (clamav.h); tests may supply their own.
class MalwareScanner {
 public:
  virtual ~MalwareScanner() = default;
  // Fills `info` (engine, database, matched signature names). An error means the scan could not
  // be done; the file is then blocked, never let through unscanned.
  virtual Status Scan(ByteView content, MalwareScanInfo& info) const = 0;
};

struct SanitizeOptions {
  std::string declared_name;  // File name from the sender; only compared, never trusted.
  SanitizePolicy policy;
  SanitizeLimits limits;
  const MalwareScanner* scanner = nullptr;  // Not owned; may be null.
};

struct SanitizeOutcome {
  SanitizeReport report;
  Bytes output;  // Empty unless the verdict is kClean or kDisarmed.
};

// Detects the type of `content` by its bytes (hokan's own checks for containers, programs and
// scripts, then libmagic). `declared_name` is only ever used to be stricter: a text file named
// *.csv is treated as CSV, one named *.bat or *.ps1 as the script it claims to be.
DetectedType DetectType(ByteView content, std::string_view declared_name = {});

// The type an extension claims ("report.PDF" -> "pdf"); empty for an extension hokan doesn't
// know. Used to report a mismatch with the detected type.
std::string TypeClaimedByName(std::string_view declared_name);

// The type for a type name ("docx" -> its media type); unknown names give
// application/octet-stream.
DetectedType TypeByName(std::string_view name);

// Sanitises one file. Hostile or malformed input yields a kBlocked outcome whose reason says
// why; an error Status is returned only when the sanitiser itself could not run (out of memory,
// libmagic missing its database).
Result<SanitizeOutcome> Sanitize(ByteView content, const SanitizeOptions& options);

// The report as JSON (docs/formats/sanitize-report.md): stable field names, no file content.
std::string SanitizeReportJson(const SanitizeReport& report);

}  // namespace hokan
