// Helpers shared by the benchmark programs (header-only; each bench is one executable).
//
// Benchmarks are edges like main(): besides the Env they read /proc, statfs and the clock
// directly, because what they report is the machine itself.
#pragma once

#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/verify_report.h"

namespace hokan::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time (user + system, all threads) this process has used so far.
inline double CpuSeconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Share of the machine's CPUs this process used over `wall` seconds, in percent.
inline double CpuPercent(double cpu_seconds, double wall) {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return wall > 0 && n > 0 ? 100.0 * cpu_seconds / wall / static_cast<double>(n) : 0;
}

// --name value flags (and bare --name for booleans).
class Flags {
 public:
  Flags(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) Die("unexpected argument: " + a);
      a = a.substr(2);
      const std::size_t eq = a.find('=');
      if (eq != std::string::npos) {
        values_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) {
        values_[a] = argv[++i];
      } else {
        values_[a] = "true";
      }
    }
  }
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::string Str(const std::string& name, const std::string& def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  std::uint64_t U64(const std::string& name, std::uint64_t def) const {
    auto it = values_.find(name);
    if (it == values_.end()) return def;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0') Die("--" + name + " needs a number");
    return v;
  }
  double Double(const std::string& name, double def) const {
    auto it = values_.find(name);
    if (it == values_.end()) return def;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') Die("--" + name + " needs a number");
    return v;
  }
  // Comma-separated numbers: "1,4,16".
  std::vector<std::uint64_t> List(const std::string& name, const std::string& def) const {
    std::vector<std::uint64_t> out;
    std::stringstream ss(Str(name, def));
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (!item.empty()) out.push_back(std::strtoull(item.c_str(), nullptr, 10));
    }
    return out;
  }

  [[noreturn]] static void Die(const std::string& message) {
    std::fprintf(stderr, "bench: %s\n", message.c_str());
    std::exit(2);
  }

 private:
  std::map<std::string, std::string> values_;
};

inline void Check(const Status& st, const std::string& what) {
  if (!st.ok()) Flags::Die(what + ": " + st.ToString());
}
template <typename T>
T Take(Result<T> r, const std::string& what) {
  if (!r) Flags::Die(what + ": " + r.error().ToString());
  return std::move(r).value();
}

inline std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string LoadAverage() {
  std::string s = ReadSmallFile("/proc/loadavg");
  // "0.64 1.00 0.52 1/92 11383": the three averages.
  std::stringstream ss(s);
  std::string a, b, c;
  ss >> a >> b >> c;
  return a + " " + b + " " + c;
}

// A "Vm...:   1234 kB" line of /proc/self/status, in KiB (0 when absent).
inline std::uint64_t ProcStatusKiB(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
    }
  }
  return 0;
}

inline std::string MemTotal() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      const std::uint64_t kib = std::strtoull(line.c_str() + 9, nullptr, 10);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(kib) / (1024.0 * 1024.0));
      return buf;
    }
  }
  return "?";
}

inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "?";
}

// statfs(2) f_type of `path`, by name.
inline std::string FilesystemType(const std::string& path) {
  struct statfs st {};
  if (::statfs(path.c_str(), &st) != 0) return "?";
  const auto magic = static_cast<unsigned long>(st.f_type);
  switch (magic) {
    case 0xEF53UL:
      return "ext2/3/4 (0xef53)";
    case 0x58465342UL:
      return "xfs";
    case 0x9123683EUL:
      return "btrfs";
    case 0x01021994UL:
      return "tmpfs";
    case 0x794C7630UL:
      return "overlayfs";
    case 0x2FC12FC1UL:
      return "zfs";
    case 0xF2F52010UL:
      return "f2fs";
    case 0x6969UL:
      return "nfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", magic);
      return buf;
    }
  }
}

// The block device (or source) and type of the mount holding `path`, from
// /proc/self/mounts (longest mount-point prefix wins).
inline std::string MountOf(const std::string& path) {
  std::error_code ec;
  const std::string abs = std::filesystem::weakly_canonical(path, ec).string();
  std::ifstream in("/proc/self/mounts");
  std::string line, best_point, best;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string source, point, type, opts;
    ss >> source >> point >> type >> opts;
    const bool under =
        abs == point || point == "/" ||
        (abs.rfind(point, 0) == 0 && abs.size() > point.size() && abs[point.size()] == '/');
    if (under && point.size() >= best_point.size()) {
      best_point = point;
      best = source + " on " + point + " type " + type + " (" + opts + ")";
    }
  }
  return best.empty() ? "?" : best;
}

inline std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

inline std::string CommandLine(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

// The header every bench prints: what ran, where, when, and how busy the machine was.
inline void PrintHeader(const char* name, int argc, char** argv, const std::string& dir) {
  std::printf("== %s ==\n", name);
  std::printf("command:    %s\n", CommandLine(argc, argv).c_str());
  std::printf("date:       %s\n", UtcNow().c_str());
  std::printf("nproc:      %ld (%s)\n", ::sysconf(_SC_NPROCESSORS_ONLN), CpuModel().c_str());
  std::printf("memory:     %s\n", MemTotal().c_str());
  std::printf("dir:        %s\n", dir.c_str());
  std::printf("filesystem: %s; mount: %s\n", FilesystemType(dir).c_str(), MountOf(dir).c_str());
  std::printf("loadavg:    %s (at start)\n", LoadAverage().c_str());
  std::fflush(stdout);
}

inline void PrintFooter(Clock::time_point started) {
  std::printf("loadavg:    %s (at end); wall time %.1f s\n", LoadAverage().c_str(),
              SecondsSince(started));
  std::fflush(stdout);
}

// A scratch directory under --dir, removed (with everything in it) by Remove() or at exit.
class Scratch {
 public:
  explicit Scratch(const std::string& parent, const std::string& tag) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) Flags::Die("cannot create " + parent + ": " + ec.message());
    path_ = parent + "/" + tag + "-" + std::to_string(::getpid());
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directory(path_, ec);
    if (ec) Flags::Die("cannot create " + path_ + ": " + ec.message());
  }
  ~Scratch() { Remove(); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  void Remove() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec)
      std::fprintf(stderr, "bench: could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
    path_.clear();
  }

 private:
  std::string path_;
};

// Latency percentiles (sorts its input).
inline double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i =
      std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// Deterministic, fast filler for "random" contents (xorshift64*); not for secrets.
class FastRandom {
 public:
  explicit FastRandom(std::uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::uint64_t Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  void Fill(std::vector<std::uint8_t>& buf) {
    std::size_t i = 0;
    for (; i + 8 <= buf.size(); i += 8) {
      const std::uint64_t r = Next();
      for (int b = 0; b < 8; ++b) buf[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
    }
    for (; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(Next());
  }
  // Random printable text in lines of 64 (what a clinical note looks like to the sanitiser:
  // every put is sanitised, and random binary is refused as an unknown type).
  void FillText(std::vector<std::uint8_t>& buf) {
    static constexpr char kAlphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()";
    for (std::size_t i = 0; i < buf.size(); ++i) {
      buf[i] = (i % 65 == 64)
                   ? std::uint8_t{'\n'}
                   : static_cast<std::uint8_t>(kAlphabet[Next() % (sizeof kAlphabet - 1)]);
    }
  }

 private:
  std::uint64_t s_;
};

// A sink that counts problems and remembers the first few, and prints progress now and then.
class CountingSink final : public VerifySink {
 public:
  explicit CountingSink(bool show_progress = false) : show_progress_(show_progress) {}
  void Report(const Problem& p) override {
    (p.damage ? damage : warnings)++;
    if (examples.size() < 5) examples.push_back(p.object + ": " + p.message);
  }
  void Progress(std::string_view phase, std::uint64_t done, std::uint64_t total) override {
    if (!show_progress_) return;
    if (SecondsSince(last_) < 5) return;
    last_ = Clock::now();
    std::fprintf(stderr, "  [%s %llu/%llu]\n", std::string(phase).c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  }
  std::uint64_t damage = 0;
  std::uint64_t warnings = 0;
  std::vector<std::string> examples;

 private:
  bool show_progress_;
  Clock::time_point last_ = Clock::now();
};

// Runs this same executable with `args` in a fresh process (so its peak RSS is its own) and
// returns its exit status. Its stdout/stderr are ours.
inline int RunSelf(const std::vector<std::string>& args) {
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) Flags::Die("cannot find this executable: " + ec.message());
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) Flags::Die("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(self.c_str(), argv.data());
    std::_Exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) Flags::Die("waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace hokan::bench
