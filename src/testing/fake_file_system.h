// In-memory FileSystem that knows what has been synced, so a test can pull the plug and see
// exactly what a real disk would have kept (STYLE.md rules 9 and 10).
//
// Model. Every file and directory is an inode. A file inode has current bytes and durable
// bytes; a directory inode has current entries (name -> inode) and durable entries.
//   - WritableFile::Sync() and RandomAccessFile::Sync() make the file's current bytes durable.
//   - SyncDir(d) makes the current entries of d durable: new names appear, removed names go,
//     and a rename whose target is in d lands. A rename between two directories is wholly
//     durable only after SyncDir() of both: the target name with the target directory, the
//     removal of the source name with the source directory.
//   - A directory made by CreateDir() is durable after SyncDir() of its parent.
//   - SimulatePowerLoss() keeps only what is durable: anything not covered by a Sync() or a
//     SyncDir() is forgotten. This is the strictest disk allowed by POSIX: a real one may keep
//     some unsynced data, never less than this.
//
// Errors follow PosixFileSystem: kNotFound for a missing name or parent directory,
// kAlreadyExists for a taken name, kInvalidArgument for the wrong kind of file (a directory
// where a file is needed or the reverse), kFailedPrecondition for a directory that is not
// empty. Paths are absolute ("/db/x"); repeated and trailing slashes are ignored. "." and ".."
// components and relative paths are kInvalidArgument. The root "/" always exists.
//
// Thread-safe (one mutex). Handles returned by the file system are not thread-safe, like the
// real ones, and may outlive the FakeFileSystem (they then fail with kUnavailable).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"

namespace hokan::testing {

class FakeFileSystem final : public FileSystem {
 public:
  FakeFileSystem();
  ~FakeFileSystem() override;
  FakeFileSystem(const FakeFileSystem&) = delete;
  FakeFileSystem& operator=(const FakeFileSystem&) = delete;

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path,
                                                                 bool create) override;
  Result<Bytes> ReadFile(const std::string& path) override;
  // Modes are 0600 for files and 0700 for directories. A directory's size is 0. `modified`
  // is a logical clock: a later change gives a later time.
  Result<FileInfo> Stat(const std::string& path) override;
  // Directories may be renamed too: onto a missing name or an empty directory, never into
  // themselves (kInvalidArgument).
  Status Rename(const std::string& from, const std::string& to) override;
  // Removes a file, or a directory that is empty (kFailedPrecondition otherwise). Open
  // handles to a removed file keep working, as on POSIX.
  Status Remove(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  // Makes every file's bytes and every directory's entries durable (the fake has one file
  // system).
  Status SyncAll(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;

  // Power cut: the namespace and every file's bytes revert to what was durable. Handles
  // opened before become dead: every later call on them is kUnavailable ("file handle lost
  // in power loss"). Clears any fault set by FailAfter().
  void SimulatePowerLoss();

  // Lets the next `n` mutating operations succeed, then fails every further one with
  // kUnavailable ("injected fault") and no effect, until ClearFaults() or
  // SimulatePowerLoss(). Mutating: NewWritableFile, OpenRandomAccessFile that creates a
  // missing file, Append, RandomAccessFile::Write, Truncate, Sync (both kinds), Rename,
  // Remove, CreateDir, SyncDir, SyncAll. Reads, Stat, ListDir, Size and Close are not counted.
  void FailAfter(int n);
  void ClearFaults();

  // Mutating operations attempted so far, including failed ones; not reset by power loss.
  // Tests use the difference across a call to learn how many steps it takes.
  int mutating_ops() const;

  // Flips every bit of the byte at `offset`, in the current and in the durable bytes (as
  // if the disk rotted). Not a mutating operation; ignores faults. kInvalidArgument if
  // `offset` is past the end of the current contents.
  Status CorruptByte(const std::string& path, std::uint64_t offset);

  // What ReadFile(path) would return after SimulatePowerLoss(), without losing power.
  Result<Bytes> ReadDurable(const std::string& path);

  struct State;  // Public so the handles in the .cc can name it; opaque to users.

 private:
  // Shared with every handle this file system returns, so a handle that outlives it stays
  // safe to call.
  std::shared_ptr<State> state_;
};

}  // namespace hokan::testing
