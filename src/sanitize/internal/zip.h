// Zip archives for the sanitiser (libzip), read from and written to memory, for ooxml.cc and
// archive.cc. Reading never trusts a declared size: every entry is read in chunks against a
// hard cap, and everything decompressed is charged to the Context's limits. Writing always
// produces a fresh archive (new local headers and central directory, no comments, no extra
// fields, no Unix modes), so whatever was odd about the original's structure does not survive.
// docs/sanitize/zip.md.
#pragma once

#include <cstdint>
#include <ctime>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "sanitize/internal/disarm.h"

struct zip;  // libzip's zip_t; kept out of this header.

namespace hokan::sanitize_internal {

struct ZipEntry {
  std::uint64_t index = 0;
  // The name as stored (raw bytes: UTF-8, or a legacy code page such as Shift_JIS). libzip shows
  // a NUL in a name as a space; `raw_name_problem` says when the stored name held one.
  std::string name;
  std::uint64_t compressed_size = 0;
  std::uint64_t declared_size = 0;  // From the central directory: never trusted.
  std::uint16_t compression_method = 0;
  std::time_t mtime = 0;
  bool encrypted = false;
  bool directory = false;         // The name ends with '/'.
  bool symlink = false;           // A Unix symbolic link (external attributes).
  bool raw_name_problem = false;  // The stored name holds NUL or other control characters.
};

// A zip read from memory.
class ZipReader {
 public:
  // Opens the zip in `in`, which must outlive the reader. kInvalidArgument when it is not a
  // readable zip (the message names what is wrong, never content).
  static Result<std::unique_ptr<ZipReader>> Open(ByteView in);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::vector<ZipEntry>& entries() const { return entries_; }

  // False when libzip's strict check (ZIP_CHECKCONS) refuses the archive although it is
  // readable: local headers that disagree with the central directory, bytes after the end
  // record, duplicate names. libzip 1.7 also refuses there what macOS's Archive Utility writes
  // (sizes in a local header that also uses a data descriptor), so this is no reason to refuse
  // the archive — only to never pass it on unchanged: another reader may see other entries.
  bool consistent() const { return consistent_; }

  // The entry whose name equals `name`, ASCII case-insensitively (OPC part names), or null.
  const ZipEntry* Find(std::string_view name) const;

  // Reads one entry whole. kFailedPrecondition when it holds more than `cap` bytes (found by
  // reading, whatever its declared size); kInvalidArgument when it cannot be decompressed.
  Result<Bytes> Read(const ZipEntry& entry, std::uint64_t cap) const;
  // Same, with the cap at the context's max_input_bytes, every chunk charged to
  // ctx.ChargeExpanded() and the entry checked against max_expansion_ratio as it grows, so a
  // decompression bomb stops within a chunk of the limit.
  Result<Bytes> Read(const ZipEntry& entry, Context& ctx) const;

 private:
  ZipReader() = default;
  Result<Bytes> ReadImpl(const ZipEntry& entry, std::uint64_t cap, Context* ctx) const;

  struct zip* zip_ = nullptr;  // Owned; discarded in the destructor.
  std::vector<ZipEntry> entries_;
  bool consistent_ = true;
};

// Writes a new zip to memory.
class ZipWriter {
 public:
  ZipWriter() = default;
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Adds a file. `deflate` false stores it uncompressed. `mtime` 0: the time of writing.
  // The name is written as given (UTF-8 is flagged as such when libzip recognises it).
  Status Add(std::string_view name, Bytes data, bool deflate = true, std::time_t mtime = 0);
  // Adds a directory entry; `name` ends with '/'.
  Status AddDirectory(std::string_view name, std::time_t mtime = 0);
  // The archive's bytes. The writer cannot be used afterwards.
  Result<Bytes> Finish();

 private:
  Status Start();

  struct zip* zip_ = nullptr;  // Owned until Finish().
  void* source_ = nullptr;     // zip_source_t*, kept alive past zip_close().
  std::deque<Bytes> data_;     // libzip reads the entries' bytes only in zip_close().
  bool finished_ = false;
};

// Why an entry name is unsafe for whoever unpacks the archive: absolute ("/x", "\x", "C:x"),
// climbing out (a ".." segment, with '\' counted as a separator), a ':' (an NTFS stream), NUL
// or control characters, or empty. Empty string: the name is safe. Shift_JIS names, whose
// second bytes may be '\\', are read as Shift_JIS when they are not valid UTF-8.
std::string UnsafeNameReason(const ZipEntry& entry);

// True when the name uses '\' as a separator (outside Shift_JIS double-byte characters).
bool HasBackslashSeparator(std::string_view name);

// The name folded for duplicate checks: ASCII lower case, '\' as '/'.
std::string FoldName(std::string_view name);

}  // namespace hokan::sanitize_internal
