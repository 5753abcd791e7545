#include "base/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace hokan {
namespace {

TEST(ParallelForTest, EveryIndexExactlyOnce) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{1000}}) {
    std::vector<std::atomic<int>> calls(n);
    ParallelFor(n, [&](std::size_t i) { calls[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(calls[i].load(), 1) << i << " of " << n;
  }
}

TEST(ParallelForTest, UsesAtMostTheThreadsAskedFor) {
  std::mutex mu;
  std::set<std::thread::id> seen;
  ParallelFor(
      200,
      [&](std::size_t) {
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(std::this_thread::get_id());
      },
      1);
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(*seen.begin(), std::this_thread::get_id());
}

}  // namespace
}  // namespace hokan
