// Durability idioms, one named helper each (STYLE.md rule 12).
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/env.h"
#include "base/status.h"

namespace hokan {

// Creates dir/name holding `contents`, durably: write, Sync, Close, SyncDir. Refuses to
// replace an existing file (kAlreadyExists): used for keys and blobs, which are never
// rewritten.
Status WriteNewFileDurably(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents);

// Creates dir/name holding `contents` so that the name never holds incomplete bytes, even
// after a crash: write a hidden temporary (".<name>.tmp-<random>"), Sync, then Rename — unless
// dir/name exists (kAlreadyExists; it is never replaced). Syncs `dir` only when `sync_dir`
// (callers writing many files sync once). A leftover temporary is garbage readers skip.
Status WriteNewFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                              ByteView contents, bool sync_dir = true);

// Replaces dir/name with `contents` so that after a crash a reader sees either the old file
// or the new one, never a mix: write dir/name.tmp, Sync, Rename, SyncDir.
Status WriteFileAtomically(FileSystem& fs, const std::string& dir, const std::string& name,
                           ByteView contents);

}  // namespace hokan
