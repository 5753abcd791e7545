#include "cli/cli.h"

#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "http/url_client.h"
#include "service/signing.h"

namespace hokan {
namespace cli_internal {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  CommandFn run;
};

// The whole command line on one screen.
constexpr Command kCommands[] = {
    {"init", "create a new data directory (keys, database, configuration)", RunInit},
    {"record", "put, get, history, mark-error: records and their versions", RunRecord},
    {"verify", "check every version, row, blob and the audit log", RunVerify},
    {"sweep", "remove orphan blobs left by interrupted writes", RunSweep},
    {"audit", "verify, proof, tail, export, checkpoint: the audit log", RunAudit},
    {"serve", "serve the HTTPS API (every request authenticated, authorised, audited)", RunServe},
    {"user", "setup-secret: a one-time secret for creating the first administrator", RunUser},
    {"signature", "verify a CMS/CAdES signature file (HPKI, timestamp, revocation)", RunSignature},
    {"timestamp", "verify an RFC 3161 timestamp token or response", RunTimestamp},
    {"xades", "verify an XAdES document (e.g. an e-prescription)", RunXades},
    {"sanitize", "disarm a file: macros, scripts, embedded objects removed; programs refused",
     RunSanitize},
    {"quarantine", "list, show, content, request-release, approve, reject: quarantined files",
     RunQuarantine},
    {"maintenance", "attest, receive: files sent during remote maintenance (signed attestation)",
     RunMaintenance},
    {"backup", "run, list, verify, drill: encrypted snapshots, verified restores, drills",
     RunBackup},
    {"restore", "restore a snapshot into a new directory, verified before use", RunRestore},
    {"vault", "init, add-client, serve, prune: an append-only backup vault on another machine",
     RunVault},
    {"evidence", "renew: long-term evidence (RFC 4998) for confirmations, batched", RunEvidence},
    {"demo", "a store with sample users, patients and records, served on https://localhost:8443",
     RunDemo},
};

void PrintUsage(std::FILE* out) {
  std::fprintf(out, "usage: hokan <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) {
    std::fprintf(out, "  %-11s %.*s\n", std::string(c.name).c_str(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out,
               "  %-11s %s\n\nRun `hokan <command> --help` for its options. Documentation: "
               "README.md and docs/.\n",
               "version", "print the version");
}

}  // namespace

Result<Args> Args::Parse(std::span<const std::string_view> args,
                         const std::vector<std::string_view>& flags,
                         const std::vector<std::string_view>& switches,
                         const std::vector<std::string_view>& pairs,
                         const std::vector<std::string_view>& repeated) {
  Args out;
  auto known = [](const std::vector<std::string_view>& list, std::string_view n) {
    for (std::string_view f : list) {
      if (f == n) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.substr(0, 2) != "--" && !(a.size() == 2 && a[0] == '-')) {
      return InvalidArgumentError("unexpected argument '" + std::string(a) + "'");
    }
    std::string name(a.substr(a[1] == '-' ? 2 : 1));
    std::string value;
    bool inline_value = false;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (known(switches, name)) {
      if (inline_value) return InvalidArgumentError("--" + name + " takes no value");
      out.switches_.push_back(name);
      continue;
    }
    if (known(pairs, name)) {
      if (i + 2 >= args.size()) return InvalidArgumentError("--" + name + " needs two values");
      out.pairs_[name] = {std::string(args[i + 1]), std::string(args[i + 2])};
      i += 2;
      continue;
    }
    const bool is_repeated = known(repeated, name);
    if (!known(flags, name) && !is_repeated) {
      return InvalidArgumentError("unknown option --" + name);
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) return InvalidArgumentError("--" + name + " needs a value");
      value = std::string(args[++i]);
    }
    if (is_repeated) {
      if (value.empty()) return InvalidArgumentError("--" + name + " needs a value");
      out.repeated_[name].push_back(value);
      continue;
    }
    if (out.values_.contains(name)) return InvalidArgumentError("--" + name + " given twice");
    out.values_[name] = value;
  }
  return out;
}

bool Args::Has(std::string_view flag) const { return values_.contains(flag); }

Result<std::string> Args::Required(std::string_view flag) const {
  auto it = values_.find(flag);
  if (it == values_.end() || it->second.empty()) {
    return InvalidArgumentError("--" + std::string(flag) + " is required");
  }
  return it->second;
}

std::string Args::Get(std::string_view flag, std::string_view fallback) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::string(fallback) : it->second;
}

Result<std::uint64_t> Args::Number(std::string_view flag, std::uint64_t fallback) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return fallback;
  std::uint64_t v = 0;
  const std::string& s = it->second;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    return InvalidArgumentError("--" + std::string(flag) + " must be a whole number");
  }
  return v;
}

bool Args::Switch(std::string_view name) const {
  for (const std::string& s : switches_) {
    if (s == name) return true;
  }
  return false;
}

const std::vector<std::string>& Args::Pair(std::string_view flag) const {
  static const std::vector<std::string> kNone;
  auto it = pairs_.find(flag);
  return it == pairs_.end() ? kNone : it->second;
}

const std::vector<std::string>& Args::All(std::string_view flag) const {
  static const std::vector<std::string> kNone;
  auto it = repeated_.find(flag);
  return it == repeated_.end() ? kNone : it->second;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 2;
    case StatusCode::kNotFound:
      return 3;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 4;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return 5;
    case StatusCode::kUnavailable:
      return 6;
    case StatusCode::kDataLoss:
      return 7;
    case StatusCode::kInternal:
      return 70;
  }
  return 70;
}

int Fail(const Status& status) {
  std::string msg = status.message();
  for (char& c : msg) {
    if (c == '\n' || c == '\r') c = ' ';  // One line, always.
  }
  std::fprintf(stderr, "hokan: %s\n", msg.c_str());
  return ExitCodeFor(status);
}

ApiServiceOptions ServiceOptions() {
  // RFC 3161 over HTTP(S): application/timestamp-query in, application/timestamp-reply out.
  static FunctionTsaTransport transport([](const std::string& url, ByteView request) {
    Result<std::string> body = PostUrl(url, "application/timestamp-query",
                                       "application/timestamp-reply", AsChars(request));
    return body ? Result<Bytes>(ToBytes(*body)) : Result<Bytes>(body.error());
  });
  ApiServiceOptions options;
  options.tsa_transport = &transport;
  return options;
}

std::string LocalActorId() {
  const uid_t uid = ::geteuid();
  std::vector<char> buf(16384);
  passwd pw;
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return std::string("local:") + found->pw_name;
  }
  return "local:uid" + std::to_string(uid);
}

}  // namespace cli_internal

int RunCommandLine(Env& env, std::span<const std::string_view> args) {
  using namespace cli_internal;
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    PrintUsage(args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    std::printf("hokan 0.1.0\n");
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name == args[0]) return c.run(env, args.subspan(1));
  }
  std::fprintf(stderr, "hokan: unknown command '%s'\n", std::string(args[0]).c_str());
  PrintUsage(stderr);
  return 2;
}

}  // namespace hokan
