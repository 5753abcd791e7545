// The metadata database of one data directory: the write connection with its group
// committer, and read connections. Records and the audit log live in it together, so a
// version row and its audit entry commit in one transaction.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "store/committer.h"
#include "store/sqlite.h"

namespace hokan {

class MetadataDb {
 public:
  // Opens (or with options.create, creates) the database at `path`.
  static Result<std::unique_ptr<MetadataDb>> Open(const std::string& path,
                                                  const DatabaseOptions& options);
  MetadataDb(const MetadataDb&) = delete;
  MetadataDb& operator=(const MetadataDb&) = delete;

  // The write path: see Committer.
  Committer& committer() { return *committer_; }

  // Runs `fn` inside one read transaction (a consistent snapshot). With a real VFS it uses a
  // pooled read connection and does not wait for writers; on an exclusive (test) connection
  // it shares the write connection.
  Status Read(const std::function<Status(Database&)>& fn) HK_EXCLUDES(pool_mu_);

  // Schema changes and one-off writes outside the group commit (init, migrations).
  Status WithWriteConnection(const std::function<Status(Database&)>& fn);

 private:
  MetadataDb(std::unique_ptr<Database> writer, std::string path, DatabaseOptions options);
  std::unique_ptr<Database> writer_;
  const std::string path_;
  const DatabaseOptions options_;
  Mutex writer_mu_;
  std::unique_ptr<Committer> committer_;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<Database>> idle_readers_ HK_GUARDED_BY(pool_mu_);
};

}  // namespace hokan
