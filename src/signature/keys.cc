#include "signature/keys.h"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::Ptr;

struct P12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};

std::string KeyPem(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return signature_internal::BioText(bio.get());
}

}  // namespace

Result<SigningIdentity> ReadPkcs12(ByteView p12_der, std::string_view passphrase) {
  const unsigned char* p = p12_der.data();
  std::unique_ptr<PKCS12, P12Free> p12(d2i_PKCS12(nullptr, &p, static_cast<long>(p12_der.size())));
  if (!p12) {
    ERR_clear_error();
    return InvalidArgumentError("the signing key file is not PKCS#12");
  }
  const std::string pass(passphrase);
  if (PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) != 1) {
    ERR_clear_error();
    return PermissionDeniedError("the passphrase of the signing key is wrong");
  }
  EVP_PKEY* key_raw = nullptr;
  X509* cert_raw = nullptr;
  STACK_OF(X509)* ca_raw = nullptr;
  const int ok = PKCS12_parse(p12.get(), pass.c_str(), &key_raw, &cert_raw, &ca_raw);
  Ptr<EVP_PKEY> key(key_raw);
  Ptr<X509> cert(cert_raw);
  Ptr<STACK_OF(X509)> ca(ca_raw);
  ERR_clear_error();
  if (ok != 1 || !key || !cert) {
    return InvalidArgumentError("the signing key file holds no key with its certificate");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the key in the signing key file does not match its certificate");
  }
  SigningIdentity out;
  out.cert_pem = signature_internal::CertificatePem(cert.get());
  for (int i = 0; ca && i < sk_X509_num(ca.get()); ++i) {
    out.chain_pem.push_back(signature_internal::CertificatePem(sk_X509_value(ca.get(), i)));
  }
  std::string pem = KeyPem(key.get());
  out.key_pem = SecretBytes(AsBytes(pem));
  SecureZero(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(pem.data()), pem.size()));
  return out;
}

Result<Bytes> MakePkcs12(const std::string& cert_pem, std::string_view key_pem,
                         const std::vector<std::string>& chain_pem, std::string_view passphrase,
                         const std::string& friendly_name) {
  if (passphrase.size() < 8) {
    return InvalidArgumentError("a signing key passphrase needs at least 8 characters");
  }
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, signature_internal::ParseCertificate(ToBytes(cert_pem)));
  HK_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, signature_internal::ParsePrivateKey(AsBytes(key_pem)));
  Ptr<STACK_OF(X509)> chain(sk_X509_new_null());
  for (const std::string& pem : chain_pem) {
    HK_ASSIGN_OR_RETURN(auto certs, signature_internal::ParseCertificates(ToBytes(pem)));
    HK_RETURN_IF_ERROR(signature_internal::PushCertificates(chain.get(), certs));
  }
  const std::string pass(passphrase);
  std::unique_ptr<PKCS12, P12Free> p12(PKCS12_create_ex(
      pass.c_str(), friendly_name.c_str(), key.get(), cert.get(), chain.get(), NID_aes_256_cbc,
      NID_aes_256_cbc, PKCS12_DEFAULT_ITER, -1, 0, nullptr, nullptr));
  if (!p12) {
    return InternalError("cannot make the PKCS#12 file: " + signature_internal::OpensslErrors());
  }
  PKCS12_set_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size()), nullptr, 0,
                 PKCS12_DEFAULT_ITER, EVP_sha256());
  const int n = i2d_PKCS12(p12.get(), nullptr);
  if (n <= 0) return InternalError("cannot encode the PKCS#12 file");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* q = out.data();
  i2d_PKCS12(p12.get(), &q);
  return out;
}

}  // namespace hokan
