// libFuzzer target for the PDF disarmer alone (src/sanitize/pdf.cc): arbitrary bytes through
// DisarmPdf() with small limits, so qpdf's parser, the walks over the object graph (cycles,
// deep nesting, object streams) and the rewrite see hostile structure directly, without type
// detection in front. Nothing may crash, hang or leak; the result itself is not checked here
// (pdf_test.cc does that on fixtures).
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "sanitize/internal/disarm.h"
#include "sanitize/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hokan;  // NOLINT(google-build-using-namespace): a fuzz harness.
  SanitizeOptions options;
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 8 << 20;
  options.limits.max_archive_entries = 64;
  options.limits.max_depth = 2;
  options.limits.max_image_pixels = 1'000'000;
  if (size > options.limits.max_input_bytes) return 0;  // Sanitize() refuses these before us.
  sanitize_internal::Context ctx(options);
  // qpdf's warnings are suppressed inside DisarmPdf (QPDF::setSuppressWarnings), so a run stays
  // quiet however damaged the input.
  (void)sanitize_internal::DisarmPdf(ByteView(data, size), ctx);
  return 0;
}
