// The zip disarmer (archive.cc, docs/sanitize/zip.md) and the zip reading under it
// (internal/zip.h). Fixtures are zips built here with libzip — bombs from a stream of zeros,
// nesting, encryption, hostile names — and, where libzip will not write the hostile thing
// (a NUL in a name, a lying size, trailing bytes), patched afterwards. Outputs are re-opened with
// libzip's strict consistency check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zip.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sanitize/internal/disarm.h"
#include "sanitize/internal/types.h"
#include "sanitize/internal/zip.h"
#include "sanitize/sanitize.h"
#include "testing/status_matchers.h"

namespace hokan::sanitize_internal {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Action = SanitizeFinding::Action;

using Files = std::vector<std::pair<std::string, std::string>>;
using EntryHook = std::function<void(zip_t*, zip_uint64_t index, const std::string& name)>;

Bytes ReadBack(zip_source_t* source) {
  zip_stat_t st;
  zip_stat_init(&st);
  zip_source_stat(source, &st);
  Bytes out(st.size);
  zip_source_open(source);
  zip_source_read(source, out.data(), out.size());
  zip_source_close(source);
  zip_source_free(source);
  return out;
}

// A zip of `files`; `hook` may change each entry (encryption, attributes) before it is written.
Bytes MakeZip(const Files& files, const EntryHook& hook = {}) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(source);
  zip_t* zip = zip_open_from_source(source, ZIP_TRUNCATE, &error);
  EXPECT_NE(zip, nullptr);
  for (const auto& [name, data] : files) {
    zip_source_t* entry = zip_source_buffer(zip, data.data(), data.size(), 0);
    const zip_int64_t index = zip_file_add(zip, name.c_str(), entry, ZIP_FL_ENC_GUESS);
    EXPECT_GE(index, 0) << name;
    if (hook && index >= 0) hook(zip, static_cast<zip_uint64_t>(index), name);
  }
  EXPECT_EQ(zip_close(zip), 0);
  return ReadBack(source);
}

// `size` zero bytes, streamed to libzip without ever being in memory.
struct Zeros {
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
};

zip_int64_t ZerosCallback(void* userdata, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  auto* zeros = static_cast<Zeros*>(userdata);
  if (cmd == ZIP_SOURCE_OPEN) {
    zeros->offset = 0;
    return 0;
  }
  if (cmd == ZIP_SOURCE_READ) {
    const zip_uint64_t n = std::min<zip_uint64_t>(len, zeros->size - zeros->offset);
    std::memset(data, 0, n);
    zeros->offset += n;
    return static_cast<zip_int64_t>(n);
  }
  if (cmd == ZIP_SOURCE_STAT) {
    auto* st = static_cast<zip_stat_t*>(data);
    zip_stat_init(st);
    st->size = zeros->size;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof(zip_stat_t);
  }
  if (cmd == ZIP_SOURCE_SUPPORTS) {
    return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                          ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
  }
  if (cmd == ZIP_SOURCE_ERROR) return zip_error_to_data(nullptr, data, len);
  return 0;  // CLOSE, FREE.
}

Bytes ZipOfZeros(std::uint64_t size) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(source);
  zip_t* zip = zip_open_from_source(source, ZIP_TRUNCATE, &error);
  Zeros zeros{size, 0};
  zip_source_t* entry = zip_source_function(zip, ZerosCallback, &zeros);
  EXPECT_EQ(zip_file_add(zip, "zeros.bin", entry, 0), 0);
  EXPECT_EQ(zip_close(zip), 0);
  return ReadBack(source);
}

// Overwrites every occurrence of `from` (same length) in the zip's bytes: local and central
// headers alike.
Bytes Patch(Bytes zip, std::string_view from, std::string_view to) {
  EXPECT_EQ(from.size(), to.size());
  const Bytes needle = ToBytes(from);
  int count = 0;
  for (auto it = zip.begin();
       (it = std::search(it, zip.end(), needle.begin(), needle.end())) != zip.end(); ++count) {
    std::copy(to.begin(), to.end(), it);
  }
  EXPECT_GT(count, 0);
  return zip;
}

Files Unzip(const Bytes& bytes) {
  Files files;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* zip = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (zip == nullptr) {
    ADD_FAILURE() << "output does not open as a zip: " << zip_error_strerror(&error);
    zip_source_free(source);
    return files;
  }
  for (zip_int64_t i = 0; i < zip_get_num_entries(zip, 0); ++i) {
    zip_stat_t st;
    zip_stat_index(zip, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW, &st);
    std::string data(st.size, '\0');
    zip_file_t* file = zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0);
    if (file != nullptr) {
      EXPECT_EQ(zip_fread(file, data.data(), data.size()), static_cast<zip_int64_t>(st.size));
      zip_fclose(file);
    }
    files.emplace_back(st.name, std::move(data));
  }
  zip_discard(zip);
  return files;
}

std::set<std::string> Names(const Files& files) {
  std::set<std::string> names;
  for (const auto& file : files) names.insert(file.first);
  return names;
}

std::optional<std::string> FileIn(const Files& files, std::string_view name) {
  for (const auto& [n, data] : files) {
    if (n == name) return data;
  }
  return std::nullopt;
}

// A minimal Windows program: "MZ", e_lfanew at 0x3c pointing at "PE\0\0".
std::string PeFile() {
  std::string pe(0x80, '\0');
  pe[0] = 'M';
  pe[1] = 'Z';
  pe[0x3c] = 0x40;
  std::memcpy(pe.data() + 0x40, "PE\0\0", 4);
  return pe;
}

// A docm: a Word document with a VBA project and the macro-enabled content type.
Bytes Docm() {
  const std::string rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/";
  return MakeZip({
      {"[Content_Types].xml",
       R"(<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">)"
       R"(<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>)"
       R"(<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>)"
       R"(<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>)"},
      {"_rels/.rels",
       R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
       R"(<Relationship Id="rId1" Type=")" +
           rel + R"(officeDocument" Target="word/document.xml"/></Relationships>)"},
      {"word/document.xml",
       R"(<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">)"
       R"(<w:body><w:p><w:r><w:t>Benign text 123</w:t></w:r></w:p></w:body></w:document>)"},
      {"word/_rels/document.xml.rels",
       R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
       R"(<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>)"
       R"(</Relationships>)"},
      {"word/vbaProject.bin", "not really a VBA project"},
  });
}

struct Disarmed {
  Result<Bytes> output;
  std::vector<SanitizeFinding> findings;
  bool blocked = false;
};

Disarmed Disarm(const Bytes& in, const SanitizeOptions& options = {}) {
  Context ctx(options);
  Result<Bytes> out = DisarmZip(in, ctx);
  return Disarmed{std::move(out), ctx.findings(), ctx.blocked()};
}

auto Finding(std::string_view kind, std::string_view location, Action action) {
  return AllOf(Field(&SanitizeFinding::kind, std::string(kind)),
               Field(&SanitizeFinding::location, std::string(location)),
               Field(&SanitizeFinding::action, action));
}

// ---- tests ----

TEST(ZipArchive, CleanArchiveIsReturnedByteForByte) {
  const Bytes in = MakeZip({{"notes/", ""},
                            {"notes/a.txt", "Benign text 123\n"},
                            {"data.csv", "id,value\n1,2\n"},
                            {"inner.zip", ToString(MakeZip({{"b.txt", "hi\n"}}))}});
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_EQ(*d.output, in);
  EXPECT_THAT(d.findings, IsEmpty());
}

TEST(ZipArchive, ExecutableMemberIsDroppedTheRestKept) {
  const Bytes in = MakeZip({{"readme.txt", "Benign text 123\n"}, {"photo.dat", PeFile()}});
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  const Files out = Unzip(*d.output);
  EXPECT_EQ(Names(out), std::set<std::string>{"readme.txt"});
  EXPECT_EQ(*FileIn(out, "readme.txt"), "Benign text 123\n");
  EXPECT_THAT(d.findings, Contains(Finding("blocked-entry", "photo.dat", Action::kRemoved)));
  const auto dropped = std::find_if(d.findings.begin(), d.findings.end(),
                                    [](const auto& f) { return f.kind == "blocked-entry"; });
  EXPECT_THAT(dropped->detail, HasSubstr("executable"));
  EXPECT_TRUE(dropped->active);
  EXPECT_FALSE(d.blocked);  // The member is refused, not the archive.
}

TEST(ZipArchive, MembersNamedAsProgramsAreDroppedWhateverTheyHold) {
  const Bytes in = MakeZip({{"run.bat", "echo hello\n"},
                            {"setup.reg", "Windows Registry Editor Version 5.00\n"},
                            {"link.URL", "[InternetShortcut]\nURL=file://x\n"},
                            {"tool.cmd. .", "echo hi\n"},
                            {"ok.txt", "fine\n"}});
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_EQ(Names(Unzip(*d.output)), std::set<std::string>{"ok.txt"});
  EXPECT_THAT(d.findings, Contains(Finding("executable", "run.bat", Action::kRemoved)));
  EXPECT_THAT(d.findings, Contains(Finding("executable", "setup.reg", Action::kRemoved)));
  EXPECT_THAT(d.findings, Contains(Finding("executable", "link.URL", Action::kRemoved)));
  EXPECT_THAT(d.findings, Contains(Finding("executable", "tool.cmd. .", Action::kRemoved)));
}

TEST(ZipArchive, MacroDocumentInsideIsDisarmedAndRenamed) {
  const Bytes in = MakeZip({{"report.docm", ToString(Docm())}});
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  const Files out = Unzip(*d.output);
  EXPECT_EQ(Names(out), std::set<std::string>{"report.docx"});
  const Files inner = Unzip(ToBytes(*FileIn(out, "report.docx")));
  EXPECT_EQ(Names(inner).count("word/vbaProject.bin"), 0u);
  EXPECT_THAT(*FileIn(inner, "word/document.xml"), HasSubstr("Benign text 123"));
  EXPECT_THAT(d.findings, Contains(Finding("vba-project", "report.docm!/word/vbaProject.bin",
                                           Action::kRemoved)));
  EXPECT_THAT(d.findings, Contains(Finding("renamed", "report.docm", Action::kReported)));
}

TEST(ZipArchive, PathsThatLeaveTheFolderAndLinksAreDropped) {
  const Bytes in =
      MakeZip({{"../evil.txt", "x"},
               {"/etc/evil.txt", "x"},
               {"C:/evil.txt", "x"},
               {"a\\..\\..\\evil.txt", "x"},
               {".. /evil.txt", "x"},
               {"file.txt:stream", "x"},
               {"link", "/etc/passwd"},
               {"ok.txt", "fine\n"}},
              [](zip_t* zip, zip_uint64_t index, const std::string& name) {
                if (name == "link") {
                  zip_file_set_external_attributes(zip, index, 0, ZIP_OPSYS_UNIX, 0120777u << 16);
                }
              });
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_EQ(Names(Unzip(*d.output)), std::set<std::string>{"ok.txt"});
  for (const char* name : {"../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a\\..\\..\\evil.txt",
                           ".. /evil.txt", "file.txt:stream", "link"}) {
    EXPECT_THAT(d.findings, Contains(Finding("unsafe-path", name, Action::kRemoved))) << name;
  }
}

TEST(ZipArchive, NulInAStoredNameIsSeenAndDropped) {
  // libzip shows the NUL as a space; a C-string unpacker would write "run.bat".
  const Bytes in = Patch(MakeZip({{"run.bat_.txt", "echo hi\n"}, {"ok.txt", "fine\n"}}),
                         "run.bat_.txt", std::string_view("run.bat\0.txt", 12));
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_EQ(Names(Unzip(*d.output)), std::set<std::string>{"ok.txt"});
  EXPECT_THAT(d.findings, Contains(Finding("unsafe-path", "run.bat .txt", Action::kRemoved)));
}

TEST(ZipArchive, ShiftJisNamesAndBackslashSeparatorsStay) {
  // "表.txt" in Shift_JIS: its second byte is 0x5C, a backslash in ASCII.
  const std::string sjis = "\x95\x5C.txt";
  const Bytes in = MakeZip({{sjis, "Benign text 123\n"}, {"dir\\file.txt", "fine\n"}});
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_EQ(*d.output, in);
  EXPECT_THAT(d.findings, Contains(Finding("unsafe-path", "dir\\file.txt", Action::kReported)));
  EXPECT_THAT(d.findings, Not(Contains(Field(&SanitizeFinding::location, sjis))));
}

TEST(ZipArchive, SameNameTwiceRefusesTheArchive) {
  Disarmed d = Disarm(MakeZip({{"a.txt", "one"}, {"A.TXT", "two"}}));
  EXPECT_THAT(d.output, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(d.blocked);
  EXPECT_THAT(d.findings, Contains(Finding("malformed", "A.TXT", Action::kBlocked)));
}

TEST(ZipArchive, EncryptedEntryRefusesTheArchive) {
  const Bytes in =
      MakeZip({{"secret.txt", "Benign text 123"}, {"plain.txt", "x"}},
              [](zip_t* zip, zip_uint64_t index, const std::string& name) {
                if (name == "secret.txt") {
                  EXPECT_EQ(zip_file_set_encryption(zip, index, ZIP_EM_AES_256, "password"), 0);
                }
              });
  Disarmed d = Disarm(in);
  EXPECT_FALSE(d.output.has_value());
  EXPECT_TRUE(d.blocked);
  EXPECT_THAT(d.findings, Contains(Finding("encrypted", "secret.txt", Action::kBlocked)));
}

TEST(ZipArchive, TooManyEntriesRefuseTheArchive) {
  Files files;
  for (int i = 0; i < 11; ++i) files.emplace_back("f" + std::to_string(i) + ".txt", "x");
  SanitizeOptions options;
  options.limits.max_archive_entries = 10;
  Disarmed d = Disarm(MakeZip(files), options);
  EXPECT_THAT(d.output, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(d.blocked);
  EXPECT_THAT(d.findings, Contains(Finding("limit-exceeded", "", Action::kBlocked)));
}

TEST(ZipArchive, NestingDeeperThanTheLimitRefusesTheArchive) {
  Bytes nested = MakeZip({{"a.txt", "Benign text 123\n"}});
  for (int level = 0; level < 2; ++level) nested = MakeZip({{"level.zip", ToString(nested)}});
  SanitizeOptions options;
  options.limits.max_depth = 3;  // zip → zip → zip → a.txt is depth 3: allowed.
  Disarmed ok = Disarm(nested, options);
  ASSERT_OK(ok.output);
  EXPECT_EQ(*ok.output, nested);

  options.limits.max_depth = 2;
  Disarmed deep = Disarm(nested, options);
  EXPECT_THAT(deep.output, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(deep.blocked);
  // The finding is made two levels down; the archive is refused because the limit is shared.
  EXPECT_THAT(deep.findings,
              Contains(AllOf(Field(&SanitizeFinding::kind, "limit-exceeded"),
                             Field(&SanitizeFinding::location, "level.zip!/level.zip!/a.txt"))));
}

long PeakRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(ZipArchive, DecompressionBombStopsAtTheRatioWithoutExpanding) {
  // 200 MB of zeros deflate to about 200 KB.
  const Bytes bomb = ZipOfZeros(200u << 20);
  ASSERT_LT(bomb.size(), 1u << 20);
  const long rss_before = PeakRssKiB();
  Disarmed honest = Disarm(bomb);
  EXPECT_THAT(honest.output, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(honest.blocked);
  EXPECT_THAT(honest.findings, Contains(Finding("limit-exceeded", "zeros.bin", Action::kBlocked)));

  // The same bomb declaring 1000 bytes: the reader counts what comes out, not what is declared,
  // and stops within a chunk of ratio x compressed size.
  const std::uint32_t real = 200u << 20;
  const std::string real_le(reinterpret_cast<const char*>(&real), 4);
  const std::uint32_t small = 1000;
  const std::string small_le(reinterpret_cast<const char*>(&small), 4);
  const Bytes liar = Patch(bomb, real_le, small_le);
  SanitizeOptions options;
  options.limits.max_expansion_ratio = 20;
  Disarmed lying = Disarm(liar, options);
  EXPECT_FALSE(lying.output.has_value());
  EXPECT_TRUE(lying.blocked);
  EXPECT_LT(PeakRssKiB() - rss_before, 64 * 1024) << "the bomb was expanded in memory";
}

TEST(ZipArchive, TotalExpansionIsSharedAcrossMembers) {
  Files files;
  for (int i = 0; i < 4; ++i)
    files.emplace_back("f" + std::to_string(i) + ".txt", std::string(4000, 'a') + "\n");
  SanitizeOptions options;
  options.limits.max_expanded_bytes = 10'000;
  Disarmed d = Disarm(MakeZip(files), options);
  EXPECT_THAT(d.output, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(d.blocked);
}

TEST(ZipArchive, TruncatedArchiveIsMalformed) {
  Bytes in = MakeZip({{"a.txt", "Benign text 123\n"}, {"b.txt", "more\n"}});
  ASSERT_GT(in.size(), 30u);
  in.erase(in.end() - 30, in.end());  // Not resize(): a false gcc -O1 -Wstringop-overflow.
  Disarmed d = Disarm(in);
  EXPECT_THAT(d.output, StatusIs(StatusCode::kInvalidArgument));

  Result<SanitizeOutcome> outcome = Sanitize(in, SanitizeOptions{});
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
  EXPECT_THAT(outcome->report.findings, Contains(Field(&SanitizeFinding::kind, "malformed")));
}

TEST(ZipArchive, InconsistentArchiveIsRewrittenNotPassedOn) {
  const Bytes clean = MakeZip({{"a.txt", "Benign text 123\n"}});
  Bytes in = clean;
  const std::string junk = "trailing bytes another reader might take for something";
  in.insert(in.end(), junk.begin(), junk.end());
  Disarmed d = Disarm(in);
  ASSERT_OK(d.output);
  EXPECT_NE(*d.output, in);
  EXPECT_EQ(*FileIn(Unzip(*d.output), "a.txt"), "Benign text 123\n");
  EXPECT_THAT(d.findings, Contains(Finding("inconsistent-archive", "", Action::kNeutralised)));
}

TEST(ZipArchive, ReaderCapsAnEntryWhateverItsDeclaredSize) {
  const Bytes in = MakeZip({{"a.txt", std::string(100'000, 'x')}});
  Result<std::unique_ptr<ZipReader>> zip = ZipReader::Open(in);
  ASSERT_OK(zip);
  const ZipEntry& entry = (*zip)->entries().at(0);
  EXPECT_EQ(entry.declared_size, 100'000u);
  EXPECT_THAT((*zip)->Read(entry, 99'999), StatusIs(StatusCode::kFailedPrecondition));
  Result<Bytes> all = (*zip)->Read(entry, 100'000);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 100'000u);
}

TEST(ZipArchive, WriterRoundTrips) {
  ZipWriter writer;
  ASSERT_OK(writer.AddDirectory("d/"));
  ASSERT_OK(writer.Add("d/a.txt", ToBytes("deflated")));
  ASSERT_OK(writer.Add("b.bin", ToBytes("stored"), false));
  Result<Bytes> out = writer.Finish();
  ASSERT_OK(out);
  const Files files = Unzip(*out);
  EXPECT_EQ(files, (Files{{"d/", ""}, {"d/a.txt", "deflated"}, {"b.bin", "stored"}}));

  ZipWriter empty;
  Result<Bytes> nothing = empty.Finish();
  ASSERT_OK(nothing);
  EXPECT_TRUE(Unzip(*nothing).empty());
}

// End to end through Sanitize(): the archive with a program is disarmed, and the policy can
// block it instead (G-6.5-C12).
TEST(ZipArchiveSanitize, ArchiveWithAProgramIsDisarmedOrBlockedByPolicy) {
  const Bytes in = MakeZip({{"readme.txt", "Benign text 123\n"}, {"setup.exe", PeFile()}});
  SanitizeOptions options;
  options.declared_name = "bundle.zip";
  Result<SanitizeOutcome> outcome = Sanitize(in, options);
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "zip");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kDisarmed);
  EXPECT_EQ(Names(Unzip(outcome->output)), std::set<std::string>{"readme.txt"});

  options.policy.per_type["zip"] = SanitizeAction::kBlock;
  Result<SanitizeOutcome> blocked = Sanitize(in, options);
  ASSERT_OK(blocked);
  EXPECT_EQ(blocked->report.verdict, SanitizeVerdict::kBlocked);
}

TEST(ZipArchiveSanitize, JarIsAProgram) {
  const Bytes jar =
      MakeZip({{"META-INF/MANIFEST.MF", "Main-Class: A\n"}, {"A.class", "\xCA\xFE\xBA\xBE"}});
  Result<SanitizeOutcome> outcome = Sanitize(jar, SanitizeOptions{});
  ASSERT_OK(outcome);
  EXPECT_EQ(outcome->report.detected.name, "jar");
  EXPECT_EQ(outcome->report.verdict, SanitizeVerdict::kBlocked);
}

}  // namespace
}  // namespace hokan::sanitize_internal
