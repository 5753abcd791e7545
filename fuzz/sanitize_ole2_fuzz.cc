// libFuzzer target for compound files (src/sanitize/ole2.cc): DetectOle2Type() then DisarmOle2()
// with small limits. The first byte picks what the rest of the input is:
//   0: the whole file, as received;
//   1: the whole file behind the compound-file signature (so the container checks are reached
//      without libFuzzer having to find the magic first);
//   2-4: the content of a stream, wrapped by a well-formed container written here, so that the
//      parsers behind the container (Word FIB, BIFF records, PowerPoint records and persist
//      directories) see hostile data directly: 2 = Workbook, 3 = WordDocument, 4 = Current User
//      and PowerPoint Document (the first two bytes give the Current User stream's length).
// Nothing may crash, hang or leak; a file that is not refused must come back as a compound file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "sanitize/internal/disarm.h"
#include "sanitize/sanitize.h"

namespace {

using hokan::Bytes;
using hokan::ByteView;

void Put16(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}
void Put32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// A version 3 compound file holding `streams` at the root, each stored in 512-byte sectors and
// padded with zeros to at least 4096 bytes (so no mini stream is needed). Layout: header, FAT
// sectors, one directory sector, then the streams.
Bytes Container(const std::vector<std::pair<std::u16string_view, ByteView>>& streams) {
  constexpr std::size_t kSector = 512;
  std::vector<std::size_t> sizes;
  std::size_t data_sectors = 0;
  for (const auto& [name, data] : streams) {
    const std::size_t size = std::max<std::size_t>(4096, data.size());
    sizes.push_back(size);
    data_sectors += (size + kSector - 1) / kSector;
  }
  std::size_t fat_sectors = 1;
  while (fat_sectors * 128 < fat_sectors + 1 + data_sectors) ++fat_sectors;
  const std::size_t total = fat_sectors + 1 + data_sectors;
  Bytes b((total + 1) * kSector, 0);
  const std::uint8_t magic[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
  std::copy(std::begin(magic), std::end(magic), b.begin());
  Put16(b, 0x18, 0x3E);
  Put16(b, 0x1A, 3);
  Put16(b, 0x1C, 0xFFFE);
  Put16(b, 0x1E, 9);
  Put16(b, 0x20, 6);
  Put32(b, 0x2C, static_cast<std::uint32_t>(fat_sectors));
  Put32(b, 0x30, static_cast<std::uint32_t>(fat_sectors));  // The directory follows the FAT.
  Put32(b, 0x38, 4096);
  Put32(b, 0x3C, 0xFFFFFFFE);
  Put32(b, 0x44, 0xFFFFFFFE);
  for (std::size_t i = 0; i < 109; ++i) {
    Put32(b, 0x4C + 4 * i, i < fat_sectors ? static_cast<std::uint32_t>(i) : 0xFFFFFFFF);
  }
  const auto fat = [&](std::size_t sector, std::uint32_t next) {
    Put32(b, kSector + 4 * sector, next);
  };
  for (std::size_t s = 0; s < fat_sectors * 128; ++s) fat(s, 0xFFFFFFFF);
  for (std::size_t s = 0; s < fat_sectors; ++s) fat(s, 0xFFFFFFFD);
  fat(fat_sectors, 0xFFFFFFFE);
  const std::size_t dir = (fat_sectors + 1) * kSector;
  for (std::size_t e = 0; e < 4; ++e) {
    Put32(b, dir + 128 * e + 0x44, 0xFFFFFFFF);
    Put32(b, dir + 128 * e + 0x48, 0xFFFFFFFF);
    Put32(b, dir + 128 * e + 0x4C, 0xFFFFFFFF);
  }
  const auto name = [&](std::size_t entry, std::u16string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) Put16(b, entry + 2 * i, text[i]);
    Put16(b, entry + 0x40, static_cast<std::uint32_t>(2 * (text.size() + 1)));
  };
  name(dir, u"Root Entry");
  b[dir + 0x42] = 5;
  Put32(b, dir + 0x74, 0xFFFFFFFE);
  std::size_t next_sector = fat_sectors + 1;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const std::size_t entry = dir + 128 * (i + 1);
    name(entry, streams[i].first);
    b[entry + 0x42] = 2;
    // Entry 0's child is entry 1; each stream's right sibling is the next one.
    Put32(b, i == 0 ? dir + 0x4C : dir + 128 * i + 0x48, static_cast<std::uint32_t>(i + 1));
    Put32(b, entry + 0x74, static_cast<std::uint32_t>(next_sector));
    Put32(b, entry + 0x78, static_cast<std::uint32_t>(sizes[i]));
    const std::size_t count = (sizes[i] + kSector - 1) / kSector;
    std::copy(streams[i].second.begin(), streams[i].second.end(),
              b.begin() + static_cast<std::ptrdiff_t>((next_sector + 1) * kSector));
    for (std::size_t k = 0; k < count; ++k) {
      fat(next_sector + k,
          k + 1 < count ? static_cast<std::uint32_t>(next_sector + k + 1) : 0xFFFFFFFE);
    }
    next_sector += count;
  }
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hokan;  // NOLINT(google-build-using-namespace): a fuzz harness.
  if (size == 0 || size > (1u << 20)) return 0;
  const ByteView rest(data + 1, size - 1);
  Bytes file;
  switch (data[0] % 5) {
    case 0:
      file.assign(rest.begin(), rest.end());
      break;
    case 1: {
      const std::uint8_t magic[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
      file.assign(std::begin(magic), std::end(magic));
      file.insert(file.end(), rest.begin(), rest.end());
      break;
    }
    case 2:
      file = Container({{u"Workbook", rest}});
      break;
    case 3:
      file = Container({{u"WordDocument", rest}});
      break;
    default: {
      const std::size_t split =
          rest.size() < 2 ? 0 : std::min<std::size_t>(rest[0] | (rest[1] << 8), rest.size() - 2);
      const ByteView body = rest.size() < 2 ? rest : rest.subspan(2);
      file = Container(
          {{u"Current User", body.first(split)}, {u"PowerPoint Document", body.subspan(split)}});
      break;
    }
  }

  SanitizeOptions options;
  options.limits.max_input_bytes = 1 << 20;
  options.limits.max_expanded_bytes = 8 << 20;
  options.limits.max_archive_entries = 64;
  options.limits.max_depth = 2;
  options.limits.max_image_pixels = 1'000'000;
  const std::optional<DetectedType> type = sanitize_internal::DetectOle2Type(file);
  sanitize_internal::Context ctx(options);
  Result<Bytes> out = sanitize_internal::DisarmOle2(file, type.value_or(TypeByName("ole2")), ctx);
  if (out.has_value() && !ctx.blocked()) {
    // What comes back is the input (nothing to remove) or a rewritten compound file that is
    // detected as the same type.
    const std::optional<DetectedType> again = sanitize_internal::DetectOle2Type(*out);
    if (!again.has_value() || !type.has_value() || again->name != type->name) std::abort();
  }
  return 0;
}
