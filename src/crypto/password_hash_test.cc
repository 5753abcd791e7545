#include "crypto/password_hash.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

// Small parameters keep sanitizer builds fast; one test uses the defaults.
constexpr PasswordHashParams kFast{.ops_limit = 1, .mem_limit = std::size_t{64} * 1024};

// G-6.5-C14a: stored only salted and slow; equal passwords hash differently.
TEST(PasswordHash, SaltedArgon2idThatVerifies) {
  Result<std::string> a = HashPassword("correct horse 7!", kFast);
  Result<std::string> b = HashPassword("correct horse 7!", kFast);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->rfind("$argon2id$", 0), 0u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find("correct"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse 7!", *a));
  EXPECT_TRUE(VerifyPassword("correct horse 7!", *b));
  EXPECT_FALSE(VerifyPassword("correct horse 7?", *a));
  EXPECT_FALSE(VerifyPassword("", *a));
}

TEST(PasswordHash, DefaultParametersUseAtLeast64MiB) {
  Result<std::string> h = HashPassword("another-Passw0rd!");
  ASSERT_OK(h);
  EXPECT_NE(h->find("m=65536,t=3"), std::string::npos) << *h;
  EXPECT_TRUE(VerifyPassword("another-Passw0rd!", *h));
  EXPECT_FALSE(PasswordNeedsRehash(*h));
  Result<std::string> weak = HashPassword("another-Passw0rd!", kFast);
  ASSERT_OK(weak);
  EXPECT_TRUE(PasswordNeedsRehash(*weak));
}

TEST(PasswordHash, HostileEncodingsNeverVerify) {
  Result<std::string> h = HashPassword("pw", kFast);
  ASSERT_OK(h);
  std::string truncated = h->substr(0, h->size() - 5);
  std::string with_nul = *h;
  with_nul[10] = '\0';
  for (const std::string& bad :
       {std::string(), std::string("$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA"), truncated, with_nul,
        std::string(1000, 'a'), std::string("$argon2id$")}) {
    EXPECT_FALSE(VerifyPassword("pw", bad)) << bad;
  }
}

TEST(PasswordHash, ParametersBelowTheMinimumAreRefused) {
  EXPECT_THAT(HashPassword("pw", {.ops_limit = 0, .mem_limit = std::size_t{64} * 1024}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(HashPassword("pw", {.ops_limit = 1, .mem_limit = 16}),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
