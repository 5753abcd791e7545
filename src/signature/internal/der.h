// Minimal DER reading and writing for the structures OpenSSL has no type for (HPKI hcRole,
// RFC 4998 evidence records). Reading uses OpenSSL's bounded TLV reader and accepts definite
// lengths only; every function checks bounds, so hostile input gives false, never a crash.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan::signature_internal {

// One DER element.
struct Element {
  int tag = 0;
  int cls = 0;  // V_ASN1_UNIVERSAL (0), V_ASN1_CONTEXT_SPECIFIC (0x80), ...
  bool constructed = false;
  const unsigned char* start = nullptr;  // The whole TLV.
  const unsigned char* content = nullptr;
  long length = 0;
  long total() const { return static_cast<long>(content - start) + length; }
  ByteView whole() const { return {start, static_cast<std::size_t>(total())}; }
  ByteView value() const { return {content, static_cast<std::size_t>(length)}; }
};

// Reads the next element of [p, end) and advances p past it.
bool NextElement(const unsigned char*& p, const unsigned char* end, Element& e);
// Exactly one element spanning all of `der`.
bool OnlyElement(ByteView der, Element& e);
// All elements inside a constructed element; false if its content is not a clean sequence.
bool Children(const Element& parent, std::vector<Element>& out);
bool IsContext(const Element& e, int n);
bool IsUniversal(const Element& e, int tag);
// The dotted text of an OBJECT IDENTIFIER element ("" if malformed).
std::string OidText(const Element& e);

// Writing: tag-length-value, DER lengths.
Bytes Tlv(std::uint8_t tag, ByteView value);
// The DER of an OBJECT IDENTIFIER given in dotted text.
Result<Bytes> OidDer(const char* oid);
// Concatenation; with `sort_as_set` the parts are sorted first (DER SET OF order).
Bytes Concat(std::vector<Bytes> parts, bool sort_as_set = false);

}  // namespace hokan::signature_internal
