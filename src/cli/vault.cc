// `hokan vault init|add-client|serve|prune|list` (issue 6, docs/backup.md "The vault").
#include "http/vault.h"

#include <cstdio>

#include "cli/cli.h"
#include "http/server.h"

namespace hokan::cli_internal {
namespace {

const char* kUsage =
    "usage: hokan vault init --dir V [--hostname H]...\n"
    "       hokan vault add-client --dir V --name N --out DIR\n"
    "         issues N's client certificate: DIR/ca.crt, DIR/client.crt, DIR/client.key;\n"
    "         copy DIR to the hospital server as D/keys/vault/\n"
    "       hokan vault serve --dir V [--listen HOST:PORT] [--allow-root]\n"
    "       hokan vault prune --dir V [--dry-run]   (the vault operator, on this machine)\n"
    "An append-only backup vault: clients add snapshots over TLS with their certificate and\n"
    "can never delete or replace them; prune removes only snapshots past retention.min_days\n"
    "that the generations policy in V/vault.toml does not keep.\n";

int Init(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir"}, {}, {}, {"hostname"});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Status st = Vault::Init(env, *dir, a->All("hostname"));
  if (!st.ok()) return Fail(st.WithContext("vault init"));
  std::printf("{\n  \"dir\": \"%s\",\n  \"listen\": \"%s\"\n}\n", dir->c_str(),
              VaultConfig{}.listen.c_str());
  std::fprintf(stderr,
               "hokan: vault created in %s. Register each hospital server with `hokan vault "
               "add-client`; keep %s/keys/ca.key safe.\n",
               dir->c_str(), dir->c_str());
  return 0;
}

int AddClient(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir", "name", "out"});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::string> name = a->Required("name");
  if (!name) return Fail(name.error());
  Result<std::string> out = a->Required("out");
  if (!out) return Fail(out.error());
  if (Result<FileInfo> info = env.fs.Stat(*out); info) {
    return Fail(AlreadyExistsError(*out + " exists; give a new directory"));
  }
  Result<std::unique_ptr<Vault>> vault = Vault::Open(env, *dir);
  if (!vault) return Fail(vault.error());
  Result<VaultClientCredentials> c = (*vault)->AddClient(*name);
  if (!c) return Fail(c.error().WithContext("add-client"));
  Status st = WriteVaultCredentials(env.fs, *c, *out);
  SecureZeroString(c->key_pem);
  if (!st.ok()) return Fail(st.WithContext("write the client's credentials"));
  std::printf("{\n  \"name\": \"%s\",\n  \"fingerprint\": \"%s\",\n  \"credentials\": \"%s\"\n}\n",
              c->name.c_str(), c->fingerprint.c_str(), out->c_str());
  return 0;
}

int Serve(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir", "listen"}, {"allow-root"});
  if (!a) return Fail(a.error());
  if (Status st = RefuseRoot(a->Switch("allow-root")); !st.ok()) return Fail(st);
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::unique_ptr<Vault>> vault = Vault::Open(env, *dir);
  if (!vault) return Fail(vault.error());
  const std::string listen = a->Has("listen") ? a->Get("listen") : (*vault)->config().listen;
  ServerOptions o;
  const std::size_t colon = listen.rfind(':');
  std::uint64_t port = 0;
  if (colon != std::string::npos) {
    const std::string p = listen.substr(colon + 1);
    if (!p.empty() && p.size() <= 5 &&
        std::all_of(p.begin(), p.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      port = std::stoull(p);
    }
  }
  if (colon == std::string::npos || colon == 0 || port > 65535) {
    return Fail(InvalidArgumentError("--listen must be HOST:PORT (e.g. 0.0.0.0:8730)"));
  }
  o.address = listen.substr(0, colon);
  if (o.address.size() > 2 && o.address.front() == '[') {
    o.address = o.address.substr(1, o.address.size() - 2);
  }
  o.port = static_cast<std::uint16_t>(port);
  o.tls.cert_file = (*vault)->tls_cert_file();
  o.tls.key_file = (*vault)->tls_key_file();
  o.tls.client_ca_file = (*vault)->ca_file();
  o.tls.require_client_cert = true;
  o.limits.max_body_bytes = (*vault)->config().max_object_bytes + (64 << 10);
  Result<std::unique_ptr<Server>> server = Server::Start(o, MakeVaultHandler(**vault));
  if (!server) return Fail(server.error().WithContext("vault serve"));
  const std::string host =
      o.address.find(':') == std::string::npos ? o.address : "[" + o.address + "]";
  std::printf("listening https://%s:%u/\n", host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  std::fprintf(stderr,
               "hokan: vault %s serving https://%s:%u/ (TLS 1.3, client certificates required; "
               "append-only). Stop with Ctrl-C or SIGTERM.\n",
               dir->c_str(), host.c_str(), static_cast<unsigned>((*server)->port()));
  (*server)->WaitForSignalOrShutdown();
  return 0;
}

int Prune(Env& env, std::span<const std::string_view> rest) {
  Result<Args> a = Args::Parse(rest, {"dir"}, {"dry-run"});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<std::unique_ptr<Vault>> vault = Vault::Open(env, *dir);
  if (!vault) return Fail(vault.error());
  Result<PruneReport> r = (*vault)->Prune(a->Switch("dry-run"));
  if (!r) return Fail(r.error().WithContext("prune"));
  std::printf("%s: %zu snapshots kept, %zu %s, %llu objects (%llu bytes) removed\n",
              a->Switch("dry-run") ? "DRY RUN" : "OK", r->kept.size(), r->removed.size(),
              a->Switch("dry-run") ? "would be removed" : "removed",
              static_cast<unsigned long long>(r->objects_removed),
              static_cast<unsigned long long>(r->bytes_removed));
  for (const std::string& s : r->removed) std::printf("  removed %s\n", s.c_str());
  return 0;
}

}  // namespace

int RunVault(Env& env, std::span<const std::string_view> args) {
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);
  if (verb == "init") return Init(env, rest);
  if (verb == "add-client") return AddClient(env, rest);
  if (verb == "serve") return Serve(env, rest);
  if (verb == "prune") return Prune(env, rest);
  return Fail(InvalidArgumentError("unknown vault command '" + std::string(verb) + "'\n" + kUsage));
}

}  // namespace hokan::cli_internal
