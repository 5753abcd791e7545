#include "crypto/crypto.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------------------------
// Helpers.

Bytes Hex(std::string_view hex) {
  Result<Bytes> bytes = HexDecode(hex);
  EXPECT_OK(bytes);
  return bytes ? *bytes : Bytes();
}

std::string HexOf(ByteView bytes) { return HexEncode(bytes); }

// Deterministic, non-repeating-looking test data.
Bytes Pattern(std::size_t size, std::uint32_t seed = 1) {
  Bytes out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string MemBioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Keys of other types, made with OpenSSL directly, to feed to the Ed25519-only parsers.
std::string OtherPrivatePem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  return MemBioText(bio.get());
}
std::string OtherPublicPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  return MemBioText(bio.get());
}

// PKCS#8 PrivateKeyInfo for an Ed25519 seed (RFC 8410 section 7): a fixed DER prefix followed
// by the 32-byte private key.
std::string Ed25519PrivatePemFromSeed(ByteView seed) {
  Bytes der = Hex("302e020100300506032b657004220420");
  der.insert(der.end(), seed.begin(), seed.end());
  return "-----BEGIN PRIVATE KEY-----\n" + Base64Encode(der) + "\n-----END PRIVATE KEY-----\n";
}

// ---------------------------------------------------------------------------------------------
// SHA-256.

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(HexOf(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Hasher, MatchesOneShotForEverySplit) {
  const Bytes data = Pattern(300);
  const Sha256Digest expected = Sha256(data);
  Sha256Hasher hasher;
  for (std::size_t split = 0; split <= data.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    const ByteView view(data);
    hasher.Update(view.first(split));
    hasher.Update({});
    hasher.Update(view.subspan(split));
    EXPECT_EQ(hasher.Finish(), expected);
  }
}

TEST(Sha256Hasher, ManySmallUpdatesMatchOneShot) {
  const Bytes data = Pattern(100'000, 7);
  Sha256Hasher hasher;
  const ByteView view(data);
  for (std::size_t i = 0; i < data.size(); i += 997) {
    hasher.Update(view.subspan(i, std::min<std::size_t>(997, data.size() - i)));
  }
  EXPECT_EQ(hasher.Finish(), Sha256(data));
}

TEST(Sha256Hasher, FinishResetsTheHasher) {
  Sha256Hasher hasher;
  hasher.Update(AsBytes("something else"));
  (void)hasher.Finish();
  EXPECT_EQ(hasher.Finish(), Sha256({}));
  hasher.Update(AsBytes("ab"));
  hasher.Update(AsBytes("c"));
  EXPECT_EQ(hasher.Finish(), Sha256(AsBytes("abc")));
}

// ---------------------------------------------------------------------------------------------
// Memory helpers.

TEST(ConstantTimeEqual, ComparesContentAndSize) {
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("tag"), AsBytes("tag")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("tag"), AsBytes("taG")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("Tag"), AsBytes("tag")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("tag"), AsBytes("tags")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("tag"), {}));
}

TEST(SecureZero, ZeroesEveryByte) {
  Bytes secret = Pattern(77);
  SecureZero(secret);
  EXPECT_EQ(secret, Bytes(77, 0));
  SecureZero({});  // Empty is fine.
}

TEST(SecretBytes, MoveTransfersTheBytes) {
  const Bytes key = Pattern(32);
  SecretBytes a(key);
  SecretBytes b(std::move(a));
  EXPECT_TRUE(ConstantTimeEqual(b.view(), key));
  SecretBytes c(16);
  c = std::move(b);
  EXPECT_TRUE(ConstantTimeEqual(c.view(), key));
  EXPECT_EQ(c.size(), 32u);
}

// ---------------------------------------------------------------------------------------------
// Random.

TEST(RandomBytes, FillsWithFreshBytes) {
  std::array<std::uint8_t, 32> a{};
  std::array<std::uint8_t, 32> b{};
  ASSERT_OK(RandomBytes(a));
  ASSERT_OK(RandomBytes(b));
  EXPECT_NE(a, b);
  EXPECT_NE(a, (std::array<std::uint8_t, 32>{}));
  EXPECT_OK(RandomBytes({}));
}

TEST(RandomHexId, IsLowerCaseHexOfTheRequestedSize) {
  Result<std::string> a = RandomHexId();
  Result<std::string> b = RandomHexId();
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos) << *a;

  Result<std::string> longer = RandomHexId(40);
  ASSERT_OK(longer);
  EXPECT_EQ(longer->size(), 80u);
  Result<std::string> none = RandomHexId(0);
  ASSERT_OK(none);
  EXPECT_EQ(*none, "");
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA256.

TEST(HmacSha256, Rfc4231Vectors) {
  struct Case {
    std::string name;
    Bytes key;
    Bytes data;
    std::string mac_hex;
  };
  const std::vector<Case> cases = {
      {"1", Bytes(20, 0x0b), ToBytes("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", ToBytes("Jefe"), ToBytes("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", Bytes(20, 0xaa), Bytes(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Bytes(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6 (key longer than a block)", Bytes(131, 0xaa),
       ToBytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7 (key and data longer than a block)", Bytes(131, 0xaa),
       ToBytes("This is a test using a larger than block-size key and a larger than block-size "
               "data. The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("RFC 4231 test case " + c.name);
    const HmacSha256 hmac(c.key);
    const Sha256Digest mac = hmac.Mac(c.data);
    EXPECT_EQ(HexOf(mac), c.mac_hex);
    EXPECT_TRUE(hmac.Verify(c.data, mac));
  }
  // Test case 5 specifies only the first 128 bits.
  const HmacSha256 hmac(Bytes(20, 0x0c));
  EXPECT_EQ(HexOf(hmac.Mac(AsBytes("Test With Truncation"))).substr(0, 32),
            "a3b6167473100ee06e0c796c2955552b");
}

// Our HMAC is assembled from SHA-256 states, so check it against OpenSSL's own HMAC around
// every block boundary for both key and message.
TEST(HmacSha256, MatchesOpenSslHmacAtBlockBoundaries) {
  for (std::size_t key_size : {0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200}) {
    const Bytes key = Pattern(key_size, static_cast<std::uint32_t>(key_size) + 11);
    const HmacSha256 hmac(key);
    for (std::size_t message_size : {0, 1, 40, 55, 56, 63, 64, 65, 119, 120, 128, 1000}) {
      SCOPED_TRACE("key " + std::to_string(key_size) + ", message " + std::to_string(message_size));
      const Bytes message = Pattern(message_size, static_cast<std::uint32_t>(message_size) + 3);
      std::array<unsigned char, 32> expected{};
      std::size_t expected_size = 0;
      // OpenSSL wants non-null pointers even for empty inputs.
      const unsigned char nothing = 0;
      ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr,
                          key.empty() ? &nothing : key.data(), key.size(),
                          message.empty() ? &nothing : message.data(), message.size(),
                          expected.data(), expected.size(), &expected_size),
                nullptr);
      ASSERT_EQ(expected_size, 32u);
      EXPECT_EQ(hmac.Mac(message), expected);
    }
  }
}

TEST(HmacSha256, VerifyAcceptsOnlyTheExactTag) {
  const HmacSha256 hmac(AsBytes("audit key"));
  const Bytes message = ToBytes("entry 42");
  Sha256Digest tag = hmac.Mac(message);
  EXPECT_TRUE(hmac.Verify(message, tag));
  EXPECT_FALSE(hmac.Verify(AsBytes("entry 43"), tag));
  EXPECT_FALSE(hmac.Verify(message, ByteView(tag).first(31)));
  EXPECT_FALSE(hmac.Verify(message, {}));
  Bytes longer(tag.begin(), tag.end());
  longer.push_back(0);
  EXPECT_FALSE(hmac.Verify(message, longer));
  tag[31] ^= 1;
  EXPECT_FALSE(hmac.Verify(message, tag));
  EXPECT_NE(HmacSha256(AsBytes("other key")).Mac(message), hmac.Mac(message));
}

// Mac() shares a per-thread scratch context with Sha256(); interleave both from several
// threads and compare with single-threaded answers.
TEST(HmacSha256, ConcurrentMacsAgree) {
  const HmacSha256 hmac(Pattern(32, 99));
  constexpr int kMessages = 200;
  std::vector<Bytes> messages;
  std::vector<Sha256Digest> expected_macs;
  std::vector<Sha256Digest> expected_hashes;
  for (int i = 0; i < kMessages; ++i) {
    messages.push_back(Pattern(static_cast<std::size_t>(i) * 3, static_cast<std::uint32_t>(i)));
    expected_macs.push_back(hmac.Mac(messages.back()));
    expected_hashes.push_back(Sha256(messages.back()));
  }
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < kMessages; ++i) {
          if (hmac.Mac(messages[i]) != expected_macs[i]) ++mismatches[t];
          if (Sha256(messages[i]) != expected_hashes[i]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA1 (TOTP).

TEST(HmacSha1, Rfc2202Vectors) {
  struct Case {
    std::string name;
    Bytes key;
    Bytes data;
    std::string mac_hex;
  };
  const std::vector<Case> cases = {
      {"1", Bytes(20, 0x0b), ToBytes("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"},
      {"2", ToBytes("Jefe"), ToBytes("what do ya want for nothing?"),
       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {"3", Bytes(20, 0xaa), Bytes(50, 0xdd), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {"4", Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Bytes(50, 0xcd),
       "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {"5", Bytes(20, 0x0c), ToBytes("Test With Truncation"),
       "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {"6 (key longer than a block)", Bytes(80, 0xaa),
       ToBytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {"7 (key and data longer than a block)", Bytes(80, 0xaa),
       ToBytes("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("RFC 2202 test case " + c.name);
    EXPECT_EQ(HexOf(HmacSha1(c.key, c.data)), c.mac_hex);
  }
}

TEST(HmacSha1, EmptyKeyAndMessage) {
  // HMAC-SHA1("", "") from any reference implementation.
  EXPECT_EQ(HexOf(HmacSha1({}, {})), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

// ---------------------------------------------------------------------------------------------
// HKDF-SHA256.

TEST(HkdfSha256, Rfc5869TestCase1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = Hex("000102030405060708090a0b0c");
  const Bytes info = Hex("f0f1f2f3f4f5f6f7f8f9");
  const SecretBytes okm = HkdfSha256(ikm, AsChars(salt), AsChars(info), 42);
  EXPECT_EQ(HexOf(okm.view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869TestCase3EmptySaltAndInfo) {
  const SecretBytes okm = HkdfSha256(Bytes(22, 0x0b), "", "", 42);
  EXPECT_EQ(HexOf(okm.view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

// RFC 5869 by hand with our HMAC, for inputs the RFC has no vector for (empty key, two blocks).
TEST(HkdfSha256, MatchesTheRfcConstructionForAnEmptyKey) {
  const std::string salt = "salt";
  const std::string info = "hokan data key v1";
  const Sha256Digest prk = HmacSha256(AsBytes(salt)).Mac({});
  const HmacSha256 expand(prk);
  Bytes block1_input = ToBytes(info);
  block1_input.push_back(1);
  const Sha256Digest t1 = expand.Mac(block1_input);
  Bytes block2_input(t1.begin(), t1.end());
  block2_input.insert(block2_input.end(), info.begin(), info.end());
  block2_input.push_back(2);
  const Sha256Digest t2 = expand.Mac(block2_input);
  Bytes expected(t1.begin(), t1.end());
  expected.insert(expected.end(), t2.begin(), t2.begin() + 8);

  const SecretBytes okm = HkdfSha256({}, salt, info, 40);
  EXPECT_EQ(HexOf(okm.view()), HexOf(expected));
}

TEST(HkdfSha256, InfoSeparatesKeysAndLengthIsExact) {
  const Bytes ikm = Pattern(32);
  const SecretBytes a = HkdfSha256(ikm, "s", "purpose a", 32);
  const SecretBytes b = HkdfSha256(ikm, "s", "purpose b", 32);
  EXPECT_FALSE(ConstantTimeEqual(a.view(), b.view()));
  EXPECT_EQ(HkdfSha256(ikm, "s", "x", 0).size(), 0u);
  EXPECT_EQ(HkdfSha256(ikm, "s", "x", 8160).size(), 8160u);
  EXPECT_EQ(HkdfSha256(ikm, "s", "x", 1024).size(), 1024u);
  EXPECT_EQ(HkdfSha256(ikm, "s", std::string(1024, 'i'), 32).size(), 32u);  // Longest info.
}

// 8160 = 255 blocks of 32 bytes, the RFC 5869 maximum.
TEST(HkdfSha256DeathTest, MoreThan255BlocksIsABug) {
  EXPECT_DEATH((void)HkdfSha256(Pattern(32), "", "", 8161), "kMaxHkdfOutput");
}

TEST(HkdfSha256DeathTest, InfoLongerThan1024BytesIsABug) {
  EXPECT_DEATH((void)HkdfSha256(Pattern(32), "", std::string(1025, 'i'), 32), "kMaxHkdfInfo");
}

// ---------------------------------------------------------------------------------------------
// AEAD.

class Aead : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = Pattern(kAeadKeySize, 5);
    aad_ = ToBytes("record 7f3a, version 2");
  }
  Bytes Seal(ByteView plaintext) {
    Result<Bytes> sealed = AeadSeal(key_, plaintext, aad_);
    EXPECT_OK(sealed);
    return sealed ? *sealed : Bytes();
  }
  // Opening must fail as kDataLoss, without the plaintext in the message or errors left queued.
  void ExpectDataLoss(ByteView sealed, ByteView key, ByteView aad) {
    const Status status = AeadOpen(key, sealed, aad).error();
    EXPECT_THAT(status, StatusIs(StatusCode::kDataLoss));
    EXPECT_THAT(status.message(), Not(HasSubstr(std::string(kSecretText))));
    EXPECT_EQ(ERR_peek_error(), 0u);
  }

  static constexpr std::string_view kSecretText = "patient Yamada: allergy to penicillin";
  Bytes key_;
  Bytes aad_;
};

TEST_F(Aead, RoundTripsEverySize) {
  for (std::size_t size : {0, 1, 15, 16, 17, 1000, 65536}) {
    SCOPED_TRACE(size);
    const Bytes plaintext = Pattern(size, 21);
    const Bytes sealed = Seal(plaintext);
    EXPECT_EQ(sealed.size(), plaintext.size() + kAeadOverhead);
    Result<Bytes> opened = AeadOpen(key_, sealed, aad_);
    ASSERT_OK(opened);
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST_F(Aead, EmptyAadRoundTrips) {
  Result<Bytes> sealed = AeadSeal(key_, AsBytes(kSecretText), {});
  ASSERT_OK(sealed);
  Result<Bytes> opened = AeadOpen(key_, *sealed, {});
  ASSERT_OK(opened);
  EXPECT_EQ(AsChars(*opened), kSecretText);
  ExpectDataLoss(*sealed, key_, aad_);  // The aad is not optional once used (or not used).
}

// The layout in crypto.h is a stored format: decrypt it independently with plain OpenSSL.
TEST_F(Aead, LayoutIsVersionNonceCiphertextTag) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  ASSERT_EQ(sealed.size(), kSecretText.size() + 29);
  EXPECT_EQ(sealed[0], 0x01);
  const ByteView nonce = ByteView(sealed).subspan(1, 12);
  const ByteView ciphertext = ByteView(sealed).subspan(13, kSecretText.size());
  Bytes tag(sealed.end() - 16, sealed.end());

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  Bytes plaintext(ciphertext.size());
  int length = 0;
  EXPECT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key_.data(), nonce.data()), 1);
  EXPECT_EQ(EVP_DecryptUpdate(ctx, nullptr, &length, aad_.data(), static_cast<int>(aad_.size())),
            1);
  EXPECT_EQ(EVP_DecryptUpdate(ctx, plaintext.data(), &length, ciphertext.data(),
                              static_cast<int>(ciphertext.size())),
            1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()), 1);
  EXPECT_EQ(EVP_DecryptFinal_ex(ctx, plaintext.data() + plaintext.size(), &length), 1);
  EVP_CIPHER_CTX_free(ctx);
  EXPECT_EQ(AsChars(plaintext), kSecretText);
}

TEST_F(Aead, EachSealUsesAFreshNonce) {
  const Bytes a = Seal(AsBytes(kSecretText));
  const Bytes b = Seal(AsBytes(kSecretText));
  EXPECT_NE(a, b);
  EXPECT_NE(Bytes(a.begin() + 1, a.begin() + 13), Bytes(b.begin() + 1, b.begin() + 13));
  // The ciphertext is not the plaintext.
  EXPECT_EQ(std::string(AsChars(a)).find(kSecretText), std::string::npos);
}

TEST_F(Aead, WrongKeyIsDataLoss) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  Bytes other_key = key_;
  other_key[0] ^= 0x80;
  ExpectDataLoss(sealed, other_key, aad_);
}

TEST_F(Aead, WrongAadIsDataLoss) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  ExpectDataLoss(sealed, key_, AsBytes("record 7f3a, version 3"));
  ExpectDataLoss(sealed, key_, {});
}

TEST_F(Aead, EveryFlippedBitIsDataLoss) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {
    SCOPED_TRACE("bit " + std::to_string(bit));
    Bytes damaged = sealed;
    damaged[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ExpectDataLoss(damaged, key_, aad_);
  }
}

TEST_F(Aead, EveryTruncationIsDataLoss) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  for (std::size_t size = 0; size < sealed.size(); ++size) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    ExpectDataLoss(ByteView(sealed).first(size), key_, aad_);
  }
  Bytes extended = sealed;
  extended.push_back(0);
  ExpectDataLoss(extended, key_, aad_);
}

TEST_F(Aead, EmptyPlaintextIsStillAuthenticated) {
  const Bytes sealed = Seal({});
  ASSERT_EQ(sealed.size(), kAeadOverhead);
  Result<Bytes> opened = AeadOpen(key_, sealed, aad_);
  ASSERT_OK(opened);
  EXPECT_TRUE(opened->empty());
  Bytes damaged = sealed;
  damaged.back() ^= 1;
  ExpectDataLoss(damaged, key_, aad_);
  ExpectDataLoss(sealed, key_, AsBytes("other"));
}

TEST_F(Aead, UnknownVersionIsDataLoss) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  for (std::uint8_t version : {0x00, 0x02, 0xff}) {
    Bytes changed = sealed;
    changed[0] = version;
    ExpectDataLoss(changed, key_, aad_);
  }
}

TEST_F(Aead, KeyOfTheWrongSizeIsInvalidArgument) {
  const Bytes sealed = Seal(AsBytes(kSecretText));
  for (std::size_t size : {0, 16, 31, 33, 64}) {
    SCOPED_TRACE(size);
    const Bytes key = Pattern(size);
    EXPECT_THAT(AeadSeal(key, AsBytes(kSecretText), aad_), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(AeadOpen(key, sealed, aad_), StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST_F(Aead, LargePlaintextRoundTripsAndIsAuthenticated) {
  const Bytes plaintext = Pattern(std::size_t{64} << 20, 3);
  Bytes sealed = Seal(plaintext);
  ASSERT_EQ(sealed.size(), plaintext.size() + kAeadOverhead);
  Result<Bytes> opened = AeadOpen(key_, sealed, aad_);
  ASSERT_OK(opened);
  EXPECT_TRUE(*opened == plaintext);  // Not EXPECT_EQ: a failure would print 64 MiB.
  sealed[sealed.size() / 2] ^= 0x10;
  ExpectDataLoss(sealed, key_, aad_);
}

// ---------------------------------------------------------------------------------------------
// Ed25519.

struct Rfc8032Vector {
  std::string secret_key;
  std::string public_key;
  std::string message;
  std::string signature;
};

TEST(SigningKey, Rfc8032Vectors) {
  const std::vector<Rfc8032Vector> vectors = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf"
       "9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f"
       "11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    SCOPED_TRACE("RFC 8032 section 7.1 test " + std::to_string(i + 1));
    const Rfc8032Vector& v = vectors[i];
    Result<SigningKey> key =
        SigningKey::FromPrivatePem(Ed25519PrivatePemFromSeed(Hex(v.secret_key)));
    ASSERT_OK(key);
    EXPECT_EQ(HexOf(key->PublicKeyRaw()), v.public_key);
    const Bytes message = Hex(v.message);
    Result<Bytes> signature = key->Sign(message);
    ASSERT_OK(signature);
    EXPECT_EQ(HexOf(*signature), v.signature);
    EXPECT_TRUE(VerifyEd25519(Hex(v.public_key), message, Hex(v.signature)));
  }
}

TEST(SigningKey, GeneratedKeysSignAndVerify) {
  Result<SigningKey> key = SigningKey::Generate();
  Result<SigningKey> other = SigningKey::Generate();
  ASSERT_OK(key);
  ASSERT_OK(other);
  const Bytes public_key = key->PublicKeyRaw();
  ASSERT_EQ(public_key.size(), 32u);
  EXPECT_NE(public_key, other->PublicKeyRaw());

  const Bytes message = ToBytes("tree head 1024");
  Result<Bytes> signature = key->Sign(message);
  ASSERT_OK(signature);
  ASSERT_EQ(signature->size(), 64u);
  EXPECT_TRUE(VerifyEd25519(public_key, message, *signature));

  EXPECT_FALSE(VerifyEd25519(public_key, AsBytes("tree head 1025"), *signature));
  EXPECT_FALSE(VerifyEd25519(other->PublicKeyRaw(), message, *signature));
  Bytes bad_signature = *signature;
  bad_signature[10] ^= 0x01;
  EXPECT_FALSE(VerifyEd25519(public_key, message, bad_signature));
  Bytes bad_key = public_key;
  bad_key[0] ^= 0x01;
  EXPECT_FALSE(VerifyEd25519(bad_key, message, *signature));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SigningKey, VerifyRejectsWrongSizes) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  const Bytes message = ToBytes("m");
  Result<Bytes> signature = key->Sign(message);
  ASSERT_OK(signature);
  const Bytes public_key = key->PublicKeyRaw();
  ASSERT_TRUE(VerifyEd25519(public_key, message, *signature));

  const ByteView sig(*signature);
  EXPECT_FALSE(VerifyEd25519(public_key, message, sig.first(63)));
  Bytes sig65 = *signature;
  sig65.push_back(0);
  EXPECT_FALSE(VerifyEd25519(public_key, message, sig65));
  EXPECT_FALSE(VerifyEd25519(public_key, message, {}));
  EXPECT_FALSE(VerifyEd25519(ByteView(public_key).first(31), message, *signature));
  Bytes key33 = public_key;
  key33.push_back(0);
  EXPECT_FALSE(VerifyEd25519(key33, message, *signature));
  EXPECT_FALSE(VerifyEd25519({}, message, *signature));
}

TEST(SigningKey, PrivatePemRoundTrips) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  Result<std::string> pem = key->PrivatePem();
  ASSERT_OK(pem);
  EXPECT_THAT(*pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  Result<SigningKey> reloaded = SigningKey::FromPrivatePem(*pem);
  ASSERT_OK(reloaded);
  EXPECT_EQ(reloaded->PublicKeyRaw(), key->PublicKeyRaw());
  // Ed25519 is deterministic: the same key makes the same signature.
  Result<Bytes> a = key->Sign(AsBytes("checkpoint"));
  Result<Bytes> b = reloaded->Sign(AsBytes("checkpoint"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(*a, *b);
}

TEST(SigningKey, PublicPemRoundTrips) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  const std::string pem = key->PublicPem();
  EXPECT_THAT(pem, StartsWith("-----BEGIN PUBLIC KEY-----\n"));
  Result<Bytes> raw = Ed25519PublicKeyFromPem(pem);
  ASSERT_OK(raw);
  EXPECT_EQ(*raw, key->PublicKeyRaw());
}

TEST(SigningKey, MovedKeyKeepsWorking) {
  Result<SigningKey> generated = SigningKey::Generate();
  ASSERT_OK(generated);
  const Bytes public_key = generated->PublicKeyRaw();
  SigningKey key = std::move(*generated);
  Result<SigningKey> other = SigningKey::Generate();
  ASSERT_OK(other);
  *other = std::move(key);
  Result<Bytes> signature = other->Sign(AsBytes("m"));
  ASSERT_OK(signature);
  EXPECT_TRUE(VerifyEd25519(public_key, AsBytes("m"), *signature));
}

// Every way a key file can be wrong: kInvalidArgument, nothing quoted, no error left queued.
TEST(SigningKey, HostilePrivatePemsAreInvalidArgument) {
  Result<SigningKey> ed25519 = SigningKey::Generate();
  ASSERT_OK(ed25519);
  Result<std::string> valid = ed25519->PrivatePem();
  ASSERT_OK(valid);

  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  PkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  PkeyPtr ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  PkeyPtr x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_TRUE(rsa && ec && ed448 && x25519);

  // The same Ed25519 key, but encrypted: must fail, not prompt for a passphrase.
  Result<std::string> reloadable = ed25519->PrivatePem();
  ASSERT_OK(reloadable);
  BioPtr in(BIO_new_mem_buf(reloadable->data(), static_cast<int>(reloadable->size())));
  PkeyPtr ed25519_raw(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(ed25519_raw);
  BioPtr encrypted_bio(BIO_new(BIO_s_mem()));
  char passphrase[] = "correct horse";
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(encrypted_bio.get(), ed25519_raw.get(), EVP_aes_256_cbc(),
                                          passphrase, 13, nullptr, nullptr),
            1);
  const std::string encrypted = MemBioText(encrypted_bio.get());
  ASSERT_THAT(encrypted, StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

  std::string corrupted_body = *valid;
  corrupted_body[40] = corrupted_body[40] == 'A' ? 'B' : 'A';
  std::string bad_base64 = *valid;
  bad_base64[40] = '!';

  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"empty", ""},
      {"garbage", "not a key at all"},
      {"header only", "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"},
      {"truncated", valid->substr(0, valid->size() / 2)},
      {"no footer", valid->substr(0, valid->find("-----END"))},
      {"changed body byte", corrupted_body},
      {"invalid base64", bad_base64},
      {"seed too short", Ed25519PrivatePemFromSeed(Pattern(31))},
      {"public key", ed25519->PublicPem()},
      {"encrypted PKCS#8", encrypted},
      {"RSA", OtherPrivatePem(rsa.get())},
      {"EC P-256", OtherPrivatePem(ec.get())},
      {"Ed448", OtherPrivatePem(ed448.get())},
      {"X25519", OtherPrivatePem(x25519.get())},
      {"huge", std::string(1 << 20, 'A')},
      {"embedded NUL", std::string("-----BEGIN PRIVATE KEY-----\n\0", 29)},
  };
  const std::string body_start = valid->substr(valid->find('\n') + 1, 16);
  for (const auto& [name, pem] : inputs) {
    SCOPED_TRACE(name);
    const Status status = SigningKey::FromPrivatePem(pem).error();
    EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(status.message(), Not(HasSubstr("BEGIN")));  // The input is never quoted.
    EXPECT_THAT(status.message(), Not(HasSubstr(body_start)));
    EXPECT_EQ(ERR_peek_error(), 0u);
  }
}

TEST(Ed25519PublicKeyFromPem, HostileInputsAreInvalidArgument) {
  Result<SigningKey> ed25519 = SigningKey::Generate();
  ASSERT_OK(ed25519);
  const std::string valid = ed25519->PublicPem();
  Result<std::string> private_pem = ed25519->PrivatePem();
  ASSERT_OK(private_pem);
  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024}));
  PkeyPtr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  PkeyPtr ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  ASSERT_TRUE(rsa && ec && ed448);

  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"empty", ""},
      {"garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
      {"truncated", valid.substr(0, valid.size() / 2)},
      {"private key", *private_pem},
      {"RSA", OtherPublicPem(rsa.get())},
      {"EC P-256", OtherPublicPem(ec.get())},
      {"Ed448", OtherPublicPem(ed448.get())},
  };
  for (const auto& [name, pem] : inputs) {
    SCOPED_TRACE(name);
    EXPECT_THAT(Ed25519PublicKeyFromPem(pem), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_EQ(ERR_peek_error(), 0u);
  }
}

}  // namespace
}  // namespace hokan
