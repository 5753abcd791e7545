#include "audit/checkpoint.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

merkle::Hash SomeRoot() { return merkle::LeafHash(AsBytes("root")); }

TEST(Checkpoint, SignedNoteVerifiesAndParses) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  Result<Checkpoint> c = SignCheckpoint(*key, "hokan/abc", 42, SomeRoot(), "2026-11-24T00:00:00Z");
  ASSERT_OK(c);
  EXPECT_EQ(c->note.substr(0, 13), "hokan/abc\n42\n");
  Result<Checkpoint> v = VerifyCheckpoint(c->note, "hokan/abc", key->PublicKeyRaw());
  ASSERT_OK(v);
  EXPECT_EQ(v->tree_size, 42u);
  EXPECT_EQ(v->root, SomeRoot());
  EXPECT_EQ(v->time, "2026-11-24T00:00:00Z");
}

// G-6.5-C8: a changed checkpoint (any byte of the body) no longer verifies.
TEST(Checkpoint, AnyChangedBodyByteIsDataLoss) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  Result<Checkpoint> c = SignCheckpoint(*key, "hokan/abc", 7, SomeRoot(), "2026-11-24T00:00:00Z");
  ASSERT_OK(c);
  const std::size_t body_end = c->note.find("\n\n");
  for (std::size_t i = 0; i < body_end; ++i) {
    std::string bad = c->note;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(VerifyCheckpoint(bad, "hokan/abc", key->PublicKeyRaw()).has_value())
        << "byte " << i;
  }
}

TEST(Checkpoint, OtherKeyOrOriginIsRefused) {
  Result<SigningKey> key = SigningKey::Generate();
  Result<SigningKey> other = SigningKey::Generate();
  ASSERT_OK(key);
  ASSERT_OK(other);
  Result<Checkpoint> c = SignCheckpoint(*key, "hokan/abc", 7, SomeRoot(), "t");
  ASSERT_OK(c);
  EXPECT_THAT(VerifyCheckpoint(c->note, "hokan/abc", other->PublicKeyRaw()),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(VerifyCheckpoint(c->note, "hokan/xyz", key->PublicKeyRaw()),
              StatusIs(StatusCode::kDataLoss));
}

TEST(Checkpoint, HostileNotesAreRejectedWithoutCrashing) {
  Result<SigningKey> key = SigningKey::Generate();
  ASSERT_OK(key);
  const Bytes pub = key->PublicKeyRaw();
  for (std::string_view note :
       {"", "\n\n", "hokan/abc\n", "hokan/abc\n1\n\n", "hokan/abc\nx\nAAAA\n\n",
        "hokan/abc\n1\nnot base64\n\n\xe2\x80\x94 hokan/abc AAAA\n",
        "hokan/abc\n99999999999999999999999\nAAAA\n\n",
        "hokan/abc\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\xe2\x80\x94 hokan/abc\n",
        "hokan/abc\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n- hokan/abc AAAA\n"}) {
    EXPECT_THAT(VerifyCheckpoint(note, "hokan/abc", pub), StatusIs(StatusCode::kDataLoss)) << note;
  }
}

}  // namespace
}  // namespace hokan
