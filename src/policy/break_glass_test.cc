// Declaring break-glass (G-6.10-C4a: an emergency function with a procedure; G-6.10-C4b: a
// mandatory reason, time-limited, for clinical roles only, never by token).
#include "policy/break_glass.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::std::chrono::hours;
using ::std::chrono::minutes;
using ::std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const TimePoint kNow = *ParseRfc3339("2026-11-24T03:12:00Z");
constexpr std::string_view kReason = "unconscious patient brought in by ambulance";

Subject Clinician(std::string role = "physician") {
  return Subject{.user_id = "u-kato", .roles = {std::move(role)}, .department = "er"};
}

TEST(NewBreakGlassGrant, ClinicalRolesGetAnHourByDefault) {
  for (const char* role : {"physician", "dentist", "pharmacist", "nurse"}) {
    Result<BreakGlassGrant> g = NewBreakGlassGrant(Clinician(role), "p-1", kReason, kNow);
    ASSERT_OK(g) << role;
    EXPECT_EQ(g->user_id, "u-kato");
    EXPECT_EQ(g->patient_id, "p-1");
    EXPECT_EQ(g->granted_at, kNow);
    EXPECT_EQ(g->expires_at, kNow + hours(1));
    EXPECT_EQ(g->reason, kReason);
    EXPECT_TRUE(g->id.empty());  // The service assigns it when it stores the grant.
  }
}

// The grant works with Decide once it has an id, for exactly its duration.
TEST(NewBreakGlassGrant, GrantOpensCareAccessUntilItExpires) {
  Result<BreakGlassGrant> g = NewBreakGlassGrant(Clinician(), "p-1", kReason, kNow, minutes(30));
  ASSERT_OK(g);
  g->id = "bg-17";
  const Resource patient{.patient_id = "p-1"};
  Decision d = Decide(Clinician(), "record.read", patient, Facts{.grants = {*g}, .now = kNow});
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.break_glass);
  EXPECT_EQ(d.rule, "allow:break-glass:bg-17");
  d = Decide(Clinician(), "record.read", patient, Facts{.grants = {*g}, .now = kNow + minutes(30)});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "deny:no-care-relationship");
}

TEST(NewBreakGlassGrant, OnlyRolesThatMayDeclare) {
  for (const char* role :
       {"clerk", "records_officer", "security_officer", "auditor", "admin", "unknown-role"}) {
    Result<BreakGlassGrant> g = NewBreakGlassGrant(Clinician(role), "p-1", kReason, kNow);
    EXPECT_THAT(g, StatusIs(StatusCode::kPermissionDenied)) << role;
    EXPECT_THAT(g.error().message(), HasSubstr("deny:matrix:breakglass.declare")) << role;
  }
  const Subject vendor{.user_id = "v-1",
                       .roles = {"maintenance"},
                       .maintenance = true,
                       .expires_at = kNow + hours(2)};
  EXPECT_THAT(NewBreakGlassGrant(vendor, "p-1", kReason, kNow),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST(NewBreakGlassGrant, NotFromRestrictedSessionsTokensOrExpiredAccounts) {
  Subject s = Clinician();
  s.restricted_session = true;
  EXPECT_THAT(NewBreakGlassGrant(s, "p-1", kReason, kNow), StatusIs(StatusCode::kPermissionDenied));
  s = Clinician();
  s.via_token = true;
  s.token_scopes = {"breakglass.declare"};
  EXPECT_THAT(NewBreakGlassGrant(s, "p-1", kReason, kNow), StatusIs(StatusCode::kPermissionDenied));
  s = Clinician();
  s.expires_at = kNow;
  Result<BreakGlassGrant> g = NewBreakGlassGrant(s, "p-1", kReason, kNow);
  EXPECT_THAT(g, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(g.error().message(), HasSubstr("deny:account-expired"));
}

TEST(NewBreakGlassGrant, ReasonIsTenToThousandCharactersOfText) {
  const auto reason_ok = [](std::string_view reason) {
    return NewBreakGlassGrant(Clinician(), "p-1", reason, kNow).has_value();
  };
  const std::string a_kana = "\xe3\x81\x82";  // One character, three bytes.
  EXPECT_FALSE(reason_ok(""));
  EXPECT_FALSE(reason_ok("emergency"));          // 9
  EXPECT_TRUE(reason_ok("emergency!"));          // 10
  EXPECT_FALSE(reason_ok("  emergency \n\t "));  // 9 after trimming
  EXPECT_FALSE(reason_ok(std::string(40, ' ')));
  EXPECT_TRUE(reason_ok(std::string(1000, 'x')));
  EXPECT_FALSE(reason_ok(std::string(1001, 'x')));
  EXPECT_TRUE(reason_ok("line one\nline two\tok"));
  // Characters, not bytes.
  EXPECT_TRUE(reason_ok(a_kana + std::string(999, 'x')));    // 1000 characters, 1002 bytes
  EXPECT_FALSE(reason_ok(a_kana + std::string(1000, 'x')));  // 1001 characters
  // 救急搬送の意識障害あり: ten characters (30 bytes) suffice; 救急搬送 (12 bytes) does not.
  EXPECT_TRUE(
      reason_ok("\xe6\x95\x91\xe6\x80\xa5\xe6\x90\xac\xe9\x80\x81\xe3\x81\xae\xe6\x84\x8f"
                "\xe8\xad\x98\xe9\x9a\x9c\xe5\xae\xb3\xe3\x81\x82\xe3\x82\x8a"));
  EXPECT_FALSE(reason_ok("\xe6\x95\x91\xe6\x80\xa5\xe6\x90\xac\xe9\x80\x81"));
  // Not text: control characters, invalid or overlong UTF-8, surrogates, beyond U+10FFFF.
  for (const std::string& bad :
       {std::string("patient\x01 collapsed"), std::string("patient collapsed\x7f"),
        std::string("patient \xc2\x85 collapsed"), std::string("patient \xff collapsed"),
        std::string("patient \xc0\xaf collapsed"), std::string("patient \xe0\x80\xaf collapsed"),
        std::string("patient \xed\xa0\x80 collapsed"), std::string("patient collapsed \xe3\x81"),
        std::string("patient\0collapsed here", 22),
        std::string("patient \xf4\x90\x80\x80 collapsed")}) {
    Result<BreakGlassGrant> g = NewBreakGlassGrant(Clinician(), "p-1", bad, kNow);
    EXPECT_THAT(g, StatusIs(StatusCode::kInvalidArgument));
    // The reason itself never appears in the error.
    EXPECT_THAT(g.error().message(), Not(HasSubstr("collapsed")));
  }
  // The stored reason is trimmed.
  Result<BreakGlassGrant> g =
      NewBreakGlassGrant(Clinician(), "p-1", "  \n" + std::string(kReason) + " \n", kNow);
  ASSERT_OK(g);
  EXPECT_EQ(g->reason, kReason);
}

TEST(NewBreakGlassGrant, DurationIsPositiveAndAtMostFourHours) {
  const auto grant = [](seconds d) {
    return NewBreakGlassGrant(Clinician(), "p-1", kReason, kNow, d);
  };
  Result<BreakGlassGrant> g = grant(hours(4));
  ASSERT_OK(g);
  EXPECT_EQ(g->expires_at, kNow + hours(4));
  EXPECT_OK(grant(seconds(1)));
  EXPECT_THAT(grant(hours(4) + seconds(1)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(grant(seconds(0)), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(grant(-hours(1)), StatusIs(StatusCode::kInvalidArgument));
}

TEST(NewBreakGlassGrant, NeedsAPatient) {
  EXPECT_THAT(NewBreakGlassGrant(Clinician(), "", kReason, kNow),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hokan
