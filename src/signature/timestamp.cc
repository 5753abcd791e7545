#include "signature/timestamp.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ess.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/internal/ossl.h"
#include "signature/internal/report_json.h"
#include "signature/tsa.h"

namespace hokan {
namespace {

using signature_internal::CertificateDer;
using signature_internal::CertificateSha256Hex;
using signature_internal::FromAsn1Time;
using signature_internal::NameText;
using signature_internal::OpensslErrors;
using signature_internal::ParseCertificates;
using signature_internal::Ptr;
using signature_internal::SerialHex;

// Owners for the OpenSSL types that only this file uses.
struct LocalFree {
  void operator()(ESS_SIGNING_CERT* p) const { ESS_SIGNING_CERT_free(p); }
  void operator()(ESS_SIGNING_CERT_V2* p) const { ESS_SIGNING_CERT_V2_free(p); }
  void operator()(EXTENDED_KEY_USAGE* p) const { EXTENDED_KEY_USAGE_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(TS_MSG_IMPRINT* p) const { TS_MSG_IMPRINT_free(p); }
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
};
template <class T>
using LocalPtr = std::unique_ptr<T, LocalFree>;

// A stack that borrows its certificates (frees only itself).
struct BorrowedStackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
using BorrowedCerts = std::unique_ptr<STACK_OF(X509), BorrowedStackFree>;

// Tokens are a few KiB; anything far larger is not one and is refused before parsing.
constexpr std::size_t kMaxInput = 1 << 20;

const char* PkiStatusName(long status) {
  switch (status) {
    case TS_STATUS_GRANTED:
      return "granted";
    case TS_STATUS_GRANTED_WITH_MODS:
      return "grantedWithMods";
    case TS_STATUS_REJECTION:
      return "rejection";
    case TS_STATUS_WAITING:
      return "waiting";
    case TS_STATUS_REVOCATION_WARNING:
      return "revocationWarning";
    case TS_STATUS_REVOCATION_NOTIFICATION:
      return "revocationNotification";
    default:
      return "unknown";
  }
}

// "badAlg, badDataFormat" for the bits set in a PKIFailureInfo (RFC 3161 §2.4.2).
std::string FailInfoNames(const ASN1_BIT_STRING* bits) {
  struct Bit {
    int bit;
    const char* name;
  };
  static constexpr Bit kBits[] = {
      {TS_INFO_BAD_ALG, "badAlg"},
      {TS_INFO_BAD_REQUEST, "badRequest"},
      {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
      {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
      {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
      {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
      {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
      {TS_INFO_SYSTEM_FAILURE, "systemFailure"},
  };
  std::string out;
  if (bits == nullptr) return out;
  for (const Bit& b : kBits) {
    if (ASN1_BIT_STRING_get_bit(bits, b.bit) == 1) {
      if (!out.empty()) out += ", ";
      out += b.name;
    }
  }
  return out;
}

// Text from the TSA (statusString) reduced to printable ASCII of bounded length, so that a
// hostile TSA cannot put control characters or pages of text into our messages.
std::string SanitizedText(const ASN1_STRING* s) {
  std::string out;
  if (s == nullptr) return out;
  const int n = ASN1_STRING_length(s);
  const unsigned char* p = ASN1_STRING_get0_data(s);
  for (int i = 0; i < n && out.size() < 120; ++i) {
    const unsigned char c = p[i];
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

// Parses one whole DER object with `d2i`; trailing bytes make it fail.
template <class T, class D2i>
T* ParseExact(ByteView der, D2i d2i) {
  if (der.empty() || der.size() > kMaxInput) return nullptr;
  const unsigned char* p = der.data();
  T* out = d2i(nullptr, &p, static_cast<long>(der.size()));
  if (out != nullptr && p != der.data() + der.size()) {
    Ptr<T> drop(out);
    out = nullptr;
  }
  ERR_clear_error();
  return out;
}

template <class T, class I2d>
Bytes Encode(T* value, I2d i2d) {
  const int n = i2d(value, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d(value, &p);
  return out;
}

std::string OidText(const ASN1_OBJECT* obj) {
  if (obj == nullptr) return {};
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0) return {};
  return std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The status of a parsed TimeStampResp: OK when it grants and carries a token.
Status ResponseStatus(TS_RESP* response) {
  TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  if (status == TS_STATUS_GRANTED || status == TS_STATUS_GRANTED_WITH_MODS) {
    if (TS_RESP_get_token(response) == nullptr) {
      return InvalidArgumentError("the time-stamp response grants the request but has no token");
    }
    return OkStatus();
  }
  std::string message = std::string("the TSA refused the request: status ") + PkiStatusName(status);
  const std::string fail = FailInfoNames(TS_STATUS_INFO_get0_failure_info(info));
  if (!fail.empty()) message += ", failInfo " + fail;
  const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(info);
  if (text != nullptr && sk_ASN1_UTF8STRING_num(text) > 0) {
    message += " (\"" + SanitizedText(sk_ASN1_UTF8STRING_value(text, 0)) + "\")";
  }
  return FailedPreconditionError(std::move(message));
}

// genTime with its fraction: FromAsn1Time keeps whole seconds only.
Result<TimePoint> GenTime(const ASN1_GENERALIZEDTIME* t) {
  HK_ASSIGN_OR_RETURN(TimePoint whole, FromAsn1Time(t));
  const std::string_view text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                              static_cast<std::size_t>(ASN1_STRING_length(t)));
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return whole;
  int ms = 0;
  int digits = 0;
  for (std::size_t i = dot + 1; i < text.size() && digits < 3; ++i, ++digits) {
    if (text[i] < '0' || text[i] > '9') break;
    ms = ms * 10 + (text[i] - '0');
  }
  for (; digits < 3; ++digits) ms *= 10;
  return whole + std::chrono::milliseconds(ms);
}

const EVP_MD* ImprintDigest(int nid) {
  switch (nid) {
    case NID_sha256:
      return EVP_sha256();
    case NID_sha384:
      return EVP_sha384();
    case NID_sha512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// The TSA certificate may sign time-stamps: a critical extendedKeyUsage that is exactly
// id-kp-timeStamping (RFC 3161 §2.3), and a keyUsage, if any, of digitalSignature and/or
// nonRepudiation only (what `openssl ts -verify` also demands).
std::string TsaUsageProblem(X509* cert) {
  const int at = X509_get_ext_by_NID(cert, NID_ext_key_usage, -1);
  if (at < 0) return "the TSA certificate has no extendedKeyUsage";
  if (X509_EXTENSION_get_critical(X509_get_ext(cert, at)) != 1) {
    return "the TSA certificate's extendedKeyUsage is not critical";
  }
  LocalPtr<EXTENDED_KEY_USAGE> eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku || sk_ASN1_OBJECT_num(eku.get()) != 1 ||
      OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 0)) != NID_time_stamp) {
    return "the TSA certificate's extendedKeyUsage is not id-kp-timeStamping alone";
  }
  const std::uint32_t ku = X509_get_key_usage(cert);
  constexpr std::uint32_t kAllowed = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
  if (ku != UINT32_MAX && ((ku & ~kAllowed) != 0 || (ku & kAllowed) == 0)) {
    return "the TSA certificate's keyUsage is not digitalSignature or nonRepudiation alone";
  }
  return {};
}

// RFC 3161 §2.4.2: when TSTInfo names the TSA, the name must be one of the certificate's.
bool TsaNameMatches(GENERAL_NAME* name, X509* cert) {
  if (name == nullptr) return true;
  int type = 0;
  void* value = GENERAL_NAME_get0_value(name, &type);
  if (type == GEN_DIRNAME) {
    return X509_NAME_cmp(static_cast<X509_NAME*>(value), X509_get_subject_name(cert)) == 0;
  }
  LocalPtr<GENERAL_NAMES> alt(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt.get()); ++i) {
    if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(alt.get(), i), name) == 0) return true;
  }
  return false;
}

// The ESS signing-certificate(-v2) attributes must be present and name the TSA certificate
// first (RFC 3161 §2.4.1, RFC 5816). `chain` starts with the TSA certificate.
std::string EssProblem(CMS_SignerInfo* si, STACK_OF(X509) * chain) {
  auto attribute = [si](int nid) {
    return static_cast<ASN1_STRING*>(
        CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(nid), -3, V_ASN1_SEQUENCE));
  };
  const ASN1_STRING* v1 = attribute(NID_id_smime_aa_signingCertificate);
  const ASN1_STRING* v2 = attribute(NID_id_smime_aa_signingCertificateV2);
  ERR_clear_error();
  if (v1 == nullptr && v2 == nullptr) {
    return "the token has no ESS signing-certificate attribute";
  }
  LocalPtr<ESS_SIGNING_CERT> ss;
  LocalPtr<ESS_SIGNING_CERT_V2> ss2;
  if (v1 != nullptr) {
    const unsigned char* p = ASN1_STRING_get0_data(v1);
    ss.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, ASN1_STRING_length(v1)));
    if (!ss) return "the token's ESS signing-certificate attribute is malformed";
  }
  if (v2 != nullptr) {
    const unsigned char* p = ASN1_STRING_get0_data(v2);
    ss2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, ASN1_STRING_length(v2)));
    if (!ss2) return "the token's ESS signing-certificate-v2 attribute is malformed";
  }
  const int ok = OSSL_ESS_check_signing_certs(ss.get(), ss2.get(), chain, 1);
  ERR_clear_error();
  if (ok <= 0) {
    return "the token's ESS signing-certificate attribute does not match the TSA certificate";
  }
  return {};
}

// Where the verification starts: a token (CMS SignedData) taken from a response or given bare.
struct ParsedInput {
  Ptr<CMS_ContentInfo> cms;
  std::string refused;  // Non-empty: a response without a token, and why.
};

Result<ParsedInput> ParseInput(ByteView input) {
  ParsedInput out;
  if (input.size() > kMaxInput) {
    return InvalidArgumentError("the input is too large to be a time-stamp response or token");
  }
  Ptr<TS_RESP> response(ParseExact<TS_RESP>(input, d2i_TS_RESP));
  Bytes token_der;
  ByteView token = input;
  if (response) {
    const Status status = ResponseStatus(response.get());
    if (status.code() == StatusCode::kFailedPrecondition) {
      out.refused = "the response carries no token: " + status.message();
      return out;
    }
    HK_RETURN_IF_ERROR(status);
    token_der = Encode(TS_RESP_get_token(response.get()), i2d_PKCS7);
    token = token_der;
  }
  out.cms.reset(ParseExact<CMS_ContentInfo>(token, d2i_CMS_ContentInfo));
  if (!out.cms) {
    return InvalidArgumentError(response ? "the time-stamp response's token is malformed"
                                         : "not an RFC 3161 time-stamp response or token");
  }
  if (OBJ_obj2nid(CMS_get0_type(out.cms.get())) != NID_pkcs7_signed ||
      OBJ_obj2nid(CMS_get0_eContentType(out.cms.get())) != NID_id_smime_ct_TSTInfo) {
    return InvalidArgumentError("a CMS message, but not a time-stamp token (no TSTInfo)");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(out.cms.get());
  if (content == nullptr || *content == nullptr) {
    return InvalidArgumentError("the time-stamp token does not carry its TSTInfo");
  }
  return out;
}

// What is checked against the imprint: the data itself, or a digest of it.
struct Subject {
  ByteView bytes;
  bool is_digest = false;
};

Result<TimestampVerification> Verify(ByteView input, Subject subject,
                                     const TimestampVerifyOptions& options) {
  HK_ASSIGN_OR_RETURN(ParsedInput parsed, ParseInput(input));
  TimestampVerification v;
  if (!parsed.refused.empty()) {
    v.reason = std::move(parsed.refused);
    return v;
  }
  CMS_ContentInfo* cms = parsed.cms.get();
  std::string reason;  // The first failure found; later checks still fill in the report.
  auto fail = [&reason](std::string why) {
    if (reason.empty()) reason = std::move(why);
  };

  // The TSTInfo: what the TSA asserts. A TSTInfo that does not parse is reported after the
  // signature check, which is the more telling failure for a tampered token.
  ASN1_OCTET_STRING* content = *CMS_get0_content(cms);
  Ptr<TS_TST_INFO> tst(
      ParseExact<TS_TST_INFO>(ByteView(ASN1_STRING_get0_data(content),
                                       static_cast<std::size_t>(ASN1_STRING_length(content))),
                              d2i_TS_TST_INFO));
  bool have_gen_time = false;
  if (tst) {
    Result<TimePoint> gen = GenTime(TS_TST_INFO_get_time(tst.get()));
    if (gen.has_value()) {
      have_gen_time = true;
      v.gen_time_point = *gen;
      v.gen_time = FormatRfc3339(*gen);
    }
    v.policy = OidText(TS_TST_INFO_get_policy_id(tst.get()));
    v.serial = SerialHex(TS_TST_INFO_get_serial(tst.get()));
    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
    const ASN1_OBJECT* alg = nullptr;
    X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
    const int nid = OBJ_obj2nid(alg);
    const char* name = nid != NID_undef ? OBJ_nid2ln(nid) : nullptr;
    v.hash_algorithm = name != nullptr ? name : OidText(alg);
    const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
    v.message_imprint = HexEncode(
        ByteView(ASN1_STRING_get0_data(msg), static_cast<std::size_t>(ASN1_STRING_length(msg))));
    v.development_tsa = v.policy == kDevTsaPolicyOid;
  }

  // The signer: exactly one, whose certificate is in the token or among the intermediates.
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms);
  if (signers == nullptr || sk_CMS_SignerInfo_num(signers) != 1) {
    v.reason = "the token does not have exactly one signer";
    return v;
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);
  Ptr<STACK_OF(X509)> token_certs(CMS_get1_certs(cms));
  std::vector<Ptr<X509>> intermediates;
  for (const Bytes& in : options.intermediates) {
    Result<std::vector<Ptr<X509>>> certs = ParseCertificates(in);
    if (!certs) return certs.error().WithContext("intermediate certificates");
    for (auto& c : *certs) intermediates.push_back(std::move(c));
  }
  X509* signer = nullptr;
  for (int i = 0; token_certs && i < sk_X509_num(token_certs.get()) && !signer; ++i) {
    if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(token_certs.get(), i)) == 0) {
      signer = sk_X509_value(token_certs.get(), i);
      v.tsa_certificate_in_token = true;
    }
  }
  for (std::size_t i = 0; i < intermediates.size() && !signer; ++i) {
    if (CMS_SignerInfo_cert_cmp(si, intermediates[i].get()) == 0) signer = intermediates[i].get();
  }
  ERR_clear_error();
  if (signer == nullptr) {
    v.reason = "the TSA certificate is neither in the token nor among the given intermediates";
    return v;
  }
  v.tsa_name = NameText(X509_get_subject_name(signer));
  const std::string tsa_sha256 = CertificateSha256Hex(signer);
  for (const std::string& listed : options.accepted_tsa_sha256) {
    v.tsa_listed |= Lower(listed) == tsa_sha256;
  }
  Result<TimePoint> not_before = FromAsn1Time(X509_get0_notBefore(signer));
  Result<TimePoint> not_after = FromAsn1Time(X509_get0_notAfter(signer));
  if (!not_before || !not_after) {
    return InvalidArgumentError("the TSA certificate's validity period is malformed");
  }
  v.tsa_certificate_expired_now = options.now != TimePoint{} && options.now > *not_after;

  // Signature: the signed attributes' message digest over the TSTInfo, and the signature over
  // the signed attributes. The path is validated below, at genTime, not here.
  const ASN1_OBJECT* content_type = static_cast<const ASN1_OBJECT*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_contentType), -3, V_ASN1_OBJECT));
  BorrowedCerts signer_only(sk_X509_new_null());
  if (!signer_only || sk_X509_push(signer_only.get(), signer) <= 0) {
    return InternalError("out of memory");
  }
  const int verified = CMS_verify(cms, signer_only.get(), nullptr, nullptr, nullptr,
                                  CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY);
  ERR_clear_error();
  if (verified != 1) fail("the token's signature does not verify");
  if (OBJ_obj2nid(content_type) != NID_id_smime_ct_TSTInfo) {
    fail("the token's signed content-type attribute is not TSTInfo");
  }
  if (!tst) fail("the token's TSTInfo is malformed");
  if (tst && !have_gen_time) fail("the token's genTime is malformed");

  // ESS: the signed attributes bind the TSA certificate (no substitution attack).
  BorrowedCerts chain(sk_X509_new_null());
  if (!chain || sk_X509_push(chain.get(), signer) <= 0) return InternalError("out of memory");
  for (int i = 0; token_certs && i < sk_X509_num(token_certs.get()); ++i) {
    sk_X509_push(chain.get(), sk_X509_value(token_certs.get(), i));
  }
  for (const auto& c : intermediates) sk_X509_push(chain.get(), c.get());
  if (std::string ess = EssProblem(si, chain.get()); !ess.empty()) fail(std::move(ess));
  if (std::string usage = TsaUsageProblem(signer); !usage.empty()) fail(std::move(usage));

  if (tst) {
    if (!TsaNameMatches(TS_TST_INFO_get_tsa(tst.get()), signer)) {
      fail("the token's TSA name does not match the TSA certificate");
    }
    // The imprint: the data (or the caller's digest of it) under the token's algorithm.
    TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
    const ASN1_OBJECT* alg = nullptr;
    X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
    const EVP_MD* md = ImprintDigest(OBJ_obj2nid(alg));
    const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
    const ByteView stamped(ASN1_STRING_get0_data(msg),
                           static_cast<std::size_t>(ASN1_STRING_length(msg)));
    if (md == nullptr) {
      fail("the token's hash algorithm " + v.hash_algorithm +
           " is not supported (sha256, sha384 and sha512 are)");
    } else {
      Bytes digest;
      const auto size = static_cast<std::size_t>(EVP_MD_get_size(md));
      if (subject.is_digest) {
        digest.assign(subject.bytes.begin(), subject.bytes.end());
      } else {
        digest.resize(size);
        unsigned int n = 0;
        if (EVP_Digest(subject.bytes.data(), subject.bytes.size(), digest.data(), &n, md,
                       nullptr) != 1) {
          return InternalError("hashing the data failed: " + OpensslErrors());
        }
      }
      if (subject.is_digest && digest.size() != size) {
        fail("the digest is " + std::to_string(digest.size()) + " bytes, but the token's " +
             v.hash_algorithm + " imprint is " + std::to_string(size));
      } else if (stamped.size() != digest.size() ||
                 CRYPTO_memcmp(stamped.data(), digest.data(), digest.size()) != 0) {
        fail("the message imprint does not match the data");
      }
    }
    // The nonce: proves the answer is to our request, not a replay.
    if (options.expected_nonce.has_value()) {
      const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst.get());
      Ptr<BIGNUM> expected(BN_bin2bn(options.expected_nonce->data(),
                                     static_cast<int>(options.expected_nonce->size()), nullptr));
      Ptr<BIGNUM> got(nonce != nullptr ? ASN1_INTEGER_to_BN(nonce, nullptr) : nullptr);
      if (nonce == nullptr) {
        fail("the token carries no nonce, but the request had one");
      } else if (!expected || !got || BN_cmp(expected.get(), got.get()) != 0) {
        fail("the token's nonce does not match the request's");
      }
    }
  }

  // The TSA certificate at genTime: its own validity first (the precise reason), then the
  // path to a trust anchor with revocation as of genTime.
  if (have_gen_time) {
    if (v.gen_time_point > *not_after) {
      fail("the TSA certificate had expired at genTime " + v.gen_time + " (it was valid until " +
           FormatRfc3339(*not_after) + ")");
    } else if (v.gen_time_point < *not_before) {
      fail("the TSA certificate was not yet valid at genTime " + v.gen_time +
           " (it is valid from " + FormatRfc3339(*not_before) + ")");
    }
    PathValidationOptions path;
    path.trust_anchors = options.trust_anchors;
    path.anchor_sha256_pins = options.anchor_sha256_pins;
    for (int i = 0; token_certs && i < sk_X509_num(token_certs.get()); ++i) {
      path.intermediates.push_back(CertificateDer(sk_X509_value(token_certs.get(), i)));
    }
    path.intermediates.insert(path.intermediates.end(), options.intermediates.begin(),
                              options.intermediates.end());
    path.crls = options.crls;
    path.at = v.gen_time_point;
    path.require_revocation = options.require_revocation;
    HK_ASSIGN_OR_RETURN(PathValidation validated,
                        ValidateCertificatePath(CertificateDer(signer), path));
    v.tsa_chain = std::move(validated.chain);
    if (!validated.valid) fail("the TSA certificate is not trusted: " + validated.reason);
  }

  if (tst && !options.accepted_policies.empty() &&
      std::find(options.accepted_policies.begin(), options.accepted_policies.end(), v.policy) ==
          options.accepted_policies.end()) {
    fail("the token's policy " + v.policy + " is not accepted");
  }
  if (!options.accepted_tsa_sha256.empty() && !v.tsa_listed) {
    fail("the TSA is not on the accepted list");
  }
  v.reason = std::move(reason);
  v.valid = v.reason.empty();
  return v;
}

}  // namespace

Result<TimestampRequest> MakeTimestampRequest(ByteView sha256_digest,
                                              const std::string& policy_oid) {
  if (sha256_digest.size() != 32) {
    return InvalidArgumentError("a SHA-256 digest is 32 bytes, not " +
                                std::to_string(sha256_digest.size()));
  }
  TimestampRequest out;
  out.nonce.resize(8);
  HK_RETURN_IF_ERROR(RandomBytes(out.nonce));

  Ptr<TS_REQ> req(TS_REQ_new());
  LocalPtr<TS_MSG_IMPRINT> imprint(TS_MSG_IMPRINT_new());
  LocalPtr<X509_ALGOR> algorithm(X509_ALGOR_new());
  Ptr<BIGNUM> nonce_bn(BN_bin2bn(out.nonce.data(), static_cast<int>(out.nonce.size()), nullptr));
  Ptr<ASN1_INTEGER> nonce(nonce_bn ? BN_to_ASN1_INTEGER(nonce_bn.get(), nullptr) : nullptr);
  if (!req || !imprint || !algorithm || !nonce ||
      X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<std::uint8_t*>(sha256_digest.data()),
                             static_cast<int>(sha256_digest.size())) != 1 ||
      TS_REQ_set_version(req.get(), 1) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 ||
      TS_REQ_set_nonce(req.get(), nonce.get()) != 1 || TS_REQ_set_cert_req(req.get(), 1) != 1) {
    return InternalError("cannot build a time-stamp request: " + OpensslErrors());
  }
  if (!policy_oid.empty()) {
    Ptr<ASN1_OBJECT> policy(OBJ_txt2obj(policy_oid.c_str(), 1));
    ERR_clear_error();
    if (!policy) return InvalidArgumentError("the TSA policy '" + policy_oid + "' is not an OID");
    if (TS_REQ_set_policy_id(req.get(), policy.get()) != 1) {
      return InternalError("cannot build a time-stamp request: " + OpensslErrors());
    }
  }
  out.der = Encode(req.get(), i2d_TS_REQ);
  if (out.der.empty())
    return InternalError("cannot encode a time-stamp request: " + OpensslErrors());
  return out;
}

Result<Bytes> TokenFromResponse(ByteView response_der) {
  Ptr<TS_RESP> response(ParseExact<TS_RESP>(response_der, d2i_TS_RESP));
  if (!response) return InvalidArgumentError("not an RFC 3161 time-stamp response");
  HK_RETURN_IF_ERROR(ResponseStatus(response.get()));
  Bytes token = Encode(TS_RESP_get_token(response.get()), i2d_PKCS7);
  if (token.empty()) return InvalidArgumentError("the time-stamp response's token is malformed");
  return token;
}

Result<TimestampVerification> VerifyTimestamp(ByteView response_or_token, ByteView data,
                                              const TimestampVerifyOptions& options) {
  return Verify(response_or_token, {.bytes = data, .is_digest = false}, options);
}

Result<TimestampVerification> VerifyTimestampDigest(ByteView response_or_token, ByteView digest,
                                                    const TimestampVerifyOptions& options) {
  return Verify(response_or_token, {.bytes = digest, .is_digest = true}, options);
}

std::string TimestampVerificationJson(const TimestampVerification& v) {
  const nlohmann::ordered_json j = {{"valid", v.valid},
                                    {"reason", v.reason},
                                    {"gen_time", v.gen_time},
                                    {"policy", v.policy},
                                    {"serial", v.serial},
                                    {"hash_algorithm", v.hash_algorithm},
                                    {"message_imprint", v.message_imprint},
                                    {"tsa_name", v.tsa_name},
                                    {"development_tsa", v.development_tsa},
                                    {"tsa_listed", v.tsa_listed},
                                    {"tsa_certificate_expired_now", v.tsa_certificate_expired_now},
                                    {"tsa_certificate_in_token", v.tsa_certificate_in_token},
                                    {"tsa_chain", signature_internal::ChainJson(v.tsa_chain)}};
  return signature_internal::Dump(j, -1);
}

// ---------------------------------------------------------------------------------------------
// TsaClient

namespace {

// The URL without user information, query or fragment: those may hold credentials.
std::string RedactUrl(std::string_view url) {
  std::string_view rest = url;
  std::string out;
  if (const std::size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    out = std::string(rest.substr(0, scheme + 3));
    rest.remove_prefix(scheme + 3);
  }
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::size_t at = rest.substr(0, authority_end).rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  rest = rest.substr(0, rest.find_first_of("?#"));
  return out + std::string(rest);
}

}  // namespace

TsaClient::TsaClient(TimestampTransport& transport, TsaClientOptions options)
    : transport_(transport), options_(std::move(options)) {}

Result<TimestampToken> TsaClient::Timestamp(ByteView sha256_digest, TimePoint now) {
  // Bad input or configuration fails the same way for every TSA: say so once.
  HK_RETURN_IF_ERROR(StatusOf(MakeTimestampRequest(sha256_digest, options_.request_policy)));
  if (options_.urls.empty()) {
    return FailedPreconditionError("no time-stamping authority URL is configured");
  }
  const int attempts = std::max(1, options_.attempts_per_url);
  std::string failures;
  for (const std::string& url : options_.urls) {
    std::string why;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      if (attempt > 1 && options_.retry_delay.count() > 0) {
        std::this_thread::sleep_for(options_.retry_delay);
      }
      // A fresh nonce per attempt: an answer to an earlier attempt is not accepted.
      HK_ASSIGN_OR_RETURN(TimestampRequest request,
                          MakeTimestampRequest(sha256_digest, options_.request_policy));
      Result<Bytes> answer = transport_.Post(url, request.der);
      if (!answer) {
        why = answer.error().message();
        // Only transport failures are retried; a refusal or a bad token will not change.
        if (answer.error().code() == StatusCode::kUnavailable) continue;
        break;
      }
      Result<Bytes> token = TokenFromResponse(*answer);
      if (!token) {
        why = token.error().message();
        break;
      }
      TimestampVerifyOptions verify = options_.verify;
      verify.expected_nonce = request.nonce;
      verify.now = now;
      Result<TimestampVerification> checked = VerifyTimestampDigest(*token, sha256_digest, verify);
      if (!checked) {
        why = checked.error().message();
        break;
      }
      if (!checked->valid) {
        why = "its token does not verify: " + checked->reason;
        break;
      }
      if (!checked->tsa_certificate_in_token) {
        why = "its token leaves out the TSA certificate although the request asked for it";
        break;
      }
      return TimestampToken{.token = std::move(*token), .verification = std::move(*checked)};
    }
    if (!failures.empty()) failures += "; ";
    failures += RedactUrl(url) + ": " + why;
  }
  return UnavailableError("no time-stamping authority answered: " + failures);
}

}  // namespace hokan
