#include "testing/manual_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace hokan::testing {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StandsStillUntilMoved) {
  ManualClock clock;
  const auto start = clock.Now();
  EXPECT_EQ(start.time_since_epoch(), ManualClock::kDefaultStart);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(90s);
  EXPECT_EQ(clock.Now(), start + 90s);
  clock.Advance(-30s);
  EXPECT_EQ(clock.Now(), start + 60s);
  const std::chrono::system_clock::time_point later(std::chrono::seconds(2'000'000'000));
  clock.Set(later);
  EXPECT_EQ(clock.Now(), later);
}

TEST(ManualClock, MovesSafelyWhileOtherThreadsRead) {
  ManualClock clock(std::chrono::system_clock::time_point{});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.Advance(1ms);
    });
    threads.emplace_back([&clock] {
      auto last = clock.Now();
      for (int i = 0; i < 1000; ++i) {
        const auto now = clock.Now();
        EXPECT_GE(now, last);
        last = now;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(clock.Now().time_since_epoch(), 4000ms);
}

}  // namespace
}  // namespace hokan::testing
