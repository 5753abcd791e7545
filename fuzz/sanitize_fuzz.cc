// libFuzzer target for the whole sanitiser: arbitrary bytes through Sanitize(), type detection
// included, with small limits. Nothing may crash, hang or leak; a clean verdict must hand back
// the input unchanged, and a refused file must have no output.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sanitize/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hokan;  // NOLINT(google-build-using-namespace): a fuzz harness.
  if (size == 0) return 0;
  // The first byte picks a declared name, so the name-based rules are exercised too.
  static const char* const kNames[] = {"", "a.pdf", "a.docm", "a.csv", "a.bat", "a.zip", "a.txt"};
  SanitizeOptions options;
  options.declared_name = kNames[data[0] % 7];
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 8 << 20;
  options.limits.max_archive_entries = 64;
  options.limits.max_depth = 2;
  options.limits.max_image_pixels = 1'000'000;
  const ByteView input(data + 1, size - 1);
  Result<SanitizeOutcome> outcome = Sanitize(input, options);
  if (!outcome.has_value()) return 0;
  const SanitizeReport& report = outcome->report;
  if (report.verdict == SanitizeVerdict::kClean &&
      Bytes(input.begin(), input.end()) != outcome->output) {
    std::abort();
  }
  if ((report.verdict == SanitizeVerdict::kBlocked || report.verdict == SanitizeVerdict::kHeld) &&
      !outcome->output.empty()) {
    std::abort();
  }
  (void)SanitizeReportJson(report);
  return 0;
}
