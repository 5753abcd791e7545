#include "crypto/crypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/check.h"
#include "base/encoding.h"

namespace hokan {
namespace {

// ---------------------------------------------------------------------------------------------
// OpenSSL plumbing.

template <auto Free>
struct OpensslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslDeleter<EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpensslDeleter<EVP_CIPHER_CTX_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpensslDeleter<EVP_KDF_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslDeleter<EVP_PKEY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO_free>>;

constexpr std::size_t kSha256BlockSize = 64;
constexpr std::size_t kEd25519PublicKeySize = 32;
constexpr std::size_t kEd25519SignatureSize = 64;
// Larger PEM inputs are rejected before OpenSSL sees them; an Ed25519 key is ~120 bytes.
constexpr std::size_t kMaxPemSize = std::size_t{64} * 1024;
// OpenSSL's update functions take an int length.
constexpr std::size_t kMaxUpdateChunk = std::size_t{1} << 30;
// RFC 5869: at most 255 blocks of output. The info limit is the smallest any OpenSSL 3.0.x
// accepts (later patch releases allow more); fixing it here keeps behaviour independent of it.
constexpr std::size_t kMaxHkdfOutput = std::size_t{255} * 32;
constexpr std::size_t kMaxHkdfInfo = 1024;

constexpr std::uint8_t kAeadVersion = 0x01;
constexpr std::size_t kAeadNonceSize = 12;
constexpr std::size_t kAeadTagSize = 16;
// NIST SP 800-38D: GCM plaintexts are at most 2^39 - 256 bits.
constexpr std::uint64_t kMaxGcmPlaintext = (std::uint64_t{1} << 36) - 32;

// Takes the oldest queued OpenSSL error as text and empties the (thread-local) queue, so a
// stale error cannot be blamed on a later, unrelated call.
std::string TakeOpensslError() {
  const unsigned long code = ERR_get_error();
  std::string text = "no OpenSSL error queued";
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    text = buffer;
  }
  ERR_clear_error();
  return text;
}

Status OpensslError(std::string_view what) {
  return InternalError(std::string(what) + ": " + TakeOpensslError());
}

// For operations whose API has no error channel (hashing, MACs, public key export): these only
// fail when OpenSSL itself is broken or out of memory, which is not a state to carry on in.
[[noreturn]] void OpensslFatal(const char* what) {
  std::fprintf(stderr, "hokan: crypto: %s failed: %s\n", what, TakeOpensslError().c_str());
  CheckFailed(what, __FILE__, __LINE__);
}

void CheckOpenssl(bool ok, const char* what) {
  if (!ok) OpensslFatal(what);
}

// OpenSSL treats a null pointer as "absent" in places even with length 0; empty spans may have
// a null data(), so give them a valid address instead.
const unsigned char* DataOrEmpty(ByteView bytes) {
  static const unsigned char kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

OSSL_PARAM OctetParam(const char* name, ByteView bytes) {
  // OSSL_PARAM is shared by inputs and outputs, hence non-const; these params are only read.
  return OSSL_PARAM_construct_octet_string(name, const_cast<unsigned char*>(DataOrEmpty(bytes)),
                                           bytes.size());
}

// Fetched algorithms are looked up once and kept for the life of the process: fetching costs
// more than hashing a small message. They are deliberately never freed, so no call made while
// static objects are destroyed can find them gone.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    CheckOpenssl(fetched != nullptr, "EVP_MD_fetch(SHA256)");
    return fetched;
  }();
  return md;
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    CheckOpenssl(fetched != nullptr, "EVP_CIPHER_fetch(AES-256-GCM)");
    return fetched;
  }();
  return cipher;
}

EVP_KDF* Hkdf() {
  static EVP_KDF* const kdf = [] {
    EVP_KDF* fetched = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    CheckOpenssl(fetched != nullptr, "EVP_KDF_fetch(HKDF)");
    return fetched;
  }();
  return kdf;
}

MdCtxPtr NewMdCtx() {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  CheckOpenssl(ctx != nullptr, "EVP_MD_CTX_new");
  return ctx;
}

// One digest context per thread for one-shot hashing and MACs. Reusing it saves an allocation
// per call (measured ~15% of a 200-byte SHA-256), and being per-thread keeps every function
// thread-safe without locks. Nothing called while it is in use can re-enter this file.
EVP_MD_CTX* ThreadMdCtx() {
  thread_local const MdCtxPtr ctx = NewMdCtx();
  return ctx.get();
}

void FinishDigest(EVP_MD_CTX* ctx, Sha256Digest& out, const char* what) {
  unsigned int length = 0;
  CheckOpenssl(EVP_DigestFinal_ex(ctx, out.data(), &length) == 1 && length == out.size(), what);
}

// Encrypts or decrypts `in` into `out` (same length; GCM is a stream mode), or feeds it as
// associated data when `out` is null, in pieces that fit OpenSSL's int lengths.
bool CipherUpdate(EVP_CIPHER_CTX* ctx, std::uint8_t* out, ByteView in) {
  for (std::size_t done = 0; done < in.size();) {
    const std::size_t n = std::min(in.size() - done, kMaxUpdateChunk);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + done, &written, in.data() + done,
                         static_cast<int>(n)) != 1) {
      return false;
    }
    if (out != nullptr && static_cast<std::size_t>(written) != n) return false;
    done += n;
  }
  return true;
}

// PEM readers must never prompt on a terminal for the passphrase of an encrypted key.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

// A read-only memory BIO over `pem`, or null when `pem` is empty or implausibly large.
BioPtr PemBio(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemSize) return nullptr;
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<std::size_t>(size));
}

Bytes RawPublicKey(const EVP_PKEY* key) {
  Bytes raw(kEd25519PublicKeySize);
  std::size_t length = raw.size();
  CheckOpenssl(
      EVP_PKEY_get_raw_public_key(key, raw.data(), &length) == 1 && length == kEd25519PublicKeySize,
      "EVP_PKEY_get_raw_public_key");
  return raw;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hashing.

Sha256Digest Sha256(ByteView data) {
  EVP_MD_CTX* ctx = ThreadMdCtx();
  CheckOpenssl(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1 &&
                   EVP_DigestUpdate(ctx, data.data(), data.size()) == 1,
               "SHA-256");
  Sha256Digest digest;
  FinishDigest(ctx, digest, "SHA-256 final");
  return digest;
}

struct Sha256Hasher::Impl {
  MdCtxPtr ctx = NewMdCtx();
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  CheckOpenssl(EVP_DigestInit_ex2(impl_->ctx.get(), Sha256Md(), nullptr) == 1, "SHA-256 init");
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(ByteView data) {
  CheckOpenssl(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) == 1, "SHA-256 update");
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest digest;
  FinishDigest(impl_->ctx.get(), digest, "SHA-256 final");
  CheckOpenssl(EVP_DigestInit_ex2(impl_->ctx.get(), Sha256Md(), nullptr) == 1, "SHA-256 init");
  return digest;
}

// ---------------------------------------------------------------------------------------------
// Memory.

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecureZero(std::span<std::uint8_t> bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

// ---------------------------------------------------------------------------------------------
// Random.

Status RandomBytes(std::span<std::uint8_t> out) {
  for (std::size_t done = 0; done < out.size();) {
    const std::size_t n = std::min(out.size() - done, kMaxUpdateChunk);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      return OpensslError("RAND_bytes");
    }
    done += n;
  }
  return OkStatus();
}

Result<std::string> RandomHexId(std::size_t n_bytes) {
  Bytes bytes(n_bytes);
  HK_RETURN_IF_ERROR(RandomBytes(bytes));
  return HexEncode(bytes);
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA256 (RFC 2104).
//
// HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K (or H(K) if longer than a block)
// padded with zeros to the 64-byte block. The two key blocks are hashed once, here; each Mac()
// copies those two states into the thread's scratch context and hashes only the message and
// the inner digest. Measured against EVP_MAC (one template context duplicated per call) and
// against hashing both padded blocks per call, this was the fastest (see README.md).

struct HmacSha256::Impl {
  MdCtxPtr inner = NewMdCtx();  // SHA-256 state after absorbing K' ^ ipad. Read-only.
  MdCtxPtr outer = NewMdCtx();  // SHA-256 state after absorbing K' ^ opad. Read-only.
};

HmacSha256::HmacSha256(ByteView key) : impl_(std::make_unique<Impl>()) {
  std::array<std::uint8_t, kSha256BlockSize> block{};
  if (key.size() > block.size()) {
    Sha256Digest hashed_key = Sha256(key);
    std::copy(hashed_key.begin(), hashed_key.end(), block.begin());
    SecureZero(hashed_key);
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, kSha256BlockSize> pad;
  const auto absorb = [&](EVP_MD_CTX* ctx, std::uint8_t mask) {
    for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ mask;
    CheckOpenssl(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1 &&
                     EVP_DigestUpdate(ctx, pad.data(), pad.size()) == 1,
                 "HMAC-SHA256 key setup");
  };
  absorb(impl_->inner.get(), 0x36);
  absorb(impl_->outer.get(), 0x5c);
  SecureZero(block);
  SecureZero(pad);
}

// Freeing a digest context wipes its state, so the key-derived states go with it.
HmacSha256::~HmacSha256() = default;

Sha256Digest HmacSha256::Mac(ByteView message) const {
  EVP_MD_CTX* ctx = ThreadMdCtx();
  Sha256Digest inner;
  CheckOpenssl(EVP_MD_CTX_copy_ex(ctx, impl_->inner.get()) == 1 &&
                   EVP_DigestUpdate(ctx, message.data(), message.size()) == 1,
               "HMAC-SHA256 inner");
  FinishDigest(ctx, inner, "HMAC-SHA256 inner final");
  Sha256Digest tag;
  CheckOpenssl(EVP_MD_CTX_copy_ex(ctx, impl_->outer.get()) == 1 &&
                   EVP_DigestUpdate(ctx, inner.data(), inner.size()) == 1,
               "HMAC-SHA256 outer");
  FinishDigest(ctx, tag, "HMAC-SHA256 outer final");
  return tag;
}

bool HmacSha256::Verify(ByteView message, ByteView tag) const {
  const Sha256Digest expected = Mac(message);
  return ConstantTimeEqual(expected, tag);
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA1 (RFC 2104), for TOTP. A handful of calls per login, so OpenSSL's one-shot EVP_Q_mac
// is fast enough and there is no key state to keep.

Sha1Digest HmacSha1(ByteView key, ByteView message) {
  char digest_name[] = "SHA1";
  Sha1Digest mac;
  std::size_t length = 0;
  CheckOpenssl(
      EVP_Q_mac(nullptr, "HMAC", nullptr, digest_name, nullptr, DataOrEmpty(key), key.size(),
                DataOrEmpty(message), message.size(), mac.data(), mac.size(), &length) != nullptr &&
          length == mac.size(),
      "HMAC-SHA1");
  return mac;
}

// ---------------------------------------------------------------------------------------------
// HKDF-SHA256 (RFC 5869).

SecretBytes HkdfSha256(ByteView key, std::string_view salt, std::string_view info,
                       std::size_t length) {
  // Callers pass fixed lengths and purpose labels, so breaking these limits is a bug.
  HK_CHECK(length <= kMaxHkdfOutput);
  HK_CHECK(info.size() <= kMaxHkdfInfo);
  SecretBytes out(length);
  if (length == 0) return out;

  char digest_name[] = "SHA256";
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
  params[n++] = OctetParam(OSSL_KDF_PARAM_KEY, key);
  // An absent salt is HashLen zero bytes (RFC 5869 2.2), the same as an empty one.
  if (!salt.empty()) params[n++] = OctetParam(OSSL_KDF_PARAM_SALT, AsBytes(salt));
  if (!info.empty()) params[n++] = OctetParam(OSSL_KDF_PARAM_INFO, AsBytes(info));
  params[n] = OSSL_PARAM_construct_end();

  const KdfCtxPtr ctx(EVP_KDF_CTX_new(Hkdf()));
  CheckOpenssl(
      ctx != nullptr && EVP_KDF_derive(ctx.get(), out.mutable_view().data(), length, params) == 1,
      "HKDF-SHA256");
  return out;
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM envelope: version(1) | nonce(12) | ciphertext | tag(16). The GCM associated data
// is exactly the caller's `aad`; the version byte is checked, not authenticated.

Result<Bytes> AeadSeal(ByteView key, ByteView plaintext, ByteView aad) {
  if (key.size() != kAeadKeySize) return InvalidArgumentError("AEAD key must be 32 bytes");
  if (plaintext.size() > kMaxGcmPlaintext) {
    return InvalidArgumentError("AEAD plaintext exceeds the AES-GCM limit");
  }
  Bytes sealed(kAeadOverhead + plaintext.size());
  sealed[0] = kAeadVersion;
  const std::span<std::uint8_t> nonce(sealed.data() + 1, kAeadNonceSize);
  std::uint8_t* const ciphertext = nonce.data() + kAeadNonceSize;
  std::uint8_t* const tag = ciphertext + plaintext.size();
  // A random 96-bit nonce per message: safe for up to 2^32 messages under one key.
  HK_RETURN_IF_ERROR(RandomBytes(nonce));

  const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce.data(), nullptr) != 1 ||
      !CipherUpdate(ctx.get(), nullptr, aad) || !CipherUpdate(ctx.get(), ciphertext, plaintext)) {
    return OpensslError("AeadSeal");
  }
  int final_length = 0;
  OSSL_PARAM tag_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kAeadTagSize),
      OSSL_PARAM_construct_end()};
  if (EVP_EncryptFinal_ex(ctx.get(), tag, &final_length) != 1 || final_length != 0 ||
      EVP_CIPHER_CTX_get_params(ctx.get(), tag_params) != 1) {
    return OpensslError("AeadSeal final");
  }
  return sealed;
}

Result<Bytes> AeadOpen(ByteView key, ByteView sealed, ByteView aad) {
  if (key.size() != kAeadKeySize) return InvalidArgumentError("AEAD key must be 32 bytes");
  if (sealed.size() < kAeadOverhead) {
    return DataLossError("AEAD envelope is shorter than its fixed overhead");
  }
  if (sealed[0] != kAeadVersion) return DataLossError("AEAD envelope has an unknown version");
  const ByteView nonce = sealed.subspan(1, kAeadNonceSize);
  const ByteView ciphertext = sealed.subspan(1 + kAeadNonceSize, sealed.size() - kAeadOverhead);
  if (ciphertext.size() > kMaxGcmPlaintext) {
    return DataLossError("AEAD envelope exceeds the AES-GCM limit");
  }
  std::array<std::uint8_t, kAeadTagSize> tag;
  const ByteView stored_tag = sealed.last(kAeadTagSize);
  std::copy(stored_tag.begin(), stored_tag.end(), tag.begin());

  Bytes plaintext(ciphertext.size());
  const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  OSSL_PARAM tag_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
      OSSL_PARAM_construct_end()};
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce.data(), nullptr) != 1 ||
      !CipherUpdate(ctx.get(), nullptr, aad) ||
      !CipherUpdate(ctx.get(), plaintext.data(), ciphertext) ||
      EVP_CIPHER_CTX_set_params(ctx.get(), tag_params) != 1) {
    SecureZero(plaintext);
    return OpensslError("AeadOpen");
  }
  int final_length = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), tag.data(), &final_length) != 1 || final_length != 0) {
    // GCM decrypts before it authenticates: unauthenticated plaintext must not survive.
    SecureZero(plaintext);
    ERR_clear_error();
    return DataLossError(
        "AEAD envelope failed authentication (wrong key, wrong associated data or altered bytes)");
  }
  return plaintext;
}

// ---------------------------------------------------------------------------------------------
// Ed25519 signing keys.

struct SigningKey::Impl {
  PkeyPtr key;  // Always an Ed25519 key pair.
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

Result<SigningKey> SigningKey::Generate() {
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "ED25519", nullptr));
  EVP_PKEY* generated = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_generate(ctx.get(), &generated) != 1) {
    return OpensslError("Ed25519 key generation");
  }
  auto impl = std::make_unique<Impl>();
  impl->key.reset(generated);
  return SigningKey(std::move(impl));
}

Result<SigningKey> SigningKey::FromPrivatePem(std::string_view pem) {
  const BioPtr bio = PemBio(pem);
  PkeyPtr key;
  if (bio != nullptr) {
    key.reset(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, RefusePassphrase, nullptr, nullptr,
                                         nullptr));
  }
  // Whatever OpenSSL disliked about the input, it is the input's fault: say so without
  // quoting it, and leave no error behind in the queue.
  ERR_clear_error();
  if (key == nullptr) {
    return InvalidArgumentError("signing key is not an unencrypted PKCS#8 PEM private key");
  }
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return InvalidArgumentError("signing key is not an Ed25519 key");
  }
  auto impl = std::make_unique<Impl>();
  impl->key = std::move(key);
  return SigningKey(std::move(impl));
}

Result<std::string> SigningKey::PrivatePem() const {
  HK_CHECK(impl_ != nullptr);
  // Freeing a memory BIO wipes its buffer, so the only copy left is the returned string.
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return OpensslError("PrivatePem");
  }
  return BioContents(bio.get());
}

std::string SigningKey::PublicPem() const {
  HK_CHECK(impl_ != nullptr);
  const BioPtr bio(BIO_new(BIO_s_mem()));
  CheckOpenssl(bio != nullptr && PEM_write_bio_PUBKEY(bio.get(), impl_->key.get()) == 1,
               "PublicPem");
  return BioContents(bio.get());
}

Bytes SigningKey::PublicKeyRaw() const {
  HK_CHECK(impl_ != nullptr);
  return RawPublicKey(impl_->key.get());
}

Result<Bytes> SigningKey::Sign(ByteView message) const {
  HK_CHECK(impl_ != nullptr);
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes signature(kEd25519SignatureSize);
  std::size_t length = signature.size();
  // Ed25519 hashes internally: no digest name, one-shot only.
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                              impl_->key.get(), nullptr) != 1) {
    return OpensslError("Ed25519 sign init");
  }
  const int signed_ok =
      EVP_DigestSign(ctx.get(), signature.data(), &length, DataOrEmpty(message), message.size());
  if (signed_ok != 1 || length != kEd25519SignatureSize) return OpensslError("Ed25519 sign");
  return signature;
}

bool VerifyEd25519(ByteView public_key_raw, ByteView message, ByteView signature) {
  if (public_key_raw.size() != kEd25519PublicKeySize || signature.size() != kEd25519SignatureSize) {
    return false;
  }
  const PkeyPtr key(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr,
                                                   public_key_raw.data(), public_key_raw.size()));
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid = key != nullptr && ctx != nullptr &&
                     EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                             key.get(), nullptr) == 1 &&
                     EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                      DataOrEmpty(message), message.size()) == 1;
  // A bad signature or a key that is not a curve point queues errors; they are an answer here.
  ERR_clear_error();
  return valid;
}

Result<Bytes> Ed25519PublicKeyFromPem(std::string_view pem) {
  const BioPtr bio = PemBio(pem);
  PkeyPtr key;
  if (bio != nullptr) {
    key.reset(
        PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, RefusePassphrase, nullptr, nullptr, nullptr));
  }
  ERR_clear_error();
  if (key == nullptr) return InvalidArgumentError("not a SubjectPublicKeyInfo PEM public key");
  if (EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return InvalidArgumentError("public key is not an Ed25519 key");
  }
  return RawPublicKey(key.get());
}

}  // namespace hokan
