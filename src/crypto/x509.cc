#include "crypto/x509.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/encoding.h"

namespace hokan {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError("cannot add certificate extension " + std::string(OBJ_nid2sn(nid)));
  }
  return OkStatus();
}

Result<Ptr<X509>> ParsePem(std::string_view pem) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("out of memory");
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return InvalidArgumentError("not a PEM certificate");
  return cert;
}

}  // namespace

Result<CertificateAndKey> MakeCertificate(const CertificateRequest& request,
                                          const CertificateAndKey* issuer) {
  if (request.common_name.empty() || request.valid_days <= 0) {
    return InvalidArgumentError("a certificate needs a common name and a validity period");
  }
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return InternalError("cannot generate a P-256 key");
  Ptr<X509> cert(X509_new());
  if (!cert) return InternalError("out of memory");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return InternalError("no randomness for a serial");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * request.valid_days);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("hokan"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()),
                             -1, -1, 0);

  Ptr<X509> issuer_cert;
  Ptr<EVP_PKEY> issuer_key;
  if (issuer != nullptr) {
    HK_ASSIGN_OR_RETURN(issuer_cert, ParsePem(issuer->cert_pem));
    Ptr<BIO> bio(BIO_new_mem_buf(issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size())));
    issuer_key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!issuer_key) return InvalidArgumentError("the issuer's key is not a PEM private key");
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509* signer_cert = issuer_cert ? issuer_cert.get() : cert.get();

  if (request.is_ca) {
    HK_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    HK_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    HK_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE"));
    HK_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer_cert, NID_key_usage, "critical,digitalSignature"));
    HK_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_ext_key_usage,
                                    request.client_auth ? "clientAuth" : "serverAuth"));
  }
  std::string san;
  for (const auto& d : request.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : request.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) {
    HK_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_subject_alt_name, san));
  }
  HK_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), issuer_key ? issuer_key.get() : key.get(), EVP_sha256()) == 0) {
    return InternalError("cannot sign the certificate");
  }

  CertificateAndKey out;
  Ptr<BIO> cbio(BIO_new(BIO_s_mem()));
  Ptr<BIO> kbio(BIO_new(BIO_s_mem()));
  if (!cbio || !kbio || PEM_write_bio_X509(cbio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError("cannot encode the certificate");
  }
  out.cert_pem = BioText(cbio.get());
  out.key_pem = BioText(kbio.get());
  return out;
}

Result<std::string> CertificateFingerprint(std::string_view cert_pem) {
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, ParsePem(cert_pem));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1) {
    return InternalError("cannot hash the certificate");
  }
  return HexEncode(ByteView(md, len));
}

}  // namespace hokan
