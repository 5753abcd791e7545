// `hokan demo` and `hokan serve` as processes: the README's first command serves the demo
// store over HTTPS, answers, and stops cleanly on SIGTERM (exit 0, store verifies); `serve`
// refuses to run as root unless told to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "http/client.h"
#include "subprocess.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::Child;
using ::hokan::testing::Finish;
using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::hokan::testing::Spawn;
using ::hokan::testing::StderrMode;
using ::testing::HasSubstr;

// Reads the child's stdout until the "listening https://127.0.0.1:PORT/" line; returns the
// port (0 when it did not come within the time) and keeps what was read in `text`.
int WaitForListening(Child& child, std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    const std::size_t at = text.find("listening https://127.0.0.1:");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      return std::stoi(text.substr(at + 28));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    pollfd p{child.out, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return 0;
    const ssize_t n = ::read(child.out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

TEST(ServeTest, DemoServesOverHttpsAndStopsCleanlyOnSigterm) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/demo";
  Child child = Spawn({HK_HOKAN_BINARY, "demo", "--dir", dir, "--port", "0", "--allow-root"});
  ASSERT_GT(child.pid, 0);
  std::string out;
  const int port = WaitForListening(child, out);
  ASSERT_GT(port, 0) << out;
  EXPECT_THAT(out, HasSubstr("dr-sato"));  // The demo users and their one-time passwords.

  ClientOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.ca_file = dir + "/keys/tls.crt";  // The self-signed certificate init made.
  auto c = HttpsClient::Connect(o);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ((*c)->tls_version(), "TLSv1.3");
  auto health = (*c)->Send("GET", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto anon = (*c)->Send("GET", "/api/v1/users");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 401);

  ::kill(child.pid, SIGTERM);
  const ProcessResult done = Finish(child, out);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("stopped after"));
  const ProcessResult verify = RunHokan({"verify", "--dir", dir});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(ServeTest, ServeRefusesRootUnlessAllowedAndNeedsAStore) {
  testing::TempDir tmp;
  const ProcessResult missing = RunHokan({"serve", "--dir", tmp.path() + "/none", "--allow-root"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("hokan init"));
  if (::geteuid() == 0) {
    const ProcessResult root = RunHokan({"serve", "--dir", tmp.path()});
    EXPECT_NE(root.exit_code, 0);
    EXPECT_THAT(root.err, HasSubstr("refusing to serve as root"));
  }
}

// No default passwords: init prints a one-time setup secret, which is never in the log.
TEST(ServeTest, InitPrintsASetupSecretThatIsNeverLogged) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/s";
  const ProcessResult init = RunHokan({"init", "--dir", dir});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const std::string key = "\"setup_secret\": \"";
  const std::size_t at = init.out.find(key);
  ASSERT_NE(at, std::string::npos) << init.out;
  const std::string secret =
      init.out.substr(at + key.size(), init.out.find('"', at + key.size()) - at - key.size());
  EXPECT_GE(secret.size(), 20u);
  const ProcessResult again = RunHokan({"user", "setup-secret", "--dir", dir});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, ::testing::Not(HasSubstr(secret)));  // A new one each time.
  const ProcessResult log = RunHokan({"audit", "export", "--dir", dir, "--format", "jsonl"});
  ASSERT_EQ(log.exit_code, 0);
  EXPECT_THAT(log.out, HasSubstr("user.setup_secret"));
  EXPECT_THAT(log.out, ::testing::Not(HasSubstr(secret)));
  EXPECT_TRUE(::access((dir + "/keys/tls.key").c_str(), R_OK) == 0);
}

}  // namespace
}  // namespace hokan
