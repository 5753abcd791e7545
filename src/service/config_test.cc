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
  // The signature defaults: no TSA, revocation required, prescriptions need a doctor.
  EXPECT_TRUE(parsed->signature.tsa_urls.empty());
  EXPECT_TRUE(parsed->signature.require_revocation);
  ASSERT_EQ(parsed->signature.qualifications.size(), 1u);
  EXPECT_EQ(parsed->signature.qualifications.at("prescription"),
            (std::vector<std::string>{"Medical Doctor", "Dentist"}));
}

TEST(Config, SignatureSectionRoundTrips) {
  Config c;
  c.store_id = std::string(32, 'b');
  c.signature.tsa_urls = {"https://tsa.example.jp/tsa", "http://backup.example.jp/"};
  c.signature.development_tsa = true;
  c.signature.trust_anchor_files = {"/etc/hokan/hpki-root \"v2\".pem"};
  c.signature.accredited_tsa_sha256 = {std::string(64, 'c')};
  c.signature.accredited_tsa_types = {"prescription"};
  c.signature.qualifications = {{"prescription", {"Medical Doctor"}},
                                {"dispensing-record", {"Pharmacist"}}};
  Result<Config> parsed = ParseConfig(RenderConfig(c), "hokan.toml");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->signature.tsa_urls, c.signature.tsa_urls);
  EXPECT_TRUE(parsed->signature.development_tsa);
  EXPECT_EQ(parsed->signature.trust_anchor_files, c.signature.trust_anchor_files);
  EXPECT_EQ(parsed->signature.accredited_tsa_types, c.signature.accredited_tsa_types);
  EXPECT_EQ(parsed->signature.qualifications, c.signature.qualifications);
  // An empty table means no document type requires a qualification.
  c.signature.qualifications.clear();
  parsed = ParseConfig(RenderConfig(c), "hokan.toml");
  ASSERT_OK(parsed);
  EXPECT_TRUE(parsed->signature.qualifications.empty());
}

TEST(Config, SanitizeAndMaintenanceSectionsRoundTrip) {
  Config c;
  c.store_id = std::string(32, 'b');
  c.sanitize.action = "hold";
  c.sanitize.rules = {{"*:docm", "block"}, {"maintenance:*", "block"}};
  c.sanitize.clamav_database_dir = "/var/lib/clamav";
  c.sanitize.max_depth = 2;
  c.maintenance.trust_anchor_files = {"keys/vendor-ca.pem"};
  c.maintenance.max_attestation_age_hours = 24;
  Result<Config> parsed = ParseConfig(RenderConfig(c), "hokan.toml");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->sanitize.action, "hold");
  EXPECT_EQ(parsed->sanitize.rules, c.sanitize.rules);
  EXPECT_EQ(parsed->sanitize.clamav_database_dir, "/var/lib/clamav");
  EXPECT_EQ(parsed->sanitize.max_depth, 2u);
  EXPECT_EQ(parsed->maintenance.trust_anchor_files, c.maintenance.trust_anchor_files);
  EXPECT_EQ(parsed->maintenance.max_attestation_age_hours, 24u);
  EXPECT_TRUE(parsed->maintenance.require_revocation);

  const std::string base = "[store]\nid = \"" + std::string(32, 'b') + "\"\n";
  Result<Config> bad = ParseConfig(base + "[sanitize]\naction = \"allow\"\n", "hokan.toml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("sanitize.action"), std::string::npos);
  bad = ParseConfig(base + "[sanitize.rules]\ndocm = \"block\"\n", "hokan.toml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("<source>:<type>"), std::string::npos);
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
      {id + "[signature]\ntsa_urls = [\"ftp://x\"]\n", "not an http:// or https:// URL"},
      {id + "[signature]\ntsa_urls = \"http://x\"\n", "signature.tsa_urls must be a list"},
      {id + "[signature]\naccredited_tsa_types = [\"prescription\"]\n",
       "needs signature.accredited_tsa_sha256"},
      {id + "[signature.qualifications]\nprescription = \"Medical Doctor\"\n",
       "signature.qualifications.prescription must be a list"},
      {id + "[signature]\ntsa_url = []\n", "unknown key 'signature.tsa_url'"},
  };
  for (const Case& c : cases) {
    Result<Config> r = ParseConfig(c.text, "hokan.toml");
    ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << c.text;
    EXPECT_NE(r.error().message().find(c.needle), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace hokan
