// One audit entry: who did what to which patient/record/version, with what outcome, from
// where (G-6.5-C7). Spec of the encoding: docs/formats/audit-log.md.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hokan {

struct AuditEvent {
  std::string actor;                // "local:alice" for the command line; "user:<id>" over the API.
  std::string action;               // "record.create", "record.read", ...
  std::string patient;              // Patient id operated on, if any.
  std::string record;               // Record id, if any.
  std::int64_t version = 0;         // 0: none.
  std::string outcome = "success";  // success | denied | error | not_found
  std::string reason;  // Why (entered-in-error, break-glass, export); never clinical content.
  std::string source;  // "cli", or the API client's address.
  // Over the API (empty/false on the command line):
  std::string role;          // The role the policy decision used ("physician").
  std::string session;       // Public id of the session or API token (never the token).
  std::string rule;          // The policy rule that allowed or denied the action.
  std::string request_id;    // The HTTP request id (X-Request-Id).
  bool break_glass = false;  // Allowed only by an emergency declaration (G-6.10).
  bool maintenance = false;  // The actor is a maintenance account (G-6.8-C4).
  bool review = false;       // To be reviewed: break-glass, or a vip patient's records.
  // Extra facts (content hash, counts), as ordered key/value strings.
  std::vector<std::pair<std::string, std::string>> detail;
};

// The canonical entry text that is hashed into the Merkle tree: one line of JSON, keys in a
// fixed order, empty fields left out, beginning with {"seq":<seq>,"time":"<time>", ...
std::string EncodeAuditEntry(std::uint64_t seq, const std::string& time, const AuditEvent& e);

// Parses an entry text back (for exports and cross-checks). kDataLoss when malformed.
struct DecodedAuditEntry {
  std::uint64_t seq = 0;
  std::string time;
  AuditEvent event;
};
Result<DecodedAuditEntry> DecodeAuditEntry(std::string_view text);

}  // namespace hokan
