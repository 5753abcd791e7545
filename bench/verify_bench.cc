// Verification and proofs at scale.
//
//  1. VerifyAudit throughput at 1M audit entries (and at each --audit-sizes), and inclusion
//     proofs (number of hashes, bytes, time) at 1M and 10M entries.
//  2. Time and peak RSS of verification for stores of 10k, 20k, 100k and 1M small versions,
//     to show whether memory stays flat as the store grows. Verification is measured in its
//     parts (RecordStore::Verify, Archive::VerifyAudit) and as a whole (Archive::Verify:
//     records + the store/audit cross-check + audit) at every size up to --full-verify-max.
//
// Every measurement runs in a fresh process (this executable re-runs itself with --phase),
// so each VmHWM (peak RSS, /proc/self/status) is that phase's own. Building is done with
// sync off and is not what is measured; the measured phases open the store with the default
// durable options. The page cache is warm (the store was just written).
//
//   verify_bench --dir /work/bench-scratch [--audit-sizes 1000000,10000000]
//                [--store-sizes 10000,20000,100000,1000000] [--content-size 200]
//                [--full-verify-max 1000000] [--build-threads 8] [--audit-batch 5000]
//
// Phases (run by the above; usable by hand):
//   --phase build-audit  --store S --entries N    fresh store + N audit entries (sync off)
//   --phase verify-audit --store S                VerifyAudit + inclusion proofs
//   --phase build-store  --store S --versions N   fresh store + N versions (sync off)
//   --phase verify-store --store S --part P       P = records | audit | full
//
// Prints a table; removes its scratch data at the end.
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/merkle.h"
#include "base/env.h"
#include "base/posix_env.h"
#include "bench_util.h"
#include "service/archive.h"

namespace hokan::bench {
namespace {

const Actor kActor{"bench:verify", "bench"};

std::uint64_t DirBytes(const std::string& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) total += it->file_size(e2);
  }
  return total;
}

std::string Hex24(FastRandom& rng) {
  char buf[25];
  std::snprintf(buf, sizeof buf, "%012llx%012llx",
                static_cast<unsigned long long>(rng.Next() & 0xffffffffffffULL),
                static_cast<unsigned long long>(rng.Next() & 0xffffffffffffULL));
  return buf;
}

std::string Hex64(FastRandom& rng) {
  std::string s;
  s.reserve(64);
  for (int i = 0; i < 4; ++i) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng.Next()));
    s += buf;
  }
  return s;
}

// A realistic read entry (~250 bytes of entry text).
AuditEvent ReadEvent(FastRandom& rng) {
  AuditEvent e{.actor = "user:doctor-" + std::to_string(rng.Next() % 200),
               .action = "record.read",
               .patient = "patient-" + std::to_string(rng.Next() % 100000),
               .record = Hex24(rng),
               .version = 1,
               .source = "10.0.0." + std::to_string(rng.Next() % 250)};
  e.detail = {{"sha256", Hex64(rng)}};
  return e;
}

int BuildAudit(const Flags& flags) {
  const std::string store = flags.Str("store", "");
  const std::uint64_t entries = flags.U64("entries", 1000000);
  const std::uint64_t batch = flags.U64("audit-batch", 5000);
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const ArchiveOptions nosync{.sync = false};
  Take(Archive::Init(env, store, kActor, nosync), "init");
  std::unique_ptr<Archive> a = Take(Archive::Open(env, store, nosync), "open");
  const std::uint64_t have = Take(a->AuditSize(), "size");
  // Batches of `batch` AuditLog::AppendIn calls in one committer unit: the fastest public path
  // (one SAVEPOINT, one commit, one audit-state update per batch).
  FastRandom rng(42);
  const auto start = Clock::now();
  auto last = start;
  std::uint64_t done = have;
  std::vector<AuditEvent> events;
  while (done < entries) {
    const std::uint64_t n = std::min(batch, entries - done);
    events.clear();
    for (std::uint64_t i = 0; i < n; ++i) events.push_back(ReadEvent(rng));
    Check(a->db().committer().Run([&](Database& db) -> Status {
      for (const AuditEvent& e : events) HK_RETURN_IF_ERROR(a->audit().AppendIn(db, e).error());
      return OkStatus();
    }),
          "append batch");
    done += n;
    if (SecondsSince(last) > 15) {
      last = Clock::now();
      std::fprintf(stderr, "  [build-audit %llu/%llu, %.0f entries/s]\n",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(entries),
                   static_cast<double>(done - have) / SecondsSince(start));
    }
  }
  const double build_s = SecondsSince(start);
  const auto cp_start = Clock::now();
  const Checkpoint cp = Take(a->WriteCheckpoint(kActor), "checkpoint");
  const double cp_s = SecondsSince(cp_start);
  a.reset();
  std::printf(
      "build-audit: %llu entries in %.1f s = %.0f entries/s (sync off, batches of %llu, "
      "1 thread); checkpoint at %llu in %.3f s; store %.0f MB; VmHWM %llu MiB\n",
      static_cast<unsigned long long>(done - have), build_s,
      static_cast<double>(done - have) / build_s, static_cast<unsigned long long>(batch),
      static_cast<unsigned long long>(cp.tree_size), cp_s, DirBytes(store) / 1e6,
      static_cast<unsigned long long>(ProcStatusKiB("VmHWM") / 1024));
  return 0;
}

int VerifyAuditPhase(const Flags& flags) {
  const std::string store = flags.Str("store", "");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  std::unique_ptr<Archive> a = Take(Archive::Open(env, store), "open");
  const std::uint64_t rss_open = ProcStatusKiB("VmHWM");

  CountingSink sink(true);
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  const VerifySummary s = Take(a->VerifyAudit(kActor, sink), "verify-audit");
  const double secs = SecondsSince(start);
  const double cpu = CpuSeconds() - cpu0;
  const std::uint64_t rss_verify = ProcStatusKiB("VmHWM");
  std::printf(
      "verify-audit: %llu entries in %.2f s = %.0f entries/s (CPU %.2f s); damage %llu, "
      "warnings %llu; checkpoints %llu, covered %llu; VmHWM after open %llu MiB, after "
      "verify %llu MiB\n",
      static_cast<unsigned long long>(s.audit.entries), secs,
      static_cast<double>(s.audit.entries) / secs, cpu, static_cast<unsigned long long>(s.damage),
      static_cast<unsigned long long>(s.warnings),
      static_cast<unsigned long long>(s.audit.checkpoints),
      static_cast<unsigned long long>(s.audit.covered),
      static_cast<unsigned long long>(rss_open / 1024),
      static_cast<unsigned long long>(rss_verify / 1024));
  for (const std::string& e : sink.examples) std::printf("  problem: %s\n", e.c_str());

  // Inclusion proofs for the first, middle and last covered entries.
  const std::uint64_t n = s.audit.covered;
  for (std::uint64_t index : {std::uint64_t{0}, n / 2, n - 1}) {
    const auto p0 = Clock::now();
    const InclusionProofResult r = Take(a->ProveInclusion(kActor, index), "prove inclusion");
    const double ps = SecondsSince(p0);
    const auto v0 = Clock::now();
    const Status ok = merkle::VerifyInclusion(r.index, r.tree_size, r.leaf_hash, r.proof, r.root);
    const double vs = SecondsSince(v0);
    const std::uint64_t analytic =
        r.tree_size <= 1 ? 0 : static_cast<std::uint64_t>(std::bit_width(r.tree_size - 1));
    std::printf(
        "inclusion proof: index %llu of tree %llu: %zu hashes = %zu bytes (RFC 9162 "
        "bound ceil(log2 n) = %llu); entry %zu B, checkpoint %zu B; prove %.3f s, "
        "client verify %.1f us: %s\n",
        static_cast<unsigned long long>(r.index), static_cast<unsigned long long>(r.tree_size),
        r.proof.size(), r.proof.size() * sizeof(merkle::Hash),
        static_cast<unsigned long long>(analytic), r.entry.size(), r.checkpoint.size(), ps,
        vs * 1e6, ok.ok() ? "valid" : ok.ToString().c_str());
  }
  std::printf("verify-audit phase VmHWM %llu MiB\n",
              static_cast<unsigned long long>(ProcStatusKiB("VmHWM") / 1024));
  return s.ok() ? 0 : 1;
}

int BuildStore(const Flags& flags) {
  const std::string store = flags.Str("store", "");
  const std::uint64_t versions = flags.U64("versions", 10000);
  const std::size_t size = flags.U64("content-size", 200);
  const int threads = static_cast<int>(flags.U64("build-threads", 8));
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const ArchiveOptions nosync{.sync = false};
  Take(Archive::Init(env, store, kActor, nosync), "init");
  std::unique_ptr<Archive> a = Take(Archive::Open(env, store, nosync), "open");
  std::atomic<std::uint64_t> next{0};
  const auto start = Clock::now();
  std::atomic<bool> stop_progress{false};
  std::thread progress([&] {
    while (!stop_progress.load()) {
      for (int i = 0; i < 150 && !stop_progress.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (stop_progress.load()) break;
      const std::uint64_t d = std::min(next.load(), versions);
      std::fprintf(stderr, "  [build-store %llu/%llu, %.0f versions/s]\n",
                   static_cast<unsigned long long>(d), static_cast<unsigned long long>(versions),
                   static_cast<double>(d) / SecondsSince(start));
    }
  });
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      FastRandom rng(static_cast<std::uint64_t>(t) + 99);
      Bytes content(size);
      while (next.fetch_add(1) < versions) {
        rng.FillText(content);
        PutRequest req{.patient_id = "patient-" + std::to_string(rng.Next() % 10000),
                       .record_type = "vital-signs",
                       .content = content};
        Take(a->PutRecord(kActor, req), "put");
      }
    });
  }
  for (std::thread& th : pool) th.join();
  stop_progress = true;
  progress.join();
  const double secs = SecondsSince(start);
  Take(a->WriteCheckpoint(kActor), "checkpoint");
  a.reset();
  std::printf(
      "build-store: %llu versions of %zu B in %.1f s = %.0f versions/s (sync off, %d "
      "threads); store %.0f MB\n",
      static_cast<unsigned long long>(versions), size, secs, static_cast<double>(versions) / secs,
      threads, DirBytes(store) / 1e6);
  return 0;
}

// Appends one line to the parent's summary file (when there is one).
void AppendSummary(const std::string& path, const std::string& line) {
  if (path.empty()) return;
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return;
  std::fprintf(f, "%s\n", line.c_str());
  std::fclose(f);
}

// One part of verification, in this (fresh) process:
//   records  RecordStore::Verify: every version row's MAC, blob read, decrypted, hash-checked
//   audit    Archive::VerifyAudit: every audit entry's leaf, MAC and the checkpoints
//   full     Archive::Verify: records + the store/audit cross-check + audit
int VerifyStore(const Flags& flags) {
  const std::string store = flags.Str("store", "");
  const std::string part = flags.Str("part", "full");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  std::unique_ptr<Archive> a = Take(Archive::Open(env, store), "open");
  const std::uint64_t rss_open = ProcStatusKiB("VmHWM");
  CountingSink sink(true);
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  std::uint64_t items = 0;
  std::string what;
  bool ok = true;
  if (part == "records") {
    Check(a->records().Verify(sink), "records verify");
    ok = sink.damage == 0;
    what = "versions";
  } else if (part == "audit") {
    const VerifySummary s = Take(a->VerifyAudit(kActor, sink), "verify-audit");
    items = s.audit.entries;
    ok = s.ok();
    what = "audit entries";
  } else if (part == "full") {
    const VerifySummary s = Take(a->Verify(kActor, sink), "verify");
    items = s.versions;
    ok = s.ok();
    what = "versions (+ as many audit entries)";
  } else {
    Flags::Die("unknown --part " + part);
  }
  const double secs = SecondsSince(start);
  const double cpu = CpuSeconds() - cpu0;
  const std::uint64_t rss = ProcStatusKiB("VmHWM");
  if (part == "records") {
    Check(a->db().Read([&](Database& db) -> Status {
      HK_ASSIGN_OR_RETURN(Statement * st, db.Prepare("SELECT COUNT(*) FROM versions"));
      HK_ASSIGN_OR_RETURN(const bool row, st->Step());
      if (row) items = static_cast<std::uint64_t>(st->ColumnInt(0));
      return st->Run();
    }),
          "count versions");
  }
  std::printf(
      "verify-store --part %s: %llu %s in %.2f s = %.0f/s (CPU %.2f s); damage %llu, "
      "warnings %llu; VmHWM after open %llu MiB, peak %llu MiB\n",
      part.c_str(), static_cast<unsigned long long>(items), what.c_str(), secs,
      static_cast<double>(items) / secs, cpu, static_cast<unsigned long long>(sink.damage),
      static_cast<unsigned long long>(sink.warnings),
      static_cast<unsigned long long>(rss_open / 1024),
      static_cast<unsigned long long>(rss / 1024));
  for (const std::string& e : sink.examples) std::printf("  problem: %s\n", e.c_str());
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %10llu %10.2f %12.0f %10.1f %10.1f %s", part.c_str(),
                static_cast<unsigned long long>(items), secs, static_cast<double>(items) / secs,
                static_cast<double>(rss_open) / 1024.0, static_cast<double>(rss) / 1024.0,
                ok ? "ok" : "DAMAGE");
  AppendSummary(flags.Str("summary", ""), line);
  return ok ? 0 : 1;
}

int RunAll(const Flags& flags, int argc, char** argv) {
  if (!flags.Has("dir")) Flags::Die("--dir <scratch directory on the disk to measure> is required");
  const std::string dir = flags.Str("dir", "");
  const std::vector<std::uint64_t> audit_sizes = flags.List("audit-sizes", "1000000,10000000");
  const std::vector<std::uint64_t> store_sizes =
      flags.List("store-sizes", "10000,20000,100000,1000000");
  const std::string content_size = std::to_string(flags.U64("content-size", 200));
  const std::string build_threads = std::to_string(flags.U64("build-threads", 8));
  const std::string audit_batch = std::to_string(flags.U64("audit-batch", 5000));
  const std::uint64_t full_verify_max = flags.U64("full-verify-max", 1000000);

  const auto bench_start = Clock::now();
  PrintHeader("verify_bench", argc, argv, dir);
  Scratch scratch(dir, "hokan-verify");
  int failures = 0;
  auto run = [&](const std::vector<std::string>& args) {
    std::string line = "  $ verify_bench";
    for (const std::string& a : args) line += " " + a;
    std::printf("%s\n", line.c_str());
    const auto t0 = Clock::now();
    const int rc = RunSelf(args);
    std::printf("    (exit %d, %.1f s, loadavg %s)\n", rc, SecondsSince(t0), LoadAverage().c_str());
    std::fflush(stdout);
    if (rc != 0) ++failures;
    return rc;
  };

  std::printf("\n-- audit log: VerifyAudit and inclusion proofs (each phase a fresh process) --\n");
  for (std::uint64_t n : audit_sizes) {
    const std::string store = scratch.Sub("audit-" + std::to_string(n));
    if (run({"--phase", "build-audit", "--store", store, "--entries", std::to_string(n),
             "--audit-batch", audit_batch}) == 0) {
      run({"--phase", "verify-audit", "--store", store});
    }
    std::error_code ec;
    std::filesystem::remove_all(store, ec);
  }

  std::printf(
      "\n-- Archive::Verify time and peak RSS by store size (each part a fresh "
      "process) --\n");
  const std::string summary = scratch.Sub("summary.txt");
  for (std::uint64_t n : store_sizes) {
    const std::string store = scratch.Sub("store-" + std::to_string(n));
    if (run({"--phase", "build-store", "--store", store, "--versions", std::to_string(n),
             "--content-size", content_size, "--build-threads", build_threads}) != 0) {
      continue;
    }
    std::vector<std::string> parts = {"records", "audit"};
    if (n <= full_verify_max) {
      parts.push_back("full");
    } else {
      std::printf("  (full Archive::Verify skipped above %llu versions: --full-verify-max)\n",
                  static_cast<unsigned long long>(full_verify_max));
    }
    for (const std::string& part : parts) {
      AppendSummary(summary, std::to_string(n));
      run({"--phase", "verify-store", "--store", store, "--part", part, "--summary", summary});
    }
    // Removed with the scratch directory at the end: deleting many files right before
    // creating many slows inode allocation on ext4 without a journal (recently_deleted()).
  }
  std::printf(
      "\nsummary (peak RSS = VmHWM of the verifying process; content %s B per version)"
      "\n%-9s %-8s %10s %10s %12s %10s %10s %s\n",
      content_size.c_str(), "store", "part", "items", "seconds", "items/s", "RSS open", "RSS peak",
      "");
  {
    std::ifstream in(summary);
    std::string size_line, result;
    while (std::getline(in, size_line) && std::getline(in, result)) {
      std::printf("%-9s %s\n", size_line.c_str(), result.c_str());
    }
  }
  std::printf("(RSS in MiB)\n");
  scratch.Remove();
  PrintFooter(bench_start);
  return failures == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string phase = flags.Str("phase", "all");
  if (phase == "all") return RunAll(flags, argc, argv);
  if (!flags.Has("store")) Flags::Die("--phase " + phase + " needs --store");
  if (phase == "build-audit") return BuildAudit(flags);
  if (phase == "verify-audit") return VerifyAuditPhase(flags);
  if (phase == "build-store") return BuildStore(flags);
  if (phase == "verify-store") return VerifyStore(flags);
  Flags::Die("unknown --phase " + phase);
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
