// Read and audit-append throughput.
//
// Reads: Archive::ReadRecord of 100 KB versions with 1 and 4 threads. Every read is the
// full path: the version row (its MAC checked), the blob read, the data key unwrapped, the
// content decrypted and its SHA-256 checked, and the read's own audit entry made durable
// before the content is returned. The store is built first with sync off (building is not
// what is measured), flushed, then reopened with the default durable options. The page cache
// is warm (the blobs were just written): these are CPU + audit-commit figures, not cold-disk
// figures.
//
// Audit appends: Archive::audit().Append (one entry per committer unit, durable) with 1 and
// 16 threads, and batched appends (many AppendIn calls in one committer unit).
//
//   read_bench --dir /work/bench-scratch [--versions 2000] [--size 100000] [--seconds 5]
//              [--threads 1,4] [--audit-threads 1,16] [--audit-batch 1000]
//
// Prints a table; removes its scratch data at the end.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/posix_env.h"
#include "bench_util.h"
#include "service/archive.h"

namespace hokan::bench {
namespace {

const Actor kActor{"bench:read", "bench"};

void SyncFs(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::syncfs(fd);
    ::close(fd);
  }
}

struct Figures {
  std::uint64_t ops = 0;
  std::uint64_t failures = 0;
  double seconds = 0;
  double batch = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double cpu_percent = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// Runs `op(thread, rng)` from `threads` threads for `seconds`; `op` returns how many
// operations it did (0 on failure).
template <typename Op>
Figures RunFor(Archive& archive, int threads, double seconds, const Op& op) {
  Committer& committer = archive.db().committer();
  const std::uint64_t b0 = committer.batches();
  const std::uint64_t u0 = committer.units();
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<std::uint64_t> ops{0};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> pool;
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      FastRandom rng(static_cast<std::uint64_t>(t) * 104729 + 3);
      std::vector<double>& lat = latencies[static_cast<std::size_t>(t)];
      while (SecondsSince(start) < seconds) {
        const auto t0 = Clock::now();
        const std::uint64_t n = op(t, rng);
        const double ms = SecondsSince(t0) * 1000.0;
        if (n == 0) {
          failures.fetch_add(1);
          continue;
        }
        ops.fetch_add(n, std::memory_order_relaxed);
        lat.push_back(ms);
      }
    });
  }
  for (std::thread& th : pool) th.join();
  Figures f;
  f.seconds = SecondsSince(start);
  f.cpu_percent = CpuPercent(CpuSeconds() - cpu0, f.seconds);
  f.ops = ops.load();
  f.failures = failures.load();
  const std::uint64_t batches = committer.batches() - b0;
  const std::uint64_t units = committer.units() - u0;
  f.batch = batches ? static_cast<double>(units) / static_cast<double>(batches) : 0;
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  f.p50_ms = Percentile(all, 0.50);
  f.p99_ms = Percentile(all, 0.99);
  return f;
}

void PrintRow(const std::string& what, int threads, const char* mode, const Figures& f,
              const char* unit, double mb_per_op) {
  std::printf("%-34s %7d %-12s %9llu %10.0f %-9s %8.1f %10.2f %8.3f %8.3f %5.0f%s\n", what.c_str(),
              threads, mode, static_cast<unsigned long long>(f.ops), f.rate(), unit,
              f.rate() * mb_per_op, f.batch, f.p50_ms, f.p99_ms, f.cpu_percent,
              f.failures ? (" (" + std::to_string(f.failures) + " FAILED)").c_str() : "");
  std::fflush(stdout);
}

AuditEvent ReadEvent(FastRandom& rng) {
  char record[25];
  std::snprintf(record, sizeof record, "%012llx%012llx",
                static_cast<unsigned long long>(rng.Next() & 0xffffffffffffULL),
                static_cast<unsigned long long>(rng.Next() & 0xffffffffffffULL));
  AuditEvent e{.actor = kActor.id,
               .action = "record.read",
               .patient = "patient-" + std::to_string(rng.Next() % 100000),
               .record = record,
               .version = 1,
               .source = kActor.source};
  e.detail = {{"sha256", std::string(64, 'a')}};
  return e;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  if (!flags.Has("dir")) Flags::Die("--dir <scratch directory on the disk to measure> is required");
  const std::string dir = flags.Str("dir", "");
  const std::uint64_t versions = flags.U64("versions", 2000);
  const std::size_t size = flags.U64("size", 100000);
  const double seconds = flags.Double("seconds", 5);
  const std::vector<std::uint64_t> read_threads = flags.List("threads", "1,4");
  const std::vector<std::uint64_t> audit_threads = flags.List("audit-threads", "1,16");
  const std::uint64_t audit_batch = flags.U64("audit-batch", 1000);

  const auto bench_start = Clock::now();
  PrintHeader("read_bench", argc, argv, dir);
  Scratch scratch(dir, "hokan-read");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const std::string store = scratch.Sub("store");

  // Build (not measured): `versions` new records, sync off, 2 writers.
  Take(Archive::Init(env, store, kActor), "init");
  std::vector<std::string> ids(versions);
  {
    std::unique_ptr<Archive> a =
        Take(Archive::Open(env, store, ArchiveOptions{.sync = false}), "open (build)");
    const auto start = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < 2; ++t) {
      pool.emplace_back([&, t] {
        FastRandom rng(static_cast<std::uint64_t>(t) + 11);
        Bytes content(size);
        for (std::uint64_t i = static_cast<std::uint64_t>(t); i < versions; i += 2) {
          rng.FillText(content);
          PutRequest req{.patient_id = "patient-" + std::to_string(i % 1000),
                         .record_type = "clinical-note",
                         .content = content};
          ids[i] = Take(a->PutRecord(kActor, req), "build put").version.record_id;
        }
      });
    }
    for (std::thread& th : pool) th.join();
    std::printf("\nbuilt %llu versions of %zu bytes in %.1f s (sync off, not measured)\n",
                static_cast<unsigned long long>(versions), size, SecondsSince(start));
  }
  SyncFs(store);

  std::printf("\n%-34s %7s %-12s %9s %10s %-9s %8s %10s %8s %8s %5s\n", "operation", "threads",
              "mode", "ops", "ops/s", "", "MB/s", "mean batch", "p50 ms", "p99 ms", "cpu%");
  const double mb = static_cast<double>(size) / 1e6;
  {
    std::unique_ptr<Archive> a = Take(Archive::Open(env, store), "open (durable)");
    auto read = [&](int /*t*/, FastRandom& rng) -> std::uint64_t {
      const std::string& id = ids[rng.Next() % ids.size()];
      Result<ReadResult> r = a->ReadRecord(kActor, id, 1);
      if (!r) {
        std::fprintf(stderr, "read failed: %s\n", r.error().ToString().c_str());
        return 0;
      }
      return r->content.size() == size ? 1 : 0;
    };
    for (std::uint64_t t : read_threads) {
      PrintRow("ReadRecord (audited, decrypted)", static_cast<int>(t), "durable",
               RunFor(*a, static_cast<int>(t), seconds, read), "reads/s", mb);
    }
    auto append = [&](int /*t*/, FastRandom& rng) -> std::uint64_t {
      Result<std::uint64_t> r = a->audit().Append(ReadEvent(rng));
      if (!r) {
        std::fprintf(stderr, "append failed: %s\n", r.error().ToString().c_str());
        return 0;
      }
      return 1;
    };
    for (std::uint64_t t : audit_threads) {
      PrintRow("AuditLog::Append (1 entry/unit)", static_cast<int>(t), "durable",
               RunFor(*a, static_cast<int>(t), seconds, append), "entries/s", 0);
    }
    auto append_batch = [&](int /*t*/, FastRandom& rng) -> std::uint64_t {
      std::vector<AuditEvent> events;
      events.reserve(audit_batch);
      for (std::uint64_t i = 0; i < audit_batch; ++i) events.push_back(ReadEvent(rng));
      Status st = a->db().committer().Run([&](Database& db) -> Status {
        for (const AuditEvent& e : events) HK_RETURN_IF_ERROR(a->audit().AppendIn(db, e).error());
        return OkStatus();
      });
      if (!st.ok()) {
        std::fprintf(stderr, "batch append failed: %s\n", st.ToString().c_str());
        return 0;
      }
      return audit_batch;
    };
    PrintRow("AuditLog::AppendIn x" + std::to_string(audit_batch) + " per unit", 1, "durable",
             RunFor(*a, 1, seconds, append_batch), "entries/s", 0);
  }
  {
    // The same read path with commits not fsynced: what the CPU alone allows.
    std::unique_ptr<Archive> a =
        Take(Archive::Open(env, store, ArchiveOptions{.sync = false}), "open (non-durable)");
    auto read = [&](int /*t*/, FastRandom& rng) -> std::uint64_t {
      Result<ReadResult> r = a->ReadRecord(kActor, ids[rng.Next() % ids.size()], 1);
      return r && r->content.size() == size ? 1 : 0;
    };
    const std::uint64_t t = read_threads.empty() ? 4 : read_threads.back();
    PrintRow("ReadRecord (audited, decrypted)", static_cast<int>(t), "NON-DURABLE",
             RunFor(*a, static_cast<int>(t), seconds, read), "reads/s", mb);
    auto append = [&](int /*t*/, FastRandom& rng) -> std::uint64_t {
      return a->audit().Append(ReadEvent(rng)) ? 1 : 0;
    };
    const std::uint64_t at = audit_threads.empty() ? 16 : audit_threads.back();
    PrintRow("AuditLog::Append (1 entry/unit)", static_cast<int>(at), "NON-DURABLE",
             RunFor(*a, static_cast<int>(at), seconds, append), "entries/s", 0);
  }
  std::printf(
      "(reads: %zu-byte contents, page cache warm; 'mean batch' = committer units per "
      "durable transaction)\n",
      size);
  scratch.Remove();
  PrintFooter(bench_start);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
