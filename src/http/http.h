// Requests and responses as the handlers see them: plain structs, no Boost in sight, so the
// route handlers and their tests compile fast and the server's transport can change.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hokan {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // As received: "/api/v1/records/abc?version=2".
  std::string path;    // Percent-decoded path without the query.
  HeaderList query;    // Decoded query parameters in order.
  HeaderList headers;  // Names in lower case.
  std::string body;
  std::string client_address;      // "203.0.113.7" (no port).
  std::string client_cert_sha256;  // Hex SHA-256 of a verified client certificate, or empty.
  std::string request_id;          // Random; echoed as X-Request-Id and in every error body.

  // First header / query value with this (lower-case) name.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;  // Extra headers (Set-Cookie, Location, ...).
  std::string body;
};

// Splits "a%20b/c?x=1&y=%2F" into its decoded path and query. False on malformed escapes,
// NUL bytes, or a path that does not begin with '/'.
bool ParseTarget(std::string_view target, std::string& path, HeaderList& query);
std::string PercentEncode(std::string_view s);
// ASCII lower case (header names, HTTP methods); other bytes unchanged.
std::string AsciiLower(std::string_view s);

}  // namespace hokan
