// `hokan serve` (the HTTPS API) and `hokan user` (local account bootstrap).
#include "cli/serve.h"

#include <unistd.h>

#include <cstdio>

#include "cli/cli.h"
#include "http/api_v1.h"
#include "http/server.h"
#include "service/api_service.h"

namespace hokan::cli_internal {

int ServeUntilSignal(Archive& archive, ApiService& api, ServerOptions options) {
  std::unique_ptr<Router> router = MakeApiRouter(api);
  options.on_rejected = MakeRejectionAuditor(api);
  Result<std::unique_ptr<Server>> server = Server::Start(options, MakeApiHandler(api, *router));
  if (!server) return Fail(server.error().WithContext("serve"));
  const std::string host = options.address.find(':') == std::string::npos
                               ? options.address
                               : "[" + options.address + "]";
  // The first line on stdout says where; scripts and tests wait for it.
  std::printf("listening https://%s:%u/\n", host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  std::fprintf(stderr,
               "hokan: serving https://%s:%u/ (TLS 1.3%s, every request audited). Stop with "
               "Ctrl-C or SIGTERM; requests in flight finish first.\n",
               host.c_str(), static_cast<unsigned>((*server)->port()),
               options.tls.allow_tls12 ? " and 1.2" : " only");
  (*server)->WaitForSignalOrShutdown();
  const Server::Stats stats = (*server)->stats();
  server->reset();
  Status cp = archive.CheckpointIfDue();
  std::fprintf(stderr, "hokan: stopped after %llu requests on %llu connections\n",
               static_cast<unsigned long long>(stats.requests),
               static_cast<unsigned long long>(stats.connections));
  if (!cp.ok()) return Fail(cp.WithContext("final checkpoint"));
  return 0;
}

Status RefuseRoot(bool allowed) {
  if (::geteuid() == 0 && !allowed) {
    return FailedPreconditionError(
        "refusing to serve as root: run as the unprivileged user that owns the data "
        "directory (or pass --allow-root if you must)");
  }
  return OkStatus();
}

int RunServe(Env& env, std::span<const std::string_view> args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::printf(
        "usage: hokan serve --dir D [--listen ADDRESS] [--port N] [--allow-root]\n"
        "Serves the REST API (docs/api.md) over HTTPS with the [server] settings of "
        "D/hokan.toml.\n");
    return 0;
  }
  Result<Args> a = Args::Parse(args, {"dir", "listen", "port"}, {"allow-root"});
  if (!a) return Fail(a.error());
  if (Status st = RefuseRoot(a->Switch("allow-root")); !st.ok()) return Fail(st);
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, *dir);
  if (!archive) return Fail(archive.error());
  Result<std::uint64_t> port = a->Number("port", (*archive)->config().server.port);
  if (!port) return Fail(port.error());
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env);
  if (!api) return Fail(api.error());
  Result<ServerOptions> options = ServerOptionsFor(env, **archive, a->Get("listen"), *port);
  if (!options) return Fail(options.error());
  return ServeUntilSignal(**archive, **api, *options);
}

int RunUser(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan user setup-secret --dir D   (a new one-time secret for creating the first\n"
      "                                          administrator: POST /api/v1/setup)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "setup-secret") {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  Result<Args> a = Args::Parse(args.subspan(1), {"dir"});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, *dir);
  if (!archive) return Fail(archive.error());
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env);
  if (!api) return Fail(api.error());
  Result<std::string> secret = (*api)->NewSetupSecret(Actor{LocalActorId(), "cli"});
  if (!secret) return Fail(secret.error());
  (void)(*archive)->CheckpointIfDue();
  std::printf("{\n  \"setup_secret\": \"%s\"\n}\n", secret->c_str());
  std::fprintf(stderr,
               "hokan: any earlier setup secret no longer works. This one is shown once and "
               "works once.\n");
  return 0;
}

}  // namespace hokan::cli_internal
