#include "signature/tsa.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "base/mutex.h"
#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::OpensslErrors;
using signature_internal::ParseCertificate;
using signature_internal::ParseCertificates;
using signature_internal::ParsePrivateKey;
using signature_internal::Ptr;

// Requests are about a hundred bytes; larger ones are refused unread.
constexpr std::size_t kMaxRequest = std::size_t{64} * 1024;

// genTime comes from the caller's `now`, never from the system clock (TS_RESP_CTX's default).
int TimeFromCaller(TS_RESP_CTX* /*ctx*/, void* data, long* sec, long* usec) {
  const auto* now = static_cast<const TimePoint*>(data);
  const auto us = std::chrono::floor<std::chrono::microseconds>(now->time_since_epoch()).count();
  const std::int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  *sec = static_cast<long>(s);
  *usec = static_cast<long>(us - s * 1000000);
  return 1;
}

// A random positive 128-bit serial (TS_RESP_CTX's default serial is always 1).
ASN1_INTEGER* RandomSerial(TS_RESP_CTX* ctx, void* /*data*/) {
  std::uint8_t bytes[16];
  ASN1_INTEGER* serial = nullptr;
  if (RandomBytes(bytes).ok()) {
    bytes[0] = static_cast<std::uint8_t>((bytes[0] & 0x7f) | 0x01);
    Ptr<BIGNUM> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
    if (bn) serial = BN_to_ASN1_INTEGER(bn.get(), nullptr);
  }
  if (serial == nullptr) {
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
  }
  return serial;
}

}  // namespace

struct DevTsa::Impl {
  std::string cert_pem;
  Mutex mu;
  // Not thread-safe: TS_RESP_CTX holds the request being answered.
  Ptr<TS_RESP_CTX> ctx HK_GUARDED_BY(mu);
  // The genTime of the response being made; TimeFromCaller reads it.
  TimePoint now HK_GUARDED_BY(mu);
};

DevTsa::DevTsa(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DevTsa::~DevTsa() = default;

const std::string& DevTsa::certificate_pem() const { return impl_->cert_pem; }

Result<std::unique_ptr<DevTsa>> DevTsa::Create(const CertificateAndKey& tsa,
                                               const std::string& chain_pem) {
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, ParseCertificate(AsBytes(tsa.cert_pem)));
  HK_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, ParsePrivateKey(AsBytes(tsa.key_pem)));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the TSA key does not belong to the TSA certificate");
  }
  if (X509_check_purpose(cert.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
    ERR_clear_error();
    return InvalidArgumentError(
        "the TSA certificate needs a critical extendedKeyUsage of id-kp-timeStamping alone");
  }
  Ptr<STACK_OF(X509)> chain(sk_X509_new_null());
  if (!chain) return InternalError("out of memory");
  if (chain_pem.find_first_not_of(" \t\r\n") != std::string::npos) {
    HK_ASSIGN_OR_RETURN(auto certs, ParseCertificates(AsBytes(chain_pem)));
    for (auto& c : certs) {
      if (sk_X509_push(chain.get(), c.get()) > 0) (void)c.release();
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->cert_pem = signature_internal::CertificatePem(cert.get());
  Ptr<ASN1_OBJECT> policy(OBJ_txt2obj(kDevTsaPolicyOid, 1));
  MutexLock lock(impl->mu);
  impl->ctx.reset(TS_RESP_CTX_new());
  TS_RESP_CTX* ctx = impl->ctx.get();
  // RFC 3161 with RFC 5816's ESSCertIDv2; SHA-2 imprints only; 1 s accuracy stated, genTime
  // to the millisecond; the chain goes into every token whose request sets certReq.
  if (ctx == nullptr || !policy || TS_RESP_CTX_set_signer_cert(ctx, cert.get()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx, key.get()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_certs(ctx, chain.get()) != 1 ||
      TS_RESP_CTX_set_def_policy(ctx, policy.get()) != 1 ||
      TS_RESP_CTX_add_md(ctx, EVP_sha256()) != 1 || TS_RESP_CTX_add_md(ctx, EVP_sha384()) != 1 ||
      TS_RESP_CTX_add_md(ctx, EVP_sha512()) != 1 || TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0) != 1 ||
      TS_RESP_CTX_set_clock_precision_digits(ctx, 3) != 1) {
    return InternalError("cannot set up the development TSA: " + OpensslErrors());
  }
  TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME);
  TS_RESP_CTX_set_serial_cb(ctx, RandomSerial, nullptr);
  TS_RESP_CTX_set_time_cb(ctx, TimeFromCaller, &impl->now);
  return std::unique_ptr<DevTsa>(new DevTsa(std::move(impl)));
}

Result<std::unique_ptr<DevTsa>> DevTsa::CreateSelfSigned(TimePoint now) {
  DevCertificateSpec spec;
  spec.common_name = "hokan development TSA - NOT ACCREDITED";
  spec.organization = "hokan";
  spec.key_type = DevKeyType::kEcP256;
  spec.not_before = now - std::chrono::hours(1);
  spec.not_after = now + std::chrono::hours(24 * 365 * 5);
  spec.digital_signature = true;
  spec.time_stamping = true;
  HK_ASSIGN_OR_RETURN(CertificateAndKey tsa, MakeDevCertificate(spec));
  return Create(tsa, "");
}

Result<Bytes> DevTsa::Respond(ByteView request_der, TimePoint now) {
  // An oversized request is answered like any malformed one: TS_RESP_create_response turns
  // an unreadable request into a rejection with badDataFormat.
  static const char kEmpty[] = "";
  Ptr<BIO> request(request_der.size() <= kMaxRequest && !request_der.empty()
                       ? BIO_new_mem_buf(request_der.data(), static_cast<int>(request_der.size()))
                       : BIO_new_mem_buf(kEmpty, 0));
  if (!request) return InternalError("out of memory");
  MutexLock lock(impl_->mu);
  impl_->now = now;
  Ptr<TS_RESP> response(TS_RESP_create_response(impl_->ctx.get(), request.get()));
  if (!response) return InternalError("the development TSA failed: " + OpensslErrors());
  // Refusals of the request name a failInfo; a rejection without one is our own failure
  // (signing, encoding), which OpenSSL also reports as a rejection.
  TS_STATUS_INFO* status = TS_RESP_get_status_info(response.get());
  if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)) == TS_STATUS_REJECTION &&
      TS_STATUS_INFO_get0_failure_info(status) == nullptr) {
    return InternalError("the development TSA could not sign: " + OpensslErrors());
  }
  ERR_clear_error();
  const int n = i2d_TS_RESP(response.get(), nullptr);
  if (n <= 0) return InternalError("cannot encode a time-stamp response: " + OpensslErrors());
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_TS_RESP(response.get(), &p);
  return out;
}

InProcessTsaTransport::InProcessTsaTransport(DevTsa& tsa, std::function<TimePoint()> clock,
                                             std::vector<std::string> down)
    : tsa_(tsa), clock_(std::move(clock)), down_(std::move(down)) {}

Result<Bytes> InProcessTsaTransport::Post(const std::string& url, ByteView request) {
  if (std::find(down_.begin(), down_.end(), url) != down_.end()) {
    return UnavailableError("connection refused");
  }
  return tsa_.Respond(request, clock_());
}

}  // namespace hokan
