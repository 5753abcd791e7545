#include "backup/manifest.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "backup/target.h"
#include "base/encoding.h"

namespace hokan::backup {
namespace {

constexpr std::string_view kMagic = "hokan-backup-manifest v1";

using nlohmann::json;

std::string HashHex(const merkle::Hash& h) { return HexEncode(ByteView(h.data(), h.size())); }

Result<merkle::Hash> HashFromHex(const std::string& hex) {
  Result<Bytes> b = HexDecode(hex);
  if (!b || b->size() != 32) return DataLossError("a hash in the manifest is malformed");
  merkle::Hash h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.size() > 4096) return false;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (c == '\0' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

std::uint64_t Manifest::TotalSize() const {
  std::uint64_t n = 0;
  for (const ManifestEntry& e : entries) n += e.size;
  return n;
}

Result<Bytes> EncodeManifest(const Manifest& m, const BackupKey& key, const SigningKey& signer) {
  json objects = json::array();
  for (const ManifestEntry& e : m.entries) {
    objects.push_back(
        json::array({e.kind, e.path, e.object, e.size, e.sha256, e.sealed_size, e.sealed_sha256}));
  }
  json proof = json::array();
  for (const merkle::Hash& h : m.consistency_proof) proof.push_back(HashHex(h));
  json body = {
      {"format", 1},
      {"snapshot_id", m.snapshot_id},
      {"store_id", m.store_id},
      {"created_at", m.created_at},
      {"source_dir", m.source_dir},
      {"source_host", m.source_host},
      {"key_id", m.key_id},
      {"audit",
       {{"origin", m.audit_origin},
        {"public_key", Base64Encode(m.audit_public_key)},
        {"checkpoint", m.checkpoint},
        {"tree_size", m.tree_size},
        {"root", HashHex(m.root)}}},
      {"previous",
       {{"snapshot_id", m.previous_snapshot},
        {"tree_size", m.previous_tree_size},
        {"root", HashHex(m.previous_root)},
        {"consistency_proof", proof},
        {"audit_consistency", m.audit_consistency}}},
      {"store", {{"versions", m.versions}, {"audit_entries", m.audit_entries}}},
      {"objects", objects},
  };
  const std::string text = body.dump();
  const Sha256Digest mac = key.ManifestMac(AsBytes(text));
  HK_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(AsBytes(text)));
  std::string out = std::string(kMagic) + "\n" + text + "\nmac " + HexEncode(mac) + "\nsignature " +
                    Base64Encode(sig) + "\n";
  return Bytes(out.begin(), out.end());
}

Result<ParsedManifest> ParseManifest(ByteView bytes) {
  std::string_view all = AsChars(bytes);
  std::vector<std::string_view> lines;
  while (!all.empty()) {
    const std::size_t nl = all.find('\n');
    if (nl == std::string_view::npos) return DataLossError("the manifest is truncated");
    lines.push_back(all.substr(0, nl));
    all.remove_prefix(nl + 1);
  }
  if (lines.size() != 4 || lines[0] != kMagic) {
    return DataLossError("not a hokan backup manifest (format v1)");
  }
  ParsedManifest p;
  p.body = std::string(lines[1]);
  if (lines[2].substr(0, 4) != "mac ") return DataLossError("the manifest has no MAC line");
  Result<Bytes> mac = HexDecode(lines[2].substr(4));
  if (!mac || mac->size() != 32) return DataLossError("the manifest's MAC is malformed");
  p.mac = std::move(*mac);
  if (lines[3].substr(0, 10) != "signature ") {
    return DataLossError("the manifest has no signature line");
  }
  Result<Bytes> sig = Base64Decode(lines[3].substr(10));
  if (!sig || sig->size() != 64) return DataLossError("the manifest's signature is malformed");
  p.signature = std::move(*sig);

  const json body = json::parse(p.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return DataLossError("the manifest's body is not JSON");
  }
  Manifest& m = p.manifest;
  try {
    if (body.at("format").get<int>() != 1) return DataLossError("unknown manifest format");
    m.snapshot_id = body.at("snapshot_id").get<std::string>();
    m.store_id = body.at("store_id").get<std::string>();
    m.created_at = body.at("created_at").get<std::string>();
    m.source_dir = body.at("source_dir").get<std::string>();
    m.source_host = body.at("source_host").get<std::string>();
    m.key_id = body.at("key_id").get<std::string>();
    const json& a = body.at("audit");
    m.audit_origin = a.at("origin").get<std::string>();
    Result<Bytes> pk = Base64Decode(a.at("public_key").get<std::string>());
    if (!pk || pk->size() != 32) return DataLossError("the manifest's audit key is malformed");
    m.audit_public_key = std::move(*pk);
    m.checkpoint = a.at("checkpoint").get<std::string>();
    m.tree_size = a.at("tree_size").get<std::uint64_t>();
    HK_ASSIGN_OR_RETURN(m.root, HashFromHex(a.at("root").get<std::string>()));
    const json& prev = body.at("previous");
    m.previous_snapshot = prev.at("snapshot_id").get<std::string>();
    m.previous_tree_size = prev.at("tree_size").get<std::uint64_t>();
    HK_ASSIGN_OR_RETURN(m.previous_root, HashFromHex(prev.at("root").get<std::string>()));
    for (const json& h : prev.at("consistency_proof")) {
      HK_ASSIGN_OR_RETURN(merkle::Hash hash, HashFromHex(h.get<std::string>()));
      m.consistency_proof.push_back(hash);
    }
    m.audit_consistency = prev.at("audit_consistency").get<std::string>();
    m.versions = body.at("store").at("versions").get<std::uint64_t>();
    m.audit_entries = body.at("store").at("audit_entries").get<std::uint64_t>();
    for (const json& o : body.at("objects")) {
      if (!o.is_array() || o.size() != 7) return DataLossError("a manifest object is malformed");
      ManifestEntry e;
      e.kind = o[0].get<std::string>();
      e.path = o[1].get<std::string>();
      e.object = o[2].get<std::string>();
      e.size = o[3].get<std::uint64_t>();
      e.sha256 = o[4].get<std::string>();
      e.sealed_size = o[5].get<std::uint64_t>();
      e.sealed_sha256 = o[6].get<std::string>();
      if ((e.kind != "db" && e.kind != "file" && e.kind != "blob" && e.kind != "quarantine") ||
          !IsSafeRelativePath(e.path) || !IsObjectId(e.object) || !IsHex64(e.sha256) ||
          !IsHex64(e.sealed_sha256)) {
        return DataLossError("a manifest object is malformed (kind, path, id or hash)");
      }
      m.entries.push_back(std::move(e));
    }
  } catch (const json::exception&) {
    return DataLossError("the manifest's body lacks a field or has one of the wrong type");
  }
  p.signature_ok = VerifyEd25519(m.audit_public_key, AsBytes(p.body), p.signature);
  return p;
}

bool CheckMac(ParsedManifest& p, const BackupKey& key) {
  p.mac_ok = key.VerifyManifestMac(AsBytes(p.body), p.mac);
  return *p.mac_ok;
}

}  // namespace hokan::backup
