// Broken invariants (bugs) abort, in every build type: a medical store must not carry on
// after a bug. Never used for bad input, which is a Status.
#pragma once

namespace hokan {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line);
}  // namespace hokan

#define HK_CHECK(condition)                                                 \
  do {                                                                      \
    if (!(condition)) ::hokan::CheckFailed(#condition, __FILE__, __LINE__); \
  } while (false)
