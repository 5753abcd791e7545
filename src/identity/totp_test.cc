// TotpCode against RFC 6238 Appendix B (SHA-1 rows).

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "identity/identity.h"

namespace hokan {
namespace {

// The RFC's SHA-1 seed: the ASCII digits "1234567890" twice.
const Bytes kRfcKey = ToBytes("12345678901234567890");

struct Vector {
  std::int64_t unix_time;
  std::string code;  // 8 digits, as the RFC lists them.
};

const Vector kRfc6238Sha1[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};

TEST(TotpCode, Rfc6238AppendixBSha1) {
  for (const Vector& v : kRfc6238Sha1) {
    SCOPED_TRACE(v.unix_time);
    EXPECT_EQ(TotpCode(kRfcKey, v.unix_time, 8), v.code);
    // Six digits are the same number modulo 10^6: the last six of the eight.
    EXPECT_EQ(TotpCode(kRfcKey, v.unix_time), v.code.substr(2));
  }
}

TEST(TotpCode, ChangesEveryThirtySecondsOnTheBoundary) {
  EXPECT_EQ(TotpCode(kRfcKey, 0), TotpCode(kRfcKey, 29));
  EXPECT_NE(TotpCode(kRfcKey, 29), TotpCode(kRfcKey, 30));
  EXPECT_EQ(TotpCode(kRfcKey, 30), TotpCode(kRfcKey, 59));
  EXPECT_EQ(TotpCode(kRfcKey, 1111111109, 8), "07081804");
  EXPECT_EQ(TotpCode(kRfcKey, 1111111110, 8), "14050471");  // Next step (T = 0x23523ED).
}

TEST(TotpCode, KeepsLeadingZeros) {
  const std::string code = TotpCode(kRfcKey, 1111111109, 7);  // 07081804 mod 10^7.
  EXPECT_EQ(code, "7081804");
  EXPECT_EQ(TotpCode(kRfcKey, 1111111109, 8).size(), 8u);
}

}  // namespace
}  // namespace hokan
