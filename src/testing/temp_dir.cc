#include "testing/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "base/check.h"

namespace hokan::testing {

TempDir::TempDir() {
  const char* base = std::getenv("HK_TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  std::string templ = std::string(base) + "/hokan-test-XXXXXX";
  HK_CHECK(mkdtemp(templ.data()) != nullptr);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace hokan::testing
