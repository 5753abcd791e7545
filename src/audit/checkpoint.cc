#include "audit/checkpoint.h"

#include <charconv>

#include "base/encoding.h"

namespace hokan {
namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // U+2014 EM DASH, then a space.

Bytes KeyHash(std::string_view origin, ByteView public_key_raw) {
  Bytes in(origin.begin(), origin.end());
  in.push_back('\n');
  in.push_back(0x01);  // Ed25519 signature type (signed-note).
  in.insert(in.end(), public_key_raw.begin(), public_key_raw.end());
  const Sha256Digest d = Sha256(in);
  return Bytes(d.begin(), d.begin() + 4);
}

std::string Body(const std::string& origin, std::uint64_t size, const merkle::Hash& root,
                 const std::string& time) {
  return origin + "\n" + std::to_string(size) + "\n" + Base64Encode(root) + "\ntime " + time + "\n";
}

}  // namespace

Result<Checkpoint> SignCheckpoint(const SigningKey& key, const std::string& origin,
                                  std::uint64_t tree_size, const merkle::Hash& root,
                                  const std::string& time) {
  Checkpoint c{origin, tree_size, root, time, {}};
  const std::string body = Body(origin, tree_size, root, time);
  HK_ASSIGN_OR_RETURN(Bytes sig, key.Sign(AsBytes(body)));
  Bytes tagged = KeyHash(origin, key.PublicKeyRaw());
  tagged.insert(tagged.end(), sig.begin(), sig.end());
  c.note = body + "\n" + std::string(kDash) + origin + " " + Base64Encode(tagged) + "\n";
  return c;
}

Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::string_view origin,
                                    ByteView public_key_raw) {
  const std::size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return DataLossError("checkpoint has no signature block");
  const std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);

  // Body lines: origin, size, root, then extension lines ("time ...").
  std::vector<std::string_view> lines;
  for (std::string_view rest = body; !rest.empty();) {
    const std::size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = rest.substr(nl + 1);
  }
  if (lines.size() < 3) return DataLossError("checkpoint body is too short");
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin != origin) return DataLossError("checkpoint is for another log (" + c.origin + ")");
  const auto [end, ec] =
      std::from_chars(lines[1].data(), lines[1].data() + lines[1].size(), c.tree_size);
  if (ec != std::errc() || end != lines[1].data() + lines[1].size() || lines[1].empty()) {
    return DataLossError("checkpoint tree size is malformed");
  }
  Result<Bytes> root = Base64Decode(lines[2]);
  if (!root || root->size() != 32) return DataLossError("checkpoint root hash is malformed");
  std::copy(root->begin(), root->end(), c.root.begin());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].substr(0, 5) == "time ") c.time = std::string(lines[i].substr(5));
  }

  const Bytes want_hash = KeyHash(origin, public_key_raw);
  bool verified = false;
  while (!sigs.empty()) {
    const std::size_t nl = sigs.find('\n');
    if (nl == std::string_view::npos) return DataLossError("checkpoint signature line is cut");
    std::string_view line = sigs.substr(0, nl);
    sigs = sigs.substr(nl + 1);
    if (line.substr(0, kDash.size()) != kDash) return DataLossError("malformed signature line");
    line.remove_prefix(kDash.size());
    const std::size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) return DataLossError("malformed signature line");
    if (line.substr(0, sp) != origin) continue;  // A witness's cosignature; not ours to check.
    Result<Bytes> tagged = Base64Decode(line.substr(sp + 1));
    if (!tagged || tagged->size() != 4 + 64) return DataLossError("malformed signature");
    if (!std::equal(want_hash.begin(), want_hash.end(), tagged->begin())) continue;
    verified = VerifyEd25519(public_key_raw, AsBytes(body), ByteView(*tagged).subspan(4));
    if (!verified) return DataLossError("checkpoint signature does not verify");
  }
  if (!verified) return DataLossError("checkpoint has no signature by this log's key");
  c.note = std::string(note);
  return c;
}

}  // namespace hokan
