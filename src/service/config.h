// The data directory's configuration file, hokan.toml (docs/configuration.md). Written by
// `hokan init` with every key commented; unknown keys are an error, so a typo is not
// silently ignored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace hokan {

// [server]: `hokan serve` (docs/configuration.md).
struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  std::uint64_t port = 8443;
  std::string tls_cert_file = "keys/tls.crt";
  std::string tls_key_file = "keys/tls.key";
  bool allow_tls12 = false;
  std::string client_ca_file;
  bool require_client_cert = false;
  std::uint64_t io_threads = 0;  // 0: one per core.
  std::uint64_t worker_threads = 32;
  std::uint64_t max_connections = 1024;
  std::uint64_t max_header_bytes = 16384;
  std::uint64_t handshake_timeout_seconds = 10;
  std::uint64_t header_timeout_seconds = 10;
  std::uint64_t body_timeout_seconds = 300;
  std::uint64_t idle_timeout_seconds = 30;
  std::uint64_t shutdown_grace_seconds = 30;
  // G-6.10: this data directory is a restored copy served for emergency viewing; every change
  // is refused (as with `hokan serve --read-only`, ApiServiceOptions::read_only).
  bool read_only = false;
};

// [identity]: login rules (G-6.5-C13, G-6.5-D4).
struct IdentityConfig {
  bool require_two_factor = true;
  std::uint64_t session_idle_minutes = 15;
  std::uint64_t session_lifetime_hours = 12;
  std::uint64_t failures_before_delay = 5;
  std::uint64_t failures_before_lockout = 10;
  std::uint64_t lockout_minutes = 15;
  // Sensitive actions (user administration, tokens) need a password entered this recently.
  std::uint64_t reauthenticate_minutes = 5;
};

// [signature]: confirming versions with e-signatures and timestamps (issue 4, G-6.12).
struct SignatureConfig {
  // RFC 3161 time-stamping authorities, asked in this order (http:// or https://).
  std::vector<std::string> tsa_urls;
  // hokan's built-in development TSA (NOT accredited; tokens say so). For trials and the
  // demo; a confirmation needs tsa_urls or this.
  bool development_tsa = false;
  // Trust anchors (PEM files) for signers' certificates, e.g. the MHLW HPKI Root CA V2, and
  // optional SHA-256 pins (hex): when given, an anchor file's certificate must match one.
  std::vector<std::string> trust_anchor_files;
  std::vector<std::string> trust_anchor_sha256;
  // Trust anchors for TSA certificates (the development TSA's is added automatically).
  std::vector<std::string> tsa_trust_anchor_files;
  // CRL files (PEM or DER) used for revocation checks, beside those inside signatures.
  std::vector<std::string> crl_files;
  bool require_revocation = true;
  // SHA-256 (hex) of the TSA certificates accredited under 「時刻認証業務の認定に関する規程」.
  std::vector<std::string> accredited_tsa_sha256;
  // Document types whose confirmations must be timestamped by an accredited TSA.
  std::vector<std::string> accredited_tsa_types;
  // Per document type, the hcRole qualifications a confirmer's certificate must carry one of
  // (e.g. prescription = ["Medical Doctor", "Dentist"]). [signature.qualifications] table.
  std::map<std::string, std::vector<std::string>> qualifications = {
      {"prescription", {"Medical Doctor", "Dentist"}}};
  // Directory of users' encrypted signing keys for server-side signing (<user id>.p12), and of
  // the certificates of keys held in a PKCS#11 token (<user id>.crt, PEM, CA chain after it).
  std::string signing_keys_dir = "keys/signing";
  // Server-side signing in a PKCS#11 token (an HSM): its library and token label. A user's
  // key is the private key labelled with the user id; the PIN is asked per confirmation.
  std::string pkcs11_module;
  std::string pkcs11_token_label;
};

// [sanitize]: content disarm on every way in (issue 5, G-6.5-C12, G-6.8-C9, G-6.5-C10).
struct SanitizeConfig {
  // What to do with a file that carries active content: "disarm" (remove it), "block", or
  // "hold" (quarantine until a second person approves). Programs and scripts are always
  // blocked.
  std::string action = "disarm";
  // Overrides, keyed "<source>:<type>" where either may be "*": source is api, cli, import or
  // maintenance; type a detected type name (docs/sanitize.md), e.g. "*:docm" = "hold",
  // "maintenance:*" = "block". The most specific rule wins (source:type, *:type, source:*).
  std::map<std::string, std::string> rules;
  // A ClamAV signature database directory (freshclam's, e.g. /var/lib/clamav). Empty: no
  // malware scan, hokan's own checks only. When set and unreadable, hokan refuses to start.
  std::string clamav_database_dir;
  // Limits against decompression bombs and hostile files.
  std::uint64_t max_expanded_mb = 1024;
  std::uint64_t max_expansion_ratio = 200;
  std::uint64_t max_archive_entries = 10000;
  std::uint64_t max_depth = 4;
};

// [maintenance]: files sent during remote maintenance must carry the sender's signed
// sanitisation attestation (G-6.8-C9; docs/sanitize.md).
struct MaintenanceConfig {
  // PEM files of the vendor CAs whose certificates may sign attestations. Empty: no
  // maintenance transfer is accepted.
  std::vector<std::string> trust_anchor_files;
  std::vector<std::string> crl_files;
  bool require_revocation = true;
  // An attestation signed longer ago than this is refused (a replayed old transfer).
  std::uint64_t max_attestation_age_hours = 72;
};

struct Config {
  std::string store_id;
  std::uint64_t max_content_bytes = 64ull * 1024 * 1024;
  std::string kek_file = "keys/kek.key";
  std::string audit_key_file = "keys/audit-signing.pem";
  // Sign a checkpoint at the end of a command once this many entries are uncovered.
  std::uint64_t checkpoint_every_entries = 1;
  ServerConfig server;
  IdentityConfig identity;
  SignatureConfig signature;
  SanitizeConfig sanitize;
  MaintenanceConfig maintenance;
};

// kInvalidArgument naming the key and line for anything malformed or unknown.
Result<Config> ParseConfig(std::string_view text, const std::string& path);
std::string RenderConfig(const Config& config);

}  // namespace hokan
