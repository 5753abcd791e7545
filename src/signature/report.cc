// Verification reports as JSON and text (docs/formats/verification-report.md).
#include <nlohmann/json.hpp>

#include "signature/cades.h"
#include "signature/internal/report_json.h"

namespace hokan {
namespace signature_internal {

nlohmann::ordered_json CertificateJson(const CertificateSummary& c) {
  return {{"subject", c.subject}, {"issuer", c.issuer},         {"serial", c.serial},
          {"sha256", c.sha256},   {"not_before", c.not_before}, {"not_after", c.not_after}};
}

nlohmann::ordered_json ChainJson(const std::vector<CertificateStatus>& chain) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const CertificateStatus& s : chain) {
    nlohmann::ordered_json c = CertificateJson(s.certificate);
    c["revocation"] = RevocationStateName(s.revocation);
    c["revoked_at"] = s.revoked_at;  // "" unless listed in a CRL.
    c["crl_issued"] = s.crl_issued;  // "" when no CRL was used.
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::ordered_json HpkiJson(const HpkiProfile& p) {
  return {{"hc_roles", p.hc_roles},
          {"policies", p.policies},
          {"signing_policy", p.signing_policy},
          {"authentication_policy", p.authentication_policy},
          {"non_repudiation", p.non_repudiation},
          {"signing_problem", p.signing_problem}};
}

std::string Dump(const nlohmann::ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace signature_internal

std::string SignatureReportJson(const SignatureReport& r) {
  using signature_internal::ChainJson;
  nlohmann::ordered_json j = {
      {"kind", "cms-signature"},
      {"valid", r.valid},
      {"reason", r.reason},
      {"level", r.level},
      {"detached", r.detached},
      {"signature_intact", r.signature_intact},
      {"content_intact", r.content_intact},
      {"content_sha256", r.content_sha256},
      {"signing_certificate_match", r.signing_certificate_match},
      {"signing_time", r.signing_time},
      {"reference_time", r.reference_time},
      {"reference_time_source", r.reference_time_source},
      {"signer", signature_internal::CertificateJson(r.signer)},
      {"qualification", r.hpki.hc_roles},
      {"hpki", signature_internal::HpkiJson(r.hpki)},
      {"chain", ChainJson(r.chain)},
      {"timestamp", nullptr},
  };
  if (r.timestamp.has_value()) {
    j["timestamp"] = nlohmann::ordered_json::parse(TimestampVerificationJson(*r.timestamp));
  }
  return signature_internal::Dump(j);
}

std::string SignatureReportText(const SignatureReport& r) {
  std::string out = r.valid ? "VALID" : "INVALID: " + r.reason;
  out += "\n  level:          " + r.level + (r.detached ? " (detached)" : " (attached)");
  out += "\n  signer:         " + r.signer.subject;
  out += "\n  qualification:  ";
  for (std::size_t i = 0; i < r.hpki.hc_roles.size(); ++i) {
    out += (i > 0 ? ", " : "") + r.hpki.hc_roles[i];
  }
  if (r.hpki.hc_roles.empty()) out += "(no hcRole)";
  out += "\n  content:        " + std::string(r.content_intact ? "intact" : "CHANGED") +
         " (sha256 " + r.content_sha256 + ")";
  out += "\n  signing time:   " + (r.signing_time.empty() ? "(none)" : r.signing_time);
  out += "\n  reference time: " + r.reference_time + " (" + r.reference_time_source + ")";
  for (const CertificateStatus& s : r.chain) {
    out += "\n  chain:          " + s.certificate.subject + " [" +
           RevocationStateName(s.revocation) + "]";
  }
  if (r.timestamp.has_value()) {
    out += "\n  timestamp:      " + (r.timestamp->valid
                                         ? r.timestamp->gen_time + " by " + r.timestamp->tsa_name
                                         : "INVALID: " + r.timestamp->reason);
    if (r.timestamp->development_tsa) out += " (development TSA, NOT ACCREDITED)";
  }
  return out + "\n";
}

}  // namespace hokan
