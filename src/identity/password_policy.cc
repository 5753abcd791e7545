#include "identity/password_policy.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "crypto/password_hash.h"

namespace hokan {
namespace {

// Passwords that lead every published breach frequency list, and words that hospital staff
// are known to build passwords from. Compared after lower-casing, undoing l33t substitutions
// and dropping digits and symbols, so "Hospital#2024" counts as "hospital".
constexpr std::array<std::string_view, 48> kCommon = {
    "password", "passwd",   "qwerty",        "qwertyuiop", "asdfgh",   "asdfghjkl", "zxcvbn",
    "iloveyou", "admin",    "administrator", "welcome",    "letmein",  "monkey",    "dragon",
    "sunshine", "princess", "football",      "baseball",   "master",   "shadow",    "superman",
    "trustno",  "login",    "abc",           "abcdef",     "secret",   "changeme",  "default",
    "guest",    "root",     "user",          "test",       "hospital", "clinic",    "doctor",
    "nurse",    "medical",  "patient",       "byouin",     "kango",    "iryou",     "sensei",
    "tokyo",    "osaka",    "japan",         "nippon",     "sakura",   "hokan"};

// Runs of six along the keyboard or the alphabet give away too little.
constexpr std::array<std::string_view, 5> kRuns = {"01234567890", "abcdefghijklmnopqrstuvwxyz",
                                                   "qwertyuiop", "asdfghjkl", "zxcvbnm"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The letters of a lower-cased password, digits and symbols dropped; with `undo_l33t`, the
// usual substitutions (0→o, 1/!→i, 3→e, 4/@→a, 5/$→s, 7→t) count as the letters they stand
// for. "p@ssw0rd!" gives "psswrd" plain and "passwordi" with undo_l33t.
std::string LetterCore(std::string_view lower, bool undo_l33t) {
  std::string out;
  for (char c : lower) {
    if (c >= 'a' && c <= 'z') {
      out.push_back(c);
      continue;
    }
    if (!undo_l33t) continue;
    switch (c) {
      case '0':
        out.push_back('o');
        break;
      case '1':
      case '!':
        out.push_back('i');
        break;
      case '3':
        out.push_back('e');
        break;
      case '4':
      case '@':
        out.push_back('a');
        break;
      case '5':
      case '$':
        out.push_back('s');
        break;
      case '7':
        out.push_back('t');
        break;
      default:
        break;
    }
  }
  return out;
}

bool HasRun(const std::string& lower) {
  for (std::string_view run : kRuns) {
    for (std::size_t i = 0; i + 6 <= run.size(); ++i) {
      const std::string_view piece = run.substr(i, 6);
      std::string reversed(piece.rbegin(), piece.rend());
      if (lower.find(piece) != std::string::npos || lower.find(reversed) != std::string::npos) {
        return true;
      }
    }
  }
  return false;
}

bool HasRepeat(std::string_view s) {
  int same = 1;
  for (std::size_t i = 1; i < s.size(); ++i) {
    same = s[i] == s[i - 1] ? same + 1 : 1;
    if (same >= 4) return true;
  }
  return false;
}

}  // namespace

Status CheckPassword(std::string_view password, const PasswordContext& context) {
  const std::size_t min =
      context.two_factor ? kMinPasswordWithTwoFactor : kMinPasswordWithoutTwoFactor;
  if (password.size() < min) {
    return InvalidArgumentError("password must be at least " + std::to_string(min) + " characters" +
                                (context.two_factor ? "" : " (8 once two-factor login is on)"));
  }
  if (password.size() > kMaxPassword) {
    return InvalidArgumentError("password must be at most " + std::to_string(kMaxPassword) +
                                " characters");
  }
  bool letter = false, digit = false, symbol = false;
  for (unsigned char c : password) {
    if (std::isalpha(c)) {
      letter = true;
    } else if (std::isdigit(c)) {
      digit = true;
    } else if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("password must not contain control characters");
    } else {
      symbol = true;  // Punctuation, space, and non-ASCII (e.g. Japanese) characters.
    }
  }
  if (!letter || !digit || !symbol) {
    return InvalidArgumentError("password must mix letters, digits and symbols");
  }
  const std::string lower = Lower(password);
  std::vector<std::string> personal = {Lower(context.user_id)};
  std::string part;
  for (char c : Lower(context.display_name) + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      part.push_back(c);
    } else {
      personal.push_back(part);
      part.clear();
    }
  }
  for (const std::string& p : personal) {
    if (p.size() >= 3 && lower.find(p) != std::string::npos) {
      return InvalidArgumentError("password must not contain the user id or name");
    }
  }
  const std::string core = LetterCore(lower, /*undo_l33t=*/false);
  const std::string leet = LetterCore(lower, /*undo_l33t=*/true);
  for (std::string_view word : kCommon) {
    if (core == word || leet == word ||
        (word.size() >= 5 && leet.size() < word.size() + 3 &&
         leet.find(word) != std::string::npos)) {
      return InvalidArgumentError("password is a common password or built on one");
    }
  }
  if (HasRun(lower) || HasRepeat(lower)) {
    return InvalidArgumentError(
        "password must not contain keyboard or number runs or a character repeated 4 times");
  }
  const std::size_t n = std::min(context.previous_hashes.size(), kPasswordHistory);
  for (std::size_t i = context.previous_hashes.size() - n; i < context.previous_hashes.size();
       ++i) {
    if (VerifyPassword(password, context.previous_hashes[i])) {
      return InvalidArgumentError("password must differ from the last " +
                                  std::to_string(kPasswordHistory) + " passwords");
    }
  }
  return OkStatus();
}

}  // namespace hokan
