// REST v1 under /api/v1/ (JSON), plus /healthz and the OpenAPI document at
// /api/v1/openapi.json, both generated from one route table. Handlers only translate between
// HTTP and ApiService, which authenticates, authorises and audits. Reference:
// docs/api.md; the route table is the source of truth.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/router.h"
#include "http/server.h"
#include "service/api_service.h"

namespace hokan {

// The routes of REST v1 bound to `api` (which must outlive the router).
std::unique_ptr<Router> MakeApiRouter(ApiService& api);

// The server's handler: routes the request; a path no route knows is answered 404 (405 for
// a known path with another method) and audited.
HttpHandler MakeApiHandler(ApiService& api, const Router& router);

// Audits a request the transport refused itself (malformed, over a limit).
std::function<void(const HttpRequest&, const HttpResponse&)> MakeRejectionAuditor(ApiService& api);

// The server options [server] of the store's configuration gives, with `listen` (empty: the
// configured address) and `port`. Checks the TLS files (the key must be private).
Result<ServerOptions> ServerOptionsFor(Env& env, const Archive& archive, const std::string& listen,
                                       std::uint64_t port);

// The request's credentials and origin, for the service.
RequestContext ContextOf(const HttpRequest& request);

}  // namespace hokan
