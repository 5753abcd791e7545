// What the HTTPS server parses from a client before any check: the request target (path and
// query percent-decoding), cookies and the Authorization header, route matching; and the
// base32 and permission-matrix parsers of the identity and policy modules. The first byte
// picks the parser. None may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "http/api_v1.h"
#include "http/http.h"
#include "http/router.h"
#include "policy/matrix.h"

namespace {

const hokan::Router& Routes() {
  static const hokan::Router* router = [] {
    auto* r = new hokan::Router();
    for (const char* p :
         {"/api/v1/records", "/api/v1/records/{record_id}", "/api/v1/records/{record_id}/content",
          "/api/v1/patients/{patient_id}/care/{care_id}",
          "/api/v1/users/{user_id}/tokens/{token_id}", "/healthz"}) {
      r->Add(hokan::Route{.method = "GET", .pattern = p});
    }
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      std::string path;
      hokan::HeaderList query;
      if (hokan::ParseTarget(text, path, query)) {
        if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
          __builtin_trap();
        }
        for (const auto& [k, v] : query) {
          if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos) {
            __builtin_trap();
          }
        }
      }
      break;
    }
    case 1: {
      hokan::HttpRequest req;
      req.headers = {{"cookie", std::string(text)}, {"authorization", std::string(text)}};
      const hokan::RequestContext ctx = hokan::ContextOf(req);
      if (ctx.session_token.size() > text.size() || ctx.bearer_token.size() > text.size()) {
        __builtin_trap();
      }
      break;
    }
    case 2: {
      hokan::PathParams params;
      bool known = false;
      const hokan::Route* r = Routes().Match("GET", text, params, known);
      if (r != nullptr && !known) __builtin_trap();
      break;
    }
    case 3:
      (void)hokan::ParseMatrix(text);
      break;
    case 4: {
      hokan::Result<hokan::Bytes> b = hokan::Base32Decode(text);
      if (b && hokan::Base32Decode(hokan::Base32Encode(*b)).value() != *b) __builtin_trap();
      break;
    }
    default:
      break;
  }
  return 0;
}
