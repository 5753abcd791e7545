#include "signature/internal/der.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <algorithm>

#include "signature/internal/ossl.h"

namespace hokan::signature_internal {

bool NextElement(const unsigned char*& p, const unsigned char* end, Element& e) {
  if (p >= end) return false;
  e.start = p;
  const unsigned char* q = p;
  long len = 0;
  int tag = 0;
  int cls = 0;
  const int r = ASN1_get_object(&q, &len, &tag, &cls, end - p);
  if ((r & 0x80) != 0 || r == 0x21 || len < 0 || len > end - q) {
    ERR_clear_error();
    return false;
  }
  e.tag = tag;
  e.cls = cls;
  e.constructed = (r & V_ASN1_CONSTRUCTED) != 0;
  e.content = q;
  e.length = len;
  p = q + len;
  return true;
}

bool OnlyElement(ByteView der, Element& e) {
  const unsigned char* p = der.data();
  const unsigned char* end = der.data() + der.size();
  return NextElement(p, end, e) && p == end;
}

bool Children(const Element& parent, std::vector<Element>& out) {
  if (!parent.constructed) return false;
  const unsigned char* p = parent.content;
  const unsigned char* end = parent.content + parent.length;
  while (p < end) {
    Element e;
    if (!NextElement(p, end, e)) return false;
    out.push_back(e);
  }
  return true;
}

bool IsContext(const Element& e, int n) { return e.cls == V_ASN1_CONTEXT_SPECIFIC && e.tag == n; }
bool IsUniversal(const Element& e, int tag) { return e.cls == V_ASN1_UNIVERSAL && e.tag == tag; }

std::string OidText(const Element& e) {
  const unsigned char* p = e.start;
  Ptr<ASN1_OBJECT> obj(d2i_ASN1_OBJECT(nullptr, &p, e.total()));
  if (!obj) {
    ERR_clear_error();
    return {};
  }
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof buf, obj.get(), 1);
  return n > 0 && n < static_cast<int>(sizeof buf) ? std::string(buf) : std::string();
}

Bytes Tlv(std::uint8_t tag, ByteView value) {
  Bytes out{tag};
  const std::size_t n = value.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v > 0; v >>= 8) len.insert(len.begin(), static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
    out.insert(out.end(), len.begin(), len.end());
  }
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

Result<Bytes> OidDer(const char* oid) {
  Ptr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 1));
  if (!obj) return InvalidArgumentError("not an object identifier");
  const int n = i2d_ASN1_OBJECT(obj.get(), nullptr);
  if (n <= 0) return InvalidArgumentError("not an object identifier");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_ASN1_OBJECT(obj.get(), &p);
  return out;
}

Bytes Concat(std::vector<Bytes> parts, bool sort_as_set) {
  if (sort_as_set) std::sort(parts.begin(), parts.end());
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace hokan::signature_internal
