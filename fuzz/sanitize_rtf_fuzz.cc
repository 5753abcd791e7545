// libFuzzer target for the text-level disarmers: the RTF tokenizer (src/sanitize/rtf.cc) and the
// text checks with CSV formula neutralising (src/sanitize/text.cc). Nothing may crash, hang or
// leak, and both must be idempotent: their output, disarmed again, comes back unchanged with
// nothing left to remove — the output is something hokan's own reader finds clean.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"

namespace {

using hokan::Bytes;
using hokan::ByteView;
using hokan::Result;
using hokan::SanitizeOptions;
using hokan::sanitize_internal::Context;

SanitizeOptions SmallLimits() {
  SanitizeOptions options;
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 8 << 20;
  options.limits.max_image_pixels = 1'000'000;
  return options;
}

void CheckRtf(ByteView input, const SanitizeOptions& options) {
  Context ctx(options);
  Result<Bytes> out = hokan::sanitize_internal::DisarmRtf(input, ctx);
  if (!out.has_value()) return;
  if (ctx.findings().empty() && !std::equal(out->begin(), out->end(), input.begin(), input.end())) {
    std::abort();  // Nothing found, yet the bytes changed.
  }
  Context again(options);
  Result<Bytes> twice = hokan::sanitize_internal::DisarmRtf(*out, again);
  if (!twice.has_value() || *twice != *out || !again.findings().empty()) std::abort();
}

void CheckCsv(ByteView input, const SanitizeOptions& options) {
  const hokan::DetectedType csv = hokan::sanitize_internal::MakeType("csv");
  Context ctx(options);
  Result<Bytes> out = hokan::sanitize_internal::DisarmText(input, csv, ctx);
  if (!out.has_value()) return;
  Context again(options);
  Result<Bytes> twice = hokan::sanitize_internal::DisarmText(*out, csv, again);
  if (!twice.has_value() || *twice != *out) std::abort();
  for (const hokan::SanitizeFinding& finding : again.findings()) {
    if (finding.kind == "formula-injection") std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const SanitizeOptions options = SmallLimits();
  const ByteView input(data, size);
  CheckRtf(input, options);
  CheckCsv(input, options);
  return 0;
}
