#include "sanitize/internal/zip.h"

#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <utility>

namespace hokan::sanitize_internal {
namespace {

constexpr std::size_t kChunk = std::size_t{64} * 1024;

std::uint32_t Le(ByteView in, std::size_t at, int width) {
  std::uint32_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  return v;
}

std::uint64_t Le64(ByteView in, std::size_t at) {
  return std::uint64_t{Le(in, at, 4)} | (std::uint64_t{Le(in, at + 4, 4)} << 32);
}

bool HasSignature(ByteView in, std::uint64_t at, std::string_view sig) {
  return at <= in.size() && in.size() - at >= sig.size() &&
         std::memcmp(in.data() + at, sig.data(), sig.size()) == 0;
}

// The names in the central directory exactly as stored. libzip turns a NUL in a name into a
// space, so a name that a C-string reader would cut short ("run.bat\0.txt") cannot be seen
// through its API. This walk finds the last end record the way libzip does; nullopt when it
// cannot make sense of the directory (libzip, which did, is then the only authority).
std::optional<std::vector<std::string>> RawCentralNames(ByteView in) {
  constexpr std::size_t kEocd = 22;
  if (in.size() < kEocd) return std::nullopt;
  const std::size_t lowest = in.size() > kEocd + 0xFFFF ? in.size() - kEocd - 0xFFFF : 0;
  std::optional<std::size_t> eocd;
  for (std::size_t at = in.size() - kEocd + 1; at-- > lowest;) {
    if (HasSignature(in, at, "PK\x05\x06")) {
      eocd = at;
      break;
    }
  }
  if (!eocd) return std::nullopt;
  std::uint64_t count = Le(in, *eocd + 10, 2);
  std::uint64_t offset = Le(in, *eocd + 16, 4);
  if (count == 0xFFFF || offset == 0xFFFFFFFF) {
    if (*eocd < 20 || !HasSignature(in, *eocd - 20, "PK\x06\x07")) return std::nullopt;
    const std::uint64_t z64 = Le64(in, *eocd - 20 + 8);
    if (!HasSignature(in, z64, "PK\x06\x06") || in.size() - z64 < 56) return std::nullopt;
    count = Le64(in, z64 + 32);
    offset = Le64(in, z64 + 48);
  }
  constexpr std::size_t kHeader = 46;
  if (count > in.size() / kHeader) return std::nullopt;
  std::vector<std::string> names;
  names.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!HasSignature(in, offset, "PK\x01\x02") || in.size() - offset < kHeader) {
      return std::nullopt;
    }
    const std::size_t at = offset;
    const std::size_t name_len = Le(in, at + 28, 2);
    const std::size_t extra_len = Le(in, at + 30, 2);
    const std::size_t comment_len = Le(in, at + 32, 2);
    if (in.size() - at - kHeader < name_len) return std::nullopt;
    names.emplace_back(AsChars(in.subspan(at + kHeader, name_len)));
    offset += kHeader + name_len + extra_len + comment_len;
  }
  return names;
}

// Shift_JIS lead bytes: the byte after one is the second half of a character, and may be '\\'.
bool IsSjisLead(unsigned char c) { return (c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC); }

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// The name with every separator as '/', Shift_JIS second bytes left alone.
std::string WithSlashes(std::string_view name) {
  std::string out(name);
  const bool sjis = !IsValidUtf8(name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (sjis && IsSjisLead(c)) {
      ++i;
    } else if (c == '\\') {
      out[i] = '/';
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ZipReader>> ZipReader::Open(ByteView in) {
  std::unique_ptr<ZipReader> reader(new ZipReader());
  // Strict first; a refusal there only marks the archive inconsistent (zip.h).
  for (int flags : {ZIP_RDONLY | ZIP_CHECKCONS, ZIP_RDONLY}) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(in.data(), in.size(), 0, &error);
    if (source == nullptr) {
      zip_error_fini(&error);
      return InternalError("libzip could not create a memory source");
    }
    reader->zip_ = zip_open_from_source(source, flags, &error);
    if (reader->zip_ != nullptr) {
      zip_error_fini(&error);
      reader->consistent_ = (flags & ZIP_CHECKCONS) != 0;
      break;
    }
    zip_source_free(source);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    if ((flags & ZIP_CHECKCONS) == 0) {
      return InvalidArgumentError("not a readable zip archive (" + why + ")");
    }
  }

  const zip_int64_t count = zip_get_num_entries(reader->zip_, 0);
  if (count < 0) return InvalidArgumentError("the zip's central directory cannot be read");
  const std::optional<std::vector<std::string>> raw = RawCentralNames(in);
  if (!raw || raw->size() != static_cast<std::uint64_t>(count)) reader->consistent_ = false;

  reader->entries_.reserve(static_cast<std::size_t>(count));
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(reader->zip_, index, ZIP_FL_ENC_RAW, &st) != 0 || st.name == nullptr) {
      return InvalidArgumentError("zip entry " + std::to_string(i) + " cannot be read");
    }
    ZipEntry entry;
    entry.index = index;
    entry.name = st.name;
    entry.compressed_size = (st.valid & ZIP_STAT_COMP_SIZE) != 0 ? st.comp_size : 0;
    entry.declared_size = (st.valid & ZIP_STAT_SIZE) != 0 ? st.size : 0;
    entry.compression_method =
        (st.valid & ZIP_STAT_COMP_METHOD) != 0 ? static_cast<std::uint16_t>(st.comp_method) : 0;
    entry.mtime = (st.valid & ZIP_STAT_MTIME) != 0 ? st.mtime : 0;
    entry.encrypted =
        (st.valid & ZIP_STAT_ENCRYPTION_METHOD) != 0 && st.encryption_method != ZIP_EM_NONE;
    entry.directory = !entry.name.empty() && entry.name.back() == '/';
    zip_uint8_t opsys = 0;
    zip_uint32_t attributes = 0;
    if (zip_file_get_external_attributes(reader->zip_, index, 0, &opsys, &attributes) == 0 &&
        opsys == ZIP_OPSYS_UNIX) {
      constexpr zip_uint32_t kTypeMask = 0170000;
      constexpr zip_uint32_t kSymlink = 0120000;
      entry.symlink = ((attributes >> 16) & kTypeMask) == kSymlink;
    }
    if (raw && raw->size() == static_cast<std::uint64_t>(count)) {
      const std::string& stored = (*raw)[static_cast<std::size_t>(i)];
      entry.raw_name_problem = std::any_of(stored.begin(), stored.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      });
    }
    reader->entries_.push_back(std::move(entry));
  }
  return reader;
}

ZipReader::~ZipReader() {
  if (zip_ != nullptr) zip_discard(zip_);
}

const ZipEntry* ZipReader::Find(std::string_view name) const {
  for (const ZipEntry& entry : entries_) {
    if (entry.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), entry.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &entry;
    }
  }
  return nullptr;
}

Result<Bytes> ZipReader::Read(const ZipEntry& entry, std::uint64_t cap) const {
  return ReadImpl(entry, cap, nullptr);
}

Result<Bytes> ZipReader::Read(const ZipEntry& entry, Context& ctx) const {
  return ReadImpl(entry, ctx.limits().max_input_bytes, &ctx);
}

Result<Bytes> ZipReader::ReadImpl(const ZipEntry& entry, std::uint64_t cap, Context* ctx) const {
  const std::string too_big = "zip entry " + entry.name + " holds more than " +
                              std::to_string(cap) + " bytes (max_input_bytes)";
  if (entry.encrypted) return InvalidArgumentError("zip entry " + entry.name + " is encrypted");
  // A declared size can lie in both directions: a large one is refused here (it claims to be a
  // bomb), a small one is not believed — the loop below counts what actually comes out.
  if (entry.declared_size > cap) return FailedPreconditionError(too_big);
  if (ctx != nullptr) {
    HK_RETURN_IF_ERROR(ctx->CheckRatio(entry.name, entry.compressed_size, entry.declared_size));
  }
  zip_file_t* file = zip_fopen_index(zip_, entry.index, 0);
  if (file == nullptr) {
    return InvalidArgumentError("zip entry " + entry.name + " cannot be opened (" +
                                zip_strerror(zip_) + ")");
  }
  Bytes out;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(entry.declared_size, kChunk)));
  Bytes chunk(kChunk);
  Status status;
  for (;;) {
    const zip_int64_t n = zip_fread(file, chunk.data(), chunk.size());
    if (n < 0) {
      status = InvalidArgumentError("zip entry " + entry.name + " is damaged (" +
                                    zip_file_strerror(file) + ")");
      break;
    }
    if (n == 0) break;
    const auto got = static_cast<std::uint64_t>(n);
    if (out.size() + got > cap) {
      status = FailedPreconditionError(too_big);
      break;
    }
    if (ctx != nullptr) {
      status = ctx->ChargeExpanded(got);
      if (status.ok())
        status = ctx->CheckRatio(entry.name, entry.compressed_size, out.size() + got);
      if (!status.ok()) break;
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
  }
  zip_fclose(file);
  if (!status.ok()) return status;
  return out;
}

ZipWriter::~ZipWriter() {
  if (zip_ != nullptr) zip_discard(zip_);
  if (source_ != nullptr) zip_source_free(static_cast<zip_source_t*>(source_));
}

Status ZipWriter::Start() {
  if (finished_) return InternalError("zip writer used after Finish()");
  if (zip_ != nullptr) return OkStatus();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (source == nullptr) {
    zip_error_fini(&error);
    return InternalError("libzip could not create a memory source");
  }
  zip_ = zip_open_from_source(source, ZIP_TRUNCATE, &error);
  if (zip_ == nullptr) {
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    zip_source_free(source);
    return InternalError("libzip could not start a zip in memory (" + why + ")");
  }
  zip_error_fini(&error);
  // The archive releases its source in zip_close(); this reference keeps the bytes for us.
  zip_source_keep(source);
  source_ = source;
  return OkStatus();
}

Status ZipWriter::Add(std::string_view name, Bytes data, bool deflate, std::time_t mtime) {
  HK_RETURN_IF_ERROR(Start());
  data_.push_back(std::move(data));  // A deque: earlier elements do not move.
  const Bytes& stored = data_.back();
  zip_source_t* source =
      zip_source_buffer(zip_, stored.empty() ? nullptr : stored.data(), stored.size(), 0);
  if (source == nullptr) return InternalError("libzip could not wrap an entry's bytes");
  const std::string c_name(name);
  const zip_int64_t index = zip_file_add(zip_, c_name.c_str(), source, ZIP_FL_ENC_GUESS);
  if (index < 0) {
    zip_source_free(source);
    return InvalidArgumentError("zip entry " + c_name + " cannot be added (" + zip_strerror(zip_) +
                                ")");
  }
  const auto at = static_cast<zip_uint64_t>(index);
  if (zip_set_file_compression(zip_, at, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
      (mtime != 0 && zip_file_set_mtime(zip_, at, mtime, 0) != 0)) {
    return InternalError("libzip refused the settings of entry " + c_name);
  }
  return OkStatus();
}

Status ZipWriter::AddDirectory(std::string_view name, std::time_t mtime) {
  HK_RETURN_IF_ERROR(Start());
  const std::string c_name(name);
  const zip_int64_t index = zip_dir_add(zip_, c_name.c_str(), ZIP_FL_ENC_GUESS);
  if (index < 0) {
    return InvalidArgumentError("zip directory " + c_name + " cannot be added (" +
                                zip_strerror(zip_) + ")");
  }
  if (mtime != 0 && zip_file_set_mtime(zip_, static_cast<zip_uint64_t>(index), mtime, 0) != 0) {
    return InternalError("libzip refused the time of directory " + c_name);
  }
  return OkStatus();
}

Result<Bytes> ZipWriter::Finish() {
  HK_RETURN_IF_ERROR(Start());
  finished_ = true;
  if (zip_close(zip_) != 0) {
    const std::string why = zip_strerror(zip_);
    zip_discard(zip_);
    zip_ = nullptr;
    return InternalError("libzip could not write the zip (" + why + ")");
  }
  zip_ = nullptr;
  auto* source = static_cast<zip_source_t*>(source_);
  // libzip writes nothing at all for an archive without entries; an empty zip is its end record.
  Bytes out;
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_source_stat(source, &st) == 0 && (st.valid & ZIP_STAT_SIZE) != 0 && st.size > 0) {
    if (zip_source_open(source) != 0) return InternalError("libzip could not reopen the zip");
    out.resize(static_cast<std::size_t>(st.size));
    const zip_int64_t n = zip_source_read(source, out.data(), out.size());
    zip_source_close(source);
    if (n < 0 || static_cast<std::uint64_t>(n) != st.size) {
      return InternalError("libzip could not read back the zip");
    }
  }
  if (out.empty()) {
    out.assign(22, 0);
    std::memcpy(out.data(), "PK\x05\x06", 4);
  }
  return out;
}

std::string UnsafeNameReason(const ZipEntry& entry) {
  if (entry.raw_name_problem) return "the stored name holds NUL or control characters";
  const std::string& name = entry.name;
  if (name.empty()) return "the name is empty";
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
    return "the name holds control characters";
  }
  const std::string slashed = WithSlashes(name);
  if (slashed.front() == '/') return "the name is an absolute path";
  if (slashed.find(':') != std::string::npos) {
    return "the name holds ':' (a drive letter or an NTFS stream)";
  }
  std::size_t start = 0;
  while (start <= slashed.size()) {
    const std::size_t end = std::min(slashed.find('/', start), slashed.size());
    // Windows drops trailing dots and spaces, so ".. " and "..." may climb as ".." does.
    const std::string_view segment = std::string_view(slashed).substr(start, end - start);
    if (std::count(segment.begin(), segment.end(), '.') >= 2 &&
        segment.find_first_not_of(". ") == std::string_view::npos) {
      return "the name climbs out of the archive's folder (\"..\")";
    }
    start = end + 1;
  }
  return "";
}

bool HasBackslashSeparator(std::string_view name) { return WithSlashes(name) != name; }

std::string FoldName(std::string_view name) {
  std::string out = WithSlashes(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace hokan::sanitize_internal
