// `hokan demo` and `hokan serve` as processes: the README's first command serves the demo
// store over HTTPS, answers, and stops cleanly on SIGTERM (exit 0, store verifies); `serve`
// refuses to run as root unless told to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

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
using ::hokan::testing::ReadUntil;
using ::hokan::testing::RunHokan;
using ::hokan::testing::Spawn;
using ::hokan::testing::StderrMode;
using ::testing::HasSubstr;

// Reads the child's stdout until the "listening https://127.0.0.1:PORT/" line; returns the
// port (0 when it did not come within a minute) and keeps what was read in `text`.
int WaitForListening(Child& child, std::string& text) {
  constexpr std::string_view kLine = "listening https://127.0.0.1:";
  const bool seen = ReadUntil(
      child, text,
      [&](const std::string& t) {
        const std::size_t at = t.find(kLine);
        return at != std::string::npos && t.find('\n', at) != std::string::npos;
      },
      std::chrono::seconds(60));
  return seen ? std::stoi(text.substr(text.find(kLine) + kLine.size())) : 0;
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
