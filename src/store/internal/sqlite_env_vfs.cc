#include "store/internal/sqlite_env_vfs.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

namespace hokan::store_internal {

// Gives the C callbacks below the private members they need.
struct VfsAccess {
  static SqliteEnvVfs& Self(sqlite3_vfs* vfs) { return *static_cast<SqliteEnvVfs*>(vfs->pAppData); }
  static FileSystem& Fs(sqlite3_vfs* vfs) { return Self(vfs).fs_; }
  static sqlite3_vfs* Default(sqlite3_vfs* vfs) { return Self(vfs).default_vfs_; }
};

namespace {

constexpr int kSectorSize = 4096;
constexpr int kMaxPathname = 1024;

// Every callback runs inside Guard: SQLite is C, and an exception (std::bad_alloc from a
// string or a buffer) must not unwind through it.
template <typename F>
int Guard(int error_rc, F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    return error_rc;
  }
}

// A failed FileSystem call as the SQLite code for the operation. The Status goes to SQLite's
// error log (sqlite3_config(SQLITE_CONFIG_LOG)), which is where its own VFS reports errno.
int IoError(int rc, const Status& status) {
  sqlite3_log(rc, "hokan vfs: %s", status.ToString().c_str());
  return rc;
}

// Nameless temporary files. They are deleted on close and never need to survive a crash,
// so they need no FileSystem path.
class MemoryFile final : public RandomAccessFile {
 public:
  Result<std::size_t> Read(std::uint64_t offset, std::size_t n, std::uint8_t* out) override {
    if (offset >= bytes_.size()) return std::size_t{0};
    const std::size_t count = std::min(n, bytes_.size() - static_cast<std::size_t>(offset));
    std::memcpy(out, bytes_.data() + offset, count);
    return count;
  }
  Status Write(std::uint64_t offset, ByteView data) override {
    if (offset > std::numeric_limits<std::size_t>::max() - data.size()) {
      return UnavailableError("temporary file too large");
    }
    const std::size_t end = static_cast<std::size_t>(offset) + data.size();
    if (bytes_.size() < end) bytes_.resize(end, 0);
    std::copy(data.begin(), data.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(offset));
    return OkStatus();
  }
  Status Truncate(std::uint64_t size) override {
    bytes_.resize(static_cast<std::size_t>(size), 0);
    return OkStatus();
  }
  Status Sync() override { return OkStatus(); }
  Result<std::uint64_t> Size() override { return static_cast<std::uint64_t>(bytes_.size()); }

 private:
  Bytes bytes_;
};

// The C++ side of one open file.
struct OpenFile {
  FileSystem* fs = nullptr;  // Borrowed from the VFS.
  std::unique_ptr<RandomAccessFile> file;
  std::string path;  // Empty for a MemoryFile.
  // Opened with SQLITE_OPEN_READONLY. FileSystem handles are always read-write, so the VFS
  // refuses writes itself, as the unix VFS's O_RDONLY descriptor would: a read-only
  // connection must not checkpoint a WAL into the database when it closes.
  bool read_only = false;
  bool delete_on_close = false;
  // Set when this VFS created the file: its first xSync also syncs the directory, so the
  // new name survives a crash along with the bytes (as SQLite's unix VFS does for new
  // journals and WAL files).
  bool dir_sync_pending = false;
};

// What SQLite allocates (szOsFile bytes) for each open file: plain C, sqlite3_file first.
struct VfsFile {
  sqlite3_file base;
  OpenFile* open;  // Owned: made in xOpen, destroyed in xClose.
};

OpenFile& Open(sqlite3_file* file) { return *reinterpret_cast<VfsFile*>(file)->open; }

Status ReadOnlyError(const OpenFile& open) {
  return FailedPreconditionError("write to read-only file " + open.path);
}

// --- sqlite3_io_methods ---------------------------------------------------------------------

int Close(sqlite3_file* file) {
  auto* vfs_file = reinterpret_cast<VfsFile*>(file);
  std::unique_ptr<OpenFile> open(std::exchange(vfs_file->open, nullptr));
  if (open == nullptr) return SQLITE_OK;
  return Guard(SQLITE_IOERR_CLOSE, [&] {
    open->file.reset();
    if (open->delete_on_close && !open->path.empty()) {
      const Status removed = open->fs->Remove(open->path);
      if (!removed.ok() && removed.code() != StatusCode::kNotFound) {
        return IoError(SQLITE_IOERR_DELETE, removed);
      }
    }
    return SQLITE_OK;
  });
}

int Read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
  return Guard(SQLITE_IOERR_READ, [&] {
    if (amount < 0 || offset < 0) return SQLITE_IOERR_READ;
    auto* out = static_cast<std::uint8_t*>(buffer);
    const auto n = static_cast<std::size_t>(amount);
    Result<std::size_t> got = Open(file).file->Read(static_cast<std::uint64_t>(offset), n, out);
    if (!got) return IoError(SQLITE_IOERR_READ, got.error());
    if (*got < n) {
      // SQLite relies on the zero fill: a short read of a page past the end of the file is
      // how it sees new pages.
      std::memset(out + *got, 0, n - *got);
      return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
  });
}

int Write(sqlite3_file* file, const void* buffer, int amount, sqlite3_int64 offset) {
  return Guard(SQLITE_IOERR_WRITE, [&] {
    if (amount < 0 || offset < 0) return SQLITE_IOERR_WRITE;
    OpenFile& open = Open(file);
    if (open.read_only) return IoError(SQLITE_IOERR_WRITE, ReadOnlyError(open));
    const ByteView data(static_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(amount));
    const Status written = open.file->Write(static_cast<std::uint64_t>(offset), data);
    if (!written.ok()) return IoError(SQLITE_IOERR_WRITE, written);
    return SQLITE_OK;
  });
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  return Guard(SQLITE_IOERR_TRUNCATE, [&] {
    if (size < 0) return SQLITE_IOERR_TRUNCATE;
    OpenFile& open = Open(file);
    if (open.read_only) return IoError(SQLITE_IOERR_TRUNCATE, ReadOnlyError(open));
    const Status truncated = open.file->Truncate(static_cast<std::uint64_t>(size));
    if (!truncated.ok()) return IoError(SQLITE_IOERR_TRUNCATE, truncated);
    return SQLITE_OK;
  });
}

int Sync(sqlite3_file* file, int /*flags*/) {
  return Guard(SQLITE_IOERR_FSYNC, [&] {
    OpenFile& open = Open(file);
    const Status synced = open.file->Sync();
    if (!synced.ok()) return IoError(SQLITE_IOERR_FSYNC, synced);
    if (open.dir_sync_pending) {
      const Status dir_synced = open.fs->SyncDir(DirName(open.path));
      if (!dir_synced.ok()) return IoError(SQLITE_IOERR_DIR_FSYNC, dir_synced);
      // Only after success: a failed directory sync is retried by the next xSync.
      open.dir_sync_pending = false;
    }
    return SQLITE_OK;
  });
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Guard(SQLITE_IOERR_FSTAT, [&] {
    Result<std::uint64_t> got = Open(file).file->Size();
    if (!got) return IoError(SQLITE_IOERR_FSTAT, got.error());
    *size = static_cast<sqlite3_int64>(*got);
    return SQLITE_OK;
  });
}

// One process and one connection per file (locking_mode=EXCLUSIVE): there is nobody to
// lock against.
int Lock(sqlite3_file* /*file*/, int /*level*/) { return SQLITE_OK; }
int Unlock(sqlite3_file* /*file*/, int /*level*/) { return SQLITE_OK; }
int CheckReservedLock(sqlite3_file* /*file*/, int* reserved) {
  *reserved = 0;
  return SQLITE_OK;
}

int FileControl(sqlite3_file* /*file*/, int /*op*/, void* /*arg*/) { return SQLITE_NOTFOUND; }
int SectorSize(sqlite3_file* /*file*/) { return kSectorSize; }
// No guarantees claimed (no atomic or power-safe writes): SQLite then takes every
// precaution it knows.
int DeviceCharacteristics(sqlite3_file* /*file*/) { return 0; }

// Version 1: no xShmMap, so WAL mode needs locking_mode=EXCLUSIVE (see the header).
constexpr sqlite3_io_methods kIoMethods = {
    1,         // iVersion
    Close,     // xClose
    Read,      // xRead
    Write,     // xWrite
    Truncate,  // xTruncate
    Sync,      // xSync
    FileSize,  // xFileSize
    Lock,      // xLock
    Unlock,    // xUnlock
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    nullptr,  // xShmMap
    nullptr,  // xShmLock
    nullptr,  // xShmBarrier
    nullptr,  // xShmUnmap
    nullptr,  // xFetch
    nullptr,  // xUnfetch
};

// --- sqlite3_vfs ----------------------------------------------------------------------------

int OpenFileCallback(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                     int* out_flags) {
  auto* vfs_file = reinterpret_cast<VfsFile*>(file);
  // SQLite calls xClose only when pMethods is set, so it stays null until success.
  vfs_file->base.pMethods = nullptr;
  vfs_file->open = nullptr;
  return Guard(SQLITE_CANTOPEN, [&] {
    auto open = std::make_unique<OpenFile>();
    open->fs = &VfsAccess::Fs(vfs);
    if (name == nullptr) {
      open->file = std::make_unique<MemoryFile>();
    } else {
      open->path = name;
      const bool create = (flags & SQLITE_OPEN_CREATE) != 0;
      Result<FileInfo> info = open->fs->Stat(open->path);
      if (!info && info.error().code() != StatusCode::kNotFound) {
        return IoError(SQLITE_CANTOPEN, info.error());
      }
      const bool existed = info.has_value();
      if (existed && create && (flags & SQLITE_OPEN_EXCLUSIVE) != 0) {
        return IoError(SQLITE_CANTOPEN, AlreadyExistsError("exclusive open of " + open->path));
      }
      Result<std::unique_ptr<RandomAccessFile>> opened =
          open->fs->OpenRandomAccessFile(open->path, create);
      if (!opened) return IoError(SQLITE_CANTOPEN, opened.error());
      open->file = std::move(opened).value();
      open->read_only = (flags & SQLITE_OPEN_READONLY) != 0;
      open->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
      open->dir_sync_pending = !existed;
    }
    if (out_flags != nullptr) *out_flags = flags;
    vfs_file->open = open.release();
    vfs_file->base.pMethods = &kIoMethods;
    return SQLITE_OK;
  });
}

int DeleteCallback(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Guard(SQLITE_IOERR_DELETE, [&] {
    FileSystem& fs = VfsAccess::Fs(vfs);
    const std::string path = name;
    const Status removed = fs.Remove(path);
    if (removed.code() == StatusCode::kNotFound) return SQLITE_IOERR_DELETE_NOENT;
    if (!removed.ok()) return IoError(SQLITE_IOERR_DELETE, removed);
    if (sync_dir != 0) {
      const Status synced = fs.SyncDir(DirName(path));
      if (!synced.ok()) return IoError(SQLITE_IOERR_DIR_FSYNC, synced);
    }
    return SQLITE_OK;
  });
}

int AccessCallback(sqlite3_vfs* vfs, const char* name, int flags, int* result) {
  *result = 0;
  return Guard(SQLITE_IOERR_ACCESS, [&] {
    Result<FileInfo> info = VfsAccess::Fs(vfs).Stat(name);
    if (!info) {
      if (info.error().code() == StatusCode::kNotFound) return SQLITE_OK;
      return IoError(SQLITE_IOERR_ACCESS, info.error());
    }
    if (flags == SQLITE_ACCESS_EXISTS) {
      // As in SQLite's unix VFS: an empty file does not count, so an empty journal or WAL
      // left by a crash is not taken for a hot one.
      *result = info->is_directory || info->size > 0 ? 1 : 0;
    } else {
      *result = 1;  // Everything hokan creates is readable and writable by hokan.
    }
    return SQLITE_OK;
  });
}

int FullPathnameCallback(sqlite3_vfs* /*vfs*/, const char* name, int out_size, char* out) {
  const std::size_t length = std::strlen(name);
  if (name[0] != '/' || out_size < 0 || length + 1 > static_cast<std::size_t>(out_size)) {
    return SQLITE_CANTOPEN;
  }
  std::memcpy(out, name, length + 1);
  return SQLITE_OK;
}

// Loadable extensions are not supported through this VFS.
void* DlOpenCallback(sqlite3_vfs* /*vfs*/, const char* /*name*/) { return nullptr; }
void DlErrorCallback(sqlite3_vfs* /*vfs*/, int size, char* out) {
  if (size <= 0) return;
  constexpr char kMessage[] = "loadable extensions are not supported";
  const std::size_t n = std::min(static_cast<std::size_t>(size) - 1, sizeof kMessage - 1);
  std::memcpy(out, kMessage, n);
  out[n] = '\0';
}
void (*DlSymCallback(sqlite3_vfs* /*vfs*/, void* /*handle*/, const char* /*symbol*/))(void) {
  return nullptr;
}
void DlCloseCallback(sqlite3_vfs* /*vfs*/, void* /*handle*/) {}

int RandomnessCallback(sqlite3_vfs* vfs, int n, char* out) {
  sqlite3_vfs* base = VfsAccess::Default(vfs);
  return base->xRandomness(base, n, out);
}

int SleepCallback(sqlite3_vfs* vfs, int microseconds) {
  sqlite3_vfs* base = VfsAccess::Default(vfs);
  return base->xSleep(base, microseconds);
}

int CurrentTimeCallback(sqlite3_vfs* vfs, double* julian_day) {
  sqlite3_vfs* base = VfsAccess::Default(vfs);
  return base->xCurrentTime(base, julian_day);
}

int GetLastErrorCallback(sqlite3_vfs* vfs, int size, char* out) {
  sqlite3_vfs* base = VfsAccess::Default(vfs);
  return base->xGetLastError != nullptr ? base->xGetLastError(base, size, out) : 0;
}

int CurrentTimeInt64Callback(sqlite3_vfs* vfs, sqlite3_int64* julian_ms) {
  sqlite3_vfs* base = VfsAccess::Default(vfs);
  if (base->iVersion >= 2 && base->xCurrentTimeInt64 != nullptr) {
    return base->xCurrentTimeInt64(base, julian_ms);
  }
  double julian_day = 0;
  const int rc = base->xCurrentTime(base, &julian_day);
  *julian_ms = static_cast<sqlite3_int64>(julian_day * 86'400'000.0);
  return rc;
}

}  // namespace

SqliteEnvVfs::SqliteEnvVfs(Key /*key*/, FileSystem& fs, std::string name)
    : fs_(fs), name_(std::move(name)) {}

Result<std::unique_ptr<SqliteEnvVfs>> SqliteEnvVfs::Register(FileSystem& fs, std::string name) {
  if (name.empty()) return InvalidArgumentError("SQLite VFS name is empty");
  if (const int rc = sqlite3_initialize(); rc != SQLITE_OK) {
    return InternalError(std::string("sqlite3_initialize: ") + sqlite3_errstr(rc));
  }
  if (sqlite3_vfs_find(name.c_str()) != nullptr) {
    return AlreadyExistsError("SQLite VFS " + name + " is already registered");
  }
  auto self = std::make_unique<SqliteEnvVfs>(Key(), fs, std::move(name));
  self->default_vfs_ = sqlite3_vfs_find(nullptr);
  if (self->default_vfs_ == nullptr) return InternalError("SQLite has no default VFS");

  sqlite3_vfs& vfs = self->vfs_;
  vfs.iVersion = 2;  // Up to xCurrentTimeInt64.
  vfs.szOsFile = sizeof(VfsFile);
  vfs.mxPathname = kMaxPathname;
  vfs.zName = self->name_.c_str();
  vfs.pAppData = self.get();
  vfs.xOpen = OpenFileCallback;
  vfs.xDelete = DeleteCallback;
  vfs.xAccess = AccessCallback;
  vfs.xFullPathname = FullPathnameCallback;
  vfs.xDlOpen = DlOpenCallback;
  vfs.xDlError = DlErrorCallback;
  vfs.xDlSym = DlSymCallback;
  vfs.xDlClose = DlCloseCallback;
  vfs.xRandomness = RandomnessCallback;
  vfs.xSleep = SleepCallback;
  vfs.xCurrentTime = CurrentTimeCallback;
  vfs.xGetLastError = GetLastErrorCallback;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64Callback;

  if (const int rc = sqlite3_vfs_register(&vfs, /*makeDflt=*/0); rc != SQLITE_OK) {
    return InternalError(std::string("sqlite3_vfs_register: ") + sqlite3_errstr(rc));
  }
  self->registered_ = true;
  return self;
}

SqliteEnvVfs::~SqliteEnvVfs() {
  if (registered_) sqlite3_vfs_unregister(&vfs_);
}

}  // namespace hokan::store_internal
