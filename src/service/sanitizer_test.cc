// [sanitize] rules turned into a policy per way in and type: the most specific rule wins.
#include "service/sanitizer.h"

#include <gtest/gtest.h>

#include "base/posix_env.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

class SanitizerPolicyTest : public ::testing::Test {
 protected:
  std::unique_ptr<Sanitizer> Open(const SanitizeConfig& config) {
    auto s = Sanitizer::Open(env_, config);
    EXPECT_OK(s);
    return s ? std::move(*s) : nullptr;
  }
  PosixFileSystem fs_;
  testing::ManualClock clock_;
  Env env_{fs_, clock_};
};

TEST_F(SanitizerPolicyTest, MostSpecificRuleWins) {
  SanitizeConfig c;
  c.action = "disarm";
  c.rules = {{"*:docm", "hold"},
             {"maintenance:*", "block"},
             {"maintenance:docm", "disarm"},
             {"api:pdf", "block"}};
  auto s = Open(c);
  ASSERT_NE(s, nullptr);
  const SanitizePolicy api = s->PolicyFor("api");
  EXPECT_EQ(api.default_action, SanitizeAction::kDisarm);
  EXPECT_EQ(api.For("docm"), SanitizeAction::kHold);
  EXPECT_EQ(api.For("pdf"), SanitizeAction::kBlock);
  EXPECT_EQ(api.For("xlsm"), SanitizeAction::kDisarm);
  const SanitizePolicy maintenance = s->PolicyFor("maintenance");
  EXPECT_EQ(maintenance.default_action, SanitizeAction::kBlock);
  EXPECT_EQ(maintenance.For("docm"), SanitizeAction::kDisarm);
  EXPECT_EQ(maintenance.For("pdf"), SanitizeAction::kBlock);
  EXPECT_EQ(s->PolicyFor("cli").For("pdf"), SanitizeAction::kDisarm);
}

TEST_F(SanitizerPolicyTest, StarStarIsTheDefaultAndBadActionsAreRefused) {
  SanitizeConfig c;
  c.rules = {{"*:*", "hold"}};
  auto s = Open(c);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->PolicyFor("api").default_action, SanitizeAction::kHold);
  c.rules = {{"*:docm", "allow"}};
  EXPECT_FALSE(Sanitizer::Open(env_, c).has_value());
  c.rules.clear();
  c.clamav_database_dir = "/nonexistent/clamav";
  EXPECT_FALSE(Sanitizer::Open(env_, c).has_value());  // Told to scan, can't: no start.
}

}  // namespace
}  // namespace hokan
