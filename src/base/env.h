// Everything the program asks of the disk and the clock (STYLE.md rule 8). Passed in
// explicitly; there is no default. Only base/posix_env.cc touches the real OS.
//
// Durability is explicit: bytes are durable after Sync() on the file; a create, rename or
// remove is durable after SyncDir() on the directory that holds the name. Everything hokan
// creates is private to the hokan user: files 0600, directories 0700.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace hokan {

// A file written front to back. Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(ByteView data) = 0;
  // Makes every appended byte durable.
  virtual Status Sync() = 0;
  // Idempotent. Does not sync.
  virtual Status Close() = 0;
};

// A file read and written at offsets (the SQLite adapter's files). Not thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `out`; returns the count, less than `n` only at
  // the end of the file.
  virtual Result<std::size_t> Read(std::uint64_t offset, std::size_t n, std::uint8_t* out) = 0;
  // Writes at `offset`, extending the file (with zeros in any gap) as needed.
  virtual Status Write(std::uint64_t offset, ByteView data) = 0;
  virtual Status Truncate(std::uint64_t size) = 0;
  virtual Status Sync() = 0;
  virtual Result<std::uint64_t> Size() = 0;
};

struct FileInfo {
  bool is_directory = false;
  std::uint64_t size = 0;
  std::uint32_t mode = 0;  // Permission bits (e.g. 0600).
  std::chrono::system_clock::time_point modified;
};

// Thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates a new, empty file; kAlreadyExists if the name is taken (never truncates).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;

  // Opens for random access; creates an empty file when `create` and the file is missing.
  // kNotFound when missing and not `create`.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path,
                                                                         bool create) = 0;

  // The whole file. kNotFound when missing.
  virtual Result<Bytes> ReadFile(const std::string& path) = 0;

  // kNotFound when missing.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;

  // Replaces `to` if it exists.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;

  // Creates one directory (the parent must exist); kAlreadyExists if it does.
  virtual Status CreateDir(const std::string& path) = 0;
  // Makes earlier creates, renames and removes inside `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Makes everything written, created, renamed or removed so far on the file system that
  // holds `path` durable (Linux syncfs): one barrier after many files, e.g. a restore.
  virtual Status SyncAll(const std::string& path) = 0;
  // Names (not paths) in `dir`, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
};

// Wall-clock time: audit timestamps, token expiry. Tests move it by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() = 0;
};

// The process's ways out to the OS. Built once, in main().
struct Env {
  FileSystem& fs;
  Clock& clock;
};

// Small path helpers (pure string work, no I/O).
std::string JoinPath(const std::string& dir, const std::string& name);
std::string DirName(const std::string& path);

}  // namespace hokan
