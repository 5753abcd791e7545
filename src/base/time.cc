#include "base/time.h"

#include <cstdio>
#include <ctime>

namespace hokan {
namespace {

bool ParseDigits(std::string_view text, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339(TimePoint t) {
  using namespace std::chrono;
  // floor, not duration_cast: before 1970 the latter rounds towards zero, i.e. up.
  const auto ms_total = floor<milliseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ms_total / 1000;
  std::int64_t ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const sys_seconds t_secs{seconds{secs}};
  const sys_days date = floor<days>(t_secs);
  const year_month_day ymd{date};
  const std::int64_t day_secs = (t_secs - date).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long long>(day_secs / 3600),
                static_cast<long long>(day_secs / 60 % 60), static_cast<long long>(day_secs % 60),
                static_cast<long long>(ms));
  return buf;
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  int y, mo, d, h, mi, s;
  if (!ParseDigits(text, 0, 4, y) || text.size() < 20 || text[4] != '-' ||
      !ParseDigits(text, 5, 2, mo) || text[7] != '-' || !ParseDigits(text, 8, 2, d) ||
      (text[10] != 'T' && text[10] != 't') || !ParseDigits(text, 11, 2, h) || text[13] != ':' ||
      !ParseDigits(text, 14, 2, mi) || text[16] != ':' || !ParseDigits(text, 17, 2, s)) {
    return InvalidArgumentError("time is not RFC 3339 (YYYY-MM-DDTHH:MM:SSZ)");
  }
  std::size_t pos = 19;
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return InvalidArgumentError("time has an empty fraction");
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) {
    // UTC.
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             text[pos + 3] == ':') {
    int oh, om;
    if (!ParseDigits(text, pos + 1, 2, oh) || !ParseDigits(text, pos + 4, 2, om) || oh > 23 ||
        om > 59) {
      return InvalidArgumentError("time has a malformed offset");
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
  } else {
    return InvalidArgumentError("time needs 'Z' or an offset such as +09:00");
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) {
    return InvalidArgumentError("time is out of range");
  }
  const sys_time<milliseconds> tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} +
                                    milliseconds{ms} - minutes{offset_minutes};
  // TimePoint may count nanoseconds in 64 bits (years 1678 to 2262); converting a time
  // outside that range would overflow.
  if (tp < time_point_cast<milliseconds>(TimePoint::min()) ||
      tp > time_point_cast<milliseconds>(TimePoint::max())) {
    return InvalidArgumentError("time is outside the supported range");
  }
  return time_point_cast<system_clock::duration>(tp);
}

}  // namespace hokan
