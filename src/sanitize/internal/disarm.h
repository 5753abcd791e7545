// The contract between Sanitize() (sanitize.cc) and the per-format disarmers. Each disarmer
// takes the bytes of one file of its format and returns the disarmed bytes — equal to the input
// when it found nothing to remove — recording every finding in the Context.
//   - An error Status with kInvalidArgument means the input is malformed for its format; the
//     file is then blocked with a "malformed" finding whose detail is the message. Messages
//     name the structure that is wrong, never content of the file.
//   - Something active that cannot be removed safely: Add() a finding with Action::kBlocked;
//     Sanitize() then blocks the file whatever the disarmer returns.
//   - Anything decompressed is charged with ChargeExpanded() first, so that nested archives and
//     zip bombs stop at the limits in SanitizeOptions::limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "sanitize/sanitize.h"

namespace hokan::sanitize_internal {

class Context {
 public:
  // A top-level context for one Sanitize() call.
  explicit Context(const SanitizeOptions& options);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const SanitizeOptions& options() const { return options_; }
  // The file's name as the sender gave it (top level), or its path inside its container.
  const std::string& declared_name() const { return declared_name_; }
  const SanitizeLimits& limits() const { return options_.limits; }
  int depth() const { return depth_; }

  // Records a finding. `active` marks active content (macro, script, embedded object or program,
  // a link that fetches or runs something): the policy's block/hold applies to a file with at
  // least one such finding. The location is prefixed with the path of enclosing containers.
  void Add(std::string kind, std::string_view location, SanitizeFinding::Action action,
           std::string detail, bool active = true);

  // Charges `bytes` of decompressed data against the limit for this whole Sanitize() call; a
  // kFailedPrecondition error (and a blocking "limit-exceeded" finding) when over it.
  Status ChargeExpanded(std::uint64_t bytes);
  // Checks one compressed entry against max_expansion_ratio (same error as above).
  Status CheckRatio(std::string_view location, std::uint64_t compressed, std::uint64_t expanded);

  // The type name of the output when it differs from the detected type (a docm disarmed into a
  // docx). Empty: same as the input's.
  void SetOutputType(std::string type_name) { output_type_ = std::move(type_name); }
  const std::string& output_type() const { return output_type_; }

  // Sanitises a member of a container (zip entry, embedded image) as a file of its own, one level
  // deeper, merging its findings (locations prefixed with `location` + "!/"). Depth and expansion
  // limits are shared with this context.
  SanitizeOutcome Nested(std::string_view location, ByteView content);

  const std::vector<SanitizeFinding>& findings() const { return findings_; }
  bool blocked() const;     // Some finding has Action::kBlocked, or a shared limit was hit.
  bool has_active() const;  // Some finding is active content.

 private:
  struct Shared {
    std::uint64_t expanded = 0;
    bool limit_hit = false;  // A shared limit was exceeded: the whole file is blocked.
  };
  Context(const SanitizeOptions& options, int depth, std::string prefix, Shared* shared,
          std::string declared_name);

  const SanitizeOptions& options_;
  int depth_ = 0;
  std::string prefix_;
  std::string declared_name_;
  Shared own_shared_;
  Shared* shared_;
  std::string output_type_;
  std::vector<SanitizeFinding> findings_;
};

// The pipeline for one file at the context's depth (sanitize.cc); Sanitize() and Nested() use it.
SanitizeOutcome Run(ByteView content, Context& ctx);

// Container types are decided by looking inside. nullopt: not a readable container.
std::optional<DetectedType> DetectZipType(ByteView in);   // ooxml.cc: docx, docm, ..., jar, zip
std::optional<DetectedType> DetectOle2Type(ByteView in);  // ole2.cc: doc, xls, ppt, msi, ole2

// Per-format disarmers (one .cc each). `type` is the detected type of `in`.
Result<Bytes> DisarmPdf(ByteView in, Context& ctx);                              // pdf.cc
Result<Bytes> DisarmOoxml(ByteView in, const DetectedType& type, Context& ctx);  // ooxml.cc
Result<Bytes> DisarmZip(ByteView in, Context& ctx);                              // archive.cc
Result<Bytes> DisarmOle2(ByteView in, const DetectedType& type, Context& ctx);   // ole2.cc
Result<Bytes> DisarmRtf(ByteView in, Context& ctx);                              // rtf.cc
Result<Bytes> DisarmImage(ByteView in, const DetectedType& type, Context& ctx);  // image.cc
Result<Bytes> DisarmText(ByteView in, const DetectedType& type, Context& ctx);   // text.cc

}  // namespace hokan::sanitize_internal
