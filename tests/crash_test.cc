// G-7.3-C7 crash consistency with a real process and a real disk: a writer with several
// threads is killed with SIGKILL mid-stream, three times over on the same store. After each
// kill the store verifies, and every write that was acknowledged reads back unchanged.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "service/archive.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace hokan {
namespace {

using ::testing::HasSubstr;

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal.
  std::string out;
  std::string err;
};

// Spawns `argv` with stdout (and, when `err_fd` is given, stderr) on pipes.
pid_t Spawn(const std::vector<std::string>& argv, int* out_fd, int* err_fd) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  if (err_fd != nullptr) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return -1;
  }
  *out_fd = out_pipe[0];
  if (err_fd != nullptr) {
    *err_fd = err_pipe[0];
  } else {
    ::close(err_pipe[0]);
  }
  return pid;
}

int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

ProcessResult RunHokan(const std::vector<std::string>& args) {
  std::vector<std::string> argv = args;
  argv.insert(argv.begin(), HK_HOKAN_BINARY);
  ProcessResult r;
  int fds[2] = {-1, -1};
  const pid_t pid = Spawn(argv, &fds[0], &fds[1]);
  if (pid < 0) return r;
  pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(p[i].fd);
        p[i].fd = -1;
        --open_fds;
      }
    }
  }
  r.exit_code = Reap(pid);
  return r;
}

struct Ack {
  std::string record_id;
  std::int64_t version = 0;
  std::string sha256;
};

// Starts the writer, collects acknowledgements for up to `window` or until `want` of them,
// kills it with SIGKILL, and returns every acknowledgement it printed (complete lines only).
std::vector<Ack> WriteThenKill(const std::string& dir, int threads, std::size_t want,
                               std::chrono::milliseconds window) {
  int out = -1;
  const pid_t pid = Spawn({HK_WRITE_STREAM_BINARY, dir, std::to_string(threads)}, &out, nullptr);
  if (pid < 0) return {};
  std::string text;
  std::size_t lines = 0;
  const auto deadline = std::chrono::steady_clock::now() + window;
  char buf[65536];
  while (lines < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = ::read(out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // The writer died on its own: reported below.
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n' ? 1 : 0;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::kill(pid, SIGKILL);
  // What it printed before dying was acknowledged too.
  while (true) {
    const ssize_t n = ::read(out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the writer stopped before it was killed";

  std::vector<Ack> acks;
  std::istringstream in(text.substr(0, text.rfind('\n') + 1));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Ack a;
    if (!(fields >> a.record_id >> a.version >> a.sha256)) {
      ADD_FAILURE() << "unexpected writer output: " << line;
      continue;
    }
    acks.push_back(a);
  }
  return acks;
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkill) {  // G-7.3-C7
  hokan::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/store";
  const ProcessResult init = RunHokan({"init", "--dir", dir});
  ASSERT_EQ(init.exit_code, 0) << init.err;

  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const Actor actor{"local:crash-test", "test"};
  std::vector<Ack> all;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("after kill " + std::to_string(round + 1));
    const std::vector<Ack> acks = WriteThenKill(dir, 4, 50, std::chrono::milliseconds(300));
    EXPECT_FALSE(acks.empty()) << "the writer acknowledged nothing";
    std::printf("round %d: %zu acknowledged writes\n", round + 1, acks.size());
    all.insert(all.end(), acks.begin(), acks.end());

    // Damage fails verification; orphan blobs and unsigned entries are only warnings.
    const ProcessResult verify = RunHokan({"verify", "--dir", dir});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("OK:"));
    std::printf("%s", verify.out.c_str());

    {
      Result<std::unique_ptr<Archive>> archive = Archive::Open(env, dir);
      ASSERT_OK(archive);
      for (const Ack& a : all) {
        SCOPED_TRACE(a.record_id + "/" + std::to_string(a.version));
        Result<ReadResult> read = (*archive)->ReadRecord(actor, a.record_id, a.version);
        ASSERT_OK(read);
        EXPECT_EQ(read->version.sha256, a.sha256);
        EXPECT_EQ(HexEncode(Sha256(read->content)), a.sha256);
      }
    }

    const ProcessResult audit = RunHokan({"audit", "verify", "--dir", dir});
    EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  }
  EXPECT_GE(all.size(), 3u);
}

}  // namespace
}  // namespace hokan
