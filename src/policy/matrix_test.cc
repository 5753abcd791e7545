// The permission matrix of docs/access-control.md (G-6.5-C6: which roles may access what is
// defined and enforced) and its parser, fed hostile variants of the table.
#include "policy/matrix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "policy/action.h"
#include "policy/internal/matrix_markdown.h"
#include "policy/role.h"
#include "testing/status_matchers.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

std::string Embedded() { return std::string(policy_internal::kMatrixMarkdown); }

std::string ReadDoc() {
  std::ifstream in(HK_ACCESS_CONTROL_DOC);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Replaces the first occurrence of `from` (which must exist) with `to`.
std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the matrix";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The message of the error ParseMatrix returns for `markdown`, or "ok".
std::string ParseError(const std::string& markdown) {
  Result<Matrix> m = ParseMatrix(markdown);
  if (m) return "ok";
  EXPECT_THAT(m, StatusIs(StatusCode::kInvalidArgument));
  return m.error().message();
}

// Removes column `column` (0: action, 1: scope, 2 and up: roles) from every table line.
std::string DropColumn(const std::string& markdown, std::size_t column) {
  std::stringstream in(markdown);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '|') {
      std::size_t start = 0;
      for (std::size_t i = 0; i < column; ++i) start = line.find('|', start + 1);
      const std::size_t end = line.find('|', start + 1);
      line.erase(start, end - start);
    }
    out += line + "\n";
  }
  return out;
}

TEST(DefaultMatrix, HasEveryRoleAndEveryAction) {
  const Matrix& m = DefaultMatrix();
  EXPECT_THAT(m.actions(), UnorderedElementsAreArray(AllActions()));
  EXPECT_EQ(AllActions().size(), kAllActions.size());
  EXPECT_EQ(AllRoles().size(), kRoleCount);
  for (const std::string& action : AllActions()) EXPECT_TRUE(m.HasAction(action)) << action;
  EXPECT_FALSE(m.HasAction("record.delete"));
  EXPECT_EQ(m.Get(Role::kPhysician, "record.delete"), Permission::kDeny);
}

// The binary and the document cannot disagree: the embedded block is the document's block,
// and it starts on the line the embedding recorded.
TEST(DefaultMatrix, EmbeddedCopyIsTheDocumentsTable) {
  const std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << HK_ACCESS_CONTROL_DOC;
  const std::size_t begin = doc.find("<!-- matrix:begin -->");
  const std::size_t end = doc.find("<!-- matrix:end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  const std::string block = doc.substr(begin, end - begin) + "<!-- matrix:end -->\n";
  EXPECT_EQ(Embedded(), block);
  const int line = 1 + static_cast<int>(std::count(doc.begin(), doc.begin() + begin, '\n'));
  EXPECT_EQ(policy_internal::kMatrixFirstLine, line);
  // The whole document parses to the same matrix.
  Result<Matrix> whole = ParseMatrix(doc);
  ASSERT_OK(whole);
  for (const std::string& action : AllActions()) {
    for (const Role role : kAllRoles) {
      EXPECT_EQ(whole->Get(role, action), DefaultMatrix().Get(role, action));
    }
  }
}

// G-6.5-C6, G-6.5-C8 and the separation of duties, read from the matrix itself.
TEST(DefaultMatrix, SeparationOfDuties) {
  const Matrix& m = DefaultMatrix();
  for (const std::string& action : AllActions()) {
    const bool clinical = action.starts_with("record.") || action.starts_with("patient.") ||
                          action.starts_with("care.") || action == "breakglass.declare";
    if (clinical) {
      // Administrators manage users but never see clinical content; auditors read the log,
      // never records; maintenance touches nothing clinical (G-6.8-C2, G-6.8-C3).
      EXPECT_EQ(m.Get(Role::kAdmin, action), Permission::kDeny) << action;
      EXPECT_EQ(m.Get(Role::kAuditor, action), Permission::kDeny) << action;
      EXPECT_EQ(m.Get(Role::kMaintenance, action), Permission::kDeny) << action;
      EXPECT_EQ(m.Get(Role::kSecurityOfficer, action), Permission::kDeny) << action;
    }
    if (action.starts_with("audit.") && action != "audit.checkpoint") {
      // Reading the log is for auditors and the security officer only (G-6.5-C8).
      for (const Role role : kAllRoles) {
        const bool reader = role == Role::kAuditor || role == Role::kSecurityOfficer;
        EXPECT_EQ(m.Get(role, action) == Permission::kAllow, reader)
            << RoleName(role) << " " << action;
      }
    }
    if (action.starts_with("user.")) {
      for (const Role role : {Role::kPhysician, Role::kDentist, Role::kPharmacist, Role::kNurse,
                              Role::kClerk, Role::kRecordsOfficer, Role::kAuditor}) {
        EXPECT_EQ(m.Get(role, action), Permission::kDeny) << RoleName(role) << " " << action;
      }
    }
  }
  // Auditors: audit.*, the backups' status (evidence for G-6.10-C4f, no clinical content),
  // plus self and their own tokens; nothing else.
  for (const std::string& action : AllActions()) {
    const bool expected = action.starts_with("audit.") || action == "backup.status" ||
                          action == "self" || action == "token.manage";
    EXPECT_EQ(m.Get(Role::kAuditor, action) == Permission::kAllow, expected) << action;
  }
  // A clerk may register patients and scan paper into their records but not read records
  // (G-6.5-C6's own example).
  EXPECT_EQ(m.Get(Role::kClerk, "record.read"), Permission::kDeny);
  EXPECT_EQ(m.Get(Role::kClerk, "record.history"), Permission::kDeny);
  EXPECT_EQ(m.Get(Role::kClerk, "record.create"), Permission::kCare);
  // Clinical roles read records only inside a care relationship.
  for (const Role role : {Role::kPhysician, Role::kDentist, Role::kPharmacist, Role::kNurse}) {
    EXPECT_EQ(m.Get(role, "record.read"), Permission::kCare) << RoleName(role);
    EXPECT_EQ(m.Get(role, "breakglass.declare"), Permission::kAllow) << RoleName(role);
  }
  // Maintenance: verification and checkpoints, no tokens (G-6.8-C3).
  EXPECT_EQ(m.Get(Role::kMaintenance, "store.verify"), Permission::kAllow);
  EXPECT_EQ(m.Get(Role::kMaintenance, "audit.checkpoint"), Permission::kAllow);
  EXPECT_EQ(m.Get(Role::kMaintenance, "token.manage"), Permission::kDeny);
  // Every role can see who it is and change its own password.
  for (const Role role : kAllRoles) EXPECT_EQ(m.Get(role, "self"), Permission::kAllow);
}

TEST(Role, ParseRoundTripsAndRejectsEverythingElse) {
  ASSERT_EQ(AllRoles().size(), kAllRoles.size());
  for (std::size_t i = 0; i < kAllRoles.size(); ++i) {
    EXPECT_EQ(AllRoles()[i], RoleName(kAllRoles[i]));
    Result<Role> parsed = ParseRole(AllRoles()[i]);
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, kAllRoles[i]);
  }
  EXPECT_THAT(ParseRole("Physician"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRole(" nurse"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRole(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRole("superuser").error().message(), HasSubstr("'superuser'"));
  EXPECT_EQ(ParseRole("ro\nle\x01").error().message(), "unknown role");
}

TEST(ParseMatrix, AcceptsTheEmbeddedTableAndNamesDocumentLines) {
  ASSERT_OK(ParseMatrix(Embedded()));
  // Errors count lines from `first_line`, so they name lines of the document.
  const std::string broken =
      Replace(Embedded(), "| `self` | global | yes", "| `self` | global | no");
  const int self_line = 2 + static_cast<int>(kAllActions.size()) + 1;  // markers, header, sep
  EXPECT_THAT(ParseError(broken), HasSubstr("line " + std::to_string(self_line) + ":"));
  Result<Matrix> m = ParseMatrix(broken, 100);
  EXPECT_THAT(m.error().message(), HasSubstr("line " + std::to_string(self_line + 99) + ":"));
}

TEST(ParseMatrix, AcceptsCrLfColumnsInAnyOrderAndPlainActionNames) {
  std::string crlf;
  for (const char c : Embedded()) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  ASSERT_OK(ParseMatrix(crlf));

  const std::string reordered =
      "<!-- matrix:begin -->\n"
      "| action | scope | maintenance | admin | auditor | security_officer | records_officer |"
      " clerk | nurse | pharmacist | dentist | physician |\n"
      "|:---|---|---|---|---|---|---|---|---|---|---|---:|\n" +
      [] {
        std::string rows;
        for (const std::string_view a : kAllActions) {
          const bool patient = a == kActionRecordRead;
          rows += "| " + std::string(a) + (patient ? " | patient" : " | global") +
                  " | yes | - | - | - | - | - | - | - | - | " + (patient ? "care" : "-") + " |\n";
        }
        return rows;
      }() +
      "<!-- matrix:end -->\n";
  Result<Matrix> m = ParseMatrix(reordered);
  ASSERT_OK(m);
  EXPECT_EQ(m->Get(Role::kMaintenance, "self"), Permission::kAllow);
  EXPECT_EQ(m->Get(Role::kPhysician, "self"), Permission::kDeny);
  EXPECT_EQ(m->Get(Role::kPhysician, "record.read"), Permission::kCare);
  EXPECT_EQ(m->Scope("record.read"), ActionScope::kPatient);
  EXPECT_EQ(m->Scope("self"), ActionScope::kGlobal);
}

TEST(ParseMatrix, MarkersMustAppearOnceEachInOrder) {
  const std::string table = Embedded();
  EXPECT_THAT(ParseError(""), HasSubstr("no '<!-- matrix:begin -->'"));
  EXPECT_THAT(ParseError("just prose\n"), HasSubstr("no '<!-- matrix:begin -->'"));
  EXPECT_THAT(ParseError(Replace(table, "<!-- matrix:end -->", "")),
              HasSubstr("no '<!-- matrix:end -->'"));
  EXPECT_THAT(ParseError(Replace(table, "<!-- matrix:begin -->", "<!-- matrix:begin-->")),
              HasSubstr("line 28: '<!-- matrix:end -->' before any '<!-- matrix:begin -->'"));
  EXPECT_THAT(ParseError(table + table), HasSubstr("second '<!-- matrix:begin -->'"));
  EXPECT_THAT(ParseError("<!-- matrix:end -->\n" + table),
              HasSubstr("line 1: '<!-- matrix:end -->' before any"));
  EXPECT_THAT(
      ParseError(Replace(table, "<!-- matrix:end -->", "<!-- matrix:end -->\n<!-- matrix:end -->")),
      HasSubstr("second '<!-- matrix:end -->'"));
  EXPECT_THAT(ParseError("<!-- matrix:begin -->\n\n<!-- matrix:end -->\n"), HasSubstr("empty"));
}

TEST(ParseMatrix, HeaderMustNameEachRoleOnce) {
  const std::string table = Embedded();
  EXPECT_THAT(ParseError(Replace(table, "| nurse |", "| nurses |")),
              HasSubstr("unknown role 'nurses'"));
  EXPECT_THAT(ParseError(Replace(table, "| admin |", "| auditor |")),
              HasSubstr("role 'auditor' appears twice"));
  // The maintenance column is the last one (index 11 counting action and scope).
  EXPECT_THAT(ParseError(DropColumn(table, 11)), HasSubstr("role 'maintenance' is missing"));
  EXPECT_THAT(ParseError(Replace(table, "| action | scope |", "| scope | action |")),
              HasSubstr("header must begin"));
  EXPECT_THAT(ParseError(DropColumn(table, 1)), HasSubstr("header must begin"));
  EXPECT_THAT(ParseError(Replace(table, "| physician |", "| Physician |")),
              HasSubstr("unknown role"));
}

TEST(ParseMatrix, StructureIsChecked) {
  const std::string table = Embedded();
  const std::string separator = "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  EXPECT_THAT(ParseError(Replace(table, separator, "")), HasSubstr("separator row"));
  EXPECT_THAT(ParseError(Replace(table, "|---|---|", "|---|")), HasSubstr("separator row"));
  EXPECT_THAT(ParseError(Replace(table, "|---|---|", "|-x-|---|")), HasSubstr("separator row"));
  EXPECT_THAT(ParseError(Replace(table, "| yes |\n<!--", "| yes | yes |\n<!--")),
              HasSubstr("13 cells, but the header has 12"));
  EXPECT_THAT(ParseError(Replace(table, "| - | - |\n", "| - |\n")), HasSubstr("cells, but"));
  EXPECT_THAT(ParseError(Replace(table, "\n| `self`", "\n\n| `self`")),
              HasSubstr("blank line inside"));
  EXPECT_THAT(ParseError(Replace(table, "\n| `self`", "\nprose\n| `self`")),
              HasSubstr("not a table row"));
  EXPECT_THAT(ParseError(Replace(table, "| yes |\n<!--", "| yes\n<!--")),
              HasSubstr("line 27: not a table row"));
  EXPECT_THAT(
      ParseError(Replace(table, "| `self` | global | yes |", "| `self` | global | y\\|s |")),
      HasSubstr("backslashes"));
}

TEST(ParseMatrix, ActionsMustBeKnownWellFormedAndComplete) {
  const std::string table = Embedded();
  const std::string self_row =
      "| `self` | global | yes | yes | yes | yes | yes | yes | yes | yes | yes | yes |\n";
  EXPECT_THAT(ParseError(Replace(table, self_row, "")), HasSubstr("action 'self' is missing"));
  EXPECT_THAT(ParseError(Replace(table, self_row, self_row + self_row)),
              HasSubstr("'self' appears twice"));
  EXPECT_THAT(ParseError(Replace(table, "`self`", "`record.delete`")),
              HasSubstr("unknown action 'record.delete'"));
  for (const char* bad : {"`Record.Read`", "`record..read`", "`.self`", "`self.`",
                          "`record.read; drop`", "``", "`_x`", "`rec ord`"}) {
    EXPECT_THAT(ParseError(Replace(table, "`self`", bad)), HasSubstr("malformed action name"))
        << bad;
  }
  EXPECT_THAT(ParseError(Replace(table, "| `self` | global", "| `self` | patients")),
              HasSubstr("scope 'patients'"));
}

TEST(ParseMatrix, CellsMustBeYesCareOrDash) {
  const std::string table = Embedded();
  const std::string row = "| `record.read` | patient | care |";
  for (const char* bad : {"maybe", "Yes", "YES", "", "y e s", "no", "allow", "care?", "--"}) {
    const std::string message =
        ParseError(Replace(table, row, "| `record.read` | patient | " + std::string(bad) + " |"));
    EXPECT_THAT(message, HasSubstr("for role physician and action record.read")) << bad;
    EXPECT_THAT(message, HasSubstr("is not yes, care or -")) << bad;
  }
  // `care` makes sense only where there is a patient.
  EXPECT_THAT(ParseError(Replace(table, "| `self` | global | yes", "| `self` | global | care")),
              HasSubstr("'care' for role physician and action self"));
}

TEST(ParseMatrix, HostileBytesGiveCleanErrors) {
  const std::string table = Embedded();
  const std::string junk = std::string("\x01\xff\x7f") + std::string(500, 'A');
  const std::string message = ParseError(Replace(table, "| nurse |", "| " + junk + " |"));
  EXPECT_THAT(message, HasSubstr("unknown role '???AAAA"));
  EXPECT_LT(message.size(), 200u);  // Cells are quoted shortened.
  EXPECT_NE(ParseError(std::string(100000, '|')), "ok");
  EXPECT_NE(ParseError(std::string("<!-- matrix:begin -->\n") + std::string(1000, '|') +
                       "\n<!-- matrix:end -->"),
            "ok");
}

// Random one-byte edits of the real table: each one parses to a complete matrix or fails with
// kInvalidArgument; none crashes or yields a matrix without some action.
TEST(ParseMatrix, RandomEditsNeverYieldAPartialMatrix) {
  const std::string table = Embedded();
  std::mt19937 rng(20260103);
  const std::string alphabet = "|-`:. \n\rabcyes\x80";
  for (int i = 0; i < 3000; ++i) {
    std::string edited = table;
    const std::size_t at = rng() % edited.size();
    switch (rng() % 3) {
      case 0:
        edited[at] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        edited.erase(at, 1);
        break;
      default:
        edited.insert(at, 1, alphabet[rng() % alphabet.size()]);
        break;
    }
    Result<Matrix> m = ParseMatrix(edited);
    if (!m) {
      EXPECT_THAT(m, StatusIs(StatusCode::kInvalidArgument));
      continue;
    }
    EXPECT_THAT(m->actions(), UnorderedElementsAreArray(AllActions()));
  }
}

TEST(PermissionName, NamesCells) {
  EXPECT_EQ(PermissionName(Permission::kAllow), "yes");
  EXPECT_EQ(PermissionName(Permission::kCare), "care");
  EXPECT_EQ(PermissionName(Permission::kDeny), "-");
}

}  // namespace
}  // namespace hokan
