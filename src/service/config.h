// The data directory's configuration file, hokan.toml (docs/configuration.md). Written by
// `hokan init` with every key commented; unknown keys are an error, so a typo is not
// silently ignored.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace hokan {

struct Config {
  std::string store_id;
  std::uint64_t max_content_bytes = 64ull * 1024 * 1024;
  std::string kek_file = "keys/kek.key";
  std::string audit_key_file = "keys/audit-signing.pem";
  // Sign a checkpoint at the end of a command once this many entries are uncovered.
  std::uint64_t checkpoint_every_entries = 1;
};

// kInvalidArgument naming the key and line for anything malformed or unknown.
Result<Config> ParseConfig(std::string_view text, const std::string& path);
std::string RenderConfig(const Config& config);

}  // namespace hokan
