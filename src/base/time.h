// Time as text: RFC 3339 in UTC with milliseconds ("2026-11-24T11:00:00.123Z").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hokan {

using TimePoint = std::chrono::system_clock::time_point;

std::string FormatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z" and numeric offsets ("+09:00").
Result<TimePoint> ParseRfc3339(std::string_view text);

}  // namespace hokan
