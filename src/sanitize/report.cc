// SanitizeReportJson: docs/formats/sanitize-report.md. Field order is fixed (ordered_json) so
// that reports diff cleanly; no content of the file ever appears in a report.
#include <nlohmann/json.hpp>
#include <string>

#include "sanitize/sanitize.h"

namespace hokan {

std::string SanitizeReportJson(const SanitizeReport& report) {
  nlohmann::ordered_json j;
  j["format"] = "hokan-sanitize-report/1";
  j["sanitizer"] = report.sanitizer;
  j["declared_name"] = report.declared_name;
  j["detected"] = {{"type", report.detected.name},
                   {"media_type", report.detected.media_type},
                   {"description", report.detected.description},
                   {"executable", report.detected.executable}};
  j["verdict"] = SanitizeVerdictName(report.verdict);
  j["policy_action"] = SanitizeActionName(report.policy_action);
  if (!report.reason.empty()) j["reason"] = report.reason;
  j["before"] = {{"sha256", report.sha256_before}, {"size", report.size_before}};
  if (!report.sha256_after.empty()) {
    j["after"] = {
        {"sha256", report.sha256_after}, {"size", report.size_after}, {"type", report.output_type}};
  } else {
    j["after"] = nullptr;
  }
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const SanitizeFinding& f : report.findings) {
    findings.push_back({{"kind", f.kind},
                        {"location", f.location},
                        {"action", FindingActionName(f.action)},
                        {"active", f.active},
                        {"detail", f.detail}});
  }
  j["findings"] = std::move(findings);
  if (report.malware_scan.has_value()) {
    const MalwareScanInfo& scan = *report.malware_scan;
    j["malware_scan"] = {{"engine", scan.engine},
                         {"database_version", scan.database_version},
                         {"database_age_days", scan.database_age_days},
                         {"signatures", scan.signatures}};
  } else {
    j["malware_scan"] = nullptr;
  }
  // Replace, not throw, on invalid UTF-8 (a declared name from a sender may be anything).
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace hokan
