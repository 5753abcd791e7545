// A fresh directory on the real disk for tests that need real files (SQLite, processes),
// removed with everything in it when the object dies. Made under $HK_TEST_TMPDIR when set
// (CTest sets it inside the build tree), else under $TMPDIR or /tmp.
#pragma once

#include <string>

namespace hokan::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace hokan::testing
