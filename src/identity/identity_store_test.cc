#include "identity/identity_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/posix_env.h"
#include "store/metadata_db.h"
#include "testing/manual_clock.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

// ---------------------------------------------------------------------------------------------
// Fixture: a real SQLite metadata database in a temporary directory, a manual clock, cheap
// Argon2id parameters, and helpers to run calls inside a committer unit or a read snapshot.

using ::hokan::testing::StatusIs;

// Strong enough for the password rules, cheap enough for ASan and TSan.
IdentityOptions TestOptions() {
  IdentityOptions o;
  o.password_hash = PasswordHashParams{.ops_limit = 1, .mem_limit = std::size_t{64} * 1024};
  return o;
}

const std::string kPassword = "Kx7#pq2vW";
const std::string kOtherPassword = "Zr4!mt9cQ";

// Members are public so that free helpers (QueryInt) can use them.
class IdentityTest : public ::testing::Test {
 public:
  void SetUp() override {
    path_ = dir_.path() + "/metadata.db";
    Open(/*create=*/true);
  }

  // Opens the database and the store (again); the clock keeps its time.
  void Open(bool create = false) {
    id_.reset();
    db_.reset();
    // No fsync: nothing here pulls the plug, and the suite stays fast on a busy disk.
    Result<std::unique_ptr<MetadataDb>> db =
        MetadataDb::Open(path_, {.sync = false, .create = create});
    ASSERT_OK(db);
    db_ = std::move(*db);
    ASSERT_OK(db_->WithWriteConnection([](Database& d) { return IdentityStore::CreateSchema(d); }));
    Result<std::unique_ptr<IdentityStore>> store =
        IdentityStore::Open(env_, *db_, row_key_, secret_key_, options_);
    ASSERT_OK(store);
    id_ = std::move(*store);
  }

  // Runs `fn` inside one committer unit and returns what it returned (or the commit error).
  template <typename Fn>
  auto InUnit(Fn fn) -> decltype(fn(std::declval<Database&>())) {
    using R = decltype(fn(std::declval<Database&>()));
    std::optional<R> out;
    const Status st = db_->committer().Run([&](Database& d) -> Status {
      out.emplace(fn(d));
      return StatusOf(*out);
    });
    if (!st.ok()) return R(st);
    return std::move(*out);
  }

  // Runs `fn` in a read snapshot.
  template <typename Fn>
  auto InRead(Fn fn) -> decltype(fn(std::declval<Database&>())) {
    using R = decltype(fn(std::declval<Database&>()));
    std::optional<R> out;
    const Status st = db_->Read([&](Database& d) -> Status {
      out.emplace(fn(d));
      return OkStatus();
    });
    if (!st.ok()) return R(st);
    return std::move(*out);
  }

  Result<User> Create(NewUser u) {
    return InUnit([&](Database& d) { return id_->CreateUserIn(d, u); });
  }

  // A person with a password and `roles`, no second factor.
  User Person(const std::string& id, std::vector<std::string> roles = {"nurse"},
              std::string_view password = kPassword) {
    Result<User> u = Create(NewUser{.id = id,
                                    .display_name = "Test Person",
                                    .roles = std::move(roles),
                                    .initial_password = std::string(password)});
    EXPECT_OK(u);
    return u ? *u : User{};
  }

  Result<User> Get(const std::string& id) {
    return InRead([&](Database& d) { return id_->GetUser(d, id); });
  }

  LoginOutcome Login(const std::string& login_id, std::string_view password,
                     std::string_view second_factor = "", std::string_view cert = "") {
    Result<LoginOutcome> o = id_->Login(LoginRequest{.login_id = login_id,
                                                     .password = std::string(password),
                                                     .second_factor = std::string(second_factor),
                                                     .client_cert_fingerprint = std::string(cert)});
    EXPECT_OK(o);
    return o ? *o : LoginOutcome{};
  }

  Result<ResolvedSession> Resolve(const std::string& token) {
    return InUnit([&](Database& d) { return id_->ResolveSessionIn(d, token); });
  }

  // Runs raw SQL on the database file, as someone with access to the file would.
  void Tamper(const std::string& sql) {
    id_.reset();
    db_.reset();
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
    Open();
  }

  std::int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch())
        .count();
  }

  ::hokan::testing::TempDir dir_;
  std::string path_;
  PosixFileSystem fs_;
  ::hokan::testing::ManualClock clock_;
  Env env_{fs_, clock_};
  Bytes row_key_ = Bytes(32, 0x11);
  Bytes secret_key_ = Bytes(32, 0x22);
  IdentityOptions options_ = TestOptions();
  std::unique_ptr<MetadataDb> db_;
  std::unique_ptr<IdentityStore> id_;
};

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// Runs a one-value query (COUNT, a column) in a read snapshot.
std::int64_t QueryInt(IdentityTest& t, const std::string& sql);

// ---------------------------------------------------------------------------------------------
// Users.

TEST_F(IdentityTest, CreateGetAndListUsers) {
  const TimePoint expiry = clock_.Now() + 24h * 30;
  Result<User> made = Create(NewUser{.id = "nsato",
                                     .display_name = "Hanako Sato",
                                     .roles = {"nurse", "records_officer"},
                                     .department = "ward-3",
                                     .expires_at = expiry});
  ASSERT_OK(made);
  EXPECT_EQ(made->id, "nsato");
  EXPECT_EQ(made->display_name, "Hanako Sato");
  EXPECT_EQ(made->kind, UserKind::kPerson);
  EXPECT_THAT(made->roles, ElementsAre("nurse", "records_officer"));
  EXPECT_EQ(made->department, "ward-3");
  EXPECT_EQ(made->expires_at, expiry);
  EXPECT_FALSE(made->disabled);
  EXPECT_FALSE(made->has_password);
  EXPECT_FALSE(made->totp_enrolled);
  EXPECT_EQ(made->created_at, clock_.Now());

  Result<User> got = Get("nsato");
  ASSERT_OK(got);
  EXPECT_EQ(*got, *made);

  Person("admin1", {"admin"});
  Result<std::vector<User>> all = InRead([&](Database& d) { return id_->ListUsers(d); });
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "admin1");
  EXPECT_TRUE((*all)[0].has_password);
  EXPECT_EQ((*all)[1], *made);

  EXPECT_THAT(Get("nobody"), StatusIs(StatusCode::kNotFound));
}

TEST_F(IdentityTest, DuplicateIdIsAlreadyExists) {
  Person("nsato");
  EXPECT_THAT(Create(NewUser{.id = "nsato", .display_name = "Someone Else"}),
              StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(IdentityTest, ValidatesIdNameRolesAndDepartment) {
  for (const std::string& bad_id :
       std::vector<std::string>{"", "NSato", "n sato", "n/sato", "n,sato", std::string(65, 'a')}) {
    SCOPED_TRACE(bad_id);
    EXPECT_THAT(Create(NewUser{.id = bad_id, .display_name = "X"}),
                StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_OK(Create(NewUser{.id = std::string(64, 'a'), .display_name = "X"}));
  EXPECT_OK(Create(NewUser{.id = "a.b_c-9", .display_name = "X"}));
  EXPECT_THAT(Create(NewUser{.id = "u1", .display_name = ""}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Create(NewUser{.id = "u1", .display_name = "Line\nbreak"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Create(NewUser{.id = "u1", .display_name = std::string(129, 'x')}),
              StatusIs(StatusCode::kInvalidArgument));
  for (const std::vector<std::string>& roles : std::vector<std::vector<std::string>>{
           {"Admin"}, {"a,b"}, {""}, {"nurse", "nurse"}, {std::string(65, 'r')}}) {
    EXPECT_THAT(Create(NewUser{.id = "u1", .display_name = "X", .roles = roles}),
                StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(Create(NewUser{.id = "u1", .display_name = "X", .department = "ward\t3"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Get("u1"), StatusIs(StatusCode::kNotFound));
}

TEST_F(IdentityTest, UpdatesRolesDisabledExpiryDepartmentAndName) {
  Person("nsato");
  Result<User> u = InUnit([&](Database& d) { return id_->SetRolesIn(d, "nsato", {"physician"}); });
  ASSERT_OK(u);
  EXPECT_THAT(u->roles, ElementsAre("physician"));
  u = InUnit([&](Database& d) { return id_->SetDisabledIn(d, "nsato", true); });
  ASSERT_OK(u);
  EXPECT_TRUE(u->disabled);
  const TimePoint expiry = clock_.Now() + 48h;
  u = InUnit([&](Database& d) { return id_->SetExpiryIn(d, "nsato", expiry); });
  ASSERT_OK(u);
  EXPECT_EQ(u->expires_at, expiry);
  u = InUnit([&](Database& d) { return id_->SetDepartmentIn(d, "nsato", "surgery"); });
  ASSERT_OK(u);
  u = InUnit([&](Database& d) { return id_->SetDisplayNameIn(d, "nsato", "Hanako Ito"); });
  ASSERT_OK(u);

  Result<User> got = Get("nsato");
  ASSERT_OK(got);
  EXPECT_EQ(*got, *u);
  EXPECT_EQ(got->department, "surgery");
  EXPECT_EQ(got->display_name, "Hanako Ito");
  EXPECT_TRUE(got->has_password);

  EXPECT_THAT(InUnit([&](Database& d) { return id_->SetRolesIn(d, "ghost", {"nurse"}); }),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->SetRolesIn(d, "nsato", {"Bad Role"}); }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->SetExpiryIn(d, "nsato", clock_.Now() - 1s); }),
              StatusIs(StatusCode::kInvalidArgument));
}

// G-6.8-C3/C4: maintenance staff get dedicated accounts that must expire, and an expired
// account cannot sign in.
TEST_F(IdentityTest, MaintenanceAccountsMustExpire_G68C3_G68C4) {
  EXPECT_THAT(Create(NewUser{.id = "vendor1",
                             .display_name = "Vendor Engineer",
                             .kind = UserKind::kMaintenance,
                             .roles = {"maintenance"}}),
              StatusIs(StatusCode::kInvalidArgument));
  Result<User> m = Create(NewUser{.id = "vendor1",
                                  .display_name = "Vendor Engineer",
                                  .kind = UserKind::kMaintenance,
                                  .roles = {"maintenance"},
                                  .expires_at = clock_.Now() + 8h,
                                  .initial_password = std::string(kPassword)});
  ASSERT_OK(m);
  EXPECT_EQ(m->kind, UserKind::kMaintenance);
  EXPECT_THAT(InUnit([&](Database& d) { return id_->SetExpiryIn(d, "vendor1", std::nullopt); }),
              StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(Login("vendor1", kPassword).kind, LoginOutcome::Kind::kOk);
  clock_.Advance(8h);
  EXPECT_EQ(Login("vendor1", kPassword), LoginOutcome{});  // Failed, like a wrong password.
}

TEST_F(IdentityTest, InitialPasswordFollowsTheRules) {
  EXPECT_THAT(
      Create(NewUser{.id = "nsato", .display_name = "Hanako Sato", .initial_password = "short"}),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Create(NewUser{
                  .id = "nsato", .display_name = "Hanako Sato", .initial_password = "Nsato#2931x"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Get("nsato"), StatusIs(StatusCode::kNotFound));
}

// A database edit must not make anyone an administrator: every field of a user row is under
// the row MAC.
TEST_F(IdentityTest, TamperedUserRowIsDataLossNamingTheUser) {
  Person("nsato");
  Person("admin1", {"admin"});
  Tamper("UPDATE users SET roles = 'nurse,admin' WHERE user_id = 'nsato'");
  EXPECT_THAT(Get("nsato"), StatusIs(StatusCode::kDataLoss));
  Result<User> got = Get("nsato");
  EXPECT_THAT(got.error().message(), HasSubstr("nsato"));
  EXPECT_THAT(InRead([&](Database& d) { return id_->ListUsers(d); }),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(id_->Login(LoginRequest{.login_id = "nsato", .password = std::string(kPassword)}),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_OK(Get("admin1"));
}

TEST_F(IdentityTest, EveryPowerGrantingUserFieldIsUnderTheMac) {
  const TimePoint expiry = clock_.Now() + 1h;
  for (const std::string& edit :
       {std::string("UPDATE users SET disabled = 0"),
        std::string("UPDATE users SET expires_at = NULL"),
        std::string("UPDATE users SET kind = 'person'"),
        std::string("UPDATE users SET department = 'icu'"),
        std::string("UPDATE users SET totp_enrolled = 1 - totp_enrolled"),
        std::string("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE "
                    "user_id = 'other') WHERE user_id = 'vendor1'")}) {
    SCOPED_TRACE(edit);
    Tamper("DELETE FROM users; DELETE FROM password_history;");
    ASSERT_OK(Create(NewUser{.id = "vendor1",
                             .display_name = "Vendor Engineer",
                             .kind = UserKind::kMaintenance,
                             .department = "it",
                             .expires_at = expiry,
                             .initial_password = std::string(kPassword)}));
    Person("other", {"nurse"}, kOtherPassword);
    ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "vendor1", true); }));
    ASSERT_OK(Get("vendor1"));
    Tamper(edit + (edit.find("WHERE") == std::string::npos ? " WHERE user_id = 'vendor1'" : ""));
    EXPECT_THAT(Get("vendor1"), StatusIs(StatusCode::kDataLoss));
  }
}

TEST_F(IdentityTest, CreateSchemaIsIdempotent) {
  Person("nsato");
  ASSERT_OK(db_->WithWriteConnection([](Database& d) { return IdentityStore::CreateSchema(d); }));
  EXPECT_OK(Get("nsato"));
}

TEST_F(IdentityTest, OpenRefusesBadKeysAndOptions) {
  EXPECT_THAT(IdentityStore::Open(env_, *db_, Bytes(8, 1), secret_key_, options_),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(IdentityStore::Open(env_, *db_, row_key_, Bytes(16, 1), options_),
              StatusIs(StatusCode::kInvalidArgument));
  IdentityOptions bad = options_;
  bad.failures_before_lockout = 2;
  EXPECT_THAT(IdentityStore::Open(env_, *db_, row_key_, secret_key_, bad),
              StatusIs(StatusCode::kInvalidArgument));
}

// A different row key (another store's KEK) makes every row fail its MAC.
TEST_F(IdentityTest, RowsDoNotVerifyUnderAnotherKey) {
  Person("nsato");
  row_key_ = Bytes(32, 0x99);
  Open();
  EXPECT_THAT(Get("nsato"), StatusIs(StatusCode::kDataLoss));
}

// ---------------------------------------------------------------------------------------------
// Setup secret: no default passwords anywhere.

TEST_F(IdentityTest, SetupSecretWorksOnceAndOnlyTheLatest) {
  Result<std::string> first = InUnit([&](Database& d) { return id_->CreateSetupSecretIn(d); });
  ASSERT_OK(first);
  Result<std::string> second = InUnit([&](Database& d) { return id_->CreateSetupSecretIn(d); });
  ASSERT_OK(second);
  EXPECT_NE(*first, *second);
  EXPECT_EQ(second->size(), 29u);  // 24 base32 characters in groups of four.

  const auto consume = [&](const std::string& s) {
    return InUnit([&](Database& d) { return id_->ConsumeSetupSecretIn(d, s); });
  };
  EXPECT_THAT(consume(*first), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(consume("aaaa-bbbb-cccc-dddd-eeee-ffff"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(consume(""), StatusIs(StatusCode::kPermissionDenied));
  // As typed: upper case, no dashes.
  std::string typed;
  for (char c : *second) {
    if (c != '-') typed.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  const Status wrong = consume(*first);
  EXPECT_THAT(wrong.message(), Not(HasSubstr(*first)));
  EXPECT_OK(consume(typed));
  EXPECT_THAT(consume(*second), StatusIs(StatusCode::kPermissionDenied));
}

// The service's pattern: consume the secret and create the first administrator in one unit.
TEST_F(IdentityTest, FirstAdministratorComesFromTheSetupSecret) {
  Result<std::string> secret = InUnit([&](Database& d) { return id_->CreateSetupSecretIn(d); });
  ASSERT_OK(secret);
  const NewUser admin{.id = "admin1",
                      .display_name = "First Admin",
                      .roles = {"admin"},
                      .initial_password = std::string(kPassword)};
  const auto create_first_admin = [&](const std::string& s) {
    return db_->committer().Run([&](Database& d) -> Status {
      HK_RETURN_IF_ERROR(id_->ConsumeSetupSecretIn(d, s));
      return id_->CreateUserIn(d, admin).error();
    });
  };
  EXPECT_THAT(create_first_admin("wrong"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(Get("admin1"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(create_first_admin(*secret));
  EXPECT_THAT(create_first_admin(*secret), StatusIs(StatusCode::kPermissionDenied));

  const LoginOutcome o = Login("admin1", kPassword);
  EXPECT_EQ(o.kind, LoginOutcome::Kind::kOk);
  EXPECT_TRUE(o.session.restricted);  // Enrol a second factor first (G-6.5-C13).
}

// ---------------------------------------------------------------------------------------------
// Passwords (G-6.5-C14).

TEST_F(IdentityTest, SetPasswordAppliesTheRules_G65C14d_G65C14e) {
  Person("nsato");
  const auto set = [&](std::string_view pw, std::string_view current = kPassword) {
    return id_->SetPassword("nsato", pw, PasswordProof::CurrentPassword(std::string(current)));
  };
  EXPECT_THAT(set("Kx7#pq2"), StatusIs(StatusCode::kInvalidArgument));      // Too short.
  EXPECT_THAT(set("Kxqpqzvwmt"), StatusIs(StatusCode::kInvalidArgument));   // No digit/symbol.
  EXPECT_THAT(set("Nsato#2931x"), StatusIs(StatusCode::kInvalidArgument));  // Contains the id.
  EXPECT_THAT(set("P@ssw0rd!9"), StatusIs(StatusCode::kInvalidArgument));   // Common.
  EXPECT_THAT(set(kPassword), StatusIs(StatusCode::kInvalidArgument));      // The current one.
  Result<PasswordChange> change = set(kOtherPassword);
  ASSERT_OK(change);
  EXPECT_EQ(change->user_id, "nsato");
  EXPECT_FALSE(change->reset.has_value());

  EXPECT_EQ(Login("nsato", kPassword), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kOtherPassword).kind, LoginOutcome::Kind::kOk);
}

// Without two-factor login the guideline asks for 13 characters (G-6.5-C14d mode a).
TEST_F(IdentityTest, WithoutTwoFactorPasswordsNeedThirteenCharacters_G65C14d) {
  options_.require_two_factor = false;
  Open();
  Person("nsato", {"nurse"}, "Kx7#pq2vW9!mZ");
  EXPECT_THAT(
      id_->SetPassword("nsato", "Zr4!mt9cQ4", PasswordProof::CurrentPassword("Kx7#pq2vW9!mZ")),
      StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(
      id_->SetPassword("nsato", "Zr4!mt9cQ4&vL", PasswordProof::CurrentPassword("Kx7#pq2vW9!mZ")));
}

TEST_F(IdentityTest, LastFivePasswordsCannotBeReused_G65C14e) {
  const std::vector<std::string> passwords = {
      std::string(kPassword), "Zr4!mt9cQ", "Lw8$hn3bT", "Yd5%gk6sR", "Vf2&jc7xM", "Qp9*wz4nH"};
  Person("nsato", {"nurse"}, passwords[0]);
  for (std::size_t i = 1; i < passwords.size(); ++i) {
    ASSERT_OK(
        id_->SetPassword("nsato", passwords[i], PasswordProof::CurrentPassword(passwords[i - 1])));
  }
  // The last five are passwords[1..5]; passwords[0] is sixth from last and allowed again.
  for (std::size_t i = 1; i < passwords.size(); ++i) {
    SCOPED_TRACE(passwords[i]);
    Result<PasswordChange> again =
        id_->SetPassword("nsato", passwords[i], PasswordProof::CurrentPassword(passwords[5]));
    EXPECT_THAT(again, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(again.error().message(), HasSubstr("last 5"));
  }
  EXPECT_OK(id_->SetPassword("nsato", passwords[0], PasswordProof::CurrentPassword(passwords[5])));
  EXPECT_LE(QueryInt(*this, "SELECT COUNT(*) FROM password_history WHERE user_id = 'nsato'"), 5);
}

// G-6.5-C14a: only salted Argon2id hashes are stored, history included.
TEST_F(IdentityTest, PasswordsAreStoredOnlyAsArgon2id_G65C14a) {
  Person("nsato");
  Person("hito", {"nurse"});  // Same password: the salts make the hashes differ.
  Result<std::vector<std::string>> hashes =
      InRead([&](Database& d) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        for (std::string_view sql :
             {"SELECT password_hash FROM users", "SELECT hash FROM password_history"}) {
          HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare(sql));
          while (true) {
            HK_ASSIGN_OR_RETURN(bool row, s->Step());
            if (!row) break;
            out.push_back(s->ColumnText(0));
          }
        }
        return out;
      });
  ASSERT_OK(hashes);
  ASSERT_EQ(hashes->size(), 4u);
  for (const std::string& h : *hashes) {
    EXPECT_THAT(h, StartsWith("$argon2id$"));
    EXPECT_THAT(h, Not(HasSubstr(std::string(kPassword))));
  }
  EXPECT_NE((*hashes)[0], (*hashes)[1]);
}

TEST_F(IdentityTest, WrongCurrentPasswordIsRefusedAndCountsAsAFailure) {
  Person("nsato");
  for (int i = 0; i < options_.failures_before_delay; ++i) {
    Result<PasswordChange> r =
        id_->SetPassword("nsato", kOtherPassword, PasswordProof::CurrentPassword("Wrong#pw42"));
    EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied));
    EXPECT_THAT(r.error().message(), Not(HasSubstr("Wrong#pw42")));
  }
  // Now the login id must wait, for password changes and logins alike.
  EXPECT_THAT(id_->SetPassword("nsato", kOtherPassword, PasswordProof::CurrentPassword(kPassword)),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
  clock_.Advance(1s);
  EXPECT_OK(id_->SetPassword("nsato", kOtherPassword, PasswordProof::CurrentPassword(kPassword)));
}

TEST_F(IdentityTest, PasswordHookRunsInTheUnitThatStoresThePassword) {
  Person("nsato");
  ASSERT_OK(db_->WithWriteConnection(
      [](Database& d) { return d.Exec("CREATE TABLE audit_stub (what TEXT)"); }));
  // A failing hook (the audit append failed) rolls the password change back.
  EXPECT_THAT(id_->SetPassword("nsato", kOtherPassword, PasswordProof::CurrentPassword(kPassword),
                               [](Database&, const PasswordChange&) {
                                 return UnavailableError("audit log is full");
                               }),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kOk);
  ASSERT_OK(id_->SetPassword("nsato", kOtherPassword, PasswordProof::CurrentPassword(kPassword),
                             [](Database& d, const PasswordChange& c) -> Status {
                               HK_ASSIGN_OR_RETURN(Statement * s,
                                                   d.Prepare("INSERT INTO audit_stub VALUES (?)"));
                               s->Bind(1, "password set for " + c.user_id);
                               return s->Run();
                             }));
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM audit_stub"), 1);
}

// ---------------------------------------------------------------------------------------------
// Administrator password reset (G-6.5-C14b).

TEST_F(IdentityTest, AdministratorResetRecordsWhoVerifiedAndHow_G65C14b) {
  Person("nsato");
  Person("admin1", {"admin"});
  const LoginOutcome before = Login("nsato", kPassword);
  ASSERT_EQ(before.kind, LoginOutcome::Kind::kOk);

  Result<IssuedPasswordReset> reset = InUnit([&](Database& d) {
    return id_->IssuePasswordResetIn(d, "nsato", "admin1", "hr-tanaka", "in person, staff ID card");
  });
  ASSERT_OK(reset);
  EXPECT_EQ(reset->record.user_id, "nsato");
  EXPECT_EQ(reset->record.admin_id, "admin1");
  EXPECT_EQ(reset->record.verified_by, "hr-tanaka");
  EXPECT_EQ(reset->record.method, "in person, staff ID card");
  EXPECT_EQ(reset->record.issued_at, clock_.Now());
  EXPECT_EQ(reset->record.expires_at, clock_.Now() + 24h);
  EXPECT_FALSE(reset->code.empty());

  // The old password and every session end; only the code leads to a new password.
  EXPECT_EQ(Login("nsato", kPassword), LoginOutcome{});
  EXPECT_THAT(Resolve(before.session_token), StatusIs(StatusCode::kUnauthenticated));
  Result<User> user = Get("nsato");
  ASSERT_OK(user);
  EXPECT_FALSE(user->has_password);

  // The old password is in the history: not allowed again.
  EXPECT_THAT(id_->SetPassword("nsato", kPassword, PasswordProof::ResetCode(reset->code)),
              StatusIs(StatusCode::kInvalidArgument));
  Result<PasswordChange> change =
      id_->SetPassword("nsato", kOtherPassword, PasswordProof::ResetCode(reset->code));
  ASSERT_OK(change);
  ASSERT_TRUE(change->reset.has_value());
  EXPECT_EQ(*change->reset, reset->record);  // For the audit entry.
  EXPECT_EQ(Login("nsato", kOtherPassword).kind, LoginOutcome::Kind::kOk);

  // The code worked once.
  EXPECT_THAT(id_->SetPassword("nsato", "Lw8$hn3bT", PasswordProof::ResetCode(reset->code)),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(IdentityTest, AdministratorCannotResetTheirOwnPassword_G65C14b) {
  Person("admin1", {"admin"});
  EXPECT_THAT(InUnit([&](Database& d) {
                return id_->IssuePasswordResetIn(d, "admin1", "admin1", "admin1", "self");
              }),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(Login("admin1", kPassword).kind, LoginOutcome::Kind::kOk);
}

TEST_F(IdentityTest, ResetNeedsWhoVerifiedAndHow_G65C14b) {
  Person("nsato");
  for (const std::pair<std::string, std::string>& who_how :
       std::vector<std::pair<std::string, std::string>>{{"", "in person"},
                                                        {"hr-tanaka", ""},
                                                        {"hr\ntanaka", "in person"},
                                                        {"hr-tanaka", std::string(201, 'x')}}) {
    EXPECT_THAT(InUnit([&](Database& d) {
                  return id_->IssuePasswordResetIn(d, "nsato", "admin1", who_how.first,
                                                   who_how.second);
                }),
                StatusIs(StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(InUnit([&](Database& d) {
                return id_->IssuePasswordResetIn(d, "ghost", "admin1", "hr-tanaka", "in person");
              }),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(IdentityTest, ResetCodeExpiresIsBoundToItsUserAndTheLatestWins) {
  Person("nsato");
  Person("hito");
  const auto issue = [&](const std::string& user) {
    Result<IssuedPasswordReset> r = InUnit([&](Database& d) {
      return id_->IssuePasswordResetIn(d, user, "admin1", "hr-tanaka", "video call, ID shown");
    });
    EXPECT_OK(r);
    return r ? r->code : std::string();
  };
  const std::string first = issue("nsato");
  const std::string second = issue("nsato");
  EXPECT_THAT(id_->SetPassword("nsato", kOtherPassword, PasswordProof::ResetCode(first)),
              StatusIs(StatusCode::kPermissionDenied));
  // Another user's code, an unknown user, garbage: the same refusal.
  const std::string for_hito = issue("hito");
  for (const auto& [user, code] : std::vector<std::pair<std::string, std::string>>{
           {"nsato", for_hito}, {"ghost", second}, {"Not An Id", second}, {"nsato", ""}}) {
    Result<PasswordChange> r =
        id_->SetPassword(user, kOtherPassword, PasswordProof::ResetCode(code));
    EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied));
    EXPECT_EQ(r.error().message(), "password reset code is wrong, used or expired");
  }
  clock_.Advance(24h);
  EXPECT_THAT(id_->SetPassword("nsato", kOtherPassword, PasswordProof::ResetCode(second)),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_OK(id_->SetPassword("hito", kOtherPassword, PasswordProof::ResetCode(issue("hito"))));
}

TEST_F(IdentityTest, ResetLiftsALockout) {
  Person("nsato");
  for (int i = 0; i < options_.failures_before_lockout; ++i) {
    (void)Login("nsato", "Wrong#pw42");
    clock_.Advance(1min);
  }
  ASSERT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
  Result<IssuedPasswordReset> r = InUnit([&](Database& d) {
    return id_->IssuePasswordResetIn(d, "nsato", "admin1", "hr-tanaka", "in person");
  });
  ASSERT_OK(r);
  ASSERT_OK(id_->SetPassword("nsato", kOtherPassword, PasswordProof::ResetCode(r->code)));
  EXPECT_EQ(Login("nsato", kOtherPassword).kind, LoginOutcome::Kind::kOk);
}

TEST_F(IdentityTest, TamperedResetRowIsDataLoss) {
  Person("nsato");
  Person("admin1", {"admin"});
  Result<IssuedPasswordReset> r = InUnit([&](Database& d) {
    return id_->IssuePasswordResetIn(d, "nsato", "admin1", "hr-tanaka", "in person");
  });
  ASSERT_OK(r);
  // Pointing a reset (with its code) at the administrator does not hand over their account.
  Tamper("UPDATE password_resets SET user_id = 'admin1'");
  EXPECT_THAT(id_->SetPassword("admin1", kOtherPassword, PasswordProof::ResetCode(r->code)),
              StatusIs(StatusCode::kDataLoss));
}

// ---------------------------------------------------------------------------------------------
// Login (G-6.5-C13, G-6.5-D4).

TEST_F(IdentityTest, LoginWithoutSecondFactorGivesARestrictedSession_G65C13) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  ASSERT_EQ(o.kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(o.user_id, "nsato");
  EXPECT_EQ(o.session.user_id, "nsato");
  EXPECT_TRUE(o.session.restricted);
  EXPECT_THAT(o.session.factors, ElementsAre(Factor::kPassword));
  EXPECT_EQ(o.session.created_at, clock_.Now());
  EXPECT_EQ(o.session.authenticated_at, clock_.Now());
  EXPECT_EQ(o.session_token.size(), 64u);
  EXPECT_EQ(o.session.id.size(), 32u);
  EXPECT_NE(o.session.id, o.session_token);

  Result<ResolvedSession> r = Resolve(o.session_token);
  ASSERT_OK(r);
  EXPECT_EQ(r->session, o.session);
  EXPECT_EQ(r->user.id, "nsato");
}

TEST_F(IdentityTest, WithoutTheTwoFactorRequirementTheSessionIsFull) {
  options_.require_two_factor = false;
  Open();
  Person("nsato", {"nurse"}, "Kx7#pq2vW9!mZ");
  const LoginOutcome o = Login("nsato", "Kx7#pq2vW9!mZ");
  ASSERT_EQ(o.kind, LoginOutcome::Kind::kOk);
  EXPECT_FALSE(o.session.restricted);
}

// G-6.5-D4: an unknown user and a wrong password are indistinguishable: the same outcome,
// field for field, attempt after attempt (both are counted), and the same Argon2id work.
TEST_F(IdentityTest, UnknownUserAndWrongPasswordAreIdentical_G65D4) {
  Person("nsato");
  for (int i = 0; i < options_.failures_before_delay + 2; ++i) {
    SCOPED_TRACE("attempt " + std::to_string(i + 1));
    const std::uint64_t v0 = id_->password_verifications();
    const LoginOutcome wrong = Login("nsato", "Wrong#pw42");
    const std::uint64_t v1 = id_->password_verifications();
    const LoginOutcome unknown = Login("ghost", "Wrong#pw42");
    const std::uint64_t v2 = id_->password_verifications();
    EXPECT_EQ(wrong, unknown);
    EXPECT_EQ(v1 - v0, v2 - v1);
    if (i < options_.failures_before_delay) {
      EXPECT_EQ(wrong, LoginOutcome{});  // kFailed and nothing else.
      EXPECT_EQ(v1 - v0, 1u);            // Each ran one Argon2id verification.
    } else {
      EXPECT_EQ(wrong.kind, LoginOutcome::Kind::kLockedOut);
      EXPECT_EQ(v1 - v0, 0u);  // Refused unchecked.
    }
  }
}

// Disabled, expired and password-less accounts fail exactly like a wrong password, even with
// the right password, and count the same.
TEST_F(IdentityTest, InactiveAccountsFailLikeAWrongPassword_G65D4) {
  Person("disabled1");
  ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "disabled1", true); }));
  ASSERT_OK(Create(NewUser{.id = "expired1",
                           .display_name = "Temp Staff",
                           .expires_at = clock_.Now() + 1h,
                           .initial_password = std::string(kPassword)}));
  ASSERT_OK(Create(NewUser{.id = "nopass1", .display_name = "New Hire"}));
  clock_.Advance(1h);
  for (const std::string user : {"disabled1", "expired1", "nopass1"}) {
    SCOPED_TRACE(user);
    const std::uint64_t v0 = id_->password_verifications();
    EXPECT_EQ(Login(user, kPassword), Login("ghost", kPassword));
    EXPECT_EQ(id_->password_verifications() - v0, 2u);
  }
  EXPECT_EQ(QueryInt(*this, "SELECT failures FROM login_failures WHERE login_key = 'disabled1'"),
            1);
}

// G-6.5-D4: after 5 failures a growing delay, after 10 a 15-minute lockout; attempts inside a
// wait are refused without checking the password; success resets.
TEST_F(IdentityTest, LockoutDelaysThenLocksThenExpires_G65D4) {
  Person("nsato");
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(Login("nsato", "Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(Login("nsato", "Wrong#pw42"), LoginOutcome{});  // 5th: the delays start.

  std::chrono::seconds delay = 1s;
  for (int failures = 5; failures < 10; ++failures) {
    SCOPED_TRACE("after " + std::to_string(failures) + " failures");
    const std::uint64_t v0 = id_->password_verifications();
    // Even the right password is refused, unchecked, until the delay is over.
    LoginOutcome early = Login("nsato", kPassword);
    EXPECT_EQ(early.kind, LoginOutcome::Kind::kLockedOut);
    EXPECT_EQ(early.retry_after, delay);
    EXPECT_EQ(id_->password_verifications(), v0);
    clock_.Advance(delay - 1ms);
    EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
    clock_.Advance(1ms);
    const LoginOutcome failed = Login("nsato", "Wrong#pw42");
    EXPECT_EQ(failed.kind, LoginOutcome::Kind::kFailed);
    EXPECT_EQ(failed.lockout_started, failures + 1 == 10);
    delay *= 2;
  }
  // 10 failures: locked for 15 minutes.
  LoginOutcome locked = Login("nsato", kPassword);
  EXPECT_EQ(locked.kind, LoginOutcome::Kind::kLockedOut);
  EXPECT_EQ(locked.retry_after, 15min);
  clock_.Advance(15min - 1s);
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
  clock_.Advance(1s);
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kOk);
  // Success reset the count: four failures in a row bring no delay.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Login("nsato", "Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kOk);
}

TEST_F(IdentityTest, EachFailureAfterTheTenthLocksAgain_G65D4) {
  Person("nsato");
  for (int i = 0; i < 10; ++i) {
    (void)Login("nsato", "Wrong#pw42");
    clock_.Advance(1min);
  }
  clock_.Advance(15min);
  const LoginOutcome again = Login("nsato", "Wrong#pw42");
  EXPECT_TRUE(again.lockout_started);
  EXPECT_EQ(Login("nsato", kPassword).retry_after, 15min);
}

// The count lives in the database: a restart does not wipe it (G-6.5-D4).
TEST_F(IdentityTest, FailuresSurviveARestart_G65D4) {
  Person("nsato");
  for (int i = 0; i < 5; ++i) {
    (void)Login("nsato", "Wrong#pw42");
    (void)Login("ghost", "Wrong#pw42");
  }
  Open();
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
  EXPECT_EQ(Login("ghost", kPassword).kind, LoginOutcome::Kind::kLockedOut);
}

TEST_F(IdentityTest, FailuresAreForgottenAfterADayWithoutFailures) {
  Person("nsato");
  for (int i = 0; i < 4; ++i) (void)Login("nsato", "Wrong#pw42");
  clock_.Advance(24h);
  EXPECT_EQ(Login("nsato", "Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kOk);  // No delay: count 1.
}

TEST_F(IdentityTest, LoginIdIsCaseInsensitiveAndOddIdsAreCountedToo) {
  Person("nsato");
  EXPECT_EQ(Login("NSato", kPassword).kind, LoginOutcome::Kind::kOk);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Login("NSATO", "Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);
  // Text that cannot be an id fails like any unknown user and is counted (under a digest).
  const std::string odd = "robert'); DROP TABLE users;--" + std::string(200, 'x');
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Login(odd, "Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(Login(odd, "Wrong#pw42").kind, LoginOutcome::Kind::kLockedOut);
  EXPECT_EQ(QueryInt(*this, "SELECT MAX(LENGTH(login_key)) FROM login_failures"), 33);
}

// Every outcome reaches the hook inside the unit that records it, so the audit entry and the
// failure count commit together; a failing hook rolls both back.
TEST_F(IdentityTest, LoginHookSeesEveryOutcomeInTheSameUnit_G65D4) {
  Person("nsato");
  ASSERT_OK(db_->WithWriteConnection(
      [](Database& d) { return d.Exec("CREATE TABLE audit_stub (kind TEXT)"); }));
  const IdentityStore::LoginHook audit = [](Database& d, const LoginOutcome& o) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare("INSERT INTO audit_stub VALUES (?)"));
    s->Bind(1, LoginOutcomeKindName(o.kind));
    return s->Run();
  };
  const auto login = [&](std::string_view pw, const IdentityStore::LoginHook& hook) {
    return id_->Login(LoginRequest{.login_id = "nsato", .password = std::string(pw)}, hook);
  };
  const IdentityStore::LoginHook broken = [](Database&, const LoginOutcome&) {
    return UnavailableError("audit log is full");
  };
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(login("Wrong#pw42", broken), StatusIs(StatusCode::kUnavailable));
  }
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM login_failures"), 0);  // Rolled back.
  for (int i = 0; i < 5; ++i) ASSERT_OK(login("Wrong#pw42", audit));
  ASSERT_OK(login(kPassword, audit));  // Locked out, and audited as such.
  clock_.Advance(1s);
  ASSERT_OK(login(kPassword, audit));
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM audit_stub WHERE kind = 'failed'"), 5);
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM audit_stub WHERE kind = 'locked_out'"), 1);
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM audit_stub WHERE kind = 'ok'"), 1);
}

// Attempts for one login id are serialised, so guesses sent in parallel each see the count
// the previous one left: exactly 5 are checked before the delay refuses the rest.
TEST_F(IdentityTest, ParallelGuessesCannotOutrunTheFailureCount_G65D4) {
  Person("nsato");
  constexpr int kThreads = 8;
  std::vector<LoginOutcome> outcomes(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Result<LoginOutcome> o =
          id_->Login(LoginRequest{.login_id = "nsato", .password = "Wrong#pw" + std::to_string(i)});
      if (o) outcomes[static_cast<std::size_t>(i)] = *o;
    });
  }
  for (std::thread& t : threads) t.join();
  const auto count = [&](LoginOutcome::Kind k) {
    return std::count_if(outcomes.begin(), outcomes.end(),
                         [k](const LoginOutcome& o) { return o.kind == k; });
  };
  EXPECT_EQ(count(LoginOutcome::Kind::kFailed), 5);
  EXPECT_EQ(count(LoginOutcome::Kind::kLockedOut), kThreads - 5);
  EXPECT_EQ(id_->password_verifications(), 5u);
}

// ---------------------------------------------------------------------------------------------
// Two-factor login (G-6.5-C13): TOTP, recovery codes, client certificates.

class TwoFactorTest : public IdentityTest {
 protected:
  // Enrols TOTP for `user`; returns the key the authenticator app holds.
  Bytes Enrol(const std::string& user, std::vector<std::string>* recovery_codes = nullptr) {
    Result<TotpEnrolment> e =
        InUnit([&](Database& d) { return id_->BeginTotpEnrolmentIn(d, user, "Hokan"); });
    EXPECT_OK(e);
    if (!e) return {};
    Result<Bytes> key = Base32Decode(e->secret_base32);
    EXPECT_OK(key);
    Result<TotpConfirmation> c =
        InUnit([&](Database& d) { return id_->ConfirmTotpIn(d, user, TotpCode(*key, UnixNow())); });
    EXPECT_OK(c);
    if (c && recovery_codes != nullptr) *recovery_codes = c->recovery_codes;
    return *key;
  }
  std::string CodeAt(const Bytes& key, std::chrono::seconds offset = 0s) {
    return TotpCode(key, UnixNow() + offset.count());
  }
};

TEST_F(TwoFactorTest, EnrolmentGivesAnOtpauthUriAndTenRecoveryCodes) {
  Person("nsato");
  Result<TotpEnrolment> e =
      InUnit([&](Database& d) { return id_->BeginTotpEnrolmentIn(d, "nsato", "Hokan Hospital"); });
  ASSERT_OK(e);
  EXPECT_EQ(e->secret_base32.size(), 32u);  // 160 bits, unpadded.
  EXPECT_EQ(e->otpauth_uri, "otpauth://totp/Hokan%20Hospital:nsato?secret=" + e->secret_base32 +
                                "&issuer=Hokan%20Hospital&algorithm=SHA1&digits=6&period=30");
  Result<Bytes> key = Base32Decode(e->secret_base32);
  ASSERT_OK(key);
  EXPECT_EQ(key->size(), 20u);

  // Not enrolled until confirmed with a code from the app.
  Result<User> u = Get("nsato");
  ASSERT_OK(u);
  EXPECT_FALSE(u->totp_enrolled);
  EXPECT_THAT(InUnit([&](Database& d) { return id_->ConfirmTotpIn(d, "nsato", "12345"); }),
              StatusIs(StatusCode::kInvalidArgument));
  const std::string wrong = TotpCode(*key, UnixNow() + 300);
  EXPECT_THAT(InUnit([&](Database& d) { return id_->ConfirmTotpIn(d, "nsato", wrong); }),
              StatusIs(StatusCode::kPermissionDenied));
  Result<TotpConfirmation> c = InUnit(
      [&](Database& d) { return id_->ConfirmTotpIn(d, "nsato", TotpCode(*key, UnixNow())); });
  ASSERT_OK(c);
  ASSERT_EQ(c->recovery_codes.size(), 10u);
  std::set<std::string> distinct(c->recovery_codes.begin(), c->recovery_codes.end());
  EXPECT_EQ(distinct.size(), 10u);
  u = Get("nsato");
  ASSERT_OK(u);
  EXPECT_TRUE(u->totp_enrolled);

  EXPECT_THAT(InUnit([&](Database& d) { return id_->ConfirmTotpIn(d, "nsato", "123456"); }),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->BeginTotpEnrolmentIn(d, "nsato", "a:b"); }),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->BeginTotpEnrolmentIn(d, "ghost", "Hokan"); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(TwoFactorTest, EnrolledUserNeedsTheSecondFactor_G65C13) {
  Person("nsato");
  const Bytes key = Enrol("nsato");
  clock_.Advance(30s);

  const LoginOutcome ask = Login("nsato", kPassword);
  EXPECT_EQ(ask.kind, LoginOutcome::Kind::kSecondFactorRequired);
  EXPECT_EQ(ask.user_id, "nsato");
  EXPECT_TRUE(ask.session_token.empty());
  // Two passwords are two steps, not two factors: a second password is just a wrong code.
  EXPECT_EQ(Login("nsato", kPassword, std::string(kPassword)), LoginOutcome{});
  // A wrong code fails exactly like a wrong password, and counts.
  std::string wrong = CodeAt(key) == "000000" ? "000001" : "000000";
  EXPECT_EQ(Login("nsato", kPassword, wrong), LoginOutcome{});
  EXPECT_EQ(QueryInt(*this, "SELECT failures FROM login_failures WHERE login_key = 'nsato'"), 2);
  // A wrong password with the right code is still a plain failure.
  EXPECT_EQ(Login("nsato", "Wrong#pw42", CodeAt(key)), LoginOutcome{});

  const std::string code = CodeAt(key);
  const LoginOutcome ok = Login("nsato", kPassword, code.substr(0, 3) + " " + code.substr(3));
  ASSERT_EQ(ok.kind, LoginOutcome::Kind::kOk);
  EXPECT_FALSE(ok.session.restricted);
  EXPECT_THAT(ok.session.factors, ElementsAre(Factor::kPassword, Factor::kTotp));
}

TEST_F(TwoFactorTest, TotpCodeCannotBeReplayed) {
  Person("nsato");
  const Bytes key = Enrol("nsato");
  // The code used to confirm cannot log in.
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key)), LoginOutcome{});
  clock_.Advance(30s);
  const std::string code = CodeAt(key);
  EXPECT_EQ(Login("nsato", kPassword, code).kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(Login("nsato", kPassword, code), LoginOutcome{});
  // Nor after a restart.
  Open();
  EXPECT_EQ(Login("nsato", kPassword, code), LoginOutcome{});
}

TEST_F(TwoFactorTest, TotpAcceptsOneStepEitherSide) {
  Person("nsato");
  const Bytes key = Enrol("nsato");
  clock_.Advance(10min);
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key, -60s)), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key, -30s)).kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key, 60s)), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key, 30s)).kind, LoginOutcome::Kind::kOk);
  // Steps before the newest used one are spent too.
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(key)), LoginOutcome{});
}

TEST_F(TwoFactorTest, RecoveryCodeWorksOnce) {
  Person("nsato");
  std::vector<std::string> codes;
  Enrol("nsato", &codes);
  ASSERT_EQ(codes.size(), 10u);
  // As typed from paper: upper case, no dashes.
  std::string typed;
  for (char c : codes[3]) {
    if (c != '-') typed.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  const LoginOutcome ok = Login("nsato", kPassword, typed);
  ASSERT_EQ(ok.kind, LoginOutcome::Kind::kOk);
  EXPECT_THAT(ok.session.factors, ElementsAre(Factor::kPassword, Factor::kRecoveryCode));
  EXPECT_EQ(Login("nsato", kPassword, codes[3]), LoginOutcome{});
  EXPECT_EQ(Login("nsato", kPassword, codes[4]).kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(Login("nsato", kPassword, "abcd-efgh-ijkl"), LoginOutcome{});
}

TEST_F(TwoFactorTest, ReenrolmentReplacesSecretAndRecoveryCodes) {
  Person("nsato");
  std::vector<std::string> old_codes;
  const Bytes old_key = Enrol("nsato", &old_codes);
  clock_.Advance(30s);
  std::vector<std::string> new_codes;
  const Bytes new_key = Enrol("nsato", &new_codes);
  clock_.Advance(30s);
  EXPECT_EQ(Login("nsato", kPassword, old_codes[0]), LoginOutcome{});
  if (CodeAt(old_key) != CodeAt(new_key)) {
    EXPECT_EQ(Login("nsato", kPassword, CodeAt(old_key)), LoginOutcome{});
  }
  EXPECT_EQ(Login("nsato", kPassword, CodeAt(new_key)).kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(Login("nsato", kPassword, new_codes[0]).kind, LoginOutcome::Kind::kOk);
}

TEST_F(TwoFactorTest, AdministratorResetsALostSecondFactor) {
  Person("nsato");
  Person("admin1", {"admin"});
  Enrol("nsato");
  clock_.Advance(30s);
  ASSERT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kSecondFactorRequired);
  EXPECT_THAT(InUnit([&](Database& d) { return id_->ResetSecondFactorIn(d, "admin1", "admin1"); }),
              StatusIs(StatusCode::kPermissionDenied));
  ASSERT_OK(InUnit([&](Database& d) { return id_->ResetSecondFactorIn(d, "nsato", "admin1"); }));
  const LoginOutcome o = Login("nsato", kPassword);
  ASSERT_EQ(o.kind, LoginOutcome::Kind::kOk);
  EXPECT_TRUE(o.session.restricted);  // Enrol again before anything else.
}

TEST_F(TwoFactorTest, TotpSecretIsEncryptedAndBoundToItsUser) {
  Person("nsato");
  Person("hito");
  const Bytes key = Enrol("nsato");
  Result<Bytes> sealed = InRead([&](Database& d) -> Result<Bytes> {
    HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare("SELECT sealed_secret FROM totp_secrets"));
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFoundError("no row");
    Bytes value = s->ColumnBlob(0);
    HK_ASSIGN_OR_RETURN(bool more, s->Step());  // Done: release the snapshot.
    EXPECT_FALSE(more);
    return value;
  });
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->size(), key.size() + kAeadOverhead);
  EXPECT_EQ(std::search(sealed->begin(), sealed->end(), key.begin(), key.end()), sealed->end());

  // Deleting the secret does not switch two-factor login off: the enrolled flag is under the
  // user row's MAC, so the missing secret is reported.
  Tamper("DELETE FROM totp_secrets");
  clock_.Advance(30s);
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kSecondFactorRequired);
  EXPECT_THAT(
      id_->Login(LoginRequest{
          .login_id = "nsato", .password = std::string(kPassword), .second_factor = CodeAt(key)}),
      StatusIs(StatusCode::kDataLoss));
}

TEST_F(TwoFactorTest, ClientCertificateIsAPossessionFactor_G65C13) {
  Person("nsato");
  Person("hito");
  const std::string fp(64, 'a');
  std::string typed;  // "AA:AA:..." as a TLS tool prints it.
  for (int i = 0; i < 32; ++i) typed += (i > 0 ? ":AA" : "AA");
  Result<ClientCertBinding> b =
      InUnit([&](Database& d) { return id_->BindClientCertIn(d, "nsato", typed); });
  ASSERT_OK(b);
  EXPECT_EQ(b->fingerprint, fp);
  EXPECT_THAT(InUnit([&](Database& d) { return id_->BindClientCertIn(d, "hito", fp); }),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->BindClientCertIn(d, "hito", "abc"); }),
              StatusIs(StatusCode::kInvalidArgument));

  const LoginOutcome with = Login("nsato", kPassword, "", fp);
  ASSERT_EQ(with.kind, LoginOutcome::Kind::kOk);
  EXPECT_FALSE(with.session.restricted);
  EXPECT_THAT(with.session.factors, ElementsAre(Factor::kPassword, Factor::kClientCertificate));
  // Without the certificate (or with someone else's) the possession factor is missing.
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kSecondFactorRequired);
  EXPECT_EQ(Login("nsato", kPassword, "", std::string(64, 'b')).kind,
            LoginOutcome::Kind::kSecondFactorRequired);
  // Another user presenting nsato's certificate gains nothing from it.
  EXPECT_TRUE(Login("hito", kPassword, "", fp).session.restricted);

  Result<User> owner = InRead([&](Database& d) { return id_->UserForClientCert(d, fp); });
  ASSERT_OK(owner);
  EXPECT_EQ(owner->id, "nsato");
  Result<std::vector<ClientCertBinding>> listed =
      InRead([&](Database& d) { return id_->ListClientCerts(d, "nsato"); });
  ASSERT_OK(listed);
  EXPECT_THAT(*listed, ElementsAre(*b));
  ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "nsato", true); }));
  EXPECT_THAT(InRead([&](Database& d) { return id_->UserForClientCert(d, fp); }),
              StatusIs(StatusCode::kUnauthenticated));

  // Rebinding the certificate to someone else in the database is caught.
  Tamper("UPDATE client_certs SET user_id = 'hito'");
  EXPECT_THAT(InRead([&](Database& d) { return id_->UserForClientCert(d, fp); }),
              StatusIs(StatusCode::kDataLoss));
  Tamper("DELETE FROM client_certs");
  EXPECT_THAT(InUnit([&](Database& d) { return id_->UnbindClientCertIn(d, fp); }),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(InRead([&](Database& d) { return id_->UserForClientCert(d, fp); }),
              StatusIs(StatusCode::kNotFound));
}

// ---------------------------------------------------------------------------------------------
// Sessions.

// Recording a session's use is a durable write: at most once a minute. A read transaction
// can check a session without writing and learn whether the write is due.
TEST_F(IdentityTest, SessionUseIsRecordedAtMostOncePerTouchInterval) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  const TimePoint signed_in = clock_.Now();
  clock_.Advance(30s);
  bool due = true;
  Result<ResolvedSession> peek = InRead([&](Database& d) -> Result<ResolvedSession> {
    return id_->PeekSession(d, o.session_token, due);
  });
  ASSERT_OK(peek);
  EXPECT_FALSE(due);
  EXPECT_EQ(peek->user.id, "nsato");
  Result<ResolvedSession> r = Resolve(o.session_token);
  ASSERT_OK(r);
  EXPECT_EQ(r->session.last_seen, signed_in);  // Not written: within the interval.
  clock_.Advance(31s);
  peek = InRead([&](Database& d) -> Result<ResolvedSession> {
    return id_->PeekSession(d, o.session_token, due);
  });
  ASSERT_OK(peek);
  EXPECT_TRUE(due);
  r = Resolve(o.session_token);
  ASSERT_OK(r);
  EXPECT_EQ(r->session.last_seen, clock_.Now());
  EXPECT_THAT(InRead([&](Database& d) -> Result<ResolvedSession> {
                return id_->PeekSession(d, "not-a-token", due);
              }),
              StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, SessionLocksAfterFifteenIdleMinutes) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(15min - 1s);
    Result<ResolvedSession> r = Resolve(o.session_token);
    ASSERT_OK(r);
    EXPECT_EQ(r->session.last_seen, clock_.Now());
  }
  clock_.Advance(15min);
  Result<ResolvedSession> r = Resolve(o.session_token);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(r.error().message(), HasSubstr("locked after 15 minutes"));
  // Unlocking is signing in again.
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kOk);
}

TEST_F(IdentityTest, SessionEndsAfterTwelveHoursHoweverBusy) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  for (int i = 0; i < 12 * 6 - 1; ++i) {
    clock_.Advance(10min);
    ASSERT_OK(Resolve(o.session_token)) << i;
  }
  clock_.Advance(10min);
  Result<ResolvedSession> r = Resolve(o.session_token);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(r.error().message(), HasSubstr("ended after 12 hours"));
}

TEST_F(IdentityTest, LogoutRevokesTheSession) {
  Person("nsato");
  const LoginOutcome a = Login("nsato", kPassword);
  const LoginOutcome b = Login("nsato", kPassword);
  ASSERT_OK(InUnit([&](Database& d) { return id_->RevokeSessionIn(d, a.session.id); }));
  EXPECT_THAT(Resolve(a.session_token), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_OK(Resolve(b.session_token));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->RevokeSessionIn(d, a.session.id); }),
              StatusIs(StatusCode::kNotFound));
  Result<int> n = InUnit([&](Database& d) { return id_->RevokeUserSessionsIn(d, "nsato"); });
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1);
  EXPECT_THAT(Resolve(b.session_token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, SessionOfADisabledAccountStopsWorking) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "nsato", true); }));
  EXPECT_THAT(Resolve(o.session_token), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(IdentityTest, MalformedOrUnknownTokensAreUnauthenticated) {
  for (const std::string& token :
       {std::string(), std::string("x"), std::string(64, 'g'), std::string(64, 'A'),
        std::string(64, 'a'), std::string(65, 'a')}) {
    EXPECT_THAT(Resolve(token), StatusIs(StatusCode::kUnauthenticated));
  }
}

TEST_F(IdentityTest, SessionTokensAreStoredOnlyAsSha256) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  Result<Bytes> stored = InRead([&](Database& d) -> Result<Bytes> {
    HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare("SELECT token_sha256 FROM sessions"));
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFoundError("no row");
    Bytes value = s->ColumnBlob(0);
    HK_ASSIGN_OR_RETURN(bool more, s->Step());  // Done: release the snapshot.
    EXPECT_FALSE(more);
    return value;
  });
  ASSERT_OK(stored);
  const Sha256Digest expected = Sha256(AsBytes(o.session_token));
  EXPECT_EQ(*stored, Bytes(expected.begin(), expected.end()));
  EXPECT_EQ(QueryInt(*this, "SELECT COUNT(*) FROM sessions WHERE session_id = '" + o.session_token +
                                "' OR factors LIKE '%" + o.session_token + "%'"),
            0);
}

// A row edited to hand someone's session to the administrator, or to lift its restriction,
// is refused.
TEST_F(IdentityTest, ForgedSessionRowIsDataLoss) {
  Person("nsato");
  Person("admin1", {"admin"});
  const LoginOutcome o = Login("nsato", kPassword);
  Tamper("UPDATE sessions SET restricted = 0");
  EXPECT_THAT(Resolve(o.session_token), StatusIs(StatusCode::kDataLoss));
  Tamper("UPDATE sessions SET restricted = 1, user_id = 'admin1'");
  EXPECT_THAT(Resolve(o.session_token), StatusIs(StatusCode::kDataLoss));
}

TEST_F(TwoFactorTest, ReauthenticationRenewsAuthenticatedAt) {
  Person("nsato");
  const LoginOutcome o = Login("nsato", kPassword);
  const auto reauth = [&](std::string_view pw, std::string code = "") {
    Result<LoginOutcome> r = id_->Reauthenticate(
        o.session_token,
        LoginRequest{.password = std::string(pw), .second_factor = std::move(code)});
    EXPECT_OK(r);
    return r ? *r : LoginOutcome{};
  };
  clock_.Advance(10min);
  Result<ResolvedSession> r = Resolve(o.session_token);
  ASSERT_OK(r);
  EXPECT_FALSE(RecentlyAuthenticated(r->session, clock_.Now()));
  EXPECT_TRUE(RecentlyAuthenticated(r->session, clock_.Now(), 10min));

  EXPECT_EQ(reauth("Wrong#pw42"), LoginOutcome{});
  const LoginOutcome again = reauth(kPassword);
  ASSERT_EQ(again.kind, LoginOutcome::Kind::kOk);
  EXPECT_EQ(again.session.id, o.session.id);
  EXPECT_EQ(again.session.authenticated_at, clock_.Now());
  EXPECT_TRUE(again.session_token.empty());  // The session keeps its token.
  r = Resolve(o.session_token);
  ASSERT_OK(r);
  EXPECT_TRUE(RecentlyAuthenticated(r->session, clock_.Now()));
  EXPECT_EQ(r->session.created_at, o.session.created_at);

  // Once enrolled, re-authentication needs the second factor as well.
  const Bytes key = Enrol("nsato");
  clock_.Advance(30s);
  EXPECT_EQ(reauth(kPassword).kind, LoginOutcome::Kind::kSecondFactorRequired);
  EXPECT_EQ(reauth(kPassword, CodeAt(key)).kind, LoginOutcome::Kind::kOk);

  // Failures count toward the same lockout as logins.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(reauth("Wrong#pw42"), LoginOutcome{});
  EXPECT_EQ(reauth(kPassword).kind, LoginOutcome::Kind::kLockedOut);
  EXPECT_EQ(Login("nsato", kPassword).kind, LoginOutcome::Kind::kLockedOut);

  EXPECT_THAT(id_->Reauthenticate(std::string(64, 'a'), LoginRequest{.password = "x"}),
              StatusIs(StatusCode::kUnauthenticated));
  clock_.Advance(15min);
  EXPECT_THAT(
      id_->Reauthenticate(o.session_token, LoginRequest{.password = std::string(kPassword)}),
      StatusIs(StatusCode::kUnauthenticated));
}

// ---------------------------------------------------------------------------------------------
// API tokens.

class ApiTokenTest : public IdentityTest {
 protected:
  void SetUp() override {
    IdentityTest::SetUp();
    ASSERT_OK(Create(NewUser{.id = "lab-system",
                             .display_name = "Laboratory system",
                             .kind = UserKind::kSystem,
                             .roles = {"records_writer"}}));
  }
  Result<NewApiToken> Make(std::vector<std::string> scopes = {"records:write"},
                           std::chrono::seconds lifetime = 24h * 90,
                           const std::string& user = "lab-system") {
    return InUnit([&](Database& d) {
      return id_->CreateApiTokenIn(d, user, scopes, clock_.Now() + lifetime);
    });
  }
  Result<ResolvedApiToken> ResolveToken(const std::string& token) {
    return InUnit([&](Database& d) { return id_->ResolveApiTokenIn(d, token); });
  }
};

TEST_F(ApiTokenTest, CreateResolveListAndRevoke) {
  Result<NewApiToken> t = Make({"records:write", "patients:read"});
  ASSERT_OK(t);
  EXPECT_THAT(t->token, StartsWith("hkt_" + t->info.token_id + "_"));
  EXPECT_EQ(t->token.size(), 4u + 16 + 1 + 64);
  EXPECT_EQ(t->info.user_id, "lab-system");
  EXPECT_EQ(t->info.expires_at, clock_.Now() + 24h * 90);

  clock_.Advance(1min);
  Result<ResolvedApiToken> r = ResolveToken(t->token);
  ASSERT_OK(r);
  EXPECT_EQ(r->token.token_id, t->info.token_id);
  EXPECT_THAT(r->token.scopes, ElementsAre("records:write", "patients:read"));
  EXPECT_EQ(r->user.id, "lab-system");
  EXPECT_EQ(r->token.last_used_at, clock_.Now());

  Result<std::vector<ApiTokenInfo>> listed =
      InRead([&](Database& d) { return id_->ListApiTokens(d, "lab-system"); });
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0], r->token);

  ASSERT_OK(InUnit([&](Database& d) { return id_->RevokeApiTokenIn(d, t->info.token_id); }));
  Result<ResolvedApiToken> revoked = ResolveToken(t->token);
  EXPECT_THAT(revoked, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(revoked.error().message(), HasSubstr("revoked"));
  EXPECT_OK(InUnit([&](Database& d) { return id_->RevokeApiTokenIn(d, t->info.token_id); }));
  EXPECT_THAT(InUnit([&](Database& d) { return id_->RevokeApiTokenIn(d, "0000000000000000"); }),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(ApiTokenTest, TokenExpires) {
  Result<NewApiToken> t = Make({"records:write"}, 1h);
  ASSERT_OK(t);
  clock_.Advance(1h - 1ms);
  EXPECT_OK(ResolveToken(t->token));
  clock_.Advance(1ms);
  Result<ResolvedApiToken> r = ResolveToken(t->token);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(r.error().message(), HasSubstr("expired"));
}

TEST_F(ApiTokenTest, CreationRules) {
  EXPECT_OK(Make({"records:write"}, 24h * 366));
  EXPECT_THAT(Make({"records:write"}, 24h * 367), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({"records:write"}, 0s), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({"Records Write"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({"a,b"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Make({"x", "x"}), StatusIs(StatusCode::kInvalidArgument));
  Person("nsato");
  EXPECT_THAT(Make({"records:write"}, 24h, "nsato"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(Make({"records:write"}, 24h, "ghost"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "lab-system", true); }));
  EXPECT_THAT(Make(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ApiTokenTest, WrongOrMalformedTokensAreUnauthenticated) {
  Result<NewApiToken> t = Make();
  ASSERT_OK(t);
  std::string wrong_secret = t->token;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  std::string upper = t->token;  // Hex digits are lower case; the same digits upper-cased differ.
  const std::size_t letter = upper.find_first_of("abcdef", 4);
  ASSERT_NE(letter, std::string::npos);
  upper[letter] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[letter])));
  for (const std::string& bad :
       {wrong_secret, t->token.substr(0, t->token.size() - 1), t->token + "0",
        "hkx" + t->token.substr(3), std::string(), std::string("hkt_"), upper}) {
    Result<ResolvedApiToken> r = ResolveToken(bad);
    EXPECT_THAT(r, StatusIs(StatusCode::kUnauthenticated));
    EXPECT_EQ(r.error().message(), "API token is not valid");
  }
}

TEST_F(ApiTokenTest, TokenOfADisabledAccountIsRefused) {
  Result<NewApiToken> t = Make();
  ASSERT_OK(t);
  ASSERT_OK(InUnit([&](Database& d) { return id_->SetDisabledIn(d, "lab-system", true); }));
  EXPECT_THAT(ResolveToken(t->token), StatusIs(StatusCode::kUnauthenticated));
}

// Revocation, scopes, expiry and owner are under the row MAC.
TEST_F(ApiTokenTest, EditedTokenRowIsDataLoss) {
  Result<NewApiToken> t = Make();
  ASSERT_OK(t);
  ASSERT_OK(InUnit([&](Database& d) { return id_->RevokeApiTokenIn(d, t->info.token_id); }));
  for (const std::string edit :
       {"UPDATE api_tokens SET revoked_at = NULL", "UPDATE api_tokens SET scopes = 'admin'",
        "UPDATE api_tokens SET expires_at = expires_at + 1"}) {
    SCOPED_TRACE(edit);
    Tamper(
        "CREATE TABLE IF NOT EXISTS saved AS SELECT * FROM api_tokens WHERE 0;"
        "DELETE FROM saved; INSERT INTO saved SELECT * FROM api_tokens;" +
        edit);
    EXPECT_THAT(ResolveToken(t->token), StatusIs(StatusCode::kDataLoss));
    Tamper("DELETE FROM api_tokens; INSERT INTO api_tokens SELECT * FROM saved;");
  }
}

// ---------------------------------------------------------------------------------------------
// No secret ever appears in a message.

TEST_F(TwoFactorTest, MessagesNeverContainSecrets) {
  Person("nsato");
  Person("admin1", {"admin"});
  const std::string secret_pw = "Se#cret77pw";
  std::vector<Status> statuses = {
      id_->SetPassword("nsato", secret_pw, PasswordProof::CurrentPassword(secret_pw)).error(),
      id_->SetPassword("nsato", "short", PasswordProof::CurrentPassword(std::string(kPassword)))
          .error(),
      id_->SetPassword("nsato", secret_pw, PasswordProof::ResetCode("zzzz-yyyy-xxxx")).error(),
      InUnit([&](Database& d) { return id_->ConsumeSetupSecretIn(d, "qqqq-wwww-eeee"); }),
      InUnit([&](Database& d) { return id_->ResolveApiTokenIn(d, "hkt_" + secret_pw); }).error(),
      InUnit([&](Database& d) { return id_->ResolveSessionIn(d, secret_pw); }).error(),
      id_->Reauthenticate(secret_pw, LoginRequest{.password = secret_pw}).error(),
  };
  for (const Status& st : statuses) {
    ASSERT_FALSE(st.ok());
    for (const std::string_view secret :
         {std::string_view(secret_pw), std::string_view("short"), std::string_view("zzzz"),
          std::string_view("qqqq"), std::string_view(kPassword)}) {
      EXPECT_THAT(st.message(), Not(HasSubstr(std::string(secret)))) << st;
    }
  }
}

std::int64_t QueryInt(IdentityTest& t, const std::string& sql) {
  Result<std::int64_t> v = t.InRead([&](Database& d) -> Result<std::int64_t> {
    HK_ASSIGN_OR_RETURN(Statement * s, d.Prepare(sql));
    HK_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return NotFoundError("no row");
    const std::int64_t value = s->ColumnInt(0);
    HK_ASSIGN_OR_RETURN(bool more, s->Step());  // Done: release the snapshot.
    EXPECT_FALSE(more);
    return value;
  });
  EXPECT_OK(v);
  return v ? *v : -1;
}
}  // namespace
}  // namespace hokan
