#include "signature/hpki.h"

#include <openssl/x509v3.h>

#include <optional>

#include "signature/dev_pki.h"  // OIDs
#include "signature/internal/der.h"
#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::Children;
using signature_internal::Element;
using signature_internal::IsContext;
using signature_internal::OidText;
using signature_internal::Ptr;

Result<std::string> DirectoryStringText(const Element& e) {
  const unsigned char* p = e.start;
  Ptr<ASN1_STRING> s(d2i_DIRECTORYSTRING(nullptr, &p, e.total()));
  if (!s) return InvalidArgumentError("an hcRole value is not a DirectoryString");
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s.get());
  if (n < 0) return InvalidArgumentError("an hcRole value is not valid text");
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Status BadSda() {
  return InvalidArgumentError("the certificate's subjectDirectoryAttributes are malformed");
}

// CodedData ::= SET { [0] EXPLICIT OID, [1] NumericString OPTIONAL, [2] EXPLICIT DirectoryString }
Status ReadCodedData(const Element& coded, std::vector<std::string>& roles) {
  std::vector<Element> fields;
  if (!Children(coded, fields)) return BadSda();
  std::string scheme;
  std::optional<std::string> text;
  for (const Element& f : fields) {
    std::vector<Element> inner;
    if (IsContext(f, 0)) {
      if (!Children(f, inner) || inner.size() != 1) return BadSda();
      scheme = OidText(inner[0]);
    } else if (IsContext(f, 2)) {
      if (!Children(f, inner) || inner.size() != 1) return BadSda();
      HK_ASSIGN_OR_RETURN(text, DirectoryStringText(inner[0]));
    }
  }
  if (scheme == kHcRoleCodingSchemeOid && text.has_value()) roles.push_back(*text);
  return OkStatus();
}

}  // namespace

Result<std::vector<std::string>> DecodeHcRoles(ByteView der) {
  std::vector<std::string> roles;
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + der.size();
  Element sda;
  std::vector<Element> attributes;
  if (!signature_internal::NextElement(p, end, sda) || p != end || sda.tag != V_ASN1_SEQUENCE ||
      !Children(sda, attributes)) {
    return BadSda();
  }
  for (const Element& attribute : attributes) {
    std::vector<Element> parts;  // type, values
    if (attribute.tag != V_ASN1_SEQUENCE || !Children(attribute, parts) || parts.size() != 2 ||
        parts[0].tag != V_ASN1_OBJECT || parts[1].tag != V_ASN1_SET) {
      return BadSda();
    }
    if (OidText(parts[0]) != kHcRoleAttributeOid) continue;
    std::vector<Element> values;  // Each an HCActorData (SET OF HCActor).
    if (!Children(parts[1], values)) return BadSda();
    for (const Element& actor_data : values) {
      std::vector<Element> actors;
      if (actor_data.tag != V_ASN1_SET || !Children(actor_data, actors)) return BadSda();
      for (const Element& actor : actors) {
        std::vector<Element> fields;  // [0] codedData, [1] regionalHCActorData OPTIONAL
        if (actor.tag != V_ASN1_SEQUENCE || !Children(actor, fields) || fields.empty() ||
            !IsContext(fields[0], 0)) {
          return BadSda();
        }
        std::vector<Element> coded;
        if (!Children(fields[0], coded) || coded.size() != 1 || coded[0].tag != V_ASN1_SET) {
          return BadSda();
        }
        HK_RETURN_IF_ERROR(ReadCodedData(coded[0], roles));
      }
    }
  }
  return roles;
}

Result<HpkiProfile> ReadHpkiProfile(ByteView certificate) {
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, signature_internal::ParseCertificate(certificate));
  HpkiProfile profile;
  const std::uint32_t flags = X509_get_extension_flags(cert.get());
  if ((flags & EXFLAG_INVALID) != 0) {
    return InvalidArgumentError("the certificate has malformed extensions");
  }
  if ((flags & EXFLAG_KUSAGE) != 0) {
    const std::uint32_t ku = X509_get_key_usage(cert.get());
    profile.non_repudiation = (ku & KU_NON_REPUDIATION) != 0;
    profile.digital_signature = (ku & KU_DIGITAL_SIGNATURE) != 0;
  }
  auto* policies = static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(cert.get(), NID_certificate_policies, nullptr, nullptr));
  const std::string signing_arc = std::string(kHpkiSigningPolicyArc) + ".";
  const std::string auth_arc = std::string(kHpkiAuthenticationPolicyArc) + ".";
  for (int i = 0; policies != nullptr && i < sk_POLICYINFO_num(policies); ++i) {
    char buf[128];
    const int n = OBJ_obj2txt(buf, sizeof buf, sk_POLICYINFO_value(policies, i)->policyid, 1);
    if (n <= 0 || n >= static_cast<int>(sizeof buf)) continue;
    std::string oid(buf);
    profile.signing_policy |= oid.starts_with(signing_arc);
    profile.authentication_policy |= oid.starts_with(auth_arc);
    profile.policies.push_back(std::move(oid));
  }
  CERTIFICATEPOLICIES_free(policies);
  const int sda = X509_get_ext_by_NID(cert.get(), NID_subject_directory_attributes, -1);
  if (sda >= 0) {
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(cert.get(), sda));
    HK_ASSIGN_OR_RETURN(
        profile.hc_roles,
        DecodeHcRoles(ByteView(ASN1_STRING_get0_data(value),
                               static_cast<std::size_t>(ASN1_STRING_length(value)))));
  }
  ERR_clear_error();
  if (profile.authentication_policy && !profile.signing_policy) {
    profile.signing_problem =
        "the certificate is an HPKI authentication certificate, not a signing certificate";
  } else if (!profile.non_repudiation) {
    profile.signing_problem = "the certificate's keyUsage lacks nonRepudiation";
  } else if (!profile.signing_policy) {
    profile.signing_problem =
        "the certificate has no policy under 1.2.392.100495.1.5.1.1 (HPKI signing)";
  }
  return profile;
}

}  // namespace hokan
