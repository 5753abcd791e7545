// A synchronous, one-shot HTTP/1.1 POST to an http:// or https:// URL: the transport of the
// RFC 3161 client (a time-stamp query goes out, a time-stamp response comes back). Retries and
// fail-over between URLs are the caller's; one call is one attempt.
//
// HTTPS is TLS 1.2 or later, with the server's certificate verified against `ca_file` (or the
// system's trust store), SNI, and the host name (or IP address) checked against the
// certificate. No client certificate is sent. Credentials in the URL (user:password@) are sent
// as HTTP Basic authentication, as some commercial TSAs ask for.
//
// Thread-safe: every call has its own sockets and TLS context.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hokan {

struct UrlPostOptions {
  // The whole exchange: name resolution, connection, TLS handshake, request and answer. A
  // silent server costs the caller at most this long.
  std::chrono::milliseconds timeout{10'000};
  // Larger answers are refused (kUnavailable) before they are read in full.
  std::size_t max_response_bytes = 1 << 20;
  // https: PEM bundle of the CAs that may issue the server's certificate. Empty: the system's
  // default trust store.
  std::string ca_file;
  std::string user_agent = "hokan";
};

// POSTs `body` with Content-Type `content_type` (and Accept `accept` when non-empty) to `url`:
// http:// or https://, the host a name, an IPv4 address or an [IPv6] literal, an optional
// :port, then path and query (a #fragment is not sent). Returns the body of a 200 answer.
//
// kInvalidArgument: a malformed URL, another scheme, header values with control characters,
// or an unreadable `ca_file`. kUnavailable: resolution, connection, TLS or certificate
// failures, the timeout, a status other than 200 ("HTTP 503"), a redirect (never followed),
// an answer over `max_response_bytes` or cut short.
//
// Messages name the server as scheme://host:port only: never the URL's userinfo, path or
// query, nor the request body.
Result<std::string> PostUrl(const std::string& url, std::string_view content_type,
                            std::string_view accept, std::string_view body,
                            const UrlPostOptions& options = {});

}  // namespace hokan
