// How a version row is read: the one column list and decoder shared by the record store's
// reads and its verification. Columns 0-13 fill a VersionInfo; column 14 is the row MAC.
#pragma once

#include <string_view>

#include "store/record_store.h"
#include "store/sqlite.h"

namespace hokan::store_internal {

// Select from "versions v" joined with "records r".
inline constexpr std::string_view kVersionColumns =
    "v.record_id, v.version, v.version_id, r.patient_id, r.type, v.sha256, v.size, "
    "v.media_type, v.author, v.entered_at, v.source, v.audit_seq, v.blob_id, v.wrapped_key, "
    "v.row_mac";
inline constexpr int kVersionMacColumn = 14;

inline VersionInfo ReadVersionRow(const Statement& s) {
  VersionInfo v;
  v.record_id = s.ColumnText(0);
  v.version = s.ColumnInt(1);
  v.version_id = s.ColumnText(2);
  v.patient_id = s.ColumnText(3);
  v.record_type = s.ColumnText(4);
  v.sha256 = s.ColumnText(5);
  v.size = static_cast<std::uint64_t>(s.ColumnInt(6));
  v.media_type = s.ColumnText(7);
  v.author = s.ColumnText(8);
  v.entered_at = s.ColumnText(9);
  v.source = s.ColumnText(10);
  v.audit_seq = static_cast<std::uint64_t>(s.ColumnInt(11));
  v.blob_id = s.ColumnText(12);
  v.wrapped_key = s.ColumnBlob(13);
  return v;
}

}  // namespace hokan::store_internal
