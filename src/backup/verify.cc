#include "backup/verify.h"

#include <map>
#include <set>

#include "audit/checkpoint.h"
#include "base/encoding.h"

namespace hokan::backup {
namespace {

// A deterministic per-object choice, so repeated sampled runs cover different objects only
// when asked to (the seed is random per run).
bool Sampled(const std::string& object, double sample, std::uint64_t seed) {
  if (sample >= 1.0) return true;
  if (sample <= 0.0) return false;
  std::uint64_t h = seed;
  for (char c : object) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return static_cast<double>(h % 1000000) < sample * 1000000.0;
}

}  // namespace

bool TargetCheck::ok() const {
  for (const SnapshotCheck& s : snapshots) {
    if (!s.ok()) return false;
  }
  return true;
}

Result<TargetCheck> VerifyTarget(BackupTarget& target, const VerifyOptions& options) {
  TargetCheck out;
  HK_ASSIGN_OR_RETURN(std::vector<std::string> ids, target.ListSnapshots());
  if (options.only_snapshot &&
      std::find(ids.begin(), ids.end(), *options.only_snapshot) == ids.end()) {
    return NotFoundError("snapshot " + *options.only_snapshot + " is not in " + target.Describe());
  }
  std::uint64_t seed = 0;
  {
    Bytes r(8);
    HK_RETURN_IF_ERROR(RandomBytes(r));
    for (std::uint8_t b : r) seed = (seed << 8) | b;
  }
  // Every manifest first: the chain of a snapshot follows its `previous` link, and a store's
  // audit key is pinned by its oldest snapshot here.
  std::map<std::string, Result<ParsedManifest>> manifests;
  std::map<std::string, Bytes> pinned_key;
  for (const std::string& id : ids) {
    Result<Bytes> bytes = target.GetSnapshot(id);
    Result<ParsedManifest> p =
        bytes ? ParseManifest(*bytes) : Result<ParsedManifest>(bytes.error());
    if (p && p->signature_ok)
      pinned_key.emplace(p->manifest.store_id, p->manifest.audit_public_key);
    manifests.emplace(id, std::move(p));
  }
  // Objects already checked in this run (they are shared between snapshots): id -> problem.
  std::map<std::string, std::string> checked;
  Progress progress{.phase = "verify"};
  for (const std::string& id : ids) {
    SnapshotCheck c;
    c.snapshot_id = id;
    if (options.only_snapshot && *options.only_snapshot != id) continue;
    Result<ParsedManifest>& parsed = manifests.at(id);
    if (!parsed) {
      c.problems.push_back("manifest: " + parsed.error().message());
      out.snapshots.push_back(std::move(c));
      continue;
    }
    ParsedManifest& p = *parsed;
    const Manifest& m = p.manifest;
    c.store_id = m.store_id;
    c.created_at = m.created_at;
    c.objects = m.entries.size();
    c.bytes = m.TotalSize();
    c.versions = m.versions;
    c.audit_entries = m.audit_entries;
    if (m.snapshot_id != id) {
      c.problems.push_back("manifest: it names snapshot " + m.snapshot_id + ", not " + id);
    }
    auto pin = pinned_key.find(m.store_id);
    if (!p.signature_ok) {
      c.problems.push_back("manifest: the signature does not verify (forged or changed)");
    } else if (pin == pinned_key.end() || pin->second != m.audit_public_key) {
      c.problems.push_back(
          "manifest: signed by another audit key than the store's earlier snapshots");
    }
    if (options.key != nullptr) {
      if (m.key_id != options.key->Id()) {
        c.problems.push_back("manifest: made with backup key " + m.key_id + ", not the given key " +
                             options.key->Id());
      } else {
        c.mac_checked = true;
        if (!CheckMac(p, *options.key)) {
          c.problems.push_back("manifest: the MAC does not verify (forged or changed)");
        }
      }
    }
    // The checkpoint, and the audit log's consistency with the previous snapshot.
    Result<Checkpoint> cp = VerifyCheckpoint(m.checkpoint, m.audit_origin, m.audit_public_key);
    if (!cp) {
      c.problems.push_back("audit: the checkpoint does not verify: " + cp.error().message());
    } else if (cp->tree_size != m.tree_size || cp->root != m.root) {
      c.problems.push_back("audit: the checkpoint does not match the manifest's tree");
    }
    if (m.audit_consistency.rfind("inconsistent", 0) == 0) {
      c.problems.push_back("audit: " + m.audit_consistency);
    }
    auto prev = m.previous_snapshot.empty() ? manifests.end() : manifests.find(m.previous_snapshot);
    if (m.previous_snapshot.empty()) {
      c.audit = "first";
    } else if (prev == manifests.end() || !prev->second) {
      c.audit = "previous snapshot " + m.previous_snapshot + " is no longer on the target";
    } else if (!prev->second->signature_ok ||
               prev->second->manifest.audit_public_key != m.audit_public_key) {
      c.audit = "NOT checked against " + m.previous_snapshot;
      c.problems.push_back("audit: previous snapshot " + m.previous_snapshot +
                           " has no valid signature by the same audit key");
    } else {
      const Manifest& b = prev->second->manifest;
      Status st = b.tree_size == 0 ? OkStatus()
                                   : merkle::VerifyConsistency(b.tree_size, m.tree_size, b.root,
                                                               m.root, m.consistency_proof);
      if (st.ok() && (b.tree_size != m.previous_tree_size || b.root != m.previous_root)) {
        st = DataLossError("the previous tree recorded does not match snapshot " + b.snapshot_id);
      }
      if (st.ok()) {
        c.audit = "consistent with " + b.snapshot_id;
      } else {
        c.audit = "NOT consistent with " + b.snapshot_id;
        c.problems.push_back("audit: the log is not consistent with snapshot " + b.snapshot_id +
                             ": " + st.message());
      }
    }

    // Objects.
    progress.total_files += m.entries.size();
    progress.total_bytes += c.bytes;
    for (const ManifestEntry& e : m.entries) {
      const bool decrypt =
          options.key != nullptr && c.mac_checked && Sampled(e.object, options.sample, seed);
      auto done = checked.find(e.object);
      std::string problem;
      if (done != checked.end() && (done->second != "presence" || !decrypt)) {
        problem = done->second == "presence" ? "" : done->second;
      } else {
        Result<Bytes> sealed = target.GetObject(e.object);
        if (!sealed) {
          problem = sealed.error().code() == StatusCode::kNotFound
                        ? "object " + e.object + " (" + e.path + ") is missing"
                        : "object " + e.object + " (" + e.path +
                              ") cannot be read: " + sealed.error().message();
        } else if (sealed->size() != e.sealed_size ||
                   HexEncode(Sha256(*sealed)) != e.sealed_sha256) {
          problem = "object " + e.object + " (" + e.path + ") is damaged: its bytes changed";
        } else if (decrypt) {
          Result<Bytes> plain = options.key->Open(e.object, *sealed);
          if (!plain) {
            problem = "object " + e.object + " (" + e.path +
                      ") does not decrypt with this key (damaged or another key)";
          } else if (plain->size() != e.size || HexEncode(Sha256(*plain)) != e.sha256) {
            problem = "object " + e.object + " (" + e.path +
                      ") decrypts to other content than the manifest names";
          } else {
            ++c.decrypted;
          }
        }
        ++out.objects_checked;
        checked[e.object] = problem.empty() && !decrypt ? "presence" : problem;
      }
      if (!problem.empty()) c.problems.push_back(problem);
      ++progress.done_files;
      progress.done_bytes += e.size;
      if (options.progress) options.progress(progress);
    }
    out.snapshots.push_back(std::move(c));
  }
  return out;
}

}  // namespace hokan::backup
