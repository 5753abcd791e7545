// What confirming a version needs besides authorisation (issue 4): the trust material named by
// [signature] (signers' and TSAs' trust anchors, CRLs, accredited TSAs, qualifications per
// document type), a TSA client, and users' encrypted signing keys for server-side signing.
// ApiService (the API) and the local CLI both confirm through here.
//
// Thread-safe after Open.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "service/config.h"
#include "signature/cades.h"
#include "signature/timestamp.h"

namespace hokan {

class DevTsa;

// A TSA transport made from a function (e.g. the HTTP client of the edge), so that the layers
// above the service need not know the signature module's interface.
using TsaPostFn = std::function<Result<Bytes>(const std::string& url, ByteView request)>;
class FunctionTsaTransport : public TimestampTransport {
 public:
  explicit FunctionTsaTransport(TsaPostFn post) : post_(std::move(post)) {}
  Result<Bytes> Post(const std::string& url, ByteView request) override {
    return post_(url, request);
  }

 private:
  TsaPostFn post_;
};

class SignatureService {
 public:
  // Loads the files [signature] names (relative paths are inside `data_dir`). With
  // development_tsa, the development TSA's key and certificate are keys/dev-tsa.pem (made on
  // first use, mode 0600) and its certificate is trusted for timestamps. `transport` reaches
  // tsa_urls; it may be null when there are none. It must outlive the service.
  static Result<std::unique_ptr<SignatureService>> Open(Env& env, const std::string& data_dir,
                                                        const SignatureConfig& config,
                                                        TimestampTransport* transport);
  ~SignatureService();
  SignatureService(const SignatureService&) = delete;
  SignatureService& operator=(const SignatureService&) = delete;

  // A CAdES-BES signature made with the user's key file (<signing_keys_dir>/<user>.p12),
  // opened with `passphrase`. kNotFound when the user has no key file, kPermissionDenied for a
  // wrong passphrase.
  Result<Bytes> SignWithUserKey(const std::string& user_id, std::string_view passphrase,
                                ByteView content, TimePoint now);
  // A timestamp token over a SHA-256 digest (an evidence batch's root). kUnavailable when no
  // TSA answered.
  Result<Bytes> TimestampDigest(const Sha256Digest& digest, TimePoint now);
  // The TSA trust for archive timestamps and signature timestamps alike.
  TimestampVerifyOptions TsaOptions(TimePoint now) const;
  // CAdES-BES → CAdES-T: asks the TSAs for a token over the signature value. A signature that
  // already has a timestamp is returned as it is. kUnavailable when no TSA answered.
  Result<Bytes> AddTimestamp(ByteView signature, TimePoint now);
  // Verifies a confirmation signature over `content` (or, when content is empty and
  // `content_sha256` is given, against that hash) for a document of `record_type`: the
  // configured trust, a timestamp required, the type's qualifications and, for the types in
  // accredited_tsa_types, an accredited TSA.
  Result<SignatureReport> Verify(ByteView signature, std::optional<ByteView> content,
                                 const std::string& record_type, TimePoint now);
  SignatureVerifyOptions OptionsFor(const std::string& record_type, TimePoint now) const;
  bool can_timestamp() const;

 private:
  struct Impl;
  explicit SignatureService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hokan
