#include "store/sqlite.h"

#include <sqlite3.h>

#include <map>

namespace hokan {

struct Database::Cache {
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> statements;
};

Status SqliteStatus(int rc, std::string_view what, sqlite3* db) {
  const int primary = rc & 0xff;
  std::string msg =
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (primary) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return OkStatus();
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
    case SQLITE_PROTOCOL:
      return UnavailableError(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(msg));
    case SQLITE_CANTOPEN:
      return UnavailableError(std::move(msg));  // Callers check existence.
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(std::move(msg));
    case SQLITE_CONSTRAINT:
      return FailedPreconditionError(std::move(msg));
    default:
      return InternalError(std::move(msg));
  }
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags,
                                 options.vfs.empty() ? nullptr : options.vfs.c_str());
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(rc, "open metadata database " + path, raw);
    sqlite3_close_v2(raw);
    return st;
  }
  const bool exclusive = !options.vfs.empty();
  std::unique_ptr<Database> db(new Database(raw, path, exclusive));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  std::string pragmas;
  if (exclusive) pragmas += "PRAGMA locking_mode=EXCLUSIVE;";
  if (!options.read_only) pragmas += "PRAGMA journal_mode=WAL;";
  pragmas += options.sync ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;";
  pragmas += "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;";
  HK_RETURN_IF_ERROR(db->Exec(pragmas).WithContext("open metadata database " + path));
  return db;
}

Database::Database(sqlite3* db, std::string path, bool exclusive)
    : db_(db), path_(std::move(path)), exclusive_(exclusive), cache_(std::make_unique<Cache>()) {}

Database::~Database() {
  cache_.reset();  // Finalise statements before closing.
  sqlite3_close_v2(db_);
}

Status Database::CopyTo(const std::string& path) {
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &dest,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  auto close_dest = [&] { sqlite3_close_v2(dest); };
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(rc, "create database copy " + path, dest);
    close_dest();
    return st;
  }
  // The name must be new: a copy never lands on an existing database.
  sqlite3_int64 pages = 0;
  sqlite3_stmt* count = nullptr;
  rc = sqlite3_prepare_v2(dest, "PRAGMA page_count", -1, &count, nullptr);
  if (rc == SQLITE_OK && sqlite3_step(count) == SQLITE_ROW) pages = sqlite3_column_int64(count, 0);
  sqlite3_finalize(count);
  if (rc == SQLITE_OK && pages != 0) {
    close_dest();
    return AlreadyExistsError("database copy " + path + " already exists");
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(dest, "PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteStatus(rc, "create database copy " + path, dest);
    close_dest();
    return st;
  }
  sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main");
  if (b == nullptr) {
    Status st = SqliteStatus(sqlite3_errcode(dest), "copy database to " + path, dest);
    close_dest();
    return st;
  }
  // -1: every page in one step, under one read transaction on the source.
  rc = sqlite3_backup_step(b, -1);
  const int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    Status st = SqliteStatus(rc, "copy database to " + path, dest);
    close_dest();
    return st;
  }
  if (finish != SQLITE_OK) {
    Status st = SqliteStatus(finish, "copy database to " + path, dest);
    close_dest();
    return st;
  }
  // The copy keeps the source's journal mode in its header; make it a plain file so it is
  // complete without a -wal beside it.
  rc = sqlite3_exec(dest, "PRAGMA journal_mode=DELETE;", nullptr, nullptr, nullptr);
  Status st = rc == SQLITE_OK ? OkStatus() : SqliteStatus(rc, "finish database copy " + path, dest);
  rc = sqlite3_close_v2(dest);
  if (st.ok() && rc != SQLITE_OK) st = SqliteStatus(rc, "close database copy " + path, nullptr);
  return st;
}

void Database::ResetStatements() {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s != nullptr;
       s = sqlite3_next_stmt(db_, s)) {
    if (sqlite3_stmt_busy(s) != 0) (void)sqlite3_reset(s);
  }
}

Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "metadata database", db_);
  return OkStatus();
}

Result<Statement*> Database::Prepare(std::string_view sql) {
  auto it = cache_->statements.find(sql);
  if (it != cache_->statements.end()) {
    Statement* s = it->second.get();
    sqlite3_reset(s->stmt_);
    sqlite3_clear_bindings(s->stmt_);
    s->bind_error_ = OkStatus();
    return s;
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(rc, "prepare statement", db_);
  }
  auto owned = std::unique_ptr<Statement>(new Statement(*this, stmt));
  Statement* s = owned.get();
  cache_->statements.emplace(std::string(sql), std::move(owned));
  return s;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Error(int rc) const { return SqliteStatus(rc, "metadata database", db_.db_); }

Statement& Statement::Bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::BindBlob(int index, ByteView blob) {
  // A zero-length blob must still bind as a blob, not NULL.
  static const std::uint8_t kEmpty = 0;
  const int rc = sqlite3_bind_blob64(stmt_, index, blob.empty() ? &kEmpty : blob.data(),
                                     blob.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Statement& Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = Error(rc);
  return *this;
}

Result<bool> Statement::Step() {
  HK_RETURN_IF_ERROR(bind_error_);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = Error(rc);
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::Run() {
  HK_ASSIGN_OR_RETURN(const bool row, Step());
  (void)row;
  sqlite3_reset(stmt_);
  return OkStatus();
}

std::int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::ColumnText(int index) const { return std::string(ColumnTextView(index)); }

std::string_view Statement::ColumnTextView(int index) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

Bytes Statement::ColumnBlob(int index) const {
  const ByteView v = ColumnBlobView(index);
  return Bytes(v.begin(), v.end());
}

ByteView Statement::ColumnBlobView(int index) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

}  // namespace hokan
