// How version and state rows are read: the column lists and decoders shared by the record
// store's reads and its verification, so the two cannot drift.
#pragma once

#include <string_view>

#include "store/record_store.h"
#include "store/sqlite.h"

namespace hokan::store_internal {

// Select from "versions v" joined with "records r". Columns 0-13 fill a VersionInfo; column 14
// is the row MAC.
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

// Select from "record_states", after any leading columns of the caller's own: `first` is the
// index of state_no. The row MAC follows at first + kStateColumnCount.
inline constexpr std::string_view kStateColumns =
    "state_no, status, reason, actor, at, audit_seq, row_mac";
inline constexpr int kStateColumnCount = 6;

inline RecordState ReadStateRow(const Statement& s, int first) {
  RecordState st;
  st.state_no = s.ColumnInt(first);
  st.status = s.ColumnText(first + 1);
  st.reason = s.ColumnText(first + 2);
  st.actor = s.ColumnText(first + 3);
  st.at = s.ColumnText(first + 4);
  st.audit_seq = static_cast<std::uint64_t>(s.ColumnInt(first + 5));
  return st;
}

}  // namespace hokan::store_internal
