// OpenSSL plumbing shared by the signature module's sources (never included outside it):
// owning pointers, PEM/DER parsing of certificates, CRLs and keys, and error text.
#pragma once

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "base/time.h"

namespace hokan::signature_internal {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(CMS_ContentInfo* p) const { CMS_ContentInfo_free(p); }
  void operator()(TS_REQ* p) const { TS_REQ_free(p); }
  void operator()(TS_RESP* p) const { TS_RESP_free(p); }
  void operator()(TS_TST_INFO* p) const { TS_TST_INFO_free(p); }
  void operator()(TS_VERIFY_CTX* p) const { TS_VERIFY_CTX_free(p); }
  void operator()(TS_RESP_CTX* p) const { TS_RESP_CTX_free(p); }
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
  // ASN1_INTEGER, ASN1_TIME, ASN1_OCTET_STRING ... are all ASN1_STRING.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(STACK_OF(X509_CRL) * p) const { sk_X509_CRL_pop_free(p, X509_CRL_free); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

// The queued OpenSSL errors as one short line ("" if none), and clears the queue. Safe for
// messages: OpenSSL's error strings carry no key material or content.
std::string OpensslErrors();

// A memory BIO's contents.
std::string BioText(BIO* bio);

// Certificates, CRLs and private keys in PEM or DER (detected). A PEM input may hold several
// certificates or CRLs: ParseCertificates/ParseCrls return all of them.
Result<Ptr<X509>> ParseCertificate(ByteView pem_or_der);
Result<std::vector<Ptr<X509>>> ParseCertificates(ByteView pem_or_der);
Result<std::vector<Ptr<X509_CRL>>> ParseCrls(ByteView pem_or_der);
Result<Ptr<EVP_PKEY>> ParsePrivateKey(ByteView pem_or_der);

// Moves `certs` onto `stack` (which then owns them). kInternal if the stack cannot grow.
Status PushCertificates(STACK_OF(X509) * stack, std::vector<Ptr<X509>>& certs);

std::string CertificatePem(X509* cert);
Bytes CertificateDer(X509* cert);
// Lower-case hex SHA-256 of the DER certificate.
std::string CertificateSha256Hex(X509* cert);
// "CN=..., O=..., C=JP" (RFC 2253, UTF-8).
std::string NameText(const X509_NAME* name);
// Lower-case hex of a serial number.
std::string SerialHex(const ASN1_INTEGER* serial);

// ASN1_TIME <-> TimePoint (second precision; GeneralizedTime fractions are kept as ms).
Result<TimePoint> FromAsn1Time(const ASN1_TIME* t);
Ptr<ASN1_TIME> ToAsn1Time(TimePoint t);
std::int64_t ToUnixSeconds(TimePoint t);

}  // namespace hokan::signature_internal
