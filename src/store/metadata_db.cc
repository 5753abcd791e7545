#include "store/metadata_db.h"

namespace hokan {

Result<std::unique_ptr<MetadataDb>> MetadataDb::Open(const std::string& path,
                                                     const DatabaseOptions& options) {
  HK_ASSIGN_OR_RETURN(std::unique_ptr<Database> writer, Database::Open(path, options));
  return std::unique_ptr<MetadataDb>(new MetadataDb(std::move(writer), path, options));
}

MetadataDb::MetadataDb(std::unique_ptr<Database> writer, std::string path, DatabaseOptions options)
    : writer_(std::move(writer)), path_(std::move(path)), options_(std::move(options)) {
  committer_ = std::make_unique<Committer>(*writer_, writer_mu_);
}

Status MetadataDb::WithWriteConnection(const std::function<Status(Database&)>& fn) {
  MutexLock lock(writer_mu_);
  return fn(*writer_);
}

Status MetadataDb::Read(const std::function<Status(Database&)>& fn) {
  if (writer_->exclusive()) {
    MutexLock lock(writer_mu_);
    HK_RETURN_IF_ERROR(writer_->Exec("BEGIN"));
    Status st = fn(*writer_);
    writer_->ResetStatements();
    (void)writer_->Exec("COMMIT");
    return st;
  }
  std::unique_ptr<Database> reader;
  {
    MutexLock lock(pool_mu_);
    if (!idle_readers_.empty()) {
      reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (reader == nullptr) {
    // Opened read-write (but only read from): a read-only connection cannot build the WAL
    // index when it is the first to open the database.
    DatabaseOptions ro = options_;
    ro.create = false;
    HK_ASSIGN_OR_RETURN(reader, Database::Open(path_, ro));
  }
  HK_RETURN_IF_ERROR(reader->Exec("BEGIN"));
  Status st = fn(*reader);
  reader->ResetStatements();  // Else the snapshot outlives this Read (stale later reads).
  Status end = reader->Exec("COMMIT");
  if (st.ok()) st = end;
  if (end.ok()) {
    MutexLock lock(pool_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  return st;
}

}  // namespace hokan
