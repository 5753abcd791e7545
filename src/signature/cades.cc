#include "signature/cades.h"

#include <openssl/ess.h>
#include <openssl/pem.h>

#include <algorithm>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/internal/cades_sign.h"
#include "signature/internal/cms.h"
#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::FromAsn1Time;
using signature_internal::ParseCertificate;
using signature_internal::ParseCertificates;
using signature_internal::ParseCrls;
using signature_internal::ParsePrivateKey;
using signature_internal::Ptr;

struct EssFree {
  void operator()(ESS_SIGNING_CERT* p) const { ESS_SIGNING_CERT_free(p); }
  void operator()(ESS_SIGNING_CERT_V2* p) const { ESS_SIGNING_CERT_V2_free(p); }
};

Ptr<BIO> MemBio(ByteView in) {
  return Ptr<BIO>(BIO_new_mem_buf(in.data(), static_cast<int>(in.size())));
}

Result<Ptr<CMS_ContentInfo>> ParseCms(ByteView in) {
  if (in.size() > (1U << 30)) return InvalidArgumentError("the signature is too large");
  Ptr<BIO> bio = MemBio(in);
  Ptr<CMS_ContentInfo> cms;
  if (AsChars(in).find("-----BEGIN ") != std::string_view::npos) {
    cms.reset(PEM_read_bio_CMS(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = in.data();
    cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(in.size())));
  }
  ERR_clear_error();
  if (!cms) return InvalidArgumentError("not a CMS signature (PEM or DER)");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return InvalidArgumentError("the CMS object is not SignedData");
  }
  return cms;
}

Result<CMS_SignerInfo*> OnlySigner(CMS_ContentInfo* cms) {
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
  const int n = infos != nullptr ? sk_CMS_SignerInfo_num(infos) : 0;
  if (n != 1) {
    return InvalidArgumentError("the signature has " + std::to_string(n) +
                                " signers; hokan verifies signatures with exactly one");
  }
  return sk_CMS_SignerInfo_value(infos, 0);
}

Result<Bytes> Encode(CMS_ContentInfo* cms) {
  const int n = i2d_CMS_ContentInfo(cms, nullptr);
  if (n <= 0) return InternalError("cannot encode the signature");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_CMS_ContentInfo(cms, &p);
  return out;
}

Bytes SignatureBytes(CMS_SignerInfo* si) {
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  return Bytes(ASN1_STRING_get0_data(sig), ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
}

// The DER of the signature-timestamp token, if the unsigned attribute is there.
std::optional<Bytes> TokenOf(CMS_SignerInfo* si) {
  const int i = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
  if (i < 0) return std::nullopt;
  X509_ATTRIBUTE* attr = CMS_unsigned_get_attr(si, i);
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
  if (value == nullptr || value->type != V_ASN1_SEQUENCE) return Bytes{};
  const ASN1_STRING* s = value->value.sequence;
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

// Does the signing-certificate(-v2) signed attribute name `signer`? Absent counts as no.
bool SigningCertificateMatches(CMS_SignerInfo* si, X509* signer) {
  Ptr<STACK_OF(X509)> chain(sk_X509_new_null());
  if (!chain || sk_X509_push(chain.get(), signer) <= 0) return false;
  X509_up_ref(signer);
  std::unique_ptr<ESS_SIGNING_CERT, EssFree> v1;
  std::unique_ptr<ESS_SIGNING_CERT_V2, EssFree> v2;
  auto read = [&](int nid) -> const ASN1_STRING* {
    const int i = CMS_signed_get_attr_by_NID(si, nid, -1);
    if (i < 0) return nullptr;
    ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0);
    return t != nullptr && t->type == V_ASN1_SEQUENCE ? t->value.sequence : nullptr;
  };
  if (const ASN1_STRING* s = read(NID_id_smime_aa_signingCertificateV2)) {
    const unsigned char* p = ASN1_STRING_get0_data(s);
    v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, ASN1_STRING_length(s)));
    if (!v2) return false;
  } else if (const ASN1_STRING* s1 = read(NID_id_smime_aa_signingCertificate)) {
    const unsigned char* p = ASN1_STRING_get0_data(s1);
    v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, ASN1_STRING_length(s1)));
    if (!v1) return false;
  } else {
    return false;
  }
  const int ok = OSSL_ESS_check_signing_certs(v1.get(), v2.get(), chain.get(), 1);
  ERR_clear_error();
  return ok > 0;
}

std::string SigningTime(CMS_SignerInfo* si) {
  const int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (i < 0) return {};
  ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0);
  if (t == nullptr || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME)) {
    return "(malformed)";
  }
  Result<TimePoint> tp = FromAsn1Time(t->value.utctime);
  return tp.has_value() ? FormatRfc3339(*tp) : "(malformed)";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<Bytes> SignCades(ByteView content, const CadesSignOptions& options) {
  if (options.signing_time == TimePoint{}) {
    return InvalidArgumentError("a signature needs its signing time");
  }
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, ParseCertificate(ToBytes(options.signer_cert_pem)));
  HK_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, ParsePrivateKey(ToBytes(options.signer_key_pem)));
  return signature_internal::SignCadesWithKey(content, cert.get(), key.get(), options.chain_pem,
                                              options.signing_time, options.detached);
}

Result<Bytes> signature_internal::SignCadesWithKey(ByteView content, X509* cert, EVP_PKEY* key,
                                                   const std::vector<std::string>& chain_pem,
                                                   TimePoint signing_time, bool detached) {
  if (signing_time == TimePoint{}) {
    return InvalidArgumentError("a signature needs its signing time");
  }
  if (X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the signing key does not belong to the signer's certificate");
  }
  Ptr<STACK_OF(X509)> chain(sk_X509_new_null());
  for (const std::string& pem : chain_pem) {
    HK_ASSIGN_OR_RETURN(auto certs, ParseCertificates(ToBytes(pem)));
    HK_RETURN_IF_ERROR(signature_internal::PushCertificates(chain.get(), certs));
  }
  const unsigned flags =
      CMS_PARTIAL | CMS_BINARY | CMS_NOSMIMECAP | CMS_CADES | (detached ? CMS_DETACHED : 0U);
  Ptr<CMS_ContentInfo> cms(CMS_sign(nullptr, nullptr, chain.get(), nullptr, flags));
  if (!cms)
    return InternalError("cannot start a CMS signature: " + signature_internal::OpensslErrors());
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), cert, key, EVP_sha256(), flags);
  if (si == nullptr) {
    return InternalError("cannot add the signer: " + signature_internal::OpensslErrors());
  }
  Ptr<ASN1_TIME> when = signature_internal::ToAsn1Time(signing_time);
  if (!when ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, when->type, when.get(), -1) != 1) {
    return InternalError("cannot add the signing time");
  }
  Ptr<BIO> in = MemBio(content);
  if (CMS_final(cms.get(), in.get(), nullptr, flags) != 1) {
    return InternalError("cannot sign: " + signature_internal::OpensslErrors());
  }
  return Encode(cms.get());
}

Result<Bytes> SignatureValue(ByteView cms_der) {
  HK_ASSIGN_OR_RETURN(Ptr<CMS_ContentInfo> cms, ParseCms(cms_der));
  HK_ASSIGN_OR_RETURN(CMS_SignerInfo * si, OnlySigner(cms.get()));
  return SignatureBytes(si);
}

namespace signature_internal {

Result<std::vector<Bytes>> EmbeddedCertificates(ByteView cms_der) {
  HK_ASSIGN_OR_RETURN(Ptr<CMS_ContentInfo> cms, ParseCms(cms_der));
  std::vector<Bytes> out;
  Ptr<STACK_OF(X509)> certs(CMS_get1_certs(cms.get()));
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    out.push_back(CertificateDer(sk_X509_value(certs.get(), i)));
  }
  HK_ASSIGN_OR_RETURN(CMS_SignerInfo * si, OnlySigner(cms.get()));
  if (std::optional<Bytes> token = TokenOf(si); token && !token->empty()) {
    if (auto inner = ParseCms(*token); inner.has_value()) {
      Ptr<STACK_OF(X509)> tsa_certs(CMS_get1_certs(inner->get()));
      for (int i = 0; tsa_certs && i < sk_X509_num(tsa_certs.get()); ++i) {
        out.push_back(CertificateDer(sk_X509_value(tsa_certs.get(), i)));
      }
    }
  }
  ERR_clear_error();
  return out;
}

Result<ValidationData> SelectValidationData(const std::vector<Bytes>& pool,
                                            const std::vector<std::string>& wanted,
                                            const std::vector<Bytes>& crl_pool) {
  std::vector<Ptr<X509>> certs;
  for (const Bytes& in : pool) {
    HK_ASSIGN_OR_RETURN(auto parsed, ParseCertificates(in));
    for (auto& c : parsed) certs.push_back(std::move(c));
  }
  ValidationData out;
  std::vector<X509*> chosen;
  for (const std::string& fp : wanted) {
    for (const auto& c : certs) {
      if (CertificateSha256Hex(c.get()) != fp) continue;
      bool duplicate = false;
      for (X509* d : chosen) duplicate |= X509_cmp(d, c.get()) == 0;
      if (!duplicate) {
        chosen.push_back(c.get());
        out.certificates.push_back(CertificateDer(c.get()));
      }
      break;
    }
  }
  for (const Bytes& in : crl_pool) {
    HK_ASSIGN_OR_RETURN(auto parsed, ParseCrls(in));
    for (auto& crl : parsed) {
      bool ours = false;
      for (X509* c : chosen) {
        ours |= X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(c)) == 0;
      }
      if (!ours) continue;
      const int n = i2d_X509_CRL(crl.get(), nullptr);
      if (n <= 0) continue;
      Bytes der(static_cast<std::size_t>(n));
      unsigned char* p = der.data();
      i2d_X509_CRL(crl.get(), &p);
      if (std::find(out.crls.begin(), out.crls.end(), der) == out.crls.end()) {
        out.crls.push_back(std::move(der));
      }
    }
  }
  return out;
}

}  // namespace signature_internal

Result<bool> HasSignatureTimestamp(ByteView cms_der) {
  HK_ASSIGN_OR_RETURN(Ptr<CMS_ContentInfo> cms, ParseCms(cms_der));
  HK_ASSIGN_OR_RETURN(CMS_SignerInfo * si, OnlySigner(cms.get()));
  return TokenOf(si).has_value();
}

Result<Bytes> AddSignatureTimestamp(ByteView cms_der, ByteView token_der) {
  HK_ASSIGN_OR_RETURN(Ptr<CMS_ContentInfo> cms, ParseCms(cms_der));
  HK_ASSIGN_OR_RETURN(CMS_SignerInfo * si, OnlySigner(cms.get()));
  if (TokenOf(si).has_value()) {
    return FailedPreconditionError("the signature already has a signature timestamp");
  }
  // The token must be over this signature value: check the imprint (trust is checked later).
  TimestampVerifyOptions any;
  HK_ASSIGN_OR_RETURN(TimestampVerification check,
                      VerifyTimestamp(token_der, SignatureBytes(si), any));
  if (check.reason.find("imprint") != std::string::npos) {
    return InvalidArgumentError("the timestamp is not over this signature's value");
  }
  if (CMS_unsigned_add1_attr_by_NID(si, NID_id_smime_aa_timeStampToken, V_ASN1_SEQUENCE,
                                    token_der.data(), static_cast<int>(token_der.size())) != 1) {
    return InternalError("cannot add the signature timestamp");
  }
  return Encode(cms.get());
}

Result<SignatureReport> VerifyCades(ByteView signature, std::optional<ByteView> content,
                                    const SignatureVerifyOptions& options) {
  HK_ASSIGN_OR_RETURN(Ptr<CMS_ContentInfo> cms, ParseCms(signature));
  SignatureReport r;
  r.detached = CMS_is_detached(cms.get()) == 1;
  const bool by_hash = r.detached && !content.has_value() && !options.content_sha256.empty();
  if (r.detached && !content.has_value() && !by_hash) {
    return InvalidArgumentError("the signature is detached: give the signed content too");
  }
  auto one = OnlySigner(cms.get());
  if (!one.has_value()) {
    r.reason = one.error().message();
    return r;
  }
  CMS_SignerInfo* si = *one;

  // Certificates: those in the signature, then the caller's.
  Ptr<STACK_OF(X509)> certs(CMS_get1_certs(cms.get()));
  std::vector<Bytes> intermediates = options.intermediates;
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    intermediates.push_back(signature_internal::CertificateDer(sk_X509_value(certs.get(), i)));
  }
  X509* signer = nullptr;
  std::vector<Ptr<X509>> extra;
  for (const Bytes& der : intermediates) {
    auto parsed = ParseCertificates(der);
    if (!parsed.has_value()) return parsed.error();
    for (auto& c : *parsed) {
      if (signer == nullptr && CMS_SignerInfo_cert_cmp(si, c.get()) == 0) signer = c.get();
      extra.push_back(std::move(c));
    }
  }
  if (signer == nullptr) {
    r.reason = "the signer's certificate is neither in the signature nor among the given ones";
    return r;
  }
  const Bytes signer_der = signature_internal::CertificateDer(signer);
  r.signer.subject = signature_internal::NameText(X509_get_subject_name(signer));
  r.signer.issuer = signature_internal::NameText(X509_get_issuer_name(signer));
  r.signer.serial = signature_internal::SerialHex(X509_get0_serialNumber(signer));
  r.signer.sha256 = signature_internal::CertificateSha256Hex(signer);
  HK_ASSIGN_OR_RETURN(r.hpki, ReadHpkiProfile(signer_der));
  CMS_SignerInfo_set1_signer_cert(si, signer);

  // The signature over the signed attributes, then the content against message-digest.
  const bool has_signed_attrs = CMS_signed_get_attr_count(si) > 0;
  r.signature_intact = has_signed_attrs && CMS_SignerInfo_verify(si) == 1;
  ERR_clear_error();
  ByteView checked;
  if (r.detached) {
    if (content.has_value()) checked = *content;
  } else {
    ASN1_OCTET_STRING** inner = CMS_get0_content(cms.get());
    if (inner != nullptr && *inner != nullptr) {
      checked = ByteView(ASN1_STRING_get0_data(*inner),
                         static_cast<std::size_t>(ASN1_STRING_length(*inner)));
    }
  }
  if (by_hash) {
    // The message-digest attribute against the stored hash (SHA-256 signatures only).
    r.content_sha256 = options.content_sha256;
    X509_ALGOR* digest_alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
    const ASN1_OBJECT* alg = nullptr;
    if (digest_alg != nullptr) X509_ALGOR_get0(&alg, nullptr, nullptr, digest_alg);
    const int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1);
    ASN1_TYPE* t = i >= 0 ? X509_ATTRIBUTE_get0_type(CMS_signed_get_attr(si, i), 0) : nullptr;
    if (alg != nullptr && OBJ_obj2nid(alg) == NID_sha256 && t != nullptr &&
        t->type == V_ASN1_OCTET_STRING) {
      const ASN1_OCTET_STRING* md = t->value.octet_string;
      r.content_intact = HexEncode(ByteView(ASN1_STRING_get0_data(md),
                                            static_cast<std::size_t>(ASN1_STRING_length(md)))) ==
                         options.content_sha256;
    }
  } else {
    r.content_sha256 = HexEncode(Sha256(checked));
  }
  if (has_signed_attrs && !by_hash) {
    BIO* cont = BIO_new_mem_buf(checked.data(), static_cast<int>(checked.size()));
    BIO* chain = cont != nullptr ? CMS_dataInit(cms.get(), cont) : nullptr;
    if (chain != nullptr) {
      char buf[16384];
      while (BIO_read(chain, buf, sizeof buf) > 0) {
      }
      r.content_intact = CMS_SignerInfo_verify_content(si, chain) == 1;
      BIO_free_all(chain);  // Includes `cont`.
    } else {
      BIO_free(cont);
    }
    ERR_clear_error();
  }
  if (!r.detached && content.has_value() &&
      !std::equal(content->begin(), content->end(), checked.begin(), checked.end())) {
    r.content_intact = false;
  }
  r.signing_certificate_match = SigningCertificateMatches(si, signer);
  r.signing_time = SigningTime(si);

  // Signature timestamp → CAdES-T; its genTime is the reference time.
  r.level = "CAdES-BES";
  if (std::optional<Bytes> token = TokenOf(si)) {
    r.level = "CAdES-T";
    TimestampVerifyOptions ts = options.timestamp;
    ts.now = options.now;
    auto tv = VerifyTimestamp(*token, SignatureBytes(si), ts);
    if (tv.has_value()) {
      r.timestamp = std::move(*tv);
    } else {
      r.timestamp = TimestampVerification{};
      r.timestamp->reason = "the signature timestamp cannot be read: " + tv.error().message();
    }
  }
  TimePoint at = options.now;
  r.reference_time_source = "current time";
  if (options.at.has_value()) {
    at = *options.at;
    r.reference_time_source = "given";
  } else if (r.timestamp.has_value() && r.timestamp->valid) {
    at = r.timestamp->gen_time_point;
    r.reference_time_source = "signature timestamp";
  }
  r.reference_time = FormatRfc3339(at);

  PathValidationOptions path;
  path.trust_anchors = options.trust_anchors;
  path.anchor_sha256_pins = options.anchor_sha256_pins;
  path.intermediates = std::move(intermediates);
  path.crls = options.crls;
  Ptr<STACK_OF(X509_CRL)> crls(CMS_get1_crls(cms.get()));
  for (int i = 0; crls && i < sk_X509_CRL_num(crls.get()); ++i) {
    X509_CRL* crl = sk_X509_CRL_value(crls.get(), i);
    const int n = i2d_X509_CRL(crl, nullptr);
    if (n <= 0) continue;
    Bytes der(static_cast<std::size_t>(n));
    unsigned char* p = der.data();
    i2d_X509_CRL(crl, &p);
    path.crls.push_back(std::move(der));
  }
  path.at = at;
  path.require_revocation = options.require_revocation;
  HK_ASSIGN_OR_RETURN(PathValidation pv, ValidateCertificatePath(signer_der, path));
  r.chain = pv.chain;
  if (!r.chain.empty()) r.signer = r.chain.front().certificate;

  // The first thing that fails decides; the report keeps every finding.
  if (!has_signed_attrs) {
    r.reason = "the signature has no signed attributes, so it is not a CAdES signature";
  } else if (!r.signature_intact) {
    r.reason = "the signature value does not verify with the signer's certificate";
  } else if (!r.content_intact) {
    r.reason = "the content does not match the signature (the message digest differs)";
  } else if (!r.signing_certificate_match) {
    r.reason = "the signing-certificate-v2 attribute is missing or does not name the signer";
  } else if (r.timestamp.has_value() && !r.timestamp->valid) {
    r.reason = "the signature timestamp is not valid: " + r.timestamp->reason;
  } else if (options.require_timestamp && !r.timestamp.has_value()) {
    r.reason = "the signature has no signature timestamp (CAdES-T is required)";
  } else if (!pv.valid) {
    r.reason = "the signer's certificate is not valid: " + pv.reason;
  } else if (options.require_hpki_signing && !r.hpki.signing_problem.empty()) {
    r.reason = "the signer's certificate may not sign: " + r.hpki.signing_problem;
  } else if (!options.required_qualifications.empty()) {
    bool qualified = false;
    for (const std::string& need : options.required_qualifications) {
      for (const std::string& have : r.hpki.hc_roles) qualified |= (need == have);
    }
    if (!qualified) {
      r.reason =
          "the signer's qualification (" +
          (r.hpki.hc_roles.empty() ? std::string("no hcRole") : "hcRole " + Join(r.hpki.hc_roles)) +
          ") is not one this document requires: " + Join(options.required_qualifications);
    }
  }
  r.valid = r.reason.empty();
  return r;
}

}  // namespace hokan
