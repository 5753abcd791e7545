#include "service/config.h"

#include <toml++/toml.h>

#include <set>

namespace hokan {
namespace {

Status CheckKnownKeys(const toml::table& table, const std::string& where,
                      const std::set<std::string, std::less<>>& known, const std::string& path) {
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      std::string msg = path;
      msg += ": unknown key '";
      msg += where;
      msg += key.str();
      msg += "' (line " + std::to_string(value.source().begin.line) + ")";
      return InvalidArgumentError(std::move(msg));
    }
  }
  return OkStatus();
}

// A positive integer key (or, with `allow_zero`, non-negative) up to `max`.
Status ReadCount(const toml::table& t, std::string_view section, std::string_view key,
                 std::uint64_t max, bool allow_zero, const std::string& path, std::uint64_t& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  auto v = n->value_exact<std::int64_t>();
  if (!v || *v < (allow_zero ? 0 : 1) || static_cast<std::uint64_t>(*v) > max) {
    return InvalidArgumentError(path + ": " + std::string(section) + "." + std::string(key) +
                                " must be an integer from " + (allow_zero ? "0" : "1") + " to " +
                                std::to_string(max) + " (line " +
                                std::to_string(n->source().begin.line) + ")");
  }
  out = static_cast<std::uint64_t>(*v);
  return OkStatus();
}

Status ReadBool(const toml::table& t, std::string_view section, std::string_view key,
                const std::string& path, bool& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  auto v = n->value<bool>();
  if (!v) {
    return InvalidArgumentError(path + ": " + std::string(section) + "." + std::string(key) +
                                " must be true or false");
  }
  out = *v;
  return OkStatus();
}

Status ParseServer(const toml::table& t, const std::string& path, ServerConfig& c) {
  HK_RETURN_IF_ERROR(CheckKnownKeys(
      t, "server.",
      {"listen_address", "port", "tls_cert_file", "tls_key_file", "allow_tls12", "client_ca_file",
       "require_client_cert", "io_threads", "worker_threads", "max_connections", "max_header_bytes",
       "handshake_timeout_seconds", "header_timeout_seconds", "body_timeout_seconds",
       "idle_timeout_seconds", "shutdown_grace_seconds", "read_only"},
      path));
  if (auto v = t["listen_address"].value<std::string>()) c.listen_address = *v;
  if (auto v = t["tls_cert_file"].value<std::string>()) c.tls_cert_file = *v;
  if (auto v = t["tls_key_file"].value<std::string>()) c.tls_key_file = *v;
  if (auto v = t["client_ca_file"].value<std::string>()) c.client_ca_file = *v;
  HK_RETURN_IF_ERROR(ReadBool(t, "server", "allow_tls12", path, c.allow_tls12));
  HK_RETURN_IF_ERROR(ReadBool(t, "server", "require_client_cert", path, c.require_client_cert));
  HK_RETURN_IF_ERROR(ReadBool(t, "server", "read_only", path, c.read_only));
  HK_RETURN_IF_ERROR(ReadCount(t, "server", "port", 65535, true, path, c.port));
  HK_RETURN_IF_ERROR(ReadCount(t, "server", "io_threads", 256, true, path, c.io_threads));
  HK_RETURN_IF_ERROR(ReadCount(t, "server", "worker_threads", 1024, false, path, c.worker_threads));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "server", "max_connections", 100000, false, path, c.max_connections));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "server", "max_header_bytes", 1 << 20, false, path, c.max_header_bytes));
  for (auto [key, field] : {std::pair{"handshake_timeout_seconds", &c.handshake_timeout_seconds},
                            std::pair{"header_timeout_seconds", &c.header_timeout_seconds},
                            std::pair{"body_timeout_seconds", &c.body_timeout_seconds},
                            std::pair{"idle_timeout_seconds", &c.idle_timeout_seconds},
                            std::pair{"shutdown_grace_seconds", &c.shutdown_grace_seconds}}) {
    HK_RETURN_IF_ERROR(ReadCount(t, "server", key, 86400, false, path, *field));
  }
  if (c.require_client_cert && c.client_ca_file.empty()) {
    return InvalidArgumentError(path + ": server.require_client_cert needs server.client_ca_file");
  }
  return OkStatus();
}

Status ParseIdentity(const toml::table& t, const std::string& path, IdentityConfig& c) {
  HK_RETURN_IF_ERROR(
      CheckKnownKeys(t, "identity.",
                     {"require_two_factor", "session_idle_minutes", "session_lifetime_hours",
                      "failures_before_delay", "failures_before_lockout", "lockout_minutes",
                      "reauthenticate_minutes"},
                     path));
  HK_RETURN_IF_ERROR(ReadBool(t, "identity", "require_two_factor", path, c.require_two_factor));
  // G-6.5-C12-ish upper bounds: a session may not idle longer than an hour.
  HK_RETURN_IF_ERROR(
      ReadCount(t, "identity", "session_idle_minutes", 60, false, path, c.session_idle_minutes));
  HK_RETURN_IF_ERROR(ReadCount(t, "identity", "session_lifetime_hours", 24, false, path,
                               c.session_lifetime_hours));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "identity", "failures_before_delay", 100, false, path, c.failures_before_delay));
  HK_RETURN_IF_ERROR(ReadCount(t, "identity", "failures_before_lockout", 100, false, path,
                               c.failures_before_lockout));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "identity", "lockout_minutes", 1440, false, path, c.lockout_minutes));
  HK_RETURN_IF_ERROR(ReadCount(t, "identity", "reauthenticate_minutes", 60, false, path,
                               c.reauthenticate_minutes));
  if (c.failures_before_lockout < c.failures_before_delay) {
    return InvalidArgumentError(path +
                                ": identity.failures_before_lockout must not be below "
                                "identity.failures_before_delay");
  }
  return OkStatus();
}

Status ParseMaintenance(const toml::table& t, const std::string& path, MaintenanceConfig& c);

Status ParseSanitize(const toml::table& t, const std::string& path, SanitizeConfig& c) {
  HK_RETURN_IF_ERROR(CheckKnownKeys(t, "sanitize.",
                                    {"action", "rules", "clamav_database_dir", "max_expanded_mb",
                                     "max_expansion_ratio", "max_archive_entries", "max_depth"},
                                    path));
  auto check_action = [&](const std::string& key, const toml::node* n, std::string& out) {
    auto v = n->value<std::string>();
    if (!v || (*v != "disarm" && *v != "block" && *v != "hold")) {
      return InvalidArgumentError(path + ": " + key + " must be \"disarm\", \"block\" or \"hold\"");
    }
    out = *v;
    return OkStatus();
  };
  if (const toml::node* n = t.get("action")) {
    HK_RETURN_IF_ERROR(check_action("sanitize.action", n, c.action));
  }
  if (const toml::node* n = t.get("rules")) {
    const toml::table* rules = n->as_table();
    if (rules == nullptr) return InvalidArgumentError(path + ": sanitize.rules must be a table");
    for (const auto& [key, value] : *rules) {
      const std::string name(key.str());
      const std::size_t colon = name.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == name.size()) {
        std::string message = path;
        message += ": sanitize.rules key \"";
        message += name;
        message += "\" must be \"<source>:<type>\" (either may be *)";
        return InvalidArgumentError(std::move(message));
      }
      std::string action;
      HK_RETURN_IF_ERROR(check_action("sanitize.rules.\"" + name + "\"", &value, action));
      c.rules[name] = action;
    }
  }
  if (auto v = t["clamav_database_dir"].value<std::string>()) c.clamav_database_dir = *v;
  HK_RETURN_IF_ERROR(
      ReadCount(t, "sanitize", "max_expanded_mb", 1u << 20, false, path, c.max_expanded_mb));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "sanitize", "max_expansion_ratio", 100000, false, path, c.max_expansion_ratio));
  HK_RETURN_IF_ERROR(
      ReadCount(t, "sanitize", "max_archive_entries", 1000000, false, path, c.max_archive_entries));
  HK_RETURN_IF_ERROR(ReadCount(t, "sanitize", "max_depth", 16, false, path, c.max_depth));
  return OkStatus();
}

// A list of strings (may be empty).
Status ReadStrings(const toml::table& t, std::string_view where, std::string_view key,
                   const std::string& path, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  const toml::array* a = n->as_array();
  auto bad = [&] {
    return InvalidArgumentError(path + ": " + std::string(where) + std::string(key) +
                                " must be a list of strings (line " +
                                std::to_string(n->source().begin.line) + ")");
  };
  if (a == nullptr) return bad();
  out.clear();
  for (const toml::node& item : *a) {
    auto v = item.value<std::string>();
    if (!v || v->empty()) return bad();
    out.push_back(*v);
  }
  return OkStatus();
}

Status ParseMaintenance(const toml::table& t, const std::string& path, MaintenanceConfig& c) {
  HK_RETURN_IF_ERROR(CheckKnownKeys(
      t, "maintenance.",
      {"trust_anchor_files", "crl_files", "require_revocation", "max_attestation_age_hours"},
      path));
  HK_RETURN_IF_ERROR(
      ReadStrings(t, "maintenance.", "trust_anchor_files", path, c.trust_anchor_files));
  HK_RETURN_IF_ERROR(ReadStrings(t, "maintenance.", "crl_files", path, c.crl_files));
  HK_RETURN_IF_ERROR(ReadBool(t, "maintenance", "require_revocation", path, c.require_revocation));
  HK_RETURN_IF_ERROR(ReadCount(t, "maintenance", "max_attestation_age_hours",
                               std::uint64_t{24} * 365, false, path, c.max_attestation_age_hours));
  return OkStatus();
}

Status ParseSignature(const toml::table& t, const std::string& path, SignatureConfig& c) {
  HK_RETURN_IF_ERROR(
      CheckKnownKeys(t, "signature.",
                     {"tsa_urls", "development_tsa", "trust_anchor_files", "trust_anchor_sha256",
                      "tsa_trust_anchor_files", "crl_files", "require_revocation",
                      "accredited_tsa_sha256", "accredited_tsa_types", "qualifications",
                      "signing_keys_dir", "pkcs11_module", "pkcs11_token_label"},
                     path));
  const char* w = "signature.";
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "tsa_urls", path, c.tsa_urls));
  for (const std::string& url : c.tsa_urls) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      std::string message = path;
      message += ": signature.tsa_urls: '";
      message += url;
      message += "' is not an http:// or https:// URL";
      return InvalidArgumentError(std::move(message));
    }
  }
  HK_RETURN_IF_ERROR(ReadBool(t, "signature", "development_tsa", path, c.development_tsa));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "trust_anchor_files", path, c.trust_anchor_files));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "trust_anchor_sha256", path, c.trust_anchor_sha256));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "tsa_trust_anchor_files", path, c.tsa_trust_anchor_files));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "crl_files", path, c.crl_files));
  HK_RETURN_IF_ERROR(ReadBool(t, "signature", "require_revocation", path, c.require_revocation));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "accredited_tsa_sha256", path, c.accredited_tsa_sha256));
  HK_RETURN_IF_ERROR(ReadStrings(t, w, "accredited_tsa_types", path, c.accredited_tsa_types));
  if (!c.accredited_tsa_types.empty() && c.accredited_tsa_sha256.empty()) {
    return InvalidArgumentError(path +
                                ": signature.accredited_tsa_types needs "
                                "signature.accredited_tsa_sha256");
  }
  if (auto v = t["signing_keys_dir"].value<std::string>()) c.signing_keys_dir = *v;
  if (auto v = t["pkcs11_module"].value<std::string>()) c.pkcs11_module = *v;
  if (auto v = t["pkcs11_token_label"].value<std::string>()) c.pkcs11_token_label = *v;
  if (c.pkcs11_module.empty() != c.pkcs11_token_label.empty()) {
    return InvalidArgumentError(path +
                                ": signature.pkcs11_module and signature.pkcs11_token_label go "
                                "together");
  }
  if (const toml::node* n = t.get("qualifications")) {
    const toml::table* q = n->as_table();
    if (q == nullptr) {
      return InvalidArgumentError(path + ": signature.qualifications must be a table");
    }
    c.qualifications.clear();
    for (const auto& [type, value] : *q) {
      std::vector<std::string> quals;
      toml::table one;
      one.insert(type.str(), value);
      HK_RETURN_IF_ERROR(ReadStrings(one, "signature.qualifications.", type.str(), path, quals));
      c.qualifications[std::string(type.str())] = std::move(quals);
    }
  }
  return OkStatus();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError(path + ":" + std::to_string(err.source().begin.line) + ": " +
                                std::string(err.description()));
  }
  HK_RETURN_IF_ERROR(CheckKnownKeys(
      root, "",
      {"store", "keys", "audit", "server", "identity", "signature", "sanitize", "maintenance"},
      path));
  Config c;
  auto table = [&](std::string_view name) -> const toml::table* {
    const toml::node* n = root.get(name);
    return n ? n->as_table() : nullptr;
  };
  if (const toml::table* t = table("store")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "store.", {"id", "max_content_bytes"}, path));
    if (auto v = (*t)["id"].value<std::string>()) c.store_id = *v;
    if (const toml::node* n = t->get("max_content_bytes")) {
      auto v = n->value_exact<std::int64_t>();
      if (!v || *v <= 0) {
        return InvalidArgumentError(path + ": store.max_content_bytes must be a positive integer");
      }
      c.max_content_bytes = static_cast<std::uint64_t>(*v);
    }
  }
  if (const toml::table* t = table("keys")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "keys.", {"kek_file", "audit_signing_key_file"}, path));
    if (auto v = (*t)["kek_file"].value<std::string>()) c.kek_file = *v;
    if (auto v = (*t)["audit_signing_key_file"].value<std::string>()) c.audit_key_file = *v;
  }
  if (const toml::table* t = table("audit")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "audit.", {"checkpoint_every_entries"}, path));
    if (const toml::node* n = t->get("checkpoint_every_entries")) {
      auto v = n->value_exact<std::int64_t>();
      if (!v || *v <= 0) {
        return InvalidArgumentError(path +
                                    ": audit.checkpoint_every_entries must be a positive integer");
      }
      c.checkpoint_every_entries = static_cast<std::uint64_t>(*v);
    }
  }
  if (const toml::table* t = table("server")) HK_RETURN_IF_ERROR(ParseServer(*t, path, c.server));
  if (const toml::table* t = table("identity")) {
    HK_RETURN_IF_ERROR(ParseIdentity(*t, path, c.identity));
  }
  if (const toml::table* t = table("signature")) {
    HK_RETURN_IF_ERROR(ParseSignature(*t, path, c.signature));
  }
  if (const toml::table* t = table("sanitize")) {
    HK_RETURN_IF_ERROR(ParseSanitize(*t, path, c.sanitize));
  }
  if (const toml::table* t = table("maintenance")) {
    HK_RETURN_IF_ERROR(ParseMaintenance(*t, path, c.maintenance));
  }
  if (c.store_id.size() != 32) {
    return InvalidArgumentError(path + ": store.id is missing or malformed");
  }
  return c;
}

namespace {

std::string TomlString(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string TomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + TomlString(items[i]);
  return out + "]";
}

std::string RenderSignature(const SignatureConfig& s) {
  std::string out =
      "\n"
      "[signature]\n"
      "# Confirming versions (確定) with e-signatures and RFC 3161 timestamps.\n"
      "# Time-stamping authorities, asked in order. Legally required documents need a TSA\n"
      "# accredited under 時刻認証業務の認定に関する規程.\n"
      "tsa_urls = " +
      TomlList(s.tsa_urls) +
      "\n"
      "# hokan's built-in development TSA: NOT accredited, for trials only.\n"
      "development_tsa = " +
      (s.development_tsa ? "true" : "false") +
      "\n"
      "# Trust anchors for signers (e.g. the MHLW HPKI Root CA V2, PEM) and optional\n"
      "# SHA-256 pins of them.\n"
      "trust_anchor_files = " +
      TomlList(s.trust_anchor_files) +
      "\n"
      "trust_anchor_sha256 = " +
      TomlList(s.trust_anchor_sha256) +
      "\n"
      "tsa_trust_anchor_files = " +
      TomlList(s.tsa_trust_anchor_files) +
      "\n"
      "# CRLs (PEM or DER) for revocation checks.\n"
      "crl_files = " +
      TomlList(s.crl_files) +
      "\n"
      "require_revocation = " +
      (s.require_revocation ? "true" : "false") +
      "\n"
      "# Accredited TSA certificates (SHA-256) and the document types that may only be\n"
      "# timestamped by them.\n"
      "accredited_tsa_sha256 = " +
      TomlList(s.accredited_tsa_sha256) +
      "\n"
      "accredited_tsa_types = " +
      TomlList(s.accredited_tsa_types) +
      "\n"
      "# Users' encrypted signing keys for server-side signing (<user id>.p12).\n"
      "signing_keys_dir = " +
      TomlString(s.signing_keys_dir) +
      "\n"
      "# Server-side keys in a PKCS#11 token (HSM): its library and token label; a user's key\n"
      "# is labelled with the user id, its certificate is <signing_keys_dir>/<user id>.crt.\n"
      "pkcs11_module = " +
      TomlString(s.pkcs11_module) +
      "\n"
      "pkcs11_token_label = " +
      TomlString(s.pkcs11_token_label) +
      "\n"
      "\n"
      "# Per document type, the qualifications (hcRole) a confirmer must have one of.\n"
      "[signature.qualifications]\n";
  for (const auto& [type, quals] : s.qualifications) {
    out += TomlString(type) + " = " + TomlList(quals) + "\n";
  }
  return out;
}

std::string RenderMaintenance(const MaintenanceConfig& m) {
  return "\n"
         "[maintenance]\n"
         "# Files sent during remote maintenance need the sender's signed sanitisation\n"
         "# attestation (docs/sanitize.md). Vendor CAs allowed to sign it (PEM); empty: no\n"
         "# maintenance transfer is accepted.\n"
         "trust_anchor_files = " +
         TomlList(m.trust_anchor_files) +
         "\n"
         "crl_files = " +
         TomlList(m.crl_files) +
         "\n"
         "require_revocation = " +
         (m.require_revocation ? "true" : "false") +
         "\n"
         "max_attestation_age_hours = " +
         std::to_string(m.max_attestation_age_hours) + "\n";
}

std::string RenderSanitize(const SanitizeConfig& s) {
  std::string out =
      "\n"
      "[sanitize]\n"
      "# Every file on every way in is checked by content and disarmed (docs/sanitize.md).\n"
      "# A file with active content (macros, scripts, embedded programs): disarm, block or\n"
      "# hold (quarantine until a second person approves). Programs are always blocked.\n"
      "action = " +
      TomlString(s.action) +
      "\n"
      "# A ClamAV signature database directory (e.g. /var/lib/clamav); empty: no ClamAV scan.\n"
      "clamav_database_dir = " +
      TomlString(s.clamav_database_dir) +
      "\n"
      "# Limits against decompression bombs.\n"
      "max_expanded_mb = " +
      std::to_string(s.max_expanded_mb) +
      "\n"
      "max_expansion_ratio = " +
      std::to_string(s.max_expansion_ratio) +
      "\n"
      "max_archive_entries = " +
      std::to_string(s.max_archive_entries) +
      "\n"
      "max_depth = " +
      std::to_string(s.max_depth) +
      "\n"
      "\n"
      "# Overrides: \"<source>:<type>\" = action; source api, cli, import or maintenance,\n"
      "# type as in docs/sanitize.md; * matches any. The most specific rule wins.\n"
      "[sanitize.rules]\n";
  for (const auto& [key, action] : s.rules)
    out += TomlString(key) + " = " + TomlString(action) + "\n";
  return out;
}

}  // namespace

std::string RenderConfig(const Config& c) {
  return "# hokan configuration, written by `hokan init`.\n"
         "# Every key is described in docs/configuration.md. Unknown keys are an error.\n"
         "\n"
         "[store]\n"
         "# The store's identity. It is bound into every encrypted blob and every audit\n"
         "# checkpoint; never change it.\n"
         "id = \"" +
         c.store_id +
         "\"\n"
         "# Largest content accepted for one version, in bytes. Larger uploads are refused\n"
         "# before anything is written.\n"
         "max_content_bytes = " +
         std::to_string(c.max_content_bytes) +
         "\n"
         "\n"
         "[keys]\n"
         "# Key-encryption key (wraps every version's data key). Relative paths are inside the\n"
         "# data directory. Keep a copy apart from the data backups; without it nothing can be\n"
         "# read. The file must be mode 0600.\n"
         "kek_file = \"" +
         c.kek_file +
         "\"\n"
         "# Ed25519 key that signs audit checkpoints (mode 0600).\n"
         "audit_signing_key_file = \"" +
         c.audit_key_file +
         "\"\n"
         "\n"
         "[audit]\n"
         "# A command that wrote audit entries signs a checkpoint at its end once at least this\n"
         "# many entries are not yet covered by one. 1 = after every command.\n"
         "checkpoint_every_entries = " +
         std::to_string(c.checkpoint_every_entries) +
         "\n"
         "\n"
         "[server]\n"
         "# `hokan serve`. HTTPS only; there is no plain-HTTP listener. Listening on loopback\n"
         "# until you choose an address the clinical network reaches (\"0.0.0.0\" for all).\n"
         "listen_address = \"" +
         c.server.listen_address +
         "\"\n"
         "port = " +
         std::to_string(c.server.port) +
         "\n"
         "# Certificate chain and key (PEM). `hokan init` made a self-signed pair for first use;\n"
         "# replace them with your CA's. The key file must be mode 0600.\n"
         "tls_cert_file = \"" +
         c.server.tls_cert_file +
         "\"\n"
         "tls_key_file = \"" +
         c.server.tls_key_file +
         "\"\n"
         "# TLS 1.3 only (G-6.11-C10). true adds TLS 1.2 with ECDHE + AES-GCM suites, for\n"
         "# systems that cannot speak 1.3.\n"
         "allow_tls12 = " +
         (c.server.allow_tls12 ? "true" : "false") +
         "\n"
         "# CA (PEM) that issues client certificates for systems (mTLS); empty: not asked for.\n"
         "client_ca_file = \"" +
         c.server.client_ca_file +
         "\"\n"
         "# With a client CA: refuse every connection without a valid client certificate.\n"
         "require_client_cert = " +
         (c.server.require_client_cert ? "true" : "false") +
         "\n"
         "# Threads for network I/O (0: one per core) and for requests (they may wait on disk).\n"
         "io_threads = " +
         std::to_string(c.server.io_threads) +
         "\n"
         "worker_threads = " +
         std::to_string(c.server.worker_threads) +
         "\n"
         "# Limits against overload and slow clients (docs/configuration.md).\n"
         "max_connections = " +
         std::to_string(c.server.max_connections) +
         "\n"
         "max_header_bytes = " +
         std::to_string(c.server.max_header_bytes) +
         "\n"
         "handshake_timeout_seconds = " +
         std::to_string(c.server.handshake_timeout_seconds) +
         "\n"
         "header_timeout_seconds = " +
         std::to_string(c.server.header_timeout_seconds) +
         "\n"
         "body_timeout_seconds = " +
         std::to_string(c.server.body_timeout_seconds) +
         "\n"
         "idle_timeout_seconds = " +
         std::to_string(c.server.idle_timeout_seconds) +
         "\n"
         "# On SIGTERM, requests in flight get this long to finish.\n"
         "shutdown_grace_seconds = " +
         std::to_string(c.server.shutdown_grace_seconds) +
         "\n"
         "# true only on a restored copy served for emergency viewing: every change is refused\n"
         "# (as with `hokan serve --read-only`); sign-in, reads and the audit log keep working.\n"
         "read_only = " +
         (c.server.read_only ? "true" : "false") +
         "\n"
         "\n"
         "[identity]\n"
         "# Two-factor login (G-6.5-C13): users without a second factor may only enrol one.\n"
         "require_two_factor = " +
         (c.identity.require_two_factor ? "true" : "false") +
         "\n"
         "# Sessions lock after this idle time and end this long after login.\n"
         "session_idle_minutes = " +
         std::to_string(c.identity.session_idle_minutes) +
         "\n"
         "session_lifetime_hours = " +
         std::to_string(c.identity.session_lifetime_hours) +
         "\n"
         "# After this many failed logins each further attempt waits (1 s, doubling); after\n"
         "# failures_before_lockout the login id is locked for lockout_minutes (G-6.5-D4).\n"
         "failures_before_delay = " +
         std::to_string(c.identity.failures_before_delay) +
         "\n"
         "failures_before_lockout = " +
         std::to_string(c.identity.failures_before_lockout) +
         "\n"
         "lockout_minutes = " +
         std::to_string(c.identity.lockout_minutes) +
         "\n"
         "# User administration and API tokens need the password entered this recently.\n"
         "reauthenticate_minutes = " +
         std::to_string(c.identity.reauthenticate_minutes) + "\n" + RenderSignature(c.signature) +
         RenderSanitize(c.sanitize) + RenderMaintenance(c.maintenance);
}

}  // namespace hokan
