// `hokan signature verify`, `hokan timestamp verify`, `hokan xades verify` (issue 4 CLI
// contract): print the verification report as JSON; exit 0 when valid, 1 when invalid (the
// report says why), 2 on bad usage or unreadable input.
#include <cstdio>

#include "cli/cli.h"
#include "service/verification.h"

namespace hokan::cli_internal {
namespace {

constexpr char kSignatureUsage[] =
    "usage: hokan signature verify --signature S [--content F] [--trust-anchor CA.pem]...\n"
    "                              [--crl C]... [--untrusted CERT]... [--at TIME]\n"
    "                              [--require-qualification Q]... [--require-timestamp]\n"
    "Verifies a CMS/CAdES signature (PEM or DER, attached or detached): content, signer,\n"
    "HPKI qualification, certificate path and revocation at the reference time (the\n"
    "signature timestamp's time, --at, or now), and the signature timestamp.\n";
constexpr char kTimestampUsage[] =
    "usage: hokan timestamp verify --token T --data F [--trust-anchor CA.pem]...\n"
    "                              [--crl C]... [--untrusted CERT]...\n"
    "Verifies an RFC 3161 timestamp response or token over the data in F.\n";
constexpr char kXadesUsage[] =
    "usage: hokan xades verify --file F.xml [--trust-anchor CA.pem]... [--crl C]...\n"
    "                          [--untrusted CERT]... [--at TIME] [--require-timestamp]\n"
    "                          [--require-qualification Q]...\n"
    "Verifies every XAdES signature in F.xml and reports its level (BES/T/XL/A).\n";

const std::vector<std::string_view> kRepeated = {"trust-anchor", "crl", "untrusted",
                                                 "require-qualification"};

int Usage(const char* usage, const Status& status) {
  std::fprintf(stderr, "hokan: %s\n%s", status.message().c_str(), usage);
  return 2;
}

// Bad usage and unreadable input are both exit code 2 for these commands.
int InputError(const Status& status) {
  Fail(status);
  return 2;
}

int Print(const Result<VerificationOutcome>& outcome) {
  if (!outcome.has_value()) return InputError(outcome.error());
  std::printf("%s\n", outcome->json.c_str());
  return outcome->valid ? 0 : 1;
}

// Parses "verify" + flags; `main_flag` names the input (--signature, --token, --file).
int Run(Env& env, std::span<const std::string_view> args, const char* usage,
        std::string_view main_flag, std::string_view content_flag,
        Result<VerificationOutcome> (*verify)(Env&, const FileVerifyRequest&)) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "help")) {
    std::printf("%s", usage);
    return 0;
  }
  if (args.empty() || args[0] != "verify") {
    return Usage(usage, InvalidArgumentError("the only subcommand is 'verify'"));
  }
  std::vector<std::string_view> flags = {main_flag, "at"};
  if (!content_flag.empty()) flags.push_back(content_flag);
  auto parsed = Args::Parse(args.subspan(1), flags, {"require-timestamp"}, {}, kRepeated);
  if (!parsed.has_value()) return Usage(usage, parsed.error());
  const Args& a = *parsed;
  FileVerifyRequest request;
  auto input = a.Required(main_flag);
  if (!input.has_value()) return Usage(usage, input.error());
  request.input_path = *input;
  if (!content_flag.empty()) request.content_path = a.Get(content_flag);
  request.trust_anchor_paths = a.All("trust-anchor");
  request.crl_paths = a.All("crl");
  request.untrusted_paths = a.All("untrusted");
  request.required_qualifications = a.All("require-qualification");
  request.require_timestamp = a.Switch("require-timestamp");
  if (a.Has("at")) {
    auto at = ParseRfc3339(a.Get("at"));
    if (!at.has_value()) {
      return Usage(usage, InvalidArgumentError("--at must be an RFC 3339 time, e.g. "
                                               "2026-11-24T09:00:00Z"));
    }
    request.at = *at;
  }
  return Print(verify(env, request));
}

}  // namespace

int RunSignature(Env& env, std::span<const std::string_view> args) {
  return Run(env, args, kSignatureUsage, "signature", "content", VerifySignatureFile);
}

int RunTimestamp(Env& env, std::span<const std::string_view> args) {
  return Run(env, args, kTimestampUsage, "token", "data", VerifyTimestampFile);
}

int RunXades(Env& env, std::span<const std::string_view> args) {
  return Run(env, args, kXadesUsage, "file", "", VerifyXadesFile);
}

}  // namespace hokan::cli_internal
