// Signatures and timestamps (issue 4): what confirming (確定) a version costs, next to the
// machine's own RSA-2048 signing rate (`openssl speed rsa2048`, measured by
// bench/run_signature_benchmarks.sh in the same run and passed in with --peer-*).
//
// Phases (--phases, default "micro,pipeline,verify,store,tree"; each prints its load average):
//   micro     One thread, the parts of a signature with OpenSSL directly: a raw RSA-2048
//             SHA-256 signature with the doctor's key (what `openssl speed` measures), and
//             parsing that key and certificate from PEM (what SignCades does per call).
//   pipeline  Per confirmation, in T threads for --seconds: a CAdES-BES signature with the
//             development HPKI's RSA-2048 "Medical Doctor" key (SignCades), a signature
//             timestamp from an in-process development TSA (SignatureValue → SHA-256 →
//             MakeTimestampRequest → DevTsa::Respond → TokenFromResponse →
//             AddSignatureTimestamp), and a full VerifyCades of the CAdES-T result with the
//             real trust options (the root as anchor, CRLs, revocation required, timestamp
//             required), over --content-size random bytes, new for each confirmation. Time per
//             step is summed in every thread. --tsa picks the TSA(s): `hpki` = the PKI's TSA
//             certificate (RSA-2048, issued by the TSA CA under the same root: a TSA in the
//             real one's shape), `p256` = a self-signed P-256 TSA (what a store's
//             development TSA is, keys/dev-tsa.pem).
//   verify    VerifyCades of CAdES-T signatures (a pool of 16, made beforehand) in T threads
//             for --verify-seconds: with the content, and by the stored hash
//             (options.content_sha256, no content); then, as a REFERENCE that is not hokan's
//             code, OpenSSL's CMS_verify of the same signatures and their tokens with the
//             trust parsed once; then each check VerifyCades makes, alone, in one thread.
//   store     End to end through a fresh store, as `hokan demo` makes one: Archive::Init with
//             ConfigureDemoSigning, WriteDemoHpki, --versions versions of --content-size
//             random bytes put with Archive::PutRecord (4 threads, sync off: not measured),
//             the store reopened durable, ApiService::Open, CreateLocalUser and
//             InstallDemoSigner (server-side key, PKCS#12); then ApiService::ConfirmLocal with
//             the key's passphrase in T threads over distinct versions for --seconds each
//             (PKCS#12 decryption, signing, the store's development TSA, verification, durable
//             commit and audit). Then the same parts one by one in one thread (ReadPkcs12,
//             SignWithUserKey, AddTimestamp, Verify, ReadContent) to show where the time goes,
//             `ApiService::RenewEvidence` over every confirmation made (one batch, one TSA
//             request), and its per-record parts (CollectValidationData,
//             VerifyEvidenceRecord).
//   tree      BuildHashTree over --tree-groups groups of 3 random SHA-256 hashes (a
//             confirmation's evidence group: content, signature, validation data).
//
//   signature_bench --dir /work/bench-scratch [--phases ...] [--threads 1,2] [--seconds 10]
//                   [--verify-seconds 5] [--content-size 4096] [--tsa hpki,p256]
//                   [--versions 12000] [--tree-groups 100000]
//                   [--peer-sign-1 S1 --peer-sign-2 S2]   (openssl speed rsa2048 sign/s)
//
// Prints a table per phase and "RESULT key=value ..." lines for the script; removes its
// scratch data at the end.
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "base/env.h"
#include "base/posix_env.h"
#include "bench_util.h"
#include "crypto/crypto.h"
#include "service/api_service.h"
#include "service/archive.h"
#include "service/demo_setup.h"
#include "service/signing.h"
#include "signature/cades.h"
#include "signature/cert_path.h"
#include "signature/dev_pki.h"
#include "signature/evidence.h"
#include "signature/hpki.h"
#include "signature/keys.h"
#include "signature/timestamp.h"
#include "signature/tsa.h"

namespace hokan::bench {
namespace {

const Actor kActor{"bench:signature", "cli"};
constexpr char kUser[] = "dr-bench";
constexpr char kRecordType[] = "discharge-summary";

// The peer, measured by the script in the same run: `openssl speed rsa2048` sign/s.
struct Peer {
  double sign_1 = 0;  // 1 process (0: not given).
  double sign_2 = 0;  // -multi 2: both cores.
};

TimePoint WallNow() { return std::chrono::system_clock::now(); }

std::vector<std::uint8_t> RandomContent(FastRandom& rng, std::size_t size) {
  std::vector<std::uint8_t> v(size);
  rng.FillText(v);
  return v;
}

void PrintPhase(const char* name) {
  std::printf("\n-- %s (%s, loadavg %s) --\n", name, UtcNow().c_str(), LoadAverage().c_str());
  std::fflush(stdout);
}

std::string Ratio(double per_s, double peer) {
  if (peer <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * per_s / peer);
  return buf;
}

// --- running T threads for a while --------------------------------------------------------------

// Time spent per step, summed over a thread's operations (seconds).
constexpr int kSteps = 4;
using StepTimes = std::array<double, kSteps>;

struct Run {
  std::uint64_t ops = 0;
  double wall = 0;
  double cpu = 0;
  StepTimes steps{};  // Summed over threads.
  double per_s() const { return wall > 0 ? static_cast<double>(ops) / wall : 0; }
  double cpu_pct() const { return CpuPercent(cpu, wall); }
  // Wall ms per operation in each of `threads` threads, and process CPU ms per operation.
  double ms_each(std::uint64_t threads) const {
    return ops > 0 ? 1000.0 * wall * static_cast<double>(threads) / static_cast<double>(ops) : 0;
  }
  double cpu_ms() const { return ops > 0 ? 1000.0 * cpu / static_cast<double>(ops) : 0; }
  // Mean ms per operation of step i (thread time, not wall time).
  double ms(int i) const {
    return ops > 0 ? 1000.0 * steps[static_cast<std::size_t>(i)] / static_cast<double>(ops) : 0;
  }
};

// Calls `op(thread, steps)` in `threads` threads until `seconds` pass or an op returns false
// (nothing left to do). `op` adds its own step times to `steps`.
template <typename Op>
Run RunThreads(std::size_t threads, double seconds, Op op) {
  std::atomic<std::uint64_t> ops{0};
  std::vector<StepTimes> per_thread(threads, StepTimes{});
  const double cpu0 = CpuSeconds();
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (Clock::now() < deadline) {
        if (!op(t, per_thread[t])) break;
        ops.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (std::thread& th : pool) th.join();
  Run r;
  r.wall = SecondsSince(start);
  r.cpu = CpuSeconds() - cpu0;
  r.ops = ops.load();
  for (const StepTimes& s : per_thread) {
    for (std::size_t i = 0; i < s.size(); ++i) r.steps[i] += s[i];
  }
  return r;
}

// Adds the seconds since `t` to `acc` and restarts `t`.
void Lap(Clock::time_point& t, double& acc) {
  const auto now = Clock::now();
  acc += std::chrono::duration<double>(now - t).count();
  t = now;
}

// --- the PKI, the TSAs and the trust options ----------------------------------------------------

struct Tsa {
  std::string name;         // "hpki" or "p256".
  std::string description;  // For the table.
  std::unique_ptr<DevTsa> tsa;
  SignatureVerifyOptions verify;  // The signer's trust and this TSA's.
};

struct Setup {
  DevHpki pki;
  CadesSignOptions sign;  // The doctor's certificate, key and CA chain.
  std::vector<Tsa> tsas;
};

Setup MakeSetup(const std::string& which_tsas) {
  Setup s;
  const auto t0 = Clock::now();
  s.pki = Take(MakeDevHpki(WallNow()), "development PKI");
  std::printf("development PKI (10 RSA-2048 keys, certificates, CRLs) made in %.2f s\n",
              SecondsSince(t0));
  s.sign.signer_cert_pem = s.pki.doctor.cert_pem;
  s.sign.signer_key_pem = s.pki.doctor.key_pem;
  s.sign.chain_pem = {s.pki.signing_ca.cert_pem};
  s.sign.detached = true;

  // The trust a store has (ConfigureDemoSigning + SignatureService::OptionsFor): the root as
  // anchor, the CRLs, revocation required for the signer, a timestamp required.
  SignatureVerifyOptions base;
  base.trust_anchors = {ToBytes(s.pki.root.cert_pem)};
  base.crls = {ToBytes(s.pki.signing_ca_crl), ToBytes(s.pki.root_crl), ToBytes(s.pki.tsa_ca_crl)};
  base.require_revocation = true;
  base.require_timestamp = true;
  base.timestamp.crls = base.crls;

  std::stringstream ss(which_tsas);
  std::string name;
  while (std::getline(ss, name, ',')) {
    Tsa t;
    t.name = name;
    t.verify = base;
    if (name == "hpki") {
      t.description = "RSA-2048 TSA certificate from the PKI's TSA CA (chain to the root)";
      t.tsa = Take(DevTsa::Create(s.pki.tsa, s.pki.tsa_ca.cert_pem), "TSA");
      t.verify.timestamp.trust_anchors = {ToBytes(s.pki.root.cert_pem)};
    } else if (name == "p256") {
      t.description = "self-signed P-256 TSA certificate (as a store's keys/dev-tsa.pem)";
      t.tsa = Take(DevTsa::CreateSelfSigned(WallNow() - std::chrono::hours(1)), "TSA");
      t.verify.timestamp.trust_anchors = {ToBytes(t.tsa->certificate_pem())};
    } else {
      Flags::Die("--tsa takes hpki and/or p256, not " + name);
    }
    s.tsas.push_back(std::move(t));
  }
  return s;
}

// One confirmation's work without a store. steps: 0 sign, 1 TSA (Respond), 2 timestamp
// client side (value, request, token, attach), 3 verify.
Bytes ConfirmOnce(const Setup& s, const Tsa& tsa, ByteView content, StepTimes& steps) {
  auto t = Clock::now();
  const TimePoint now = WallNow();
  CadesSignOptions o = s.sign;
  o.signing_time = now;
  const Bytes sig = Take(SignCades(content, o), "SignCades");
  Lap(t, steps[0]);
  const Bytes value = Take(SignatureValue(sig), "SignatureValue");
  const Sha256Digest digest = Sha256(value);
  const TimestampRequest req = Take(MakeTimestampRequest(digest), "MakeTimestampRequest");
  Lap(t, steps[2]);
  const Bytes resp = Take(tsa.tsa->Respond(req.der, now), "DevTsa::Respond");
  Lap(t, steps[1]);
  const Bytes token = Take(TokenFromResponse(resp), "TokenFromResponse");
  Bytes stamped = Take(AddSignatureTimestamp(sig, token), "AddSignatureTimestamp");
  Lap(t, steps[2]);
  SignatureVerifyOptions v = tsa.verify;
  v.now = now;
  const SignatureReport report = Take(VerifyCades(stamped, content, v), "VerifyCades");
  if (!report.valid || report.level != "CAdES-T") {
    Flags::Die("a confirmation does not verify: " + report.reason);
  }
  Lap(t, steps[3]);
  return stamped;
}

// --- micro: the parts of a signature, with OpenSSL directly -------------------------------------

template <typename Fn>
double PerSecond(double seconds, Fn fn) {
  std::uint64_t n = 0;
  const auto start = Clock::now();
  while (SecondsSince(start) < seconds) {
    fn();
    ++n;
  }
  return static_cast<double>(n) / SecondsSince(start);
}

void Micro(const Setup& s, const Peer& peer) {
  PrintPhase("micro: the parts of one signature, 1 thread, OpenSSL directly");
  const std::string& key_pem = s.pki.doctor.key_pem;
  auto parse_key = [&] {
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return k;
  };
  EVP_PKEY* key = parse_key();
  if (key == nullptr) Flags::Die("cannot parse the doctor's key");
  std::array<unsigned char, 32> msg{};
  std::array<unsigned char, 512> out{};
  const double raw = PerSecond(3, [&] {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = out.size();
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx, out.data(), &len, msg.data(), msg.size()) != 1) {
      Flags::Die("raw RSA signature failed");
    }
    EVP_MD_CTX_free(ctx);
  });
  EVP_PKEY_free(key);
  const double key_parse = PerSecond(2, [&] { EVP_PKEY_free(parse_key()); });
  const std::string& cert_pem = s.pki.doctor.cert_pem;
  const double cert_parse = PerSecond(2, [&] {
    BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509_free(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
    BIO_free(bio);
  });
  FastRandom rng(7);
  const Bytes content = RandomContent(rng, 4096);
  const double cades = PerSecond(3, [&] {
    CadesSignOptions o = s.sign;
    o.signing_time = WallNow();
    Take(SignCades(content, o), "SignCades");
  });
  std::printf("%-58s %10s %10s\n", "operation (1 thread)", "ops/s", "ms/op");
  auto row = [](const char* what, double per_s) {
    std::printf("%-58s %10.0f %10.3f\n", what, per_s, per_s > 0 ? 1000.0 / per_s : 0);
  };
  row("RSA-2048 sign, SHA-256, EVP_DigestSign (key parsed once)", raw);
  row("parse the RSA-2048 private key from PEM (PKCS#8)", key_parse);
  row("parse the signer's certificate from PEM", cert_parse);
  row("SignCades, 4 KiB detached (parses cert + key each call)", cades);
  std::printf("openssl speed rsa2048 sign/s (1 process, from the script): %.0f\n", peer.sign_1);
  std::printf(
      "RESULT phase=micro raw_sign_per_s=%.0f key_parse_per_s=%.0f cert_parse_per_s=%.0f "
      "signcades_per_s=%.0f peer_sign_1=%.0f\n",
      raw, key_parse, cert_parse, cades, peer.sign_1);
  std::fflush(stdout);
}

// --- pipeline -----------------------------------------------------------------------------------

void Pipeline(const Setup& s, const Peer& peer, const std::vector<std::uint64_t>& threads,
              double seconds, std::size_t content_size) {
  for (const Tsa& tsa : s.tsas) {
    PrintPhase(("pipeline: sign + timestamp + verify, TSA " + tsa.name).c_str());
    std::printf("TSA: %s\n", tsa.description.c_str());
    {  // Warm-up, untimed.
      StepTimes ignored{};
      FastRandom rng(1);
      for (int i = 0; i < 5; ++i) ConfirmOnce(s, tsa, RandomContent(rng, content_size), ignored);
    }
    std::printf(
        "%7s %8s %11s %9s %5s %7s | %7s %7s %9s %7s %7s  (ms per confirmation, in its thread)\n",
        "threads", "confirms", "confirms/s", "vs 2-core", "cpu%", "cpu ms", "sign", "TSA",
        "ts-client", "verify", "total");
    for (const std::uint64_t n : threads) {
      std::vector<FastRandom> rngs;
      for (std::uint64_t t = 0; t < n; ++t) rngs.emplace_back(1000 + t);
      const Run r = RunThreads(n, seconds, [&](std::size_t t, StepTimes& steps) {
        const Bytes content = RandomContent(rngs[t], content_size);
        ConfirmOnce(s, tsa, content, steps);
        return true;
      });
      const double total = r.ms(0) + r.ms(1) + r.ms(2) + r.ms(3);
      std::printf(
          "%7llu %8llu %11.1f %9s %4.0f%% %7.3f | %7.3f %7.3f %9.3f %7.3f %7.3f   loadavg %s\n",
          static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.ops), r.per_s(),
          Ratio(r.per_s(), peer.sign_2).c_str(), r.cpu_pct(), r.cpu_ms(), r.ms(0), r.ms(1), r.ms(2),
          r.ms(3), total, LoadAverage().c_str());
      std::printf(
          "RESULT phase=pipeline tsa=%s threads=%llu ops=%llu seconds=%.2f per_s=%.1f "
          "cpu_pct=%.0f cpu_ms=%.3f sign_ms=%.3f tsa_ms=%.3f tsclient_ms=%.3f verify_ms=%.3f "
          "total_ms=%.3f peer_sign_2=%.0f ratio_2core=%.3f\n",
          tsa.name.c_str(), static_cast<unsigned long long>(n),
          static_cast<unsigned long long>(r.ops), r.wall, r.per_s(), r.cpu_pct(), r.cpu_ms(),
          r.ms(0), r.ms(1), r.ms(2), r.ms(3), total, peer.sign_2,
          peer.sign_2 > 0 ? r.per_s() / peer.sign_2 : 0);
      std::fflush(stdout);
    }
  }
}

// --- verify -------------------------------------------------------------------------------------

// DER of the first certificate in `pem` (VerifyCades hands its checks DER).
Bytes PemCertToDer(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (x == nullptr) Flags::Die("cannot parse a certificate");
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  X509_free(x);
  if (n <= 0) Flags::Die("cannot encode a certificate");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

// The checks VerifyCades makes, each alone (1 thread): where a verification's time goes.
void VerifyParts(const Setup& s, const Tsa& tsa, TimePoint now) {
  FastRandom rng(5);
  const Bytes content = RandomContent(rng, 4096);
  CadesSignOptions o = s.sign;
  o.signing_time = WallNow();
  const Bytes sig = Take(SignCades(content, o), "SignCades");
  const Bytes value = Take(SignatureValue(sig), "SignatureValue");
  const TimestampRequest req = Take(MakeTimestampRequest(Sha256(value)), "request");
  const Bytes token =
      Take(TokenFromResponse(Take(tsa.tsa->Respond(req.der, WallNow()), "Respond")), "token");
  const Bytes stamped = Take(AddSignatureTimestamp(sig, token), "AddSignatureTimestamp");
  const Bytes leaf = PemCertToDer(s.pki.doctor.cert_pem);
  PathValidationOptions path;
  path.trust_anchors = tsa.verify.trust_anchors;
  path.intermediates = {PemCertToDer(s.pki.doctor.cert_pem),
                        PemCertToDer(s.pki.signing_ca.cert_pem)};
  path.crls = tsa.verify.crls;
  path.at = now;
  path.require_revocation = true;
  TimestampVerifyOptions ts = tsa.verify.timestamp;
  ts.now = now;
  SignatureVerifyOptions all = tsa.verify;
  all.now = now;
  struct Part {
    const char* what;
    double per_s;
  };
  auto whole = [&] {
    if (!Take(VerifyCades(stamped, content, all), "VerifyCades").valid) Flags::Die("invalid");
  };
  auto signer_path = [&] {
    if (!Take(ValidateCertificatePath(leaf, path), "path").valid) Flags::Die("invalid path");
  };
  auto timestamp = [&] {
    if (!Take(VerifyTimestamp(token, value, ts), "timestamp").valid) Flags::Die("invalid token");
  };
  const std::vector<Part> parts = {
      {"VerifyCades, whole (for comparison)", PerSecond(2, whole)},
      {"ValidateCertificatePath, signer (2 CAs, 3 CRLs)", PerSecond(2, signer_path)},
      {"VerifyTimestamp, signature timestamp (token + TSA path)", PerSecond(2, timestamp)},
      {"ReadHpkiProfile, signer", PerSecond(2, [&] { Take(ReadHpkiProfile(leaf), "hpki"); })},
      {"SignatureValue (parse the CMS, take the value)",
       PerSecond(2, [&] { Take(SignatureValue(stamped), "value"); })},
  };
  std::printf("the checks inside one VerifyCades, each alone (1 thread, TSA %s):\n",
              tsa.name.c_str());
  std::printf("%-58s %10s %10s\n", "part", "ops/s", "ms each");
  double sum = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const double ms = 1000.0 / parts[i].per_s;
    if (i > 0) sum += ms;
    std::printf("%-58s %10.0f %10.3f\n", parts[i].what, parts[i].per_s, ms);
  }
  std::printf("%-58s %10s %10.3f\n", "sum of the parts", "", sum);
  std::printf(
      "RESULT phase=verify-parts tsa=%s whole_ms=%.3f path_ms=%.3f timestamp_ms=%.3f "
      "hpki_ms=%.3f cms_parse_ms=%.3f\n",
      tsa.name.c_str(), 1000.0 / parts[0].per_s, 1000.0 / parts[1].per_s, 1000.0 / parts[2].per_s,
      1000.0 / parts[3].per_s, 1000.0 / parts[4].per_s);
  std::fflush(stdout);
}

// OpenSSL's queued errors, for a message.
std::string OpensslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "(no OpenSSL error)" : out;
}

// A reference, NOT hokan's code path: OpenSSL's own CMS_verify of the same CAdES-T signature
// with the trust material parsed once (an X509_STORE holding the anchor and the CRLs, CRL
// checks on for the signer's path), and CMS_verify of its signature timestamp token likewise
// (TSA path without CRL checks; the token's imprint is not compared). What this OpenSSL can do
// per verification when certificates, anchors and CRLs are not parsed again on every call.
class ReferenceVerifier {
 public:
  explicit ReferenceVerifier(const SignatureVerifyOptions& v)
      : store_(MakeStore(v.trust_anchors, v.crls, true)),
        tsa_store_(MakeStore(v.timestamp.trust_anchors, v.timestamp.crls, false)) {}
  ~ReferenceVerifier() {
    X509_STORE_free(store_);
    X509_STORE_free(tsa_store_);
  }
  ReferenceVerifier(const ReferenceVerifier&) = delete;
  ReferenceVerifier& operator=(const ReferenceVerifier&) = delete;

  bool Verify(ByteView signature, ByteView content) const {
    const unsigned char* p = signature.data();
    CMS_ContentInfo* cms = d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(signature.size()));
    if (cms == nullptr) return false;
    BIO* data = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
    bool ok = CMS_verify(cms, nullptr, store_, data, nullptr, CMS_BINARY) == 1;
    BIO_free(data);
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    CMS_SignerInfo* si = infos != nullptr ? sk_CMS_SignerInfo_value(infos, 0) : nullptr;
    const int i =
        si != nullptr ? CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1) : -1;
    ASN1_TYPE* t = i >= 0 ? X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, i), 0) : nullptr;
    if (t == nullptr || t->type != V_ASN1_SEQUENCE) {
      ok = false;
    } else {
      const unsigned char* q = ASN1_STRING_get0_data(t->value.sequence);
      CMS_ContentInfo* token =
          d2i_CMS_ContentInfo(nullptr, &q, ASN1_STRING_length(t->value.sequence));
      ok = ok && token != nullptr &&
           CMS_verify(token, nullptr, tsa_store_, nullptr, nullptr, CMS_BINARY) == 1;
      CMS_ContentInfo_free(token);
    }
    CMS_ContentInfo_free(cms);
    if (ok) ERR_clear_error();  // Else the caller may print them.
    return ok;
  }

 private:
  static X509_STORE* MakeStore(const std::vector<Bytes>& anchors, const std::vector<Bytes>& crls,
                               bool check_crls) {
    X509_STORE* store = X509_STORE_new();
    for (const Bytes& pem : anchors) {
      BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, x);
        X509_free(x);
      }
      BIO_free(bio);
    }
    for (const Bytes& pem : crls) {
      BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      while (X509_CRL* c = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_crl(store, c);
        X509_CRL_free(c);
      }
      BIO_free(bio);
    }
    ERR_clear_error();
    if (check_crls) X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    X509_STORE_set_purpose(store, X509_PURPOSE_ANY);
    return store;
  }

  X509_STORE* store_;
  X509_STORE* tsa_store_;
};

void Verify(const Setup& s, const std::vector<std::uint64_t>& threads, double seconds,
            std::size_t content_size) {
  constexpr std::size_t kPool = 16;
  for (const Tsa& tsa : s.tsas) {
    PrintPhase(("verify: VerifyCades of CAdES-T signatures, TSA " + tsa.name).c_str());
    struct Item {
      Bytes content;
      Bytes signature;
      SignatureVerifyOptions by_hash;  // content_sha256 set.
    };
    std::vector<Item> pool;
    FastRandom rng(99);
    StepTimes ignored{};
    const TimePoint now = WallNow() + std::chrono::seconds(1);
    for (std::size_t i = 0; i < kPool; ++i) {
      Item it;
      it.content = RandomContent(rng, content_size);
      it.signature = ConfirmOnce(s, tsa, it.content, ignored);
      it.by_hash = tsa.verify;
      it.by_hash.now = now;
      it.by_hash.content_sha256 = HexEncode(Sha256(it.content));
      pool.push_back(std::move(it));
    }
    SignatureVerifyOptions with_content = tsa.verify;
    with_content.now = now;
    std::printf("signature: %zu bytes DER (CAdES-T, signer + CA certificate + TSA token)\n",
                pool[0].signature.size());
    std::printf("%-30s %7s %9s %12s %6s %8s %8s\n", "mode", "threads", "verifies", "verifies/s",
                "cpu%", "ms each", "cpu ms");
    for (const bool by_hash : {false, true}) {
      for (const std::uint64_t n : threads) {
        std::vector<std::size_t> cursor(n);
        for (std::size_t t = 0; t < n; ++t) cursor[t] = t * 5;
        const Run r = RunThreads(n, seconds, [&](std::size_t t, StepTimes&) {
          const Item& it = pool[cursor[t]++ % kPool];
          const SignatureReport rep =
              by_hash ? Take(VerifyCades(it.signature, std::nullopt, it.by_hash), "VerifyCades")
                      : Take(VerifyCades(it.signature, ByteView(it.content), with_content),
                             "VerifyCades");
          if (!rep.valid) Flags::Die("a signature does not verify: " + rep.reason);
          return true;
        });
        const char* mode = by_hash ? "stored hash (content_sha256)" : "with the 4 KiB content";
        std::printf("%-30s %7llu %9llu %12.1f %5.0f%% %8.3f %8.3f   loadavg %s\n", mode,
                    static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.ops),
                    r.per_s(), r.cpu_pct(), r.ms_each(n), r.cpu_ms(), LoadAverage().c_str());
        std::printf(
            "RESULT phase=verify tsa=%s mode=%s threads=%llu ops=%llu seconds=%.2f per_s=%.1f "
            "cpu_pct=%.0f cpu_ms=%.3f\n",
            tsa.name.c_str(), by_hash ? "hash" : "content", static_cast<unsigned long long>(n),
            static_cast<unsigned long long>(r.ops), r.wall, r.per_s(), r.cpu_pct(), r.cpu_ms());
        std::fflush(stdout);
      }
    }
    const ReferenceVerifier reference(tsa.verify);
    for (const Item& it : pool) {
      if (!reference.Verify(it.signature, it.content)) {
        Flags::Die("the OpenSSL reference does not verify a signature: " + OpensslErrors());
      }
    }
    for (const std::uint64_t n : threads) {
      std::vector<std::size_t> cursor(n);
      for (std::size_t t = 0; t < n; ++t) cursor[t] = t * 5;
      const Run r = RunThreads(n, seconds, [&](std::size_t t, StepTimes&) {
        const Item& it = pool[cursor[t]++ % kPool];
        if (!reference.Verify(it.signature, it.content)) Flags::Die("reference: not valid");
        return true;
      });
      std::printf("%-30s %7llu %9llu %12.1f %5.0f%% %8.3f %8.3f   loadavg %s\n",
                  "REFERENCE: OpenSSL CMS_verify", static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(r.ops), r.per_s(), r.cpu_pct(), r.ms_each(n),
                  r.cpu_ms(), LoadAverage().c_str());
      std::printf(
          "RESULT phase=verify tsa=%s mode=openssl-reference threads=%llu ops=%llu seconds=%.2f "
          "per_s=%.1f cpu_pct=%.0f cpu_ms=%.3f\n",
          tsa.name.c_str(), static_cast<unsigned long long>(n),
          static_cast<unsigned long long>(r.ops), r.wall, r.per_s(), r.cpu_pct(), r.cpu_ms());
      std::fflush(stdout);
    }
    VerifyParts(s, tsa, now);
  }
}

// --- store: ConfirmLocal end to end, then RenewEvidence -----------------------------------------

void Store(const std::string& dir, const Peer& peer, const std::vector<std::uint64_t>& threads,
           double seconds, std::size_t content_size, std::uint64_t versions) {
  PrintPhase("store: a fresh demo-style store");
  Scratch scratch(dir, "signature-bench");
  const std::string store = scratch.Sub("store");
  PosixFileSystem fs;
  SystemClock clock;
  Env env{fs, clock};
  // The versions to confirm are put with sync off (not what is measured); the store is then
  // reopened with the default, durable options for everything measured.
  ArchiveOptions init{.sync = false};
  init.configure = [](Config& c) { ConfigureDemoSigning(c); };
  auto t0 = Clock::now();
  Take(Archive::Init(env, store, kActor, init), "init");
  const std::shared_ptr<DemoHpki> pki = Take(WriteDemoHpki(env, store), "WriteDemoHpki");
  std::vector<std::string> ids(versions);
  {
    std::unique_ptr<Archive> nosync = Take(Archive::Open(env, store, {.sync = false}), "open");
    std::atomic<std::uint64_t> next{0};
    std::vector<std::thread> pool;
    for (std::uint64_t t = 0; t < 4; ++t) {
      pool.emplace_back([&, t] {
        FastRandom rng(500 + t);
        for (std::uint64_t i = next++; i < versions; i = next++) {
          const Bytes content = RandomContent(rng, content_size);
          char patient[24];
          std::snprintf(patient, sizeof patient, "P%04llu",
                        static_cast<unsigned long long>(i % 100 + 1));
          const PutRequest req{.patient_id = patient,
                               .record_type = kRecordType,
                               .media_type = "application/octet-stream",
                               .content = content};
          ids[i] = Take(nosync->PutRecord(kActor, req), "PutRecord").version.record_id;
        }
      });
    }
    for (std::thread& th : pool) th.join();
  }
  std::printf("store and PKI made, %llu versions of %zu bytes put (sync off) in %.2f s: %s\n",
              static_cast<unsigned long long>(versions), content_size, SecondsSince(t0),
              store.c_str());
  t0 = Clock::now();
  std::unique_ptr<Archive> archive = Take(Archive::Open(env, store), "open");
  std::unique_ptr<ApiService> api = Take(ApiService::Open(*archive, env), "ApiService::Open");
  Take(api->CreateLocalUser(kActor, NewUser{.id = kUser,
                                            .display_name = "Bench Doctor",
                                            .roles = {"physician"},
                                            .department = "internal-medicine"}),
       "CreateLocalUser");
  const std::string passphrase = Take(InstallDemoSigner(*api, kActor, *pki, kUser), "signer");
  std::printf("reopened durable; user %s with a server-side key (PKCS#12) in %.2f s\n", kUser,
              SecondsSince(t0));

  std::atomic<std::uint64_t> next{0};
  auto confirm = [&](std::uint64_t i) {
    const ConfirmRequest req{.record_id = ids[i], .version = 1, .key_passphrase = passphrase};
    const ConfirmationView v = Take(api->ConfirmLocal(kActor, kUser, req), "ConfirmLocal");
    if (!v.valid || v.confirmation.level != "CAdES-T") Flags::Die("a confirmation is not valid");
  };
  // The first confirmation makes the development TSA's key (keys/dev-tsa.pem): untimed.
  for (int i = 0; i < 3; ++i) confirm(next++);
  std::uint64_t confirmed = 3;

  PrintPhase("store: ApiService::ConfirmLocal, server-side key (PKCS#12 + passphrase)");
  std::printf("%7s %9s %13s %9s %7s %10s %10s\n", "threads", "confirms", "confirms/s", "vs 2-core",
              "cpu%", "ms each", "cpu ms");
  for (const std::uint64_t n : threads) {
    const Run r = RunThreads(n, seconds, [&](std::size_t, StepTimes&) {
      const std::uint64_t i = next++;
      if (i >= versions) return false;
      confirm(i);
      return true;
    });
    confirmed += r.ops;
    std::printf("%7llu %9llu %13.1f %9s %6.0f%% %10.3f %10.3f   loadavg %s%s\n",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.ops),
                r.per_s(), Ratio(r.per_s(), peer.sign_2).c_str(), r.cpu_pct(), r.ms_each(n),
                r.cpu_ms(), LoadAverage().c_str(),
                next >= versions ? "  (RAN OUT OF VERSIONS: raise --versions)" : "");
    std::printf(
        "RESULT phase=store threads=%llu ops=%llu seconds=%.2f per_s=%.1f cpu_pct=%.0f "
        "cpu_ms=%.3f peer_sign_2=%.0f ratio_2core=%.3f\n",
        static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.ops), r.wall,
        r.per_s(), r.cpu_pct(), r.cpu_ms(), peer.sign_2,
        peer.sign_2 > 0 ? r.per_s() / peer.sign_2 : 0);
    std::fflush(stdout);
  }

  // Where the time goes: the parts ConfirmAs calls, one by one, 1 thread.
  PrintPhase("store: the parts of one confirmation, 1 thread");
  const std::string key_file = JoinPath(
      JoinPath(store, archive->config().signature.signing_keys_dir), std::string(kUser) + ".p12");
  const Bytes p12 = Take(fs.ReadFile(key_file), "read the key file");
  const VersionInfo info = Take(archive->records().GetVersionInfo(ids[0], 1), "version");
  const Bytes content = Take(archive->records().ReadContent(info), "ReadContent");
  SignatureService& sigs = api->signatures();
  const Bytes one_sig =
      Take(sigs.SignWithUserKey(kUser, passphrase, content, WallNow()), "SignWithUserKey");
  const Bytes one_stamped = Take(sigs.AddTimestamp(one_sig, WallNow()), "AddTimestamp");
  struct Part {
    const char* what;
    double per_s;
  };
  const std::vector<Part> parts = {
      {"ReadPkcs12 (PBKDF2 x2 + AES-256-CBC + MAC, 2048 iterations)",
       PerSecond(2, [&] { Take(ReadPkcs12(p12, passphrase), "ReadPkcs12"); })},
      {"SignWithUserKey (read key file + ReadPkcs12 + SignCades)",
       PerSecond(
           3, [&] { Take(sigs.SignWithUserKey(kUser, passphrase, content, WallNow()), "sign"); })},
      {"AddTimestamp (store's dev TSA, P-256, + TsaClient checks)",
       PerSecond(3, [&] { Take(sigs.AddTimestamp(one_sig, WallNow()), "stamp"); })},
      {"Verify (VerifyCades with the store's trust)",
       PerSecond(3,
                 [&] {
                   Take(sigs.Verify(one_stamped, ByteView(content), kRecordType, WallNow()),
                        "verify");
                 })},
      {"ReadContent (blob read, decrypt, hash check)",
       PerSecond(2, [&] { Take(archive->records().ReadContent(info), "ReadContent"); })},
  };
  double sum_ms = 0;
  std::printf("%-62s %10s %10s\n", "part (1 thread)", "ops/s", "ms each");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const double ms = 1000.0 / parts[i].per_s;
    if (i > 0) sum_ms += ms;  // ReadPkcs12 is inside SignWithUserKey.
    std::printf("%-62s %10.0f %10.3f\n", parts[i].what, parts[i].per_s, ms);
  }
  std::printf("%-62s %10s %10.3f\n", "sum of the parts but ReadPkcs12 (inside the sign)", "",
              sum_ms);
  std::printf(
      "RESULT phase=parts pkcs12_ms=%.3f sign_with_key_ms=%.3f add_timestamp_ms=%.3f "
      "verify_ms=%.3f read_content_ms=%.3f sum_ms=%.3f\n",
      1000.0 / parts[0].per_s, 1000.0 / parts[1].per_s, 1000.0 / parts[2].per_s,
      1000.0 / parts[3].per_s, 1000.0 / parts[4].per_s, sum_ms);
  std::fflush(stdout);

  // Long-term evidence for every confirmation made above: one batch, one TSA request.
  PrintPhase("evidence: ApiService::RenewEvidence over every confirmation (one batch)");
  Sha256Digest probe{};
  probe[0] = 1;
  const double tsa_per_s =
      PerSecond(1, [&] { Take(sigs.TimestampDigest(probe, WallNow()), "TimestampDigest"); });
  t0 = Clock::now();
  const double cpu0 = CpuSeconds();
  const EvidenceRenewal ren =
      Take(api->RenewEvidence(kActor, std::chrono::hours(24 * 30)), "RenewEvidence");
  const double secs = SecondsSince(t0);
  const double cpu = CpuSeconds() - cpu0;
  const double per_s = static_cast<double>(ren.created + ren.renewed) / secs;
  std::printf(
      "confirmations %llu (made above: %llu), evidence records created %llu, renewed %llu, not "
      "due %llu, problems %zu; the batch's one timestamp: %s\n",
      static_cast<unsigned long long>(ren.confirmations),
      static_cast<unsigned long long>(confirmed), static_cast<unsigned long long>(ren.created),
      static_cast<unsigned long long>(ren.renewed), static_cast<unsigned long long>(ren.not_due),
      ren.problems.size(), ren.timestamp_time.c_str());
  if (!ren.problems.empty()) std::printf("first problem: %s\n", ren.problems[0].c_str());
  std::printf(
      "RenewEvidence: %.2f s = %.0f records/s (%.3f ms each), CPU %.2f s (1 thread); one TSA "
      "request alone (TimestampDigest): %.2f ms\n",
      secs, per_s, 1000.0 / per_s, cpu, 1000.0 / tsa_per_s);
  std::printf(
      "RESULT phase=evidence confirmations=%llu created=%llu problems=%zu seconds=%.3f "
      "per_s=%.1f cpu_s=%.2f tsa_request_ms=%.2f\n",
      static_cast<unsigned long long>(ren.confirmations),
      static_cast<unsigned long long>(ren.created), ren.problems.size(), secs, per_s, cpu,
      1000.0 / tsa_per_s);
  std::fflush(stdout);

  // Where RenewEvidence's time goes, per record, 1 thread: collecting the validation data (it
  // verifies the signature first) and checking the new evidence record before it is stored.
  SignatureVerifyOptions stored = sigs.OptionsFor(kRecordType, WallNow());
  stored.content_sha256 = info.sha256;
  const double collect_per_s = PerSecond(
      2, [&] { Take(CollectValidationData(one_stamped, stored), "CollectValidationData"); });
  std::vector<std::vector<Sha256Digest>> groups(1000);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    Sha256Digest d{};
    d[0] = static_cast<std::uint8_t>(i);
    d[1] = static_cast<std::uint8_t>(i >> 8);
    groups[i] = {d, Sha256(one_stamped), Sha256(p12)};
  }
  const HashTreeBatch batch = Take(BuildHashTree(groups), "BuildHashTree");
  const Bytes token = Take(sigs.TimestampDigest(batch.root, WallNow()), "TimestampDigest");
  const Bytes record = Take(MakeEvidenceRecord(batch.reduced[7], token), "MakeEvidenceRecord");
  const TimestampVerifyOptions tsa_options = sigs.TsaOptions(WallNow());
  const double check_per_s = PerSecond(2, [&] {
    if (!Take(VerifyEvidenceRecord(record, groups[7], tsa_options), "VerifyEvidenceRecord").valid) {
      Flags::Die("an evidence record does not verify");
    }
  });
  std::printf("%-62s %10s %10s\n", "part of RenewEvidence, per record (1 thread)", "ops/s",
              "ms each");
  std::printf("%-62s %10.0f %10.3f\n", "CollectValidationData (verifies the signature first)",
              collect_per_s, 1000.0 / collect_per_s);
  std::printf("%-62s %10.0f %10.3f\n", "VerifyEvidenceRecord (batch of 1,000; token + TSA path)",
              check_per_s, 1000.0 / check_per_s);
  std::printf("RESULT phase=evidence-parts collect_ms=%.3f check_ms=%.3f\n", 1000.0 / collect_per_s,
              1000.0 / check_per_s);
  std::fflush(stdout);
  api.reset();
  archive.reset();
}

// --- tree ---------------------------------------------------------------------------------------

void Tree(const std::vector<std::uint64_t>& sizes) {
  PrintPhase("tree: BuildHashTree, groups of 3 SHA-256 hashes");
  std::printf("%10s %10s %12s %14s %12s\n", "groups", "seconds", "groups/s", "reduced lists",
              "loadavg");
  for (const std::uint64_t n : sizes) {
    FastRandom rng(n);
    std::vector<std::vector<Sha256Digest>> groups(n, std::vector<Sha256Digest>(3));
    for (auto& g : groups) {
      for (Sha256Digest& d : g) {
        for (std::size_t i = 0; i < d.size(); i += 8) {
          const std::uint64_t r = rng.Next();
          for (std::size_t b = 0; b < 8; ++b) d[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
        }
      }
    }
    const auto t0 = Clock::now();
    const HashTreeBatch batch = Take(BuildHashTree(groups), "BuildHashTree");
    const double secs = SecondsSince(t0);
    const std::size_t mid = n / 2;
    if (Take(HashtreeRoot(batch.reduced[mid], groups[mid]), "HashtreeRoot") != batch.root) {
      Flags::Die("a reduced hash tree does not lead to the root");
    }
    std::printf("%10llu %10.3f %12.0f %14zu %12s\n", static_cast<unsigned long long>(n), secs,
                static_cast<double>(n) / secs, batch.reduced[mid].size(), LoadAverage().c_str());
    std::printf("RESULT phase=tree groups=%llu seconds=%.3f per_s=%.0f lists=%zu\n",
                static_cast<unsigned long long>(n), secs, static_cast<double>(n) / secs,
                batch.reduced[mid].size());
    std::fflush(stdout);
  }
}

int Main(int argc, char** argv) {
  const Flags flags(argc, argv);
  const std::string dir = flags.Str("dir", "/work/bench-scratch");
  const std::string phases = "," + flags.Str("phases", "micro,pipeline,verify,store,tree") + ",";
  const std::vector<std::uint64_t> threads = flags.List("threads", "1,2");
  const double seconds = flags.Double("seconds", 10);
  const double verify_seconds = flags.Double("verify-seconds", 5);
  const std::size_t content_size = flags.U64("content-size", 4096);
  const std::string tsa = flags.Str("tsa", "hpki,p256");
  const std::uint64_t versions = flags.U64("versions", 12000);
  const std::vector<std::uint64_t> tree_groups = flags.List("tree-groups", "100000");
  const Peer peer{.sign_1 = flags.Double("peer-sign-1", 0),
                  .sign_2 = flags.Double("peer-sign-2", 0)};
  auto has = [&](const char* p) {
    return phases.find("," + std::string(p) + ",") != std::string::npos;
  };

  const auto started = Clock::now();
  PrintHeader("signature_bench", argc, argv, dir);
  std::printf("openssl:    %s (linked)\n", OpenSSL_version(OPENSSL_VERSION));
  std::printf("peer:       openssl speed rsa2048 sign/s: %.0f (1 process), %.0f (-multi 2)\n",
              peer.sign_1, peer.sign_2);
  std::fflush(stdout);
  if (has("micro") || has("pipeline") || has("verify")) {
    const Setup s = MakeSetup(tsa);
    if (has("micro")) Micro(s, peer);
    if (has("pipeline")) Pipeline(s, peer, threads, seconds, content_size);
    if (has("verify")) Verify(s, threads, verify_seconds, content_size);
  }
  if (has("store")) Store(dir, peer, threads, seconds, content_size, versions);
  if (has("tree")) Tree(tree_groups);
  PrintFooter(started);
  return 0;
}

}  // namespace
}  // namespace hokan::bench

int main(int argc, char** argv) { return hokan::bench::Main(argc, argv); }
