// RTF disarmer (docs/sanitize/rtf.md). A tokenizer, not a pattern search: groups, control words
// with their numeric parameter, control symbols, \'hh and \binN (whose N raw bytes may hold
// braces) are read exactly as an RTF reader reads them, so a removed group ends where Word thinks
// it ends. The output is the input with whole byte ranges cut out; everything else stays byte for
// byte. The parser keeps its own stack, so deep nesting cannot overflow the machine's.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sanitize/internal/disarm.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

// Word itself gives up well below this; real documents rarely nest deeper than 30.
constexpr std::size_t kMaxDepth = 1000;
// A field instruction's keyword and path are at its start; the rest is not needed.
constexpr std::size_t kMaxInstructionBytes = 4096;
constexpr std::int64_t kMaxParameter = 10'000'000'000;
constexpr int kMaxPasses = 4;
// Far more objects, fields and stray words than any real document has; keeps the list of cuts
// (16 bytes each) from outgrowing the file.
constexpr std::size_t kMaxRanges = 100'000;

bool IsLetter(std::uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(std::uint8_t c) { return c >= '0' && c <= '9'; }
int HexValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Offset(std::size_t offset) { return "offset " + std::to_string(offset); }

Status Malformed(const std::string& what) { return InvalidArgumentError("malformed RTF: " + what); }

// Destinations that hold an OLE object's parts. Word switches a group to such a destination
// wherever the word appears in it, not only at its start (oletools' rtfobj relies on this too).
bool IsObjectDestination(std::string_view word) {
  static constexpr std::string_view kWords[] = {"objdata", "objclass", "objname",  "objalias",
                                                "objsect", "objitem",  "objtopic", "objtime"};
  return std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords);
}

// A path or URL that makes the reader fetch something from elsewhere: a UNC path (\\server,
// also written with doubled backslashes in field codes), //host, or any URL scheme
// ("http:", "file:", "mhtml:"; two letters or more, so "C:\" stays local).
bool IsRemotePath(std::string_view path) {
  while (!path.empty() && (path.front() == ' ' || path.front() == '\t' || path.front() == '"')) {
    path.remove_prefix(1);
  }
  if (path.starts_with("\\\\") || path.starts_with("//")) return true;
  std::size_t i = 0;
  while (i < path.size() && (IsLetter(path[i]) || (i > 0 && (IsDigit(path[i]) || path[i] == '+' ||
                                                             path[i] == '.' || path[i] == '-')))) {
    ++i;
  }
  return i >= 2 && i < path.size() && path[i] == ':';
}

enum class CutKind { kNone, kObject, kWhole };

struct Frame {
  std::size_t start = 0;  // Offset of the '{'.
  bool started = false;   // Something other than \* and spaces was seen in this group.
  int uc = 1;             // \ucN: bytes that follow a \uN as its fallback.
  CutKind cut = CutKind::kNone;
  bool cut_from_start = false;  // The cut's word opened the group: the whole group goes.
  bool result_kept = false;     // kObject: its \result child was kept.
  bool is_result = false;       // The kept \result child of an object being cut.
  bool instruction = false;     // A \fldinst destination.
  bool template_path = false;   // A \template destination.
  bool collect_from_start = false;
  std::size_t collect_at = 0;  // Where the \fldinst or \template word (or its \*) starts.
  std::string text;            // The instruction or template path, decoded.
};

struct Range {
  std::size_t begin;
  std::size_t end;
};

class RtfDisarmer {
 public:
  RtfDisarmer(ByteView in, Context& ctx) : in_(in), ctx_(ctx) {}

  Result<Bytes> Run() {
    if (!AsChars(in_).starts_with("{\\rtf")) {
      return Malformed("the file does not start with {\\rtf");
    }
    std::size_t i = 0;
    const std::size_t n = in_.size();
    while (i < n) {
      if (ranges_.size() > kMaxRanges) {
        return Malformed("more than " + std::to_string(kMaxRanges) +
                         " pieces of active content to remove");
      }
      const std::uint8_t c = in_[i];
      if (c == '{') {
        if (stack_.size() >= kMaxDepth) {
          return Malformed("groups are nested deeper than " + std::to_string(kMaxDepth) +
                           " levels at " + Offset(i));
        }
        MarkStarted();
        Frame frame;
        frame.start = i;
        frame.uc = stack_.empty() ? 1 : stack_.back().uc;
        stack_.push_back(std::move(frame));
        pending_skip_ = 0;
        ++i;
      } else if (c == '}') {
        Close(i);
        pending_skip_ = 0;
        ++i;
        if (stack_.empty()) {
          Trailing(i);
          break;
        }
      } else if (c == '\\') {
        HK_ASSIGN_OR_RETURN(i, Control(i));
      } else {
        if (c != '\r' && c != '\n') Text(c);
        ++i;
      }
    }
    if (!stack_.empty()) {
      return Malformed(std::to_string(stack_.size()) +
                       " group(s) are not closed at the end of the file");
    }
    if (stray_words_ > 0) {
      ctx_.Add("ole-object", Offset(first_stray_), Action::kRemoved,
               std::to_string(stray_words_) +
                   " object control word(s) (such as \\objupdate) outside an object were "
                   "removed.");
    }
    return Assemble();
  }

  // Whether Run() cut anything.
  bool changed() const { return !ranges_.empty(); }

 private:
  void MarkStarted() {
    if (!stack_.empty()) stack_.back().started = true;
  }

  // The frame that collects decoded text (a field instruction or template path), if any.
  Frame* Collector() {
    if (cut_open_ || collector_ < 0) return nullptr;
    Frame& f = stack_[static_cast<std::size_t>(collector_)];
    return f.text.size() < kMaxInstructionBytes ? &f : nullptr;
  }

  void Text(std::uint8_t c) {
    if (!stack_.empty() && !stack_.back().started && (c == ' ' || c == '\t')) return;
    MarkStarted();
    if (pending_skip_ > 0) {
      --pending_skip_;
      return;
    }
    if (Frame* f = Collector()) f->text.push_back(static_cast<char>(c));
  }

  Result<std::size_t> Control(std::size_t i) {
    const std::size_t n = in_.size();
    if (i + 1 >= n) return Malformed("a backslash ends the file");
    const std::uint8_t c = in_[i + 1];
    if (IsLetter(c)) return Word(i);
    if (c == '\'') {
      if (i + 3 >= n || HexValue(in_[i + 2]) < 0 || HexValue(in_[i + 3]) < 0) {
        return Malformed("\\' is not followed by two hex digits at " + Offset(i));
      }
      Text(static_cast<std::uint8_t>(HexValue(in_[i + 2]) * 16 + HexValue(in_[i + 3])));
      return i + 4;
    }
    if (c == '*') {
      star_begin_ = i;
      star_end_ = i + 2;
      return i + 2;
    }
    // Control symbols: \\ \{ \} are literal characters; \~ \- \_ and the rest are not text we
    // need. None of them starts a destination.
    if (c == '\\' || c == '{' || c == '}') {
      Text(c);
    } else {
      MarkStarted();
    }
    return i + 2;
  }

  Result<std::size_t> Word(std::size_t i) {
    const std::size_t n = in_.size();
    std::size_t j = i + 1;
    while (j < n && IsLetter(in_[j])) ++j;
    const std::string_view name = AsChars(in_.subspan(i + 1, j - i - 1));
    bool has_param = false;
    bool negative = false;
    std::int64_t param = 0;
    if (j + 1 < n && in_[j] == '-' && IsDigit(in_[j + 1])) {
      negative = true;
      ++j;
    }
    while (j < n && IsDigit(in_[j])) {
      has_param = true;
      param = std::min(kMaxParameter, param * 10 + (in_[j] - '0'));
      ++j;
    }
    if (negative) param = -param;
    std::size_t end = j;
    if (end < n && in_[end] == ' ') ++end;  // The delimiter belongs to the word.

    if (name == "bin") {
      if (param < 0) return Malformed("\\bin has a negative length at " + Offset(i));
      const auto length = static_cast<std::uint64_t>(has_param ? param : 0);
      if (length > n - end) {
        return Malformed("\\bin at " + Offset(i) + " declares " + std::to_string(length) +
                         " bytes but only " + std::to_string(n - end) + " remain");
      }
      MarkStarted();
      pending_skip_ = 0;
      return end + static_cast<std::size_t>(length);
    }
    HandleWord(name, has_param, param, i, end);
    return end;
  }

  void HandleWord(std::string_view name, bool has_param, std::int64_t param, std::size_t at,
                  std::size_t end) {
    Frame& top = stack_.back();
    const bool from_start = !top.started;
    top.started = true;
    // A \* directly before the word belongs with it.
    const std::size_t begin = star_end_ == at ? star_begin_ : at;

    if (cut_open_) {
      // The rendered picture of an object being removed is kept: its \result child group.
      const std::size_t index = stack_.size() - 1;
      if (name == "result" && from_start && index == cut_owner_ + 1) {
        Frame& object = stack_[cut_owner_];
        if (object.cut == CutKind::kObject && !object.result_kept) {
          AddRange(cut_start_, end);
          object.result_kept = true;
          top.is_result = true;
          cut_open_ = false;
        }
      }
      return;
    }

    if (name == "uc" && has_param) {
      top.uc = static_cast<int>(std::clamp<std::int64_t>(param, 0, 16));
      return;
    }
    if (name == "u" && has_param) {
      // \uN: an obfuscated field keyword may be spelt in Unicode escapes.
      const std::int64_t code = param < 0 ? param + 65536 : param;
      if (Frame* f = Collector(); f != nullptr && code > 0 && code < 128) {
        f->text.push_back(static_cast<char>(code));
      }
      pending_skip_ = top.uc;
      return;
    }
    pending_skip_ = 0;

    if (name == "object") {
      OpenCut(CutKind::kObject, from_start, begin);
      ctx_.Add("ole-object", Offset(from_start ? top.start : begin), Action::kRemoved,
               "An embedded or linked OLE object (\\object with its data) was removed; the "
               "picture shown for it (\\result), if any, was kept.");
    } else if (IsObjectDestination(name)) {
      OpenCut(CutKind::kWhole, from_start, begin);
      ctx_.Add("ole-object", Offset(from_start ? top.start : begin), Action::kRemoved,
               "OLE object data outside an \\object group was removed.");
    } else if (name == "datastore") {
      OpenCut(CutKind::kWhole, from_start, begin);
      ctx_.Add("datastore", Offset(from_start ? top.start : begin), Action::kRemoved,
               "A data store (\\datastore), a place exploits use to carry binary payloads, was "
               "removed.");
    } else if (name.starts_with("obj")) {
      // \objupdate (forces the object to load when the file opens), \objemb, \objlink ...
      // outside an object: meaningless to a benign document, so cut on their own.
      AddRange(begin, end);
      if (stray_words_++ == 0) first_stray_ = begin;
    } else if (name == "fldinst" || name == "template") {
      (name == "fldinst" ? top.instruction : top.template_path) = true;
      top.collect_from_start = from_start;
      top.collect_at = begin;
      top.text.clear();
      collector_ = static_cast<int>(stack_.size() - 1);
    }
  }

  void OpenCut(CutKind kind, bool from_start, std::size_t begin) {
    Frame& top = stack_.back();
    top.cut = kind;
    top.cut_from_start = from_start;
    cut_open_ = true;
    cut_owner_ = stack_.size() - 1;
    // An object keeps its braces when its picture is kept, so the picture stays in a group of
    // its own; Close() widens the cut to the whole group when there was none.
    cut_start_ = !from_start ? begin : kind == CutKind::kObject ? top.start + 1 : top.start;
  }

  void Close(std::size_t at) {
    const std::size_t index = stack_.size() - 1;
    Frame& f = stack_.back();
    if (cut_open_ && cut_owner_ == index) {
      // The whole group, braces and all, unless the cut began inside it or the object's
      // picture was kept in it.
      const bool kept_picture = f.cut == CutKind::kObject && f.result_kept;
      if (f.cut_from_start && !kept_picture) {
        AddRange(f.start, at + 1);
      } else {
        AddRange(cut_start_, at);
      }
      cut_open_ = false;
    }
    if (!cut_open_ && (f.instruction || f.template_path)) Classify(f, at);
    if (f.is_result) {
      // The rest of the object, after its picture, is cut up to the object's closing brace.
      cut_open_ = true;
      cut_start_ = at;
      cut_owner_ = index - 1;
    }
    const bool was_collector = collector_ == static_cast<int>(index);
    stack_.pop_back();
    if (was_collector) {
      collector_ = -1;
      for (std::size_t k = stack_.size(); k-- > 0;) {
        if (stack_[k].instruction || stack_[k].template_path) {
          collector_ = static_cast<int>(k);
          break;
        }
      }
    }
  }

  void Classify(const Frame& f, std::size_t close_at) {
    std::string_view text = f.text;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    std::string kind;
    std::string detail;
    if (f.instruction) {
      std::size_t k = 0;
      while (k < text.size() && IsLetter(static_cast<std::uint8_t>(text[k]))) ++k;
      std::string keyword(text.substr(0, k));
      std::transform(keyword.begin(), keyword.end(), keyword.begin(), [](char c) {
        return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      });
      const std::string_view rest = text.substr(k);
      if (keyword == "DDE" || keyword == "DDEAUTO") {
        kind = "dde-field";
        detail =
            "A DDE field, which can start a program when the document is opened, was removed; "
            "the text it last displayed was kept.";
      } else if ((keyword == "INCLUDETEXT" || keyword == "INCLUDEPICTURE" || keyword == "INCLUDE" ||
                  keyword == "IMPORT" || keyword == "LINK") &&
                 IsRemotePath(rest)) {
        kind = "external-link";
        detail = "A " + keyword +
                 " field that fetches content from a remote location was removed; the text it "
                 "last displayed was kept.";
      }
    } else if (IsRemotePath(text)) {
      kind = "remote-template";
      detail = "A document template fetched from a remote location (\\template) was removed.";
    }
    if (kind.empty()) return;
    if (f.collect_from_start) {
      AddRange(f.start, close_at + 1);
    } else {
      AddRange(f.collect_at, close_at);
    }
    ctx_.Add(std::move(kind), Offset(f.collect_from_start ? f.start : f.collect_at),
             Action::kRemoved, std::move(detail));
  }

  // Bytes after the document's closing brace are ignored by readers, which makes them a place
  // to hide a payload (a polyglot). Whitespace, NULs and a DOS end-of-file mark are left alone.
  void Trailing(std::size_t from) {
    const bool benign =
        std::all_of(in_.begin() + static_cast<std::ptrdiff_t>(from), in_.end(), [](std::uint8_t b) {
          return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == 0 || b == 0x1a;
        });
    if (benign) return;
    AddRange(from, in_.size());
    ctx_.Add("trailing-data", Offset(from), Action::kRemoved,
             std::to_string(in_.size() - from) +
                 " bytes after the end of the RTF document were removed.");
  }

  void AddRange(std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    if (!ranges_.empty() && begin >= ranges_.back().begin && begin <= ranges_.back().end) {
      ranges_.back().end = std::max(ranges_.back().end, end);  // Consecutive cuts: one range.
      return;
    }
    ranges_.push_back({begin, end});
  }

  // Whether the input just before `at` ends a control word that had no delimiter ("\b" in
  // "\b{"): backslash, letters, optional signed digits, the backslash itself not escaped.
  bool EndsUndelimitedWord(std::size_t at) const {
    std::size_t i = at;
    while (i > 0 && IsDigit(in_[i - 1])) --i;
    if (i > 0 && i < at && in_[i - 1] == '-') --i;
    const std::size_t letters_end = i;
    while (i > 0 && IsLetter(in_[i - 1])) --i;
    if (i == letters_end || i == 0 || in_[i - 1] != '\\') return false;
    std::size_t backslashes = 0;
    for (std::size_t k = i - 1; k > 0 && in_[k - 1] == '\\'; --k) ++backslashes;
    return backslashes % 2 == 0;
  }

  // The input without the cut ranges. Where a cut follows a control word that had no delimiter
  // ("\b{\object ...}x"), one space is put back so that the word does not run into the next
  // kept byte ("\bx" would be a different word).
  Bytes Assemble() {
    if (ranges_.empty()) return Bytes(in_.begin(), in_.end());
    std::sort(ranges_.begin(), ranges_.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    Bytes out;
    out.reserve(in_.size());
    std::size_t pos = 0;
    std::size_t k = 0;
    while (k < ranges_.size()) {
      // Sorted and merged, so each cut starts after the previous one ended.
      const std::size_t begin = ranges_[k].begin;
      std::size_t end = ranges_[k].end;
      while (k + 1 < ranges_.size() && ranges_[k + 1].begin <= end) {
        end = std::max(end, ranges_[++k].end);
      }
      ++k;
      out.insert(out.end(), in_.begin() + static_cast<std::ptrdiff_t>(pos),
                 in_.begin() + static_cast<std::ptrdiff_t>(begin));
      if (end < in_.size() && EndsUndelimitedWord(begin)) {
        const std::uint8_t next = in_[end];
        if (IsLetter(next) || IsDigit(next) || next == ' ' || next == '-') out.push_back(' ');
      }
      pos = end;
    }
    out.insert(out.end(), in_.begin() + static_cast<std::ptrdiff_t>(pos), in_.end());
    return out;
  }

  ByteView in_;
  Context& ctx_;
  std::vector<Frame> stack_;
  std::vector<Range> ranges_;
  bool cut_open_ = false;
  std::size_t cut_start_ = 0;
  std::size_t cut_owner_ = 0;  // The stack index of the group whose close ends the cut.
  int collector_ = -1;         // The stack index of the innermost \fldinst or \template group.
  int pending_skip_ = 0;       // Fallback bytes of a \uN still to skip.
  std::size_t star_begin_ = 0;
  std::size_t star_end_ = static_cast<std::size_t>(-1);
  std::size_t stray_words_ = 0;
  std::size_t first_stray_ = 0;
};

}  // namespace

Result<Bytes> DisarmRtf(ByteView in, Context& ctx) {
  try {
    // Cutting can bring together what was apart (a \uN and the byte after a removed group), so
    // the result is read again until nothing more is removed: the output is always something
    // this reader finds clean. Real files settle after the second pass.
    Bytes current;
    for (int pass = 0; pass < kMaxPasses; ++pass) {
      const ByteView view = pass == 0 ? in : ByteView(current);
      RtfDisarmer disarmer(view, ctx);
      HK_ASSIGN_OR_RETURN(Bytes out, disarmer.Run());
      if (!disarmer.changed()) return out;
      current = std::move(out);
    }
    return Malformed("removing active content does not settle after " + std::to_string(kMaxPasses) +
                     " passes");
  } catch (const std::bad_alloc&) {
    return UnavailableError("out of memory while disarming an RTF file");
  }
}

}  // namespace hokan::sanitize_internal
