#include "policy/matrix.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "policy/action.h"
#include "policy/internal/matrix_markdown.h"

namespace hokan {
namespace {

constexpr std::string_view kBeginMarker = "<!-- matrix:begin -->";
constexpr std::string_view kEndMarker = "<!-- matrix:end -->";
constexpr std::size_t kMaxActionName = 64;

struct Line {
  int number = 0;
  std::string_view text;  // Without the line break and surrounding white space.
};

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<Line> SplitLines(std::string_view text, int first_line) {
  std::vector<Line> lines;
  int number = first_line;
  while (true) {
    const std::size_t end = text.find('\n');
    lines.push_back({number, Trim(text.substr(0, end))});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
    ++number;
  }
  return lines;
}

// A cell as it may appear in an error message: at most 40 characters, printable ASCII.
std::string Quote(std::string_view cell) {
  std::string out = "'";
  for (const char c : cell.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (cell.size() > 40) out += "...";
  return out + "'";
}

Status LineError(int line, const std::string& problem) {
  return InvalidArgumentError("permission matrix, line " + std::to_string(line) + ": " + problem);
}

// "| a | b |" -> {"a", "b"}.
Result<std::vector<std::string_view>> SplitRow(const Line& line) {
  std::string_view text = line.text;
  if (text.size() < 2 || text.front() != '|' || text.back() != '|') {
    return LineError(line.number, "not a table row (must start and end with '|')");
  }
  if (text.find('\\') != std::string_view::npos) {
    return LineError(line.number, "backslashes (escaped '|') are not allowed in the matrix");
  }
  text = text.substr(1, text.size() - 2);
  std::vector<std::string_view> cells;
  while (true) {
    const std::size_t bar = text.find('|');
    cells.push_back(Trim(text.substr(0, bar)));
    if (bar == std::string_view::npos) break;
    text.remove_prefix(bar + 1);
  }
  return cells;
}

bool IsSeparatorCell(std::string_view cell) {
  if (!cell.empty() && cell.front() == ':') cell.remove_prefix(1);
  if (!cell.empty() && cell.back() == ':') cell.remove_suffix(1);
  return cell.size() >= 3 && cell.find_first_not_of('-') == std::string_view::npos;
}

// Lower-case words joined by dots: "record.mark_error", "self".
bool IsWellFormedAction(std::string_view action) {
  if (action.empty() || action.size() > kMaxActionName) return false;
  bool word_start = true;
  for (const char c : action) {
    if (c == '.') {
      if (word_start) return false;
      word_start = true;
    } else if ((c >= 'a' && c <= 'z') || (c == '_' && !word_start)) {
      word_start = false;
    } else {
      return false;
    }
  }
  return !word_start;
}

std::optional<Permission> ParsePermission(std::string_view cell) {
  if (cell == "yes") return Permission::kAllow;
  if (cell == "care") return Permission::kCare;
  if (cell == "-") return Permission::kDeny;
  return std::nullopt;
}

// The lines strictly between the markers.
Result<std::vector<Line>> TableLines(const std::vector<Line>& lines) {
  std::optional<std::size_t> begin;
  std::optional<std::size_t> end;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].text == kBeginMarker) {
      if (begin) return LineError(lines[i].number, "second '<!-- matrix:begin -->' marker");
      begin = i;
    } else if (lines[i].text == kEndMarker) {
      if (end) return LineError(lines[i].number, "second '<!-- matrix:end -->' marker");
      if (!begin)
        return LineError(lines[i].number,
                         "'<!-- matrix:end -->' before any '<!-- matrix:begin -->'");
      end = i;
    }
  }
  if (!begin) return InvalidArgumentError("permission matrix: no '<!-- matrix:begin -->' line");
  if (!end) return InvalidArgumentError("permission matrix: no '<!-- matrix:end -->' line");
  // Blank lines around the table are fine; inside it they would end the Markdown table.
  std::size_t first = *begin + 1;
  std::size_t last = *end;
  while (first < last && lines[first].text.empty()) ++first;
  while (last > first && lines[last - 1].text.empty()) --last;
  if (first == last) return LineError(lines[*begin].number, "the matrix table is empty");
  std::vector<Line> table;
  for (std::size_t i = first; i < last; ++i) {
    if (lines[i].text.empty()) {
      return LineError(lines[i].number, "blank line inside the matrix table");
    }
    table.push_back(lines[i]);
  }
  return table;
}

}  // namespace

Result<Matrix> ParseMatrix(std::string_view markdown, int first_line) {
  HK_ASSIGN_OR_RETURN(const std::vector<Line> table, TableLines(SplitLines(markdown, first_line)));

  // Header: action | scope | the ten roles, each once, in any order.
  HK_ASSIGN_OR_RETURN(const std::vector<std::string_view> header, SplitRow(table[0]));
  const int header_line = table[0].number;
  if (header.size() < 2 || header[0] != "action" || header[1] != "scope") {
    return LineError(header_line, "the header must begin with '| action | scope |'");
  }
  std::vector<Role> columns;
  for (std::size_t i = 2; i < header.size(); ++i) {
    Result<Role> role = ParseRole(header[i]);
    if (!role) return LineError(header_line, "unknown role " + Quote(header[i]));
    if (std::find(columns.begin(), columns.end(), *role) != columns.end()) {
      return LineError(header_line, "role " + Quote(header[i]) + " appears twice");
    }
    columns.push_back(*role);
  }
  for (const Role role : kAllRoles) {
    if (std::find(columns.begin(), columns.end(), role) == columns.end()) {
      return LineError(header_line, "role '" + std::string(RoleName(role)) + "' is missing");
    }
  }

  if (table.size() < 2) return LineError(header_line, "no separator row after the header");
  HK_ASSIGN_OR_RETURN(const std::vector<std::string_view> separator, SplitRow(table[1]));
  if (separator.size() != header.size() ||
      !std::all_of(separator.begin(), separator.end(), IsSeparatorCell)) {
    return LineError(table[1].number, "expected a separator row ('|---|---|...') with " +
                                          std::to_string(header.size()) + " cells");
  }

  Matrix matrix;
  for (std::size_t r = 2; r < table.size(); ++r) {
    const int n = table[r].number;
    HK_ASSIGN_OR_RETURN(const std::vector<std::string_view> cells, SplitRow(table[r]));
    if (cells.size() != header.size()) {
      return LineError(n, std::to_string(cells.size()) + " cells, but the header has " +
                              std::to_string(header.size()));
    }
    std::string_view action = cells[0];
    if (action.size() >= 2 && action.front() == '`' && action.back() == '`') {
      action = action.substr(1, action.size() - 2);
    }
    if (!IsWellFormedAction(action)) {
      return LineError(n, "malformed action name " + Quote(cells[0]));
    }
    if (!IsKnownAction(action)) {
      return LineError(
          n, "unknown action " + Quote(action) + " (actions are listed in src/policy/action.h)");
    }
    if (matrix.HasAction(action)) {
      return LineError(n, "action " + Quote(action) + " appears twice");
    }
    Matrix::Row row;
    row.action = std::string(action);
    if (cells[1] == "patient") {
      row.scope = ActionScope::kPatient;
    } else if (cells[1] == "global") {
      row.scope = ActionScope::kGlobal;
    } else {
      return LineError(
          n, "scope " + Quote(cells[1]) + " of " + Quote(action) + " is not 'patient' or 'global'");
    }
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string_view cell = cells[c + 2];
      const std::optional<Permission> permission = ParsePermission(cell);
      const std::string where =
          " for role " + std::string(RoleName(columns[c])) + " and action " + row.action;
      if (!permission) {
        return LineError(n, "cell " + Quote(cell) + where + " is not yes, care or -");
      }
      if (*permission == Permission::kCare && row.scope != ActionScope::kPatient) {
        return LineError(n, "'care'" + where + ", but the action's scope is not 'patient'");
      }
      row.cells[static_cast<std::size_t>(columns[c])] = *permission;
    }
    matrix.rows_.push_back(std::move(row));
  }

  for (const std::string_view action : kAllActions) {
    if (!matrix.HasAction(action)) {
      return LineError(table.back().number + 1,
                       "action '" + std::string(action) + "' is missing from the matrix");
    }
  }
  return matrix;
}

const Matrix::Row* Matrix::Find(std::string_view action) const {
  for (const Row& row : rows_) {
    if (row.action == action) return &row;
  }
  return nullptr;
}

Permission Matrix::Get(Role role, std::string_view action) const {
  const Row* row = Find(action);
  if (row == nullptr) return Permission::kDeny;
  return row->cells[static_cast<std::size_t>(role)];
}

ActionScope Matrix::Scope(std::string_view action) const {
  const Row* row = Find(action);
  return row == nullptr ? ActionScope::kGlobal : row->scope;
}

bool Matrix::HasAction(std::string_view action) const { return Find(action) != nullptr; }

std::vector<std::string> Matrix::actions() const {
  std::vector<std::string> out;
  out.reserve(rows_.size());
  for (const Row& row : rows_) out.push_back(row.action);
  return out;
}

const Matrix& DefaultMatrix() {
  static const Matrix* const kMatrix = [] {
    Result<Matrix> parsed =
        ParseMatrix(policy_internal::kMatrixMarkdown, policy_internal::kMatrixFirstLine);
    if (!parsed) {
      const std::string what = "docs/access-control.md: " + parsed.error().message();
      CheckFailed(what.c_str(), __FILE__, __LINE__);
    }
    return new Matrix(std::move(parsed).value());
  }();
  return *kMatrix;
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kAllow:
      return "yes";
    case Permission::kCare:
      return "care";
    case Permission::kDeny:
      return "-";
  }
  return "-";
}

}  // namespace hokan
