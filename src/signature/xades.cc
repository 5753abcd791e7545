#include "signature/xades.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <array>
#include <climits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "base/encoding.h"
#include "signature/internal/ossl.h"
#include "signature/internal/report_json.h"

namespace hokan {
namespace {

using signature_internal::ParseCertificate;
using signature_internal::ParseCrls;
using signature_internal::Ptr;

constexpr char kDsigNs[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr char kXadesNs[] = "http://uri.etsi.org/01903/v1.3.2#";
constexpr char kXades141Ns[] = "http://uri.etsi.org/01903/v1.4.1#";
constexpr char kExcC14nNs[] = "http://www.w3.org/2001/10/xml-exc-c14n#";
constexpr char kInclC14n[] = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";

// ---------------------------------------------------------------------------------------------
// Owners for libxml2 and xmlsec objects.

struct XmlFree {
  void operator()(xmlDoc* p) const { xmlFreeDoc(p); }
  void operator()(xmlParserCtxt* p) const { xmlFreeParserCtxt(p); }
  void operator()(xmlChar* p) const { xmlFree(p); }
  void operator()(xmlOutputBuffer* p) const { xmlOutputBufferClose(p); }
  void operator()(xmlSecDSigCtx* p) const { xmlSecDSigCtxDestroy(p); }
  void operator()(xmlSecDSigReferenceCtx* p) const { xmlSecDSigReferenceCtxDestroy(p); }
  void operator()(xmlSecKey* p) const { xmlSecKeyDestroy(p); }
  void operator()(xmlSecKeyData* p) const { xmlSecKeyDataDestroy(p); }
};
template <class T>
using XmlPtr = std::unique_ptr<T, XmlFree>;

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }

// libxml2 reports errors (c14n, XPointer) through per-thread handlers that print to stderr by
// default; the outcome reaches the caller through return values instead.
void SilentGeneric(void* /*ctx*/, const char* /*msg*/, ...) {}
void SilentStructured(void* /*ctx*/, xmlErrorPtr /*error*/) {}
void SilentXmlSec(const char* /*file*/, int /*line*/, const char* /*func*/,
                  const char* /*error_object*/, const char* /*error_subject*/, int /*reason*/,
                  const char* /*msg*/) {}

class QuietLibxml {
 public:
  QuietLibxml()
      : generic_(xmlGenericError),
        generic_ctx_(xmlGenericErrorContext),
        structured_(xmlStructuredError),
        structured_ctx_(xmlStructuredErrorContext) {
    xmlSetGenericErrorFunc(nullptr, SilentGeneric);
    xmlSetStructuredErrorFunc(nullptr, SilentStructured);
  }
  ~QuietLibxml() {
    xmlSetGenericErrorFunc(generic_ctx_, generic_);
    xmlSetStructuredErrorFunc(structured_ctx_, structured_);
  }
  QuietLibxml(const QuietLibxml&) = delete;
  QuietLibxml& operator=(const QuietLibxml&) = delete;

 private:
  xmlGenericErrorFunc generic_;
  void* generic_ctx_;
  xmlStructuredErrorFunc structured_;
  void* structured_ctx_;
};

// ---------------------------------------------------------------------------------------------
// Parsing, hardened.

struct ParseState {
  bool dtd = false;
};

// A DOCTYPE is refused as soon as the parser sees it, before any entity declaration in the
// internal subset is read: no external entity is loaded and no entity is ever expanded.
void RefuseDtd(void* ctx, const xmlChar* /*name*/, const xmlChar* /*external_id*/,
               const xmlChar* /*system_id*/) {
  auto* parser = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<ParseState*>(parser->_private)->dtd = true;
  xmlStopParser(parser);
}

Result<XmlPtr<xmlDoc>> ParseDocument(ByteView xml, std::size_t max_bytes) {
  if (xml.empty()) return InvalidArgumentError("the document is empty");
  if (xml.size() > max_bytes || xml.size() > static_cast<std::size_t>(INT_MAX)) {
    return InvalidArgumentError("the document is larger than the limit of " +
                                std::to_string(max_bytes) + " bytes");
  }
  XmlPtr<xmlParserCtxt> ctxt(xmlCreateMemoryParserCtxt(reinterpret_cast<const char*>(xml.data()),
                                                       static_cast<int>(xml.size())));
  if (!ctxt || ctxt->sax == nullptr) return InternalError("cannot create an XML parser");
  // No network, no DTD loading or defaulted attributes, no entity substitution, no output.
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  ctxt->loadsubset = 0;
  ctxt->replaceEntities = 0;
  ctxt->validate = 0;
  ParseState state;
  ctxt->_private = &state;
  ctxt->sax->internalSubset = RefuseDtd;
  ctxt->sax->externalSubset = RefuseDtd;
  xmlParseDocument(ctxt.get());
  XmlPtr<xmlDoc> doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  if (state.dtd) {
    return InvalidArgumentError(
        "the document has a DTD (<!DOCTYPE>), which is refused so that no entity is expanded "
        "or loaded");
  }
  if (ctxt->wellFormed == 0 || !doc || xmlDocGetRootElement(doc.get()) == nullptr) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    return InvalidArgumentError("the document is not well-formed XML" +
                                (e != nullptr ? " (libxml2 error " + std::to_string(e->code) +
                                                    " at line " + std::to_string(e->line) + ")"
                                              : std::string()));
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Tree helpers.

bool IsElement(const xmlNode* n, const char* ns, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         n->ns->href != nullptr && xmlStrEqual(n->ns->href, X(ns)) != 0 &&
         xmlStrEqual(n->name, X(name)) != 0;
}

xmlNode* Child(const xmlNode* parent, const char* ns, const char* name) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (IsElement(c, ns, name)) return c;
  }
  return nullptr;
}

std::vector<xmlNode*> Children(const xmlNode* parent, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  if (parent == nullptr) return out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (IsElement(c, ns, name)) out.push_back(c);
  }
  return out;
}

xmlNode* FirstElementChild(const xmlNode* parent) {
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return c;
  }
  return nullptr;
}

std::optional<std::string> Attr(const xmlNode* n, const char* name) {
  if (n == nullptr) return std::nullopt;
  XmlPtr<xmlChar> v(xmlGetNoNsProp(n, X(name)));
  if (!v) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(v.get()));
}

std::string AttrOr(const xmlNode* n, const char* name) { return Attr(n, name).value_or(""); }

std::string Text(const xmlNode* n) {
  if (n == nullptr) return {};
  XmlPtr<xmlChar> v(xmlNodeGetContent(n));
  return v ? std::string(reinterpret_cast<const char*>(v.get())) : std::string();
}

std::string_view Trim(std::string_view s) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
  while (!s.empty() && !not_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && !not_space(s.back())) s.remove_suffix(1);
  return s;
}

// base64Binary content: XML producers wrap lines, so whitespace is dropped first.
std::optional<Bytes> Base64Content(const xmlNode* n) {
  std::string text = Text(n);
  text.erase(std::remove_if(text.begin(), text.end(),
                            [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }),
             text.end());
  if (text.empty()) return std::nullopt;
  Result<Bytes> b = Base64Decode(text);
  if (!b) return std::nullopt;
  return std::move(b).value();
}

// For messages: identifiers from the document, shortened.
std::string Shown(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out(s.substr(0, kMax));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// Registers every Id/ID/id attribute as an XML ID, so that "#name" references resolve. Two
// elements with the same ID would let a reference point at another element than the one
// a reader sees (signature wrapping), so that is refused.
Status RegisterIds(xmlDoc* doc, xmlNode* node) {
  for (xmlNode* n = node; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    for (xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      if (a->ns != nullptr) continue;
      if (xmlStrEqual(a->name, X("Id")) == 0 && xmlStrEqual(a->name, X("ID")) == 0 &&
          xmlStrEqual(a->name, X("id")) == 0) {
        continue;
      }
      XmlPtr<xmlChar> value(xmlNodeListGetString(doc, a->children, 1));
      if (!value) continue;
      xmlAttr* existing = xmlGetID(doc, value.get());
      if (existing == a) continue;
      if (existing != nullptr) {
        return InvalidArgumentError("two elements have the XML ID '" +
                                    Shown(reinterpret_cast<const char*>(value.get())) + "'");
      }
      if (xmlAddID(nullptr, doc, value.get(), a) == nullptr) {
        return InvalidArgumentError("the XML ID '" +
                                    Shown(reinterpret_cast<const char*>(value.get())) +
                                    "' cannot be registered");
      }
    }
    HK_RETURN_IF_ERROR(RegisterIds(doc, n->children));
  }
  return OkStatus();
}

void FindSignatures(xmlNode* node, std::vector<xmlNode*>& out) {
  for (xmlNode* n = node; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (IsElement(n, kDsigNs, "Signature")) out.push_back(n);
    FindSignatures(n->children, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Algorithms.

struct C14nMethod {
  xmlC14NMode mode;
  bool with_comments;
};

std::optional<C14nMethod> C14nFor(std::string_view uri) {
  if (uri == kInclC14n) return C14nMethod{XML_C14N_1_0, false};
  if (uri == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments") {
    return C14nMethod{XML_C14N_1_0, true};
  }
  if (uri == kExcC14nNs) return C14nMethod{XML_C14N_EXCLUSIVE_1_0, false};
  if (uri == "http://www.w3.org/2001/10/xml-exc-c14n#WithComments") {
    return C14nMethod{XML_C14N_EXCLUSIVE_1_0, true};
  }
  if (uri == "http://www.w3.org/2006/12/xml-c14n11") return C14nMethod{XML_C14N_1_1, false};
  if (uri == "http://www.w3.org/2006/12/xml-c14n11#WithComments") {
    return C14nMethod{XML_C14N_1_1, true};
  }
  return std::nullopt;
}

bool IsAllowedTransform(std::string_view uri) {
  return C14nFor(uri).has_value() || uri == "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
}

bool IsAllowedDigest(std::string_view uri) {
  return uri == "http://www.w3.org/2001/04/xmlenc#sha256" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#sha384" ||
         uri == "http://www.w3.org/2001/04/xmlenc#sha512";
}

bool IsAllowedSignatureMethod(std::string_view uri) {
  return uri == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" ||
         uri == "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
}

// Certificate digests (SigningCertificate V1 used SHA-1; a digest of a certificate that is
// also present is not weakened by SHA-1's collisions the way a signed reference would be).
const EVP_MD* CertDigestMd(std::string_view uri) {
  if (uri == "http://www.w3.org/2000/09/xmldsig#sha1") return EVP_sha1();
  if (uri == "http://www.w3.org/2001/04/xmldsig-more#sha224") return EVP_sha224();
  if (uri == "http://www.w3.org/2001/04/xmlenc#sha256") return EVP_sha256();
  if (uri == "http://www.w3.org/2001/04/xmldsig-more#sha384") return EVP_sha384();
  if (uri == "http://www.w3.org/2001/04/xmlenc#sha512") return EVP_sha512();
  return nullptr;
}

Bytes Digest(const EVP_MD* md, ByteView data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1) return {};
  return Bytes(out.begin(), out.begin() + n);
}

// The XML ID a Reference URI names: "" for the whole document ("" or "#xpointer(/)"), the ID
// for "#id" and "#xpointer(id('id'))". nullopt for anything else: other documents, files and
// network resources are never fetched.
std::optional<std::string> SameDocumentId(std::string_view uri) {
  if (uri.empty() || uri == "#xpointer(/)") return std::string();
  if (uri.front() != '#') return std::nullopt;
  std::string_view id = uri.substr(1);
  for (std::string_view open : {"xpointer(id('", "xpointer(id(\""}) {
    if (id.substr(0, open.size()) == open) {
      const std::string_view close = open.back() == '\'' ? "'))" : "\"))";
      if (id.size() < open.size() + close.size() || id.substr(id.size() - close.size()) != close) {
        return std::nullopt;
      }
      id = id.substr(open.size(), id.size() - open.size() - close.size());
      break;
    }
  }
  if (id.empty() || id.find_first_of("'\"()#/<>& \t\r\n") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(id);
}

// ---------------------------------------------------------------------------------------------
// Canonicalisation of one element (the SignatureTimeStamp's input).

struct SubtreeRoot {
  const xmlNode* root;
};

int InSubtree(void* user_data, xmlNodePtr node, xmlNodePtr parent) {
  const xmlNode* root = static_cast<SubtreeRoot*>(user_data)->root;
  // Namespace nodes count as part of the element they are in scope for.
  const xmlNode* n = (node == nullptr || node->type == XML_NAMESPACE_DECL) ? parent : node;
  for (; n != nullptr; n = n->parent) {
    if (n == root) return 1;
  }
  return 0;
}

Result<Bytes> CanonicalizeElement(xmlDoc* doc, const xmlNode* element, const C14nMethod& method,
                                  const std::vector<std::string>& inclusive_prefixes) {
  XmlPtr<xmlOutputBuffer> buf(xmlAllocOutputBuffer(nullptr));
  if (!buf) return InternalError("out of memory");
  std::vector<xmlChar*> prefixes;
  prefixes.reserve(inclusive_prefixes.size() + 1);
  for (const std::string& p : inclusive_prefixes) {
    prefixes.push_back(const_cast<xmlChar*>(X(p.c_str())));
  }
  prefixes.push_back(nullptr);
  SubtreeRoot root{element};
  const int n = xmlC14NExecute(doc, InSubtree, &root, static_cast<int>(method.mode),
                               inclusive_prefixes.empty() ? nullptr : prefixes.data(),
                               method.with_comments ? 1 : 0, buf.get());
  if (n < 0) return InvalidArgumentError("the element cannot be canonicalized");
  const xmlChar* content = xmlOutputBufferGetContent(buf.get());
  const std::size_t size = xmlOutputBufferGetSize(buf.get());
  if (content == nullptr) return Bytes();
  return Bytes(content, content + size);
}

std::vector<std::string> SplitPrefixList(std::string_view list) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < list.size()) {
    const std::size_t j = list.find_first_of(" \t\r\n", i);
    const std::string_view token = list.substr(i, j == std::string_view::npos ? j : j - i);
    if (!token.empty()) out.emplace_back(token);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// xmlsec.

Status DoInit() {
  xmlInitParser();
  xmlSecErrorsSetCallback(SilentXmlSec);
  if (xmlSecInit() < 0) return InternalError("xmlsec cannot be initialised");
  if (xmlSecCheckVersion() != 1) {
    return InternalError(
        "the installed xmlsec library does not match the headers it was built with");
  }
  if (xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0) {
    return InternalError("xmlsec's OpenSSL back end cannot be initialised");
  }
  // No URI is ever opened by xmlsec: references are limited to this document below, and with
  // no input callbacks even a bug there could not read a file or the network.
  xmlSecIOCleanupCallbacks();
  return OkStatus();
}

bool EnableTransforms(xmlSecDSigCtx* ctx) {
  const std::array<xmlSecTransformId, 6> c14n = {
      xmlSecTransformInclC14NId,   xmlSecTransformInclC14NWithCommentsId,
      xmlSecTransformInclC14N11Id, xmlSecTransformInclC14N11WithCommentsId,
      xmlSecTransformExclC14NId,   xmlSecTransformExclC14NWithCommentsId};
  const std::array<xmlSecTransformId, 6> signature = {
      xmlSecTransformRsaSha256Id,   xmlSecTransformRsaSha384Id,   xmlSecTransformRsaSha512Id,
      xmlSecTransformEcdsaSha256Id, xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id};
  const std::array<xmlSecTransformId, 4> reference = {
      xmlSecTransformEnvelopedId, xmlSecTransformSha256Id, xmlSecTransformSha384Id,
      xmlSecTransformSha512Id};
  bool ok = true;
  for (xmlSecTransformId id : c14n) {
    ok = ok && xmlSecDSigCtxEnableSignatureTransform(ctx, id) >= 0 &&
         xmlSecDSigCtxEnableReferenceTransform(ctx, id) >= 0;
  }
  for (xmlSecTransformId id : signature) {
    ok = ok && xmlSecDSigCtxEnableSignatureTransform(ctx, id) >= 0;
  }
  for (xmlSecTransformId id : reference) {
    ok = ok && xmlSecDSigCtxEnableReferenceTransform(ctx, id) >= 0;
  }
  return ok;
}

// A verification context that follows only same-document references, runs only the
// canonicalisation, enveloped-signature, digest and signature algorithms listed above (no
// XSLT, no XPath), ignores ds:Manifest and never reads ds:KeyInfo (the key is given).
Result<XmlPtr<xmlSecDSigCtx>> NewDsigCtx() {
  XmlPtr<xmlSecDSigCtx> ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) return InternalError("cannot create an xmlsec signature context");
  ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
  if (!EnableTransforms(ctx.get())) return InternalError("cannot configure xmlsec transforms");
  ctx->operation = xmlSecTransformOperationVerify;
  return ctx;
}

Result<XmlPtr<xmlSecKey>> PublicKeyOf(X509* cert) {
  EVP_PKEY* pkey = X509_get_pubkey(cert);  // A new reference, adopted below.
  if (pkey == nullptr) return InvalidArgumentError("the signer's public key cannot be read");
  XmlPtr<xmlSecKeyData> data(xmlSecOpenSSLEvpKeyAdopt(pkey));
  if (!data) {
    EVP_PKEY_free(pkey);
    return InvalidArgumentError("the signer's key type is not supported");
  }
  XmlPtr<xmlSecKey> key(xmlSecKeyCreate());
  if (!key) return InternalError("out of memory");
  if (xmlSecKeySetValue(key.get(), data.get()) < 0) {
    return InternalError("cannot set the xmlsec key value");
  }
  (void)data.release();  // Owned by the key now.
  return key;
}

// ---------------------------------------------------------------------------------------------
// One signature.

struct EmbeddedCert {
  Bytes der;
  Ptr<X509> cert;
};

std::vector<EmbeddedCert> ParseCertNodes(const std::vector<xmlNode*>& nodes) {
  std::vector<EmbeddedCert> out;
  for (const xmlNode* n : nodes) {
    std::optional<Bytes> der = Base64Content(n);
    if (!der) continue;
    Result<Ptr<X509>> cert = ParseCertificate(*der);
    if (!cert) continue;
    out.push_back({std::move(*der), std::move(cert).value()});
  }
  return out;
}

std::vector<Bytes> ParseCrlNodes(const std::vector<xmlNode*>& nodes) {
  std::vector<Bytes> out;
  for (const xmlNode* n : nodes) {
    std::optional<Bytes> der = Base64Content(n);
    if (!der) continue;
    if (!ParseCrls(*der).has_value()) continue;
    out.push_back(std::move(*der));
  }
  return out;
}

// The certificates in `parent`'s xades:CertificateValues and the CRLs in its
// xades:RevocationValues/CRLValues (UnsignedSignatureProperties, TimeStampValidationData).
void CollectValidationData(const xmlNode* parent, std::vector<xmlNode*>& certs,
                           std::vector<xmlNode*>& crls) {
  for (xmlNode* values : Children(parent, kXadesNs, "CertificateValues")) {
    for (xmlNode* c : Children(values, kXadesNs, "EncapsulatedX509Certificate")) {
      certs.push_back(c);
    }
  }
  for (xmlNode* values : Children(parent, kXadesNs, "RevocationValues")) {
    for (xmlNode* crl_values : Children(values, kXadesNs, "CRLValues")) {
      for (xmlNode* c : Children(crl_values, kXadesNs, "EncapsulatedCRLValue")) {
        crls.push_back(c);
      }
    }
  }
}

struct SigningCertRef {
  const EVP_MD* md = nullptr;
  std::string method;
  Bytes digest;
};

// The Cert/CertDigest entries of SigningCertificateV2 (or V1).
std::vector<SigningCertRef> SigningCertRefs(const xmlNode* signing_certificate) {
  std::vector<SigningCertRef> out;
  for (xmlNode* cert : Children(signing_certificate, kXadesNs, "Cert")) {
    xmlNode* cert_digest = Child(cert, kXadesNs, "CertDigest");
    SigningCertRef ref;
    ref.method = AttrOr(Child(cert_digest, kDsigNs, "DigestMethod"), "Algorithm");
    ref.md = CertDigestMd(ref.method);
    std::optional<Bytes> value = Base64Content(Child(cert_digest, kDsigNs, "DigestValue"));
    if (value) ref.digest = std::move(*value);
    out.push_back(std::move(ref));
  }
  return out;
}

bool MatchesAny(const std::vector<SigningCertRef>& refs, ByteView der) {
  for (const SigningCertRef& r : refs) {
    if (r.md != nullptr && !r.digest.empty() && Digest(r.md, der) == r.digest) return true;
  }
  return false;
}

struct ParsedReference {
  xmlNode* node = nullptr;
  XadesReference report;
  bool checkable = false;  // Passed the pre-checks: xmlsec may process it.
};

std::vector<ParsedReference> ReadReferences(xmlDoc* doc, const xmlNode* signed_info) {
  std::vector<ParsedReference> out;
  for (xmlNode* node : Children(signed_info, kDsigNs, "Reference")) {
    ParsedReference r;
    r.node = node;
    const std::optional<std::string> uri = Attr(node, "URI");
    r.report.uri = uri.value_or("");
    r.report.type = AttrOr(node, "Type");
    for (xmlNode* t : Children(Child(node, kDsigNs, "Transforms"), kDsigNs, "Transform")) {
      r.report.transforms.push_back(AttrOr(t, "Algorithm"));
    }
    r.report.digest_method = AttrOr(Child(node, kDsigNs, "DigestMethod"), "Algorithm");
    std::optional<std::string> id = uri ? SameDocumentId(*uri) : std::nullopt;
    if (!uri) {
      r.report.problem = "the reference has no URI, so what it covers is unknown";
    } else if (!id) {
      r.report.problem = "the reference points outside the document (" + Shown(*uri) +
                         "); external references are refused and not fetched";
    } else if (!id->empty() && xmlGetID(doc, X(id->c_str())) == nullptr) {
      r.report.problem = "no element has the XML ID '" + Shown(*id) + "'";
    } else if (!IsAllowedDigest(r.report.digest_method)) {
      r.report.problem = "the digest method " + Shown(r.report.digest_method) +
                         " is not supported (SHA-256, SHA-384 and SHA-512 are)";
    } else {
      r.checkable = true;
      for (const std::string& t : r.report.transforms) {
        if (!IsAllowedTransform(t)) {
          r.report.problem = "the transform " + Shown(t) +
                             " is not allowed (only canonicalization and enveloped-signature are)";
          r.checkable = false;
          break;
        }
      }
    }
    if (id && !id->empty()) {
      xmlAttr* attr = xmlGetID(doc, X(id->c_str()));
      if (attr != nullptr && attr->parent != nullptr) {
        r.report.target = reinterpret_cast<const char*>(attr->parent->name);
      }
    } else if (id) {
      r.report.target = reinterpret_cast<const char*>(xmlDocGetRootElement(doc)->name);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Digest check of one reference by xmlsec (its transforms, or the default inclusive C14N 1.0
// for a same-document reference without any).
Status CheckReferenceDigest(ParsedReference& r) {
  HK_ASSIGN_OR_RETURN(XmlPtr<xmlSecDSigCtx> ctx, NewDsigCtx());
  XmlPtr<xmlSecDSigReferenceCtx> ref(
      xmlSecDSigReferenceCtxCreate(ctx.get(), xmlSecDSigReferenceOriginSignedInfo));
  if (!ref) return InternalError("cannot create an xmlsec reference context");
  const int rc = xmlSecDSigReferenceCtxProcessNode(ref.get(), r.node);
  if (rc < 0) {
    r.report.problem = "the reference cannot be processed";
  } else if (ref->status == xmlSecDSigStatusSucceeded) {
    r.report.digest_ok = true;
  } else {
    r.report.problem = "the digest of " +
                       (r.report.uri.empty() ? "the document" : Shown(r.report.uri)) +
                       " does not match: the referenced content was changed";
  }
  return OkStatus();
}

std::string JoinRoles(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ", ";
    out += '"' + s + '"';
  }
  return out.empty() ? "none" : out;
}

TimestampVerification FailedTimestamp(std::string reason) {
  TimestampVerification v;
  v.reason = std::move(reason);
  return v;
}

Result<XadesSignatureReport> VerifySignature(xmlDoc* doc, xmlNode* sig,
                                             const XadesVerifyOptions& options) {
  XadesSignatureReport r;
  r.id = AttrOr(sig, "Id");
  std::vector<std::string> problems;  // In order of importance; the first is the reason.

  // XML-DSig structure.
  xmlNode* signed_info = FirstElementChild(sig);
  if (!IsElement(signed_info, kDsigNs, "SignedInfo")) {
    r.reason = "the ds:Signature does not start with ds:SignedInfo";
    return r;
  }
  r.canonicalization_method =
      AttrOr(Child(signed_info, kDsigNs, "CanonicalizationMethod"), "Algorithm");
  r.signature_method = AttrOr(Child(signed_info, kDsigNs, "SignatureMethod"), "Algorithm");
  std::vector<ParsedReference> refs = ReadReferences(doc, signed_info);
  if (refs.empty()) problems.push_back("ds:SignedInfo has no ds:Reference");

  // XAdES properties.
  xmlNode* qualifying = nullptr;
  for (xmlNode* object : Children(sig, kDsigNs, "Object")) {
    qualifying = Child(object, kXadesNs, "QualifyingProperties");
    if (qualifying != nullptr) break;
  }
  xmlNode* signed_props = Child(qualifying, kXadesNs, "SignedProperties");
  xmlNode* signed_sig_props = Child(signed_props, kXadesNs, "SignedSignatureProperties");
  xmlNode* unsigned_sig_props = Child(Child(qualifying, kXadesNs, "UnsignedProperties"), kXadesNs,
                                      "UnsignedSignatureProperties");
  const std::vector<xmlNode*> timestamps =
      Children(unsigned_sig_props, kXadesNs, "SignatureTimeStamp");
  std::vector<xmlNode*> cert_nodes;
  std::vector<xmlNode*> crl_nodes;
  CollectValidationData(unsigned_sig_props, cert_nodes, crl_nodes);
  r.archive_timestamps =
      static_cast<int>(Children(unsigned_sig_props, kXades141Ns, "ArchiveTimeStamp").size() +
                       Children(unsigned_sig_props, kXadesNs, "ArchiveTimeStamp").size());
  const bool has_xl = Child(unsigned_sig_props, kXadesNs, "CertificateValues") != nullptr ||
                      Child(unsigned_sig_props, kXadesNs, "RevocationValues") != nullptr;
  r.level = timestamps.empty() ? "BES" : !has_xl ? "T" : r.archive_timestamps == 0 ? "XL" : "A";

  std::string structure_problem;
  if (signed_props == nullptr) {
    structure_problem = "it is not a XAdES signature: there are no xades:SignedProperties";
  } else if (r.id.empty()) {
    structure_problem = "the ds:Signature has no Id, which XAdES needs to bind its properties";
  } else if (const std::string target = AttrOr(qualifying, "Target"); target != "#" + r.id) {
    structure_problem =
        "the xades:QualifyingProperties belong to another signature (Target " + Shown(target) + ")";
  }
  if (xmlNode* t = Child(signed_sig_props, kXadesNs, "SigningTime")) {
    const std::string text(Trim(Text(t)));
    Result<TimePoint> when = ParseRfc3339(text);
    r.signing_time = when ? FormatRfc3339(*when) : Shown(text);
  }

  // Which references cover the properties and the key.
  const std::string signed_props_id = AttrOr(signed_props, "Id");
  xmlNode* key_info = Child(sig, kDsigNs, "KeyInfo");
  const std::string key_info_id = AttrOr(key_info, "Id");
  for (const ParsedReference& ref : refs) {
    const std::optional<std::string> id = SameDocumentId(ref.report.uri);
    if (!id || id->empty()) continue;
    if (!signed_props_id.empty() && *id == signed_props_id) r.signed_properties_referenced = true;
    if (!key_info_id.empty() && *id == key_info_id) r.key_info_referenced = true;
  }

  // The signer's certificate: the KeyInfo certificate that SigningCertificate(V2) names.
  std::vector<xmlNode*> key_info_cert_nodes;
  for (xmlNode* data : Children(key_info, kDsigNs, "X509Data")) {
    for (xmlNode* c : Children(data, kDsigNs, "X509Certificate")) key_info_cert_nodes.push_back(c);
  }
  std::vector<EmbeddedCert> key_info_certs = ParseCertNodes(key_info_cert_nodes);
  std::vector<EmbeddedCert> value_certs = ParseCertNodes(cert_nodes);
  xmlNode* signing_cert = Child(signed_sig_props, kXadesNs, "SigningCertificateV2");
  if (signing_cert == nullptr) {
    signing_cert = Child(signed_sig_props, kXadesNs, "SigningCertificate");
  }
  const std::vector<SigningCertRef> cert_refs = SigningCertRefs(signing_cert);
  const EmbeddedCert* signer = nullptr;
  if (signing_cert != nullptr) {
    for (const auto* list : {&key_info_certs, &value_certs}) {
      for (const EmbeddedCert& c : *list) {
        if (signer == nullptr && MatchesAny(cert_refs, c.der)) signer = &c;
      }
    }
    if (signer != nullptr) {
      r.signing_certificate_match = true;
    } else {
      r.signing_certificate_problem =
          cert_refs.empty() ? "the signing certificate property has no xades:Cert"
          : std::none_of(cert_refs.begin(), cert_refs.end(),
                         [](const SigningCertRef& c) { return c.md != nullptr; })
              ? "the signing certificate property uses an unsupported digest method"
              : "the signing certificate digest does not match the certificate in ds:KeyInfo";
      if (!key_info_certs.empty()) signer = &key_info_certs.front();
    }
  } else if (!key_info_certs.empty()) {
    signer = &key_info_certs.front();
    r.signing_certificate_match = r.key_info_referenced;
    if (!r.key_info_referenced) {
      r.signing_certificate_problem =
          "there is no SigningCertificateV2 and the ds:KeyInfo holding the certificate is not "
          "signed";
    }
  }

  if (signer == nullptr) {
    problems.push_back("the signature carries no signer certificate in ds:KeyInfo");
  }

  // XML-DSig core, by xmlsec: each reference's digest, then SignedInfo's signature value.
  bool refs_ok = !refs.empty();
  for (ParsedReference& ref : refs) {
    if (ref.checkable) HK_RETURN_IF_ERROR(CheckReferenceDigest(ref));
    if (!ref.report.digest_ok) {
      if (refs_ok) problems.push_back(ref.report.problem);
      refs_ok = false;
    }
  }
  if (refs_ok && signer != nullptr) {
    r.signature_value_checked = true;
    if (!IsAllowedSignatureMethod(r.signature_method)) {
      problems.push_back("the signature method " + Shown(r.signature_method) + " is not supported");
    } else if (!C14nFor(r.canonicalization_method)) {
      problems.push_back("the canonicalization method " + Shown(r.canonicalization_method) +
                         " is not supported");
    } else {
      HK_ASSIGN_OR_RETURN(XmlPtr<xmlSecDSigCtx> ctx, NewDsigCtx());
      Result<XmlPtr<xmlSecKey>> key = PublicKeyOf(signer->cert.get());
      if (!key) {
        problems.push_back(key.error().message());
      } else {
        ctx->signKey = key->release();  // The context owns it now.
        const int rc = xmlSecDSigCtxVerify(ctx.get(), sig);
        r.signature_value_ok = rc >= 0 && ctx->status == xmlSecDSigStatusSucceeded;
        if (!r.signature_value_ok) {
          problems.push_back(rc < 0 ? "the signature value cannot be checked with the signer's key "
                                      "(the key does not fit the signature method)"
                                    : "the signature value does not verify with the signer's "
                                      "certificate");
        }
      }
    }
  }
  ERR_clear_error();

  if (!structure_problem.empty()) {
    problems.push_back(structure_problem);
  } else if (!r.signed_properties_referenced) {
    problems.push_back("no reference covers the xades:SignedProperties, so they are not signed");
  }
  if (signer != nullptr && !r.signing_certificate_match) {
    problems.push_back(r.signing_certificate_problem);
  }

  // The signature timestamp: over the ds:SignatureValue element, canonicalized with the
  // timestamp's ds:CanonicalizationMethod, or inclusive C14N 1.0 when it has none (XAdES).
  xmlNode* signature_value = Child(sig, kDsigNs, "SignatureValue");
  if (!timestamps.empty()) {
    TimestampVerifyOptions ts = options.timestamp;
    ts.now = options.now;
    if (ts.trust_anchors.empty()) {
      ts.trust_anchors = options.trust_anchors;
      if (ts.anchor_sha256_pins.empty()) ts.anchor_sha256_pins = options.anchor_sha256_pins;
    }
    std::vector<xmlNode*> ts_cert_nodes = cert_nodes;
    std::vector<xmlNode*> ts_crl_nodes = crl_nodes;
    for (xmlNode* data : Children(unsigned_sig_props, kXades141Ns, "TimeStampValidationData")) {
      CollectValidationData(data, ts_cert_nodes, ts_crl_nodes);
    }
    for (EmbeddedCert& c : ParseCertNodes(ts_cert_nodes)) {
      ts.intermediates.push_back(std::move(c.der));
    }
    for (Bytes& c : ParseCrlNodes(ts_crl_nodes)) ts.crls.push_back(std::move(c));
    for (const Bytes& c : options.crls) ts.crls.push_back(c);

    for (xmlNode* node : timestamps) {
      xmlNode* c14n_node = Child(node, kDsigNs, "CanonicalizationMethod");
      const std::string c14n_uri =
          c14n_node != nullptr ? AttrOr(c14n_node, "Algorithm") : kInclC14n;
      std::vector<std::string> prefixes;
      if (xmlNode* incl = Child(c14n_node, kExcC14nNs, "InclusiveNamespaces")) {
        prefixes = SplitPrefixList(AttrOr(incl, "PrefixList"));
      }
      const std::optional<C14nMethod> method = C14nFor(c14n_uri);
      std::optional<Bytes> token = Base64Content(Child(node, kXadesNs, "EncapsulatedTimeStamp"));
      TimestampVerification v;
      if (signature_value == nullptr) {
        v = FailedTimestamp("the signature has no ds:SignatureValue to timestamp");
      } else if (!method) {
        v = FailedTimestamp("the timestamp's canonicalization method " + Shown(c14n_uri) +
                            " is not supported");
      } else if (!token) {
        v = FailedTimestamp("the SignatureTimeStamp has no base64 xades:EncapsulatedTimeStamp");
      } else {
        HK_ASSIGN_OR_RETURN(Bytes input, CanonicalizeElement(doc, signature_value, *method,
                                                             method->mode == XML_C14N_EXCLUSIVE_1_0
                                                                 ? prefixes
                                                                 : std::vector<std::string>{}));
        Result<TimestampVerification> verified = VerifyTimestamp(*token, input, ts);
        v = verified ? std::move(verified).value()
                     : FailedTimestamp("the signature timestamp cannot be read: " +
                                       verified.error().message());
      }
      const bool first = !r.timestamp.has_value();
      if (first || (!r.timestamp->valid && v.valid)) {
        r.timestamp = std::move(v);
        r.timestamp_canonicalization = c14n_uri;
      }
    }
    if (!r.timestamp->valid) {
      problems.push_back("the signature timestamp is not valid: " + r.timestamp->reason);
    }
  } else if (options.require_timestamp) {
    problems.push_back("the signature has no SignatureTimeStamp, which is required");
  }

  // The reference time, then the signer's path at that time.
  TimePoint at = options.now;
  r.reference_time_source = "current time";
  if (options.at) {
    at = *options.at;
    r.reference_time_source = "given";
  } else if (r.timestamp && r.timestamp->valid) {
    at = r.timestamp->gen_time_point;
    r.reference_time_source = "signature timestamp";
  }
  r.reference_time = FormatRfc3339(at);
  if (signer != nullptr) {
    PathValidationOptions path;
    path.trust_anchors = options.trust_anchors;
    path.anchor_sha256_pins = options.anchor_sha256_pins;
    path.intermediates = options.intermediates;
    for (const EmbeddedCert& c : key_info_certs) {
      if (&c != signer) path.intermediates.push_back(c.der);
    }
    for (const EmbeddedCert& c : value_certs) {
      if (&c != signer) path.intermediates.push_back(c.der);
    }
    path.crls = options.crls;
    for (Bytes& c : ParseCrlNodes(crl_nodes)) path.crls.push_back(std::move(c));
    path.at = at;
    path.require_revocation = options.require_revocation;
    HK_ASSIGN_OR_RETURN(PathValidation validation, ValidateCertificatePath(signer->der, path));
    r.path_valid = validation.valid;
    r.path_problem = validation.reason;
    r.chain = std::move(validation.chain);
    if (!r.chain.empty()) r.signer = r.chain.front().certificate;
    if (!r.path_valid) {
      problems.push_back("the signer's certificate path is not valid: " + r.path_problem);
    }

    Result<HpkiProfile> hpki = ReadHpkiProfile(signer->der);
    if (hpki) {
      r.hpki = std::move(hpki).value();
    } else {
      r.hpki.signing_problem = "the certificate's HPKI attributes cannot be decoded";
    }
    if (options.require_hpki_signing && !r.hpki.signing_problem.empty()) {
      problems.push_back("the signer's certificate is not an HPKI signing certificate: " +
                         r.hpki.signing_problem);
    }
    if (!options.required_qualifications.empty()) {
      const bool qualified =
          std::any_of(r.hpki.hc_roles.begin(), r.hpki.hc_roles.end(), [&](const std::string& role) {
            return std::find(options.required_qualifications.begin(),
                             options.required_qualifications.end(),
                             role) != options.required_qualifications.end();
          });
      if (!qualified) {
        problems.push_back("the signer's qualifications (" + JoinRoles(r.hpki.hc_roles) +
                           ") include none of those required (" +
                           JoinRoles(options.required_qualifications) + ")");
      }
    }
  }

  for (ParsedReference& ref : refs) r.references.push_back(std::move(ref.report));
  r.valid = problems.empty();
  if (!r.valid) r.reason = problems.front();
  return r;
}

// ---------------------------------------------------------------------------------------------
// JSON.

nlohmann::json SignatureJson(const XadesSignatureReport& s) {
  nlohmann::json refs = nlohmann::json::array();
  for (const XadesReference& r : s.references) {
    refs.push_back({{"uri", r.uri},
                    {"type", r.type},
                    {"target", r.target},
                    {"transforms", r.transforms},
                    {"digest_method", r.digest_method},
                    {"digest_ok", r.digest_ok},
                    {"problem", r.problem}});
  }
  nlohmann::json timestamp = nullptr;
  if (s.timestamp) {
    timestamp = nlohmann::json::parse(TimestampVerificationJson(*s.timestamp), nullptr, false);
    if (timestamp.is_discarded()) {
      timestamp = {{"valid", s.timestamp->valid}, {"reason", s.timestamp->reason}};
    }
  }
  return {{"id", s.id},
          {"valid", s.valid},
          {"reason", s.reason},
          {"level", s.level},
          {"canonicalization_method", s.canonicalization_method},
          {"signature_method", s.signature_method},
          {"signature_value_checked", s.signature_value_checked},
          {"signature_value_ok", s.signature_value_ok},
          {"references", refs},
          {"signed_properties_referenced", s.signed_properties_referenced},
          {"key_info_referenced", s.key_info_referenced},
          {"signing_time", s.signing_time},
          {"signing_certificate_match", s.signing_certificate_match},
          {"signing_certificate_problem", s.signing_certificate_problem},
          {"signer", signature_internal::CertificateJson(s.signer)},
          {"qualification", s.hpki.hc_roles},
          {"hpki", signature_internal::HpkiJson(s.hpki)},
          {"timestamp", timestamp},
          {"timestamp_canonicalization", s.timestamp_canonicalization},
          {"archive_timestamps", s.archive_timestamps},
          {"reference_time", s.reference_time},
          {"reference_time_source", s.reference_time_source},
          {"path_valid", s.path_valid},
          {"path_problem", s.path_problem},
          {"chain", signature_internal::ChainJson(s.chain)}};
}

}  // namespace

Status InitXmlSecurity() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] { status = DoInit(); });
  return status;
}

Result<XadesVerification> VerifyXades(ByteView xml, const XadesVerifyOptions& options) {
  HK_RETURN_IF_ERROR(InitXmlSecurity());
  QuietLibxml quiet;
  HK_ASSIGN_OR_RETURN(XmlPtr<xmlDoc> doc, ParseDocument(xml, options.max_document_bytes));
  xmlNode* root = xmlDocGetRootElement(doc.get());
  HK_RETURN_IF_ERROR(RegisterIds(doc.get(), root));

  std::vector<xmlNode*> signatures;
  FindSignatures(root, signatures);
  if (signatures.size() > options.max_signatures) {
    return InvalidArgumentError("the document has " + std::to_string(signatures.size()) +
                                " signatures, more than the limit of " +
                                std::to_string(options.max_signatures));
  }
  for (const xmlNode* sig : signatures) {
    const std::size_t n = Children(Child(sig, kDsigNs, "SignedInfo"), kDsigNs, "Reference").size();
    if (n > options.max_references) {
      return InvalidArgumentError("a signature has " + std::to_string(n) +
                                  " references, more than the limit of " +
                                  std::to_string(options.max_references));
    }
  }

  XadesVerification out;
  for (xmlNode* sig : signatures) {
    HK_ASSIGN_OR_RETURN(XadesSignatureReport report, VerifySignature(doc.get(), sig, options));
    out.signatures.push_back(std::move(report));
  }
  if (out.signatures.empty()) {
    out.reason = "the document contains no ds:Signature";
    return out;
  }
  out.valid = true;
  for (const XadesSignatureReport& s : out.signatures) {
    if (!s.valid) {
      out.valid = false;
      out.reason = "signature " + (s.id.empty() ? std::string("(without Id)") : "'" + s.id + "'") +
                   " is not valid: " + s.reason;
      break;
    }
  }
  return out;
}

std::string XadesVerificationJson(const XadesVerification& v) {
  nlohmann::json sigs = nlohmann::json::array();
  for (const XadesSignatureReport& s : v.signatures) sigs.push_back(SignatureJson(s));
  const nlohmann::json out = {
      {"kind", "xades"}, {"valid", v.valid}, {"reason", v.reason}, {"signatures", sigs}};
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hokan
