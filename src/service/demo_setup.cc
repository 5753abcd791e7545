#include "service/demo_setup.h"

#include "crypto/crypto.h"
#include "signature/dev_pki.h"
#include "signature/keys.h"
#include "store/atomic_write.h"

namespace hokan {

struct DemoHpki {
  DevHpki pki;
};

namespace {
constexpr char kDemoPkiDir[] = "keys/demo-hpki";
}  // namespace

void ConfigureDemoSigning(Config& config) {
  config.signature.development_tsa = true;
  config.signature.trust_anchor_files = {std::string(kDemoPkiDir) + "/root.pem"};
  config.signature.crl_files = {std::string(kDemoPkiDir) + "/crls.pem"};
}

Result<std::shared_ptr<DemoHpki>> WriteDemoHpki(Env& env, const std::string& dir) {
  auto out = std::make_shared<DemoHpki>();
  HK_ASSIGN_OR_RETURN(out->pki, MakeDevHpki(env.clock.Now()));
  const std::string pki_dir = JoinPath(dir, kDemoPkiDir);
  if (!env.fs.Stat(pki_dir).has_value()) HK_RETURN_IF_ERROR(env.fs.CreateDir(pki_dir));
  HK_RETURN_IF_ERROR(
      WriteFileAtomically(env.fs, pki_dir, "root.pem", AsBytes(out->pki.root.cert_pem)));
  HK_RETURN_IF_ERROR(WriteFileAtomically(env.fs, pki_dir, "crls.pem",
                                         AsBytes(out->pki.signing_ca_crl + out->pki.root_crl)));
  return out;
}

Result<std::string> InstallDemoSigner(ApiService& api, const Actor& local, const DemoHpki& pki,
                                      const std::string& user_id) {
  HK_ASSIGN_OR_RETURN(std::string passphrase, RandomHexId(8));
  HK_ASSIGN_OR_RETURN(Bytes p12, MakePkcs12(pki.pki.doctor.cert_pem, pki.pki.doctor.key_pem,
                                            {pki.pki.signing_ca.cert_pem}, passphrase, user_id));
  HK_RETURN_IF_ERROR(api.InstallSigningKeyLocal(local, user_id, p12, passphrase).error());
  return passphrase;
}

}  // namespace hokan
