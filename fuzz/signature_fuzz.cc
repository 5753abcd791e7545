// libFuzzer target for the signature module's other parsers: CMS/CAdES signatures, the HPKI
// subjectDirectoryAttributes decoder, certificates' HPKI profiles, RFC 4998 evidence records,
// validation data and PKCS#12 key files. The first byte picks the parser. Nothing may crash,
// hang or leak, and nothing may verify without a trust anchor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "signature/cades.h"
#include "signature/evidence.h"
#include "signature/hpki.h"
#include "signature/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hokan;  // NOLINT(google-build-using-namespace): a fuzz harness.
  if (size == 0) return 0;
  const ByteView input(data + 1, size - 1);
  const TimePoint now = std::chrono::system_clock::now();
  switch (data[0] % 6) {
    case 0: {
      SignatureVerifyOptions o;
      o.now = now;
      o.timestamp.now = now;
      o.content_sha256 = std::string(64, 'a');
      auto r = VerifyCades(input, std::nullopt, o);
      if (r.has_value() && r->valid) std::abort();  // No trust anchor: never valid.
      (void)VerifyCades(input, ByteView(data, size / 2), o);
      break;
    }
    case 1:
      (void)DecodeHcRoles(input);
      break;
    case 2:
      (void)ReadHpkiProfile(input);
      break;
    case 3: {
      TimestampVerifyOptions o;
      o.now = now;
      const std::vector<Sha256Digest> group = {Sha256(AsBytes("a")), Sha256(AsBytes("b"))};
      auto r = VerifyEvidenceRecord(input, group, o);
      if (r.has_value() && r->valid) std::abort();
      (void)RenewalDigest(input);
      break;
    }
    case 4:
      (void)ReadValidationData(input);
      break;
    case 5:
      (void)ReadPkcs12(input, "passphrase");
      break;
    default:
      break;
  }
  return 0;
}
