// std::mutex with Clang thread-safety annotations (STYLE.md rule 15).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define HK_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define HK_THREAD_ANNOTATION_(x)
#endif

#define HK_CAPABILITY(x) HK_THREAD_ANNOTATION_(capability(x))
#define HK_SCOPED_CAPABILITY HK_THREAD_ANNOTATION_(scoped_lockable)
#define HK_GUARDED_BY(x) HK_THREAD_ANNOTATION_(guarded_by(x))
#define HK_REQUIRES(...) HK_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define HK_EXCLUDES(...) HK_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define HK_ACQUIRE(...) HK_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define HK_RELEASE(...) HK_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))

namespace hokan {

class HK_CAPABILITY("mutex") Mutex {
 public:
  void Lock() HK_ACQUIRE() { mu_.lock(); }
  void Unlock() HK_RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class HK_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) HK_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() HK_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable used with Mutex. Wait() must be called with `mu` held.
class CondVar {
 public:
  void Wait(Mutex& mu) HK_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // Still held, as the annotation promises.
  }
  // False when `deadline` passed first (spurious wake-ups also return true: re-check).
  bool WaitUntil(Mutex& mu, std::chrono::steady_clock::time_point deadline) HK_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.native(), std::adopt_lock);
    const bool woke = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return woke;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace hokan
