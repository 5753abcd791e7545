#include "http/router.h"

#include <nlohmann/json.hpp>

#include "http/server.h"

namespace hokan {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string_view::npos ? path.size() : j;
    out.push_back(path.substr(i, end - i));
    i = end;
  }
  return out;
}

bool IsParam(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool MatchPattern(std::string_view pattern, std::string_view path, PathParams& params) {
  const auto ps = Segments(pattern);
  const auto xs = Segments(path);
  if (ps.size() != xs.size()) return false;
  PathParams found;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    if (IsParam(ps[i])) {
      if (xs[i].empty()) return false;
      found.emplace(std::string(ps[i].substr(1, ps[i].size() - 2)), std::string(xs[i]));
    } else if (ps[i] != xs[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse ErrorResponse(const Status& status, std::string_view request_id) {
  HttpResponse r = JsonError(HttpStatusFor(status.code()), StatusCodeName(status.code()),
                             status.message(), request_id);
  if (status.code() == StatusCode::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hokan\"");
  }
  return r;
}

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

const Route* Router::Match(std::string_view method, std::string_view path, PathParams& params,
                           bool& path_known) const {
  path_known = false;
  for (const Route& r : routes_) {
    PathParams p;
    if (!MatchPattern(r.pattern, path, p)) continue;
    path_known = true;
    if (r.method == method) {
      params = std::move(p);
      return &r;
    }
  }
  return nullptr;
}

std::string Router::OpenApiJson(std::string_view title, std::string_view version) const {
  using nlohmann::json;
  json doc;
  doc["openapi"] = "3.0.3";
  doc["info"] = {{"title", title}, {"version", version}};
  doc["components"]["securitySchemes"] = {
      {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "hokan_session"}}},
      {"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
      {"clientCertificate", {{"type", "mutualTLS"}}}};
  doc["components"]["schemas"]["Error"] = {
      {"type", "object"},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}},
        {"request_id", {{"type", "string"}}}}}};
  json& paths = doc["paths"];
  for (const Route& r : routes_) {
    json op;
    op["summary"] = r.summary;
    op["operationId"] = AsciiLower(r.method) + r.pattern;
    if (!r.action.empty()) op["x-hokan-action"] = r.action;
    op["security"] = r.public_route
                         ? json::array({json::object()})
                         : json::array({{{"session", json::array()}}, {{"bearer", json::array()}}});
    json params = json::array();
    for (const auto seg : Segments(r.pattern)) {
      if (!IsParam(seg)) continue;
      params.push_back({{"name", std::string(seg.substr(1, seg.size() - 2))},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    for (const ParamDoc& p : r.params) {
      params.push_back({{"name", p.name},
                        {"in", p.in},
                        {"required", p.required},
                        {"description", p.description},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) op["parameters"] = params;
    if (!r.request_media_type.empty()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{r.request_media_type, json::object()}}}};
    }
    json error = {{"content",
                   {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
    op["responses"]["200"] = {
        {"description", "success"},
        {"content",
         {{r.response_media_type.empty() ? std::string("application/json") : r.response_media_type,
           json::object()}}}};
    error["description"] = "malformed request";
    op["responses"]["400"] = error;
    if (!r.public_route) {
      error["description"] = "not authenticated";
      op["responses"]["401"] = error;
      error["description"] = "not allowed (the audit entry names the rule)";
      op["responses"]["403"] = error;
    }
    paths[r.pattern][AsciiLower(r.method)] = op;
  }
  return doc.dump(2);
}

}  // namespace hokan
