#include "audit/audit_event.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

// G-6.5-C7: an entry names the actor, the action, the patient and record, the outcome and
// the source, and begins with its sequence number.
TEST(AuditEvent, EncodesFieldsInFixedOrderAndRoundTrips) {
  AuditEvent e{.actor = "local:alice",
               .action = "record.read",
               .patient = "P1",
               .record = "r1",
               .version = 3,
               .source = "cli"};
  e.detail = {{"sha256", "ab"}};
  const std::string text = EncodeAuditEntry(12, "2026-11-24T00:00:00.000Z", e);
  EXPECT_EQ(text,
            "{\"seq\":12,\"time\":\"2026-11-24T00:00:00.000Z\",\"actor\":\"local:alice\","
            "\"action\":\"record.read\",\"patient\":\"P1\",\"record\":\"r1\",\"version\":3,"
            "\"outcome\":\"success\",\"source\":\"cli\",\"detail\":{\"sha256\":\"ab\"}}");
  Result<DecodedAuditEntry> d = DecodeAuditEntry(text);
  ASSERT_OK(d);
  EXPECT_EQ(d->seq, 12u);
  EXPECT_EQ(d->event.actor, "local:alice");
  EXPECT_EQ(d->event.version, 3);
  EXPECT_EQ(d->event.detail, e.detail);
}

// G-6.5-C7, G-6.10: over the API an entry also carries the role, the session, the policy
// rule that decided, the request id, and the break-glass / maintenance / review flags.
TEST(AuditEvent, ApiFieldsEncodeAfterSourceAndRoundTrip) {
  AuditEvent e{.actor = "user:dr-a",
               .action = "record.read",
               .patient = "P1",
               .outcome = "success",
               .source = "10.0.0.7",
               .role = "physician",
               .session = "s1",
               .rule = "allow:break-glass:bg-1",
               .request_id = "rq",
               .break_glass = true,
               .maintenance = true,
               .review = true};
  const std::string text = EncodeAuditEntry(3, "t", e);
  EXPECT_EQ(text,
            "{\"seq\":3,\"time\":\"t\",\"actor\":\"user:dr-a\",\"action\":\"record.read\","
            "\"patient\":\"P1\",\"outcome\":\"success\",\"source\":\"10.0.0.7\",\"role\":"
            "\"physician\",\"session\":\"s1\",\"rule\":\"allow:break-glass:bg-1\","
            "\"request_id\":\"rq\",\"break_glass\":true,\"maintenance\":true,\"review\":true}");
  Result<DecodedAuditEntry> d = DecodeAuditEntry(text);
  ASSERT_OK(d);
  EXPECT_EQ(d->event.role, "physician");
  EXPECT_EQ(d->event.session, "s1");
  EXPECT_EQ(d->event.rule, "allow:break-glass:bg-1");
  EXPECT_EQ(d->event.request_id, "rq");
  EXPECT_TRUE(d->event.break_glass);
  EXPECT_TRUE(d->event.maintenance);
  EXPECT_TRUE(d->event.review);
}

TEST(AuditEvent, EmptyOptionalFieldsAreLeftOut) {
  const std::string text =
      EncodeAuditEntry(0, "t", AuditEvent{.actor = "a", .action = "store.init"});
  EXPECT_EQ(text,
            "{\"seq\":0,\"time\":\"t\",\"actor\":\"a\",\"action\":\"store.init\","
            "\"outcome\":\"success\"}");
}

TEST(AuditEvent, InvalidUtf8IsReplacedNotThrown) {
  AuditEvent e{.actor = "a", .action = "x", .reason = std::string("bad \xff byte")};
  const std::string text = EncodeAuditEntry(1, "t", e);
  EXPECT_NE(text.find("bad "), std::string::npos);
  EXPECT_OK(DecodeAuditEntry(text));
}

TEST(AuditEvent, MalformedEntriesAreDataLoss) {
  const std::string negative_seq =
      R"({"seq":-1,"time":"t","actor":"a","action":"b","outcome":"c"})";
  for (std::string_view bad :
       {std::string_view(""), std::string_view("[]"), std::string_view("{"),
        std::string_view(R"({"seq":"x"})"), std::string_view(R"({"seq":1,"time":"t"})"),
        std::string_view(negative_seq)}) {
    EXPECT_THAT(DecodeAuditEntry(bad), testing::StatusIs(StatusCode::kDataLoss)) << bad;
  }
}

}  // namespace
}  // namespace hokan
