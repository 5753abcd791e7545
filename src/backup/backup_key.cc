#include "backup/backup_key.h"

#include "base/encoding.h"
#include "store/atomic_write.h"
#include "store/key_file.h"

namespace hokan::backup {
namespace {

constexpr std::string_view kPrefix = "hkb1";
constexpr std::size_t kKeySize = 32;

std::string Checksum(ByteView key) {
  Bytes in(std::string_view("hokan backup key v1").begin(),
           std::string_view("hokan backup key v1").end());
  in.insert(in.end(), key.begin(), key.end());
  const Sha256Digest d = Sha256(in);
  SecureZero(in);
  return HexEncode(ByteView(d.data(), 2));
}

}  // namespace

BackupKey::BackupKey(SecretBytes key)
    : key_(std::move(key)),
      object_key_(HkdfSha256(key_.view(), "hokan", "backup object seal v1", kAeadKeySize)) {
  SecretBytes id = HkdfSha256(key_.view(), "hokan", "backup object id v1", 32);
  SecretBytes manifest = HkdfSha256(key_.view(), "hokan", "backup manifest mac v1", 32);
  id_mac_ = std::make_shared<HmacSha256>(id.view());
  manifest_mac_ = std::make_shared<HmacSha256>(manifest.view());
}

Result<BackupKey> BackupKey::Generate() {
  SecretBytes key(kKeySize);
  HK_RETURN_IF_ERROR(RandomBytes(key.mutable_view()));
  return BackupKey(std::move(key));
}

Result<BackupKey> BackupKey::FromRecoveryKey(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  const Status malformed = InvalidArgumentError(
      "not a hokan backup recovery key (expected hkb1- followed by nine groups of hex digits)");
  if (text.substr(0, kPrefix.size() + 1) != std::string(kPrefix) + "-") return malformed;
  std::string hex;
  std::string checksum;
  std::size_t groups = 0;
  std::string_view rest = text.substr(kPrefix.size() + 1);
  while (!rest.empty()) {
    const std::size_t dash = rest.find('-');
    const std::string_view group = rest.substr(0, dash);
    ++groups;
    if (groups <= 8) {
      if (group.size() != 8) return malformed;
      hex.append(group);
    } else if (groups == 9) {
      if (group.size() != 4) return malformed;
      checksum = std::string(group);
    } else {
      return malformed;
    }
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  if (groups != 9) return malformed;
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : checksum) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Result<Bytes> raw = HexDecode(hex);
  SecureZero(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(hex.data()), hex.size()));
  if (!raw || raw->size() != kKeySize) return malformed;
  SecretBytes key(*raw);
  SecureZero(*raw);
  if (Checksum(key.view()) != checksum) {
    return InvalidArgumentError(
        "the backup recovery key's checksum does not match: a group was mistyped");
  }
  return BackupKey(std::move(key));
}

std::string BackupKey::RecoveryKey() const {
  const std::string hex = HexEncode(key_.view());
  std::string out(kPrefix);
  for (std::size_t i = 0; i < hex.size(); i += 8) out += "-" + hex.substr(i, 8);
  out += "-" + Checksum(key_.view());
  return out;
}

std::string BackupKey::Id() const {
  Bytes in(std::string_view("hokan backup key id v1\n").begin(),
           std::string_view("hokan backup key id v1\n").end());
  in.insert(in.end(), key_.view().begin(), key_.view().end());
  const Sha256Digest d = Sha256(in);
  SecureZero(in);
  return "bk-" + HexEncode(ByteView(d.data(), 8));
}

std::string BackupKey::ObjectId(std::string_view identity) const {
  const Sha256Digest d = id_mac_->Mac(AsBytes(identity));
  return HexEncode(d);
}

namespace {
Bytes ObjectAad(std::string_view object_id) {
  std::string aad = "hokan backup object v1";
  aad.push_back('\0');
  aad.append(object_id);
  return Bytes(aad.begin(), aad.end());
}
}  // namespace

Result<Bytes> BackupKey::Seal(std::string_view object_id, ByteView plaintext) const {
  return AeadSeal(object_key_.view(), plaintext, ObjectAad(object_id));
}

Result<Bytes> BackupKey::Open(std::string_view object_id, ByteView sealed) const {
  return AeadOpen(object_key_.view(), sealed, ObjectAad(object_id));
}

Sha256Digest BackupKey::ManifestMac(ByteView body) const { return manifest_mac_->Mac(body); }

bool BackupKey::VerifyManifestMac(ByteView body, ByteView mac) const {
  return manifest_mac_->Verify(body, mac);
}

Result<BackupKey> CreateBackupKeyFile(FileSystem& fs, const std::string& path) {
  HK_ASSIGN_OR_RETURN(BackupKey key, BackupKey::Generate());
  std::string text =
      "# hokan backup key (docs/backup.md). Keep an offline copy of the recovery key below:\n"
      "# without it, backups cannot be restored once this directory is lost.\n" +
      key.RecoveryKey() + "\n";
  // Under a temporary name first: a run killed while writing must not leave a key file
  // without a key (every later run would stop at it). An existing key is never replaced.
  const std::string dir = DirName(path);
  const std::string name = path.substr(dir.size() + 1);
  Status st = WriteNewFileAtomically(fs, dir, name, AsBytes(text));
  SecureZero(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
  if (!st.ok()) return st.WithContext("create backup key " + path);
  return key;
}

Result<BackupKey> ReadBackupKeyFile(FileSystem& fs, const std::string& path) {
  HK_RETURN_IF_ERROR(CheckPrivateFile(fs, path));
  Result<Bytes> text = fs.ReadFile(path);
  if (!text) return text.error().WithContext("read backup key " + path);
  std::string_view all = AsChars(*text);
  Result<BackupKey> key = InvalidArgumentError(path + " holds no backup key line");
  while (!all.empty()) {
    const std::size_t nl = all.find('\n');
    std::string_view line = all.substr(0, nl);
    all = nl == std::string_view::npos ? std::string_view() : all.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    key = BackupKey::FromRecoveryKey(line);
    if (!key) key = key.error().WithContext(path);
    break;
  }
  SecureZero(*text);
  return key;
}

}  // namespace hokan::backup
