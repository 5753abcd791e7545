// The only module that touches OpenSSL. Hashing, MACs, key derivation, random, AEAD envelope
// encryption and signing keys. Every function is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Sha1Digest = std::array<std::uint8_t, 20>;

Sha256Digest Sha256(ByteView data);

// Incremental SHA-256 for streams (blob contents).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(ByteView data);
  Sha256Digest Finish();  // The hasher is reset afterwards.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison.
bool ConstantTimeEqual(ByteView a, ByteView b);

// Overwrites memory so the compiler cannot elide it (OPENSSL_cleanse).
void SecureZero(std::span<std::uint8_t> bytes);

// Key material: move-only, never printed, wiped when it dies or is replaced.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  explicit SecretBytes(ByteView bytes) : bytes_(bytes.begin(), bytes.end()) {}
  ~SecretBytes() { SecureZero(bytes_); }
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    SecureZero(bytes_);
    bytes_ = std::move(other.bytes_);
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  ByteView view() const { return bytes_; }
  std::span<std::uint8_t> mutable_view() { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::uint8_t> bytes_;  // Never resized, so never silently copied.
};

// Fills `out` from the OS random generator (RAND_bytes). kInternal if it fails.
Status RandomBytes(std::span<std::uint8_t> out);
// `n` random bytes as lower-case hex (identifiers: 16 bytes -> 32 hex characters).
Result<std::string> RandomHexId(std::size_t n_bytes = 16);

// HMAC-SHA256 with a key set once and reused for many messages (audit entries, rows).
// Thread-safe: Mac() may be called concurrently.
class HmacSha256 {
 public:
  explicit HmacSha256(ByteView key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  Sha256Digest Mac(ByteView message) const;
  // True when Mac(message) equals `tag` (constant time).
  bool Verify(ByteView message, ByteView tag) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA1 (RFC 2104), one-shot. Only for TOTP (RFC 6238), whose authenticator apps expect
// it; SHA-1's collision weakness does not affect HMAC. Use HmacSha256 for anything else.
Sha1Digest HmacSha1(ByteView key, ByteView message);

// HKDF-SHA256 (RFC 5869): `length` bytes from `key` for the purpose named by `info`.
SecretBytes HkdfSha256(ByteView key, std::string_view salt, std::string_view info,
                       std::size_t length);

// AES-256-GCM with a fresh random 96-bit nonce per call.
// Sealed layout: version(1)=0x01 | nonce(12) | ciphertext | tag(16).
// `aad` is authenticated, not stored: Open() needs the same `aad`.
inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadOverhead = 1 + 12 + 16;
Result<Bytes> AeadSeal(ByteView key, ByteView plaintext, ByteView aad);
// kDataLoss when the tag does not verify (wrong key, wrong aad, changed bytes) or the layout
// is wrong; kInvalidArgument for a key of the wrong size.
Result<Bytes> AeadOpen(ByteView key, ByteView sealed, ByteView aad);

// Ed25519 signing key (the audit checkpoint key).
class SigningKey {
 public:
  static Result<SigningKey> Generate();
  // PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). kInvalidArgument if not an Ed25519 key.
  static Result<SigningKey> FromPrivatePem(std::string_view pem);
  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;

  Result<std::string> PrivatePem() const;      // Secret: only written to the 0600 key file.
  std::string PublicPem() const;               // SubjectPublicKeyInfo PEM.
  Bytes PublicKeyRaw() const;                  // 32 bytes.
  Result<Bytes> Sign(ByteView message) const;  // 64 bytes.

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Verifies an Ed25519 signature made by the 32-byte raw public key.
bool VerifyEd25519(ByteView public_key_raw, ByteView message, ByteView signature);
// The 32-byte raw key inside a SubjectPublicKeyInfo PEM. kInvalidArgument if not Ed25519.
Result<Bytes> Ed25519PublicKeyFromPem(std::string_view pem);

}  // namespace hokan
