// What verification found, streamed as it is found so memory stays flat however large the
// store is. Used by the record store and the audit log alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hokan {

struct Problem {
  // The damaged object, e.g. "version 3f2a…/2", "blob 3f/3f2a…", "audit entry 17".
  std::string object;
  // What is wrong with it. Never content or patient data.
  std::string message;
  // True: stored data is damaged or was tampered with (verification fails).
  // False: a warning that does not put acknowledged data at risk (an orphan blob left by an
  // interrupted write, entries not yet covered by a checkpoint).
  bool damage = true;
};

class VerifySink {
 public:
  virtual ~VerifySink() = default;
  virtual void Report(const Problem& problem) = 0;
  // `phase` names the step ("versions", "audit entries"); `total` may be 0 when unknown.
  virtual void Progress(std::string_view phase, std::uint64_t done, std::uint64_t total) = 0;
};

}  // namespace hokan
