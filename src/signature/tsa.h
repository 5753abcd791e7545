// hokan's built-in DEVELOPMENT time-stamping authority (RFC 3161). It is NOT accredited under
// 「時刻認証業務の認定に関する規程」 and says so: its certificate's subject carries
// "NOT ACCREDITED" and its tokens carry the development policy OID, which the verifier
// reports as `development_tsa`. For tests, the demo and trying hokan out.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/x509.h"
#include "signature/timestamp.h"

namespace hokan {

// The development TSA's policy OID (a UUID OID, ITU-T X.667; no registration needed).
inline constexpr char kDevTsaPolicyOid[] = "2.25.150742939209519394431383409128305170245";

class DevTsa {
 public:
  // `tsa` must have a critical extendedKeyUsage timeStamping; `chain` (PEM, may be empty)
  // is included in tokens after the TSA certificate.
  static Result<std::unique_ptr<DevTsa>> Create(const CertificateAndKey& tsa,
                                                const std::string& chain_pem);
  // A new self-signed development TSA certificate (P-256) and the TSA using it.
  static Result<std::unique_ptr<DevTsa>> CreateSelfSigned(TimePoint now);
  ~DevTsa();

  // A TimeStampResp (DER) for a TimeStampReq (DER), genTime `now` (ms precision), accuracy
  // 1 s, SHA-256 signer digest, ESSCertIDv2, the TSA certificate and chain when certReq is
  // set. Malformed requests get a rejection response (badDataFormat), and requests for
  // another policy one with unacceptedPolicy, not an error; kInternal only if signing fails.
  // Thread-safe: concurrent calls are serialised.
  Result<Bytes> Respond(ByteView request_der, TimePoint now);
  const std::string& certificate_pem() const;

 private:
  struct Impl;
  explicit DevTsa(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A transport that hands requests to a DevTsa in-process (tests, the demo); `clock` gives
// each response's genTime. Fails with kUnavailable for every URL listed in `down` (to test
// fail-over). `tsa` must outlive the transport.
class InProcessTsaTransport : public TimestampTransport {
 public:
  InProcessTsaTransport(DevTsa& tsa, std::function<TimePoint()> clock,
                        std::vector<std::string> down = {});
  Result<Bytes> Post(const std::string& url, ByteView request) override;

 private:
  DevTsa& tsa_;
  std::function<TimePoint()> clock_;
  std::vector<std::string> down_;
};

}  // namespace hokan
