// Files sent to the facility during remote maintenance (G-6.8-C9): the sender attests that it
// sanitised them — a manifest of the files' names and SHA-256, the sanitiser used and when,
// signed (CMS, detached) with a certificate that chains to a vendor CA the facility trusts —
// and hokan still runs its own sanitiser on every file. A transfer is all or nothing: without
// a valid attestation, with a file the manifest does not list (or lists with another hash),
// or with a file hokan's sanitiser would change or refuse, nothing is accepted. Accepted files
// are kept encrypted in the quarantine store (verdict "accepted", way in "maintenance") for
// the security officer to hand on; refused ones are kept there too, as evidence.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/env.h"
#include "base/status.h"
#include "base/time.h"
#include "service/archive.h"

namespace hokan {

// docs/formats/maintenance-attestation.md
struct MaintenanceManifest {
  struct File {
    std::string name;
    std::string sha256;  // Hex.
    std::uint64_t size = 0;
  };
  std::string vendor;        // Who sends (company).
  std::string ticket;        // The maintenance request / change ticket it belongs to.
  std::string sanitizer;     // The sanitiser the sender used, e.g. "hokan-sanitize 1".
  std::string sanitized_at;  // RFC 3339.
  std::vector<File> files;
};

// kInvalidArgument naming the field for anything malformed.
Result<MaintenanceManifest> ParseMaintenanceManifest(std::string_view json);
std::string MaintenanceManifestJson(const MaintenanceManifest& manifest);

struct MaintenanceFile {
  std::string name;  // A plain file name: no directories, no control characters.
  Bytes content;
};

// The sender's side (`hokan maintenance attest`): every file must come out of hokan's
// sanitiser clean (sanitise first with `hokan sanitize`, then attest the outputs); the
// manifest is signed, detached, with the vendor's key. kFailedPrecondition naming the first
// file that is not clean.
struct MaintenanceAttestation {
  Bytes manifest;   // JSON.
  Bytes signature;  // CMS SignedData over `manifest`, DER.
};
struct AttestOptions {
  std::string vendor;
  std::string ticket;
  std::string cert_pem;
  std::string key_pem;
  std::vector<std::string> chain_pem;
  TimePoint now;
};
Result<MaintenanceAttestation> AttestMaintenanceFiles(const std::vector<MaintenanceFile>& files,
                                                      const AttestOptions& options);

// The facility's side: checks the attestation against [maintenance] (trust anchors, CRLs, age),
// the files against the manifest, and every file with hokan's own sanitiser (way in
// "maintenance": it must come out clean). Accepted files go into the quarantine store,
// verdict "accepted"; the transfer is audited as maintenance.transfer either way.
struct MaintenanceTransferRequest {
  Bytes manifest;
  Bytes signature;  // DER or PEM.
  std::vector<MaintenanceFile> files;
};
struct MaintenanceReceipt {
  struct Accepted {
    std::string name;
    std::string sha256;
    std::uint64_t size = 0;
    std::string quarantine_id;
  };
  std::string transfer_id;
  std::string vendor;
  std::string ticket;
  std::string signer;  // The attestation signer's certificate subject.
  std::vector<Accepted> files;
};

Result<MaintenanceReceipt> ReceiveMaintenanceTransfer(Archive& archive, const Actor& actor,
                                                      const MaintenanceTransferRequest& request);

// Checks a manifest's name rule: 1..255 bytes, no '/', '\\', NUL or control characters, not
// "." or "..".
Status ValidateMaintenanceFileName(std::string_view name);

}  // namespace hokan
