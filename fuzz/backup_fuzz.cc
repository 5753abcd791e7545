// What a backup target or a person hands to hokan: manifests (a target may be hostile), the
// recovery key typed in, the vault's configuration. The first byte picks the parser. None may
// crash, hang or read out of bounds; a manifest that parses names only safe paths.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "backup/backup_key.h"
#include "backup/manifest.h"
#include "service/vault.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      hokan::Result<hokan::backup::ParsedManifest> p =
          hokan::backup::ParseManifest(hokan::AsBytes(text));
      if (p) {
        for (const hokan::backup::ManifestEntry& e : p->manifest.entries) {
          if (!hokan::backup::IsSafeRelativePath(e.path)) __builtin_trap();
        }
      }
      break;
    }
    case 1: {
      hokan::Result<hokan::backup::BackupKey> k = hokan::backup::BackupKey::FromRecoveryKey(text);
      if (k) {
        // What parses prints back to a key that parses to the same key.
        hokan::Result<hokan::backup::BackupKey> again =
            hokan::backup::BackupKey::FromRecoveryKey(k->RecoveryKey());
        if (!again || again->Id() != k->Id()) __builtin_trap();
      }
      break;
    }
    default:
      (void)hokan::ParseVaultConfig(text, "vault.toml");
      break;
  }
  return 0;
}
