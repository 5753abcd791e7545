// Sanitize(): the pipeline every file goes through (README.md): limits, hashes, type by content,
// malware scan, programs blocked, the format's disarmer, then the policy decides.
#include "sanitize/sanitize.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"

namespace hokan {
namespace sanitize_internal {

Context::Context(const SanitizeOptions& options)
    : Context(options, 0, "", nullptr, options.declared_name) {}

Context::Context(const SanitizeOptions& options, int depth, std::string prefix, Shared* shared,
                 std::string declared_name)
    : options_(options),
      depth_(depth),
      prefix_(std::move(prefix)),
      declared_name_(std::move(declared_name)),
      shared_(shared != nullptr ? shared : &own_shared_) {}

void Context::Add(std::string kind, std::string_view location, SanitizeFinding::Action action,
                  std::string detail, bool active) {
  SanitizeFinding finding;
  finding.kind = std::move(kind);
  finding.location = prefix_;
  finding.location += location;
  finding.action = action;
  finding.detail = std::move(detail);
  finding.active = active;
  findings_.push_back(std::move(finding));
}

Status Context::ChargeExpanded(std::uint64_t bytes) {
  shared_->expanded += bytes;
  if (shared_->expanded <= limits().max_expanded_bytes) return OkStatus();
  if (!shared_->limit_hit) {
    Add("limit-exceeded", "", SanitizeFinding::Action::kBlocked,
        "The decompressed content exceeds " + std::to_string(limits().max_expanded_bytes) +
            " bytes (max_expanded_bytes).",
        false);
  }
  shared_->limit_hit = true;
  return FailedPreconditionError("decompressed content exceeds the limit of " +
                                 std::to_string(limits().max_expanded_bytes) + " bytes");
}

Status Context::CheckRatio(std::string_view location, std::uint64_t compressed,
                           std::uint64_t expanded) {
  const std::uint64_t ratio = limits().max_expansion_ratio;
  // Tiny entries compress well without being bombs; the ratio only counts above 1 MiB.
  if (expanded <= (1u << 20) || expanded <= compressed * ratio) return OkStatus();
  Add("limit-exceeded", std::string(location), SanitizeFinding::Action::kBlocked,
      "An entry expands more than " + std::to_string(ratio) +
          " times its compressed size (max_expansion_ratio): a decompression bomb.",
      false);
  shared_->limit_hit = true;
  return FailedPreconditionError("an entry expands more than " + std::to_string(ratio) +
                                 " times its compressed size");
}

bool Context::blocked() const {
  return shared_->limit_hit ||
         std::any_of(findings_.begin(), findings_.end(), [](const SanitizeFinding& f) {
           return f.action == SanitizeFinding::Action::kBlocked;
         });
}

bool Context::has_active() const {
  return std::any_of(findings_.begin(), findings_.end(),
                     [](const SanitizeFinding& f) { return f.active; });
}

namespace {

using Action = SanitizeFinding::Action;

std::string HexDigest(ByteView data) {
  const Sha256Digest digest = Sha256(data);
  return HexEncode(digest);
}

bool IsTextFamily(std::string_view name) {
  return name == "text" || name == "csv" || name == "tsv" || name == "xml" || name == "json" ||
         name == "hl7v2";
}

// DICOM files start with a 128-byte preamble that DICOM readers ignore and Windows does not:
// a PE/DICOM polyglot (CVE-2019-11687) runs as a program. A preamble that is neither zeros nor
// a TIFF header is zeroed.
Result<Bytes> DisarmDicom(ByteView in, Context& ctx) {
  Bytes out(in.begin(), in.end());
  const bool zeros =
      std::all_of(in.begin(), in.begin() + 128, [](std::uint8_t b) { return b == 0; });
  const bool tiff = (in[0] == 'I' && in[1] == 'I' && in[2] == 42 && in[3] == 0) ||
                    (in[0] == 'M' && in[1] == 'M' && in[2] == 0 && in[3] == 42);
  if (!zeros && !tiff) {
    std::fill(out.begin(), out.begin() + 128, std::uint8_t{0});
    ctx.Add("dicom-preamble", "preamble", Action::kRemoved,
            "The 128-byte DICOM preamble held data (a program header would make the file run "
            "as a program); it was zeroed.");
  }
  return out;
}

Result<Bytes> Dispatch(ByteView in, const DetectedType& type, sanitize_internal::Context& ctx) {
  const std::string& name = type.name;
  if (name == "pdf") return DisarmPdf(in, ctx);
  if (IsOoxmlType(name)) return DisarmOoxml(in, type, ctx);
  if (name == "zip") return DisarmZip(in, ctx);
  if (name == "doc" || name == "xls" || name == "ppt" || name == "ole2") {
    return DisarmOle2(in, type, ctx);
  }
  if (name == "rtf") return DisarmRtf(in, ctx);
  if (name == "png" || name == "jpeg" || name == "tiff") return DisarmImage(in, type, ctx);
  if (IsTextFamily(name)) return DisarmText(in, type, ctx);
  if (name == "dicom") return DisarmDicom(in, ctx);
  ctx.Add("unsupported-type", "", Action::kBlocked,
          "hokan cannot check files of this type (" + type.description +
              "), so it does not let them in.",
          false);
  return Bytes{};
}

std::string ReasonFrom(const SanitizeFinding& f) {
  std::string reason = f.kind;
  if (!f.location.empty()) reason += " at " + f.location;
  if (!f.detail.empty()) reason += ": " + f.detail;
  return reason;
}

}  // namespace

// The whole pipeline for one file at one depth; Sanitize() and Context::Nested() share it.
SanitizeOutcome Run(ByteView content, Context& ctx) {
  const SanitizeOptions& options = ctx.options();
  SanitizeOutcome outcome;
  SanitizeReport& report = outcome.report;
  report.sanitizer = "hokan-sanitize 1";
  report.declared_name = ctx.declared_name();
  report.sha256_before = HexDigest(content);
  report.size_before = content.size();

  auto finish_blocked = [&](std::string reason) {
    report.verdict = SanitizeVerdict::kBlocked;
    report.reason = std::move(reason);
    report.findings = ctx.findings();
    report.output_type.clear();
    return std::move(outcome);
  };

  if (content.size() > ctx.limits().max_input_bytes) {
    report.detected = MakeType("unknown");
    ctx.Add("limit-exceeded", "", Action::kBlocked,
            "The file is larger than " + std::to_string(ctx.limits().max_input_bytes) +
                " bytes (max_input_bytes).",
            false);
    return finish_blocked(ReasonFrom(ctx.findings().back()));
  }

  report.detected = DetectType(content, ctx.declared_name());
  const DetectedType& type = report.detected;
  report.policy_action = options.policy.For(type.name);
  if (!ctx.declared_name().empty()) {
    const std::string claimed = TypeClaimedByName(ctx.declared_name());
    if (!claimed.empty() && claimed != type.name &&
        !(claimed == "text" && IsTextFamily(type.name))) {
      ctx.Add("type-mismatch", "", Action::kReported,
              "The name says " + claimed + " but the content is " + type.name + ".", false);
    }
  }

  if (options.scanner != nullptr) {
    MalwareScanInfo info;
    const Status scanned = options.scanner->Scan(content, info);
    if (!scanned.ok()) {
      ctx.Add("scan-failed", "", Action::kBlocked,
              "The malware scan could not run: " + scanned.message(), false);
      return finish_blocked(ReasonFrom(ctx.findings().back()));
    }
    for (const std::string& signature : info.signatures) {
      ctx.Add("malware", "", Action::kBlocked, "Malware signature " + signature + " matched.");
    }
    if (ctx.depth() == 0) report.malware_scan = std::move(info);
    if (ctx.blocked()) return finish_blocked(ReasonFrom(ctx.findings().back()));
  }

  if (type.executable) {
    ctx.Add(type.name == "com-eicar" ? "malware" : "executable", "", Action::kBlocked,
            type.name == "com-eicar"
                ? "The EICAR anti-virus test file (a DOS program) was recognised."
                : "Programs and scripts (" + type.name + ") are never let in.");
    return finish_blocked(ReasonFrom(ctx.findings().back()));
  }

  Result<Bytes> disarmed = Dispatch(content, type, ctx);
  if (!disarmed.has_value()) {
    const Status& error = disarmed.error();
    if (!ctx.blocked()) {
      ctx.Add(error.code() == StatusCode::kFailedPrecondition ? "limit-exceeded" : "malformed", "",
              Action::kBlocked, error.message(), false);
    }
  }
  if (ctx.blocked()) {
    const auto& findings = ctx.findings();
    const auto first = std::find_if(findings.begin(), findings.end(),
                                    [](const auto& f) { return f.action == Action::kBlocked; });
    return finish_blocked(first != findings.end() ? ReasonFrom(*first)
                                                  : "A limit was exceeded inside the file.");
  }

  report.findings = ctx.findings();
  if (ctx.has_active()) {
    switch (report.policy_action) {
      case SanitizeAction::kBlock:
        return finish_blocked("The policy blocks " + type.name +
                              " files with active content instead of disarming them.");
      case SanitizeAction::kHold:
        report.verdict = SanitizeVerdict::kHeld;
        report.reason = "The policy holds " + type.name +
                        " files with active content for a second person's approval.";
        return outcome;
      case SanitizeAction::kDisarm:
        break;
    }
  }
  outcome.output = std::move(disarmed.value());
  const bool unchanged =
      std::equal(outcome.output.begin(), outcome.output.end(), content.begin(), content.end());
  report.verdict =
      unchanged && !ctx.has_active() ? SanitizeVerdict::kClean : SanitizeVerdict::kDisarmed;
  report.sha256_after = unchanged ? report.sha256_before : HexDigest(outcome.output);
  report.size_after = outcome.output.size();
  report.output_type = ctx.output_type().empty() ? type.name : ctx.output_type();
  return outcome;
}

SanitizeOutcome Context::Nested(std::string_view location, ByteView content) {
  const std::string where = std::string(location);
  if (depth_ + 1 > static_cast<int>(limits().max_depth)) {
    Add("limit-exceeded", where, Action::kBlocked,
        "Containers are nested deeper than " + std::to_string(limits().max_depth) +
            " levels (max_depth).",
        false);
    shared_->limit_hit = true;
    SanitizeOutcome outcome;
    outcome.report.verdict = SanitizeVerdict::kBlocked;
    outcome.report.reason = "nesting too deep";
    return outcome;
  }
  // A member's own name counts as its declared name (a text file named run.bat in a zip is
  // treated as the batch file it claims to be); its location is relative to this container.
  Context child(options_, depth_ + 1, prefix_ + where + "!/", shared_, where);
  SanitizeOutcome outcome = Run(content, child);
  // The member's findings become the container's. A member that is blocked does not block the
  // container (the container's disarmer drops it and says so), unless a shared limit was hit.
  for (SanitizeFinding finding : child.findings()) {
    const bool shared_limit = shared_->limit_hit && finding.kind == "limit-exceeded";
    if (finding.action == Action::kBlocked && !shared_limit) finding.action = Action::kReported;
    findings_.push_back(std::move(finding));
  }
  return outcome;
}

}  // namespace sanitize_internal

std::string_view SanitizeActionName(SanitizeAction action) {
  switch (action) {
    case SanitizeAction::kDisarm:
      return "disarm";
    case SanitizeAction::kBlock:
      return "block";
    case SanitizeAction::kHold:
      return "hold";
  }
  return "disarm";
}

Result<SanitizeAction> ParseSanitizeAction(std::string_view name) {
  for (SanitizeAction action :
       {SanitizeAction::kDisarm, SanitizeAction::kBlock, SanitizeAction::kHold}) {
    if (SanitizeActionName(action) == name) return action;
  }
  return InvalidArgumentError("unknown sanitize action \"" + std::string(name) +
                              "\" (expected disarm, block or hold)");
}

std::string_view SanitizeVerdictName(SanitizeVerdict verdict) {
  switch (verdict) {
    case SanitizeVerdict::kClean:
      return "clean";
    case SanitizeVerdict::kDisarmed:
      return "disarmed";
    case SanitizeVerdict::kBlocked:
      return "blocked";
    case SanitizeVerdict::kHeld:
      return "held";
  }
  return "blocked";
}

std::string_view FindingActionName(SanitizeFinding::Action action) {
  switch (action) {
    case SanitizeFinding::Action::kRemoved:
      return "removed";
    case SanitizeFinding::Action::kNeutralised:
      return "neutralised";
    case SanitizeFinding::Action::kBlocked:
      return "blocked";
    case SanitizeFinding::Action::kReported:
      return "reported";
  }
  return "reported";
}

SanitizeAction SanitizePolicy::For(std::string_view type_name) const {
  const auto it = per_type.find(type_name);
  return it != per_type.end() ? it->second : default_action;
}

DetectedType TypeByName(std::string_view name) { return sanitize_internal::MakeType(name); }

Result<SanitizeOutcome> Sanitize(ByteView content, const SanitizeOptions& options) {
  sanitize_internal::Context ctx(options);
  return sanitize_internal::Run(content, ctx);
}

}  // namespace hokan
