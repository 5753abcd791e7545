// Child processes for the integration tests: a program started with posix_spawn, its stdout and
// stderr on pipes, and how it ended (exit code or signal). Failures to start or to read are
// recorded as test failures (ADD_FAILURE), so callers only check what the child did.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace hokan::testing {

// A started child. `out` and `err` are the read ends of its stdout and stderr, -1 when not
// piped; `pid` is -1 when the child could not be started or has been reaped.
struct Child {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when the process was killed by a signal.
  int signal = 0;      // The signal that killed it, else 0.
  std::string out;
  std::string err;
};

// Where the child's stderr goes.
enum class StderrMode {
  kPipe,     // To a pipe, read back into ProcessResult::err.
  kInherit,  // To this process's stderr.
};

// Starts `argv` (argv[0] is looked up in PATH when it has no slash) with stdout on a pipe, and
// stderr too unless `stderr_mode` says otherwise. Does not wait: the caller reads `out` as it
// likes and ends with Finish.
// `input`, when given, is the child's whole stdin (small: it must fit a pipe's buffer).
Child Spawn(const std::vector<std::string>& argv, StderrMode stderr_mode = StderrMode::kPipe,
            const std::string* input = nullptr);

// Reads the child's pipes to the end (both at once, so neither can fill up and block it),
// closes them and reaps the child. `out_so_far` is what the caller already read from `out`;
// the rest is appended to it.
ProcessResult Finish(Child& child, std::string out_so_far = "");

// Reads the child's stdout, appending to `text`, until `done(text)` holds, the child closes
// its stdout, or `timeout` passes. Returns whether `done` held.
bool ReadUntil(Child& child, std::string& text, const std::function<bool(const std::string&)>& done,
               std::chrono::milliseconds timeout);

// Spawn and Finish: runs `argv` to the end.
ProcessResult RunProcess(const std::vector<std::string>& argv);

// Runs the `hokan` binary under test with `args` (and `input` as its stdin).
ProcessResult RunHokan(std::vector<std::string> args);
ProcessResult RunHokanWithInput(std::vector<std::string> args, const std::string& input);

}  // namespace hokan::testing
