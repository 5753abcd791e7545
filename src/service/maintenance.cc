#include "service/maintenance.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "sanitize/sanitize.h"
#include "signature/cades.h"

namespace hokan {
namespace {

using json = nlohmann::json;

constexpr std::string_view kManifestFormat = "hokan-maintenance-manifest/1";

std::string Resolve(const std::string& dir, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : dir + "/" + path;
}

Result<std::vector<Bytes>> ReadAll(Env& env, const std::string& dir,
                                   const std::vector<std::string>& paths, const char* what) {
  std::vector<Bytes> out;
  for (const std::string& p : paths) {
    Result<Bytes> bytes = env.fs.ReadFile(Resolve(dir, p));
    if (!bytes) {
      return FailedPreconditionError(std::string("cannot read the ") + what + " " + p +
                                     " named in [maintenance]");
    }
    out.push_back(std::move(*bytes));
  }
  return out;
}

std::string HexSha256(ByteView data) { return HexEncode(Sha256(data)); }

}  // namespace

Status ValidateMaintenanceFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") {
    return InvalidArgumentError("a maintenance file name is 1 to 255 bytes, not . or ..");
  }
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || ch == '/' || ch == '\\') {
      return InvalidArgumentError(
          "a maintenance file name has no directories and no control characters");
    }
  }
  return OkStatus();
}

Result<MaintenanceManifest> ParseMaintenanceManifest(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("the maintenance manifest is not a JSON object");
  }
  auto str = [&](const char* key, std::string& out) -> Status {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      return InvalidArgumentError(std::string("the maintenance manifest needs \"") + key +
                                  "\" (a non-empty string)");
    }
    out = it->get<std::string>();
    return OkStatus();
  };
  std::string format;
  HK_RETURN_IF_ERROR(str("format", format));
  if (format != kManifestFormat) {
    return InvalidArgumentError("the maintenance manifest's format is not " +
                                std::string(kManifestFormat));
  }
  MaintenanceManifest m;
  HK_RETURN_IF_ERROR(str("vendor", m.vendor));
  HK_RETURN_IF_ERROR(str("ticket", m.ticket));
  HK_RETURN_IF_ERROR(str("sanitizer", m.sanitizer));
  HK_RETURN_IF_ERROR(str("sanitized_at", m.sanitized_at));
  if (!ParseRfc3339(m.sanitized_at)) {
    return InvalidArgumentError("the maintenance manifest's sanitized_at is not an RFC 3339 time");
  }
  const auto files = j.find("files");
  if (files == j.end() || !files->is_array() || files->empty() || files->size() > 10000) {
    return InvalidArgumentError("the maintenance manifest needs \"files\": 1 to 10000 entries");
  }
  std::set<std::string> names;
  for (const json& f : *files) {
    if (!f.is_object()) return InvalidArgumentError("a manifest file entry is not an object");
    MaintenanceManifest::File file;
    const auto name = f.find("name");
    const auto sha = f.find("sha256");
    const auto size = f.find("size");
    if (name == f.end() || !name->is_string() || sha == f.end() || !sha->is_string() ||
        size == f.end() || !size->is_number_unsigned()) {
      return InvalidArgumentError("a manifest file entry needs name, sha256 and size");
    }
    file.name = name->get<std::string>();
    file.sha256 = sha->get<std::string>();
    file.size = size->get<std::uint64_t>();
    HK_RETURN_IF_ERROR(ValidateMaintenanceFileName(file.name));
    if (file.sha256.size() != 64 ||
        !std::all_of(file.sha256.begin(), file.sha256.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      return InvalidArgumentError("a manifest file's sha256 is 64 lower-case hex characters");
    }
    if (!names.insert(file.name).second) {
      return InvalidArgumentError("the maintenance manifest names a file twice");
    }
    m.files.push_back(std::move(file));
  }
  return m;
}

std::string MaintenanceManifestJson(const MaintenanceManifest& m) {
  nlohmann::ordered_json j;
  j["format"] = kManifestFormat;
  j["vendor"] = m.vendor;
  j["ticket"] = m.ticket;
  j["sanitizer"] = m.sanitizer;
  j["sanitized_at"] = m.sanitized_at;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const MaintenanceManifest::File& f : m.files) {
    files.push_back({{"name", f.name}, {"sha256", f.sha256}, {"size", f.size}});
  }
  j["files"] = std::move(files);
  return j.dump(2) + "\n";
}

Result<MaintenanceAttestation> AttestMaintenanceFiles(const std::vector<MaintenanceFile>& files,
                                                      const AttestOptions& options) {
  if (files.empty()) return InvalidArgumentError("no files to attest");
  MaintenanceManifest m;
  m.vendor = options.vendor;
  m.ticket = options.ticket;
  m.sanitized_at = FormatRfc3339(options.now);
  for (const MaintenanceFile& f : files) {
    HK_RETURN_IF_ERROR(ValidateMaintenanceFileName(f.name));
    SanitizeOptions so;
    so.declared_name = f.name;
    HK_ASSIGN_OR_RETURN(SanitizeOutcome outcome, Sanitize(f.content, so));
    m.sanitizer = outcome.report.sanitizer;
    if (outcome.report.verdict != SanitizeVerdict::kClean) {
      return FailedPreconditionError(f.name + " is not sanitised (the sanitiser says " +
                                     std::string(SanitizeVerdictName(outcome.report.verdict)) +
                                     "); run `hokan sanitize` on it and attest the output");
    }
    m.files.push_back({f.name, outcome.report.sha256_before, f.content.size()});
  }
  // The manifest is checked by the same parser the receiver uses.
  const std::string manifest = MaintenanceManifestJson(m);
  HK_RETURN_IF_ERROR(ParseMaintenanceManifest(manifest).error());
  CadesSignOptions sign;
  sign.signer_cert_pem = options.cert_pem;
  sign.signer_key_pem = options.key_pem;
  sign.chain_pem = options.chain_pem;
  sign.signing_time = options.now;
  sign.detached = true;
  HK_ASSIGN_OR_RETURN(Bytes signature, SignCades(AsBytes(manifest), sign));
  return MaintenanceAttestation{ToBytes(manifest), std::move(signature)};
}

Result<MaintenanceReceipt> ReceiveMaintenanceTransfer(Archive& archive, const Actor& actor,
                                                      const MaintenanceTransferRequest& request) {
  Env& env = archive.env();
  const MaintenanceConfig& config = archive.config().maintenance;
  const TimePoint now = env.clock.Now();
  AuditEvent e = ActorEvent(actor, "maintenance.transfer");
  auto refuse = [&](Status st) -> Status {
    e.outcome = "denied";
    e.reason = st.message().substr(0, 1000);
    (void)archive.audit().Append(e);
    return st;
  };
  if (config.trust_anchor_files.empty()) {
    return refuse(FailedPreconditionError(
        "no vendor CA is configured ([maintenance] trust_anchor_files), so no maintenance "
        "transfer is accepted"));
  }
  HK_ASSIGN_OR_RETURN(std::vector<Bytes> anchors,
                      ReadAll(env, archive.dir(), config.trust_anchor_files, "vendor CA"));
  HK_ASSIGN_OR_RETURN(std::vector<Bytes> crls,
                      ReadAll(env, archive.dir(), config.crl_files, "CRL"));

  // 1. The attestation: a manifest signed by a vendor the facility trusts, recently.
  Result<MaintenanceManifest> manifest = ParseMaintenanceManifest(AsChars(request.manifest));
  if (!manifest) return refuse(manifest.error());
  e.detail = {{"vendor", manifest->vendor},
              {"ticket", manifest->ticket},
              {"files", std::to_string(request.files.size())}};
  SignatureVerifyOptions verify;
  verify.trust_anchors = std::move(anchors);
  verify.crls = std::move(crls);
  verify.require_revocation = config.require_revocation;
  verify.require_hpki_signing = false;
  verify.now = now;
  verify.timestamp.now = now;
  Result<SignatureReport> report =
      VerifyCades(request.signature, ByteView(request.manifest), verify);
  if (!report) {
    return refuse(InvalidArgumentError("the sanitisation attestation is not a CMS signature: " +
                                       report.error().message()));
  }
  if (!report->valid) {
    return refuse(
        PermissionDeniedError("the sanitisation attestation does not verify: " + report->reason));
  }
  e.detail.emplace_back("signer", report->signer.subject);
  Result<TimePoint> signed_at = ParseRfc3339(report->signing_time);
  const auto max_age = std::chrono::hours(config.max_attestation_age_hours);
  if (!signed_at || *signed_at > now + std::chrono::minutes(5) || now - *signed_at > max_age) {
    return refuse(PermissionDeniedError(
        "the sanitisation attestation was signed more than " +
        std::to_string(config.max_attestation_age_hours) +
        " hours ago or in the future ([maintenance] max_attestation_age_hours)"));
  }

  // 2. Exactly the files the manifest lists, with its hashes.
  std::map<std::string, const MaintenanceManifest::File*> listed;
  for (const MaintenanceManifest::File& f : manifest->files) listed[f.name] = &f;
  if (request.files.size() != manifest->files.size()) {
    return refuse(InvalidArgumentError("the transfer has " + std::to_string(request.files.size()) +
                                       " files but the attestation lists " +
                                       std::to_string(manifest->files.size())));
  }
  std::set<std::string> seen;
  for (const MaintenanceFile& f : request.files) {
    if (Status st = ValidateMaintenanceFileName(f.name); !st.ok()) return refuse(st);
    const auto it = listed.find(f.name);
    if (it == listed.end() || !seen.insert(f.name).second) {
      return refuse(InvalidArgumentError("the attestation does not list " + f.name +
                                         " (or lists it once and it came twice)"));
    }
    if (HexSha256(f.content) != it->second->sha256 || f.content.size() != it->second->size) {
      return refuse(InvalidArgumentError(
          f.name + " is not the file the attestation lists (its SHA-256 or size differs)"));
    }
  }

  // 3. hokan's own sanitiser, on every file: what the sender sanitised must come out clean.
  std::vector<Archive::Quarantined> accepted;
  std::vector<Archive::Quarantined> refused;
  std::vector<std::string> reports;
  reports.reserve(request.files.size());
  std::string first_problem;
  for (const MaintenanceFile& f : request.files) {
    HK_ASSIGN_OR_RETURN(SanitizeOutcome outcome,
                        archive.sanitizer().Check(f.content, "maintenance", f.name));
    const SanitizeReport& r = outcome.report;
    QuarantineItem item;
    item.sender = actor.id;
    item.channel = "maintenance";
    item.declared_name = f.name;
    item.media_type = r.detected.media_type;
    item.detected_type = r.detected.name;
    item.report_json = SanitizeReportJson(r);
    item.sha256 = r.sha256_before;
    item.size = r.size_before;
    item.executable = r.detected.executable;
    item.record_type = "maintenance:" + manifest->ticket.substr(0, 48);
    if (r.verdict == SanitizeVerdict::kClean) {
      item.verdict = "accepted";
      accepted.push_back({std::move(item), f.content});
    } else {
      item.verdict = "blocked";
      item.reason = "the sender's sanitisation missed this: " +
                    (r.reason.empty() ? std::string(SanitizeVerdictName(r.verdict)) : r.reason);
      if (first_problem.empty()) first_problem = f.name + ": " + item.reason;
      refused.push_back({std::move(item), f.content});
    }
  }
  if (!refused.empty()) {
    // Kept as evidence of what the sender's sanitiser let through; nothing is accepted.
    e.outcome = "denied";
    e.reason = first_problem.substr(0, 1000);
    HK_RETURN_IF_ERROR(archive.KeepInQuarantine(refused, e));
    return PermissionDeniedError("the maintenance transfer is refused: " + first_problem);
  }
  HK_ASSIGN_OR_RETURN(std::string transfer_id, RandomHexId(16));
  e.detail.emplace_back("transfer", transfer_id);
  HK_RETURN_IF_ERROR(archive.KeepInQuarantine(accepted, e));
  MaintenanceReceipt receipt;
  receipt.transfer_id = transfer_id;
  receipt.vendor = manifest->vendor;
  receipt.ticket = manifest->ticket;
  receipt.signer = report->signer.subject;
  for (const Archive::Quarantined& q : accepted) {
    receipt.files.push_back({q.item.declared_name, q.item.sha256, q.item.size, q.item.id});
  }
  return receipt;
}

}  // namespace hokan
