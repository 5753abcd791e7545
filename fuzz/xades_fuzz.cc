// XAdES verification fed hostile bytes: XML that is malformed, carries DTDs or entity bombs,
// deep nesting, odd encodings, references to files and the network, broken base64, broken
// certificates and tokens. None may crash, hang, read out of bounds or touch the network, and
// with no trust anchor configured nothing may ever verify.
#include <cstddef>
#include <cstdint>

#include "base/time.h"
#include "signature/xades.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const hokan::XadesVerifyOptions options = [] {
    hokan::XadesVerifyOptions o;
    o.now = hokan::TimePoint(std::chrono::seconds(1'800'000'000));
    o.max_document_bytes = 1 << 20;
    return o;
  }();
  hokan::Result<hokan::XadesVerification> v = hokan::VerifyXades({data, size}, options);
  if (v) {
    if (v->valid) __builtin_trap();
    if (hokan::XadesVerificationJson(*v).empty()) __builtin_trap();
  }
  return 0;
}
