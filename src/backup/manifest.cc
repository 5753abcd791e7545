#include "backup/manifest.h"

#include <algorithm>
#include <charconv>
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

namespace {

// Appends `s` as a JSON string. Names and hashes are plain ASCII (the fast path); anything
// else goes through the JSON library, which escapes it and refuses invalid UTF-8.
Status AppendJsonString(std::string& out, std::string_view s) {
  const bool plain = std::all_of(
      s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain) {
    out += '"';
    out += s;
    out += '"';
    return OkStatus();
  }
  try {
    out += json(std::string(s)).dump();
  } catch (const json::exception&) {
    return InvalidArgumentError("a name in the backup is not valid UTF-8");
  }
  return OkStatus();
}

void AppendNumber(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

// The body is the JSON library's compact dump of one object (keys in sorted order). The
// objects array — 100k entries and more — is written straight into the text instead of
// through a document tree: the same bytes, without a tree of a million values.
Result<std::string> EncodeBody(const Manifest& m) {
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
      {"objects", json::array()},
  };
  std::string head;
  try {
    head = body.dump();
  } catch (const json::exception&) {
    return InvalidArgumentError("a field of the backup manifest is not valid UTF-8");
  }
  // Inside a JSON string every '"' is escaped, so this exact text is the key and its value.
  constexpr std::string_view kEmpty = "\"objects\":[]";
  const std::size_t at = head.find(kEmpty);
  if (at == std::string::npos) return InternalError("manifest encoding lost its objects");
  std::string text;
  std::size_t estimate = head.size();
  for (const ManifestEntry& e : m.entries) estimate += e.path.size() + 260;
  text.reserve(estimate);
  text.append(head, 0, at + kEmpty.size() - 1);
  bool first = true;
  for (const ManifestEntry& e : m.entries) {
    text += first ? "[" : ",[";
    first = false;
    HK_RETURN_IF_ERROR(AppendJsonString(text, e.kind));
    text += ',';
    HK_RETURN_IF_ERROR(AppendJsonString(text, e.path));
    text += ',';
    HK_RETURN_IF_ERROR(AppendJsonString(text, e.object));
    text += ',';
    AppendNumber(text, e.size);
    text += ',';
    HK_RETURN_IF_ERROR(AppendJsonString(text, e.sha256));
    text += ',';
    AppendNumber(text, e.sealed_size);
    text += ',';
    HK_RETURN_IF_ERROR(AppendJsonString(text, e.sealed_sha256));
    text += ']';
  }
  text.append(head, at + kEmpty.size() - 1);
  return text;
}

Status CheckEntry(const ManifestEntry& e) {
  if ((e.kind != "db" && e.kind != "file" && e.kind != "blob" && e.kind != "quarantine") ||
      !IsSafeRelativePath(e.path) || !IsObjectId(e.object) || !IsHex64(e.sha256) ||
      !IsHex64(e.sealed_sha256)) {
    return DataLossError("a manifest object is malformed (kind, path, id or hash)");
  }
  return OkStatus();
}

// Reads a manifest body in one pass. The top-level "objects" array (100k elements and more)
// goes straight into entries, each element's strings moved, never held as JSON values; the
// rest (a few dozen values) becomes a document. Stops at the first malformed element.
class BodyReader final : public nlohmann::json_sax<json> {
 public:
  explicit BodyReader(std::vector<ManifestEntry>& entries) : entries_(entries) {}

  json& document() { return root_; }
  const std::optional<Status>& problem() const { return problem_; }

  bool null() override { return Scalar(json(nullptr)); }
  bool boolean(bool v) override { return Scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return Scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    if (state_ == State::kEntry) {
      if (field_ == 3 || field_ == 5) {
        (field_ == 3 ? entry_.size : entry_.sealed_size) = v;
        ++field_;
        return true;
      }
      return Malformed();
    }
    return Scalar(json(v));
  }
  bool number_float(number_float_t v, const string_t& /*text*/) override { return Scalar(json(v)); }
  bool string(string_t& v) override {
    if (state_ == State::kEntry) {
      std::string* fields[] = {&entry_.kind,   &entry_.path, &entry_.object,       nullptr,
                               &entry_.sha256, nullptr,      &entry_.sealed_sha256};
      if (field_ >= 7 || fields[field_] == nullptr) return Malformed();
      *fields[field_++] = std::move(v);
      return true;
    }
    return Scalar(json(std::move(v)));
  }
  bool binary(binary_t& /*v*/) override { return Malformed(); }

  bool start_object(std::size_t /*n*/) override {
    if (state_ != State::kOutside) return Malformed();
    return Open(json::object());
  }
  bool key(string_t& k) override {
    if (stack_.size() == 1) top_key_ = k;
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*n*/) override {
    switch (state_) {
      case State::kOutside:
        if (stack_.size() == 1 && top_key_ == "objects") {
          if (seen_objects_) {
            problem_ = DataLossError("the manifest names its objects twice");
            return false;
          }
          seen_objects_ = true;
          state_ = State::kObjects;
          return Add(json::array()) != nullptr;  // Present, and empty.
        }
        return Open(json::array());
      case State::kObjects:
        state_ = State::kEntry;
        entry_ = ManifestEntry{};
        field_ = 0;
        return true;
      case State::kEntry:
        return Malformed();
    }
    return false;
  }
  bool end_array() override {
    switch (state_) {
      case State::kEntry: {
        if (field_ != 7) return Malformed();
        if (Status st = CheckEntry(entry_); !st.ok()) {
          problem_ = st;
          return false;
        }
        entries_.push_back(std::move(entry_));
        state_ = State::kObjects;
        return true;
      }
      case State::kObjects:
        state_ = State::kOutside;
        return true;
      case State::kOutside:
        stack_.pop_back();
        return true;
    }
    return false;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) override {
    return false;
  }

 private:
  enum class State { kOutside, kObjects, kEntry };

  bool Malformed() {
    problem_ = DataLossError("a manifest object is malformed");
    return false;
  }
  bool Scalar(json v) {
    if (state_ != State::kOutside) return Malformed();
    return Add(std::move(v)) != nullptr;
  }
  json* Add(json v) {
    if (stack_.empty()) {
      if (!root_.is_null()) return nullptr;  // Two top-level values.
      root_ = std::move(v);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }
  bool Open(json v) {
    json* added = Add(std::move(v));
    if (added == nullptr) return false;
    stack_.push_back(added);
    return true;
  }

  std::vector<ManifestEntry>& entries_;
  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string top_key_;
  State state_ = State::kOutside;
  bool seen_objects_ = false;
  ManifestEntry entry_;
  int field_ = 0;
  std::optional<Status> problem_;
};

}  // namespace

Result<Bytes> EncodeManifest(const Manifest& m, const BackupKey& key, const SigningKey& signer) {
  HK_ASSIGN_OR_RETURN(const std::string text, EncodeBody(m));
  const Sha256Digest mac = key.ManifestMac(AsBytes(text));
  HK_ASSIGN_OR_RETURN(Bytes sig, signer.Sign(AsBytes(text)));
  const std::string mac_line =
      "\nmac " + HexEncode(mac) + "\nsignature " + Base64Encode(sig) + "\n";
  Bytes out;
  out.reserve(kMagic.size() + 1 + text.size() + mac_line.size());
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back('\n');
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), mac_line.begin(), mac_line.end());
  return out;
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

  Manifest& m = p.manifest;
  BodyReader reader(m.entries);
  const bool parsed = json::sax_parse(p.body, &reader);
  if (reader.problem()) return *reader.problem();
  const json& body = reader.document();
  if (!parsed || !body.is_object()) return DataLossError("the manifest's body is not JSON");
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
    // An "objects" that is not an array (its elements were read above): malformed.
    if (!body.at("objects").is_array() || !body.at("objects").empty()) {
      return DataLossError("a manifest object is malformed");
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
