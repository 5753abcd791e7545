#include "service/verification.h"

#include "signature/cades.h"
#include "signature/timestamp.h"
#include "signature/xades.h"

namespace hokan {
namespace {

// Inputs are certificates, CRLs, signatures and documents: generous but bounded.
constexpr std::uint64_t kMaxInputBytes = 256ULL << 20;

Result<Bytes> ReadInput(Env& env, const std::string& path, const char* what) {
  auto info = env.fs.Stat(path);
  if (!info.has_value()) {
    return NotFoundError(std::string("cannot read the ") + what + " file " + path);
  }
  if (info->size > kMaxInputBytes) {
    return InvalidArgumentError(std::string("the ") + what + " file " + path + " is too large");
  }
  auto bytes = env.fs.ReadFile(path);
  if (!bytes.has_value()) {
    return NotFoundError(std::string("cannot read the ") + what + " file " + path);
  }
  return std::move(*bytes);
}

Result<std::vector<Bytes>> ReadAll(Env& env, const std::vector<std::string>& paths,
                                   const char* what) {
  std::vector<Bytes> out;
  for (const std::string& p : paths) {
    HK_ASSIGN_OR_RETURN(Bytes b, ReadInput(env, p, what));
    out.push_back(std::move(b));
  }
  return out;
}

// A parse failure names the file it came from.
Status InFile(const Status& s, const std::string& path) {
  return Status(s.code(), path + ": " + s.message());
}

struct Trust {
  std::vector<Bytes> anchors;
  std::vector<Bytes> untrusted;
  std::vector<Bytes> crls;
};

Result<Trust> ReadTrust(Env& env, const FileVerifyRequest& r) {
  Trust t;
  HK_ASSIGN_OR_RETURN(t.anchors, ReadAll(env, r.trust_anchor_paths, "trust anchor"));
  HK_ASSIGN_OR_RETURN(t.untrusted, ReadAll(env, r.untrusted_paths, "certificate"));
  HK_ASSIGN_OR_RETURN(t.crls, ReadAll(env, r.crl_paths, "CRL"));
  return t;
}

TimestampVerifyOptions TsaOptions(const Trust& t, TimePoint now) {
  TimestampVerifyOptions o;
  o.trust_anchors = t.anchors;
  o.intermediates = t.untrusted;
  o.crls = t.crls;
  o.now = now;
  return o;
}

// The signer's trust and the request's checks, for CAdES and XAdES options alike.
template <class Options>
Options SignerOptions(const Trust& t, const FileVerifyRequest& r, TimePoint now) {
  Options o;
  o.trust_anchors = t.anchors;
  o.intermediates = t.untrusted;
  o.crls = t.crls;
  o.at = r.at;
  o.now = now;
  o.timestamp = TsaOptions(t, now);
  o.require_timestamp = r.require_timestamp;
  o.required_qualifications = r.required_qualifications;
  return o;
}

}  // namespace

Result<VerificationOutcome> VerifySignatureFile(Env& env, const FileVerifyRequest& request) {
  HK_ASSIGN_OR_RETURN(Bytes signature, ReadInput(env, request.input_path, "signature"));
  std::optional<Bytes> content;
  if (!request.content_path.empty()) {
    HK_ASSIGN_OR_RETURN(content, ReadInput(env, request.content_path, "content"));
  }
  HK_ASSIGN_OR_RETURN(Trust trust, ReadTrust(env, request));
  const auto o = SignerOptions<SignatureVerifyOptions>(trust, request, env.clock.Now());
  std::optional<ByteView> content_view;
  if (content.has_value()) content_view = ByteView(*content);
  auto report = VerifyCades(signature, content_view, o);
  if (!report.has_value()) return InFile(report.error(), request.input_path);
  return VerificationOutcome{report->valid, SignatureReportJson(*report)};
}

Result<VerificationOutcome> VerifyTimestampFile(Env& env, const FileVerifyRequest& request) {
  HK_ASSIGN_OR_RETURN(Bytes token, ReadInput(env, request.input_path, "timestamp"));
  if (request.content_path.empty()) return InvalidArgumentError("--data is required");
  HK_ASSIGN_OR_RETURN(Bytes data, ReadInput(env, request.content_path, "data"));
  HK_ASSIGN_OR_RETURN(Trust trust, ReadTrust(env, request));
  auto v = VerifyTimestamp(token, data, TsaOptions(trust, env.clock.Now()));
  if (!v.has_value()) return InFile(v.error(), request.input_path);
  return VerificationOutcome{v->valid, TimestampVerificationJson(*v)};
}

Result<VerificationOutcome> VerifyXadesFile(Env& env, const FileVerifyRequest& request) {
  HK_ASSIGN_OR_RETURN(Bytes xml, ReadInput(env, request.input_path, "XML"));
  HK_ASSIGN_OR_RETURN(Trust trust, ReadTrust(env, request));
  auto v = VerifyXades(xml, SignerOptions<XadesVerifyOptions>(trust, request, env.clock.Now()));
  if (!v.has_value()) return InFile(v.error(), request.input_path);
  return VerificationOutcome{v->valid, XadesVerificationJson(*v)};
}

}  // namespace hokan
