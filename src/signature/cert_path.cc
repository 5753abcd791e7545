#include "signature/cert_path.h"

#include <openssl/x509v3.h>

#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::CertificateSha256Hex;
using signature_internal::FromAsn1Time;
using signature_internal::NameText;
using signature_internal::ParseCertificate;
using signature_internal::ParseCertificates;
using signature_internal::ParseCrls;
using signature_internal::Ptr;

std::string TimeText(const ASN1_TIME* t) {
  Result<TimePoint> tp = FromAsn1Time(t);
  return tp.has_value() ? FormatRfc3339(*tp) : std::string("(malformed)");
}

CertificateSummary Summarize(X509* cert) {
  CertificateSummary s;
  s.subject = NameText(X509_get_subject_name(cert));
  s.issuer = NameText(X509_get_issuer_name(cert));
  s.serial = signature_internal::SerialHex(X509_get0_serialNumber(cert));
  s.sha256 = CertificateSha256Hex(cert);
  s.not_before = TimeText(X509_get0_notBefore(cert));
  s.not_after = TimeText(X509_get0_notAfter(cert));
  return s;
}

// Revocation of `cert` (issued by `issuer`) at `at` from the CRLs that `issuer` signed.
void CheckRevocation(X509* cert, X509* issuer, const std::vector<Ptr<X509_CRL>>& crls, TimePoint at,
                     CertificateStatus& out) {
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer);
  X509_CRL* best = nullptr;
  TimePoint best_time{};
  for (const auto& crl : crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) {
      continue;
    }
    if (issuer_key == nullptr || X509_CRL_verify(crl.get(), issuer_key) != 1) continue;
    Result<TimePoint> this_update = FromAsn1Time(X509_CRL_get0_lastUpdate(crl.get()));
    if (!this_update.has_value()) continue;
    // A CRL tells the status up to its issue time: it must be issued at or after the
    // reference time, or be current at that time (thisUpdate <= at <= nextUpdate).
    bool usable = *this_update >= at;
    if (!usable && X509_CRL_get0_nextUpdate(crl.get()) != nullptr) {
      Result<TimePoint> next_update = FromAsn1Time(X509_CRL_get0_nextUpdate(crl.get()));
      usable = next_update.has_value() && *next_update >= at;
    }
    if (usable && (best == nullptr || *this_update > best_time)) {
      best = crl.get();
      best_time = *this_update;
    }
  }
  ERR_clear_error();
  if (best == nullptr) {
    out.revocation = RevocationState::kUnknown;
    return;
  }
  out.crl_issued = FormatRfc3339(best_time);
  X509_REVOKED* entry = nullptr;
  if (X509_CRL_get0_by_cert(best, &entry, cert) == 1 && entry != nullptr) {
    Result<TimePoint> when = FromAsn1Time(X509_REVOKED_get0_revocationDate(entry));
    out.revoked_at = when.has_value() ? FormatRfc3339(*when) : "(malformed)";
    out.revocation = (!when.has_value() || *when <= at) ? RevocationState::kRevoked
                                                        : RevocationState::kRevokedLater;
    return;
  }
  out.revocation = RevocationState::kGood;
}

}  // namespace

const char* RevocationStateName(RevocationState s) {
  switch (s) {
    case RevocationState::kGood:
      return "good";
    case RevocationState::kRevoked:
      return "revoked";
    case RevocationState::kRevokedLater:
      return "revoked_after_reference_time";
    case RevocationState::kUnknown:
      return "unknown";
    case RevocationState::kNotChecked:
      return "not_checked";
  }
  return "unknown";
}

Result<PathValidation> ValidateCertificatePath(ByteView leaf_in,
                                               const PathValidationOptions& options) {
  HK_ASSIGN_OR_RETURN(Ptr<X509> leaf, ParseCertificate(leaf_in));
  Ptr<X509_STORE> store(X509_STORE_new());
  Ptr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!store || !untrusted) return InternalError("out of memory");
  int anchors = 0;
  for (const Bytes& in : options.trust_anchors) {
    HK_ASSIGN_OR_RETURN(auto certs, ParseCertificates(in));
    for (auto& cert : certs) {
      if (!options.anchor_sha256_pins.empty()) {
        const std::string fp = CertificateSha256Hex(cert.get());
        bool pinned = false;
        for (const std::string& pin : options.anchor_sha256_pins) pinned |= (pin == fp);
        if (!pinned) continue;
      }
      if (X509_STORE_add_cert(store.get(), cert.get()) == 1) ++anchors;
    }
  }
  ERR_clear_error();
  for (const Bytes& in : options.intermediates) {
    HK_ASSIGN_OR_RETURN(auto certs, ParseCertificates(in));
    HK_RETURN_IF_ERROR(signature_internal::PushCertificates(untrusted.get(), certs));
  }
  std::vector<Ptr<X509_CRL>> crls;
  for (const Bytes& in : options.crls) {
    HK_ASSIGN_OR_RETURN(auto parsed, ParseCrls(in));
    for (auto& c : parsed) crls.push_back(std::move(c));
  }

  PathValidation out;
  if (anchors == 0) {
    out.chain.push_back({Summarize(leaf.get()), RevocationState::kNotChecked, {}, {}});
    out.reason = options.trust_anchors.empty()
                     ? "no trust anchor is configured"
                     : "no configured trust anchor matches a pinned SHA-256 fingerprint";
    return out;
  }
  Ptr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return InternalError("cannot set up certificate path validation");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param,
                             static_cast<time_t>(signature_internal::ToUnixSeconds(options.at)));
  // A configured intermediate CA may be the anchor. No RFC 5280 explicit policy (HPKI).
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  const int ok = X509_verify_cert(ctx.get());
  Ptr<STACK_OF(X509)> chain(X509_STORE_CTX_get1_chain(ctx.get()));
  if (ok != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    out.reason = "the certificate path does not validate at " + FormatRfc3339(options.at) + ": " +
                 X509_verify_cert_error_string(err) +
                 (bad != nullptr ? " (" + NameText(X509_get_subject_name(bad)) + ")" : "");
  }
  ERR_clear_error();
  const int n = chain ? sk_X509_num(chain.get()) : 0;
  if (n == 0) out.chain.push_back({Summarize(leaf.get()), RevocationState::kNotChecked, {}, {}});
  for (int i = 0; i < n; ++i) {
    X509* cert = sk_X509_value(chain.get(), i);
    CertificateStatus status;
    status.certificate = Summarize(cert);
    if (ok == 1 && i + 1 < n) {
      CheckRevocation(cert, sk_X509_value(chain.get(), i + 1), crls, options.at, status);
    }
    out.chain.push_back(std::move(status));
  }
  if (ok != 1) return out;
  for (const CertificateStatus& s : out.chain) {
    if (s.revocation == RevocationState::kRevoked) {
      out.reason = "the certificate " + s.certificate.subject + " was revoked at " + s.revoked_at +
                   ", before the reference time " + FormatRfc3339(options.at);
      return out;
    }
    if (s.revocation == RevocationState::kUnknown && options.require_revocation) {
      out.reason = "no CRL from " + s.certificate.issuer + " covers the reference time " +
                   FormatRfc3339(options.at) + ", so the revocation status of " +
                   s.certificate.subject + " is unknown";
      return out;
    }
  }
  out.valid = true;
  return out;
}

}  // namespace hokan
