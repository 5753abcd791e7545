// Test fixtures for XAdES (shared by xades_test.cc and the CLI tests under tests/): a document
// shaped like the national e-prescription (JP-STANDARDS.md §2.3) with a ds:Signature template
// (exclusive C14N SignedInfo, rsa-sha256, a reference to #PrescriptionDocument without
// Transforms, the signed KeyInfo and SignedProperties with SigningTime and
// SigningCertificateV2), signed with xmlsec's own signing API. Header-only, tests only.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "crypto/crypto.h"
#include "signature/xades.h"

namespace hokan::xades_fixture {

inline constexpr char kDsig[] = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr char kExcC14n[] = "http://www.w3.org/2001/10/xml-exc-c14n#";
inline constexpr char kXsiDecl[] = " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

// The base64 body of a PEM block: the DER, base64.
inline std::string PemBody(std::string_view pem) {
  std::string out;
  std::size_t pos = 0;
  while (pos < pem.size()) {
    std::size_t end = pem.find('\n', pos);
    if (end == std::string_view::npos) end = pem.size();
    std::string_view line = pem.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "-----") out += line;
    pos = end + 1;
  }
  return out;
}

inline Bytes PemDer(std::string_view pem) {
  Result<Bytes> der = Base64Decode(PemBody(pem));
  return der ? *der : Bytes();
}

inline std::string Sha256Base64(ByteView data) {
  const Sha256Digest d = Sha256(data);
  return Base64Encode(d);
}

struct TemplateOptions {
  std::string signer_cert_pem;
  std::string signing_certificate_digest;  // Base64; default: of the signer's certificate.
  bool document_exc_c14n = false;  // Give the document reference an exclusive C14N Transform.
  std::string signing_time = "2026-04-01T09:30:00Z";
};

inline constexpr char kPrescriptionCsv[] = "SJ1,1,EPS1.0\r\nRP,1,Amlodipine 5mg\r\n";

// A ds:Signature template with the e-prescription profile (JP-STANDARDS.md §2.3): exclusive
// C14N SignedInfo, rsa-sha256, references to `document_uri` (no Transforms), the KeyInfo and
// the SignedProperties.
inline std::string SignatureTemplate(const std::string& id, const std::string& document_uri,
                                     const TemplateOptions& o) {
  const std::string digest = o.signing_certificate_digest.empty()
                                 ? Sha256Base64(PemDer(o.signer_cert_pem))
                                 : o.signing_certificate_digest;
  const std::string exc_transform =
      std::string("<ds:Transforms><ds:Transform Algorithm=\"") + kExcC14n + "\"/></ds:Transforms>";
  const std::string sha256 =
      "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>";
  return "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"" + id +
         "\">\n"
         "        <ds:SignedInfo>\n"
         "          <ds:CanonicalizationMethod Algorithm=\"" +
         kExcC14n +
         "\"/>\n"
         "          <ds:SignatureMethod "
         "Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\n"
         "          <ds:Reference URI=\"" +
         document_uri + "\">" + (o.document_exc_c14n ? exc_transform : "") + sha256 +
         "<ds:DigestValue/></ds:Reference>\n"
         "          <ds:Reference URI=\"#" +
         id + "-KeyInfo\">" + exc_transform + sha256 +
         "<ds:DigestValue/></ds:Reference>\n"
         "          <ds:Reference URI=\"#" +
         id + "-SignedProperties\" Type=\"http://uri.etsi.org/01903#SignedProperties\">" +
         exc_transform + sha256 +
         "<ds:DigestValue/></ds:Reference>\n"
         "        </ds:SignedInfo>\n"
         "        <ds:SignatureValue/>\n"
         "        <ds:KeyInfo Id=\"" +
         id + "-KeyInfo\"><ds:X509Data><ds:X509Certificate>" + PemBody(o.signer_cert_pem) +
         "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n"
         "        <ds:Object>\n"
         "          <xades:QualifyingProperties xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\" "
         "xmlns:xades141=\"http://uri.etsi.org/01903/v1.4.1#\" Target=\"#" +
         id +
         "\">\n"
         "            <xades:SignedProperties Id=\"" +
         id +
         "-SignedProperties\">\n"
         "              <xades:SignedSignatureProperties>\n"
         "                <xades:SigningTime>" +
         o.signing_time +
         "</xades:SigningTime>\n"
         "                <xades:SigningCertificateV2><xades:Cert><xades:CertDigest>" +
         sha256 + "<ds:DigestValue>" + digest +
         "</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2>\n"
         "              </xades:SignedSignatureProperties>\n"
         "            </xades:SignedProperties>\n"
         "          </xades:QualifyingProperties>\n"
         "        </ds:Object>\n"
         "      </ds:Signature>";
}

// The <Prescription> element of an e-prescription shaped document.
inline std::string PrescriptionElement(const TemplateOptions& o) {
  return "<Prescription>\n"
         "    <PrescriptionManagement id=\"PrescriptionManagement\">\n"
         "      <Version Value=\"EPS1.0\"/>\n"
         "      <PrescriptionId Value=\"0f6f8f5e-7f0c-4c8e-9a53-3f0c2b9d7d11\"/>\n"
         "    </PrescriptionManagement>\n"
         "    <PrescriptionDocument id=\"PrescriptionDocument\">" +
         Base64Encode(AsBytes(kPrescriptionCsv)) +
         "</PrescriptionDocument>\n"
         "    <PrescriptionSign>\n"
         "      " +
         SignatureTemplate("PrescriptionSign", "#PrescriptionDocument", o) +
         "\n"
         "    </PrescriptionSign>\n"
         "  </Prescription>";
}

// An e-prescription shaped document with a signature template (JP-STANDARDS.md §2.3).
inline std::string Template(const TemplateOptions& o) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document") + kXsiDecl + ">\n  " +
         PrescriptionElement(o) + "\n</Document>\n";
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

inline DocPtr ParseForTest(const std::string& xml) {
  return DocPtr(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, XML_PARSE_NONET));
}

// Signs the ds:Signature template with Id `signature_id` with xmlsec's signing API (the key
// alone: the certificate is already in the template's KeyInfo, which a reference covers).
inline Result<std::string> SignWithXmlsec(const std::string& tmpl, const std::string& key_pem,
                                          const std::string& signature_id = "PrescriptionSign") {
  HK_RETURN_IF_ERROR(InitXmlSecurity());
  DocPtr doc = ParseForTest(tmpl);
  if (!doc) return InvalidArgumentError("the template is not XML");
  xmlNode* root = xmlDocGetRootElement(doc.get());
  const xmlChar* ids[] = {BAD_CAST "Id", BAD_CAST "id", nullptr};
  xmlSecAddIDs(doc.get(), root, ids);
  xmlAttr* id = xmlGetID(doc.get(), BAD_CAST signature_id.c_str());
  if (id == nullptr) return InvalidArgumentError("the template has no " + signature_id);
  xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(nullptr);
  ctx->signKey = xmlSecCryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(key_pem.data()),
                                              static_cast<xmlSecSize>(key_pem.size()),
                                              xmlSecKeyDataFormatPem, nullptr, nullptr, nullptr);
  const bool signed_ok = ctx->signKey != nullptr && xmlSecDSigCtxSign(ctx, id->parent) == 0;
  xmlSecDSigCtxDestroy(ctx);
  if (!signed_ok) return InternalError("xmlsec could not sign the template");
  xmlChar* out = nullptr;
  int size = 0;
  xmlDocDumpMemory(doc.get(), &out, &size);
  std::string signed_xml(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
  xmlFree(out);
  return signed_xml;
}

}  // namespace hokan::xades_fixture
