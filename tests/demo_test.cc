// The README's first command ends in `hokan demo`: it must leave a store that verifies, with
// the amendment stored as version 2 next to the untouched version 1 (G-7.1-C3).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "subprocess.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::ProcessResult;
using ::hokan::testing::RunHokan;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(DemoTest, DemoStoreVerifiesAndKeepsBothVersions) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/demo";
  const ProcessResult demo = RunHokan({"demo", "--dir", dir, "--no-serve"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  // std::regex is avoided: GCC 12 warns inside it at -O1 with sanitizers (-Werror).
  const std::string marker = "amended record ";
  const std::size_t at = demo.out.find(marker);
  ASSERT_NE(at, std::string::npos) << demo.out;
  const std::string record = demo.out.substr(at + marker.size(), 24);
  ASSERT_EQ(record.find_first_not_of("0123456789abcdef"), std::string::npos) << record;

  const ProcessResult verify = RunHokan({"verify", "--dir", dir});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // Four text samples, a PDF, a FHIR JSON lab result, the amendment, and a lab export that the
  // sanitiser disarmed (the disguised program it refused is not a version).
  EXPECT_THAT(verify.out, StartsWith("OK: 8 versions"));
  EXPECT_THAT(demo.out, HasSubstr("stored lab-export for patient P0002 disarmed"));
  EXPECT_THAT(demo.out, HasSubstr("refused a program disguised as referral.pdf"));

  const ProcessResult v1 =
      RunHokan({"record", "get", "--dir", dir, "--record", record, "--version", "1", "--out", "-"});
  ASSERT_EQ(v1.exit_code, 0) << v1.err;
  const ProcessResult v2 =
      RunHokan({"record", "get", "--dir", dir, "--record", record, "--version", "2", "--out", "-"});
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  EXPECT_THAT(v1.out, StartsWith("退院時サマリー (demo)"));
  EXPECT_THAT(v1.out, Not(HasSubstr("Addendum")));
  EXPECT_EQ(v2.out, v1.out + "Addendum: follow-up chest X-ray in 4 weeks.\n");

  // Run again on the same directory: it adds to the store instead of failing.
  const ProcessResult again = RunHokan({"demo", "--dir", dir, "--no-serve"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("Using the existing store"));
  EXPECT_EQ(RunHokan({"verify", "--dir", dir}).exit_code, 0);
}

}  // namespace
}  // namespace hokan
