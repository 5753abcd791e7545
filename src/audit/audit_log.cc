#include "audit/audit_log.h"

#include <bit>
#include <charconv>

#include "base/encoding.h"
#include "base/time.h"

namespace hokan {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,
  entry TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  mac BLOB NOT NULL
);
CREATE TABLE audit_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  tree_size INTEGER NOT NULL,
  compact_range BLOB NOT NULL
);
CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tree_size INTEGER NOT NULL,
  note TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_by_size ON audit_checkpoints(tree_size);
-- Hashes of the perfect subtrees at heights 8, 16, 24, ... (over leaves [idx << level,
-- (idx + 1) << level)), written as they complete, so a proof reads O(log n) rows, not n.
-- Derived data: proofs are checked against the signed root, and verify recomputes them.
CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TRIGGER audit_entries_immutable BEFORE UPDATE ON audit_entries
  BEGIN SELECT RAISE(ABORT, 'audit entries are immutable'); END;
CREATE TRIGGER audit_entries_undeletable BEFORE DELETE ON audit_entries
  BEGIN SELECT RAISE(ABORT, 'audit entries are never deleted'); END;
CREATE TRIGGER audit_nodes_immutable BEFORE UPDATE ON audit_nodes
  BEGIN SELECT RAISE(ABORT, 'audit nodes are immutable'); END;
CREATE TRIGGER audit_nodes_undeletable BEFORE DELETE ON audit_nodes
  BEGIN SELECT RAISE(ABORT, 'audit nodes are never deleted'); END;
CREATE TRIGGER audit_checkpoints_immutable BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;
CREATE TRIGGER audit_checkpoints_undeletable BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are never deleted'); END;
)sql";

std::string EntryName(std::uint64_t seq) { return "audit entry " + std::to_string(seq); }

// True when `entry` begins with {"seq":<seq>, (checked once per entry in Verify, so without
// building a string).
bool StartsWithSeq(std::string_view entry, std::uint64_t seq) {
  constexpr std::string_view kHead = "{\"seq\":";
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
  const std::string_view number(digits, static_cast<std::size_t>(end - digits));
  return ec == std::errc() && entry.size() > kHead.size() + number.size() &&
         entry.substr(0, kHead.size()) == kHead &&
         entry.substr(kHead.size(), number.size()) == number &&
         entry[kHead.size() + number.size()] == ',';
}

// Heights of the subtrees kept in audit_nodes: every 8th, so any perfect subtree hash is at
// most 2^7 stored rows (or 2^7 leaves) away.
constexpr int kNodeLevelStep = 8;

// A perfect subtree of a stored height, completed by an append.
struct StoredNode {
  int level;
  std::uint64_t index;
  merkle::Hash hash;
};

// Appends `leaf` to `tree` and adds the stored-height subtrees it completes to `out`. Both the
// writer (which stores them) and verification (which checks them) go through here.
void AppendLeaf(merkle::CompactRange& tree, const merkle::Hash& leaf,
                std::vector<StoredNode>& out) {
  tree.Append(leaf, [&](int level, std::uint64_t index, const merkle::Hash& hash) {
    if (level % kNodeLevelStep == 0) out.push_back({level, index, hash});
  });
}

Result<merkle::Hash> HashFromColumn(ByteView column, std::string_view what) {
  if (column.size() != 32) {
    return DataLossError(std::string(what) + " is malformed; run `hokan audit verify`");
  }
  merkle::Hash h;
  std::copy(column.begin(), column.end(), h.begin());
  return h;
}

Result<merkle::CompactRange> LoadState(Database& db) {
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("SELECT compact_range FROM audit_state WHERE id = 1"));
  HK_ASSIGN_OR_RETURN(const bool row, s->Step());
  if (!row) return DataLossError("audit state row is missing");
  Result<merkle::CompactRange> range = merkle::CompactRange::Decode(s->ColumnBlobView(0));
  HK_RETURN_IF_ERROR(s->Run());
  if (!range) return range.error().WithContext("audit state");
  return range;
}

// Checkpoints in size order (ties in write order).
Status ForEachCheckpoint(
    Database& db,
    const std::function<Status(std::int64_t id, std::uint64_t size, std::string_view note)>& fn) {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT id, tree_size, note FROM "
                                                "audit_checkpoints ORDER BY tree_size, id"));
  while (true) {
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (!row) break;
    HK_RETURN_IF_ERROR(
        fn(s->ColumnInt(0), static_cast<std::uint64_t>(s->ColumnInt(1)), s->ColumnTextView(2)));
  }
  return OkStatus();
}

}  // namespace

Status AuditLog::CreateSchema(Database& db) {
  HK_RETURN_IF_ERROR(db.Exec(kSchema));
  const merkle::CompactRange empty;
  HK_ASSIGN_OR_RETURN(Statement * s,
                      db.Prepare("INSERT INTO audit_state(id, tree_size, compact_range) "
                                 "VALUES (1, 0, ?1)"));
  return s->BindBlob(1, empty.Encode()).Run();
}

AuditLog::AuditLog(Env& env, MetadataDb& db, ByteView mac_key, SigningKey signer,
                   std::string origin)
    : env_(env), db_(db), mac_(mac_key), signer_(std::move(signer)), origin_(std::move(origin)) {
  db_.committer().AddObserver(this);
}

Sha256Digest AuditLog::EntryMac(std::uint64_t seq, const merkle::Hash& leaf) const {
  std::uint8_t msg[8 + 32];
  for (int i = 0; i < 8; ++i) msg[i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
  std::copy(leaf.begin(), leaf.end(), msg + 8);
  return mac_.Mac(msg);
}

Status AuditLog::OnBatchBegin(Database& db) {
  // Another process may have appended since our last batch: start from what is committed.
  HK_ASSIGN_OR_RETURN(pending_, LoadState(db));
  dirty_ = false;
  return OkStatus();
}

void AuditLog::OnUnitBegin() { unit_start_ = pending_; }

void AuditLog::OnUnitRolledBack() { pending_ = unit_start_; }

Status AuditLog::OnBeforeCommit(Database& db) {
  if (!dirty_) return OkStatus();
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE audit_state SET tree_size = ?1, "
                                                "compact_range = ?2 WHERE id = 1"));
  return s->Bind(1, static_cast<std::int64_t>(pending_.size()))
      .BindBlob(2, pending_.Encode())
      .Run();
}

void AuditLog::OnBatchEnd(bool /*committed*/) { dirty_ = false; }

Result<std::uint64_t> AuditLog::AppendIn(Database& db, const AuditEvent& event) {
  const std::uint64_t seq = pending_.size();
  const std::string entry = EncodeAuditEntry(seq, FormatRfc3339(env_.clock.Now()), event);
  const merkle::Hash leaf = merkle::LeafHash(AsBytes(entry));
  const Sha256Digest mac = EntryMac(seq, leaf);
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("INSERT INTO audit_entries(seq, entry, "
                                                "leaf_hash, mac) VALUES (?1, ?2, ?3, ?4)"));
  HK_RETURN_IF_ERROR(s->Bind(1, static_cast<std::int64_t>(seq))
                         .Bind(2, entry)
                         .BindBlob(3, leaf)
                         .BindBlob(4, mac)
                         .Run()
                         .WithContext("audit log"));
  std::vector<StoredNode> completed;
  AppendLeaf(pending_, leaf, completed);
  dirty_ = true;
  for (const StoredNode& node : completed) {
    HK_ASSIGN_OR_RETURN(Statement * n, db.Prepare("INSERT INTO audit_nodes(level, idx, hash) "
                                                  "VALUES (?1, ?2, ?3)"));
    HK_RETURN_IF_ERROR(n->Bind(1, node.level)
                           .Bind(2, static_cast<std::int64_t>(node.index))
                           .BindBlob(3, node.hash)
                           .Run()
                           .WithContext("audit log"));
  }
  return seq;
}

Result<std::uint64_t> AuditLog::Append(const AuditEvent& event) {
  std::uint64_t seq = 0;
  HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(seq, AppendIn(db, event));
    return OkStatus();
  }));
  return seq;
}

Result<Checkpoint> AuditLog::WriteCheckpoint() {
  Result<Checkpoint> out = InternalError("checkpoint not written");
  HK_RETURN_IF_ERROR(db_.committer().Run([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Checkpoint c,
                        SignCheckpoint(signer_, origin_, pending_.size(), pending_.Root(),
                                       FormatRfc3339(env_.clock.Now())));
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("INSERT INTO audit_checkpoints(tree_size, "
                                                  "note) VALUES (?1, ?2)"));
    HK_RETURN_IF_ERROR(s->Bind(1, static_cast<std::int64_t>(c.tree_size)).Bind(2, c.note).Run());
    out = std::move(c);
    return OkStatus();
  }));
  return out;
}

Result<std::uint64_t> AuditLog::Size() {
  std::uint64_t size = 0;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(merkle::CompactRange range, LoadState(db));
    size = range.size();
    return OkStatus();
  }));
  return size;
}

Result<std::uint64_t> AuditLog::CheckpointedSize() {
  std::uint64_t size = 0;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s,
                        db.Prepare("SELECT COALESCE(MAX(tree_size), 0) FROM audit_checkpoints"));
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (row) size = static_cast<std::uint64_t>(s->ColumnInt(0));
    return s->Run();
  }));
  return size;
}

Status AuditLog::Verify(VerifySink& sink, AuditVerifyStats& stats) {
  const Bytes public_key = signer_.PublicKeyRaw();
  return db_.Read([&](Database& db) -> Status {
    // Checkpoints, checked one by one as the recomputed tree reaches their size. Few enough
    // to hold (one per batch of writes at most).
    struct Pending {
      std::int64_t id;
      std::uint64_t size;
      std::optional<Checkpoint> checkpoint;
    };
    std::vector<Pending> checkpoints;
    HK_RETURN_IF_ERROR(ForEachCheckpoint(
        db, [&](std::int64_t id, std::uint64_t size, std::string_view note) -> Status {
          Result<Checkpoint> c = VerifyCheckpoint(note, origin_, public_key);
          if (!c) {
            sink.Report({"checkpoint #" + std::to_string(id), c.error().message()});
            checkpoints.push_back({id, size, std::nullopt});
          } else if (c->tree_size != size) {
            sink.Report({"checkpoint #" + std::to_string(id),
                         "stored size does not match the signed size"});
            checkpoints.push_back({id, size, std::nullopt});
          } else {
            checkpoints.push_back({id, size, std::move(*c)});
          }
          return OkStatus();
        }));
    stats.checkpoints = checkpoints.size();

    std::uint64_t total = 0;
    {
      HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT COUNT(*) FROM audit_entries"));
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (row) total = static_cast<std::uint64_t>(s->ColumnInt(0));
      HK_RETURN_IF_ERROR(s->Run());
    }

    merkle::CompactRange tree;
    std::size_t next_cp = 0;
    bool tree_broken = false;  // A missing entry: later roots cannot match.
    auto check_checkpoints = [&]() {
      while (next_cp < checkpoints.size() && checkpoints[next_cp].size == tree.size()) {
        const Pending& p = checkpoints[next_cp++];
        if (!p.checkpoint) continue;
        if (p.checkpoint->root != tree.Root()) {
          sink.Report({"checkpoint #" + std::to_string(p.id),
                       "signed root for size " + std::to_string(p.size) +
                           " does not match the entries (an entry before it was changed, "
                           "deleted, inserted or reordered)"});
        } else if (!tree_broken) {
          stats.covered = p.size;
          stats.latest = p.checkpoint;
        }
      }
    };
    check_checkpoints();

    std::vector<StoredNode> formed;
    HK_ASSIGN_OR_RETURN(Statement * node_q, db.Prepare("SELECT hash FROM audit_nodes WHERE "
                                                       "level = ?1 AND idx = ?2"));
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT seq, entry, leaf_hash, mac FROM "
                                                  "audit_entries ORDER BY seq"));
    std::uint64_t expected = 0;
    const auto started = env_.clock.Now();
    auto last_progress = started;
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      const auto seq = static_cast<std::uint64_t>(s->ColumnInt(0));
      if (seq != expected) {
        if (seq > expected) {
          sink.Report({expected + 1 == seq ? EntryName(expected)
                                           : "audit entries " + std::to_string(expected) + ".." +
                                                 std::to_string(seq - 1),
                       "missing (deleted from the log)"});
        }
        tree_broken = true;
      }
      expected = seq + 1;
      const std::string_view entry = s->ColumnTextView(1);
      const merkle::Hash leaf = merkle::LeafHash(AsBytes(entry));
      if (!StartsWithSeq(entry, seq)) {
        sink.Report({EntryName(seq),
                     "entry text carries another sequence number (reordered "
                     "or inserted)"});
      } else if (!ConstantTimeEqual(EntryMac(seq, leaf), s->ColumnBlobView(3))) {
        sink.Report({EntryName(seq), "entry was altered (its MAC does not match)"});
      }
      AppendLeaf(tree, leaf, formed);
      if (!formed.empty() && !tree_broken) {
        // The stored subtree nodes that proofs use must be the ones the entries give.
        for (const StoredNode& f : formed) {
          node_q->Bind(1, f.level).Bind(2, static_cast<std::int64_t>(f.index));
          HK_ASSIGN_OR_RETURN(const bool found, node_q->Step());
          const bool same = found && ConstantTimeEqual(node_q->ColumnBlobView(0), f.hash);
          HK_RETURN_IF_ERROR(node_q->Run());
          if (!same) {
            sink.Report(
                {"audit node " + std::to_string(f.level) + "/" + std::to_string(f.index),
                 found ? "stored subtree hash was altered" : "stored subtree hash is missing"});
          }
        }
      }
      formed.clear();
      check_checkpoints();
      ++stats.entries;
      if ((stats.entries & 0xffff) == 0) {
        const auto now = env_.clock.Now();
        if (now - last_progress > std::chrono::seconds(1)) {
          sink.Progress("audit entries", stats.entries, total);
          last_progress = now;
        }
      }
    }
    for (; next_cp < checkpoints.size(); ++next_cp) {
      sink.Report({"checkpoint #" + std::to_string(checkpoints[next_cp].id),
                   "signs " + std::to_string(checkpoints[next_cp].size) +
                       " entries but the log has only " + std::to_string(tree.size()) +
                       " (entries at the end were deleted)"});
    }
    HK_ASSIGN_OR_RETURN(merkle::CompactRange state, LoadState(db));
    // Entries deleted from the end leave no gap in the sequence numbers; the stored tree
    // state and the valid checkpoints still say how long the log was, so name them.
    std::uint64_t claimed = state.size();
    for (const Pending& p : checkpoints) {
      if (p.checkpoint && p.size > claimed) claimed = p.size;
    }
    if (claimed > expected) {
      sink.Report({expected + 1 == claimed ? EntryName(expected)
                                           : "audit entries " + std::to_string(expected) + ".." +
                                                 std::to_string(claimed - 1),
                   "missing (deleted from the end of the log)"});
    }
    if (!tree_broken && !(state == tree)) {
      sink.Report({"audit state", "stored tree state does not match the entries"});
    }
    if (stats.covered < stats.entries) {
      sink.Report({"audit log",
                   std::to_string(stats.entries - stats.covered) +
                       " newest entries are not yet covered by a signed checkpoint "
                       "(`hokan audit checkpoint` signs one)",
                   false});
    }
    sink.Progress("audit entries", stats.entries, total);
    return OkStatus();
  });
}

Result<merkle::Hash> AuditLog::LeafRangeHash(Database& db, std::uint64_t begin, std::uint64_t end) {
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT seq, leaf_hash FROM audit_entries "
                                                "WHERE seq >= ?1 AND seq < ?2 ORDER BY seq"));
  s->Bind(1, static_cast<std::int64_t>(begin)).Bind(2, static_cast<std::int64_t>(end));
  merkle::CompactRange range;
  std::uint64_t expected = begin;
  while (true) {
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (!row) break;
    if (static_cast<std::uint64_t>(s->ColumnInt(0)) != expected++) {
      (void)s->Run();
      return DataLossError("audit log is damaged near entry " + std::to_string(expected - 1) +
                           "; run `hokan audit verify`");
    }
    HK_ASSIGN_OR_RETURN(const merkle::Hash h, HashFromColumn(s->ColumnBlobView(1), "leaf hash"));
    range.Append(h);
  }
  if (expected != end) {
    return DataLossError("audit log is missing entries; run `hokan audit verify`");
  }
  return range.Root();
}

Result<merkle::Hash> AuditLog::PerfectSubtreeHash(Database& db, int level, std::uint64_t index) {
  const int stored = level / kNodeLevelStep * kNodeLevelStep;
  if (stored == 0) return LeafRangeHash(db, index << level, (index + 1) << level);
  // 2^(level - stored) stored nodes, at most 2^7, make up the subtree.
  const std::uint64_t count = std::uint64_t{1} << (level - stored);
  const std::uint64_t first = index << (level - stored);
  HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT idx, hash FROM audit_nodes WHERE "
                                                "level = ?1 AND idx >= ?2 AND idx < ?3 "
                                                "ORDER BY idx"));
  s->Bind(1, stored)
      .Bind(2, static_cast<std::int64_t>(first))
      .Bind(3, static_cast<std::int64_t>(first + count));
  std::vector<merkle::Hash> nodes;
  nodes.reserve(count);
  while (true) {
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (!row) break;
    if (static_cast<std::uint64_t>(s->ColumnInt(0)) != first + nodes.size()) break;
    HK_ASSIGN_OR_RETURN(const merkle::Hash h, HashFromColumn(s->ColumnBlobView(1), "audit node"));
    nodes.push_back(h);
  }
  (void)s->Run();
  if (nodes.size() != count) {
    // A node is missing: the leaves still give the answer, only slower.
    return LeafRangeHash(db, index << level, (index + 1) << level);
  }
  return merkle::RootOf(nodes);
}

Result<merkle::Hash> AuditLog::SubtreeHash(Database& db, std::uint64_t begin, std::uint64_t end) {
  // The ranges RFC 9162 proofs ask for start at a multiple of the largest power of two within
  // them, so they split into aligned perfect subtrees of decreasing height whose fold from
  // the right is MTH of the range. Any other range is hashed from its leaves.
  if (end <= begin) return merkle::EmptyRoot();  // Proofs never ask; MTH of nothing.
  // begin must be a multiple of the largest power of two in the range (a mask: it is one).
  if ((begin & (std::bit_floor(end - begin) - 1)) != 0) return LeafRangeHash(db, begin, end);
  std::vector<merkle::Hash> pieces;
  for (std::uint64_t at = begin; at < end;) {
    const std::uint64_t size = std::bit_floor(end - at);
    const int level = std::countr_zero(size);
    HK_ASSIGN_OR_RETURN(const merkle::Hash h, PerfectSubtreeHash(db, level, at >> level));
    pieces.push_back(h);
    at += size;
  }
  return merkle::FoldFromRight(pieces);
}

Result<InclusionProofResult> AuditLog::ProveInclusion(std::uint64_t index) {
  HK_ASSIGN_OR_RETURN(const std::uint64_t size, Size());
  if (index >= size) {
    return NotFoundError("audit entry " + std::to_string(index) + " does not exist (the log has " +
                         std::to_string(size) + " entries)");
  }
  HK_ASSIGN_OR_RETURN(std::uint64_t covered, CheckpointedSize());
  if (covered <= index) {
    HK_ASSIGN_OR_RETURN(Checkpoint c, WriteCheckpoint());
    covered = c.tree_size;
  }
  InclusionProofResult out;
  out.index = index;
  out.tree_size = covered;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT note FROM audit_checkpoints WHERE "
                                                  "tree_size = ?1 ORDER BY id DESC LIMIT 1"));
    s->Bind(1, static_cast<std::int64_t>(covered));
    HK_ASSIGN_OR_RETURN(const bool row, s->Step());
    if (!row) return DataLossError("checkpoint vanished");
    out.checkpoint = s->ColumnText(0);
    HK_RETURN_IF_ERROR(s->Run());
    HK_ASSIGN_OR_RETURN(Statement * e,
                        db.Prepare("SELECT entry FROM audit_entries WHERE seq = ?1"));
    e->Bind(1, static_cast<std::int64_t>(index));
    HK_ASSIGN_OR_RETURN(const bool found, e->Step());
    if (!found) return DataLossError(EntryName(index) + " is missing; run `hokan audit verify`");
    out.entry = e->ColumnText(0);
    HK_RETURN_IF_ERROR(e->Run());
    out.leaf_hash = merkle::LeafHash(AsBytes(out.entry));
    auto fn = [&](std::uint64_t b, std::uint64_t en) { return SubtreeHash(db, b, en); };
    HK_ASSIGN_OR_RETURN(out.proof, merkle::InclusionProof(index, covered, fn));
    return OkStatus();
  }));
  // The root is the signed one; the proof is checked against it before it is handed out, so
  // stored leaf hashes that no longer match the checkpoint are reported, not passed on.
  Result<Checkpoint> c = VerifyCheckpoint(out.checkpoint, origin_, public_key());
  if (!c || c->tree_size != covered) {
    return DataLossError("checkpoint of size " + std::to_string(covered) +
                         " does not verify; run `hokan audit verify`");
  }
  out.root = c->root;
  if (!merkle::VerifyInclusion(index, covered, out.leaf_hash, out.proof, out.root).ok()) {
    return DataLossError("the log no longer matches its checkpoint; run `hokan audit verify`");
  }
  return out;
}

Result<ConsistencyProofResult> AuditLog::ProveConsistency(std::uint64_t old_size,
                                                          std::uint64_t new_size) {
  HK_ASSIGN_OR_RETURN(const std::uint64_t size, Size());
  if (old_size == 0 || old_size > new_size || new_size > size) {
    return InvalidArgumentError("need 0 < A <= B <= " + std::to_string(size) + " (the log's size)");
  }
  ConsistencyProofResult out;
  out.old_size = old_size;
  out.new_size = new_size;
  HK_RETURN_IF_ERROR(db_.Read([&](Database& db) -> Status {
    auto fn = [&](std::uint64_t b, std::uint64_t e) { return SubtreeHash(db, b, e); };
    HK_ASSIGN_OR_RETURN(out.proof, merkle::ConsistencyProof(old_size, new_size, fn));
    HK_ASSIGN_OR_RETURN(out.old_root, SubtreeHash(db, 0, old_size));
    HK_ASSIGN_OR_RETURN(out.new_root, SubtreeHash(db, 0, new_size));
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT note FROM audit_checkpoints WHERE "
                                                  "tree_size = ?1 ORDER BY id DESC LIMIT 1"));
    for (auto [size_wanted, note] :
         {std::pair{old_size, &out.old_checkpoint}, std::pair{new_size, &out.new_checkpoint}}) {
      s->Bind(1, static_cast<std::int64_t>(size_wanted));
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (row) *note = s->ColumnText(0);
      HK_RETURN_IF_ERROR(s->Run());
    }
    return OkStatus();
  }));
  return out;
}

Status AuditLog::ForEach(std::uint64_t from, std::uint64_t limit,
                         const std::function<Status(std::uint64_t, std::string_view)>& fn) {
  return db_.Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT seq, entry FROM audit_entries WHERE "
                                                  "seq >= ?1 ORDER BY seq LIMIT ?2"));
    s->Bind(1, static_cast<std::int64_t>(from))
        .Bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(limit, INT64_MAX)));
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      HK_RETURN_IF_ERROR(fn(static_cast<std::uint64_t>(s->ColumnInt(0)), s->ColumnTextView(1)));
    }
    return OkStatus();
  });
}

}  // namespace hokan
