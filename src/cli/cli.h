// The command line: parse, call one service method, render. Nothing else lives here
// (STYLE.md rule 18).
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "service/api_service.h"

namespace hokan {

// Runs `hokan <args...>` (args exclude the program name). Returns the process exit code.
int RunCommandLine(Env& env, std::span<const std::string_view> args);

namespace cli_internal {

// --flag value / --flag=value options and positional words, checked against what a
// command accepts.
class Args {
 public:
  // `pairs` flags take two values (e.g. --consistency A B); `repeated` flags may be given
  // several times (e.g. --trust-anchor A --trust-anchor B).
  static Result<Args> Parse(std::span<const std::string_view> args,
                            const std::vector<std::string_view>& flags,
                            const std::vector<std::string_view>& switches = {},
                            const std::vector<std::string_view>& pairs = {},
                            const std::vector<std::string_view>& repeated = {});
  bool Has(std::string_view flag) const;
  // kInvalidArgument naming the flag when missing or empty.
  Result<std::string> Required(std::string_view flag) const;
  std::string Get(std::string_view flag, std::string_view fallback = "") const;
  Result<std::uint64_t> Number(std::string_view flag, std::uint64_t fallback) const;
  bool Switch(std::string_view name) const;
  const std::vector<std::string>& Pair(std::string_view flag) const;
  // Every value of a repeated flag, in order (empty when not given).
  const std::vector<std::string>& All(std::string_view flag) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::vector<std::string>, std::less<>> pairs_;
  std::map<std::string, std::vector<std::string>, std::less<>> repeated_;
  std::vector<std::string> switches_;
};

// Shared by the subcommands (commands.cc).
Actor Me();  // The local operating-system user, source "cli".
bool WantsHelp(std::span<const std::string_view> args);
int Usage(const char* text);  // Prints `text` on stdout; exit 0.
// For commands with verbs: the usage on --help (exit 0) or without a verb (exit 2).
std::optional<int> VerbUsage(std::span<const std::string_view> args, const char* usage);
Result<std::unique_ptr<Archive>> OpenDir(Env& env, const Args& a);  // --dir
// After a command that wrote audit entries: sign a checkpoint when one is due.
int Finish(Archive& archive, int code);
// Problems on stdout as they are found; progress on stderr at most once a second.
class CliSink final : public VerifySink {
 public:
  explicit CliSink(Env& env);
  void Report(const Problem& p) override;
  void Progress(std::string_view phase, std::uint64_t done, std::uint64_t total) override;

 private:
  Env& env_;
  std::chrono::system_clock::time_point last_;
};

// Process exit code for a status (README "Exit codes").
int ExitCodeFor(const Status& status);
// One line on stderr: "hokan: <message>".
int Fail(const Status& status);

// "local:<operating-system user>", source "cli".
std::string LocalActorId();

// How commands open the API service: TSAs in [signature] tsa_urls are reached over HTTP(S)
// (http/url_client.h).
ApiServiceOptions ServiceOptions();

using CommandFn = int (*)(Env& env, std::span<const std::string_view> args);
int RunInit(Env& env, std::span<const std::string_view> args);
int RunRecord(Env& env, std::span<const std::string_view> args);
int RunVerify(Env& env, std::span<const std::string_view> args);
int RunSweep(Env& env, std::span<const std::string_view> args);
int RunQuarantine(Env& env, std::span<const std::string_view> args);
int RunMaintenance(Env& env, std::span<const std::string_view> args);
int RunAudit(Env& env, std::span<const std::string_view> args);
int RunDemo(Env& env, std::span<const std::string_view> args);
int RunServe(Env& env, std::span<const std::string_view> args);
// A secret (a key passphrase) from the first line of stdin, never from the command line
// where other users could see it in the process list.
Result<std::string> ReadSecretLine(const char* what);
void SecureZeroString(std::string& s);

// Shared by serve and demo (serve.cc).
Status RefuseRoot(bool allowed);
int RunUser(Env& env, std::span<const std::string_view> args);
// sanitize.cc: `hokan sanitize` (no store).
int RunSanitize(Env& env, std::span<const std::string_view> args);
// signature.cc: verification of files (no store).
int RunSignature(Env& env, std::span<const std::string_view> args);
int RunTimestamp(Env& env, std::span<const std::string_view> args);
// backup.cc: backups, restore and the vault (issue 6).
int RunBackup(Env& env, std::span<const std::string_view> args);
int RunRestore(Env& env, std::span<const std::string_view> args);
int RunVault(Env& env, std::span<const std::string_view> args);
int RunXades(Env& env, std::span<const std::string_view> args);
int RunEvidence(Env& env, std::span<const std::string_view> args);

}  // namespace cli_internal
}  // namespace hokan
