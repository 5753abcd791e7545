// The permission matrix (docs/access-control.md): for each action and role, yes, care or -.
// DefaultMatrix() is the table embedded from the document at build time; ParseMatrix() reads
// any Markdown text containing the marked table, so tests can feed it hostile variants.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policy/role.h"

namespace hokan {

enum class Permission {
  kDeny,   // "-"
  kAllow,  // "yes"
  kCare,   // "care": inside a care relationship with the patient, or under break-glass
};

enum class ActionScope {
  kGlobal,   // "global": no patient; relationships and labels are ignored
  kPatient,  // "patient": about one patient; relationships and labels apply
};

class Matrix {
 public:
  // kDeny for an action the matrix does not have.
  Permission Get(Role role, std::string_view action) const;
  // kGlobal for an action the matrix does not have (callers check HasAction first).
  ActionScope Scope(std::string_view action) const;
  bool HasAction(std::string_view action) const;
  // The actions in document order.
  std::vector<std::string> actions() const;

 private:
  friend Result<Matrix> ParseMatrix(std::string_view markdown, int first_line);

  struct Row {
    std::string action;
    ActionScope scope = ActionScope::kGlobal;
    std::array<Permission, kRoleCount> cells{};  // Indexed by Role.
  };
  const Row* Find(std::string_view action) const;

  std::vector<Row> rows_;
};

// Parses the table between the `<!-- matrix:begin -->` and `<!-- matrix:end -->` lines of
// `markdown` (a whole document or just the block). kInvalidArgument, naming the line
// (counted from `first_line` for the first line of `markdown`) and the problem, when: the
// markers are missing, repeated or out of order; a line between them is not a table row; the
// header is not `action | scope | <each of the ten roles once>`; the separator row is missing;
// a row has the wrong number of cells, an unknown, malformed or repeated action, a scope other
// than patient/global, a cell other than yes/care/-, or `care` in a global row; or an action
// of kAllActions is missing.
Result<Matrix> ParseMatrix(std::string_view markdown, int first_line = 1);

// The matrix of docs/access-control.md as embedded in this binary. Parsed once; a broken
// embedded table is a build bug and aborts (the build step and the tests catch it first).
const Matrix& DefaultMatrix();

std::string_view PermissionName(Permission permission);  // "yes", "care", "-"

}  // namespace hokan
