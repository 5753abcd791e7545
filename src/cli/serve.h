// What `hokan serve` and `hokan demo` share: serving until SIGTERM/SIGINT.
#pragma once

#include <cstdint>
#include <string>

#include "http/server.h"
#include "service/api_service.h"
#include "service/archive.h"

namespace hokan::cli_internal {

// Serves the REST API until a signal; prints "listening https://HOST:PORT/" on stdout first.
// Returns the process exit code.
int ServeUntilSignal(Archive& archive, ApiService& api, ServerOptions options);

}  // namespace hokan::cli_internal
