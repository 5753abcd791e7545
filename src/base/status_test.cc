#include "base/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::IsOk;
using ::hokan::testing::StatusIs;
using ::testing::Not;

TEST(Status, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status, OkStatus());
  EXPECT_EQ(status.ToString(), "ok");
}

TEST(Status, OkDropsItsMessage) {
  const Status status(StatusCode::kOk, "ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status, OkStatus());
}

TEST(Status, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
    std::string_view name;
  };
  const std::vector<Case> cases = {
      {InvalidArgumentError("m"), StatusCode::kInvalidArgument, "invalid_argument"},
      {NotFoundError("m"), StatusCode::kNotFound, "not_found"},
      {AlreadyExistsError("m"), StatusCode::kAlreadyExists, "already_exists"},
      {UnauthenticatedError("m"), StatusCode::kUnauthenticated, "unauthenticated"},
      {PermissionDeniedError("m"), StatusCode::kPermissionDenied, "permission_denied"},
      {FailedPreconditionError("m"), StatusCode::kFailedPrecondition, "failed_precondition"},
      {UnavailableError("m"), StatusCode::kUnavailable, "unavailable"},
      {DataLossError("m"), StatusCode::kDataLoss, "data_loss"},
      {InternalError("m"), StatusCode::kInternal, "internal"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(StatusCodeName(c.code), c.name);
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
  }
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
}

TEST(Status, CodeNamesAreDistinct) {
  std::vector<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(StatusCode::kInternal); ++i) {
    names.push_back(StatusCodeName(static_cast<StatusCode>(i)));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  const Status status = NotFoundError("no such file").WithContext("open KEYS");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "open KEYS: no such file");
  EXPECT_EQ(status.WithContext("restore").message(), "restore: open KEYS: no such file");
  EXPECT_EQ(OkStatus().WithContext("anything"), OkStatus());
}

TEST(Status, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(NotFoundError("a"), NotFoundError("a"));
  EXPECT_NE(NotFoundError("a"), NotFoundError("b"));
  EXPECT_NE(NotFoundError("a"), InternalError("a"));
}

TEST(Status, StreamsAsToString) {
  std::ostringstream os;
  os << DataLossError("bad tag");
  EXPECT_EQ(os.str(), "data_loss: bad tag");
}

TEST(Result, HoldsAValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(result.error(), OkStatus());
  *result = 7;
  EXPECT_EQ(result.value(), 7);
}

TEST(Result, HoldsAnError) {
  const Result<int> result = NotFoundError("gone");
  EXPECT_FALSE(result.has_value());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.error(), NotFoundError("gone"));
}

TEST(Result, ArrowReachesMembers) {
  Result<std::string> result = std::string("abc");
  EXPECT_EQ(result->size(), 3u);
  const Result<std::string>& const_ref = result;
  EXPECT_EQ(const_ref->size(), 3u);
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  std::unique_ptr<int> taken = std::move(result).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);

  Result<std::unique_ptr<int>> again = std::make_unique<int>(6);
  std::unique_ptr<int> via_star = *std::move(again);
  EXPECT_EQ(*via_star, 6);
}

TEST(Result, WorksWithMatchers) {
  EXPECT_THAT(Result<int>(1), IsOk());
  EXPECT_THAT(Result<int>(InternalError("x")), Not(IsOk()));
  EXPECT_THAT(Result<int>(InternalError("x")), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(AlreadyExistsError("x"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_EQ(StatusOf(Result<int>(3)), OkStatus());
}

TEST(ResultDeathTest, ConstructingFromOkStatusIsABug) {
  EXPECT_DEATH(
      {
        Result<int> bad = OkStatus();
        (void)bad;
      },
      "internal check failed");
}

TEST(ResultDeathTest, ReadingTheValueOfAnErrorIsABug) {
  EXPECT_DEATH(
      {
        Result<int> bad = NotFoundError("x");
        (void)bad.value();
      },
      "internal check failed");
}

// --- Macros ---------------------------------------------------------------------------------

Status FailIf(bool fail, int& calls) {
  ++calls;
  return fail ? UnavailableError("busy") : OkStatus();
}

Status TwoSteps(bool fail_first, int& calls) {
  HK_RETURN_IF_ERROR(FailIf(fail_first, calls));
  HK_RETURN_IF_ERROR(FailIf(false, calls));
  return OkStatus();
}

TEST(Macros, ReturnIfErrorStopsAtTheFirstError) {
  int calls = 0;
  EXPECT_THAT(TwoSteps(true, calls), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(calls, 1);
  calls = 0;
  EXPECT_OK(TwoSteps(false, calls));
  EXPECT_EQ(calls, 2);
}

Result<int> Half(int n) {
  if (n % 2 != 0) return InvalidArgumentError("odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  HK_ASSIGN_OR_RETURN(const int half, Half(n));
  HK_ASSIGN_OR_RETURN(int quarter, Half(half));  // Two uses in one scope must not clash.
  return quarter;
}

TEST(Macros, AssignOrReturnAssignsOrPropagates) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Quarter(3), StatusIs(StatusCode::kInvalidArgument));
}

Result<std::unique_ptr<int>> MakeBox(bool fail) {
  if (fail) return NotFoundError("no box");
  return std::make_unique<int>(9);
}

Status OpenBox(bool fail, int& out) {
  std::unique_ptr<int> box;
  HK_ASSIGN_OR_RETURN(box, MakeBox(fail));  // Assigning to an existing variable.
  out = *box;
  return OkStatus();
}

TEST(Macros, AssignOrReturnMovesMoveOnlyValues) {
  int out = 0;
  EXPECT_OK(OpenBox(false, out));
  EXPECT_EQ(out, 9);
  EXPECT_THAT(OpenBox(true, out), StatusIs(StatusCode::kNotFound));
}

TEST(Macros, ReturnIfErrorEvaluatesItsArgumentOnce) {
  int calls = 0;
  auto run = [&]() -> Status {
    HK_RETURN_IF_ERROR(FailIf(false, calls));
    return OkStatus();
  };
  EXPECT_OK(run());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace hokan
