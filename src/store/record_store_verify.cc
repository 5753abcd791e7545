// RecordStore::Verify and the orphan sweep: the store's side of `hokan verify`.
#include <array>
#include <cstdio>

#include "base/encoding.h"
#include "store/internal/rows.h"
#include "store/record_store.h"

namespace hokan {
namespace {

std::string ShardName(int i) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02x", i);
  return buf;
}

// The first blob id of the next shard ("3f" -> "40"; "ff" -> "g", above every hex id).
std::string NextShard(int i) { return i == 255 ? "g" : ShardName(i + 1); }

std::string VersionName(const VersionInfo& v) {
  return "version " + v.record_id + "/" + std::to_string(v.version);
}

}  // namespace

Status RecordStore::VerifyShard(const std::string& shard, VerifySink& sink, std::uint64_t& checked,
                                std::uint64_t total) {
  HK_ASSIGN_OR_RETURN(std::vector<std::string> files, blobs_.ListShard(shard));
  std::size_t f = 0;
  // A file the rows have passed by is referenced by none of them.
  auto report_unreferenced = [&](const std::string& name) {
    sink.Report({"blob " + shard + "/" + name,
                 IsBlobId(name) ? "orphan: no version refers to it (left by an interrupted "
                                  "write; `hokan sweep` removes it)"
                                : "stray file in the blob directory",
                 false});
  };
  // Rows stream in blob-id order and merge with the sorted file names, so memory holds one
  // row at a time (plus the shard's names), however large the store.
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(
        Statement * s,
        db.Prepare(std::string("SELECT ") + std::string(store_internal::kVersionColumns) +
                   " FROM versions v LEFT JOIN records r USING (record_id) "
                   "WHERE v.blob_id >= ?1 AND v.blob_id < ?2 ORDER BY v.blob_id"));
    s->Bind(1, shard).Bind(2, NextShard(std::stoi(shard, nullptr, 16)));
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      const VersionInfo v = store_internal::ReadVersionRow(*s);
      const bool mac_ok =
          ConstantTimeEqual(s->ColumnBlobView(store_internal::kVersionMacColumn), VersionMac(v));
      while (f < files.size() && files[f] < v.blob_id) report_unreferenced(files[f++]);
      const bool has_file = f < files.size() && files[f] == v.blob_id;
      if (has_file) ++f;
      if (!mac_ok) {
        sink.Report({VersionName(v), "version row was altered (its MAC does not match)"});
      } else if (!has_file) {
        sink.Report({VersionName(v), "its blob " + v.blob_id + " is missing"});
      } else {
        Result<Bytes> content = ReadContent(v);
        if (!content) sink.Report({VersionName(v), content.error().message()});
      }
      ++checked;
    }
    return OkStatus();
  }));
  while (f < files.size()) report_unreferenced(files[f++]);
  sink.Progress("versions", checked, total);
  return OkStatus();
}

Status RecordStore::Verify(VerifySink& sink) {
  // The database file itself first: SQLite's own structural check (pages, indexes).
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("PRAGMA quick_check"));
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      const std::string line = s->ColumnText(0);
      if (line != "ok") sink.Report({"metadata database", "structure is damaged: " + line});
    }
    return OkStatus();
  }));

  std::uint64_t total = 0;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT COUNT(*) FROM versions"));
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (row) total = static_cast<std::uint64_t>(s->ColumnInt(0));
    return s->Run();
  }));

  std::uint64_t checked = 0;
  for (int i = 0; i < 256; ++i) {
    HK_RETURN_IF_ERROR(VerifyShard(ShardName(i), sink, checked, total));
  }

  return db_.Read([&](Database& db) -> Status {
    // Rows whose blob id is not an id at all (no shard holds them).
    {
      HK_ASSIGN_OR_RETURN(Statement * s,
                          db.Prepare("SELECT record_id, version FROM versions "
                                     "WHERE length(blob_id) != 32 OR blob_id GLOB '*[^0-9a-f]*'"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        sink.Report({"version " + s->ColumnText(0) + "/" + std::to_string(s->ColumnInt(1)),
                     "version row was altered (malformed blob id)"});
      }
    }
    // Record rows: MAC, and versions dense from 1.
    {
      HK_ASSIGN_OR_RETURN(
          Statement * s,
          db.Prepare("SELECT r.record_id, r.patient_id, r.type, r.created_at, r.row_mac, "
                     "COUNT(v.version), MIN(v.version), MAX(v.version) "
                     "FROM records r LEFT JOIN versions v USING (record_id) "
                     "GROUP BY r.record_id ORDER BY r.record_id"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        const std::string id = s->ColumnText(0);
        if (!ConstantTimeEqual(
                s->ColumnBlobView(4),
                RecordMac(id, s->ColumnText(1), s->ColumnText(2), s->ColumnText(3)))) {
          sink.Report({"record " + id, "record row was altered (its MAC does not match)"});
        }
        const std::int64_t count = s->ColumnInt(5);
        if (count == 0) {
          sink.Report({"record " + id, "has no versions (version rows were deleted)"});
        } else if (s->ColumnInt(6) != 1 || s->ColumnInt(7) != count) {
          sink.Report({"record " + id, "version numbers are not 1.." + std::to_string(count) +
                                           " (a version row was deleted or renumbered)"});
        }
      }
    }
    // Versions and states of records that do not exist.
    {
      HK_ASSIGN_OR_RETURN(
          Statement * s,
          db.Prepare("SELECT DISTINCT record_id FROM ("
                     "SELECT record_id FROM versions UNION ALL SELECT record_id FROM record_states)"
                     " WHERE record_id NOT IN (SELECT record_id FROM records)"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        sink.Report({"record " + s->ColumnText(0), "record row is missing"});
      }
    }
    // State rows: MAC.
    {
      HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string("SELECT record_id, ") +
                                                    std::string(store_internal::kStateColumns) +
                                                    " FROM record_states"));
      while (true) {
        HK_ASSIGN_OR_RETURN(const bool row, s->Step());
        if (!row) break;
        const std::string id = s->ColumnText(0);
        const RecordState st = store_internal::ReadStateRow(*s, 1);
        if (!ConstantTimeEqual(s->ColumnBlobView(1 + store_internal::kStateColumnCount),
                               StateMac(id, st))) {
          sink.Report({"record " + id + " state " + std::to_string(st.state_no),
                       "state row was altered (its MAC does not match)"});
        }
      }
    }
    return OkStatus();
  });
}

Result<std::vector<std::string>> RecordStore::SweepOrphans(std::chrono::seconds min_age) {
  std::vector<std::string> removed;
  const auto now = env_.clock.Now();
  for (int i = 0; i < 256; ++i) {
    const std::string shard = ShardName(i);
    HK_ASSIGN_OR_RETURN(std::vector<std::string> files, blobs_.ListShard(shard));
    for (const std::string& name : files) {
      if (!IsBlobId(name)) continue;  // Not ours to remove: reported by verify.
      bool referenced = true;
      HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
        HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT 1 FROM versions WHERE blob_id = ?1"));
        s->Bind(1, name);
        HK_ASSIGN_OR_RETURN(referenced, s->Step());
        return s->Run();
      }));
      if (referenced) continue;
      HK_ASSIGN_OR_RETURN(FileInfo info, blobs_.Stat(name));
      if (now - info.modified < min_age) continue;  // May be a write still in flight.
      HK_RETURN_IF_ERROR(blobs_.Remove(name));
      removed.push_back(name);
    }
  }
  return removed;
}

}  // namespace hokan
