// G-7.3-C7 crash consistency with a real process and a real disk: a writer with several
// threads is killed with SIGKILL mid-stream, three times over on the same store. After each
// kill the store verifies, and every write that was acknowledged reads back unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/encoding.h"
#include "base/posix_env.h"
#include "crypto/crypto.h"
#include "service/archive.h"
#include "subprocess.h"
#include "testing/status_matchers.h"
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

struct Ack {
  std::string record_id;
  std::int64_t version = 0;
  std::string sha256;
};

// Starts the writer, collects acknowledgements for up to `window` or until `want` of them,
// kills it with SIGKILL, and returns every acknowledgement it printed (complete lines only).
std::vector<Ack> WriteThenKill(const std::string& dir, int threads, std::size_t want,
                               std::chrono::milliseconds window) {
  Child child = Spawn({HK_WRITE_STREAM_BINARY, dir, std::to_string(threads)}, StderrMode::kInherit);
  if (child.pid < 0) return {};
  std::string text;
  // The writer dying on its own stops the read early: reported below.
  (void)ReadUntil(
      child, text,
      [want](const std::string& t) {
        return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n')) >= want;
      },
      window);
  ::kill(child.pid, SIGKILL);
  // What it printed before dying was acknowledged too.
  const ProcessResult killed = Finish(child, std::move(text));
  EXPECT_EQ(killed.signal, SIGKILL) << "the writer stopped before it was killed";
  text = killed.out;

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
