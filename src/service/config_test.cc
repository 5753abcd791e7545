#include "service/config.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;

TEST(Config, RenderedConfigParsesBackToTheSameValues) {
  Config c;
  c.store_id = std::string(32, 'a');
  c.max_content_bytes = 1234;
  c.checkpoint_every_entries = 5;
  Result<Config> parsed = ParseConfig(RenderConfig(c), "hokan.toml");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->store_id, c.store_id);
  EXPECT_EQ(parsed->max_content_bytes, 1234u);
  EXPECT_EQ(parsed->checkpoint_every_entries, 5u);
  EXPECT_EQ(parsed->kek_file, "keys/kek.key");
}

TEST(Config, MistakesAreNamed) {
  const std::string id = "[store]\nid = \"" + std::string(32, 'a') + "\"\n";
  struct Case {
    std::string text;
    std::string needle;
  } cases[] = {
      {id + "max_content_byte = 5\n", "unknown key 'store.max_content_byte'"},
      {id + "max_content_bytes = -1\n", "store.max_content_bytes"},
      {id + "max_content_bytes = \"big\"\n", "store.max_content_bytes"},
      {id + "[audit]\ncheckpoint_every_entries = 0\n", "audit.checkpoint_every_entries"},
      {"[store]\nid = \"short\"\n", "store.id"},
      {"[store\n", "hokan.toml:1"},
      {id + "[bogus]\n", "unknown key 'bogus'"},
  };
  for (const Case& c : cases) {
    Result<Config> r = ParseConfig(c.text, "hokan.toml");
    ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << c.text;
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace hokan
