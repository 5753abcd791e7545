#include "testing/fake_file_system.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "base/mutex.h"

namespace hokan::testing {
namespace {

using InodeId = std::uint64_t;
constexpr InodeId kRootInode = 1;

// A fake disk that fills up instead of allocating without bound when a test (or a buggy
// caller) writes at an absurd offset.
constexpr std::uint64_t kMaxFileSize = std::uint64_t{1} << 30;

struct Inode {
  bool is_dir = false;
  // Files.
  Bytes current;
  Bytes durable;
  // Directories: name -> inode.
  std::map<std::string, InodeId> entries;
  std::map<std::string, InodeId> durable_entries;
  // Logical time of the last change, for FileInfo::modified.
  std::uint64_t modified = 0;
  // Live handles. An unlinked inode stays while a handle uses it, as on POSIX.
  int open_handles = 0;
};

// A normalised absolute path: its components, empty for the root.
using PathParts = std::vector<std::string>;

Result<PathParts> SplitPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError("path is not absolute: " + path);
  }
  PathParts parts;
  std::size_t pos = 0;
  while (pos < path.size()) {
    const std::size_t slash = path.find('/', pos);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    if (end > pos) {
      std::string part = path.substr(pos, end - pos);
      if (part == "." || part == "..") {
        return InvalidArgumentError("path has a '.' or '..' component: " + path);
      }
      parts.push_back(std::move(part));
    }
    pos = end + 1;
  }
  return parts;
}

bool IsPrefix(const PathParts& prefix, const PathParts& parts) {
  return prefix.size() <= parts.size() && std::equal(prefix.begin(), prefix.end(), parts.begin());
}

std::chrono::system_clock::time_point LogicalTime(std::uint64_t tick) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(tick));
}

}  // namespace

struct FakeFileSystem::State {
  Mutex mu;
  std::map<InodeId, Inode> inodes HK_GUARDED_BY(mu);
  InodeId next_inode HK_GUARDED_BY(mu) = kRootInode + 1;
  // Bumped by every power loss; a handle from an older generation is dead.
  std::uint64_t generation HK_GUARDED_BY(mu) = 0;
  // Set when the FakeFileSystem is destroyed; every handle is then dead.
  bool destroyed HK_GUARDED_BY(mu) = false;
  std::uint64_t clock HK_GUARDED_BY(mu) = 0;
  int mutating_ops HK_GUARDED_BY(mu) = 0;
  // Mutating operations still allowed; negative means no fault is set.
  int fault_budget HK_GUARDED_BY(mu) = -1;

  State() {
    MutexLock lock(mu);
    inodes[kRootInode].is_dir = true;
  }

  // Called first by every mutating operation: counts it and applies FailAfter().
  Status CountMutation() HK_REQUIRES(mu) {
    ++mutating_ops;
    if (fault_budget == 0) return UnavailableError("injected fault");
    if (fault_budget > 0) --fault_budget;
    return OkStatus();
  }

  Status CheckHandle(std::uint64_t handle_generation) HK_REQUIRES(mu) {
    if (destroyed) return UnavailableError("file handle used after its file system died");
    if (handle_generation != generation) {
      return UnavailableError("file handle lost in power loss");
    }
    return OkStatus();
  }

  Inode& Get(InodeId id) HK_REQUIRES(mu) {
    auto it = inodes.find(id);
    HK_CHECK(it != inodes.end());
    return it->second;
  }

  void Touch(Inode& inode) HK_REQUIRES(mu) { inode.modified = ++clock; }

  // The inode at `parts`, following current (or durable) entries from the root.
  Result<InodeId> Lookup(const PathParts& parts, const std::string& path, bool durable)
      HK_REQUIRES(mu) {
    InodeId id = kRootInode;
    for (const std::string& part : parts) {
      const Inode& dir = Get(id);
      if (!dir.is_dir) return InvalidArgumentError("not a directory on the way to " + path);
      const auto& entries = durable ? dir.durable_entries : dir.entries;
      auto it = entries.find(part);
      if (it == entries.end()) return NotFoundError("no such file or directory: " + path);
      id = it->second;
    }
    return id;
  }

  // The directory that holds (or would hold) the last component of `parts`.
  Result<InodeId> LookupParent(const PathParts& parts, const std::string& path) HK_REQUIRES(mu) {
    HK_CHECK(!parts.empty());
    const PathParts parent_parts(parts.begin(), parts.end() - 1);
    auto parent = Lookup(parent_parts, path, /*durable=*/false);
    if (!parent) return parent.error();
    if (!Get(*parent).is_dir) return InvalidArgumentError("parent is not a directory: " + path);
    return *parent;
  }

  InodeId NewInode(bool is_dir) HK_REQUIRES(mu) {
    const InodeId id = next_inode++;
    Inode& inode = inodes[id];
    inode.is_dir = is_dir;
    Touch(inode);
    return id;
  }

  // Drops inodes that neither a current nor a durable name reaches and no handle uses.
  void CollectGarbage() HK_REQUIRES(mu) {
    std::set<InodeId> live;
    std::vector<InodeId> stack = {kRootInode};
    for (const auto& [id, inode] : inodes) {
      if (inode.open_handles > 0) stack.push_back(id);
    }
    while (!stack.empty()) {
      const InodeId id = stack.back();
      stack.pop_back();
      if (!live.insert(id).second) continue;
      const Inode& inode = Get(id);
      for (const auto& [name, child] : inode.entries) stack.push_back(child);
      for (const auto& [name, child] : inode.durable_entries) stack.push_back(child);
    }
    std::erase_if(inodes, [&](const auto& item) { return !live.contains(item.first); });
  }

  void ReleaseHandle(InodeId id, std::uint64_t handle_generation) HK_REQUIRES(mu) {
    // After a power loss or the file system's death the count was already reset.
    if (destroyed || handle_generation != generation) return;
    Inode& inode = Get(id);
    HK_CHECK(inode.open_handles > 0);
    --inode.open_handles;
    if (inode.open_handles == 0) CollectGarbage();
  }
};

namespace {

using State = FakeFileSystem::State;

class FakeWritableFile final : public WritableFile {
 public:
  FakeWritableFile(std::shared_ptr<State> state, InodeId inode, std::uint64_t generation,
                   std::string path)
      : state_(std::move(state)), inode_(inode), generation_(generation), path_(std::move(path)) {}
  ~FakeWritableFile() override {
    MutexLock lock(state_->mu);
    if (!closed_) state_->ReleaseHandle(inode_, generation_);
  }
  FakeWritableFile(const FakeWritableFile&) = delete;
  FakeWritableFile& operator=(const FakeWritableFile&) = delete;

  Status Append(ByteView data) override {
    State& s = *state_;
    MutexLock lock(s.mu);
    if (closed_) return FailedPreconditionError("append to closed file " + path_);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    HK_RETURN_IF_ERROR(s.CountMutation());
    Inode& inode = s.Get(inode_);
    if (inode.current.size() + data.size() > kMaxFileSize) {
      return UnavailableError("fake disk full: " + path_);
    }
    inode.current.insert(inode.current.end(), data.begin(), data.end());
    s.Touch(inode);
    return OkStatus();
  }

  Status Sync() override {
    State& s = *state_;
    MutexLock lock(s.mu);
    if (closed_) return FailedPreconditionError("sync of closed file " + path_);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    HK_RETURN_IF_ERROR(s.CountMutation());
    Inode& inode = s.Get(inode_);
    inode.durable = inode.current;
    return OkStatus();
  }

  Status Close() override {
    State& s = *state_;
    MutexLock lock(s.mu);
    if (closed_) return OkStatus();
    closed_ = true;
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    s.ReleaseHandle(inode_, generation_);
    return OkStatus();
  }

 private:
  std::shared_ptr<State> state_;
  const InodeId inode_;
  const std::uint64_t generation_;
  const std::string path_;
  bool closed_ = false;
};

class FakeRandomAccessFile final : public RandomAccessFile {
 public:
  FakeRandomAccessFile(std::shared_ptr<State> state, InodeId inode, std::uint64_t generation,
                       std::string path)
      : state_(std::move(state)), inode_(inode), generation_(generation), path_(std::move(path)) {}
  ~FakeRandomAccessFile() override {
    MutexLock lock(state_->mu);
    state_->ReleaseHandle(inode_, generation_);
  }
  FakeRandomAccessFile(const FakeRandomAccessFile&) = delete;
  FakeRandomAccessFile& operator=(const FakeRandomAccessFile&) = delete;

  Result<std::size_t> Read(std::uint64_t offset, std::size_t n, std::uint8_t* out) override {
    State& s = *state_;
    MutexLock lock(s.mu);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    const Bytes& bytes = s.Get(inode_).current;
    if (offset >= bytes.size()) return std::size_t{0};
    const std::size_t count = std::min<std::uint64_t>(n, bytes.size() - offset);
    if (count > 0) std::memcpy(out, bytes.data() + offset, count);
    return count;
  }

  Status Write(std::uint64_t offset, ByteView data) override {
    State& s = *state_;
    MutexLock lock(s.mu);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    HK_RETURN_IF_ERROR(s.CountMutation());
    if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
      return UnavailableError("fake disk full: " + path_);
    }
    Inode& inode = s.Get(inode_);
    const std::size_t end = static_cast<std::size_t>(offset) + data.size();
    if (inode.current.size() < end) inode.current.resize(end, 0);
    std::copy(data.begin(), data.end(),
              inode.current.begin() + static_cast<std::ptrdiff_t>(offset));
    s.Touch(inode);
    return OkStatus();
  }

  Status Truncate(std::uint64_t size) override {
    State& s = *state_;
    MutexLock lock(s.mu);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    HK_RETURN_IF_ERROR(s.CountMutation());
    if (size > kMaxFileSize) return UnavailableError("fake disk full: " + path_);
    Inode& inode = s.Get(inode_);
    inode.current.resize(static_cast<std::size_t>(size), 0);
    s.Touch(inode);
    return OkStatus();
  }

  Status Sync() override {
    State& s = *state_;
    MutexLock lock(s.mu);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    HK_RETURN_IF_ERROR(s.CountMutation());
    Inode& inode = s.Get(inode_);
    inode.durable = inode.current;
    return OkStatus();
  }

  Result<std::uint64_t> Size() override {
    State& s = *state_;
    MutexLock lock(s.mu);
    HK_RETURN_IF_ERROR(s.CheckHandle(generation_));
    return static_cast<std::uint64_t>(s.Get(inode_).current.size());
  }

 private:
  std::shared_ptr<State> state_;
  const InodeId inode_;
  const std::uint64_t generation_;
  const std::string path_;
};

}  // namespace

FakeFileSystem::FakeFileSystem() : state_(std::make_shared<State>()) {}

FakeFileSystem::~FakeFileSystem() {
  State& s = *state_;
  MutexLock lock(s.mu);
  s.destroyed = true;
  s.inodes.clear();
}

Result<std::unique_ptr<WritableFile>> FakeFileSystem::NewWritableFile(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  if (parts.empty()) return AlreadyExistsError("create " + path + ": is the root");
  HK_ASSIGN_OR_RETURN(const InodeId parent_id, s.LookupParent(parts, path));
  Inode& parent = s.Get(parent_id);
  if (parent.entries.contains(parts.back())) return AlreadyExistsError("create " + path);
  const InodeId id = s.NewInode(/*is_dir=*/false);
  s.Get(parent_id).entries[parts.back()] = id;
  s.Touch(s.Get(parent_id));
  ++s.Get(id).open_handles;
  return std::unique_ptr<WritableFile>(
      std::make_unique<FakeWritableFile>(state_, id, s.generation, path));
}

Result<std::unique_ptr<RandomAccessFile>> FakeFileSystem::OpenRandomAccessFile(
    const std::string& path, bool create) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  Result<InodeId> found = s.Lookup(parts, path, /*durable=*/false);
  InodeId id = 0;
  if (found) {
    id = *found;
    if (s.Get(id).is_dir) return InvalidArgumentError("open " + path + ": is a directory");
  } else {
    if (!create || parts.empty()) return found.error();
    HK_RETURN_IF_ERROR(s.CountMutation());
    HK_ASSIGN_OR_RETURN(const InodeId parent_id, s.LookupParent(parts, path));
    id = s.NewInode(/*is_dir=*/false);
    s.Get(parent_id).entries[parts.back()] = id;
    s.Touch(s.Get(parent_id));
  }
  ++s.Get(id).open_handles;
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<FakeRandomAccessFile>(state_, id, s.generation, path));
}

Result<Bytes> FakeFileSystem::ReadFile(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, path, /*durable=*/false));
  const Inode& inode = s.Get(id);
  if (inode.is_dir) return InvalidArgumentError("not a regular file: " + path);
  return inode.current;
}

Result<FileInfo> FakeFileSystem::Stat(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, path, /*durable=*/false));
  const Inode& inode = s.Get(id);
  FileInfo info;
  info.is_directory = inode.is_dir;
  info.size = inode.is_dir ? 0 : inode.current.size();
  info.mode = inode.is_dir ? 0700 : 0600;
  info.modified = LogicalTime(inode.modified);
  return info;
}

Status FakeFileSystem::Rename(const std::string& from, const std::string& to) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts from_parts, SplitPath(from));
  HK_ASSIGN_OR_RETURN(const PathParts to_parts, SplitPath(to));
  if (from_parts.empty() || to_parts.empty()) {
    return InvalidArgumentError("rename " + from + " to " + to + ": the root cannot move");
  }
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(from_parts, from, /*durable=*/false));
  HK_ASSIGN_OR_RETURN(const InodeId from_dir, s.LookupParent(from_parts, from));
  HK_ASSIGN_OR_RETURN(const InodeId to_dir, s.LookupParent(to_parts, to));
  if (from_parts == to_parts) return OkStatus();
  const bool is_dir = s.Get(id).is_dir;
  if (is_dir && IsPrefix(from_parts, to_parts)) {
    return InvalidArgumentError("rename " + from + " into itself");
  }
  auto existing = s.Get(to_dir).entries.find(to_parts.back());
  if (existing != s.Get(to_dir).entries.end()) {
    const Inode& target = s.Get(existing->second);
    if (target.is_dir != is_dir) {
      return InvalidArgumentError("rename " + from + " to " + to +
                                  ": cannot replace a file with a directory or the reverse");
    }
    if (target.is_dir && !target.entries.empty()) {
      return FailedPreconditionError("rename " + from + " to " + to + ": target is not empty");
    }
  }
  s.Get(from_dir).entries.erase(from_parts.back());
  s.Get(to_dir).entries[to_parts.back()] = id;
  s.Touch(s.Get(from_dir));
  s.Touch(s.Get(to_dir));
  s.CollectGarbage();
  return OkStatus();
}

Status FakeFileSystem::Remove(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  if (parts.empty()) return InvalidArgumentError("remove " + path + ": is the root");
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, path, /*durable=*/false));
  const Inode& inode = s.Get(id);
  if (inode.is_dir && !inode.entries.empty()) {
    return FailedPreconditionError("remove " + path + ": directory is not empty");
  }
  HK_ASSIGN_OR_RETURN(const InodeId parent_id, s.LookupParent(parts, path));
  Inode& parent = s.Get(parent_id);
  parent.entries.erase(parts.back());
  s.Touch(parent);
  s.CollectGarbage();
  return OkStatus();
}

Status FakeFileSystem::CreateDir(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  if (parts.empty()) return AlreadyExistsError("mkdir " + path);
  HK_ASSIGN_OR_RETURN(const InodeId parent_id, s.LookupParent(parts, path));
  if (s.Get(parent_id).entries.contains(parts.back())) return AlreadyExistsError("mkdir " + path);
  const InodeId id = s.NewInode(/*is_dir=*/true);
  Inode& parent = s.Get(parent_id);
  parent.entries[parts.back()] = id;
  s.Touch(parent);
  return OkStatus();
}

Status FakeFileSystem::SyncDir(const std::string& dir) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(dir));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, dir, /*durable=*/false));
  Inode& inode = s.Get(id);
  if (!inode.is_dir) return InvalidArgumentError("sync directory " + dir + ": not a directory");
  inode.durable_entries = inode.entries;
  // Names this drops from the durable layer may have been the last reference to an inode.
  s.CollectGarbage();
  return OkStatus();
}

Status FakeFileSystem::SyncAll(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_RETURN_IF_ERROR(s.CountMutation());
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  HK_RETURN_IF_ERROR(s.Lookup(parts, path, /*durable=*/false).error());
  for (auto& [id, inode] : s.inodes) {
    if (inode.is_dir) {
      inode.durable_entries = inode.entries;
    } else {
      inode.durable = inode.current;
    }
  }
  s.CollectGarbage();
  return OkStatus();
}

Result<std::vector<std::string>> FakeFileSystem::ListDir(const std::string& dir) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(dir));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, dir, /*durable=*/false));
  const Inode& inode = s.Get(id);
  if (!inode.is_dir) return InvalidArgumentError("list " + dir + ": not a directory");
  std::vector<std::string> names;
  names.reserve(inode.entries.size());
  for (const auto& [name, child] : inode.entries) names.push_back(name);
  return names;
}

void FakeFileSystem::SimulatePowerLoss() {
  State& s = *state_;
  MutexLock lock(s.mu);
  for (auto& [id, inode] : s.inodes) {
    inode.current = inode.durable;
    inode.entries = inode.durable_entries;
    inode.open_handles = 0;
  }
  ++s.generation;
  s.fault_budget = -1;
  s.CollectGarbage();
}

void FakeFileSystem::FailAfter(int n) {
  State& s = *state_;
  MutexLock lock(s.mu);
  s.fault_budget = std::max(n, 0);
}

void FakeFileSystem::ClearFaults() {
  State& s = *state_;
  MutexLock lock(s.mu);
  s.fault_budget = -1;
}

int FakeFileSystem::mutating_ops() const {
  State& s = *state_;
  MutexLock lock(s.mu);
  return s.mutating_ops;
}

Status FakeFileSystem::CorruptByte(const std::string& path, std::uint64_t offset) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, path, /*durable=*/false));
  Inode& inode = s.Get(id);
  if (inode.is_dir) return InvalidArgumentError("corrupt " + path + ": is a directory");
  if (offset >= inode.current.size()) {
    return InvalidArgumentError("corrupt " + path + ": offset is past the end");
  }
  inode.current[static_cast<std::size_t>(offset)] ^= 0xff;
  if (offset < inode.durable.size()) inode.durable[static_cast<std::size_t>(offset)] ^= 0xff;
  return OkStatus();
}

Result<Bytes> FakeFileSystem::ReadDurable(const std::string& path) {
  State& s = *state_;
  MutexLock lock(s.mu);
  HK_ASSIGN_OR_RETURN(const PathParts parts, SplitPath(path));
  HK_ASSIGN_OR_RETURN(const InodeId id, s.Lookup(parts, path, /*durable=*/true));
  const Inode& inode = s.Get(id);
  if (inode.is_dir) return InvalidArgumentError("not a regular file: " + path);
  return inode.durable;
}

}  // namespace hokan::testing
