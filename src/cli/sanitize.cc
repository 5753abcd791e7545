// `hokan sanitize IN --out OUT --report R.json` (issue 5 CLI contract): disarms one file the
// way every ingest path of the server does, with no store. Exit 0 when OUT was written (clean
// or disarmed), 1 when the file was blocked or held (no OUT; the report says why), 2 on bad
// usage or unreadable input, other codes as in README "Exit codes".
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "service/sanitizer.h"

namespace hokan::cli_internal {
namespace {

constexpr char kUsage[] =
    "usage: hokan sanitize IN --out OUT [--report R.json] [--name NAME]\n"
    "                      [--action disarm|block|hold] [--rule TYPE=ACTION]...\n"
    "                      [--clamav-db DIR]\n"
    "Checks IN by its content and removes active content (macros, scripts, embedded objects\n"
    "and programs, external links); programs and scripts are refused. IN or OUT may be - for\n"
    "standard input/output. OUT is written only when the file is let in; the report (JSON,\n"
    "docs/formats/sanitize-report.md) is written for every file. NAME is the file name the\n"
    "sender gave (default: IN's), compared with the content. Files with active content are\n"
    "disarmed unless --action or a --rule for their type says block or hold. --clamav-db\n"
    "scans with ClamAV's signatures from DIR too. Exit: 0 written, 1 blocked or held,\n"
    "2 usage or unreadable input.\n";

int Usage(const Status& status) {
  std::fprintf(stderr, "hokan: %s\n%s", status.message().c_str(), kUsage);
  return 2;
}

Result<Bytes> ReadStdin() {
  Bytes all;
  std::uint8_t buffer[1 << 16];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, stdin);
    all.insert(all.end(), buffer, buffer + n);
    if (n < sizeof buffer) break;
  }
  if (std::ferror(stdin) != 0) return UnavailableError("cannot read standard input");
  return all;
}

std::string BaseName(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int RunSanitize(Env& env, std::span<const std::string_view> args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "help")) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (args.empty() || (args[0].starts_with("--"))) {
    return Usage(InvalidArgumentError("the input file IN comes first"));
  }
  const std::string input(args[0]);
  auto parsed = Args::Parse(args.subspan(1), {"out", "report", "name", "action", "clamav-db"}, {},
                            {}, {"rule"});
  if (!parsed.has_value()) return Usage(parsed.error());
  const Args& a = *parsed;
  auto out = a.Required("out");
  if (!out.has_value()) return Usage(out.error());

  FileSanitizeRequest request;
  request.output_path = *out;
  request.report_path = a.Get("report");
  request.declared_name = a.Has("name") ? a.Get("name") : (input == "-" ? "" : BaseName(input));
  request.action = a.Get("action", "disarm");
  request.rules = a.All("rule");
  request.clamav_database_dir = a.Get("clamav-db");

  Result<Bytes> content = input == "-" ? ReadStdin() : env.fs.ReadFile(input);
  if (!content.has_value()) {
    Fail(NotFoundError("cannot read " + input + ": " + content.error().message()));
    return 2;
  }
  Result<FileSanitizeOutcome> outcome = SanitizeFileContent(env, *content, request);
  if (!outcome.has_value()) {
    if (outcome.error().code() == StatusCode::kInvalidArgument) return Usage(outcome.error());
    return Fail(outcome.error());
  }
  if (request.output_path == "-" && !outcome->output.empty()) {
    if (std::fwrite(outcome->output.data(), 1, outcome->output.size(), stdout) !=
            outcome->output.size() ||
        std::fflush(stdout) != 0) {
      return Fail(UnavailableError("cannot write standard output"));
    }
  }
  std::fprintf(stderr, "hokan sanitize: %s\n", outcome->summary.c_str());
  const bool written =
      outcome->verdict == SanitizeVerdict::kClean || outcome->verdict == SanitizeVerdict::kDisarmed;
  return written ? 0 : 1;
}

}  // namespace hokan::cli_internal
