// The real FileSystem and Clock. Only main() and tests that need a real disk name them.
#pragma once

#include "base/env.h"

namespace hokan {

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path,
                                                                 bool create) override;
  Result<Bytes> ReadFile(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status SyncAll(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override;
};

}  // namespace hokan
