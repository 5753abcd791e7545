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
  if (api.read_only()) {
    std::fprintf(stderr,
                 "hokan: READ-ONLY emergency copy: sign-in, reads and searches work (and are "
                 "audited); every change is refused.\n");
  }
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
        "usage: hokan serve --dir D [--listen ADDRESS] [--port N] [--allow-root] [--read-only]\n"
        "Serves the REST API (docs/api.md) over HTTPS with the [server] settings of "
        "D/hokan.toml.\n"
        "  --read-only  serve a restored copy for emergency viewing: sign-in, reads, searches\n"
        "               and the audit log work; every change is refused (also [server]\n"
        "               read_only = true)\n");
    return 0;
  }
  Result<Args> a = Args::Parse(args, {"dir", "listen", "port"}, {"allow-root", "read-only"});
  if (!a) return Fail(a.error());
  if (Status st = RefuseRoot(a->Switch("allow-root")); !st.ok()) return Fail(st);
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, *dir);
  if (!archive) return Fail(archive.error());
  Result<std::uint64_t> port = a->Number("port", (*archive)->config().server.port);
  if (!port) return Fail(port.error());
  ApiServiceOptions service_options = ServiceOptions();
  service_options.read_only = a->Switch("read-only");
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env, service_options);
  if (!api) return Fail(api.error());
  Result<ServerOptions> options = ServerOptionsFor(env, **archive, a->Get("listen"), *port);
  if (!options) return Fail(options.error());
  return ServeUntilSignal(**archive, **api, *options);
}

int RunUser(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan user setup-secret --dir D   (a new one-time secret for creating the first\n"
      "                                          administrator: POST /api/v1/setup)\n"
      "       hokan user signing-cert --dir D --user U --cert C.pem\n"
      "         binds U's signing certificate: only signatures made with it confirm in U's name\n"
      "       hokan user signing-key --dir D --user U --p12 K.p12\n"
      "         keeps U's encrypted key file for server-side signing; its passphrase is read\n"
      "         from the first line of stdin to check it (it is not stored)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  const std::string_view verb = args[0];
  if (verb != "setup-secret" && verb != "signing-cert" && verb != "signing-key") {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const std::string_view file_flag = verb == "signing-cert" ? "cert" : "p12";
  Result<Args> a = verb == "setup-secret"
                       ? Args::Parse(args.subspan(1), {"dir"})
                       : Args::Parse(args.subspan(1), {"dir", "user", file_flag});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  std::string user;
  Bytes input;
  std::string passphrase;
  if (verb != "setup-secret") {
    Result<std::string> u = a->Required("user");
    if (!u) return Fail(u.error());
    user = *u;
    Result<std::string> path = a->Required(file_flag);
    if (!path) return Fail(path.error());
    Result<Bytes> bytes = env.fs.ReadFile(*path);
    if (!bytes) {
      return Fail(NotFoundError("cannot read --" + std::string(file_flag) + " " + *path));
    }
    input = std::move(*bytes);
    if (verb == "signing-key") {
      Result<std::string> pass = ReadSecretLine("the key file's passphrase");
      if (!pass) return Fail(pass.error());
      passphrase = std::move(*pass);
    }
  }
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, *dir);
  if (!archive) return Fail(archive.error());
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env, ServiceOptions());
  if (!api) return Fail(api.error());
  const Actor me{LocalActorId(), "cli"};
  if (verb != "setup-secret") {
    Result<ClientCertBinding> b =
        verb == "signing-cert" ? (*api)->BindSigningCertLocal(me, user, std::string(AsChars(input)))
                               : (*api)->InstallSigningKeyLocal(me, user, input, passphrase);
    SecureZeroString(passphrase);
    (void)(*archive)->CheckpointIfDue();
    if (!b) return Fail(b.error());
    std::printf("{\n  \"user_id\": \"%s\",\n  \"signing_certificate_sha256\": \"%s\"\n}\n",
                b->user_id.c_str(), b->fingerprint.c_str());
    return 0;
  }
  Result<std::string> secret = (*api)->NewSetupSecret(me);
  if (!secret) return Fail(secret.error());
  (void)(*archive)->CheckpointIfDue();
  std::printf("{\n  \"setup_secret\": \"%s\"\n}\n", secret->c_str());
  std::fprintf(stderr,
               "hokan: any earlier setup secret no longer works. This one is shown once and "
               "works once.\n");
  return 0;
}

}  // namespace hokan::cli_internal
