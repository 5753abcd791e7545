// Malware scan with libclamav, when the facility has a ClamAV signature database (freshclam or
// a copy brought in on media). hokan works without one; with one, every file and every archive
// member is scanned before disarming, and reports carry the database's version and age.
#pragma once

#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "base/time.h"
#include "sanitize/sanitize.h"

struct cl_engine;  // libclamav's, kept out of this header.

namespace hokan {

class ClamavScanner final : public MalwareScanner {
 public:
  // Loads every signature file in `database_dir` (*.cvd, *.cld, *.cud and ClamAV's text formats
  // such as *.hdb, *.ndb, *.ldb). `now` dates the database: its age is now minus the newest
  // signature time (from the CVD headers, else the files' modification times).
  static Result<std::unique_ptr<ClamavScanner>> Open(FileSystem& fs,
                                                     const std::string& database_dir,
                                                     TimePoint now);
  ~ClamavScanner() override;
  ClamavScanner(const ClamavScanner&) = delete;
  ClamavScanner& operator=(const ClamavScanner&) = delete;

  Status Scan(ByteView content, MalwareScanInfo& info) const override;

  const std::string& engine() const { return engine_version_; }
  const std::string& database_version() const { return database_version_; }
  std::int64_t database_age_days() const { return database_age_days_; }
  unsigned signature_count() const { return signature_count_; }

 private:
  ClamavScanner() = default;
  ::cl_engine* engine_ = nullptr;
  std::string engine_version_;
  std::string database_version_;
  std::int64_t database_age_days_ = 0;
  unsigned signature_count_ = 0;
};

}  // namespace hokan
