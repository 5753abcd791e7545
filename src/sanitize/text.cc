// Text disarmer (docs/sanitize/text.md): text, csv, tsv, xml, json and hl7v2 files must be
// readable text in an encoding hokan knows — UTF-8 (with or without a byte-order mark), or, as
// Japanese hospital systems still write, Shift_JIS/CP932, EUC-JP or ISO-2022-JP. The bytes are
// never transcoded. In CSV and TSV files, cells that a spreadsheet would evaluate as a formula
// (OWASP "CSV injection") get a leading apostrophe so that they are shown as text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "sanitize/internal/disarm.h"

namespace hokan::sanitize_internal {
namespace {

using Action = SanitizeFinding::Action;

constexpr std::size_t kValid = static_cast<std::size_t>(-1);
// Individual findings per file; beyond this, one finding counts the rest.
constexpr std::size_t kMaxCellFindings = 100;

bool InRange(std::uint8_t c, std::uint8_t lo, std::uint8_t hi) { return c >= lo && c <= hi; }

// Each validator returns the offset of the first byte that is not part of a valid sequence,
// or kValid.
std::size_t CheckUtf8(ByteView in) {
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    const std::uint8_t c = in[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (InRange(c, 0xC2, 0xDF)) {
      length = 2;
    } else if (InRange(c, 0xE0, 0xEF)) {
      length = 3;
      if (c == 0xE0) lo = 0xA0;  // Overlong.
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates.
    } else if (InRange(c, 0xF0, 0xF4)) {
      length = 4;
      if (c == 0xF0) lo = 0x90;  // Overlong.
      if (c == 0xF4) hi = 0x8F;  // Above U+10FFFF.
    } else {
      return i;
    }
    if (n - i < length || !InRange(in[i + 1], lo, hi)) return i;
    for (std::size_t k = 2; k < length; ++k) {
      if (!InRange(in[i + k], 0x80, 0xBF)) return i;
    }
    i += length;
  }
  return kValid;
}

// CP932, Microsoft's Shift_JIS (with NEC and IBM extensions and the user-defined area).
std::size_t CheckShiftJis(ByteView in) {
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    const std::uint8_t c = in[i];
    if (c < 0x80 || InRange(c, 0xA1, 0xDF)) {  // ASCII, half-width katakana.
      ++i;
    } else if (InRange(c, 0x81, 0x9F) || InRange(c, 0xE0, 0xFC)) {
      if (i + 1 >= n) return i;
      const std::uint8_t t = in[i + 1];
      if (!InRange(t, 0x40, 0x7E) && !InRange(t, 0x80, 0xFC)) return i;
      i += 2;
    } else {
      return i;
    }
  }
  return kValid;
}

std::size_t CheckEucJp(ByteView in) {
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    const std::uint8_t c = in[i];
    if (c < 0x80) {
      ++i;
    } else if (c == 0x8E) {  // Half-width katakana.
      if (i + 1 >= n || !InRange(in[i + 1], 0xA1, 0xDF)) return i;
      i += 2;
    } else if (c == 0x8F) {  // JIS X 0212.
      if (i + 2 >= n || !InRange(in[i + 1], 0xA1, 0xFE) || !InRange(in[i + 2], 0xA1, 0xFE)) {
        return i;
      }
      i += 3;
    } else if (InRange(c, 0xA1, 0xFE)) {
      if (i + 1 >= n || !InRange(in[i + 1], 0xA1, 0xFE)) return i;
      i += 2;
    } else {
      return i;
    }
  }
  return kValid;
}

// ISO-2022-JP is 7-bit (and so valid UTF-8); its escape sequences give it away.
bool LooksLikeIso2022Jp(std::string_view text) {
  return text.find("\x1b$B") != std::string_view::npos ||
         text.find("\x1b$@") != std::string_view::npos;
}

Status CheckEncoding(ByteView in, Context& ctx) {
  const auto nul = std::find(in.begin(), in.end(), std::uint8_t{0});
  if (nul != in.end()) {
    return InvalidArgumentError("malformed text: invalid byte sequence at offset " +
                                std::to_string(nul - in.begin()));
  }
  const std::size_t utf8 = CheckUtf8(in);
  if (utf8 == kValid) {
    if (LooksLikeIso2022Jp(AsChars(in))) {
      ctx.Add("encoding", "", Action::kReported,
              "The text is encoded as ISO-2022-JP (JIS), not UTF-8; it was kept as it is.", false);
    }
    return OkStatus();
  }
  // EUC-JP before Shift_JIS: EUC-JP's byte pairs are mostly valid Shift_JIS too (as half-width
  // katakana), while common Shift_JIS kanji (lead bytes 0x81-0x9F) are never valid EUC-JP.
  const std::size_t euc = CheckEucJp(in);
  if (euc == kValid) {
    ctx.Add("encoding", "", Action::kReported,
            "The text is encoded as EUC-JP, not UTF-8; it was kept as it is.", false);
    return OkStatus();
  }
  const std::size_t sjis = CheckShiftJis(in);
  if (sjis == kValid) {
    ctx.Add("encoding", "", Action::kReported,
            "The text is encoded as Shift_JIS (CP932), not UTF-8; it was kept as it is.", false);
    return OkStatus();
  }
  // The encoding that read furthest is the most likely one; its first bad byte is reported.
  return InvalidArgumentError("malformed text: invalid byte sequence at offset " +
                              std::to_string(std::max({utf8, euc, sjis})));
}

bool IsDigit(std::uint8_t c) { return c >= '0' && c <= '9'; }

// A cell that starts with + or - and holds nothing but a number, a phone number
// ("+81-3-1234-5678"), a range ("-5 - +5"), a date ("-2024/04/01") or a dash for "none": a
// spreadsheet can at most do arithmetic on it. Letters (function names, cell references), and
// = @ | ! " : & and the like are what make a formula reach outside the cell; their absence is
// what this checks. An exponent ("-1.5E-3") is the one letter allowed, between digits.
bool IsArithmeticLiteral(ByteView cell) {
  for (std::size_t i = 0; i < cell.size(); ++i) {
    const std::uint8_t c = cell[i];
    if (IsDigit(c)) continue;
    if (c == ' ' || c == '.' || c == ',' || c == '+' || c == '-' || c == '(' || c == ')' ||
        c == '/') {
      continue;
    }
    if ((c == 'e' || c == 'E') && i > 0 && IsDigit(cell[i - 1]) && i + 1 < cell.size()) {
      const std::uint8_t next = cell[i + 1];
      if (IsDigit(next) ||
          ((next == '+' || next == '-') && i + 2 < cell.size() && IsDigit(cell[i + 2]))) {
        continue;
      }
    }
    return false;
  }
  return true;
}

bool IsTrigger(std::uint8_t c) {
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// The field delimiter: tab for TSV; for CSV a comma, or a semicolon when the first record has
// semicolons and no comma (files written in locales whose list separator is ';').
std::uint8_t Delimiter(ByteView in, bool tsv) {
  if (tsv) return '\t';
  bool quoted = false;
  bool semicolon = false;
  for (const std::uint8_t c : in) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == ',') return ',';
    if (c == '\n' || c == '\r') break;
    if (c == ';') semicolon = true;
  }
  return semicolon ? ';' : ',';
}

// ISO-2022-JP: marks the bytes that are inside a two-byte (JIS X 0208) run, including the
// escape sequences themselves. Those bytes look like ASCII (, " = +) but are halves of kanji.
// Empty for every other encoding.
std::vector<bool> ShiftedBytes(ByteView in) {
  std::vector<bool> shifted;
  if (!LooksLikeIso2022Jp(AsChars(in))) return shifted;
  shifted.assign(in.size(), false);
  bool two_byte = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == 0x1b && i + 2 < in.size()) {
      if (in[i + 1] == '$' && (in[i + 2] == 'B' || in[i + 2] == '@')) two_byte = true;
      if (in[i + 1] == '(') two_byte = false;
      shifted[i] = shifted[i + 1] = shifted[i + 2] = true;
      i += 2;
      continue;
    }
    // Line ends always end a run (RFC 1468 requires it, and a line end is never kanji).
    if (in[i] == '\r' || in[i] == '\n') two_byte = false;
    shifted[i] = two_byte;
  }
  return shifted;
}

// Copies `in`, with an apostrophe before every formula cell. Built in one pass, so the memory
// used is the output's.
Bytes NeutraliseFormulas(ByteView in, bool tsv, Context& ctx) {
  const std::uint8_t delimiter = Delimiter(in, tsv);
  const std::vector<bool> shifted = ShiftedBytes(in);
  // A byte that is CSV syntax (or the start of a cell's text) rather than half of a kanji.
  auto plain = [&shifted](std::size_t i) { return shifted.empty() || !shifted[i]; };
  auto ends_field = [&](std::size_t i) {
    return plain(i) && (in[i] == delimiter || in[i] == '\r' || in[i] == '\n');
  };
  // Spaces, and ISO-2022-JP escape sequences, before a cell's first character.
  auto skip_lead = [&](std::size_t i, std::size_t end) {
    while (i < end) {
      if (in[i] == ' ') {
        ++i;
      } else if (in[i] == 0x1b && !shifted.empty() && i + 3 <= end) {
        i += 3;
      } else {
        break;
      }
    }
    return i;
  };
  Bytes out;
  out.reserve(in.size() + 64);
  std::size_t copied = 0;
  std::size_t found = 0;
  std::size_t i = AsChars(in).starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::size_t n = in.size();
  std::size_t row = 1;
  std::size_t column = 1;
  while (i <= n) {
    // One field starts at i.
    std::size_t check = skip_lead(i, n);
    std::size_t insert_at = i;
    std::size_t content_end = 0;
    if (check < n && in[check] == '"' && plain(check)) {
      // Quoted: the check and the apostrophe go after the opening quote. Doubled quotes are
      // one quote; anything between the closing quote and the delimiter stays in the field.
      insert_at = check + 1;
      std::size_t j = check + 1;
      while (j < n) {
        if (in[j] == '"' && plain(j)) {
          if (j + 1 < n && in[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      content_end = j;
      check = skip_lead(insert_at, content_end);
      i = std::min(n, j + 1);
      while (i < n && !ends_field(i)) ++i;
    } else {
      while (i < n && !ends_field(i)) ++i;
      content_end = i;
    }
    if (check < content_end && plain(check) && IsTrigger(in[check])) {
      const bool numeric = (in[check] == '+' || in[check] == '-') &&
                           IsArithmeticLiteral(in.subspan(check, content_end - check));
      if (!numeric) {
        out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(copied),
                   in.begin() + static_cast<std::ptrdiff_t>(insert_at));
        out.push_back('\'');
        copied = insert_at;
        if (++found <= kMaxCellFindings) {
          ctx.Add("formula-injection",
                  "row " + std::to_string(row) + " column " + std::to_string(column),
                  Action::kNeutralised,
                  "A cell that a spreadsheet would run as a formula was prefixed with an "
                  "apostrophe, so it is shown as text.");
        }
      }
    }
    // The field ends at a delimiter, a line end, or the end of the file.
    if (i >= n) break;
    if (in[i] == delimiter) {
      ++column;
    } else {
      if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') ++i;
      ++row;
      column = 1;
    }
    ++i;
  }
  if (found > kMaxCellFindings) {
    ctx.Add("formula-injection", "", Action::kNeutralised,
            std::to_string(found - kMaxCellFindings) +
                " more formula cells were prefixed with an apostrophe.");
  }
  out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(copied), in.end());
  return out;
}

}  // namespace

Result<Bytes> DisarmText(ByteView in, const DetectedType& type, Context& ctx) {
  try {
    HK_RETURN_IF_ERROR(CheckEncoding(in, ctx));
    const bool csv = type.name == "csv";
    const bool tsv = type.name == "tsv";
    if (!(csv || tsv) || !ctx.options().policy.neutralise_csv_formulas) {
      return Bytes(in.begin(), in.end());
    }
    return NeutraliseFormulas(in, tsv, ctx);
  } catch (const std::bad_alloc&) {
    return UnavailableError("out of memory while checking a text file");
  }
}

}  // namespace hokan::sanitize_internal
