#include "identity/password_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/password_hash.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PasswordContext Nurse(bool two_factor = true) {
  return PasswordContext{
      .user_id = "nsato", .display_name = "Hanako Sato", .two_factor = two_factor};
}

std::string Reason(std::string_view password, const PasswordContext& c = Nurse()) {
  const Status st = CheckPassword(password, c);
  return st.ok() ? "ok" : st.message();
}

// G-6.5-C14d: mode (c) 8 characters with two-factor login; mode (a) 13 without.
TEST(PasswordPolicy, LengthDependsOnTwoFactor) {
  EXPECT_EQ(Reason("Kx7#pq2v"), "ok");
  EXPECT_THAT(Reason("Kx7#pq2"), HasSubstr("at least 8"));
  EXPECT_THAT(Reason("Kx7#pq2vW9!m", Nurse(false)), HasSubstr("at least 13"));
  EXPECT_EQ(Reason("Kx7#pq2vW9!mZ", Nurse(false)), "ok");
  EXPECT_THAT(Reason(std::string(200, 'a') + "1!" + std::string(60, 'b')), HasSubstr("at most"));
}

TEST(PasswordPolicy, MustMixLettersDigitsAndSymbols) {
  EXPECT_THAT(Reason("Kxqpqzvwm"), HasSubstr("mix"));
  EXPECT_THAT(Reason("Kx7pq2vw9"), HasSubstr("mix"));
  EXPECT_THAT(Reason("83#61%29!"), HasSubstr("mix"));
  EXPECT_EQ(Reason("\xe7\x97\x85\xe9\x99\xa2Kx7q2v"), "ok");  // Japanese counts as a symbol.
  EXPECT_THAT(Reason("Kx7#pq2v\n"), HasSubstr("control"));
}

// G-6.5-C14e: nothing guessable from the person.
TEST(PasswordPolicy, RefusesUserIdAndName) {
  EXPECT_THAT(Reason("NSato#2931x"), HasSubstr("user id or name"));
  EXPECT_THAT(Reason("x9!hanakoQ"), HasSubstr("user id or name"));
  EXPECT_THAT(Reason("Q7!sato-zz"), HasSubstr("user id or name"));
}

TEST(PasswordPolicy, RefusesCommonPasswordsAndPatterns) {
  for (std::string_view p : {"Password1!", "P@ssw0rd!", "Hospital#2024", "qwerty12!A", "Welcome!23",
                             "Zx!1234567", "Ab1!qwertyu", "Kx7#aaaa2v"}) {
    EXPECT_NE(Reason(p), "ok") << p;
  }
  // A common word inside a long, otherwise random password is fine.
  EXPECT_EQ(Reason("tq8!nurse-Vm4#Lp2zK"), "ok");
}

TEST(PasswordPolicy, RefusesTheLastFivePasswords) {
  const PasswordHashParams fast{.ops_limit = 1, .mem_limit = std::size_t{64} * 1024};
  PasswordContext c = Nurse();
  for (std::string_view old :
       {"Old#pw1aa", "Old#pw2bb", "Old#pw3cc", "Old#pw4dd", "Old#pw5ee", "Old#pw6ff"}) {
    Result<std::string> h = HashPassword(old, fast);
    ASSERT_OK(h);
    c.previous_hashes.push_back(*h);
  }
  EXPECT_THAT(Reason("Old#pw6ff", c), HasSubstr("last 5"));
  EXPECT_THAT(Reason("Old#pw2bb", c), HasSubstr("last 5"));
  EXPECT_EQ(Reason("Old#pw1aa", c), "ok");  // Sixth from last: allowed again.
}

TEST(PasswordPolicy, MessagesNeverContainThePassword) {
  for (std::string_view p : {"short", "NSato#2931x", "P@ssw0rd!", "Kxqpqzvwm"}) {
    EXPECT_THAT(Reason(p), Not(HasSubstr(std::string(p)))) << p;
  }
}

}  // namespace
}  // namespace hokan
