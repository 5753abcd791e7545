#include "signature/internal/ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "base/encoding.h"
#include "crypto/crypto.h"

namespace hokan::signature_internal {
namespace {

bool LooksLikePem(ByteView in) { return AsChars(in).find("-----BEGIN ") != std::string_view::npos; }

Ptr<BIO> MemBio(ByteView in) {
  return Ptr<BIO>(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
}

}  // namespace

std::string OpensslErrors() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Result<std::vector<Ptr<X509>>> ParseCertificates(ByteView in) {
  std::vector<Ptr<X509>> out;
  if (in.size() > (1U << 24)) return InvalidArgumentError("certificate input is too large");
  if (LooksLikePem(in)) {
    Ptr<BIO> bio = MemBio(in);
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
    ERR_clear_error();  // The end of the input reads as an error.
  } else {
    const unsigned char* p = in.data();
    X509* c = d2i_X509(nullptr, &p, static_cast<long>(in.size()));
    if (c != nullptr) out.emplace_back(c);
    ERR_clear_error();
  }
  if (out.empty()) return InvalidArgumentError("not an X.509 certificate (PEM or DER)");
  return out;
}

Result<Ptr<X509>> ParseCertificate(ByteView in) {
  HK_ASSIGN_OR_RETURN(auto all, ParseCertificates(in));
  return std::move(all.front());
}

Result<std::vector<Ptr<X509_CRL>>> ParseCrls(ByteView in) {
  std::vector<Ptr<X509_CRL>> out;
  if (in.size() > (1U << 26)) return InvalidArgumentError("CRL input is too large");
  if (LooksLikePem(in)) {
    Ptr<BIO> bio = MemBio(in);
    while (X509_CRL* c = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
      out.emplace_back(c);
    }
    ERR_clear_error();
  } else {
    const unsigned char* p = in.data();
    X509_CRL* c = d2i_X509_CRL(nullptr, &p, static_cast<long>(in.size()));
    if (c != nullptr) out.emplace_back(c);
    ERR_clear_error();
  }
  if (out.empty()) return InvalidArgumentError("not a CRL (PEM or DER)");
  return out;
}

Result<Ptr<EVP_PKEY>> ParsePrivateKey(ByteView in) {
  Ptr<BIO> bio = MemBio(in);
  Ptr<EVP_PKEY> key;
  if (LooksLikePem(in)) {
    // No passphrase callback: an encrypted key fails here instead of prompting.
    key.reset(PEM_read_bio_PrivateKey(
        bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  } else {
    key.reset(d2i_PrivateKey_bio(bio.get(), nullptr));
  }
  ERR_clear_error();
  if (!key) return InvalidArgumentError("not an unencrypted private key (PEM or DER)");
  return key;
}

Status PushCertificates(STACK_OF(X509) * stack, std::vector<Ptr<X509>>& certs) {
  for (auto& c : certs) {
    if (sk_X509_push(stack, c.get()) <= 0) return InternalError("out of memory");
    (void)c.release();  // The stack owns it now.
  }
  certs.clear();
  return OkStatus();
}

std::string CertificatePem(X509* cert) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return BioText(bio.get());
}

Bytes CertificateDer(X509* cert) {
  const int n = i2d_X509(cert, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(cert, &p);
  return out;
}

std::string CertificateSha256Hex(X509* cert) {
  const Bytes der = CertificateDer(cert);
  const Sha256Digest d = Sha256(der);
  return HexEncode(d);
}

std::string NameText(const X509_NAME* name) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return BioText(bio.get());
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  Ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<TimePoint> FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return InvalidArgumentError("a time field is malformed");
  }
  const time_t secs = timegm(&tm);
  // TimePoint counts nanoseconds in 64 bits (years 1678-2262), but a certificate or token may
  // say anything (9999-12-31 is common for "no expiry"): such times are clamped to about
  // 2255 / 1685, which keeps every comparison with a real date right, instead of overflowing.
  constexpr time_t kLimit = 9'000'000'000;
  return std::chrono::system_clock::from_time_t(std::clamp<time_t>(secs, -kLimit, kLimit));
}

Ptr<ASN1_TIME> ToAsn1Time(TimePoint t) {
  return Ptr<ASN1_TIME>(ASN1_TIME_set(nullptr, static_cast<time_t>(ToUnixSeconds(t))));
}

std::int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace hokan::signature_internal
