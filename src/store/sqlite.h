// A thin RAII adapter over SQLite: the only place its C API and error codes are translated
// into Status. Metadata (store) and the audit log (audit) both use it, inside one database,
// so a version row and its audit entry commit together.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hokan {

struct DatabaseOptions {
  // SQLite VFS name; empty = the platform default ("unix"). Tests pass a VFS over a fake file
  // system, which has no shared memory, so the database is then opened in exclusive locking
  // mode (one connection, WAL kept in heap memory).
  std::string vfs;
  // Fsync on every commit (synchronous=FULL). Only benchmarks that measure something else
  // turn this off.
  bool sync = true;
  // Open read-only (verification, export, tail). A read-only open never creates the file.
  bool read_only = false;
  // Create the file when missing (only `hokan init`).
  bool create = false;
  // How long to wait for another process's write lock before kUnavailable.
  int busy_timeout_ms = 10000;
};

class Statement;

// One SQLite connection. Not thread-safe: callers serialise access (RecordStore does).
class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // Prepares (and caches) a statement. The reference stays valid while the Database lives;
  // it is reset and its bindings cleared on each Prepare.
  Result<Statement*> Prepare(std::string_view sql);

  // Resets every statement still stepping. A statement left mid-result keeps its read
  // transaction (and so its snapshot) open past COMMIT; transactions end with this.
  void ResetStatements();

  // Writes a consistent copy of the whole database to the new file `path` (SQLite's online
  // backup, page for page, in one step: the copy is the state at one instant, while other
  // connections keep reading and writing). The copy uses the platform's default VFS and is
  // synced. kAlreadyExists when `path` exists.
  Status CopyTo(const std::string& path);

  bool exclusive() const { return exclusive_; }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path, bool exclusive);
  struct Cache;
  sqlite3* db_;
  std::string path_;
  bool exclusive_;
  std::unique_ptr<Cache> cache_;
  friend class Statement;
};

// A prepared statement, owned by its Database's cache.
class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, ByteView blob);
  Statement& BindNull(int index);

  // True when a row is ready, false when done.
  Result<bool> Step();
  // Steps a statement that returns no rows.
  Status Run();

  std::int64_t ColumnInt(int index) const;
  std::string ColumnText(int index) const;
  std::string_view ColumnTextView(int index) const;  // Valid until the next Step().
  Bytes ColumnBlob(int index) const;
  ByteView ColumnBlobView(int index) const;  // Valid until the next Step().
  bool ColumnIsNull(int index) const;

 private:
  friend class Database;
  Statement(Database& db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status Error(int rc) const;
  Database& db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

// The Status for a SQLite result code (and the connection's message, which never contains
// bound values). `what` says what was being done.
Status SqliteStatus(int rc, std::string_view what, sqlite3* db);

}  // namespace hokan
