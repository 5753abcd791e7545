#include "audit/audit_event.h"

#include <nlohmann/json.hpp>

namespace hokan {

std::string EncodeAuditEntry(std::uint64_t seq, const std::string& time, const AuditEvent& e) {
  nlohmann::ordered_json j;
  j["seq"] = seq;
  j["time"] = time;
  j["actor"] = e.actor;
  j["action"] = e.action;
  if (!e.patient.empty()) j["patient"] = e.patient;
  if (!e.record.empty()) j["record"] = e.record;
  if (e.version != 0) j["version"] = e.version;
  j["outcome"] = e.outcome;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (!e.source.empty()) j["source"] = e.source;
  if (!e.role.empty()) j["role"] = e.role;
  if (!e.session.empty()) j["session"] = e.session;
  if (!e.rule.empty()) j["rule"] = e.rule;
  if (!e.request_id.empty()) j["request_id"] = e.request_id;
  if (e.break_glass) j["break_glass"] = true;
  if (e.maintenance) j["maintenance"] = true;
  if (e.review) j["review"] = true;
  if (!e.detail.empty()) {
    nlohmann::ordered_json d = nlohmann::ordered_json::object();
    for (const auto& [k, v] : e.detail) d[k] = v;
    j["detail"] = std::move(d);
  }
  // Invalid UTF-8 is replaced rather than thrown on: an audit entry is always written.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<DecodedAuditEntry> DecodeAuditEntry(std::string_view text) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("audit entry is not JSON");
  DecodedAuditEntry out;
  if (!j.contains("seq") || !j["seq"].is_number_unsigned()) {
    return DataLossError("audit entry lacks a valid sequence number");
  }
  try {
    out.seq = j.at("seq").get<std::uint64_t>();
    out.time = j.at("time").get<std::string>();
    out.event.actor = j.at("actor").get<std::string>();
    out.event.action = j.at("action").get<std::string>();
    out.event.outcome = j.at("outcome").get<std::string>();
    out.event.patient = j.value("patient", "");
    out.event.record = j.value("record", "");
    out.event.version = j.value("version", std::int64_t{0});
    out.event.reason = j.value("reason", "");
    out.event.source = j.value("source", "");
    out.event.role = j.value("role", "");
    out.event.session = j.value("session", "");
    out.event.rule = j.value("rule", "");
    out.event.request_id = j.value("request_id", "");
    out.event.break_glass = j.value("break_glass", false);
    out.event.maintenance = j.value("maintenance", false);
    out.event.review = j.value("review", false);
    if (j.contains("detail")) {
      for (const auto& [k, v] : j.at("detail").items()) {
        out.event.detail.emplace_back(k, v.get<std::string>());
      }
    }
  } catch (const nlohmann::json::exception&) {
    return DataLossError("audit entry lacks a required field or has a wrong type");
  }
  return out;
}

}  // namespace hokan
