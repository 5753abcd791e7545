#include "base/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hokan {
namespace {

// errno as a Status. Everything not named (disk full, I/O error, read-only file system,
// interrupted) is kUnavailable: a retry, or the operator freeing space, may help.
Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string msg = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return NotFoundError(std::move(msg));
    case EEXIST:
      return AlreadyExistsError(std::move(msg));
    // The wrong kind of file, or a directory that still has entries: retrying won't help.
    case EISDIR:
    case ENOTDIR:
    case EINVAL:
      return InvalidArgumentError(std::move(msg));
    case ENOTEMPTY:
      return FailedPreconditionError(std::move(msg));
    case EACCES:
    case EPERM:
      return PermissionDeniedError(std::move(msg));
    default:
      return UnavailableError(std::move(msg));
  }
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Status FsyncFd(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0) return ErrnoStatus("fsync", path, errno);
  return OkStatus();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override { (void)Close(); }

  Status Append(ByteView data) override {
    if (fd_.get() < 0) return FailedPreconditionError("append to closed file " + path_);
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return OkStatus();
  }
  Status Sync() override {
    if (fd_.get() < 0) return FailedPreconditionError("sync of closed file " + path_);
    return FsyncFd(fd_.get(), path_);
  }
  Status Close() override {
    const int fd = fd_.Release();
    if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus("close", path_, errno);
    return OkStatus();
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  Result<std::size_t> Read(std::uint64_t offset, std::size_t n, std::uint8_t* out) override {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_.get(), out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<std::size_t>(r);
    }
    return done;
  }
  Status Write(std::uint64_t offset, ByteView data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t r = ::pwrite(fd_.get(), data.data() + done, data.size() - done,
                                 static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      done += static_cast<std::size_t>(r);
    }
    return OkStatus();
  }
  Status Truncate(std::uint64_t size) override {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return ErrnoStatus("truncate", path_, errno);
    }
    return OkStatus();
  }
  Status Sync() override { return FsyncFd(fd_.get(), path_); }
  Result<std::uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return ErrnoStatus("stat", path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> PosixFileSystem::NewWritableFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
}

Result<std::unique_ptr<RandomAccessFile>> PosixFileSystem::OpenRandomAccessFile(
    const std::string& path, bool create) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
}

Result<Bytes> PosixFileSystem::ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError("not a regular file: " + path);
  Bytes out(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (true) {
    if (done == out.size()) out.resize(out.size() + 4096);  // The file grew; keep reading.
    const ssize_t r = ::read(fd.get(), out.data() + done, out.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  out.resize(done);
  return out;
}

Result<FileInfo> PosixFileSystem::Stat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  FileInfo info;
  info.is_directory = S_ISDIR(st.st_mode);
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.mode = st.st_mode & 07777;
  info.modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  return info;
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename", from, errno);
  return OkStatus();
}

Status PosixFileSystem::Remove(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return OkStatus();
  // Linux refuses to unlink a directory with EISDIR; an empty one goes with rmdir.
  if (errno != EISDIR) return ErrnoStatus("remove", path, errno);
  if (::rmdir(path.c_str()) != 0) {
    return ErrnoStatus("remove", path, errno == EEXIST ? ENOTEMPTY : errno);
  }
  return OkStatus();
}

Status PosixFileSystem::CreateDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus("mkdir", path, errno);
  return OkStatus();
}

Status PosixFileSystem::SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open directory", dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync directory", dir, errno);
  return OkStatus();
}

Status PosixFileSystem::SyncAll(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open", path, errno);
  if (::syncfs(fd.get()) != 0) return ErrnoStatus("syncfs", path, errno);
  return OkStatus();
}

Result<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoStatus("list", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus("list", dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

std::chrono::system_clock::time_point SystemClock::Now() {
  return std::chrono::system_clock::now();
}

}  // namespace hokan
