// Server-side signing with a key inside a PKCS#11 token (issue 4, way (b)), against a real
// SoftHSM2 token made per test process: G-6.12-A2 (signed only with the user's own key, bound
// to a token and its PIN), G-6.12-C1a (remote/HSM signing that standard tools verify).
#include "signature/pkcs11.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "signature/cades.h"
#include "signature/dev_pki.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace hokan {
namespace {

using ::hokan::testing::StatusIs;
using std::chrono::minutes;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kContent = "処方箋: prescription, version 1\n";
constexpr char kPin[] = "864213";
constexpr char kWrongPin[] = "975319";

// An error result with `code` whose message contains `text`.
MATCHER_P2(FailsWith, code, text, "") {
  if (arg.has_value()) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << arg.error().ToString();
  return arg.error().code() == code && arg.error().message().find(text) != std::string::npos;
}

// Where Debian puts SoftHSM2's PKCS#11 library ("" when it is not installed).
std::string SoftHsmModule() {
  for (const char* path :
       {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"}) {
    if (std::ifstream(path).good()) return path;
  }
  return {};
}

class Pkcs11Test : public ::testing::Test {
 protected:
  // One token per test process: SoftHSM2 reads SOFTHSM2_CONF once, when the library is first
  // initialised, and the library then stays loaded.
  static void SetUpTestSuite() {
    module_ = SoftHsmModule();
    if (module_.empty() || std::system("command -v softhsm2-util >/dev/null 2>&1") != 0) {
      skip_reason_ = "SoftHSM2 is not installed (Debian package softhsm2)";
      return;
    }
    now_ = std::chrono::system_clock::now();
    auto pki = MakeCachedDevHpki(now_);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = new DevHpki(std::move(*pki));
    dir_ = new testing::TempDir();
    Write("softhsm2.conf", "directories.tokendir = " + dir_->path() +
                               "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
    Write("dr-a.key", pki_->doctor.key_pem);
    ASSERT_EQ(setenv("SOFTHSM2_CONF", (dir_->path() + "/softhsm2.conf").c_str(), 1), 0);
    ASSERT_EQ(Run("mkdir -p tokens && softhsm2-util --init-token --free --label hokan-test "
                  "--pin " +
                  std::string(kPin) + " --so-pin 5678"),
              0)
        << Read("out.txt");
    ASSERT_EQ(Run("softhsm2-util --import dr-a.key --token hokan-test --label dr-a --id 01 "
                  "--pin " +
                  std::string(kPin)),
              0)
        << Read("out.txt");
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete pki_;
  }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    if (pki_ == nullptr) FAIL() << "the test PKI could not be made";
  }

  static void Write(const std::string& name, const std::string& data) {
    std::ofstream(dir_->path() + "/" + name, std::ios::binary) << data;
  }
  static std::string Read(const std::string& name) {
    std::ifstream in(dir_->path() + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static int Run(const std::string& command) {
    return std::system(("cd '" + dir_->path() + "' && " + command + " >out.txt 2>&1").c_str());
  }

  static Pkcs11KeyRef DoctorKey() { return {module_, "hokan-test", "dr-a"}; }

  static Result<Bytes> Sign(const Pkcs11KeyRef& key, std::string_view pin,
                            const std::string& cert_pem, bool detached = true) {
    return SignCadesPkcs11(AsBytes(kContent), key, pin, cert_pem, {pki_->signing_ca.cert_pem},
                           now_ - minutes(5), detached);
  }

  static SignatureReport Verify(const Bytes& sig, std::optional<ByteView> content) {
    SignatureVerifyOptions o;
    o.trust_anchors = {ToBytes(pki_->root.cert_pem)};
    o.crls = {ToBytes(pki_->signing_ca_crl), ToBytes(pki_->root_crl)};
    o.now = now_;
    o.required_qualifications = {"Medical Doctor"};
    auto r = VerifyCades(sig, content, o);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? *r : SignatureReport{};
  }

  static std::string module_;
  static std::string skip_reason_;
  static TimePoint now_;
  static DevHpki* pki_;
  static testing::TempDir* dir_;
};
std::string Pkcs11Test::module_;
std::string Pkcs11Test::skip_reason_;
TimePoint Pkcs11Test::now_;
DevHpki* Pkcs11Test::pki_ = nullptr;
testing::TempDir* Pkcs11Test::dir_ = nullptr;

// G-6.12-A2, G-6.12-C1a: the doctor's key never leaves the token, and the signature it makes
// is a valid CAdES-BES with the doctor's qualification.
TEST_F(Pkcs11Test, G612_TokenSignatureVerifiesWithQualification) {
  auto sig = Sign(DoctorKey(), kPin, pki_->doctor.cert_pem);
  ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
  const SignatureReport r = Verify(*sig, AsBytes(kContent));
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_EQ(r.level, "CAdES-BES");
  EXPECT_TRUE(r.detached);
  EXPECT_TRUE(r.signing_certificate_match);
  EXPECT_THAT(r.hpki.hc_roles, ::testing::Contains("Medical Doctor"));
  EXPECT_THAT(r.signer.subject, HasSubstr("CN="));

  // A changed content is noticed.
  const std::string changed = kContent + " ";
  EXPECT_FALSE(Verify(*sig, AsBytes(changed)).valid);
}

TEST_F(Pkcs11Test, AttachedSignatureCarriesItsContent) {
  auto sig = Sign(DoctorKey(), kPin, pki_->doctor.cert_pem, /*detached=*/false);
  ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
  const SignatureReport r = Verify(*sig, std::nullopt);
  EXPECT_TRUE(r.valid) << r.reason;
  EXPECT_FALSE(r.detached);
}

// G-6.12-C1a: a standard tool accepts what the token signed.
TEST_F(Pkcs11Test, G612_OpensslCmsVerifiesTokenSignatures) {
  auto sig = Sign(DoctorKey(), kPin, pki_->doctor.cert_pem);
  ASSERT_TRUE(sig.has_value()) << sig.error().ToString();
  Write("sig.der", ToString(*sig));
  Write("content.txt", kContent);
  Write("root.pem", pki_->root.cert_pem);
  EXPECT_EQ(Run("openssl cms -verify -cades -binary -inform DER -in sig.der -content "
                "content.txt -CAfile root.pem -out /dev/null"),
            0)
      << Read("out.txt");
}

// G-6.12-A2: the token alone is not enough; the PIN is checked on every signature, also after
// a signature with the right PIN, and never appears in the error.
TEST_F(Pkcs11Test, G612_WrongPinIsPermissionDeniedEveryTime) {
  auto first = Sign(DoctorKey(), kWrongPin, pki_->doctor.cert_pem);
  EXPECT_THAT(first, FailsWith(StatusCode::kPermissionDenied, "wrong PIN"));
  ASSERT_FALSE(first.has_value());
  EXPECT_THAT(first.error().message(), Not(HasSubstr(kWrongPin)));
  EXPECT_THAT(first.error().message(), Not(HasSubstr(kPin)));

  ASSERT_TRUE(Sign(DoctorKey(), kPin, pki_->doctor.cert_pem).has_value());
  auto after = Sign(DoctorKey(), kWrongPin, pki_->doctor.cert_pem);
  EXPECT_THAT(after, StatusIs(StatusCode::kPermissionDenied));
  ASSERT_FALSE(after.has_value());
  EXPECT_THAT(after.error().message(), Not(HasSubstr(kWrongPin)));

  EXPECT_THAT(Sign(DoctorKey(), "", pki_->doctor.cert_pem),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(Pkcs11Test, UnknownKeyOrTokenIsNotFound) {
  Pkcs11KeyRef no_key = DoctorKey();
  no_key.key_label = "dr-nobody";
  EXPECT_THAT(Sign(no_key, kPin, pki_->doctor.cert_pem),
              FailsWith(StatusCode::kNotFound, "dr-nobody"));
  Pkcs11KeyRef no_token = DoctorKey();
  no_token.token_label = "no-such-token";
  EXPECT_THAT(Sign(no_token, kPin, pki_->doctor.cert_pem),
              FailsWith(StatusCode::kNotFound, "no-such-token"));
}

// G-6.12-A2: only the certificate of the token's own key can be named as the signer.
TEST_F(Pkcs11Test, G612_CertificateOfAnotherKeyIsRefused) {
  EXPECT_THAT(Sign(DoctorKey(), kPin, pki_->pharmacist.cert_pem),
              FailsWith(StatusCode::kInvalidArgument, "does not belong"));
  EXPECT_THAT(Sign(DoctorKey(), kPin, "not a certificate"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(Pkcs11Test, MissingLibraryIsFailedPrecondition) {
  Pkcs11KeyRef missing = DoctorKey();
  missing.module_path = dir_->path() + "/no-such-pkcs11.so";
  EXPECT_THAT(Sign(missing, kPin, pki_->doctor.cert_pem),
              FailsWith(StatusCode::kFailedPrecondition, "PKCS#11 library"));
  missing.module_path.clear();
  EXPECT_THAT(Sign(missing, kPin, pki_->doctor.cert_pem),
              StatusIs(StatusCode::kFailedPrecondition));
  // A file that is not a PKCS#11 library.
  missing.module_path = dir_->path() + "/softhsm2.conf";
  EXPECT_THAT(Sign(missing, kPin, pki_->doctor.cert_pem),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(Pkcs11Test, MissingSigningTimeOrLabelIsInvalidArgument) {
  EXPECT_THAT(
      SignCadesPkcs11(AsBytes(kContent), DoctorKey(), kPin, pki_->doctor.cert_pem, {}, TimePoint{}),
      StatusIs(StatusCode::kInvalidArgument));
  Pkcs11KeyRef no_label = DoctorKey();
  no_label.key_label.clear();
  EXPECT_THAT(Sign(no_label, kPin, pki_->doctor.cert_pem), StatusIs(StatusCode::kInvalidArgument));
}

// The service signs from several threads; calls on one library are serialised.
TEST_F(Pkcs11Test, SignsFromSeveralThreads) {
  constexpr std::size_t kThreads = 4;
  constexpr std::size_t kEach = 3;
  std::vector<Bytes> sigs(kThreads * kEach);
  std::vector<Status> errors(kThreads * kEach);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < kEach; ++i) {
        // Every other call has the wrong PIN: one thread's login must not serve another's.
        const bool right = (t + i) % 2 == 0;
        auto sig = Sign(DoctorKey(), right ? kPin : kWrongPin, pki_->doctor.cert_pem);
        if (sig.has_value()) {
          sigs[t * kEach + i] = std::move(*sig);
        } else {
          errors[t * kEach + i] = sig.error();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::size_t t = 0; t < kThreads; ++t) {
    for (std::size_t i = 0; i < kEach; ++i) {
      const std::size_t n = t * kEach + i;
      if ((t + i) % 2 == 0) {
        ASSERT_FALSE(sigs[n].empty()) << errors[n].ToString();
        EXPECT_TRUE(Verify(sigs[n], AsBytes(kContent)).valid);
      } else {
        EXPECT_EQ(errors[n].code(), StatusCode::kPermissionDenied) << errors[n].ToString();
      }
    }
  }
}

}  // namespace
}  // namespace hokan
