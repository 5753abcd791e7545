// RFC 3161 responses and tokens from hostile TSAs or stored evidence: TokenFromResponse,
// VerifyTimestamp and VerifyTimestampDigest must never crash, hang or read out of bounds. The
// first byte picks the input: even, the remaining bytes as they are; odd, a genuine response
// from a self-signed development TSA with the remaining bytes applied as (offset, xor) patches,
// which reaches the checks past the DER parsers. An unpatched genuine response must verify.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "crypto/crypto.h"
#include "signature/timestamp.h"
#include "signature/tsa.h"

namespace {

struct Fixture {
  hokan::Bytes data;
  hokan::Bytes digest;
  hokan::Bytes response;
  hokan::TimestampVerifyOptions options;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto f = std::make_unique<Fixture>();
    const hokan::TimePoint at{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z
    auto tsa = hokan::DevTsa::CreateSelfSigned(at);
    if (!tsa) __builtin_trap();
    f->data = hokan::ToBytes("time-stamped content");
    const hokan::Sha256Digest d = hokan::Sha256(f->data);
    f->digest.assign(d.begin(), d.end());
    auto request = hokan::MakeTimestampRequest(f->digest);
    if (!request) __builtin_trap();
    auto response = (*tsa)->Respond(request->der, at);
    if (!response) __builtin_trap();
    f->response = std::move(*response);
    f->options.trust_anchors = {hokan::ToBytes((*tsa)->certificate_pem())};
    f->options.expected_nonce = request->nonce;
    f->options.now = at;
    return f.release();
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Fixture& f = GetFixture();
  hokan::Bytes input;
  if (data[0] % 2 == 0) {
    input.assign(data + 1, data + size);
  } else {
    input = f.response;
    for (std::size_t i = 1; i + 2 < size; i += 3) {
      const std::size_t offset = ((std::size_t{data[i]} << 8) | data[i + 1]) % input.size();
      input[offset] ^= data[i + 2];
    }
  }

  (void)hokan::TokenFromResponse(input);
  hokan::Result<hokan::TimestampVerification> v = hokan::VerifyTimestamp(input, f.data, f.options);
  if (v) (void)hokan::TimestampVerificationJson(*v);
  if (input == f.response && !(v && v->valid)) __builtin_trap();
  hokan::Result<hokan::TimestampVerification> by_digest =
      hokan::VerifyTimestampDigest(input, f.digest, f.options);
  // Both entry points see the same token, so they must agree on it.
  if (v.has_value() != by_digest.has_value()) __builtin_trap();
  if (v && v->valid != by_digest->valid) __builtin_trap();
  return 0;
}
