#include "base/time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

TimePoint At(std::chrono::year_month_day date, std::chrono::system_clock::duration since_midnight) {
  return TimePoint(sys_days(date).time_since_epoch() + since_midnight);
}

constexpr std::chrono::year_month_day Date(int y, unsigned m, unsigned d) {
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}};
}

TimePoint MustParse(std::string_view text) {
  Result<TimePoint> t = ParseRfc3339(text);
  EXPECT_OK(t) << text;
  return t ? *t : TimePoint();
}

TEST(FormatRfc3339, Epoch) { EXPECT_EQ(FormatRfc3339(TimePoint()), "1970-01-01T00:00:00.000Z"); }

TEST(FormatRfc3339, FormatsDateTimeAndMilliseconds) {
  const TimePoint t =
      At(Date(2026, 11, 24), hours(11) + minutes(5) + seconds(9) + milliseconds(123));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-24T11:05:09.123Z");
}

TEST(FormatRfc3339, LastMillisecondOfADay) {
  const TimePoint t = At(Date(1999, 12, 31), hours(24) - milliseconds(1));
  EXPECT_EQ(FormatRfc3339(t), "1999-12-31T23:59:59.999Z");
}

TEST(FormatRfc3339, LeapDay) {
  EXPECT_EQ(FormatRfc3339(At(Date(2024, 2, 29), hours(12))), "2024-02-29T12:00:00.000Z");
}

TEST(FormatRfc3339, TruncatesBelowAMillisecond) {
  const TimePoint t = TimePoint() + milliseconds(1) + std::chrono::microseconds(999);
  EXPECT_EQ(FormatRfc3339(t), "1970-01-01T00:00:00.001Z");
}

TEST(FormatRfc3339, BeforeTheEpoch) {
  EXPECT_EQ(FormatRfc3339(TimePoint() - milliseconds(1)), "1969-12-31T23:59:59.999Z");
  // Sub-millisecond parts are floored there too, so the text never names a later instant.
  EXPECT_EQ(FormatRfc3339(TimePoint() - std::chrono::microseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(At(Date(1950, 6, 15), hours(8) + minutes(30))),
            "1950-06-15T08:30:00.000Z");
}

TEST(ParseRfc3339, ParsesUtc) {
  EXPECT_EQ(MustParse("2026-11-24T11:05:09.123Z"),
            At(Date(2026, 11, 24), hours(11) + minutes(5) + seconds(9) + milliseconds(123)));
  EXPECT_EQ(MustParse("2026-11-24T11:05:09Z"),
            At(Date(2026, 11, 24), hours(11) + minutes(5) + seconds(9)));
  EXPECT_EQ(MustParse("1970-01-01T00:00:00Z"), TimePoint());
}

TEST(ParseRfc3339, AcceptsLowerCaseTAndZ) {
  EXPECT_EQ(MustParse("2026-11-24t11:00:00z"), MustParse("2026-11-24T11:00:00Z"));
}

TEST(ParseRfc3339, FractionsOfAnyLengthKeepMilliseconds) {
  const TimePoint base = MustParse("2026-01-01T00:00:00Z");
  EXPECT_EQ(MustParse("2026-01-01T00:00:00.1Z"), base + milliseconds(100));
  EXPECT_EQ(MustParse("2026-01-01T00:00:00.12Z"), base + milliseconds(120));
  EXPECT_EQ(MustParse("2026-01-01T00:00:00.123Z"), base + milliseconds(123));
  EXPECT_EQ(MustParse("2026-01-01T00:00:00.123999999Z"), base + milliseconds(123));
}

TEST(ParseRfc3339, AppliesOffsets) {
  const TimePoint utc = MustParse("2026-11-24T02:00:00Z");
  EXPECT_EQ(MustParse("2026-11-24T11:00:00+09:00"), utc);
  EXPECT_EQ(MustParse("2026-11-23T21:30:00-04:30"), utc);
  EXPECT_EQ(MustParse("2026-11-24T02:00:00+00:00"), utc);
  EXPECT_EQ(MustParse("2026-11-24T02:00:00-00:00"), utc);
  EXPECT_EQ(MustParse("2026-11-24T02:00:00.000+00:00"), utc);
  // Crossing a year boundary.
  EXPECT_EQ(MustParse("2027-01-01T08:59:59+09:00"), MustParse("2026-12-31T23:59:59Z"));
  EXPECT_EQ(MustParse("2026-11-24T11:00:00.5+09:00"), utc + milliseconds(500));
}

TEST(ParseRfc3339, LeapDaysOnlyInLeapYears) {
  EXPECT_OK(ParseRfc3339("2024-02-29T00:00:00Z"));
  EXPECT_OK(ParseRfc3339("2000-02-29T00:00:00Z"));
  EXPECT_THAT(ParseRfc3339("2026-02-29T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("2100-02-29T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Rfc3339, RoundTripsAtMillisecondPrecision) {
  const TimePoint base = MustParse("2026-03-01T00:00:00Z");
  for (const auto offset :
       {milliseconds(0), milliseconds(1), milliseconds(999), milliseconds(86'399'999),
        milliseconds(-1), milliseconds(-86'400'001), milliseconds(1'000'000'000'123)}) {
    const TimePoint t = base + offset;
    SCOPED_TRACE(FormatRfc3339(t));
    EXPECT_EQ(MustParse(FormatRfc3339(t)), t);
  }
  // Sub-millisecond parts are dropped, never rounded up.
  const TimePoint t = base + milliseconds(5) + std::chrono::microseconds(999);
  EXPECT_EQ(MustParse(FormatRfc3339(t)), base + milliseconds(5));
  const TimePoint before_epoch = TimePoint() - std::chrono::microseconds(1500);
  EXPECT_EQ(MustParse(FormatRfc3339(before_epoch)), TimePoint() - milliseconds(2));
}

TEST(Rfc3339, FormatOfParseIsCanonical) {
  EXPECT_EQ(FormatRfc3339(MustParse("2026-11-24T11:00:00+09:00")), "2026-11-24T02:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(MustParse("2026-11-24T11:00:00.1z")), "2026-11-24T11:00:00.100Z");
}

TEST(ParseRfc3339, RejectsMalformedText) {
  for (const std::string_view bad : {
           "",
           "2026",
           "2026-11-24",
           "2026-11-24T11:00:00",         // No zone.
           "2026-11-24T11:00Z",           // No seconds.
           "2026-11-24 11:00:00Z",        // Space instead of T.
           "2026/11/24T11:00:00Z",        // Wrong separators.
           "2026-11-24T11.00.00Z",        //
           "26-11-24T11:00:00Z",          // Two-digit year.
           "2026-1-24T11:00:00Z",         // One-digit month.
           "+2026-11-24T11:00:00Z",       //
           "2026-11-24T11:00:00.Z",       // Empty fraction.
           "2026-11-24T11:00:00,123Z",    // Comma fraction.
           "2026-11-24T11:00:00ZZ",       // Trailing junk.
           "2026-11-24T11:00:00Z ",       //
           " 2026-11-24T11:00:00Z",       //
           "2026-11-24T11:00:00+0900",    // Offset without colon.
           "2026-11-24T11:00:00+09",      //
           "2026-11-24T11:00:00+9:00",    //
           "2026-11-24T11:00:00+09:00Z",  //
           "2026-11-24T11:00:00UTC",      //
           "2026-11-24T11:00:00+24:00",   // Offset out of range.
           "2026-11-24T11:00:00+09:60",   //
           "2026-11-24T11:00:00+0a:00",   //
           "2026-11-24T11:00:00-",        //
           "2026-11-24T11:00:00.123",     //
           "2026-11-24T11:00:00.123+",    //
           "2026-1a-24T11:00:00Z",        // Non-digits.
           "2026-11-24T1 :00:00Z",        //
           "abcd-ef-ghTij:kl:mnZ",        //
       }) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseRfc3339(bad), StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(ParseRfc3339(std::string_view("2026-11-24T11:00:00Z\0", 21)),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseRfc3339, RejectsOutOfRangeFields) {
  for (const std::string_view bad : {
           "2026-00-24T11:00:00Z",
           "2026-13-24T11:00:00Z",
           "2026-11-00T11:00:00Z",
           "2026-11-31T11:00:00Z",
           "2026-11-24T24:00:00Z",
           "2026-11-24T11:60:00Z",
           "2026-11-24T11:00:61Z",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseRfc3339(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

// TimePoint counts nanoseconds in 64 bits on this platform (about 1678 to 2262); a time
// outside what it can hold must be an error, not an overflow.
TEST(ParseRfc3339, RejectsTimesTimePointCannotHold) {
  using Duration = std::chrono::system_clock::duration;
  if (std::chrono::duration_cast<std::chrono::years>(Duration::max()).count() > 10000) {
    GTEST_SKIP() << "TimePoint holds every four-digit year here";
  }
  EXPECT_THAT(ParseRfc3339("9999-12-31T23:59:59Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("0000-01-01T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("1600-01-01T00:00:00Z"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(ParseRfc3339("1900-01-01T00:00:00Z"));
  EXPECT_OK(ParseRfc3339("2200-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace hokan
