// The only file that names the real Env implementations.
#include <sys/stat.h>

#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include "base/posix_env.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
  // Everything hokan creates (the SQLite files included) is private to the hokan user.
  ::umask(077);
  try {
    hokan::PosixFileSystem fs;
    hokan::SystemClock clock;
    hokan::Env env{fs, clock};
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    return hokan::RunCommandLine(env, args);
  } catch (const std::exception& e) {
    // Reaching this is a bug; the message is a library's, never record content.
    std::fprintf(stderr, "hokan: internal error (%s); please report it\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "hokan: internal error; please report it\n");
  }
  return 70;
}
