#include "service/signing.h"

#include <mutex>

#include "base/mutex.h"
#include "signature/dev_pki.h"
#include "signature/keys.h"
#include "signature/pkcs11.h"
#include "signature/tsa.h"
#include "store/atomic_write.h"
#include "store/key_file.h"

namespace hokan {
namespace {

constexpr char kDevTsaFile[] = "keys/dev-tsa.pem";
constexpr char kDevTsaUrl[] = "hokan-development-tsa:";

std::string Resolve(const std::string& dir, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : JoinPath(dir, path);
}

Result<std::vector<Bytes>> ReadFiles(Env& env, const std::string& dir,
                                     const std::vector<std::string>& paths, const char* what) {
  std::vector<Bytes> out;
  for (const std::string& p : paths) {
    auto bytes = env.fs.ReadFile(Resolve(dir, p));
    if (!bytes.has_value()) {
      return FailedPreconditionError(std::string("cannot read the ") + what + " " + p +
                                     " named in [signature]");
    }
    out.push_back(std::move(*bytes));
  }
  return out;
}

// Sends the development TSA's pseudo-URL in-process and every other URL to the network.
class RoutingTransport : public TimestampTransport {
 public:
  RoutingTransport(TimestampTransport* network, TimestampTransport* dev)
      : network_(network), dev_(dev) {}
  Result<Bytes> Post(const std::string& url, ByteView request) override {
    if (url == kDevTsaUrl && dev_ != nullptr) return dev_->Post(url, request);
    if (network_ == nullptr) return UnavailableError("no network transport for " + url);
    return network_->Post(url, request);
  }

 private:
  TimestampTransport* network_;
  TimestampTransport* dev_;
};

}  // namespace

struct SignatureService::Impl {
  // The development TSA from keys/dev-tsa.pem, made (mode 0600) when missing.
  Status LoadOrMakeDevTsa() HK_EXCLUDES(dev_mu);
  // For the development TSA's pseudo-URL: loads or makes it first.
  class DevTransport : public TimestampTransport {
   public:
    explicit DevTransport(Impl& impl) : impl_(impl) {}
    Result<Bytes> Post(const std::string& url, ByteView request) override {
      HK_RETURN_IF_ERROR(impl_.LoadOrMakeDevTsa());
      MutexLock lock(impl_.dev_mu);
      return impl_.dev_transport->Post(url, request);
    }

   private:
    Impl& impl_;
  };

  Env* env = nullptr;
  std::string data_dir;
  SignatureConfig config;
  std::vector<Bytes> anchors;
  std::vector<Bytes> tsa_anchors;
  std::vector<Bytes> crls;
  Mutex dev_mu;
  std::unique_ptr<DevTsa> dev_tsa HK_GUARDED_BY(dev_mu);
  std::unique_ptr<InProcessTsaTransport> dev_transport HK_GUARDED_BY(dev_mu);
  std::vector<Bytes> dev_tsa_anchor HK_GUARDED_BY(dev_mu);
  std::unique_ptr<DevTransport> dev_route;
  std::unique_ptr<RoutingTransport> transport;
  std::vector<std::string> urls;

  std::vector<Bytes> TsaAnchors() HK_EXCLUDES(dev_mu) {
    std::vector<Bytes> out = tsa_anchors;
    MutexLock lock(dev_mu);
    out.insert(out.end(), dev_tsa_anchor.begin(), dev_tsa_anchor.end());
    return out;
  }
};

Status SignatureService::Impl::LoadOrMakeDevTsa() {
  MutexLock lock(dev_mu);
  if (dev_tsa) return OkStatus();
  const std::string path = JoinPath(data_dir, kDevTsaFile);
  CertificateAndKey tsa;
  if (env->fs.Stat(path).has_value()) {
    HK_RETURN_IF_ERROR(CheckPrivateFile(env->fs, path));
    HK_ASSIGN_OR_RETURN(Bytes pem, env->fs.ReadFile(path));
    const std::string text(AsChars(pem));
    SecureZero(pem);
    const std::size_t key_at = text.find("-----BEGIN PRIVATE KEY-----");
    if (key_at == std::string::npos) {
      return DataLossError("the development TSA file " + path + " has no key");
    }
    tsa.cert_pem = text.substr(0, key_at);
    tsa.key_pem = text.substr(key_at);
  } else {
    DevCertificateSpec spec;
    spec.common_name = "hokan development TSA - NOT ACCREDITED";
    spec.organization = "hokan development";
    spec.key_type = DevKeyType::kEcP256;
    spec.time_stamping = true;
    spec.not_before = env->clock.Now() - std::chrono::hours(1);
    spec.valid_days = 10 * 365;
    HK_ASSIGN_OR_RETURN(tsa, MakeDevCertificate(spec));
    const std::string both = tsa.cert_pem + tsa.key_pem;
    HK_RETURN_IF_ERROR(
        WriteNewFileDurably(env->fs, JoinPath(data_dir, "keys"), "dev-tsa.pem", AsBytes(both)));
  }
  HK_ASSIGN_OR_RETURN(dev_tsa, DevTsa::Create(tsa, ""));
  dev_tsa_anchor = {ToBytes(tsa.cert_pem)};
  Clock* clock = &env->clock;
  dev_transport =
      std::make_unique<InProcessTsaTransport>(*dev_tsa, [clock] { return clock->Now(); });
  return OkStatus();
}

SignatureService::SignatureService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SignatureService::~SignatureService() = default;

Result<std::unique_ptr<SignatureService>> SignatureService::Open(Env& env,
                                                                 const std::string& data_dir,
                                                                 const SignatureConfig& config,
                                                                 TimestampTransport* transport) {
  auto impl = std::make_unique<Impl>();
  impl->env = &env;
  impl->data_dir = data_dir;
  impl->config = config;
  HK_ASSIGN_OR_RETURN(impl->anchors,
                      ReadFiles(env, data_dir, config.trust_anchor_files, "trust anchor"));
  HK_ASSIGN_OR_RETURN(impl->tsa_anchors,
                      ReadFiles(env, data_dir, config.tsa_trust_anchor_files, "TSA trust anchor"));
  HK_ASSIGN_OR_RETURN(impl->crls, ReadFiles(env, data_dir, config.crl_files, "CRL"));
  impl->urls = config.tsa_urls;
  if (config.development_tsa) {
    // Its certificate is trusted for timestamps once it exists; it is made on first use, so
    // opening a store (e.g. for `hokan verify`) writes nothing.
    if (env.fs.Stat(JoinPath(data_dir, kDevTsaFile)).has_value()) {
      HK_RETURN_IF_ERROR(impl->LoadOrMakeDevTsa());
    }
    impl->urls.push_back(kDevTsaUrl);
  }
  impl->dev_route = std::make_unique<Impl::DevTransport>(*impl);
  impl->transport = std::make_unique<RoutingTransport>(transport, impl->dev_route.get());
  return std::unique_ptr<SignatureService>(new SignatureService(std::move(impl)));
}

bool SignatureService::can_timestamp() const { return !impl_->urls.empty(); }

SignatureVerifyOptions SignatureService::OptionsFor(const std::string& record_type,
                                                    TimePoint now) const {
  const SignatureConfig& c = impl_->config;
  SignatureVerifyOptions o;
  o.trust_anchors = impl_->anchors;
  o.anchor_sha256_pins = c.trust_anchor_sha256;
  o.crls = impl_->crls;
  o.require_revocation = c.require_revocation;
  o.now = now;
  o.require_timestamp = true;
  o.timestamp = TsaOptions(now);
  for (const std::string& t : c.accredited_tsa_types) {
    if (t == record_type) o.timestamp.accepted_tsa_sha256 = c.accredited_tsa_sha256;
  }
  if (auto it = c.qualifications.find(record_type); it != c.qualifications.end()) {
    o.required_qualifications = it->second;
  }
  return o;
}

Result<Bytes> SignatureService::SignWithUserKey(const std::string& user_id,
                                                std::string_view passphrase, ByteView content,
                                                TimePoint now) {
  const SignatureConfig& c = impl_->config;
  const std::string dir = Resolve(impl_->data_dir, c.signing_keys_dir);
  const std::string p12_path = JoinPath(dir, user_id + ".p12");
  FileSystem& fs = impl_->env->fs;
  if (fs.Stat(p12_path).has_value()) {
    HK_RETURN_IF_ERROR(CheckPrivateFile(fs, p12_path));
    HK_ASSIGN_OR_RETURN(Bytes p12, fs.ReadFile(p12_path));
    HK_ASSIGN_OR_RETURN(SigningIdentity id, ReadPkcs12(p12, passphrase));
    CadesSignOptions o;
    o.signer_cert_pem = id.cert_pem;
    o.signer_key_pem = std::string(AsChars(id.key_pem.view()));
    o.chain_pem = id.chain_pem;
    o.signing_time = now;
    Result<Bytes> sig = SignCades(content, o);
    SecureZero(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(o.signer_key_pem.data()),
                                       o.signer_key_pem.size()));
    return sig;
  }
  if (!c.pkcs11_module.empty()) {
    // The key stays in the token; its certificate (and CA chain) is kept beside.
    const std::string cert_path = JoinPath(dir, user_id + ".crt");
    Result<Bytes> cert = fs.ReadFile(cert_path);
    if (!cert) {
      return NotFoundError("there is no certificate for user " + user_id + "'s token key (" +
                           cert_path + ")");
    }
    // The first PEM block is the user's certificate, any after it the CA chain.
    const std::string pem(AsChars(*cert));
    constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
    std::vector<std::string> blocks;
    for (std::size_t at = pem.find(kBegin); at != std::string::npos;) {
      const std::size_t next = pem.find(kBegin, at + kBegin.size());
      blocks.push_back(pem.substr(at, next == std::string::npos ? std::string::npos : next - at));
      at = next;
    }
    if (blocks.empty()) return InvalidArgumentError(cert_path + " holds no PEM certificate");
    const std::string signer = blocks.front();
    blocks.erase(blocks.begin());
    return SignCadesPkcs11(content, Pkcs11KeyRef{c.pkcs11_module, c.pkcs11_token_label, user_id},
                           passphrase, signer, blocks, now);
  }
  return NotFoundError("there is no server-side signing key for user " + user_id);
}

TimestampVerifyOptions SignatureService::TsaOptions(TimePoint now) const {
  TimestampVerifyOptions o;
  o.trust_anchors = impl_->TsaAnchors();
  o.crls = impl_->crls;
  o.now = now;
  return o;
}

Result<Bytes> SignatureService::TimestampDigest(const Sha256Digest& digest, TimePoint now) {
  if (impl_->urls.empty()) {
    return FailedPreconditionError(
        "no time-stamping authority is configured ([signature] tsa_urls or development_tsa)");
  }
  if (impl_->config.development_tsa) HK_RETURN_IF_ERROR(impl_->LoadOrMakeDevTsa());
  TsaClientOptions o;
  o.urls = impl_->urls;
  o.verify = TsaOptions(now);
  TsaClient client(*impl_->transport, o);
  HK_ASSIGN_OR_RETURN(TimestampToken token, client.Timestamp(digest, now));
  return std::move(token.token);
}

Result<Bytes> SignatureService::AddTimestamp(ByteView signature, TimePoint now) {
  if (impl_->urls.empty()) {
    return FailedPreconditionError(
        "no time-stamping authority is configured ([signature] tsa_urls or development_tsa)");
  }
  if (impl_->config.development_tsa) HK_RETURN_IF_ERROR(impl_->LoadOrMakeDevTsa());
  HK_ASSIGN_OR_RETURN(const bool stamped, HasSignatureTimestamp(signature));
  if (stamped) return Bytes(signature.begin(), signature.end());
  HK_ASSIGN_OR_RETURN(Bytes value, SignatureValue(signature));
  HK_ASSIGN_OR_RETURN(Bytes token, TimestampDigest(Sha256(value), now));
  return AddSignatureTimestamp(signature, token);
}

Result<SignatureReport> SignatureService::Verify(ByteView signature,
                                                 std::optional<ByteView> content,
                                                 const std::string& record_type, TimePoint now) {
  return VerifyCades(signature, content, OptionsFor(record_type, now));
}

}  // namespace hokan
