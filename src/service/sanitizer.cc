#include "service/sanitizer.h"

#include <utility>

#include "sanitize/clamav.h"
#include "store/atomic_write.h"

namespace hokan {
namespace {

SanitizeAction ActionOrDisarm(std::string_view name) {
  Result<SanitizeAction> action = ParseSanitizeAction(name);
  return action.has_value() ? *action : SanitizeAction::kDisarm;
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Status WriteAtomically(Env& env, const std::string& path, ByteView bytes) {
  const auto [dir, name] = SplitPath(path);
  if (name.empty()) return InvalidArgumentError("no file name in " + path);
  Status st = WriteFileAtomically(env.fs, dir, name, bytes);
  if (!st.ok()) return UnavailableError("cannot write " + path + ": " + st.message());
  return OkStatus();
}

std::string Summary(const SanitizeReport& report) {
  std::string line = std::string(SanitizeVerdictName(report.verdict)) + ": " + report.detected.name;
  if (report.verdict == SanitizeVerdict::kDisarmed && report.output_type != report.detected.name) {
    line += " -> " + report.output_type;
  }
  if (!report.reason.empty()) return line + " (" + report.reason + ")";
  std::string removed;
  std::size_t count = 0;
  for (const SanitizeFinding& f : report.findings) {
    if (f.action != SanitizeFinding::Action::kRemoved &&
        f.action != SanitizeFinding::Action::kNeutralised) {
      continue;
    }
    ++count;
    if (removed.find(f.kind) == std::string::npos)
      removed += (removed.empty() ? "" : ", ") + f.kind;
  }
  if (count > 0) line += ", " + std::to_string(count) + " removed or neutralised (" + removed + ")";
  return line;
}

}  // namespace

Result<std::unique_ptr<Sanitizer>> Sanitizer::Open(Env& env, const SanitizeConfig& config) {
  std::unique_ptr<Sanitizer> s(new Sanitizer());
  s->config_ = config;
  s->limits_.max_expanded_bytes = config.max_expanded_mb << 20;
  s->limits_.max_expansion_ratio = static_cast<std::uint32_t>(config.max_expansion_ratio);
  s->limits_.max_archive_entries = static_cast<std::uint32_t>(config.max_archive_entries);
  s->limits_.max_depth = static_cast<std::uint32_t>(config.max_depth);
  for (const auto& [key, action] : config.rules) {
    if (!ParseSanitizeAction(action).has_value()) {
      std::string message = "sanitize rule ";
      message += key;
      message += ": unknown action ";
      message += action;
      return InvalidArgumentError(std::move(message));
    }
  }
  if (!ParseSanitizeAction(config.action).has_value()) {
    return InvalidArgumentError("sanitize.action: unknown action " + config.action);
  }
  if (!config.clamav_database_dir.empty()) {
    Result<std::unique_ptr<ClamavScanner>> scanner =
        ClamavScanner::Open(env.fs, config.clamav_database_dir, env.clock.Now());
    if (!scanner) return scanner.error();
    s->scanner_ = std::move(scanner.value());
  }
  return s;
}

Sanitizer::~Sanitizer() = default;

SanitizePolicy Sanitizer::PolicyFor(std::string_view source) const {
  SanitizePolicy policy;
  const std::string prefix = std::string(source) + ":";
  auto rule = [&](const std::string& key) -> const std::string* {
    const auto it = config_.rules.find(key);
    return it != config_.rules.end() ? &it->second : nullptr;
  };
  const std::string* source_default = rule(prefix + "*");
  if (source_default == nullptr) source_default = rule("*:*");  // The same as `action`.
  policy.default_action = ActionOrDisarm(source_default ? *source_default : config_.action);
  // Per type: "*:type" first, then "source:type" over it (the most specific wins).
  for (const auto& [key, action] : config_.rules) {
    if (key.starts_with("*:") && key != "*:*")
      policy.per_type[key.substr(2)] = ActionOrDisarm(action);
  }
  for (const auto& [key, action] : config_.rules) {
    if (key.starts_with(prefix) && key != prefix + "*") {
      policy.per_type[key.substr(prefix.size())] = ActionOrDisarm(action);
    }
  }
  return policy;
}

Result<SanitizeOutcome> Sanitizer::Check(ByteView content, std::string_view source,
                                         std::string declared_name) const {
  SanitizeOptions options;
  options.declared_name = std::move(declared_name);
  options.policy = PolicyFor(source);
  options.limits = limits_;
  options.scanner = scanner_.get();
  return Sanitize(content, options);
}

Result<FileSanitizeOutcome> SanitizeFileContent(Env& env, ByteView content,
                                                const FileSanitizeRequest& request) {
  SanitizeConfig config;
  config.action = request.action;
  config.clamav_database_dir = request.clamav_database_dir;
  for (const std::string& rule : request.rules) {
    const std::size_t eq = rule.find('=');
    if (eq == std::string::npos || eq == 0 || !ParseSanitizeAction(rule.substr(eq + 1))) {
      return InvalidArgumentError("--rule " + rule +
                                  ": expected TYPE=ACTION with ACTION disarm, block or hold");
    }
    config.rules["*:" + rule.substr(0, eq)] = rule.substr(eq + 1);
  }
  if (Result<SanitizeAction> action = ParseSanitizeAction(request.action); !action) {
    return InvalidArgumentError("--action: " + action.error().message());
  }
  HK_ASSIGN_OR_RETURN(std::unique_ptr<Sanitizer> sanitizer, Sanitizer::Open(env, config));
  HK_ASSIGN_OR_RETURN(SanitizeOutcome outcome,
                      sanitizer->Check(content, "cli", request.declared_name));

  FileSanitizeOutcome result;
  result.verdict = outcome.report.verdict;
  result.summary = Summary(outcome.report);
  result.report_json = SanitizeReportJson(outcome.report);
  if (!request.report_path.empty()) {
    HK_RETURN_IF_ERROR(WriteAtomically(env, request.report_path, AsBytes(result.report_json)));
  }
  const bool has_output = outcome.report.verdict == SanitizeVerdict::kClean ||
                          outcome.report.verdict == SanitizeVerdict::kDisarmed;
  if (has_output) {
    if (request.output_path == "-") {
      result.output = std::move(outcome.output);
    } else {
      HK_RETURN_IF_ERROR(WriteAtomically(env, request.output_path, outcome.output));
    }
  }
  return result;
}

}  // namespace hokan
