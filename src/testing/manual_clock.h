// A Clock that tests move by hand: timeouts, expiry and lockouts without sleeping.
#pragma once

#include <chrono>

#include "base/env.h"
#include "base/mutex.h"

namespace hokan::testing {

// Thread-safe: the code under test may read it while the test moves it.
class ManualClock final : public Clock {
 public:
  // 2027-01-15T08:00:00Z: a fixed, ordinary instant, so test output is reproducible.
  static constexpr std::chrono::seconds kDefaultStart{1'800'000'000};

  ManualClock() : ManualClock(std::chrono::system_clock::time_point(kDefaultStart)) {}
  explicit ManualClock(std::chrono::system_clock::time_point start) : now_(start) {}

  std::chrono::system_clock::time_point Now() override HK_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return now_;
  }
  void Set(std::chrono::system_clock::time_point t) HK_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    now_ = t;
  }
  // Moves the clock forward (or back, for a negative `d`).
  void Advance(std::chrono::system_clock::duration d) HK_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    now_ += d;
  }

 private:
  Mutex mu_;
  std::chrono::system_clock::time_point now_ HK_GUARDED_BY(mu_);
};

}  // namespace hokan::testing
