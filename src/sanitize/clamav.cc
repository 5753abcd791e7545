#include "sanitize/clamav.h"

#include <clamav.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace hokan {
namespace {

bool IsSignatureFile(std::string_view name) {
  for (std::string_view ext : {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".mdb", ".msb", ".ndb",
                               ".ldb", ".cdb", ".ign2", ".fp", ".sfp", ".yar", ".yara"}) {
    if (name.size() > ext.size() && name.ends_with(ext)) return true;
  }
  return false;
}

bool IsCvd(std::string_view name) {
  return name.ends_with(".cvd") || name.ends_with(".cld") || name.ends_with(".cud");
}

Status InitOnce() {
  static std::once_flag once;
  static cl_error_t result = CL_SUCCESS;
  std::call_once(once, [] { result = cl_init(CL_INIT_DEFAULT); });
  if (result != CL_SUCCESS) {
    return UnavailableError(std::string("libclamav could not start: ") + cl_strerror(result));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ClamavScanner>> ClamavScanner::Open(FileSystem& fs,
                                                           const std::string& database_dir,
                                                           TimePoint now) {
  HK_RETURN_IF_ERROR(InitOnce());
  HK_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(database_dir));
  std::sort(names.begin(), names.end());
  std::vector<std::string> signature_files;
  for (const std::string& name : names) {
    if (IsSignatureFile(name)) signature_files.push_back(name);
  }
  if (signature_files.empty()) {
    return NotFoundError("no ClamAV signature database (*.cvd, *.cld, *.hdb, ...) in " +
                         database_dir);
  }

  std::unique_ptr<ClamavScanner> scanner(new ClamavScanner());
  scanner->engine_version_ = std::string("ClamAV ") + cl_retver();
  // Newest signature time: a CVD header's signing time, else the file's modification time.
  TimePoint newest{};
  std::vector<std::string> versions;
  for (const std::string& name : signature_files) {
    std::string path = database_dir;
    path += "/";
    path += name;
    if (IsCvd(name)) {
      cl_cvd* head = cl_cvdhead(path.c_str());
      if (head == nullptr) return DataLossError("the ClamAV database " + path + " is damaged");
      newest = std::max(newest, TimePoint(std::chrono::seconds(head->stime)));
      versions.push_back(name.substr(0, name.size() - 4) + " " + std::to_string(head->version));
      cl_cvdfree(head);
    } else {
      HK_ASSIGN_OR_RETURN(FileInfo info, fs.Stat(path));
      newest = std::max(newest, info.modified);
      versions.push_back(name);
    }
  }
  for (std::size_t i = 0; i < versions.size(); ++i) {
    scanner->database_version_ += (i == 0 ? "" : ", ") + versions[i];
  }
  scanner->database_age_days_ = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::hours>(now - newest).count() / 24);

  scanner->engine_ = cl_engine_new();
  if (scanner->engine_ == nullptr) return UnavailableError("libclamav could not create an engine");
  // Programs and archives are handled by hokan's own limits; ClamAV's are kept at its defaults,
  // but a file is never skipped silently for being big: hokan blocks at max_input_bytes first.
  cl_engine_set_num(scanner->engine_, CL_ENGINE_MAX_FILESIZE, 1LL << 30);
  cl_engine_set_num(scanner->engine_, CL_ENGINE_MAX_SCANSIZE, 1LL << 30);
  unsigned signatures = 0;
  cl_error_t loaded = cl_load(database_dir.c_str(), scanner->engine_, &signatures, CL_DB_STDOPT);
  if (loaded != CL_SUCCESS) {
    return DataLossError("ClamAV could not load the signatures in " + database_dir + ": " +
                         cl_strerror(loaded));
  }
  cl_error_t compiled = cl_engine_compile(scanner->engine_);
  if (compiled != CL_SUCCESS) {
    return DataLossError(std::string("ClamAV could not prepare its signatures: ") +
                         cl_strerror(compiled));
  }
  scanner->signature_count_ = signatures;
  return scanner;
}

ClamavScanner::~ClamavScanner() {
  if (engine_ != nullptr) cl_engine_free(engine_);
}

Status ClamavScanner::Scan(ByteView content, MalwareScanInfo& info) const {
  info.engine = engine_version_;
  info.database_version = database_version_;
  info.database_age_days = database_age_days_;
  info.signatures.clear();
  cl_fmap_t* map = cl_fmap_open_memory(content.data(), content.size());
  if (map == nullptr) return UnavailableError("ClamAV could not map the file for scanning");
  cl_scan_options options{};
  options.general = CL_SCAN_GENERAL_ALLMATCHES;
  options.parse = ~0u;
  const char* virus = nullptr;
  unsigned long scanned = 0;  // NOLINT(google-runtime-int): libclamav's type.
  cl_error_t result =
      cl_scanmap_callback(map, nullptr, &virus, &scanned, engine_, &options, nullptr);
  cl_fmap_close(map);
  if (result == CL_VIRUS) {
    info.signatures.emplace_back(virus != nullptr ? virus : "unnamed");
    return OkStatus();
  }
  if (result != CL_CLEAN) {
    return UnavailableError(std::string("ClamAV could not scan the file: ") + cl_strerror(result));
  }
  return OkStatus();
}

}  // namespace hokan
