// OLE2 / Compound File Binary (doc, xls, ppt, msi; docs/sanitize/ole2.md).
//
// Every compound file is first checked by hokan's own reader of the container (header, FAT,
// DIFAT, directory, mini FAT, every stream's sector chain): cycles, shared sectors, chains that
// leave the file, declared sizes larger than the file and directory trees too deep for libgsf's
// recursive reader are refused before libgsf sees the bytes. libgsf then reads the tree and, when
// something is removed, writes the new compound file.
//
//   doc: the VBA storage Macros and the embedded-object storage ObjectPool are removed.
//   xls: the VBA storage _VBA_PROJECT_CUR and the embedded-object storages MBD* are removed;
//        XLM macro sheets (BIFF BoundSheet/BOF records) and ActiveX data (Ctls) block the file.
//   ppt: the record stream is read for VBA and embedded objects, which block the file.
//   msi and other compound files are refused.
// Encrypted documents are refused: hokan cannot look inside them.
#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-input.h>
#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-memory.h>
#include <gsf/gsf-output.h>
#include <gsf/gsf-utils.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;
using Clsid = std::array<std::uint8_t, 16>;

constexpr std::array<std::uint8_t, 8> kMagic = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};

// Root CLSIDs of Windows Installer files: database (.msi/.msm), patch (.msp), transform (.mst).
constexpr std::array<Clsid, 3> kMsiClsids = {{
    {0x84, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x46},
    {0x86, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x46},
    {0x82, 0x10, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x46},
}};

// Sector numbers at and above this are markers, not sectors.
constexpr std::uint32_t kFirstMarker = 0xFFFFFFFC;
constexpr std::uint32_t kEndOfChain = 0xFFFFFFFE;
constexpr std::uint32_t kFreeSector = 0xFFFFFFFF;
constexpr std::uint32_t kNoStream = 0xFFFFFFFF;
constexpr std::size_t kHeaderSize = 512;
constexpr std::size_t kDirEntrySize = 128;
constexpr std::size_t kMiniSectorSize = 64;
constexpr std::uint32_t kMiniStreamCutoff = 4096;
constexpr std::size_t kHeaderDifatEntries = 109;
// libgsf reads the directory tree recursively, one call per sibling or child link: this bounds
// its stack use (and the length of the sibling list it writes for one storage).
constexpr std::uint32_t kMaxLinkDepth = 4096;
constexpr std::uint32_t kMaxNesting = 32;      // Storages in storages.
constexpr std::size_t kMaxEntries = 1u << 16;  // Directory entries reachable from the root.

std::uint16_t Le16(ByteView b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}
std::uint32_t Le32(ByteView b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) |
         (static_cast<std::uint32_t>(b[at + 3]) << 24);
}

bool HasMagic(ByteView in) {
  return in.size() >= kMagic.size() && std::equal(kMagic.begin(), kMagic.end(), in.begin());
}

Status Malformed(std::string_view what) {
  return InvalidArgumentError("malformed compound file: " + std::string(what));
}

// ---------------------------------------------------------------------------------------------
// The container check ([MS-CFB]), done before libgsf reads anything. Returns the number of
// directory entries reachable from the root.

class CfbChecker {
 public:
  explicit CfbChecker(ByteView in) : in_(in) {}

  Result<std::size_t> Run() {
    HK_RETURN_IF_ERROR(ReadHeader());
    HK_RETURN_IF_ERROR(ReadFat());
    HK_RETURN_IF_ERROR(ReadDirectory());
    HK_RETURN_IF_ERROR(ReadMiniFat());
    return WalkTree();
  }

 private:
  // The sector `s` as a view; the caller has checked that it is whole.
  ByteView Sector(std::uint32_t s) const {
    return in_.subspan((static_cast<std::size_t>(s) + 1) * sector_size_, sector_size_);
  }
  bool Whole(std::uint32_t s) const {
    return (static_cast<std::uint64_t>(s) + 2) * sector_size_ <= in_.size();
  }

  // Follows a chain through `table` from `start`, claiming each sector in `owned`: a sector
  // already claimed (a cycle, or two chains sharing sectors) or one outside the table fails.
  static bool Chain(const std::vector<std::uint32_t>& table, std::uint32_t start,
                    std::vector<bool>& owned, std::vector<std::uint32_t>& out) {
    out.clear();
    std::uint32_t s = start;
    while (s != kEndOfChain) {
      if (s >= table.size() || s >= owned.size() || owned[s]) return false;
      owned[s] = true;
      out.push_back(s);
      s = table[s];
    }
    return true;
  }

  Status ReadHeader() {
    if (in_.size() < kHeaderSize || !HasMagic(in_)) {
      return Malformed("the header is missing or truncated");
    }
    const std::uint16_t shift = Le16(in_, 0x1E);
    if ((shift != 9 && shift != 12) || Le16(in_, 0x20) != 6) {
      return Malformed("the sector sizes are not 512/64 or 4096/64 bytes");
    }
    if (Le32(in_, 0x38) != kMiniStreamCutoff) {
      return Malformed("the mini stream cutoff is not 4096 bytes");
    }
    version4_ = shift == 12;
    sector_size_ = std::size_t{1} << shift;
    if (in_.size() < sector_size_ + kHeaderSize) return Malformed("the file is truncated");
    const std::uint64_t sectors = (in_.size() - sector_size_ + sector_size_ - 1) / sector_size_;
    if (sectors >= kFirstMarker) return Malformed("the file has too many sectors");
    big_owned_.assign(sectors, false);
    return OkStatus();
  }

  Status ReadFat() {
    const std::uint32_t num_fat = Le32(in_, 0x2C);
    if (num_fat == 0 || num_fat > big_owned_.size()) {
      return Malformed("the FAT sector count is out of range");
    }
    std::vector<std::uint32_t> fat_sectors;
    fat_sectors.reserve(num_fat);
    for (std::size_t i = 0; i < std::min<std::size_t>(num_fat, kHeaderDifatEntries); ++i) {
      fat_sectors.push_back(Le32(in_, 0x4C + 4 * i));
    }
    const std::size_t per_difat = sector_size_ / 4 - 1;
    const std::size_t needed_difat =
        num_fat <= kHeaderDifatEntries
            ? 0
            : (num_fat - kHeaderDifatEntries + per_difat - 1) / per_difat;
    if (Le32(in_, 0x48) != needed_difat) {
      return Malformed("the DIFAT sector count does not match the FAT sector count");
    }
    std::uint32_t difat = Le32(in_, 0x44);
    for (std::size_t k = 0; k < needed_difat; ++k) {
      if (difat >= big_owned_.size() || !Whole(difat) || big_owned_[difat]) {
        return Malformed("the DIFAT chain is cyclic or points outside the file");
      }
      big_owned_[difat] = true;
      const ByteView d = Sector(difat);
      for (std::size_t j = 0; j < per_difat && fat_sectors.size() < num_fat; ++j) {
        fat_sectors.push_back(Le32(d, 4 * j));
      }
      difat = Le32(d, 4 * per_difat);
    }
    fat_.reserve(fat_sectors.size() * (sector_size_ / 4));
    for (const std::uint32_t s : fat_sectors) {
      if (s >= big_owned_.size() || !Whole(s) || big_owned_[s]) {
        return Malformed("a FAT sector is repeated or lies outside the file");
      }
      big_owned_[s] = true;
      const ByteView f = Sector(s);
      for (std::size_t j = 0; j < sector_size_; j += 4) fat_.push_back(Le32(f, j));
    }
    for (const std::uint32_t next : fat_) {
      if (next >= fat_.size() && next < kFirstMarker) {
        return Malformed("a FAT entry points past the end of the table");
      }
    }
    return OkStatus();
  }

  Status ReadDirectory() {
    if (!Chain(fat_, Le32(in_, 0x30), big_owned_, dir_chain_) || dir_chain_.empty()) {
      return Malformed("the directory's sector chain is cyclic, shared or leaves the file");
    }
    for (const std::uint32_t s : dir_chain_) {
      if (!Whole(s)) return Malformed("the directory is truncated");
    }
    if (dir_chain_.size() * (sector_size_ / kDirEntrySize) > kMaxEntries * 4) {
      return Malformed("the directory is too large");
    }
    return OkStatus();
  }

  Status ReadMiniFat() {
    const std::uint32_t start = Le32(in_, 0x3C);
    if (start == kEndOfChain || start == kFreeSector) return OkStatus();
    std::vector<std::uint32_t> chain;
    if (!Chain(fat_, start, big_owned_, chain)) {
      return Malformed("the mini FAT's sector chain is cyclic, shared or leaves the file");
    }
    for (const std::uint32_t s : chain) {
      if (!Whole(s)) return Malformed("the mini FAT is truncated");
      const ByteView f = Sector(s);
      for (std::size_t j = 0; j < sector_size_; j += 4) mini_fat_.push_back(Le32(f, j));
    }
    for (const std::uint32_t next : mini_fat_) {
      if (next >= mini_fat_.size() && next < kFirstMarker) {
        return Malformed("a mini FAT entry points past the end of the table");
      }
    }
    mini_owned_.assign(mini_fat_.size(), false);
    return OkStatus();
  }

  std::size_t EntryCount() const { return dir_chain_.size() * (sector_size_ / kDirEntrySize); }
  ByteView DirEntry(std::uint32_t id) const {
    const std::size_t per_sector = sector_size_ / kDirEntrySize;
    return Sector(dir_chain_[id / per_sector])
        .subspan((id % per_sector) * kDirEntrySize, kDirEntrySize);
  }

  // A stream's size; version 3 files may hold garbage in the high half, which readers ignore.
  Result<std::uint64_t> StreamSize(ByteView entry) const {
    if (version4_ && Le32(entry, 0x7C) != 0) {
      return Malformed("a stream is declared larger than 4 GiB");
    }
    const std::uint64_t size = Le32(entry, 0x78);
    if (size > in_.size()) return Malformed("a stream is declared larger than the whole file");
    return size;
  }

  // The name as upper-case UTF-16 (ASCII letters folded, as the lookup of Office does for the
  // names hokan looks for); an error for a name that is not NUL-terminated UTF-16.
  static Result<std::u16string> FoldedName(ByteView entry) {
    const std::uint16_t bytes = Le16(entry, 0x40);
    if (bytes < 4 || bytes > 64 || bytes % 2 != 0) {
      return Malformed("a directory entry's name length is invalid");
    }
    std::u16string name;
    const std::size_t units = bytes / 2 - 1;
    if (Le16(entry, units * 2) != 0) return Malformed("a directory entry's name is not terminated");
    for (std::size_t i = 0; i < units; ++i) {
      char16_t c = Le16(entry, i * 2);
      if (c == 0) return Malformed("a directory entry's name holds a NUL character");
      if (c >= 0xD800 && c <= 0xDBFF) {
        if (i + 1 >= units || Le16(entry, (i + 1) * 2) < 0xDC00 ||
            Le16(entry, (i + 1) * 2) > 0xDFFF) {
          return Malformed("a directory entry's name is not valid UTF-16");
        }
        name.push_back(c);
        c = Le16(entry, (i + 1) * 2);
        ++i;
      } else if (c >= 0xDC00 && c <= 0xDFFF) {
        return Malformed("a directory entry's name is not valid UTF-16");
      } else if (c >= u'a' && c <= u'z') {
        c = static_cast<char16_t>(c - u'a' + u'A');
      }
      name.push_back(c);
    }
    return name;
  }

  Status CheckRoot(ByteView root) {
    if (root[0x42] != 5) return Malformed("the first directory entry is not the root");
    if (Le32(root, 0x44) != kNoStream || Le32(root, 0x48) != kNoStream) {
      return Malformed("the root entry has siblings");
    }
    if (version4_ && Le32(root, 0x7C) != 0) return Malformed("the mini stream is too large");
    mini_stream_size_ = Le32(root, 0x78);
    if (mini_stream_size_ == 0) return OkStatus();
    if (mini_stream_size_ > in_.size()) {
      return Malformed("the mini stream is declared larger than the whole file");
    }
    std::vector<std::uint32_t> chain;
    if (!Chain(fat_, Le32(root, 0x74), big_owned_, chain) ||
        chain.size() * sector_size_ < mini_stream_size_) {
      return Malformed(
          "the mini stream's sector chain is cyclic, shared, short or leaves the file");
    }
    return CheckInFile(chain, mini_stream_size_);
  }

  // The first `size` bytes of a chain of big sectors must lie inside the file.
  Status CheckInFile(const std::vector<std::uint32_t>& chain, std::uint64_t size) const {
    for (std::size_t i = 0; i * sector_size_ < size; ++i) {
      const std::uint64_t bytes = std::min<std::uint64_t>(sector_size_, size - i * sector_size_);
      if ((static_cast<std::uint64_t>(chain[i]) + 1) * sector_size_ + bytes > in_.size()) {
        return Malformed("a stream runs past the end of the file (truncated)");
      }
    }
    return OkStatus();
  }

  Status CheckStream(ByteView entry) {
    HK_ASSIGN_OR_RETURN(const std::uint64_t size, StreamSize(entry));
    if (size == 0) return OkStatus();
    std::vector<std::uint32_t> chain;
    const std::uint32_t start = Le32(entry, 0x74);
    if (size < kMiniStreamCutoff) {
      if (!Chain(mini_fat_, start, mini_owned_, chain) || chain.size() * kMiniSectorSize < size) {
        return Malformed("a small stream's chain is cyclic, shared, short or leaves the table");
      }
      for (std::size_t i = 0; i * kMiniSectorSize < size; ++i) {
        const std::uint64_t bytes =
            std::min<std::uint64_t>(kMiniSectorSize, size - i * kMiniSectorSize);
        if (static_cast<std::uint64_t>(chain[i]) * kMiniSectorSize + bytes > mini_stream_size_) {
          return Malformed("a small stream lies outside the mini stream");
        }
      }
      return OkStatus();
    }
    if (!Chain(fat_, start, big_owned_, chain) || chain.size() * sector_size_ < size) {
      return Malformed("a stream's sector chain is cyclic, shared, short or leaves the file");
    }
    return CheckInFile(chain, size);
  }

  Result<std::size_t> WalkTree() {
    const std::size_t entries = EntryCount();
    HK_RETURN_IF_ERROR(CheckRoot(DirEntry(0)));
    struct Visit {
      std::uint32_t id;
      std::size_t storage;  // Index into `names` of the storage the entry belongs to.
      std::uint32_t link_depth;
      std::uint32_t nesting;
    };
    std::vector<std::set<std::u16string>> names(1);
    std::vector<bool> seen(entries, false);
    seen[0] = true;
    std::vector<Visit> stack;
    const std::uint32_t first = Le32(DirEntry(0), 0x4C);
    if (first != kNoStream) stack.push_back({first, 0, 2, 1});
    std::size_t count = 1;
    while (!stack.empty()) {
      const Visit v = stack.back();
      stack.pop_back();
      if (v.id >= entries) return Malformed("a directory link points past the directory");
      if (seen[v.id]) return Malformed("the directory tree is cyclic or shares entries");
      seen[v.id] = true;
      if (++count > kMaxEntries) return Malformed("the directory has too many entries");
      if (v.link_depth > kMaxLinkDepth) return Malformed("the directory tree is too deep");
      const ByteView e = DirEntry(v.id);
      const std::uint8_t type = e[0x42];
      if (type != 1 && type != 2) return Malformed("a directory entry has an invalid type");
      HK_ASSIGN_OR_RETURN(std::u16string name, FoldedName(e));
      if (!names[v.storage].insert(std::move(name)).second) {
        return Malformed("a storage holds two entries with the same name");
      }
      for (const std::uint32_t sibling : {Le32(e, 0x44), Le32(e, 0x48)}) {
        if (sibling != kNoStream)
          stack.push_back({sibling, v.storage, v.link_depth + 1, v.nesting});
      }
      if (type == 1) {
        if (v.nesting >= kMaxNesting) return Malformed("storages are nested too deeply");
        names.emplace_back();
        const std::uint32_t child = Le32(e, 0x4C);
        if (child != kNoStream) {
          stack.push_back({child, names.size() - 1, v.link_depth + 1, v.nesting + 1});
        }
      } else {
        if (Le32(e, 0x4C) != kNoStream) return Malformed("a stream has child entries");
        HK_RETURN_IF_ERROR(CheckStream(e));
      }
    }
    return count;
  }

  ByteView in_;
  bool version4_ = false;
  std::size_t sector_size_ = 512;
  std::vector<bool> big_owned_;
  std::vector<std::uint32_t> fat_;
  std::vector<std::uint32_t> dir_chain_;
  std::vector<std::uint32_t> mini_fat_;
  std::vector<bool> mini_owned_;
  std::uint64_t mini_stream_size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// libgsf.

void DiscardLog(const gchar* /*domain*/, GLogLevelFlags /*level*/, const gchar* /*message*/,
                gpointer /*data*/) {}

// libgsf is initialised once per process. Its warnings about damaged files go nowhere: they can
// quote stream names (file content), and hokan's own check has already refused what they are
// about, or reports it in words of its own.
void InitGsf() {
  static std::once_flag once;
  std::call_once(once, [] {
    gsf_init();
    const auto levels = static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_RECURSION);
    g_log_set_handler("libgsf:msole", levels, DiscardLog, nullptr);
  });
}

struct GObjectUnref {
  void operator()(gpointer object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GErrorFree {
  void operator()(GError* error) const { g_error_free(error); }
};

// One entry of the directory tree as libgsf reads it.
struct Entry {
  std::string name;  // UTF-8.
  bool storage = false;
  Clsid clsid{};
  std::uint64_t size = 0;
  std::vector<Entry> children;
  bool remove = false;  // Left out of the rewritten file.
};

// The opened compound file. `in` must outlive it (libgsf reads it in place).
struct OleFile {
  GPtr<GsfInfile> root;
  Entry tree;
  std::size_t entries = 0;  // Directory entries, the root included.
};

Status ReadChildren(GsfInfile* dir, Entry& into, std::uint32_t depth) {
  if (depth > kMaxNesting) return Malformed("storages are nested too deeply");
  const int n = gsf_infile_num_children(dir);
  for (int i = 0; i < n; ++i) {
    GPtr<GsfInput> child(gsf_infile_child_by_index(dir, i));
    const char* name = gsf_infile_name_by_index(dir, i);
    if (child == nullptr || name == nullptr || *name == '\0') {
      return Malformed("a directory entry cannot be read");
    }
    Entry entry;
    entry.name = name;
    entry.size = static_cast<std::uint64_t>(std::max<gsf_off_t>(gsf_input_size(child.get()), 0));
    GsfInfile* as_dir = GSF_INFILE(child.get());
    entry.storage = gsf_infile_num_children(as_dir) >= 0;
    if (entry.storage) {
      gsf_infile_msole_get_class_id(GSF_INFILE_MSOLE(child.get()), entry.clsid.data());
      HK_RETURN_IF_ERROR(ReadChildren(as_dir, entry, depth + 1));
    }
    into.children.push_back(std::move(entry));
  }
  return OkStatus();
}

Result<OleFile> OpenOle(ByteView in) {
  HK_ASSIGN_OR_RETURN(const std::size_t entries, CfbChecker(in).Run());
  InitGsf();
  GPtr<GsfInput> input(gsf_input_memory_new(in.data(), static_cast<gsf_off_t>(in.size()), FALSE));
  if (input == nullptr) return InternalError("libgsf could not wrap the input");
  GError* raw_error = nullptr;
  OleFile file;
  file.root.reset(gsf_infile_msole_new(input.get(), &raw_error));
  const std::unique_ptr<GError, GErrorFree> error(raw_error);
  if (file.root == nullptr) {
    // libgsf's messages name the structure that is wrong, never content.
    return Malformed(error != nullptr ? error->message : "libgsf cannot read it");
  }
  file.entries = entries;
  file.tree.storage = true;
  gsf_infile_msole_get_class_id(GSF_INFILE_MSOLE(file.root.get()), file.tree.clsid.data());
  HK_RETURN_IF_ERROR(ReadChildren(file.root.get(), file.tree, 1));
  return file;
}

// The bytes of the stream at `path` (names from the root).
Result<Bytes> ReadStream(GsfInfile* root, const std::vector<std::string>& path) {
  GPtr<GsfInput> current;
  GsfInfile* dir = root;
  for (const std::string& name : path) {
    current.reset(gsf_infile_child_by_name(dir, name.c_str()));
    if (current == nullptr) return Malformed("a stream cannot be opened");
    dir = GSF_INFILE(current.get());
  }
  const gsf_off_t size = gsf_input_size(current.get());
  if (size < 0) return Malformed("a stream cannot be read");
  Bytes data(static_cast<std::size_t>(size));
  if (size > 0 && gsf_input_read(current.get(), data.size(), data.data()) == nullptr) {
    return Malformed("a stream cannot be read");
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// What is in the tree.

bool NameIs(std::string_view name, std::string_view want) {
  return name.size() == want.size() &&
         std::equal(name.begin(), name.end(), want.begin(), [](char a, char b) {
           const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; };
           return upper(a) == upper(b);
         });
}

bool NameStartsWith(std::string_view name, std::string_view prefix) {
  return name.size() >= prefix.size() && NameIs(name.substr(0, prefix.size()), prefix);
}

const Entry* Child(const Entry& dir, std::string_view name) {
  for (const Entry& child : dir.children) {
    if (NameIs(child.name, name)) return &child;
  }
  return nullptr;
}

const Entry* ChildStream(const Entry& dir, std::string_view name) {
  const Entry* child = Child(dir, name);
  return child != nullptr && !child->storage ? child : nullptr;
}

// A name for reports: control characters (as in "\x01Ole") written as \xNN.
std::string Printable(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      static constexpr std::string_view kHex = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

std::string Join(std::string_view dir, std::string_view name) {
  return dir.empty() ? Printable(name) : std::string(dir) + "/" + Printable(name);
}

// The first code point of a UTF-8 name.
char32_t FirstCodePoint(std::string_view name) {
  if (name.empty()) return 0;
  const auto b0 = static_cast<unsigned char>(name[0]);
  if (b0 < 0x80) return b0;
  if ((b0 & 0xF0) == 0xE0 && name.size() >= 3) {
    return ((b0 & 0x0Fu) << 12) | ((static_cast<unsigned char>(name[1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(name[2]) & 0x3Fu);
  }
  return 0xFFFD;
}

std::string TypeName(const Entry& root) {
  if (std::find(kMsiClsids.begin(), kMsiClsids.end(), root.clsid) != kMsiClsids.end()) {
    return "msi";
  }
  // Windows Installer compresses its stream names into code points U+3800..U+4840 (U+4840
  // marks its tables); no Office document has such names.
  for (const Entry& child : root.children) {
    const char32_t first = FirstCodePoint(child.name);
    if (first >= 0x3800 && first <= 0x4840) return "msi";
  }
  if (ChildStream(root, "WordDocument") != nullptr) return "doc";
  if (ChildStream(root, "Workbook") != nullptr || ChildStream(root, "Book") != nullptr) {
    return "xls";
  }
  if (ChildStream(root, "PowerPoint Document") != nullptr) return "ppt";
  return "ole2";
}

// A finding before it goes into the Context: removals become reports when the file is refused.
struct Finding {
  std::string kind;
  std::string location;
  Action action = Action::kReported;
  std::string detail;
  bool active = true;
};

class Analysis {
 public:
  Analysis(OleFile& file, std::string type) : file_(file), type_(std::move(type)) {}

  Status Run() {
    Entry& root = file_.tree;
    if (type_ == "msi") {
      Block("executable", "", "Windows Installer packages (msi) are programs and are never let in.",
            true);
      return OkStatus();
    }
    if (ChildStream(root, "EncryptionInfo") != nullptr ||
        ChildStream(root, "EncryptedPackage") != nullptr) {
      Block("encrypted", "EncryptionInfo",
            "The document is encrypted with a password; hokan cannot look inside it.", false);
      return OkStatus();
    }
    if (type_ == "doc") {
      HK_RETURN_IF_ERROR(CheckWord());
      MarkWordRemovals(root);
    } else if (type_ == "xls") {
      HK_RETURN_IF_ERROR(CheckExcel());
      MarkExcelRemovals(root);
    } else if (type_ == "ppt") {
      HK_RETURN_IF_ERROR(CheckPowerPoint());
    }
    ScanKept(root, "");
    if (type_ == "ole2" && !blocked()) {
      Block("unsupported-type", "",
            "hokan checks Word, Excel and PowerPoint compound files only; this one (no "
            "WordDocument, Workbook or PowerPoint Document stream) may hold programs or scripts "
            "hokan cannot find.",
            false);
    }
    return OkStatus();
  }

  const std::vector<Finding>& findings() const { return findings_; }
  bool blocked() const {
    return std::any_of(findings_.begin(), findings_.end(),
                       [](const Finding& f) { return f.action == Action::kBlocked; });
  }
  bool removes() const { return removes_; }

 private:
  void Block(std::string kind, std::string location, std::string detail, bool active) {
    findings_.push_back(
        {std::move(kind), std::move(location), Action::kBlocked, std::move(detail), active});
  }
  void Removed(std::string kind, std::string location, std::string detail) {
    findings_.push_back(
        {std::move(kind), std::move(location), Action::kRemoved, std::move(detail), true});
  }

  // ---- Word ----

  Status CheckWord() {
    const Entry& root = file_.tree;
    const Entry* word = ChildStream(root, "WordDocument");
    HK_ASSIGN_OR_RETURN(const Bytes fib, ReadStream(file_.root.get(), {word->name}));
    if (fib.size() < 0x0C) return Malformed("the WordDocument stream is too short for a FIB");
    const std::uint16_t ident = Le16(fib, 0);
    const std::uint16_t nfib = Le16(fib, 2);
    const std::uint16_t flags = Le16(fib, 0x0A);
    if (ident != 0xA5EC && ident != 0xA5DC) {
      return Malformed("the WordDocument stream does not start with a FIB");
    }
    if ((flags & 0x0100) != 0) {  // fEncrypted (RC4 or XOR obfuscation).
      Block("encrypted", "WordDocument",
            "The Word document is encrypted with a password; hokan cannot look inside it.", false);
    }
    if (ident == 0xA5DC || nfib < 0x00C0) {
      Block("unsupported-type", "WordDocument",
            "Word 6 and Word 95 documents keep WordBasic macros inside the document stream, "
            "where hokan cannot find or remove them.",
            false);
    }
    return OkStatus();
  }

  void MarkWordRemovals(Entry& root) {
    for (Entry& child : root.children) {
      if (!child.storage) continue;
      if (NameIs(child.name, "Macros")) {
        child.remove = true;
        removes_ = true;
        Removed("vba-project", Printable(child.name),
                "The VBA macro project (storage Macros) was removed. The document stream keeps "
                "Word's own macro bookkeeping (toolbar and key customisations), which now "
                "refers to no code.");
      } else if (NameIs(child.name, "ObjectPool") && !child.children.empty()) {
        child.remove = true;
        removes_ = true;
        for (const Entry& object : child.children) ReportObject(object, Printable(child.name));
      }
    }
  }

  // ---- Excel ----

  Status CheckExcel() {
    const Entry& root = file_.tree;
    for (const std::string_view stream_name : {"Workbook", "Book"}) {
      const Entry* stream = ChildStream(root, stream_name);
      if (stream == nullptr) continue;
      HK_ASSIGN_OR_RETURN(const Bytes biff, ReadStream(file_.root.get(), {stream->name}));
      HK_RETURN_IF_ERROR(CheckBiff(biff, Printable(stream->name)));
    }
    if (const Entry* controls = ChildStream(root, "Ctls"); controls != nullptr) {
      Block("activex", Printable(controls->name),
            "ActiveX control data (stream Ctls) is referenced by offsets from the workbook "
            "stream and cannot be removed safely.",
            true);
    }
    return OkStatus();
  }

  // BIFF5/BIFF8 records: type (2), length (2), data. The workbook globals (up to the first EOF)
  // are read strictly; the sheets after them are checked for macro-sheet BOF records.
  Status CheckBiff(ByteView biff, const std::string& where) {
    constexpr std::uint16_t kBof = 0x0809;
    constexpr std::uint16_t kEof = 0x000A;
    constexpr std::uint16_t kFilePass = 0x002F;
    constexpr std::uint16_t kBoundSheet = 0x0085;
    constexpr std::uint16_t kBofMacroSheet = 0x0040;
    constexpr std::uint16_t kBofVbaModule = 0x0006;
    if (biff.size() < 8 || Le16(biff, 0) != kBof) {
      return Malformed("the " + where + " stream does not start with a BOF record");
    }
    std::set<std::uint32_t> flagged;  // Sheet positions already reported.
    std::size_t pos = 0;
    std::size_t sheet = 0;
    bool globals_done = false;
    while (!globals_done) {
      if (pos + 4 > biff.size()) return Malformed("the " + where + " globals have no EOF record");
      const std::uint16_t type = Le16(biff, pos);
      const std::size_t length = Le16(biff, pos + 2);
      if (pos + 4 + length > biff.size()) {
        return Malformed("a record in the " + where + " globals runs past the end");
      }
      const ByteView data = biff.subspan(pos + 4, length);
      pos += 4 + length;
      if (type == kEof) {
        globals_done = true;
      } else if (type == kFilePass) {
        Block("encrypted", where,
              "The workbook is encrypted with a password (FILEPASS); hokan cannot look inside "
              "it.",
              false);
        return OkStatus();  // The records after FILEPASS are encrypted.
      } else if (type == kBoundSheet) {
        if (data.size() < 6) return Malformed("a sheet record in " + where + " is too short");
        ++sheet;
        const std::uint32_t at = Le32(data, 0);
        const std::uint8_t dt = data[5];
        const std::string location = where + "/sheet " + std::to_string(sheet);
        if (at + std::size_t{8} > biff.size() || Le16(biff, at) != kBof) {
          return Malformed("a sheet's position in " + where + " does not point at a BOF record");
        }
        const std::uint16_t bof_dt = Le16(biff, at + 6);
        if (dt == 1 || bof_dt == kBofMacroSheet) {
          flagged.insert(at);
          Block("xlm-macro-sheet", location,
                "Sheet " + std::to_string(sheet) +
                    " is an Excel 4.0 (XLM) macro sheet; taking a sheet out of a BIFF workbook "
                    "breaks the stream offsets the workbook relies on, so the file is refused.",
                true);
        } else if (dt == 6 || bof_dt == kBofVbaModule) {
          flagged.insert(at);
          Block("vba-project", location,
                "Sheet " + std::to_string(sheet) +
                    " is an Excel 5/95 VBA module sheet, which cannot be removed safely.",
                true);
        }
      }
    }
    // The sheets: any BOF record that opens a macro sheet, whatever the sheet list says.
    while (pos + 4 <= biff.size()) {
      const std::uint16_t type = Le16(biff, pos);
      const std::size_t length = Le16(biff, pos + 2);
      if (pos + 4 + length > biff.size()) break;  // Trailing bytes no reader goes to.
      if (type == kBof && length >= 4 && flagged.count(static_cast<std::uint32_t>(pos)) == 0) {
        const std::uint16_t bof_dt = Le16(biff, pos + 6);
        if (bof_dt == kBofMacroSheet || bof_dt == kBofVbaModule) {
          flagged.insert(static_cast<std::uint32_t>(pos));
          Block(bof_dt == kBofMacroSheet ? "xlm-macro-sheet" : "vba-project",
                where + "/offset " + std::to_string(pos),
                bof_dt == kBofMacroSheet
                    ? "A sheet in the workbook stream is an Excel 4.0 (XLM) macro sheet; it "
                      "cannot be removed safely."
                    : "A sheet in the workbook stream is an Excel 5/95 VBA module sheet; it "
                      "cannot be removed safely.",
                true);
        }
      }
      pos += 4 + length;
    }
    return OkStatus();
  }

  void MarkExcelRemovals(Entry& root) {
    for (Entry& child : root.children) {
      if (!child.storage) continue;
      if (NameIs(child.name, "_VBA_PROJECT_CUR")) {
        child.remove = true;
        removes_ = true;
        Removed("vba-project", Printable(child.name),
                "The VBA macro project (storage _VBA_PROJECT_CUR) was removed.");
      } else if (NameStartsWith(child.name, "MBD")) {
        child.remove = true;
        removes_ = true;
        ReportObject(child, "");
      }
    }
  }

  // ---- PowerPoint ----

  struct PptScan {
    int vba_info = 0;        // VBAInfoAtom records.
    int object_storage = 0;  // ExOleObjStg records (embedded objects and the VBA project).
    int embeds = 0;          // ExOleEmbed/ExOleLink containers.
    int controls = 0;        // ExControl containers (ActiveX).
    bool crypt_session = false;
  };

  Status CheckPowerPoint() {
    const Entry& root = file_.tree;
    if (ChildStream(root, "EncryptedSummary") != nullptr) {
      Block("encrypted", "EncryptedSummary",
            "The presentation is encrypted with a password; hokan cannot look inside it.", false);
      return OkStatus();
    }
    const Entry* user = ChildStream(root, "Current User");
    if (user == nullptr) return Malformed("the presentation has no Current User stream");
    HK_ASSIGN_OR_RETURN(const Bytes current, ReadStream(file_.root.get(), {user->name}));
    if (current.size() < 20 || Le16(current, 2) != 0x0FF6) {
      return Malformed("the Current User stream does not hold a CurrentUserAtom");
    }
    const std::uint32_t token = Le32(current, 12);
    if (token == 0xF3D1C4DF) {
      Block("encrypted", "Current User",
            "The presentation is encrypted with a password; hokan cannot look inside it.", false);
      return OkStatus();
    }
    const std::uint32_t current_edit = Le32(current, 16);
    const Entry* doc = ChildStream(root, "PowerPoint Document");
    HK_ASSIGN_OR_RETURN(const Bytes stream, ReadStream(file_.root.get(), {doc->name}));

    PptScan scan;
    std::set<std::size_t> top_level;
    std::size_t pos = 0;
    while (pos < stream.size()) {
      if (pos + 8 > stream.size()) return Malformed("a PowerPoint record header is truncated");
      top_level.insert(pos);
      const std::size_t length = Le32(stream, pos + 4);
      if (length > stream.size() - pos - 8) {
        return Malformed("a PowerPoint record runs past the end of its stream");
      }
      HK_RETURN_IF_ERROR(ScanPptRecord(ByteView(stream).subspan(pos, 8 + length), 0, scan));
      pos += 8 + length;
    }
    HK_RETURN_IF_ERROR(CheckPersistDirectory(stream, current_edit, top_level));

    const std::string where = Printable(doc->name);
    if (scan.crypt_session) {
      Block("encrypted", where,
            "The presentation is encrypted with a password; hokan cannot look inside it.", false);
    }
    if (scan.vba_info > 0) {
      Block("vba-project", where,
            "The presentation holds a VBA macro project inside its record stream, which cannot "
            "be removed safely.",
            true);
    }
    if (scan.controls > 0) {
      Block("activex", where,
            std::to_string(scan.controls) +
                " ActiveX control(s) in the presentation's record stream cannot be removed "
                "safely.",
            true);
    }
    const int objects = std::max(scan.embeds, scan.object_storage - (scan.vba_info > 0 ? 1 : 0));
    if (objects > 0) {
      Block("ole-object", where,
            std::to_string(objects) +
                " embedded or linked OLE object(s) in the presentation's record stream cannot be "
                "removed safely.",
            true);
    }
    return OkStatus();
  }

  // One record (header + data). Containers (recVer 0xF) are read down to their atoms.
  Status ScanPptRecord(ByteView record, int depth, PptScan& scan) {
    constexpr int kMaxRecordDepth = 64;
    if (depth > kMaxRecordDepth) return Malformed("PowerPoint records are nested too deeply");
    const std::uint16_t ver_instance = Le16(record, 0);
    const std::uint16_t type = Le16(record, 2);
    switch (type) {
      case 0x0400:  // VBAInfoAtom: persistIdRef, fHasMacros, version. LibreOffice writes one
                    // with neither a reference nor the flag in every presentation.
        if (record.size() < 16 || Le32(record, 8) != 0 || Le32(record, 12) != 0) {
          ++scan.vba_info;
        }
        break;
      case 0x1011:  // ExOleObjStg
        ++scan.object_storage;
        break;
      case 0x0FCC:  // ExOleEmbedContainer
      case 0x0FCE:  // ExOleLinkContainer
        ++scan.embeds;
        break;
      case 0x0FEE:  // ExControlContainer
        ++scan.controls;
        break;
      case 0x2F14:  // CryptSession10Container
        scan.crypt_session = true;
        break;
      default:
        break;
    }
    if ((ver_instance & 0x000F) != 0x000F) return OkStatus();
    std::size_t pos = 8;
    while (pos < record.size()) {
      if (pos + 8 > record.size()) return Malformed("a PowerPoint record header is truncated");
      const std::size_t length = Le32(record, pos + 4);
      if (length > record.size() - pos - 8) {
        return Malformed("a PowerPoint record runs past the end of its container");
      }
      HK_RETURN_IF_ERROR(ScanPptRecord(record.subspan(pos, 8 + length), depth + 1, scan));
      pos += 8 + length;
    }
    return OkStatus();
  }

  // PowerPoint loads what its persist directories point at. Each must be a top-level record
  // that the scan above read, or something could hide inside another record's data.
  static Status CheckPersistDirectory(ByteView stream, std::uint32_t edit,
                                      const std::set<std::size_t>& top_level) {
    std::set<std::uint32_t> edits_seen;
    while (edit != 0) {
      if (!edits_seen.insert(edit).second) return Malformed("the PowerPoint edit chain is cyclic");
      if (top_level.count(edit) == 0 || Le16(stream, edit + 2) != 0x0FF5 ||
          Le32(stream, edit + 4) < 28) {
        return Malformed("the PowerPoint edit chain does not point at a UserEditAtom");
      }
      const std::uint32_t last_edit = Le32(stream, edit + 8 + 8);
      const std::uint32_t directory = Le32(stream, edit + 8 + 12);
      if (top_level.count(directory) == 0 || Le16(stream, directory + 2) != 0x1772) {
        return Malformed("the PowerPoint edit chain does not point at a persist directory");
      }
      const std::size_t end = directory + 8 + std::size_t{Le32(stream, directory + 4)};
      std::size_t pos = directory + 8;
      while (pos + 4 <= end) {
        const std::uint32_t head = Le32(stream, pos);
        const std::size_t count = head >> 20;
        pos += 4;
        if (count * 4 > end - pos) return Malformed("a PowerPoint persist directory is truncated");
        for (std::size_t i = 0; i < count; ++i, pos += 4) {
          if (top_level.count(Le32(stream, pos)) == 0) {
            return Malformed("a PowerPoint persist entry does not point at a top-level record");
          }
        }
      }
      edit = last_edit;
    }
    return OkStatus();
  }

  // ---- Anywhere ----

  // An embedded object's storage (ObjectPool child, MBD* storage), removed.
  void ReportObject(const Entry& object, std::string_view dir) {
    const std::string location = Join(dir, object.name);
    if (!object.storage) {
      Removed("ole-object", location, "An embedded object's stream was removed.");
      return;
    }
    if (Child(object, "\x03OCXNAME") != nullptr || Child(object, "\x03OCXDATA") != nullptr) {
      Removed("activex", location, "An ActiveX control was removed.");
    } else if (ChildStream(object, "\x01Ole10Native") != nullptr) {
      Removed("ole-object", location,
              "An embedded package (a file carried inside the document, run when opened) was "
              "removed.");
    } else {
      Removed("ole-object", location, "An embedded OLE object was removed.");
    }
  }

  // Active content left in what is kept: refused, since hokan does not know how to take it out.
  // (A "\x01Ole" stream at the root describes the document itself, not an embedded object.)
  void ScanKept(const Entry& dir, const std::string& path) {
    for (const Entry& child : dir.children) {
      if (child.remove) continue;
      const std::string location = Join(path, child.name);
      if (child.storage) {
        if (NameIs(child.name, "VBA") || NameIs(child.name, "_VBA_PROJECT_CUR") ||
            NameIs(child.name, "_VBA_PROJECT") || NameIs(child.name, "Macros")) {
          Block("vba-project", location,
                "A VBA macro project in a place hokan cannot remove it from safely.", true);
        } else if (ChildStream(child, "\x01Ole") != nullptr ||
                   ChildStream(child, "\x01Ole10Native") != nullptr) {
          Block("ole-object", location,
                "An embedded OLE object in a place hokan cannot remove it from safely.", true);
        } else {
          ScanKept(child, location);
        }
      } else if (NameIs(child.name, "\x01Ole10Native")) {
        Block("ole-object", location,
              "An embedded package (a file run when opened) in a place hokan cannot remove it "
              "from safely.",
              true);
      } else if (NameIs(child.name, "_VBA_PROJECT")) {
        Block("vba-project", location,
              "A VBA macro stream in a place hokan cannot remove it from safely.", true);
      }
    }
  }

  OleFile& file_;
  std::string type_;
  std::vector<Finding> findings_;
  bool removes_ = false;
};

// ---------------------------------------------------------------------------------------------
// Writing.

Status CopyStream(GsfInput* from, GsfOutput* to) {
  constexpr std::size_t kChunk = std::size_t{64} << 10;
  gsf_off_t left = gsf_input_size(from);
  while (left > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<gsf_off_t>(left, kChunk));
    const guint8* data = gsf_input_read(from, n, nullptr);
    if (data == nullptr) return Malformed("a stream cannot be read");
    if (gsf_output_write(to, n, data) == FALSE) return InternalError("libgsf could not write");
    left -= static_cast<gsf_off_t>(n);
  }
  return OkStatus();
}

Status CopyStorage(GsfInfile* from, const Entry& entry, GsfOutfile* to) {
  if (entry.children.size() + 16 > kMaxLinkDepth) {
    return Malformed("a storage has too many entries to be rewritten");
  }
  for (const Entry& child : entry.children) {
    if (child.remove) continue;
    GPtr<GsfInput> in(gsf_infile_child_by_name(from, child.name.c_str()));
    if (in == nullptr) return Malformed("a directory entry cannot be read");
    GPtr<GsfOutput> out(gsf_outfile_new_child(to, child.name.c_str(), child.storage));
    if (out == nullptr) return InternalError("libgsf could not create an entry");
    Status copied;
    if (child.storage) {
      gsf_outfile_msole_set_class_id(GSF_OUTFILE_MSOLE(out.get()), child.clsid.data());
      copied = CopyStorage(GSF_INFILE(in.get()), child, GSF_OUTFILE(out.get()));
    } else {
      copied = CopyStream(in.get(), out.get());
    }
    const bool closed = gsf_output_close(out.get()) != FALSE;
    HK_RETURN_IF_ERROR(copied);
    if (!closed) return InternalError("libgsf could not close an entry");
  }
  return OkStatus();
}

Result<Bytes> Rewrite(const OleFile& file) {
  GPtr<GsfOutput> sink(gsf_output_memory_new());
  if (sink == nullptr) return InternalError("libgsf could not create an output");
  GPtr<GsfOutfile> out(gsf_outfile_msole_new(sink.get()));
  if (out == nullptr) return InternalError("libgsf could not create a compound file");
  gsf_outfile_msole_set_class_id(GSF_OUTFILE_MSOLE(out.get()), file.tree.clsid.data());
  const Status copied = CopyStorage(file.root.get(), file.tree, out.get());
  // Closing the root writes the directory and FAT, and closes the sink.
  const bool closed = gsf_output_close(GSF_OUTPUT(out.get())) != FALSE;
  HK_RETURN_IF_ERROR(copied);
  if (!closed) return InternalError("libgsf could not finish the compound file");
  const gsf_off_t size = gsf_output_size(sink.get());
  const guint8* bytes = gsf_output_memory_get_bytes(GSF_OUTPUT_MEMORY(sink.get()));
  if (size <= 0 || bytes == nullptr) return InternalError("libgsf wrote nothing");
  return Bytes(bytes, bytes + size);
}

Result<Bytes> DisarmOle2OrError(ByteView in, Context& ctx) {
  HK_ASSIGN_OR_RETURN(OleFile file, OpenOle(in));
  if (file.entries > ctx.limits().max_archive_entries) {
    ctx.Add("limit-exceeded", "", Action::kBlocked,
            "The compound file has more than " + std::to_string(ctx.limits().max_archive_entries) +
                " entries (max_archive_entries).",
            false);
    return FailedPreconditionError("the compound file has too many entries");
  }
  const std::string type = TypeName(file.tree);
  Analysis analysis(file, type);
  HK_RETURN_IF_ERROR(analysis.Run());
  const bool blocked = analysis.blocked();
  for (const Finding& f : analysis.findings()) {
    // Nothing is removed from a file that is refused: what would have been is only reported.
    const Action action = blocked && f.action == Action::kRemoved ? Action::kReported : f.action;
    std::string detail = f.detail;
    if (action != f.action) detail += " (Not done: the file is refused.)";
    ctx.Add(f.kind, f.location, action, std::move(detail), f.active);
  }
  if (blocked) return Bytes{};
  if (!analysis.removes()) return Bytes(in.begin(), in.end());

  HK_ASSIGN_OR_RETURN(Bytes out, Rewrite(file));
  // The rewritten file must read back cleanly, as the same type, with nothing left to remove.
  Result<OleFile> again = OpenOle(out);
  if (!again.has_value()) {
    return InternalError("the rewritten compound file does not read back: " +
                         again.error().message());
  }
  if (TypeName(again->tree) != type) return InternalError("the rewritten file changed its type");
  Analysis check(*again, type);
  HK_RETURN_IF_ERROR(check.Run());
  if (!check.findings().empty()) {
    return InternalError("the rewritten compound file still holds " + check.findings()[0].kind);
  }
  return out;
}

}  // namespace

std::optional<DetectedType> DetectOle2Type(ByteView in) {
  if (!HasMagic(in)) return std::nullopt;
  try {
    Result<OleFile> file = OpenOle(in);
    if (!file.has_value()) return std::nullopt;
    return MakeType(TypeName(file->tree));
  } catch (const std::bad_alloc&) {
    return std::nullopt;  // DisarmOle2 says why.
  }
}

Result<Bytes> DisarmOle2(ByteView in, const DetectedType& /*type*/, Context& ctx) {
  // The type is decided again from the same bytes, so what is removed always follows the content.
  try {
    return DisarmOle2OrError(in, ctx);
  } catch (const std::bad_alloc&) {
    return UnavailableError("out of memory while reading a compound file");
  }
}

}  // namespace hokan::sanitize_internal
