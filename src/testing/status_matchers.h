// gMock matchers for Status and Result<T> alike.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/status.h"

namespace hokan::testing {

MATCHER(IsOk, "is OK") {
  const ::hokan::Status status = ::hokan::StatusOf(arg);
  *result_listener << status;
  return status.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(::hokan::StatusCodeName(code))) {
  const ::hokan::Status status = ::hokan::StatusOf(arg);
  *result_listener << status;
  return status.code() == code;
}

}  // namespace hokan::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::hokan::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::hokan::testing::IsOk())
