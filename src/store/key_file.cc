#include "store/key_file.h"

#include <cstdio>

#include "base/encoding.h"
#include "store/atomic_write.h"

namespace hokan {
namespace {
constexpr std::string_view kKekTag = "hokan-kek-v1 ";
}  // namespace

Status CheckPrivateFile(FileSystem& fs, const std::string& path) {
  HK_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
  if ((info.mode & 077) != 0) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", info.mode & 07777u);
    return PermissionDeniedError("key file " + path + " is readable by others (mode " + mode +
                                 "); run: chmod 600 " + path);
  }
  return OkStatus();
}

Result<SecretBytes> CreateKeyFile(FileSystem& fs, const std::string& path) {
  SecretBytes key(kAeadKeySize);
  HK_RETURN_IF_ERROR(RandomBytes(key.mutable_view()));
  std::string text =
      "# hokan key-encryption key. Without it no record can be read: back it up apart from\n"
      "# the data (the backup of the data alone must not be enough to read it).\n";
  text += kKekTag;
  text += Base64Encode(key.view());
  text += "\n";
  Status st =
      WriteNewFileDurably(fs, DirName(path), path.substr(path.rfind('/') + 1), AsBytes(text));
  SecureZero({reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
  HK_RETURN_IF_ERROR(st);
  return key;
}

Result<SecretBytes> ReadKeyFile(FileSystem& fs, const std::string& path) {
  Result<Bytes> raw = fs.ReadFile(path);
  if (!raw) {
    if (raw.error().code() == StatusCode::kNotFound) {
      return NotFoundError("key file " + path + " is missing");
    }
    return raw.error().WithContext("key file");
  }
  HK_RETURN_IF_ERROR(CheckPrivateFile(fs, path));
  std::string_view text = AsChars(*raw);
  Result<SecretBytes> found = InvalidArgumentError("key file " + path + " is not a hokan key");
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, kKekTag.size()) != kKekTag) break;
    Result<Bytes> key = Base64Decode(line.substr(kKekTag.size()));
    if (!key || key->size() != kAeadKeySize) {
      found = InvalidArgumentError("key file " + path + " holds a malformed key");
    } else {
      found = SecretBytes(ByteView(*key));
      SecureZero(*key);
    }
    break;
  }
  SecureZero(*raw);
  return found;
}

std::string KeyId(ByteView key) {
  Sha256Hasher h;
  h.Update(AsBytes("hokan key id v1\n"));
  h.Update(key);
  const Sha256Digest d = h.Finish();
  return "kek-" + HexEncode(ByteView(d).first(8));
}

}  // namespace hokan
