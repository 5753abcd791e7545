#include "signature/dev_pki.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdlib>

#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "signature/internal/der.h"
#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::BioText;
using signature_internal::Concat;
using signature_internal::OidDer;
using signature_internal::ParseCertificate;
using signature_internal::ParsePrivateKey;
using signature_internal::Ptr;
using signature_internal::Tlv;
using signature_internal::ToAsn1Time;

Status AddConf(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError("cannot add certificate extension " + std::string(OBJ_nid2sn(nid)) + ": " +
                         signature_internal::OpensslErrors());
  }
  return OkStatus();
}

Status SetSerial(ASN1_INTEGER* out, std::uint64_t serial) {
  if (serial != 0) {
    return ASN1_INTEGER_set_uint64(out, serial) == 1 ? OkStatus()
                                                     : InternalError("cannot set a serial");
  }
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return InternalError("no randomness for a serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x01);
  Ptr<BIGNUM> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), out) == nullptr) {
    return InternalError("cannot set a serial");
  }
  return OkStatus();
}

void AddName(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return;
  X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
}

std::string PemOf(EVP_PKEY* key) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  return BioText(bio.get());
}

}  // namespace

Result<Bytes> EncodeHcRoleAttributes(const std::vector<std::string>& roles) {
  if (roles.empty()) return InvalidArgumentError("no hcRole values");
  HK_ASSIGN_OR_RETURN(Bytes scheme, OidDer(kHcRoleCodingSchemeOid));
  HK_ASSIGN_OR_RETURN(Bytes attr_type, OidDer(kHcRoleAttributeOid));
  std::vector<Bytes> actors;
  for (const std::string& role : roles) {
    const Bytes text = Tlv(0x0c, ToBytes(role));  // UTF8String
    // CodedData ::= SET { [0] EXPLICIT OID, [2] EXPLICIT DirectoryString }
    const Bytes coded = Tlv(0x31, Concat({Tlv(0xa0, scheme), Tlv(0xa2, text)}, false));
    actors.push_back(Tlv(0x30, Tlv(0xa0, coded)));  // HCActor ::= SEQUENCE { [0] CodedData }
  }
  const Bytes actor_data = Tlv(0x31, Concat(actors, true));  // HCActorData ::= SET OF HCActor
  const Bytes attribute = Tlv(0x30, Concat({attr_type, Tlv(0x31, actor_data)}, false));
  return Tlv(0x30, attribute);  // SubjectDirectoryAttributes ::= SEQUENCE OF Attribute
}

Result<CertificateAndKey> MakeDevCertificate(const DevCertificateSpec& spec,
                                             const CertificateAndKey* issuer) {
  if (spec.common_name.empty()) return InvalidArgumentError("a certificate needs a common name");
  Ptr<EVP_PKEY> key;
  if (!spec.key_pem.empty()) {
    HK_ASSIGN_OR_RETURN(key, ParsePrivateKey(ToBytes(spec.key_pem)));
  } else {
    key.reset(spec.key_type == DevKeyType::kRsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  }
  if (!key) return InternalError("cannot generate a key: " + signature_internal::OpensslErrors());
  Ptr<X509> cert(X509_new());
  if (!cert) return InternalError("out of memory");
  X509_set_version(cert.get(), 2);
  HK_RETURN_IF_ERROR(SetSerial(X509_get_serialNumber(cert.get()), spec.serial));

  if (spec.not_before == TimePoint{}) {
    return InvalidArgumentError("a certificate needs the start of its validity period");
  }
  const TimePoint not_before = spec.not_before;
  const TimePoint not_after = spec.not_after != TimePoint{}
                                  ? spec.not_after
                                  : not_before + std::chrono::hours(24) * spec.valid_days;
  Ptr<ASN1_TIME> nb = ToAsn1Time(not_before);
  Ptr<ASN1_TIME> na = ToAsn1Time(not_after);
  if (!nb || !na || X509_set1_notBefore(cert.get(), nb.get()) != 1 ||
      X509_set1_notAfter(cert.get(), na.get()) != 1) {
    return InternalError("cannot set the validity period");
  }
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  AddName(name, "C", spec.country);
  AddName(name, "O", spec.organization);
  AddName(name, "OU", spec.organizational_unit);
  AddName(name, "CN", spec.common_name);
  AddName(name, "serialNumber", spec.serial_number);

  Ptr<X509> issuer_cert;
  Ptr<EVP_PKEY> issuer_key;
  if (issuer != nullptr) {
    HK_ASSIGN_OR_RETURN(issuer_cert, ParseCertificate(ToBytes(issuer->cert_pem)));
    HK_ASSIGN_OR_RETURN(issuer_key, ParsePrivateKey(ToBytes(issuer->key_pem)));
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509* signer = issuer_cert ? issuer_cert.get() : cert.get();

  if (spec.is_ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.path_length >= 0) bc += ",pathlen:" + std::to_string(spec.path_length);
    HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_basic_constraints, bc));
    HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    std::string ku;
    if (spec.non_repudiation) ku += ",nonRepudiation";
    if (spec.digital_signature || spec.time_stamping || spec.client_auth) {
      ku += ",digitalSignature";
    }
    if (!ku.empty())
      HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_key_usage, "critical" + ku));
    if (spec.time_stamping) {
      HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_ext_key_usage, "critical,timeStamping"));
    } else if (spec.client_auth) {
      HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_ext_key_usage, "clientAuth"));
    }
  }
  HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (issuer_cert) {
    HK_RETURN_IF_ERROR(AddConf(cert.get(), signer, NID_authority_key_identifier, "keyid:always"));
  }
  if (!spec.policy_oids.empty()) {
    CERTIFICATEPOLICIES* policies = CERTIFICATEPOLICIES_new();
    for (const std::string& oid : spec.policy_oids) {
      POLICYINFO* info = POLICYINFO_new();
      ASN1_OBJECT_free(info->policyid);
      info->policyid = OBJ_txt2obj(oid.c_str(), 1);
      sk_POLICYINFO_push(policies, info);
    }
    const int added = X509_add1_ext_i2d(cert.get(), NID_certificate_policies, policies, 1, 0);
    CERTIFICATEPOLICIES_free(policies);
    if (added != 1) return InvalidArgumentError("cannot add the certificate policies");
  }
  if (!spec.crl_url.empty()) {
    HK_RETURN_IF_ERROR(
        AddConf(cert.get(), signer, NID_crl_distribution_points, "URI:" + spec.crl_url));
  }
  if (!spec.hc_roles.empty()) {
    HK_ASSIGN_OR_RETURN(Bytes der, EncodeHcRoleAttributes(spec.hc_roles));
    Ptr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
    if (!value ||
        ASN1_OCTET_STRING_set(value.get(), der.data(), static_cast<int>(der.size())) != 1) {
      return InternalError("out of memory");
    }
    Ptr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_NID(nullptr, NID_subject_directory_attributes, 0, value.get()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
      return InternalError("cannot add subjectDirectoryAttributes");
    }
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key.get() : key.get(), EVP_sha256()) == 0) {
    return InternalError("cannot sign the certificate: " + signature_internal::OpensslErrors());
  }
  CertificateAndKey out;
  out.cert_pem = signature_internal::CertificatePem(cert.get());
  out.key_pem = PemOf(key.get());
  if (out.cert_pem.empty() || out.key_pem.empty()) {
    return InternalError("cannot encode the certificate");
  }
  return out;
}

Result<std::string> MakeDevCrl(const CertificateAndKey& issuer,
                               const std::vector<DevRevocation>& revoked, TimePoint this_update,
                               TimePoint next_update, std::uint64_t crl_number) {
  HK_ASSIGN_OR_RETURN(Ptr<X509> issuer_cert, ParseCertificate(ToBytes(issuer.cert_pem)));
  HK_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> issuer_key, ParsePrivateKey(ToBytes(issuer.key_pem)));
  Ptr<X509_CRL> crl(X509_CRL_new());
  if (!crl) return InternalError("out of memory");
  X509_CRL_set_version(crl.get(), 1);  // v2
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer_cert.get()));
  Ptr<ASN1_TIME> lu = ToAsn1Time(this_update);
  Ptr<ASN1_TIME> nu = ToAsn1Time(next_update);
  X509_CRL_set1_lastUpdate(crl.get(), lu.get());
  X509_CRL_set1_nextUpdate(crl.get(), nu.get());
  for (const DevRevocation& r : revoked) {
    HK_ASSIGN_OR_RETURN(Ptr<X509> cert, ParseCertificate(ToBytes(r.cert_pem)));
    X509_REVOKED* entry = X509_REVOKED_new();
    Ptr<ASN1_TIME> when = ToAsn1Time(r.revoked_at);
    X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert.get()));
    X509_REVOKED_set_revocationDate(entry, when.get());
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, r.reason);
    X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  X509_CRL_sort(crl.get());
  Ptr<ASN1_INTEGER> number(ASN1_INTEGER_new());
  ASN1_INTEGER_set_uint64(number.get(), crl_number);
  X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert.get(), nullptr, nullptr, crl.get(), 0);
  Ptr<X509_EXTENSION> aki(
      X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (aki) X509_CRL_add_ext(crl.get(), aki.get(), -1);
  if (X509_CRL_sign(crl.get(), issuer_key.get(), EVP_sha256()) == 0) {
    return InternalError("cannot sign the CRL: " + signature_internal::OpensslErrors());
  }
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return InternalError("cannot encode the CRL");
  }
  return BioText(bio.get());
}

Result<DevHpki> MakeDevHpki(TimePoint now, const std::vector<std::string>& rsa_keys) {
  using std::chrono::hours;
  std::size_t next_key = 0;
  // The next supplied key, or "" (generate one).
  auto key = [&]() -> std::string {
    return rsa_keys.size() >= kDevHpkiKeys ? rsa_keys[next_key++] : std::string();
  };
  const TimePoint ca_start = now - hours(24 * 365 * 4);
  const TimePoint start = now - hours(24 * 30);
  DevHpki p;
  DevCertificateSpec root;
  root.common_name = "Dev HPKI Root CA";
  root.organization = "hokan development";
  root.is_ca = true;
  root.not_before = ca_start;
  root.not_after = now + hours(24 * 365 * 20);
  root.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.root, MakeDevCertificate(root));

  DevCertificateSpec ca = root;
  ca.common_name = "Dev HPKI Signing CA";
  ca.path_length = 0;
  ca.policy_oids = {std::string(kHpkiSigningPolicyArc) + ".3.1"};
  ca.crl_url = "http://hpki.invalid/root.crl";
  ca.not_after = now + hours(24 * 365 * 10);
  ca.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.signing_ca, MakeDevCertificate(ca, &p.root));
  DevCertificateSpec tsa_ca = ca;
  tsa_ca.common_name = "Dev TSA CA";
  tsa_ca.policy_oids.clear();
  tsa_ca.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.tsa_ca, MakeDevCertificate(tsa_ca, &p.root));

  DevCertificateSpec ee;
  ee.organization = "HOKAN UNIVERSITY HOSPITAL";
  ee.non_repudiation = true;
  ee.policy_oids = {std::string(kHpkiSigningPolicyArc) + ".0.1"};
  ee.crl_url = "http://hpki.invalid/sign.crl";
  ee.not_before = start;
  ee.not_after = now + hours(24 * 365 * 5);
  DevCertificateSpec doctor = ee;
  doctor.common_name = "Taro Iryo";
  doctor.serial_number = "DEV000001";
  doctor.hc_roles = {"Medical Doctor"};
  doctor.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.doctor, MakeDevCertificate(doctor, &p.signing_ca));
  DevCertificateSpec pharmacist = ee;
  pharmacist.common_name = "Hanako Yakuzai";
  pharmacist.serial_number = "DEV000002";
  pharmacist.hc_roles = {"Pharmacist"};
  pharmacist.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.pharmacist, MakeDevCertificate(pharmacist, &p.signing_ca));
  DevCertificateSpec no_role = ee;
  no_role.common_name = "Jiro Jimu";
  no_role.serial_number = "DEV000003";
  no_role.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.no_role, MakeDevCertificate(no_role, &p.signing_ca));
  DevCertificateSpec auth = doctor;
  auth.common_name = "Taro Iryo (authentication)";
  auth.non_repudiation = false;
  auth.digital_signature = true;
  auth.client_auth = true;
  auth.policy_oids = {std::string(kHpkiAuthenticationPolicyArc) + ".0.1"};
  auth.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.auth_only, MakeDevCertificate(auth, &p.signing_ca));
  DevCertificateSpec expired = doctor;
  expired.common_name = "Saburo Kigen";
  expired.serial_number = "DEV000004";
  expired.not_before = now - hours(24 * 365 * 3);
  expired.not_after = now - hours(24 * 365);
  expired.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.expired, MakeDevCertificate(expired, &p.signing_ca));
  DevCertificateSpec revoked = doctor;
  revoked.common_name = "Shiro Shikkou";
  revoked.serial_number = "DEV000005";
  revoked.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.revoked, MakeDevCertificate(revoked, &p.signing_ca));

  DevCertificateSpec tsa;
  tsa.common_name = "Dev TSA 1 - NOT ACCREDITED";
  tsa.organization = "hokan development";
  tsa.time_stamping = true;
  tsa.not_before = ca_start;
  tsa.not_after = now + hours(24 * 365 * 5);
  tsa.key_pem = key();
  HK_ASSIGN_OR_RETURN(p.tsa, MakeDevCertificate(tsa, &p.tsa_ca));

  p.revoked_at = now - hours(1);
  HK_ASSIGN_OR_RETURN(
      p.signing_ca_crl,
      MakeDevCrl(p.signing_ca, {{p.revoked.cert_pem, p.revoked_at, 1}}, now, now + hours(24 * 7)));
  HK_ASSIGN_OR_RETURN(p.root_crl, MakeDevCrl(p.root, {}, now, now + hours(24 * 30)));
  HK_ASSIGN_OR_RETURN(p.tsa_ca_crl, MakeDevCrl(p.tsa_ca, {}, now, now + hours(24 * 7)));
  return p;
}

Result<DevHpki> MakeCachedDevHpki(TimePoint now) {
  std::string dir = "/tmp";
  for (const char* var : {"HK_TEST_TMPDIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') {
      dir = v;
      break;
    }
  }
  PosixFileSystem fs;
  const std::string path = JoinPath(dir, "hokan-dev-hpki-keys-v1.pem");
  std::vector<std::string> keys;
  if (Result<Bytes> cached = fs.ReadFile(path)) {
    const std::string text(AsChars(*cached));
    constexpr std::string_view kBegin = "-----BEGIN PRIVATE KEY-----";
    for (std::size_t at = text.find(kBegin); at != std::string::npos;) {
      const std::size_t next = text.find(kBegin, at + 1);
      keys.push_back(text.substr(at, next == std::string::npos ? std::string::npos : next - at));
      at = next;
    }
  }
  if (keys.size() < kDevHpkiKeys) {
    keys.clear();
    std::string all;
    for (std::size_t i = 0; i < kDevHpkiKeys; ++i) {
      Ptr<EVP_PKEY> k(EVP_RSA_gen(2048));
      if (!k) return InternalError("cannot generate a key");
      keys.push_back(PemOf(k.get()));
      all += keys.back();
    }
    // Written aside and renamed: a parallel test process reads a whole file or none.
    HK_ASSIGN_OR_RETURN(std::string suffix, RandomHexId(8));
    const std::string tmp = path + "." + suffix + ".tmp";
    if (auto f = fs.NewWritableFile(tmp)) {
      if ((*f)->Append(AsBytes(all)).ok() && (*f)->Close().ok()) (void)fs.Rename(tmp, path);
    }
    (void)fs.Remove(tmp);
  }
  return MakeDevHpki(now, keys);
}

}  // namespace hokan
