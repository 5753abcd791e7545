// The route table of the REST API: one list that the server dispatches from, that the
// OpenAPI document is generated from, and that tests walk (every route that is not public
// must refuse an unauthenticated request). Handlers only translate HTTP to service calls.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/http.h"

namespace hokan {

using PathParams = std::map<std::string, std::string, std::less<>>;
using RouteHandler = std::function<HttpResponse(HttpRequest&, const PathParams&)>;

struct ParamDoc {
  std::string name;
  std::string in;  // "query" | "header"
  std::string description;
  bool required = false;
};

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/records/{record_id}"; a {name} matches one segment.
  std::string summary;
  // The access-control action the service checks (docs/access-control.md), or "" for the
  // few public routes (health, OpenAPI, login).
  std::string action;
  bool public_route = false;
  std::vector<ParamDoc> params;
  std::string request_media_type;   // "" when no body; "*/*" for any content.
  std::string response_media_type;  // "application/json", "*/*", ...
  RouteHandler handler;
};

// The Status -> HTTP mapping, in this one place.
int HttpStatusFor(StatusCode code);
// A JSON error response for `status` (its message must already be safe to show: services
// never put secrets or clinical content into messages).
HttpResponse ErrorResponse(const Status& status, std::string_view request_id);

class Router {
 public:
  void Add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  // The route for method + path with its path parameters; nullptr when none. `path_known`
  // tells a wrong method (405) from an unknown path (404).
  const Route* Match(std::string_view method, std::string_view path, PathParams& params,
                     bool& path_known) const;

  // OpenAPI 3.0 document of every route, as JSON text.
  std::string OpenApiJson(std::string_view title, std::string_view version) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace hokan
