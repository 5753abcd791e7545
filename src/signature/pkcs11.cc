#include "signature/pkcs11.h"

// Why PKCS#11 directly and not libp11's OpenSSL engine: once the engine has logged in to a token
// it never checks a PIN again (it skips C_Login while the token is logged in), so after one
// correct signature any PIN would do. Here every call logs in and out itself.
//
// CMS needs an EVP_PKEY whose private operation happens in the token. The way to make one that
// does not need a whole OpenSSL provider is an RSA_METHOD (what libp11 itself uses), which
// OpenSSL 3 marks deprecated: the deprecation warnings are silenced for this file only.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <dlfcn.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
// p11-kit's copy of the standard PKCS#11 2.40 header (Debian: libp11-kit-dev); only the header
// is used, the token's own library is loaded with dlopen.
#include <p11-kit-1/p11-kit/pkcs11.h>

#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "signature/internal/cades_sign.h"
#include "signature/internal/ossl.h"

namespace hokan {
namespace {

using signature_internal::ParseCertificate;
using signature_internal::Ptr;

struct RsaFree {
  void operator()(RSA* p) const { RSA_free(p); }
};

struct RvName {
  CK_RV rv;
  const char* name;
};
// The codes a message is likely to need; others are shown in hex.
constexpr RvName kRvNames[] = {
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED"},
    {CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_INVALID, "CKR_PIN_INVALID"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_COUNT, "CKR_SESSION_COUNT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
};

std::string RvText(CK_RV rv) {
  for (const RvName& known : kRvNames) {
    if (known.rv == rv) return known.name;
  }
  char hex[2 * sizeof(CK_RV)] = {};
  const auto end = std::to_chars(hex, hex + sizeof hex, rv, 16).ptr;
  return "CKR 0x" + std::string(hex, end);
}

// One sentence for a failed PKCS#11 call; the code says how a caller may react.
Status TokenError(CK_RV rv, const std::string& token, std::string_view what) {
  std::string message =
      "PKCS#11 token '" + token + "': " + std::string(what) + " failed (" + RvText(rv) + ")";
  switch (rv) {
    case CKR_PIN_INCORRECT:
      return PermissionDeniedError("wrong PIN for PKCS#11 token '" + token + "'");
    case CKR_PIN_LOCKED:
      return PermissionDeniedError("the PIN of PKCS#11 token '" + token + "' is locked");
    case CKR_PIN_EXPIRED:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return PermissionDeniedError(std::move(message));
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_REMOVED:
    case CKR_SESSION_COUNT:
    case CKR_TOKEN_NOT_PRESENT:
      return UnavailableError(std::move(message));
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_MECHANISM_INVALID:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_USER_PIN_NOT_INITIALIZED:
      return FailedPreconditionError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

// What the RSA callback needs during one signature (it lives on the signing thread's stack).
struct TokenOperation {
  CK_FUNCTION_LIST* functions = nullptr;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV failure = CKR_OK;  // Set when the token refused to sign.
};

struct TokenRsa {
  RSA_METHOD* method = nullptr;
  int index = -1;  // RSA ex_data slot holding the TokenOperation.
};

const TokenRsa& TokenRsaMethod();

// OpenSSL's RSA_sign() hands over the DigestInfo with PKCS#1 v1.5 padding asked for: exactly
// what CKM_RSA_PKCS takes. Other paddings (PSS, raw) are refused; CMS does not ask for them.
int TokenSign(int length, const unsigned char* from, unsigned char* to, RSA* rsa, int padding) {
  auto* op = static_cast<TokenOperation*>(RSA_get_ex_data(rsa, TokenRsaMethod().index));
  if (op == nullptr || padding != RSA_PKCS1_PADDING || length < 0) return -1;
  CK_MECHANISM mechanism{CKM_RSA_PKCS, nullptr, 0};
  CK_RV rv = op->functions->C_SignInit(op->session, &mechanism, op->key);
  if (rv == CKR_OK) {
    CK_ULONG size = static_cast<CK_ULONG>(RSA_size(rsa));
    // C_Sign's input is not const in the C API; the token does not write to it.
    rv = op->functions->C_Sign(op->session, const_cast<CK_BYTE*>(from),
                               static_cast<CK_ULONG>(length), to, &size);
    if (rv == CKR_OK) return static_cast<int>(size);
  }
  op->failure = rv;
  return -1;
}

const TokenRsa& TokenRsaMethod() {
  static const TokenRsa kTokenRsa = [] {
    TokenRsa t;
    t.method = RSA_meth_dup(RSA_PKCS1_OpenSSL());
    if (t.method != nullptr) {
      RSA_meth_set1_name(t.method, "hokan PKCS#11 token key");
      RSA_meth_set_flags(t.method, RSA_meth_get_flags(t.method) | RSA_FLAG_EXT_PKEY);
      RSA_meth_set_priv_enc(t.method, TokenSign);
    }
    t.index = RSA_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return t;
  }();
  return kTokenRsa;
}

// One attribute's value; nullopt when the object has none or the token will not reveal it.
std::optional<Bytes> Attribute(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE session,
                               CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  if (f->C_GetAttributeValue(session, object, &a, 1) != CKR_OK ||
      a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return std::nullopt;
  }
  Bytes value(a.ulValueLen);
  a.pValue = value.data();
  if (f->C_GetAttributeValue(session, object, &a, 1) != CKR_OK) return std::nullopt;
  value.resize(a.ulValueLen);
  return value;
}

template <class T>
std::optional<T> ScalarAttribute(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE session,
                                 CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  std::optional<Bytes> raw = Attribute(f, session, object, type);
  if (!raw.has_value() || raw->size() != sizeof(T)) return std::nullopt;
  T value{};
  std::memcpy(&value, raw->data(), sizeof(T));
  return value;
}

// The token's label: 32 bytes padded with blanks.
std::string TokenLabel(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
  return label;
}

// An open session, logged out (when logged in) and closed when this dies.
class Session {
 public:
  Session(CK_FUNCTION_LIST* f, CK_SESSION_HANDLE handle) : f_(f), handle_(handle) {}
  ~Session() {
    if (logged_in_) f_->C_Logout(handle_);
    f_->C_CloseSession(handle_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  CK_SESSION_HANDLE handle() const { return handle_; }
  void set_logged_in() { logged_in_ = true; }

 private:
  CK_FUNCTION_LIST* f_;
  CK_SESSION_HANDLE handle_;
  bool logged_in_ = false;
};

// An EVP_PKEY with the token key's public half whose private operation is TokenSign on `op`.
Result<Ptr<EVP_PKEY>> TokenRsaKey(const Bytes& modulus, const Bytes& exponent, TokenOperation* op) {
  const TokenRsa& method = TokenRsaMethod();
  if (method.method == nullptr || method.index < 0) {
    return InternalError("cannot set up RSA signing through PKCS#11");
  }
  std::unique_ptr<RSA, RsaFree> rsa(RSA_new());
  Ptr<BIGNUM> n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  Ptr<BIGNUM> e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  Ptr<EVP_PKEY> key(EVP_PKEY_new());
  if (!rsa || !n || !e || !key || RSA_set_method(rsa.get(), method.method) != 1 ||
      RSA_set0_key(rsa.get(), n.get(), e.get(), nullptr) != 1) {
    return InternalError("cannot make the token key's RSA object: " +
                         signature_internal::OpensslErrors());
  }
  (void)n.release();  // Owned by `rsa` now.
  (void)e.release();
  if (RSA_set_ex_data(rsa.get(), method.index, op) != 1 ||
      EVP_PKEY_assign_RSA(key.get(), rsa.get()) != 1) {
    return InternalError("cannot make the token key's RSA object: " +
                         signature_internal::OpensslErrors());
  }
  (void)rsa.release();  // Owned by `key` now.
  return key;
}

// A loaded and initialised PKCS#11 library. It stays loaded for the life of the process:
// C_Finalize would log out every other user of the library in this process.
class Module {
 public:
  static Result<std::unique_ptr<Module>> Load(const std::string& path);
  explicit Module(CK_FUNCTION_LIST* f) : f_(f) {}  // Use Load().

  Result<Bytes> Sign(ByteView content, const Pkcs11KeyRef& ref, std::string_view pin, X509* cert,
                     const std::vector<std::string>& chain_pem, TimePoint signing_time,
                     bool detached) HK_EXCLUDES(mu_);

 private:
  Result<CK_SLOT_ID> FindToken(const std::string& label) HK_REQUIRES(mu_);
  Status Login(Session& session, const std::string& token, std::string_view pin) HK_REQUIRES(mu_);
  Result<CK_OBJECT_HANDLE> FindKey(Session& session, const Pkcs11KeyRef& ref) HK_REQUIRES(mu_);

  Mutex mu_;
  // Every call into the library holds mu_: PKCS#11 login state is per token and process, so
  // one signer's login must not be another's.
  CK_FUNCTION_LIST* f_ HK_GUARDED_BY(mu_);
};

Result<std::unique_ptr<Module>> Module::Load(const std::string& path) {
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return FailedPreconditionError("cannot load the PKCS#11 library: " +
                                   std::string(why != nullptr ? why : path));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST* f = nullptr;
  if (get_function_list == nullptr || get_function_list(&f) != CKR_OK || f == nullptr) {
    dlclose(library);
    return FailedPreconditionError(path + " is not a PKCS#11 library");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = f->C_Initialize(&args);
  ERR_clear_error();  // The library may use OpenSSL itself and leave errors behind.
  // Already initialised: another part of this process uses the library too; share it.
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(library);
    return FailedPreconditionError("cannot initialise the PKCS#11 library " + path + " (" +
                                   RvText(rv) + ")");
  }
  // `library` stays open on purpose (see above).
  return std::make_unique<Module>(f);
}

Result<CK_SLOT_ID> Module::FindToken(const std::string& label) {
  std::vector<CK_SLOT_ID> slots;
  CK_RV rv = CKR_BUFFER_TOO_SMALL;
  for (int attempt = 0; attempt < 3 && rv == CKR_BUFFER_TOO_SMALL; ++attempt) {
    CK_ULONG count = 0;
    rv = f_->C_GetSlotList(CK_TRUE, nullptr, &count);
    if (rv != CKR_OK) break;
    slots.resize(count);
    rv = f_->C_GetSlotList(CK_TRUE, slots.data(), &count);
    slots.resize(count);
  }
  if (rv != CKR_OK) return TokenError(rv, label, "listing the slots");
  std::vector<CK_SLOT_ID> matches;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    if (f_->C_GetTokenInfo(slot, &info) == CKR_OK && TokenLabel(info) == label) {
      matches.push_back(slot);
    }
  }
  if (matches.empty()) return NotFoundError("no PKCS#11 token is labelled '" + label + "'");
  if (matches.size() > 1) {
    return FailedPreconditionError("several PKCS#11 tokens are labelled '" + label + "'");
  }
  return matches.front();
}

Status Module::Login(Session& session, const std::string& token, std::string_view pin) {
  // C_Login does not write to the PIN; its C signature is just not const.
  auto* pin_bytes = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data()));
  CK_RV rv = f_->C_Login(session.handle(), CKU_USER, pin_bytes, pin.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) {
    // Someone else in this process left the token logged in: log out, so that this PIN is
    // really checked.
    f_->C_Logout(session.handle());
    rv = f_->C_Login(session.handle(), CKU_USER, pin_bytes, pin.size());
  }
  if (rv != CKR_OK) return TokenError(rv, token, "logging in");
  session.set_logged_in();
  return OkStatus();
}

Result<CK_OBJECT_HANDLE> Module::FindKey(Session& session, const Pkcs11KeyRef& ref) {
  CK_OBJECT_CLASS private_key = CKO_PRIVATE_KEY;
  std::string label = ref.key_label;
  CK_ATTRIBUTE query[] = {{CKA_CLASS, &private_key, sizeof private_key},
                          {CKA_LABEL, label.data(), label.size()}};
  CK_RV rv = f_->C_FindObjectsInit(session.handle(), query, 2);
  if (rv != CKR_OK) return TokenError(rv, ref.token_label, "looking for the key");
  CK_OBJECT_HANDLE found[2] = {CK_INVALID_HANDLE, CK_INVALID_HANDLE};
  CK_ULONG count = 0;
  rv = f_->C_FindObjects(session.handle(), found, 2, &count);
  f_->C_FindObjectsFinal(session.handle());
  if (rv != CKR_OK) return TokenError(rv, ref.token_label, "looking for the key");
  if (count == 0) {
    return NotFoundError("PKCS#11 token '" + ref.token_label + "' has no private key labelled '" +
                         ref.key_label + "'");
  }
  if (count > 1) {
    return FailedPreconditionError("PKCS#11 token '" + ref.token_label +
                                   "' has several private keys labelled '" + ref.key_label + "'");
  }
  return found[0];
}

Result<Bytes> Module::Sign(ByteView content, const Pkcs11KeyRef& ref, std::string_view pin,
                           X509* cert, const std::vector<std::string>& chain_pem,
                           TimePoint signing_time, bool detached) {
  MutexLock lock(mu_);
  HK_ASSIGN_OR_RETURN(CK_SLOT_ID slot, FindToken(ref.token_label));
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  const CK_RV rv = f_->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &handle);
  if (rv != CKR_OK) return TokenError(rv, ref.token_label, "opening a session");
  Session session(f_, handle);
  HK_RETURN_IF_ERROR(Login(session, ref.token_label, pin));
  HK_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key_handle, FindKey(session, ref));

  const std::string which =
      "key '" + ref.key_label + "' in PKCS#11 token '" + ref.token_label + "'";
  if (ScalarAttribute<CK_KEY_TYPE>(f_, handle, key_handle, CKA_KEY_TYPE) != CKK_RSA) {
    return FailedPreconditionError("the " + which + " is not an RSA key (only RSA is supported)");
  }
  if (ScalarAttribute<CK_BBOOL>(f_, handle, key_handle, CKA_SIGN) == CK_FALSE) {
    return FailedPreconditionError("the " + which + " may not sign");
  }
  // The public half comes from the token, so the shared signing code's key/certificate check
  // compares the certificate with the key that will really sign.
  std::optional<Bytes> modulus = Attribute(f_, handle, key_handle, CKA_MODULUS);
  std::optional<Bytes> exponent = Attribute(f_, handle, key_handle, CKA_PUBLIC_EXPONENT);
  if (!modulus.has_value() || !exponent.has_value()) {
    return FailedPreconditionError("the " + which +
                                   " does not show its public modulus and exponent");
  }
  TokenOperation op{f_, handle, key_handle};
  HK_ASSIGN_OR_RETURN(Ptr<EVP_PKEY> key, TokenRsaKey(*modulus, *exponent, &op));
  ERR_clear_error();
  Result<Bytes> signature = signature_internal::SignCadesWithKey(content, cert, key.get(),
                                                                 chain_pem, signing_time, detached);
  ERR_clear_error();
  if (!signature.has_value() && op.failure != CKR_OK) {
    return TokenError(op.failure, ref.token_label, "signing");
  }
  return signature;
}

struct Registry {
  Mutex mu;
  std::map<std::string, std::unique_ptr<Module>> modules HK_GUARDED_BY(mu);
};

// The library at `path`, loaded on first use. A failed load is not remembered, so a library
// installed later is picked up.
Result<Module*> ModuleAt(const std::string& path) {
  static Registry registry;
  MutexLock lock(registry.mu);
  auto it = registry.modules.find(path);
  if (it == registry.modules.end()) {
    HK_ASSIGN_OR_RETURN(std::unique_ptr<Module> loaded, Module::Load(path));
    it = registry.modules.emplace(path, std::move(loaded)).first;
  }
  return it->second.get();
}

}  // namespace

Result<Bytes> SignCadesPkcs11(ByteView content, const Pkcs11KeyRef& key, std::string_view pin,
                              const std::string& cert_pem,
                              const std::vector<std::string>& chain_pem, TimePoint signing_time,
                              bool detached) {
  if (key.module_path.empty()) {
    return FailedPreconditionError("no PKCS#11 library is configured");
  }
  if (key.token_label.empty() || key.key_label.empty()) {
    return InvalidArgumentError("a PKCS#11 key needs a token label and a key label");
  }
  if (signing_time == TimePoint{}) {
    return InvalidArgumentError("a signature needs its signing time");
  }
  // An empty PIN would cost a login attempt on the token's retry counter for nothing.
  if (pin.empty()) {
    return PermissionDeniedError("a PIN is needed for PKCS#11 token '" + key.token_label + "'");
  }
  HK_ASSIGN_OR_RETURN(Ptr<X509> cert, ParseCertificate(ToBytes(cert_pem)));
  HK_ASSIGN_OR_RETURN(Module * module, ModuleAt(key.module_path));
  return module->Sign(content, key, pin, cert.get(), chain_pem, signing_time, detached);
}

}  // namespace hokan
