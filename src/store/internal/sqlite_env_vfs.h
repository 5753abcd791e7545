// A SQLite VFS that does all its file I/O through a hokan::FileSystem (STYLE.md rule 8), so
// the real SQLite engine runs on testing::FakeFileSystem and a test can pull the plug.
//
// Limits, by design:
//   - No shared memory (the io methods are iVersion 1, without xShmMap) and no locking:
//     one process, one connection per database file. A database must be opened with
//     `PRAGMA locking_mode=EXCLUSIVE` before anything else; that is also what lets WAL mode
//     work, with the WAL index in heap memory instead of a -shm file.
//   - Paths are absolute, as FileSystem paths are.
//   - Nameless temporary files (SQLite passes no name for sort spills and the like) live in
//     memory: they never need to survive a crash, and there is no FileSystem path to put
//     them at.
//   - A file opened with SQLITE_OPEN_READONLY refuses writes (SQLITE_IOERR_WRITE), so a
//     read-only connection never checkpoints or removes a WAL.
//   - Durability follows SQLite's unix VFS: the first xSync of a file this VFS created also
//     syncs its directory, so a new journal, WAL or database file keeps its name after a
//     crash; xDelete syncs the directory when SQLite asks.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"

namespace hokan::store_internal {

class SqliteEnvVfs {
 private:
  struct Key {
    explicit Key() = default;
  };

 public:
  // Registers a VFS named `name` (not as the default): pass the name to sqlite3_open_v2.
  // kAlreadyExists if SQLite already has a VFS of that name; kInvalidArgument if empty.
  // `fs` must outlive the returned object.
  static Result<std::unique_ptr<SqliteEnvVfs>> Register(FileSystem& fs, std::string name);

  // For Register() only: Key is private.
  SqliteEnvVfs(Key key, FileSystem& fs, std::string name);
  // Unregisters the VFS. Every connection opened through it must be closed first.
  ~SqliteEnvVfs();
  SqliteEnvVfs(const SqliteEnvVfs&) = delete;
  SqliteEnvVfs& operator=(const SqliteEnvVfs&) = delete;

  const std::string& name() const { return name_; }

 private:
  // The C callbacks reach this object through vfs_.pAppData; they live in the .cc.
  friend struct VfsAccess;

  FileSystem& fs_;  // Borrowed; see Register().
  const std::string name_;
  sqlite3_vfs* default_vfs_ = nullptr;  // SQLite's own: time, randomness, sleep.
  sqlite3_vfs vfs_{};                   // Points at name_ and at this object.
  bool registered_ = false;
};

}  // namespace hokan::store_internal
