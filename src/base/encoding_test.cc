#include "base/encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

// --- Hex ------------------------------------------------------------------------------------

TEST(Hex, EncodesLowerCase) {
  EXPECT_EQ(HexEncode({}), "");
  EXPECT_EQ(HexEncode(Bytes{0x00, 0x01, 0xab, 0xff}), "0001abff");
  EXPECT_EQ(HexEncode(AsBytes("foobar")), "666f6f626172");  // RFC 4648 section 10 (base16).
}

TEST(Hex, DecodesEitherCase) {
  auto lower = HexDecode("0001abff");
  ASSERT_OK(lower);
  EXPECT_EQ(*lower, (Bytes{0x00, 0x01, 0xab, 0xff}));
  auto upper = HexDecode("0001ABFF");
  ASSERT_OK(upper);
  EXPECT_EQ(*upper, *lower);
  auto empty = HexDecode("");
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Hex, RoundTripsEveryByte) {
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  auto decoded = HexDecode(HexEncode(all));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, all);
}

TEST(Hex, RejectsHostileInput) {
  for (const std::string_view bad :
       {"0", "abc", "0g", "g0", "0x00", " 00", "00 ", "zz", "-1", "0\n", "\xff\xff"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(HexDecode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(HexDecode(std::string_view("0\0", 2)), StatusIs(StatusCode::kInvalidArgument));
}

// --- Base64 ---------------------------------------------------------------------------------

struct Vector {
  std::string_view plain;
  std::string_view encoded;
};

// RFC 4648 section 10.
constexpr Vector kRfc4648Vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (const Vector& v : kRfc4648Vectors) {
    SCOPED_TRACE(v.plain);
    EXPECT_EQ(Base64Encode(AsBytes(v.plain)), v.encoded);
  }
}

TEST(Base64, DecodesRfc4648Vectors) {
  for (const Vector& v : kRfc4648Vectors) {
    SCOPED_TRACE(v.encoded);
    auto decoded = Base64Decode(v.encoded);
    ASSERT_OK(decoded);
    EXPECT_EQ(ToString(*decoded), v.plain);
  }
}

TEST(Base64, UsesTheStandardAlphabet) {
  EXPECT_EQ(Base64Encode(Bytes{0xfb, 0xff}), "+/8=");
  EXPECT_EQ(Base64Encode(Bytes{0xff, 0xff, 0xff}), "////");
  EXPECT_EQ(Base64Encode(Bytes{0x00, 0x00, 0x00}), "AAAA");
}

TEST(Base64, RoundTripsEveryLengthAndByte) {
  Bytes data;
  for (int i = 0; i < 300; ++i) {
    auto decoded = Base64Decode(Base64Encode(data));
    ASSERT_OK(decoded);
    ASSERT_EQ(*decoded, data) << "length " << data.size();
    data.push_back(static_cast<std::uint8_t>(i * 97 + 13));
  }
}

TEST(Base64, RejectsBadLengths) {
  for (const std::string_view bad : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg", "Zm9vYg="}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base64Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST(Base64, RejectsBadCharacters) {
  for (const std::string_view bad :
       {"Zm9v!A==", "Zm9-", "Zm9_", "Zm 9", "Zm9v\n", " Zm9v", "Zm\xc3\xa9", "Zm9v\r\nYmFy"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base64Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(Base64Decode(std::string_view("Zm9\0", 4)), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Base64, RejectsMisplacedPadding) {
  for (const std::string_view bad :
       {"====", "Z===", "=Zg=", "Z=g=", "Zg=a", "Zg==Zm8=", "Zm8=Zm9v", "Zm9v===="}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base64Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

// "f" is "Zg==": the second character carries 2 data bits and 4 zero bits. Any other
// character whose low 4 bits are set ("Zh==" .. "Zv==") would decode to "f" too; accepting
// them would give one value many texts, which breaks comparisons of encoded digests.
TEST(Base64, RejectsNonCanonicalPaddingBits) {
  for (const std::string_view bad :
       {"Zh==", "Zi==", "Zv==", "Zm9=", "Zm+=", "Zm/=", "AB==", "AAB=", "Zm9vYh==", "Zm9vYmF="}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base64Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
  // The canonical neighbours decode.
  for (const std::string_view good : {"Zg==", "Zw==", "Zm8=", "Zm4=", "AA==", "AAA="}) {
    SCOPED_TRACE(good);
    EXPECT_OK(Base64Decode(good));
  }
}

TEST(Base64, RejectsMissingPadding) {
  EXPECT_THAT(Base64Decode("Zg"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("Zm8"), StatusIs(StatusCode::kInvalidArgument));
}

// RFC 4648 section 10.
constexpr Vector kRfc4648Base32Vectors[] = {
    {"", ""},
    {"f", "MY======"},
    {"fo", "MZXQ===="},
    {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======"},
};

TEST(Base32, EncodesRfc4648Vectors) {
  for (const Vector& v : kRfc4648Base32Vectors) {
    SCOPED_TRACE(v.plain);
    EXPECT_EQ(Base32Encode(AsBytes(v.plain)), v.encoded);
    std::string unpadded(v.encoded);
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    if (unpadded == "=") unpadded.clear();
    EXPECT_EQ(Base32Encode(AsBytes(v.plain), /*padding=*/false), unpadded);
  }
}

TEST(Base32, DecodesRfc4648VectorsPaddedOrNotInEitherCase) {
  for (const Vector& v : kRfc4648Base32Vectors) {
    SCOPED_TRACE(v.encoded);
    std::string text(v.encoded);
    auto decoded = Base32Decode(text);
    ASSERT_OK(decoded);
    EXPECT_EQ(ToString(*decoded), v.plain);
    const std::size_t end = text.find('=');
    if (end != std::string::npos) text.erase(end);
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    decoded = Base32Decode(text);
    ASSERT_OK(decoded);
    EXPECT_EQ(ToString(*decoded), v.plain);
  }
}

// The RFC 6238 test key, as authenticator apps are given it.
TEST(Base32, EncodesTheTotpTestKey) {
  EXPECT_EQ(Base32Encode(AsBytes("12345678901234567890"), /*padding=*/false),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32, RoundTripsEveryLengthAndByte) {
  Bytes data;
  for (int i = 0; i < 300; ++i) {
    for (const bool padding : {true, false}) {
      auto decoded = Base32Decode(Base32Encode(data, padding));
      ASSERT_OK(decoded);
      ASSERT_EQ(*decoded, data) << "length " << data.size();
    }
    data.push_back(static_cast<std::uint8_t>(i * 97 + 13));
  }
}

TEST(Base32, RejectsHostileInput) {
  for (const std::string_view bad :
       {"M", "MZX", "MZXW6Y", "MY=====", "MY=======", "MY======MY======", "========", "M1======",
        "MZ XW", "MZXW6YTB========", "MZ=XW6==", "mzxw6ytb\n", "MZXW6YT8"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base32Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

// "f" is "MY": the second character carries 3 data bits and 2 zero bits. "MZ" would decode to
// "f" too if its set low bits were ignored.
TEST(Base32, RejectsNonCanonicalTrailingBits) {
  for (const std::string_view bad : {"MZ", "MZ======", "MZXR", "MZXW7", "MZXW6YR"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(Base32Decode(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

}  // namespace
}  // namespace hokan
