// Helper for crash_test.cc: writes small records from several threads until it is killed.
//
//   hk_write_stream <data dir> <threads>
//
// Prints one line per acknowledged write, "<record_id> <version> <sha256>", flushed before the
// next write starts, so every line the parent reads names a write that PutRecord returned OK
// for. Each thread alternates between creating a record and adding a version to its last one,
// and now and then signs a checkpoint, so a kill can land in any of those.
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/posix_env.h"
#include "service/archive.h"

namespace {

std::mutex print_mu;

void Writer(hokan::Archive& archive, int thread) {
  const hokan::Actor actor{"local:write-stream", "test"};
  std::string last_record;
  for (std::uint64_t i = 0;; ++i) {
    const std::string content = "thread " + std::to_string(thread) + " write " + std::to_string(i) +
                                " " + std::string(i % 97, 'x') + "\n";
    hokan::PutRequest req{.patient_id = "PAT-" + std::to_string(thread),
                          .record_type = "note",
                          .record_id = i % 2 == 1 ? last_record : "",
                          .content = hokan::AsBytes(content)};
    hokan::Result<hokan::PutResult> put = archive.PutRecord(actor, req);
    if (!put) {
      std::lock_guard<std::mutex> lock(print_mu);
      std::fprintf(stderr, "hk_write_stream: write failed: %s\n", put.error().message().c_str());
      continue;
    }
    last_record = put->version.record_id;
    {
      std::lock_guard<std::mutex> lock(print_mu);
      std::printf("%s %lld %s\n", put->version.record_id.c_str(),
                  static_cast<long long>(put->version.version), put->version.sha256.c_str());
      std::fflush(stdout);
    }
    if (i % 10 == 9) {
      const hokan::Status st = archive.CheckpointIfDue();
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(print_mu);
        std::fprintf(stderr, "hk_write_stream: checkpoint failed: %s\n", st.message().c_str());
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::umask(077);
  if (argc != 3) {
    std::fprintf(stderr, "usage: hk_write_stream <data dir> <threads>\n");
    return 2;
  }
  int threads = 0;
  const std::string_view n(argv[2]);
  if (std::from_chars(n.data(), n.data() + n.size(), threads).ec != std::errc() || threads < 1) {
    std::fprintf(stderr, "hk_write_stream: <threads> must be a positive number\n");
    return 2;
  }
  hokan::PosixFileSystem fs;
  hokan::SystemClock clock;
  hokan::Env env{fs, clock};
  hokan::Result<std::unique_ptr<hokan::Archive>> archive = hokan::Archive::Open(env, argv[1]);
  if (!archive) {
    std::fprintf(stderr, "hk_write_stream: %s\n", archive.error().message().c_str());
    return 1;
  }
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) workers.emplace_back(Writer, std::ref(**archive), t);
  for (std::thread& w : workers) w.join();  // Never: the parent kills us.
  return 0;
}
