// What `hokan serve` and `hokan demo` share: server options from the store's configuration,
// and serving until SIGTERM/SIGINT.
#pragma once

#include <cstdint>
#include <string>

#include "http/server.h"
#include "service/api_service.h"
#include "service/archive.h"

namespace hokan::cli_internal {

// [server] of the store's configuration, with `listen` (empty: the configured one) and
// `port`. Checks the TLS files.
Result<ServerOptions> ServerOptionsFor(Env& env, const Archive& archive, const std::string& listen,
                                       std::uint64_t port);

// Serves the REST API until a signal; prints "listening https://HOST:PORT/" on stdout first.
// Returns the process exit code.
int ServeUntilSignal(Archive& archive, ApiService& api, ServerOptions options);

}  // namespace hokan::cli_internal
