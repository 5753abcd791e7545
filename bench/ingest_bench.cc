// Ingest throughput: new 100 KB versions through Archive::PutRecord with 1, 4 and 16
// concurrent writers, durable (the default options), and once with sync off as a labelled
// non-durable reference. The peer, measured first in the same run on the same directory, is
// the disk itself: how many fsyncs per second it does, and how many "create a file, write
// it, fsync it, fsync its directory" (what every blob write costs).
//
//   ingest_bench --dir /work/bench-scratch [--size 100000] [--seconds 10] [--count N]
//                [--threads 1,4,16] [--nosync-threads 16] [--fsync-seconds 2]
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

struct Peer {
  std::uint64_t ops = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
};

// Flushes everything written under `dir` so one phase's writeback does not land in the next.
void SyncFs(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::syncfs(fd);
    ::close(fd);
  }
}

// Append 4 KiB, fdatasync, repeat: the cost of one durable log append.
Peer FsyncAppendRate(Env& env, const std::string& path, double seconds) {
  std::unique_ptr<WritableFile> f = Take(env.fs.NewWritableFile(path), "create " + path);
  const Bytes block(4096, 0x5a);
  Peer p;
  const auto start = Clock::now();
  while (SecondsSince(start) < seconds) {
    Check(f->Append(block), "append");
    Check(f->Sync(), "fdatasync");
    ++p.ops;
  }
  p.seconds = SecondsSince(start);
  Check(f->Close(), "close");
  return p;
}

// Overwrite the same 4 KiB, fdatasync, repeat: a flush with no size or allocation change.
Peer FsyncOverwriteRate(Env& env, const std::string& path, double seconds) {
  std::unique_ptr<RandomAccessFile> f =
      Take(env.fs.OpenRandomAccessFile(path, true), "open " + path);
  const Bytes block(4096, 0xa5);
  Check(f->Write(0, block), "write");
  Check(f->Sync(), "fdatasync");
  Peer p;
  const auto start = Clock::now();
  while (SecondsSince(start) < seconds) {
    Check(f->Write(0, block), "write");
    Check(f->Sync(), "fdatasync");
    ++p.ops;
  }
  p.seconds = SecondsSince(start);
  return p;
}

// Create a new file, write `size` bytes, fdatasync it, close, fsync its directory: exactly
// what FileBlobStore::Put does for each version. `threads` writers, each in its own directory.
Peer CreateFileRate(Env& env, const std::string& dir, std::size_t size, int threads,
                    double seconds) {
  Check(env.fs.CreateDir(dir), "mkdir " + dir);
  std::atomic<std::uint64_t> ops{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const std::string sub = JoinPath(dir, "t" + std::to_string(t));
      Check(env.fs.CreateDir(sub), "mkdir " + sub);
      Bytes data(size);
      FastRandom rng(static_cast<std::uint64_t>(t) + 1);
      rng.Fill(data);
      for (std::uint64_t i = 0; SecondsSince(start) < seconds; ++i) {
        const std::string path = JoinPath(sub, "f" + std::to_string(i));
        std::unique_ptr<WritableFile> f = Take(env.fs.NewWritableFile(path), "create " + path);
        Check(f->Append(data), "write");
        Check(f->Sync(), "fdatasync");
        Check(f->Close(), "close");
        Check(env.fs.SyncDir(sub), "fsync dir");
        ops.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (std::thread& th : pool) th.join();
  Peer p;
  p.ops = ops.load();
  p.seconds = SecondsSince(start);
  return p;
}

struct IngestResult {
  int threads = 0;
  bool sync = true;
  std::uint64_t versions = 0;
  std::uint64_t failures = 0;
  double seconds = 0;
  double batch = 0;  // Mean committer units per batch.
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double disk_fsyncs = 0;  // The peer, measured just before this case (1 s).
  double cpu_percent = 0;  // Of all CPUs, by this process, during the case.
};

const Actor kActor{"bench:ingest", "bench"};

std::string PatientId(FastRandom& rng) { return "patient-" + std::to_string(rng.Next() % 1000); }

// A fresh store, warmed up (see the comment inside), then `threads` writers of `size`-byte
// new records for `seconds` (or until `count` versions).
IngestResult Ingest(Env& env, const std::string& store_dir, int threads, bool sync,
                    std::size_t size, double seconds, std::uint64_t count) {
  const ArchiveOptions options{.sync = sync};
  Take(Archive::Init(env, store_dir, kActor, options), "init " + store_dir);

  // Warm-up, not timed: 3,000 tiny non-durable versions make every one of the 256 blob shard
  // directories exist (a fresh store otherwise pays an extra directory fsync for each of its
  // first ~256 blobs), then everything is flushed so no writeback is left over.
  const auto warm_start = Clock::now();
  {
    std::unique_ptr<Archive> warm =
        Take(Archive::Open(env, store_dir, ArchiveOptions{.sync = false}), "open (warm-up)");
    std::vector<std::thread> pool;
    for (int t = 0; t < 2; ++t) {
      pool.emplace_back([&, t] {
        FastRandom rng(1000 + static_cast<std::uint64_t>(t));
        Bytes content(1000);
        for (int i = 0; i < 1500; ++i) {
          rng.FillText(content);
          PutRequest req{
              .patient_id = PatientId(rng), .record_type = "warm-up", .content = content};
          Take(warm->PutRecord(kActor, req), "warm-up put");
        }
      });
    }
    for (std::thread& th : pool) th.join();
  }
  SyncFs(store_dir);
  std::fprintf(stderr, "  [init + warm-up + flush: %.1f s]\n", SecondsSince(warm_start));
  // The disk's fsync rate right now, next to this case's figures (the machine is shared).
  const double disk_fsyncs = FsyncAppendRate(env, store_dir + "-fsync.dat", 1.0).rate();

  std::unique_ptr<Archive> archive = Take(Archive::Open(env, store_dir, options), "open");
  Committer& committer = archive->db().committer();
  const std::uint64_t b0 = committer.batches();
  const std::uint64_t u0 = committer.units();

  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      FastRandom rng(static_cast<std::uint64_t>(t) * 7919 + 17);
      Bytes content(size);
      std::vector<double>& lat = latencies[static_cast<std::size_t>(t)];
      lat.reserve(1 << 16);
      while (true) {
        if (count > 0) {
          if (started.fetch_add(1) >= count) break;
        } else if (SecondsSince(start) >= seconds) {
          break;
        }
        rng.FillText(content);
        PutRequest req{
            .patient_id = PatientId(rng), .record_type = "clinical-note", .content = content};
        const auto t0 = Clock::now();
        Result<PutResult> r = archive->PutRecord(kActor, req);
        const double ms = SecondsSince(t0) * 1000.0;
        if (!r) {
          if (failures.fetch_add(1) == 0) {
            std::fprintf(stderr, "put failed: %s\n", r.error().ToString().c_str());
          }
          continue;
        }
        lat.push_back(ms);
      }
    });
  }
  for (std::thread& th : pool) th.join();

  IngestResult out;
  out.threads = threads;
  out.sync = sync;
  out.seconds = SecondsSince(start);
  out.cpu_percent = CpuPercent(CpuSeconds() - cpu0, out.seconds);
  out.failures = failures.load();
  out.disk_fsyncs = disk_fsyncs;
  const std::uint64_t batches = committer.batches() - b0;
  const std::uint64_t units = committer.units() - u0;
  out.batch = batches ? static_cast<double>(units) / static_cast<double>(batches) : 0;
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  out.versions = all.size();
  out.p50_ms = Percentile(all, 0.50);
  out.p99_ms = Percentile(all, 0.99);
  out.max_ms = all.empty() ? 0 : all.back();
  archive.reset();
  // The store stays until the end of the run: on ext4 without a journal (as here), creating
  // files soon after deleting many makes inode allocation skip the recently deleted inodes
  // one by one (ext4 recently_deleted()), which would slow the next case down.
  SyncFs(store_dir);
  return out;
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  if (!flags.Has("dir")) Flags::Die("--dir <scratch directory on the disk to measure> is required");
  const std::string dir = flags.Str("dir", "");
  const std::size_t size = flags.U64("size", 100000);
  const double seconds = flags.Double("seconds", 10);
  const std::uint64_t count = flags.U64("count", 0);
  const std::vector<std::uint64_t> thread_counts = flags.List("threads", "1,4,16");
  const std::uint64_t nosync_threads = flags.U64("nosync-threads", 16);
  const double fsync_seconds = flags.Double("fsync-seconds", 2);
  const std::uint64_t goal = flags.U64("goal", 2000);

  const auto bench_start = Clock::now();
  PrintHeader("ingest_bench", argc, argv, dir);
  Scratch scratch(dir, "hokan-ingest");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};

  std::printf("\n-- peer: this disk, same run (%s) --\n", scratch.path().c_str());
  const Peer append = FsyncAppendRate(env, scratch.Sub("fsync-append.dat"), fsync_seconds);
  const Peer overwrite = FsyncOverwriteRate(env, scratch.Sub("fsync-overwrite.dat"), fsync_seconds);
  const Peer create1 = CreateFileRate(env, scratch.Sub("create-1"), size, 1, fsync_seconds);
  const Peer create16 = CreateFileRate(env, scratch.Sub("create-16"), size, 16, fsync_seconds);
  std::printf("%-58s %10s %9s\n", "operation", "ops/s", "ms/op");
  auto peer_row = [](const char* what, const Peer& p, int threads) {
    std::printf("%-58s %10.0f %9.2f\n", what, p.rate(),
                p.ops ? 1000.0 * p.seconds * threads / static_cast<double>(p.ops) : 0.0);
  };
  peer_row("append 4 KiB + fdatasync (1 file, 1 thread)", append, 1);
  peer_row("overwrite 4 KiB + fdatasync (1 file, 1 thread)", overwrite, 1);
  char label[128];
  std::snprintf(label, sizeof label, "create + write %zu B + fdatasync + fsync(dir), 1 thread",
                size);
  peer_row(label, create1, 1);
  std::snprintf(label, sizeof label, "same, 16 threads (own dirs)");
  peer_row(label, create16, 16);
  std::fflush(stdout);
  SyncFs(scratch.path());  // Peer files are removed at the end (see Ingest()).

  std::printf("\n-- hokan: Archive::PutRecord, new records of %zu random bytes --\n", size);
  std::printf(
      "(each case: fresh store, untimed warm-up, then the disk's append+fdatasync rate "
      "for 1 s as its peer)\n");
  if (count > 0) {
    std::printf("(%llu versions per case)\n", static_cast<unsigned long long>(count));
  } else {
    std::printf("(%.0f s per case)\n", seconds);
  }
  std::printf("%-8s %-13s %9s %8s %11s %8s %10s %8s %8s %8s %12s %5s\n", "writers", "mode",
              "versions", "seconds", "versions/s", "MB/s", "mean batch", "p50 ms", "p99 ms",
              "max ms", "disk fsync/s", "cpu%");
  std::vector<IngestResult> results;
  auto run = [&](int threads, bool sync) {
    const std::string store =
        scratch.Sub("store-" + std::to_string(threads) + (sync ? "-durable" : "-nosync"));
    IngestResult r = Ingest(env, store, threads, sync, size, seconds, count);
    const double vps = static_cast<double>(r.versions) / r.seconds;
    std::printf("%-8d %-13s %9llu %8.2f %11.0f %8.1f %10.2f %8.2f %8.2f %8.2f %12.0f %5.0f%s\n",
                r.threads, sync ? "durable" : "NON-DURABLE",
                static_cast<unsigned long long>(r.versions), r.seconds, vps,
                vps * static_cast<double>(size) / 1e6, r.batch, r.p50_ms, r.p99_ms, r.max_ms,
                r.disk_fsyncs, r.cpu_percent,
                r.failures ? (" (" + std::to_string(r.failures) + " failed)").c_str() : "");
    std::fflush(stdout);
    results.push_back(r);
  };
  for (std::uint64_t t : thread_counts) run(static_cast<int>(t), true);
  if (nosync_threads > 0) run(static_cast<int>(nosync_threads), false);

  std::printf("\n");
  for (const IngestResult& r : results) {
    if (r.sync && r.threads == 16) {
      const double vps = static_cast<double>(r.versions) / r.seconds;
      std::printf("goal: >= %llu versions/s durable with 16 writers: %s (%.0f versions/s)\n",
                  static_cast<unsigned long long>(goal),
                  vps >= static_cast<double>(goal) ? "MET" : "NOT MET", vps);
    }
  }
  scratch.Remove();
  PrintFooter(bench_start);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
