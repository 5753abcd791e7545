#include "subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace hokan::testing {

Child Spawn(const std::vector<std::string>& argv, StderrMode stderr_mode,
            const std::string* input) {
  Child child;
  const bool pipe_err = stderr_mode == StderrMode::kPipe;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || (pipe_err && ::pipe2(err_pipe, O_CLOEXEC) != 0) ||
      (input != nullptr && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_pipe[0], in_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return child;
  }
  if (input != nullptr) {
    // Written before the child starts (it fits the pipe), then the write end is closed: the
    // child reads the input and then end-of-file.
    const ssize_t n = ::write(in_pipe[1], input->data(), input->size());
    if (n != static_cast<ssize_t>(input->size())) ADD_FAILURE() << "stdin input too large";
    ::close(in_pipe[1]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  if (pipe_err) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  if (input != nullptr) posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&child.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (pipe_err) ::close(err_pipe[1]);
  if (input != nullptr) ::close(in_pipe[0]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawnp " << argv[0] << ": " << std::strerror(rc);
    ::close(out_pipe[0]);
    if (pipe_err) ::close(err_pipe[0]);
    child.pid = -1;
    return child;
  }
  child.out = out_pipe[0];
  child.err = err_pipe[0];
  return child;
}

ProcessResult Finish(Child& child, std::string out_so_far) {
  ProcessResult r;
  r.out = std::move(out_so_far);
  if (child.pid < 0) return r;
  // poll() skips negative descriptors, so a stream that is not piped is simply never ready.
  pollfd fds[2] = {{child.out, POLLIN, 0}, {child.err, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = (child.out >= 0 ? 1 : 0) + (child.err >= 0 ? 1 : 0);
  char buf[65536];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  child.out = -1;
  child.err = -1;
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  child.pid = -1;
  return r;
}

ProcessResult RunProcess(const std::vector<std::string>& argv) {
  Child child = Spawn(argv);
  return Finish(child);
}

bool ReadUntil(Child& child, std::string& text, const std::function<bool(const std::string&)>& done,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (!done(text)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{child.out, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(child.out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // The child closed its stdout (or died).
    text.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

ProcessResult RunHokan(std::vector<std::string> args) {
  args.insert(args.begin(), HK_HOKAN_BINARY);
  return RunProcess(args);
}

ProcessResult RunHokanWithInput(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), HK_HOKAN_BINARY);
  Child child = Spawn(args, StderrMode::kPipe, &input);
  return Finish(child);
}

}  // namespace hokan::testing
