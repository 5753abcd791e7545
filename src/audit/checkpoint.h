// Signed tree heads ("checkpoints") in the C2SP signed-note / tlog-checkpoint format, signed
// with Ed25519. Spec: docs/formats/audit-log.md, "Signed checkpoints".
//
//   <origin>\n<tree size>\n<base64 root>\ntime <RFC 3339>\n
//   \n
//   — <origin> <base64(key hash (4 bytes) || signature (64 bytes))>\n
//
// key hash = SHA-256(<origin> || "\n" || 0x01 || public key)[0:4]; the signature covers the
// body (every line before the blank line, each with its "\n").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "audit/merkle.h"
#include "base/status.h"
#include "crypto/crypto.h"

namespace hokan {

struct Checkpoint {
  std::string origin;
  std::uint64_t tree_size = 0;
  merkle::Hash root{};
  std::string time;  // RFC 3339.
  std::string note;  // The whole signed note, as stored and exported.
};

Result<Checkpoint> SignCheckpoint(const SigningKey& key, const std::string& origin,
                                  std::uint64_t tree_size, const merkle::Hash& root,
                                  const std::string& time);

// Parses and checks the signature against the raw Ed25519 public key. kDataLoss when
// malformed or the signature does not verify.
Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::string_view origin,
                                    ByteView public_key_raw);

}  // namespace hokan
