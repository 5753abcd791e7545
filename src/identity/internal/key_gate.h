// Serialises work on one key (a login id) inside this process, so two attempts for the same
// account never overlap: parallel password guesses cannot slip past the failure count that
// the first of them is about to record.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <utility>

#include "base/mutex.h"

namespace hokan::identity_internal {

// Thread-safe.
class KeyGate {
 public:
  // Holds `key` from construction to destruction; waits while another Hold has it.
  class Hold {
   public:
    Hold(KeyGate& gate, std::string key) : gate_(gate), key_(std::move(key)) { gate_.Enter(key_); }
    ~Hold() { gate_.Leave(key_); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    KeyGate& gate_;
    const std::string key_;
  };

 private:
  void Enter(const std::string& key) HK_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (busy_.contains(key)) cv_.Wait(mu_);
    busy_.insert(key);
  }
  void Leave(const std::string& key) HK_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    busy_.erase(key);
    cv_.SignalAll();
  }

  Mutex mu_;
  CondVar cv_;
  std::set<std::string, std::less<>> busy_ HK_GUARDED_BY(mu_);
};

}  // namespace hokan::identity_internal
