// The sanitiser as the service uses it: the [sanitize] configuration turned into a policy per
// source and type, the optional ClamAV scanner loaded once, and `hokan sanitize` on files
// (no store needed). Every way into the server calls Sanitizer::Check (issue 5).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "sanitize/sanitize.h"
#include "service/config.h"

namespace hokan {

class Sanitizer {
 public:
  // Loads the ClamAV database when the configuration names one (kNotFound/kDataLoss when it
  // can't be loaded: hokan does not start with a scanner it was told to use and can't).
  static Result<std::unique_ptr<Sanitizer>> Open(Env& env, const SanitizeConfig& config);
  ~Sanitizer();
  Sanitizer(const Sanitizer&) = delete;
  Sanitizer& operator=(const Sanitizer&) = delete;

  // The policy for files arriving from `source` (api, cli, import, maintenance).
  SanitizePolicy PolicyFor(std::string_view source) const;
  // Sanitises one file from `source`; see Sanitize() (sanitize.h).
  Result<SanitizeOutcome> Check(ByteView content, std::string_view source,
                                std::string declared_name) const;
  const SanitizeConfig& config() const { return config_; }
  bool has_malware_scanner() const { return scanner_ != nullptr; }

 private:
  Sanitizer() = default;
  SanitizeConfig config_;
  SanitizeLimits limits_;
  std::unique_ptr<MalwareScanner> scanner_;
};

// `hokan sanitize IN --out OUT --report R.json` (a mail-gateway or file-exchange filter).
struct FileSanitizeRequest {
  std::string output_path;  // "-": standard output. Written only for clean/disarmed files.
  std::string report_path;  // "" : none. Written for every outcome.
  std::string declared_name;
  std::string action = "disarm";   // For files with active content.
  std::vector<std::string> rules;  // "TYPE=ACTION", e.g. "docm=block".
  std::string clamav_database_dir;
};

struct FileSanitizeOutcome {
  SanitizeVerdict verdict = SanitizeVerdict::kBlocked;
  std::string summary;      // One line for people: verdict, type, what was removed or why.
  std::string report_json;  // docs/formats/sanitize-report.md
  Bytes output;             // For output_path "-": the caller writes it to standard output.
};

// kInvalidArgument for a bad action or rule; kNotFound/kDataLoss for a ClamAV directory that
// can't be loaded; kUnavailable when the output or report can't be written. The output file is
// written under a temporary name and renamed, so a reader never sees half a file.
Result<FileSanitizeOutcome> SanitizeFileContent(Env& env, ByteView content,
                                                const FileSanitizeRequest& request);

}  // namespace hokan
