// GET /api/v1/backup/status (issue 6): the last run per target and the last drill, for the
// security officer, auditors and administrators; clinical roles are refused (G-6.10-C4f).
#include "api_fixture.h"
#include "backup/target.h"
#include "service/backup.h"

namespace hokan {
namespace {

using json = nlohmann::json;

class QuietSink final : public VerifySink {
 public:
  void Report(const Problem&) override {}
  void Progress(std::string_view, std::uint64_t, std::uint64_t) override {}
};

class BackupStatusApiTest : public ApiFixture {};

TEST_F(BackupStatusApiTest, ShowsTheLastRunAndDrillToTheRightRoles) {
  StartServer(false);
  std::map<std::string, std::string> pw;
  for (auto [id, role] : {std::pair{"so-1", "security_officer"}, std::pair{"au-1", "auditor"},
                          std::pair{"dr-1", "physician"}}) {
    auto u = api_->CreateLocalUser(local_, {.id = id, .display_name = id, .roles = {role}});
    ASSERT_OK(u);
    pw[id] = u->password;
  }
  // Before any backup: an empty list, not an error.
  ClientResponse empty = Send("GET", "/api/v1/backup/status", Login("so-1", pw["so-1"]));
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_TRUE(json::parse(empty.body)["runs"].empty());

  auto target = backup::DirectoryTarget::Open(env_.fs, tmp_.path() + "/target", true);
  ASSERT_OK(target);
  auto run = RunBackup(*archive_, local_, **target);
  ASSERT_OK(run);
  QuietSink sink;
  auto drill = DrillBackup(*archive_, local_, **target, tmp_.path(), sink);
  ASSERT_OK(drill);
  EXPECT_TRUE(drill->restore.usable) << drill->restore.problem;

  for (const char* who : {"so-1", "au-1"}) {
    ClientResponse r = Send("GET", "/api/v1/backup/status", Login(who, pw[who]));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = json::parse(r.body);
    const json& last = j["runs"][(*target)->Describe()];
    EXPECT_EQ(last["outcome"], "success");
    EXPECT_EQ(last["snapshot_id"], run->write.manifest.snapshot_id);
    EXPECT_EQ(j["last_drill"]["passed"], true);
    EXPECT_EQ(j["last_drill"]["snapshot_id"], run->write.manifest.snapshot_id);
  }
  EXPECT_EQ(Send("GET", "/api/v1/backup/status", Login("dr-1", pw["dr-1"])).status, 403);
  EXPECT_EQ(Send("GET", "/api/v1/backup/status", {}).status, 401);
}

}  // namespace
}  // namespace hokan
