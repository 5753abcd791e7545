// Makes (or grows) a store to back up, for bench/run_backup_benchmarks.sh (issue 6): N new
// records of one version each, `--size` bytes of random text each, through
// Archive::PutRecord with sync off (what is measured is the backup of the store, not how it
// was filled), then a checkpoint and a flush of everything written.
//
//   backup_bench --store DIR [--versions 100000] [--size 4096] [--threads 2]
//   backup_bench --store DIR --add N [--size 4096] [--threads 2]
//
// The first form creates a new store in DIR (which must not hold one). The second adds N new
// versions to N existing records picked at random (the "1 % changed" of an incremental
// backup). Both print what they did, the store's files and bytes on disk, and one
// `RESULT key=value ...` line for the script.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
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

const Actor kActor{"bench:backup", "bench"};

// Flushes everything written under `dir`, so the backup that follows does not pay for it.
void SyncFs(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::syncfs(fd);
    ::close(fd);
  }
}

struct Usage {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// Regular files under `dir` and the sum of their sizes (what a backup has to read).
Usage DiskUsage(const std::string& dir) {
  Usage u;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      ++u.files;
      u.bytes += it->file_size(ec);
    }
  }
  return u;
}

struct Target {
  std::string record_id;  // Empty: a new record.
  std::string patient_id;
};

// `n` puts spread over `threads` writers; `targets` (if not empty) gives each put its record.
double Fill(Archive& archive, std::uint64_t n, std::size_t size, int threads,
            const std::vector<Target>& targets) {
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  const auto start = Clock::now();
  std::int64_t last = 0;  // Progress, written by writer 0 only.
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      FastRandom rng(static_cast<std::uint64_t>(t) * 7919 + 17 +
                     static_cast<std::uint64_t>(::getpid()));
      Bytes content(size);
      while (true) {
        const std::uint64_t i = next.fetch_add(1);
        if (i >= n) break;
        rng.FillText(content);
        PutRequest req{.record_type = "clinical-note", .content = content};
        if (targets.empty()) {
          req.patient_id = "patient-" + std::to_string(rng.Next() % 10000);
        } else {
          req.record_id = targets[i].record_id;
          req.patient_id = targets[i].patient_id;
        }
        Result<PutResult> r = archive.PutRecord(kActor, req);
        if (!r && failures.fetch_add(1) == 0) {
          std::fprintf(stderr, "put failed: %s\n", r.error().ToString().c_str());
        }
        const auto s = static_cast<std::int64_t>(SecondsSince(start));
        if (t == 0 && s >= last + 10) {
          last = s;
          std::fprintf(stderr, "  [%llu/%llu versions, %lld s]\n",
                       static_cast<unsigned long long>(i), static_cast<unsigned long long>(n),
                       static_cast<long long>(s));
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
  if (failures.load() != 0) {
    Flags::Die(std::to_string(failures.load()) + " of " + std::to_string(n) + " puts failed");
  }
  return SecondsSince(start);
}

// `n` distinct existing records, picked at random.
std::vector<Target> PickRecords(Archive& archive, std::uint64_t n) {
  std::vector<Target> out;
  Check(archive.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(
        Statement * s,
        db.Prepare("SELECT record_id, patient_id FROM records ORDER BY random() LIMIT " +
                   std::to_string(n)));
    while (true) {
      HK_ASSIGN_OR_RETURN(const bool row, s->Step());
      if (!row) break;
      out.push_back(Target{s->ColumnText(0), s->ColumnText(1)});
    }
    db.ResetStatements();
    return OkStatus();
  }),
        "pick records");
  if (out.size() < n) {
    Flags::Die("the store has only " + std::to_string(out.size()) + " records; cannot change " +
               std::to_string(n));
  }
  return out;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  if (!flags.Has("store")) Flags::Die("--store <data directory> is required");
  const std::string store = std::filesystem::absolute(flags.Str("store", "")).string();
  const std::size_t size = flags.U64("size", 4096);
  const int threads = static_cast<int>(flags.U64("threads", 2));
  const bool add = flags.Has("add");
  const std::uint64_t n = add ? flags.U64("add", 0) : flags.U64("versions", 100000);
  if (n == 0 || threads < 1 || size == 0) Flags::Die("nothing to do (N, --size, --threads > 0)");

  const auto bench_start = Clock::now();
  PrintHeader("backup_bench", argc, argv, DirName(store));
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  const ArchiveOptions nosync{.sync = false};

  double init_seconds = 0;
  if (!add) {
    const auto t0 = Clock::now();
    Take(Archive::Init(env, store, kActor, nosync), "init " + store);
    init_seconds = SecondsSince(t0);
  }
  std::unique_ptr<Archive> archive = Take(Archive::Open(env, store, nosync), "open " + store);
  std::vector<Target> targets;
  if (add) targets = PickRecords(*archive, n);
  const double cpu0 = CpuSeconds();
  const double seconds = Fill(*archive, n, size, threads, targets);
  const double cpu = CpuSeconds() - cpu0;
  Take(archive->WriteCheckpoint(kActor), "checkpoint");
  const std::uint64_t audit_size = Take(archive->AuditSize(), "audit size");
  archive.reset();
  const auto f0 = Clock::now();
  SyncFs(store);
  const double flush_seconds = SecondsSince(f0);
  const Usage u = DiskUsage(store);

  std::printf("\n%s %llu versions of %zu bytes (%s) with %d writers, sync off\n",
              add ? "added" : "made", static_cast<unsigned long long>(n), size,
              add ? "new versions of random existing records" : "new records", threads);
  std::printf("%-34s %10.2f\n", "init (s)", init_seconds);
  std::printf("%-34s %10.2f\n", "puts (s)", seconds);
  std::printf("%-34s %10.0f\n", "versions/s", static_cast<double>(n) / seconds);
  std::printf("%-34s %10.0f\n", "cpu% (of all CPUs)", CpuPercent(cpu, seconds));
  std::printf("%-34s %10.2f\n", "flush (syncfs, s)", flush_seconds);
  std::printf("%-34s %10llu\n", "audit entries", static_cast<unsigned long long>(audit_size));
  std::printf("%-34s %10llu\n", "store files", static_cast<unsigned long long>(u.files));
  std::printf("%-34s %10.1f\n", "store MB (10^6 B, file sizes)",
              static_cast<double>(u.bytes) / 1e6);
  std::printf("RESULT phase=%s versions=%llu size=%zu seconds=%.3f files=%llu bytes=%llu\n",
              add ? "add" : "build", static_cast<unsigned long long>(n), size, seconds,
              static_cast<unsigned long long>(u.files), static_cast<unsigned long long>(u.bytes));
  PrintFooter(bench_start);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
