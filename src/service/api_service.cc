#include "service/api_service.h"

#include <array>

#include "base/encoding.h"
#include "base/time.h"
#include "crypto/x509.h"
#include "identity/identity_store.h"
#include "policy/break_glass.h"
#include "policy/role.h"
#include "service/backup.h"
#include "service/signing.h"
#include "signature/cades.h"
#include "signature/evidence.h"
#include "signature/hpki.h"
#include "signature/keys.h"
#include "store/atomic_write.h"
#include "store/key_file.h"

namespace hokan {
namespace {

constexpr std::string_view kCookieName = "hokan_session";
constexpr std::size_t kMaxAuditScan = 10000;

// The role a "matrix:<role>:..." rule names; empty for other rules.
std::string RoleOfRule(std::string_view rule) {
  if (rule.rfind("matrix:", 0) != 0) return "";
  rule.remove_prefix(7);
  return std::string(rule.substr(0, rule.find(':')));
}

Subject SubjectOf(const Principal& p) {
  Subject s;
  s.user_id = p.user.id;
  s.roles = p.user.roles;
  s.department = p.user.department;
  s.maintenance = p.user.kind == UserKind::kMaintenance;
  s.expires_at = p.user.expires_at;
  s.restricted_session = p.session && p.session->restricted;
  s.via_token = p.via_token;
  s.token_scopes = p.scopes;
  return s;
}

// The login id as it may appear in the log: a well-formed user id, else a placeholder (a
// password typed into the user field must not end up in the audit log).
std::string LoggableLoginId(std::string_view id) {
  std::string lower(id);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (ValidateUserId(lower).ok()) return "user:" + lower;
  return "user:(malformed id)";
}

std::string Truncate(std::string_view s, std::size_t n) {
  return std::string(s.substr(0, std::min(s.size(), n)));
}

AuditEvent RequestEvent(const RequestContext& ctx, std::string_view action) {
  AuditEvent e;
  e.actor = "anonymous";
  e.action = std::string(action);
  e.source = ctx.client_address;
  e.request_id = ctx.request_id;
  return e;
}

// Today's verification options for a confirmation of `info`, with the version's hash standing
// for the content and the certificates and CRLs its evidence preserved.
SignatureVerifyOptions ConfirmationOptions(const SignatureService& signatures,
                                           const VersionInfo& info,
                                           const std::optional<EvidenceRow>& evidence,
                                           TimePoint now) {
  SignatureVerifyOptions o = signatures.OptionsFor(info.record_type, now);
  o.content_sha256 = info.sha256;
  if (evidence) {
    if (Result<ValidationData> vd = ReadValidationData(evidence->validation_data)) {
      o.intermediates.insert(o.intermediates.end(), vd->certificates.begin(),
                             vd->certificates.end());
      o.crls.insert(o.crls.end(), vd->crls.begin(), vd->crls.end());
      o.timestamp.intermediates.insert(o.timestamp.intermediates.end(), vd->certificates.begin(),
                                       vd->certificates.end());
      o.timestamp.crls.insert(o.timestamp.crls.end(), vd->crls.begin(), vd->crls.end());
    }
  }
  return o;
}

// The data object group an evidence record covers: the content, the signature and the
// validation data (docs/formats/evidence-record.md).
Result<std::vector<Sha256Digest>> EvidenceGroup(const VersionInfo& info, const Confirmation& c,
                                                ByteView validation_data) {
  HK_ASSIGN_OR_RETURN(Bytes content_hash, HexDecode(info.sha256));
  if (content_hash.size() != 32) return DataLossError("a version's hash is malformed");
  Sha256Digest content{};
  std::copy(content_hash.begin(), content_hash.end(), content.begin());
  return std::vector<Sha256Digest>{content, Sha256(c.signature), Sha256(validation_data)};
}

std::string OutcomeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return "invalid";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "denied";
    case StatusCode::kOk:
      return "success";
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return "error";
  }
  return "error";
}

Status CheckRoles(const std::vector<std::string>& roles) {
  for (const std::string& r : roles) HK_RETURN_IF_ERROR(ParseRole(r).error());
  return OkStatus();
}

// How a read-only emergency copy (G-6.10-C1, G-6.10-C4f; ApiServiceOptions::read_only)
// treats each policy action; docs/api.md has the same table for people. kPerCall: the action
// names reads and changes alike, so each call says (ApiService::OnCopy), and a call that does
// not say is refused.
enum class CopyRule { kAllow, kRefuse, kPerCall };
struct CopyRow {
  std::string_view action;
  CopyRule rule;
};
constexpr std::array<CopyRow, kAllActions.size()> kCopyRules = {{
    {kActionPatientRead, CopyRule::kAllow},
    {kActionPatientCreate, CopyRule::kRefuse},
    {kActionRecordCreate, CopyRule::kRefuse},  // Uploads and new versions.
    {kActionRecordRead, CopyRule::kAllow},
    {kActionRecordHistory, CopyRule::kAllow},  // Also lists, confirmations, patient records.
    {kActionRecordMarkError, CopyRule::kRefuse},
    {kActionRecordLabel, CopyRule::kRefuse},
    {kActionRecordConfirm, CopyRule::kRefuse},
    {kActionQuarantineRead, CopyRule::kAllow},
    {kActionQuarantineRelease, CopyRule::kRefuse},  // Request, approve and reject.
    {kActionCareManage, CopyRule::kPerCall},        // Listing only.
    {kActionBreakGlassDeclare, CopyRule::kRefuse},
    {kActionBreakGlassReview, CopyRule::kPerCall},  // Listing only.
    {kActionAuditRead, CopyRule::kAllow},
    {kActionAuditProof, CopyRule::kAllow},
    // A checkpoint signs the copy's own log, which grows with every audited read.
    {kActionAuditCheckpoint, CopyRule::kAllow},
    {kActionUserRead, CopyRule::kAllow},
    {kActionUserManage, CopyRule::kRefuse},
    {kActionUserResetPassword, CopyRule::kRefuse},
    {kActionTokenManage, CopyRule::kPerCall},  // Listing one's own tokens only.
    {kActionStoreVerify, CopyRule::kAllow},
    {kActionMaintenanceTransfer, CopyRule::kRefuse},
    {kActionBackupStatus, CopyRule::kAllow},
    {kActionSelf, CopyRule::kPerCall},  // whoami and sign-out; not passwords or TOTP.
}};

constexpr bool CopyRulesNameEveryAction() {
  for (std::size_t i = 0; i < kAllActions.size(); ++i) {
    if (kCopyRules[i].action != kAllActions[i]) return false;
  }
  return true;
}
static_assert(CopyRulesNameEveryAction(),
              "kCopyRules needs one row per action of kAllActions, in the same order");

bool AllowedOnCopy(std::string_view action, bool call_allows) {
  for (const CopyRow& row : kCopyRules) {
    if (row.action != action) continue;
    switch (row.rule) {
      case CopyRule::kAllow:
        return true;
      case CopyRule::kRefuse:
        return false;
      case CopyRule::kPerCall:
        return call_allows;
    }
  }
  return false;  // Not an action: refused (the policy denies it too).
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const std::string& r : roles) {
    if (!out.empty()) out += ',';
    out += r;
  }
  return out;
}

}  // namespace

Result<TlsFiles> ServerTlsFiles(Env& env, const Archive& archive) {
  const ServerConfig& c = archive.config().server;
  auto resolve = [&](const std::string& p) {
    return p.empty() || p[0] == '/' ? p : JoinPath(archive.dir(), p);
  };
  TlsFiles f{.cert = resolve(c.tls_cert_file),
             .key = resolve(c.tls_key_file),
             .client_ca = resolve(c.client_ca_file)};
  for (const std::string* path : {&f.cert, &f.key}) {
    Result<FileInfo> info = env.fs.Stat(*path);
    if (!info) return NotFoundError("TLS file " + *path + " is missing ([server] in hokan.toml)");
  }
  HK_RETURN_IF_ERROR(CheckPrivateFile(env.fs, f.key));
  return f;
}

// Holds one of the service's password-hashing slots for its lifetime.
class ApiService::HashSlot {
 public:
  explicit HashSlot(std::counting_semaphore<>& slots) : slots_(slots) { slots_.acquire(); }
  ~HashSlot() { slots_.release(); }
  HashSlot(const HashSlot&) = delete;
  HashSlot& operator=(const HashSlot&) = delete;

 private:
  std::counting_semaphore<>& slots_;
};

struct ApiService::Allowed {
  Principal principal;
  Decision decision;
  Actor actor;
  Resource resource;
};

ApiService::ApiService(Archive& archive, Env& env) : archive_(archive), env_(env) {}
ApiService::~ApiService() = default;

Result<std::unique_ptr<ApiService>> ApiService::Open(Archive& archive, Env& env,
                                                     const ApiServiceOptions& service_options) {
  HK_RETURN_IF_ERROR(archive.db().WithWriteConnection([](Database& db) -> Status {
    HK_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status st = IdentityStore::CreateSchema(db);
    if (st.ok()) st = CareStore::CreateSchema(db);
    if (st.ok()) st = ConfirmationStore::CreateSchema(db);
    if (st.ok()) return db.Exec("COMMIT");
    (void)db.Exec("ROLLBACK");
    return st;
  }));
  std::unique_ptr<ApiService> api(new ApiService(archive, env));
  api->read_only_ = service_options.read_only || archive.config().server.read_only;
  const IdentityConfig& ic = archive.config().identity;
  IdentityOptions options;
  options.require_two_factor = ic.require_two_factor;
  options.session_idle_timeout = std::chrono::minutes(ic.session_idle_minutes);
  options.session_lifetime = std::chrono::hours(ic.session_lifetime_hours);
  options.failures_before_delay = static_cast<int>(ic.failures_before_delay);
  options.failures_before_lockout = static_cast<int>(ic.failures_before_lockout);
  options.lockout = std::chrono::minutes(ic.lockout_minutes);
  options.password_hash = service_options.password_hash;
  const SecretBytes row_key = archive.DeriveKey("identity row mac v1");
  const SecretBytes secret_key = archive.DeriveKey("identity secrets v1");
  HK_ASSIGN_OR_RETURN(api->identity_, IdentityStore::Open(env, archive.db(), row_key.view(),
                                                          secret_key.view(), options));
  const SecretBytes care_key = archive.DeriveKey("care row mac v1");
  api->care_ = std::make_unique<CareStore>(care_key.view());
  const SecretBytes confirmation_key = archive.DeriveKey("confirmation row mac v1");
  api->confirmations_ = std::make_unique<ConfirmationStore>(confirmation_key.view());
  HK_ASSIGN_OR_RETURN(api->signatures_,
                      SignatureService::Open(env, archive.dir(), archive.config().signature,
                                             service_options.tsa_transport));
  return api;
}

TimePoint ApiService::Now() const { return env_.clock.Now(); }

Status ApiService::RefuseOnCopy(AuditEvent refused) {
  if (!read_only_) return OkStatus();
  refused.outcome = "denied";
  refused.rule = std::string(kReadOnlyRule);
  AuditAlone(refused);
  return FailedPreconditionError(
      archive_.config().server.read_only
          ? std::string(kReadOnlyStoreRefusal)
          : "this server is a read-only emergency copy (hokan serve --read-only); changes are "
            "refused");
}

void ApiService::AuditAlone(const AuditEvent& e) {
  // An entry that cannot be written is not silently dropped: the caller's answer is already
  // a refusal, and the failure shows in the server log by its status code only.
  (void)archive_.audit().Append(e);
}

Status ApiService::CommitAudited(AuditEvent& e,
                                 const std::function<Status(Database&, AuditEvent&)>& change) {
  Status st = archive_.db().committer().Run([&](Database& db) -> Status {
    HK_RETURN_IF_ERROR(change(db, e));
    return archive_.audit().AppendIn(db, e).error();
  });
  if (!st.ok()) {
    e.outcome = OutcomeFor(st.code());
    e.detail.emplace_back("error", std::string(StatusCodeName(st.code())));
    AuditAlone(e);
  }
  return st;
}

Status ApiService::WriteAudited(const Actor& actor, std::string_view action,
                                const std::string& target,
                                const std::function<Status(Database&)>& change) {
  AuditEvent e = ActorEvent(actor, action);
  if (!target.empty()) e.detail.emplace_back("target", target);
  return CommitAudited(e, [&](Database& db, AuditEvent&) { return change(db); });
}

Result<Principal> ApiService::Authenticate(const RequestContext& ctx) {
  Principal p;
  if (!ctx.bearer_token.empty()) {
    Result<ResolvedApiToken> t = InternalError("not resolved");
    HK_RETURN_IF_ERROR(archive_.db().committer().Run([&](Database& db) -> Status {
      t = identity_->ResolveApiTokenIn(db, ctx.bearer_token);
      return t.error();
    }));
    p.user = t->user;
    p.credential_id = t->token.token_id;
    p.via_token = true;
    p.scopes = t->token.scopes;
    return p;
  }
  if (!ctx.session_token.empty()) {
    // Most requests only read the session; its use is written at most once a minute, and
    // only then does authentication cost a commit.
    Result<ResolvedSession> s = InternalError("not resolved");
    bool touch_due = false;
    HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
      s = identity_->PeekSession(db, ctx.session_token, touch_due);
      return s.error();
    }));
    if (touch_due) {
      HK_RETURN_IF_ERROR(archive_.db().committer().Run([&](Database& db) -> Status {
        s = identity_->ResolveSessionIn(db, ctx.session_token);
        return s.error();
      }));
    }
    p.user = s->user;
    p.credential_id = s->session.id;
    p.session = s->session;
    return p;
  }
  if (!ctx.client_cert_sha256.empty()) {
    Result<User> u = InternalError("not resolved");
    HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
      u = identity_->UserForClientCert(db, ctx.client_cert_sha256);
      return OkStatus();
    }));
    // A certificate alone identifies systems only; people log in with it as a second factor.
    if (u && u->kind == UserKind::kSystem) {
      p.user = *u;
      p.credential_id = "cert:" + ctx.client_cert_sha256.substr(0, 16);
      p.via_client_cert = true;
      return p;
    }
  }
  return UnauthenticatedError("authentication required: sign in or present an API token");
}

Result<Principal> ApiService::Identify(const RequestContext& ctx, std::string_view action) {
  Result<Principal> p = Authenticate(ctx);
  if (!p) {
    AuditEvent refused = RequestEvent(ctx, action);
    refused.outcome = OutcomeFor(p.error().code());
    refused.detail = {{"method", ctx.method}, {"path", Truncate(ctx.path, 200)}};
    AuditAlone(refused);
  }
  return p;
}

Result<ApiService::Allowed> ApiService::Authorize(const RequestContext& ctx,
                                                  std::string_view action, Resource resource,
                                                  const std::string& record_id, bool sensitive,
                                                  OnCopy on_copy) {
  HK_ASSIGN_OR_RETURN(Principal p, Identify(ctx, action));
  return AuthorizeAs(ctx, std::move(p), action, std::move(resource), record_id, sensitive, on_copy);
}

void ApiService::AuditLookupFailure(const RequestContext& ctx, const Principal& who,
                                    std::string_view action, const std::string& record_id,
                                    const Status& st) {
  AuditEvent e = RequestEvent(ctx, action);
  e.actor = "user:" + who.user.id;
  e.session = who.credential_id;
  e.maintenance = who.user.kind == UserKind::kMaintenance;
  e.record = Truncate(record_id, 64);
  e.outcome = OutcomeFor(st.code());
  AuditAlone(e);
}

Result<ApiService::Allowed> ApiService::AuthorizeAs(const RequestContext& ctx, Principal who,
                                                    std::string_view action, Resource resource,
                                                    const std::string& record_id, bool sensitive,
                                                    OnCopy on_copy) {
  AuditEvent refused = RequestEvent(ctx, action);
  refused.patient = resource.patient_id;
  refused.record = record_id;
  std::optional<Principal> p(std::move(who));
  refused.actor = "user:" + p->user.id;
  refused.session = p->credential_id;
  refused.maintenance = p->user.kind == UserKind::kMaintenance;

  const TimePoint now = Now();
  Facts facts{.now = now};
  if (!resource.patient_id.empty()) {
    Status st = archive_.db().Read([&](Database& db) -> Status {
      HK_ASSIGN_OR_RETURN(std::vector<StoredRelationship> rels,
                          care_->RelationshipsOf(db, resource.patient_id));
      facts.relationships.reserve(rels.size());
      for (auto& r : rels) facts.relationships.push_back(std::move(r.relationship));
      HK_ASSIGN_OR_RETURN(facts.grants, care_->GrantsOf(db, p->user.id, resource.patient_id));
      HK_ASSIGN_OR_RETURN(resource.labels, care_->LabelsOf(db, resource.patient_id, record_id));
      return OkStatus();
    });
    if (!st.ok()) {
      refused.outcome = "error";
      AuditAlone(refused);
      return st;
    }
  }
  Decision d = Decide(SubjectOf(*p), action, resource, facts);
  refused.rule = d.rule;
  refused.role = RoleOfRule(d.rule);
  if (!d.allowed) {
    refused.outcome = "denied";
    AuditAlone(refused);
    return PermissionDeniedError("not allowed: " + d.reason);
  }
  // Every change on an emergency copy stops here, whichever route asked (G-6.10-C1): after the
  // policy, so the refusal is about the copy and not the caller's rights, and before the
  // re-authentication a change may need, which would be asked for in vain.
  if (read_only_ && !AllowedOnCopy(action, on_copy == OnCopy::kAllow)) {
    return RefuseOnCopy(refused);
  }
  if (sensitive && p->session &&
      !RecentlyAuthenticated(
          *p->session, now,
          std::chrono::minutes(archive_.config().identity.reauthenticate_minutes))) {
    refused.outcome = "denied";
    refused.rule = "deny:reauthentication-required";
    AuditAlone(refused);
    return UnauthenticatedError(
        "this action needs your password again: POST /api/v1/session/reauthenticate");
  }
  Allowed a;
  a.actor = Actor{.id = "user:" + p->user.id,
                  .source = ctx.client_address,
                  .role = RoleOfRule(d.rule),
                  .session = p->credential_id,
                  .rule = d.rule,
                  .request_id = ctx.request_id,
                  .break_glass = d.break_glass,
                  .maintenance = p->user.kind == UserKind::kMaintenance,
                  .review = d.review};
  a.principal = std::move(*p);
  a.decision = std::move(d);
  a.resource = std::move(resource);
  return a;
}

// --- public ------------------------------------------------------------------------------------

Status ApiService::Health(const RequestContext& ctx) { return AuditPublic(ctx, "health.check"); }

Status ApiService::AuditPublic(const RequestContext& ctx, std::string_view action) {
  return archive_.audit().Append(RequestEvent(ctx, action)).error();
}

Status ApiService::RefuseAnonymous(const RequestContext& ctx, std::string_view action) {
  if (!ctx.session_token.empty() || !ctx.bearer_token.empty() || !ctx.client_cert_sha256.empty()) {
    return OkStatus();
  }
  AuditEvent e = RequestEvent(ctx, action);
  e.outcome = "unauthenticated";
  e.detail = {{"method", Truncate(ctx.method, 16)}, {"path", Truncate(ctx.path, 200)}};
  AuditAlone(e);
  return UnauthenticatedError("authentication required: sign in or present an API token");
}

void ApiService::AuditInvalid(const RequestContext& ctx, std::string_view action) {
  AuditEvent e = RequestEvent(ctx, action);
  if (Result<Principal> p = Authenticate(ctx)) {
    e.actor = "user:" + p->user.id;
    e.session = p->credential_id;
    e.maintenance = p->user.kind == UserKind::kMaintenance;
  }
  e.outcome = "invalid";
  e.detail = {{"method", Truncate(ctx.method, 16)}, {"path", Truncate(ctx.path, 200)}};
  AuditAlone(e);
}

void ApiService::AuditUnrouted(const RequestContext& ctx, int http_status) {
  AuditEvent e = RequestEvent(ctx, "http.request");
  e.outcome = http_status == 404 ? "not_found" : "invalid";
  e.detail = {{"method", Truncate(ctx.method, 16)},
              {"path", Truncate(ctx.path, 200)},
              {"status", std::to_string(http_status)}};
  AuditAlone(e);
}

Result<LoginResult> ApiService::Login(const RequestContext& ctx, const LoginRequest& request) {
  LoginRequest req = request;
  if (req.client_cert_fingerprint.empty()) req.client_cert_fingerprint = ctx.client_cert_sha256;
  AuditEvent e = RequestEvent(ctx, "auth.login");
  const HashSlot slot(hash_slots_);  // Bounds Argon2id memory under a sign-in flood.
  e.actor = LoggableLoginId(req.login_id);
  HK_ASSIGN_OR_RETURN(
      LoginOutcome out, identity_->Login(req, [&](Database& db, const LoginOutcome& o) -> Status {
        switch (o.kind) {
          case LoginOutcome::Kind::kOk:
            e.outcome = "success";
            e.session = o.session.id;
            for (const Factor f : o.session.factors) {
              e.detail.emplace_back("factor", std::string(FactorName(f)));
            }
            if (o.session.restricted) e.detail.emplace_back("restricted", "true");
            break;
          case LoginOutcome::Kind::kFailed:
            e.outcome = "unauthenticated";
            if (o.lockout_started) e.detail.emplace_back("lockout_started", "true");
            break;
          case LoginOutcome::Kind::kSecondFactorRequired:
            e.outcome = "unauthenticated";
            e.detail.emplace_back("result", "second_factor_required");
            break;
          case LoginOutcome::Kind::kLockedOut:
            e.outcome = "denied";
            e.rule = "deny:lockout";
            e.detail.emplace_back("retry_after", std::to_string(o.retry_after.count()));
            break;
        }
        return archive_.audit().AppendIn(db, e).error();
      }));
  LoginResult r;
  if (out.kind == LoginOutcome::Kind::kOk) {
    r.cookie = std::string(kCookieName) + "=" + out.session_token +
               "; Path=/; Secure; HttpOnly; SameSite=Strict";
  }
  r.outcome = std::move(out);
  return r;
}

Result<User> ApiService::Setup(const RequestContext& ctx, std::string_view setup_secret,
                               const NewUser& admin) {
  NewUser u = admin;
  u.roles = {"admin"};  // Separation of duties: the first account administers, nothing else.
  u.kind = UserKind::kPerson;
  AuditEvent e = RequestEvent(ctx, "user.setup");
  e.actor = LoggableLoginId(u.id);
  e.detail = {{"target", "user:" + u.id}, {"roles", "admin"}};
  HK_RETURN_IF_ERROR(RefuseOnCopy(e));
  Result<User> made = InternalError("not made");
  HK_RETURN_IF_ERROR(CommitAudited(e, [&](Database& db, AuditEvent&) -> Status {
    HK_RETURN_IF_ERROR(identity_->ConsumeSetupSecretIn(db, setup_secret));
    made = identity_->CreateUserIn(db, u);
    return made.error();
  }));
  return made;
}

Status ApiService::SetPasswordAudited(std::string_view user_id, std::string_view new_password,
                                      const PasswordProof& proof, AuditEvent& e) {
  const HashSlot slot(hash_slots_);  // Bounds Argon2id memory under a sign-in flood.
  Result<PasswordChange> changed = identity_->SetPassword(
      user_id, new_password, proof, [&](Database& db, const PasswordChange& c) -> Status {
        if (c.reset) {  // G-6.5-C14b: the reset that allowed it, and who verified the user.
          e.detail.emplace_back("reset_id", c.reset->reset_id);
          e.detail.emplace_back("verified_by", c.reset->verified_by);
        }
        return archive_.audit().AppendIn(db, e).error();
      });
  if (!changed) {
    e.outcome = OutcomeFor(changed.error().code());
    AuditAlone(e);
  }
  return changed.error();
}

Status ApiService::SetPasswordWithCode(const RequestContext& ctx, std::string_view user_id,
                                       std::string_view code, std::string_view new_password) {
  AuditEvent e = RequestEvent(ctx, "user.password_set");
  e.actor = LoggableLoginId(user_id);
  e.detail = {{"proof", "reset_code"}};
  HK_RETURN_IF_ERROR(RefuseOnCopy(e));
  return SetPasswordAudited(user_id, new_password, PasswordProof::ResetCode(std::string(code)), e);
}

Result<std::string> ApiService::NewSetupSecret(const Actor& local) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "user.setup_secret")));
  std::string secret;
  HK_RETURN_IF_ERROR(WriteAudited(local, "user.setup_secret", "", [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(secret, identity_->CreateSetupSecretIn(db));
    return OkStatus();
  }));
  return secret;
}

// --- local bootstrap ---------------------------------------------------------------------------

namespace {

// 16 characters from letters, digits and symbols; the caller retries when the rules refuse
// one (a rare keyboard run or repeat).
Result<std::string> RandomPassword() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789#%+=@!?*";
  std::array<std::uint8_t, 16> bytes{};
  HK_RETURN_IF_ERROR(RandomBytes(bytes));
  std::string out;
  out.reserve(bytes.size() + 3);
  for (const std::uint8_t b : bytes) out += kAlphabet[b % kAlphabet.size()];
  // One of each class, whatever the draw.
  out += kAlphabet[bytes[0] % 24];
  out += kAlphabet[48 + bytes[1] % 8];
  out += kAlphabet[56 + bytes[2] % 9];
  return out;
}

}  // namespace

Result<ApiService::LocalUser> ApiService::CreateLocalUser(const Actor& local, NewUser user) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "user.create")));
  HK_RETURN_IF_ERROR(CheckRoles(user.roles));
  LocalUser out;
  for (int attempt = 0;; ++attempt) {
    HK_ASSIGN_OR_RETURN(out.password, RandomPassword());
    user.initial_password = out.password;
    Status st = WriteAudited(local, "user.create", "user:" + user.id, [&](Database& db) -> Status {
      HK_ASSIGN_OR_RETURN(out.user, identity_->CreateUserIn(db, user));
      return OkStatus();
    });
    if (st.ok()) return out;
    if (st.code() != StatusCode::kInvalidArgument || attempt >= 20) return st;
  }
}

Result<StoredRelationship> ApiService::AddCareLocal(const Actor& local, const CareRelationship& r) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "care.add")));
  StoredRelationship out;
  const std::string who = r.user_id.empty() ? "department:" + r.department : "user:" + r.user_id;
  HK_RETURN_IF_ERROR(WriteAudited(local, "care.add", who, [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, care_->AddRelationshipIn(db, r, local.id, Now()));
    return OkStatus();
  }));
  return out;
}

Status ApiService::SetLabelLocal(const Actor& local, const std::string& target,
                                 const std::string& label) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "record.label_set")));
  return WriteAudited(local, "record.label_set", target + " " + label, [&](Database& db) {
    return care_->SetLabelIn(db, target, label, local.id, Now());
  });
}

// --- self ----------------------------------------------------------------------------------------

Status ApiService::Logout(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionSelf, {}, "", false, OnCopy::kAllow));
  if (!a.principal.session) {
    return InvalidArgumentError("logout ends a session; revoke API tokens instead");
  }
  return WriteAudited(a.actor, "auth.logout", "", [&](Database& db) -> Status {
    return identity_->RevokeSessionIn(db, a.principal.session->id);
  });
}

Result<WhoAmI> ApiService::Who(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionSelf, {}, "", false, OnCopy::kAllow));
  HK_RETURN_IF_ERROR(archive_.audit().Append(ActorEvent(a.actor, "self.read")).error());
  return WhoAmI{.user = a.principal.user,
                .session = a.principal.session,
                .via_token = a.principal.via_token,
                .scopes = a.principal.scopes};
}

Status ApiService::Reauthenticate(const RequestContext& ctx, const LoginRequest& proof) {
  AuditEvent e = RequestEvent(ctx, "auth.reauthenticate");
  if (ctx.session_token.empty()) {
    e.outcome = "unauthenticated";
    AuditAlone(e);
    return UnauthenticatedError("re-authentication needs a session");
  }
  LoginRequest req = proof;
  if (req.client_cert_fingerprint.empty()) req.client_cert_fingerprint = ctx.client_cert_sha256;
  const HashSlot slot(hash_slots_);  // Bounds Argon2id memory under a sign-in flood.
  HK_ASSIGN_OR_RETURN(
      LoginOutcome out,
      identity_->Reauthenticate(ctx.session_token, req, [&](Database& db, const LoginOutcome& o) {
        e.actor = o.user_id.empty() ? "anonymous" : "user:" + o.user_id;
        e.session = o.session.id;
        e.outcome = o.kind == LoginOutcome::Kind::kOk          ? "success"
                    : o.kind == LoginOutcome::Kind::kLockedOut ? "denied"
                                                               : "unauthenticated";
        return archive_.audit().AppendIn(db, e).error();
      }));
  switch (out.kind) {
    case LoginOutcome::Kind::kOk:
      return OkStatus();
    case LoginOutcome::Kind::kSecondFactorRequired:
      return UnauthenticatedError("enter your second factor (TOTP or recovery code) too");
    case LoginOutcome::Kind::kLockedOut:
      return UnauthenticatedError("too many failed attempts; try again in " +
                                  std::to_string(out.retry_after.count()) + " s");
    case LoginOutcome::Kind::kFailed:
      break;
  }
  return UnauthenticatedError("the password or code is wrong");
}

Status ApiService::ChangePassword(const RequestContext& ctx, std::string_view current,
                                  std::string_view new_password) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionSelf, {}));
  AuditEvent e = ActorEvent(a.actor, "user.password_change");
  return SetPasswordAudited(a.principal.user.id, new_password,
                            PasswordProof::CurrentPassword(std::string(current)), e);
}

Result<TotpEnrolment> ApiService::BeginTotp(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionSelf, {}));
  TotpEnrolment out;
  HK_RETURN_IF_ERROR(WriteAudited(a.actor, "user.totp_begin", "", [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->BeginTotpEnrolmentIn(db, a.principal.user.id, "hokan"));
    return OkStatus();
  }));
  return out;
}

Result<TotpConfirmation> ApiService::ConfirmTotp(const RequestContext& ctx, std::string_view code) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionSelf, {}));
  TotpConfirmation out;
  HK_RETURN_IF_ERROR(WriteAudited(a.actor, "user.totp_confirm", "", [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->ConfirmTotpIn(db, a.principal.user.id, code));
    return OkStatus();
  }));
  return out;
}

// --- records -------------------------------------------------------------------------------------

Result<PutResult> ApiService::PutRecord(const RequestContext& ctx, PutRequest request,
                                        const IngestOptions& ingest) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordCreate));
  if (!request.record_id.empty()) {
    // A new version: the record's own patient decides, whatever the request claims.
    Result<VersionInfo> info = archive_.records().GetVersionInfo(request.record_id, 0);
    if (!info) {
      AuditLookupFailure(ctx, who, kActionRecordCreate, request.record_id, info.error());
      return info.error();
    }
    if (!request.patient_id.empty() && request.patient_id != info->patient_id) {
      const Status st = InvalidArgumentError("record " + request.record_id +
                                             " belongs to another patient than the one named");
      AuditLookupFailure(ctx, who, kActionRecordCreate, request.record_id, st);
      return st;
    }
    request.patient_id = info->patient_id;
  } else if (Status st = ValidatePatientId(request.patient_id); !st.ok()) {
    AuditLookupFailure(ctx, who, kActionRecordCreate, "", st);
    return st;
  }
  HK_ASSIGN_OR_RETURN(Allowed a,
                      AuthorizeAs(ctx, std::move(who), kActionRecordCreate,
                                  Resource{.patient_id = request.patient_id}, request.record_id));
  Result<PutResult> r = archive_.PutRecord(a.actor, request, ingest);
  // A file the sanitiser refused has its own audit entry (record.sanitize) already.
  const bool refused = !r && IsSanitizerRefusal(r.error());
  if (!r && !refused) {
    AuditEvent e = ActorEvent(a.actor, kActionRecordCreate);
    e.patient = request.patient_id;
    e.record = request.record_id;
    e.outcome = OutcomeFor(r.error().code());
    AuditAlone(e);
  }
  return r;
}

Result<ReadResult> ApiService::ReadRecord(const RequestContext& ctx, const std::string& record_id,
                                          std::int64_t version) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordRead));
  Result<VersionInfo> info = archive_.records().GetVersionInfo(record_id, 0);
  if (!info) {
    AuditLookupFailure(ctx, who, kActionRecordRead, record_id, info.error());
    return info.error();
  }
  HK_ASSIGN_OR_RETURN(Allowed a, AuthorizeAs(ctx, std::move(who), kActionRecordRead,
                                             Resource{.patient_id = info->patient_id}, record_id));
  // The archive writes the read's entry (durably, before returning content) and the entries
  // of reads that fail.
  return archive_.ReadRecord(a.actor, record_id, version);
}

Result<RecordHistory> ApiService::History(const RequestContext& ctx, const std::string& record_id) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordHistory));
  Result<VersionInfo> info = archive_.records().GetVersionInfo(record_id, 0);
  if (!info) {
    AuditLookupFailure(ctx, who, kActionRecordHistory, record_id, info.error());
    return info.error();
  }
  HK_ASSIGN_OR_RETURN(Allowed a, AuthorizeAs(ctx, std::move(who), kActionRecordHistory,
                                             Resource{.patient_id = info->patient_id}, record_id));
  return archive_.History(a.actor, record_id);
}

Result<RecordState> ApiService::MarkEnteredInError(const RequestContext& ctx,
                                                   const std::string& record_id,
                                                   const std::string& reason) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordMarkError));
  Result<VersionInfo> info = archive_.records().GetVersionInfo(record_id, 0);
  if (!info) {
    AuditLookupFailure(ctx, who, kActionRecordMarkError, record_id, info.error());
    return info.error();
  }
  HK_ASSIGN_OR_RETURN(Allowed a, AuthorizeAs(ctx, std::move(who), kActionRecordMarkError,
                                             Resource{.patient_id = info->patient_id}, record_id));
  Result<RecordState> r = archive_.MarkEnteredInError(a.actor, record_id, reason);
  if (!r) {
    AuditEvent e = ActorEvent(a.actor, kActionRecordMarkError);
    e.patient = info->patient_id;
    e.record = record_id;
    e.outcome = OutcomeFor(r.error().code());
    AuditAlone(e);
  }
  return r;
}

Result<std::vector<RecordHistory>> ApiService::PatientRecords(const RequestContext& ctx,
                                                              const std::string& patient_id) {
  if (Status st = ValidatePatientId(patient_id); !st.ok()) {
    AuditEvent e = RequestEvent(ctx, kActionRecordHistory);
    e.outcome = "invalid";
    AuditAlone(e);
    return st;
  }
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionRecordHistory, Resource{.patient_id = patient_id}));
  HK_ASSIGN_OR_RETURN(std::vector<RecordHistory> records,
                      archive_.records().RecordsOfPatient(patient_id));
  AuditEvent e = ActorEvent(a.actor, "patient.records");
  e.patient = patient_id;
  e.detail = {{"records", std::to_string(records.size())}};
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return records;
}

Status ApiService::SetLabel(const RequestContext& ctx, const std::string& target,
                            const std::string& label, bool set) {
  std::string patient;
  std::string record;
  if (target.rfind("patient:", 0) == 0) {
    patient = target.substr(8);
  } else if (target.rfind("record:", 0) == 0) {
    record = target.substr(7);
    Result<VersionInfo> info = archive_.records().GetVersionInfo(record, 0);
    if (info) patient = info->patient_id;
  }
  if (patient.empty() || !ValidatePatientId(patient).ok()) {
    AuditEvent e = RequestEvent(ctx, kActionRecordLabel);
    e.outcome = "invalid";
    AuditAlone(e);
    return InvalidArgumentError("label target must be patient:<id> or record:<id> of a record");
  }
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionRecordLabel, Resource{.patient_id = patient}, record));
  return WriteAudited(a.actor, set ? "record.label_set" : "record.label_clear",
                      target + " " + label, [&](Database& db) -> Status {
                        return set ? care_->SetLabelIn(db, target, label, a.actor.id, Now())
                                   : care_->ClearLabelIn(db, target, label);
                      });
}

// --- care and break-glass ------------------------------------------------------------------------

Result<StoredRelationship> ApiService::AddCare(const RequestContext& ctx,
                                               const CareRelationship& r) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionCareManage,
                                Resource{.patient_id = r.patient_id, .target_user_id = r.user_id}));
  StoredRelationship out;
  const std::string who = r.user_id.empty() ? "department:" + r.department : "user:" + r.user_id;
  HK_RETURN_IF_ERROR(WriteAudited(a.actor, "care.add", who, [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, care_->AddRelationshipIn(db, r, a.actor.id, Now()));
    return OkStatus();
  }));
  return out;
}

Result<std::vector<StoredRelationship>> ApiService::ListCare(const RequestContext& ctx,
                                                             const std::string& patient_id) {
  HK_ASSIGN_OR_RETURN(
      Allowed a, Authorize(ctx, kActionCareManage, Resource{.patient_id = patient_id}, "", false,
                           OnCopy::kAllow));
  std::vector<StoredRelationship> out;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, care_->RelationshipsOf(db, patient_id));
    return OkStatus();
  }));
  AuditEvent e = ActorEvent(a.actor, "care.list");
  e.patient = patient_id;
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return out;
}

Status ApiService::EndCare(const RequestContext& ctx, const std::string& patient_id,
                           const std::string& id) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionCareManage, Resource{.patient_id = patient_id}));
  return WriteAudited(a.actor, "care.end", id, [&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(std::vector<StoredRelationship> rels,
                        care_->RelationshipsOf(db, patient_id));
    for (const auto& r : rels) {
      if (r.id == id) return care_->EndRelationshipIn(db, id, Now());
    }
    return NotFoundError("patient " + patient_id + " has no care relationship " + id);
  });
}

Result<BreakGlassGrant> ApiService::DeclareBreakGlass(const RequestContext& ctx,
                                                      const std::string& patient_id,
                                                      const std::string& reason) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionBreakGlassDeclare, Resource{.patient_id = patient_id}));
  Result<BreakGlassGrant> grant =
      NewBreakGlassGrant(SubjectOf(a.principal), patient_id, reason, Now());
  AuditEvent e = ActorEvent(a.actor, kActionBreakGlassDeclare);
  e.patient = patient_id;
  e.break_glass = true;
  if (!grant) {
    e.outcome = OutcomeFor(grant.error().code());
    AuditAlone(e);
    return grant.error();
  }
  HK_ASSIGN_OR_RETURN(std::string id, RandomHexId(12));
  grant->id = "bg-" + id;
  e.reason = grant->reason;
  e.detail = {{"grant", grant->id}, {"expires_at", FormatRfc3339(grant->expires_at)}};
  HK_RETURN_IF_ERROR(
      CommitAudited(e, [&](Database& db, AuditEvent&) { return care_->AddGrantIn(db, *grant); }));
  return grant;
}

// --- remote maintenance -------------------------------------------------------------------------

Result<MaintenanceReceipt> ApiService::ReceiveMaintenanceTransfer(
    const RequestContext& ctx, const MaintenanceTransferRequest& request) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionMaintenanceTransfer, {}));
  return hokan::ReceiveMaintenanceTransfer(archive_, a.actor, request);
}

// --- backups -------------------------------------------------------------------------------------

Result<std::string> ApiService::BackupStatus(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionBackupStatus, {}));
  HK_ASSIGN_OR_RETURN(std::string status, BackupStatusJson(archive_));
  HK_RETURN_IF_ERROR(archive_.audit().Append(ActorEvent(a.actor, "backup.status")).error());
  return status;
}

// --- quarantine ----------------------------------------------------------------------------------

Result<std::vector<ApiService::QuarantineView>> ApiService::ListQuarantine(
    const RequestContext& ctx, std::size_t limit) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRead, {}));
  HK_ASSIGN_OR_RETURN(std::vector<QuarantineItem> items,
                      archive_.ListQuarantine(std::clamp<std::size_t>(limit, 1, 1000)));
  std::vector<QuarantineView> out;
  for (QuarantineItem& item : items) {
    QuarantineView view;
    HK_ASSIGN_OR_RETURN(view.item, archive_.GetQuarantined(item.id, &view.decisions));
    view.state = QuarantineStore::StateOf(view.decisions);
    out.push_back(std::move(view));
  }
  HK_RETURN_IF_ERROR(archive_.audit().Append(ActorEvent(a.actor, "quarantine.list")).error());
  return out;
}

Result<ApiService::QuarantineView> ApiService::GetQuarantined(const RequestContext& ctx,
                                                              const std::string& id) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRead, {}));
  QuarantineView view;
  HK_ASSIGN_OR_RETURN(view.item, archive_.GetQuarantined(id, &view.decisions));
  view.state = QuarantineStore::StateOf(view.decisions);
  AuditEvent e = ActorEvent(a.actor, "quarantine.show");
  e.patient = view.item.patient_id;
  e.detail.emplace_back("quarantine", id);
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return view;
}

Result<Bytes> ApiService::ReadQuarantined(const RequestContext& ctx, const std::string& id) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRead, {}));
  return archive_.ReadQuarantined(a.actor, id);
}

Status ApiService::RequestRelease(const RequestContext& ctx, const std::string& id,
                                  const std::string& reason) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRelease, {}, "", true));
  return archive_.RequestRelease(a.actor, id, reason);
}

Result<PutResult> ApiService::ApproveRelease(const RequestContext& ctx, const std::string& id) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRelease, {}, "", true));
  return archive_.ApproveRelease(a.actor, id);
}

Status ApiService::RejectRelease(const RequestContext& ctx, const std::string& id,
                                 const std::string& reason) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionQuarantineRelease, {}, "", true));
  return archive_.RejectRelease(a.actor, id, reason);
}

Result<std::vector<StoredGrant>> ApiService::ListBreakGlass(const RequestContext& ctx,
                                                            bool unreviewed_only) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionBreakGlassReview, {}, "", false, OnCopy::kAllow));
  std::vector<StoredGrant> out;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, care_->ListGrants(db, unreviewed_only, 1000));
    return OkStatus();
  }));
  HK_RETURN_IF_ERROR(archive_.audit().Append(ActorEvent(a.actor, "breakglass.list")).error());
  return out;
}

Status ApiService::ReviewBreakGlass(const RequestContext& ctx, const std::string& id,
                                    const std::string& note) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionBreakGlassReview, {}));
  if (note.empty() || note.size() > 1000) {
    return InvalidArgumentError("a review note is 1 to 1000 characters");
  }
  return WriteAudited(a.actor, kActionBreakGlassReview, id, [&](Database& db) -> Status {
    return care_->ReviewGrantIn(db, id, a.actor.id, note, Now());
  });
}

// --- audit ---------------------------------------------------------------------------------------

Result<ApiService::AuditPage> ApiService::SearchAudit(const RequestContext& ctx,
                                                      const AuditQuery& q) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionAuditRead, {}));
  const std::uint64_t limit = std::clamp<std::uint64_t>(q.limit, 1, 1000);
  AuditPage page;
  HK_ASSIGN_OR_RETURN(page.size, archive_.AuditSize());
  page.next = q.from;
  const bool filtered =
      !q.actor.empty() || !q.patient.empty() || !q.action.empty() || q.break_glass_only;
  const std::uint64_t scan = filtered ? kMaxAuditScan : limit;
  HK_RETURN_IF_ERROR(archive_.ReadAudit(
      a.actor, "search", q.from, scan, [&](std::uint64_t seq, std::string_view text) -> Status {
        if (page.entries.size() >= limit) return OkStatus();
        page.next = seq + 1;
        if (filtered) {
          HK_ASSIGN_OR_RETURN(DecodedAuditEntry d, DecodeAuditEntry(text));
          if ((!q.actor.empty() && d.event.actor != q.actor) ||
              (!q.patient.empty() && d.event.patient != q.patient) ||
              (!q.action.empty() && d.event.action != q.action) ||
              (q.break_glass_only && !d.event.break_glass)) {
            return OkStatus();
          }
        }
        page.entries.emplace_back(text);
        return OkStatus();
      }));
  return page;
}

Result<Checkpoint> ApiService::AuditCheckpoint(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionAuditCheckpoint, {}));
  return archive_.WriteCheckpoint(a.actor);
}

Result<InclusionProofResult> ApiService::AuditInclusion(const RequestContext& ctx,
                                                        std::uint64_t index) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionAuditProof, {}));
  return archive_.ProveInclusion(a.actor, index);
}

Result<ConsistencyProofResult> ApiService::AuditConsistency(const RequestContext& ctx,
                                                            std::uint64_t old_size,
                                                            std::uint64_t new_size) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionAuditProof, {}));
  return archive_.ProveConsistency(a.actor, old_size, new_size);
}

// --- users and tokens ----------------------------------------------------------------------------

Result<std::vector<User>> ApiService::ListUsers(const RequestContext& ctx) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionUserRead, {}));
  std::vector<User> out;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->ListUsers(db));
    return OkStatus();
  }));
  HK_RETURN_IF_ERROR(archive_.audit().Append(ActorEvent(a.actor, "user.list")).error());
  return out;
}

Result<User> ApiService::GetUser(const RequestContext& ctx, const std::string& user_id) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionUserRead, {.target_user_id = user_id}));
  Result<User> out = InternalError("not read");
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    out = identity_->GetUser(db, user_id);
    return OkStatus();
  }));
  AuditEvent e = ActorEvent(a.actor, kActionUserRead);
  e.detail = {{"target", "user:" + Truncate(user_id, 64)}};
  if (!out) e.outcome = OutcomeFor(out.error().code());
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return out;
}

Result<CreatedUser> ApiService::CreateUser(const RequestContext& ctx,
                                           const NewUserRequest& request) {
  HK_ASSIGN_OR_RETURN(
      Allowed a, Authorize(ctx, kActionUserManage, {.target_user_id = request.user.id}, "", true));
  if (!request.user.initial_password.empty()) {
    return InvalidArgumentError(
        "administrators do not set passwords; the user sets one with the enrolment code");
  }
  HK_RETURN_IF_ERROR(CheckRoles(request.user.roles));
  CreatedUser out;
  HK_RETURN_IF_ERROR(
      WriteAudited(a.actor, "user.create", "user:" + request.user.id, [&](Database& db) -> Status {
        HK_ASSIGN_OR_RETURN(out.user, identity_->CreateUserIn(db, request.user));
        // A person sets their own password with a one-time code (G-6.5-C14b/c).
        HK_ASSIGN_OR_RETURN(out.enrolment, identity_->IssuePasswordResetIn(
                                               db, out.user.id, a.principal.user.id,
                                               request.verified_by, request.verification_method));
        return OkStatus();
      }));
  return out;
}

Result<User> ApiService::SetRoles(const RequestContext& ctx, const std::string& user_id,
                                  const std::vector<std::string>& roles,
                                  const std::string& requested_by, const std::string& approved_by) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionUserManage, {.target_user_id = user_id}, "", true));
  HK_RETURN_IF_ERROR(CheckRoles(roles));
  // G-6.0-S14-4: privileges change on a department's request, approved by its manager.
  for (const std::string* who : {&requested_by, &approved_by}) {
    if (who->empty() || who->size() > 200) {
      return InvalidArgumentError(
          "a role change names who requested it and who approved it (1 to 200 characters)");
    }
  }
  User out;
  AuditEvent e = ActorEvent(a.actor, "user.roles");
  e.detail = {{"target", "user:" + user_id},
              {"roles", JoinRoles(roles)},
              {"requested_by", requested_by},
              {"approved_by", approved_by}};
  HK_RETURN_IF_ERROR(CommitAudited(e, [&](Database& db, AuditEvent&) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->SetRolesIn(db, user_id, roles));
    return OkStatus();
  }));
  return out;
}

Result<User> ApiService::SetDisabled(const RequestContext& ctx, const std::string& user_id,
                                     bool disabled) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionUserManage, {.target_user_id = user_id}, "", true));
  User out;
  HK_RETURN_IF_ERROR(
      WriteAudited(a.actor, disabled ? "user.disable" : "user.enable", "user:" + user_id,
                   [&](Database& db) -> Status {
                     HK_ASSIGN_OR_RETURN(out, identity_->SetDisabledIn(db, user_id, disabled));
                     if (disabled) {
                       HK_RETURN_IF_ERROR(identity_->RevokeUserSessionsIn(db, user_id).error());
                     }
                     return OkStatus();
                   }));
  return out;
}

Result<IssuedPasswordReset> ApiService::ResetPassword(const RequestContext& ctx,
                                                      const std::string& user_id,
                                                      const std::string& verified_by,
                                                      const std::string& method) {
  HK_ASSIGN_OR_RETURN(
      Allowed a, Authorize(ctx, kActionUserResetPassword, {.target_user_id = user_id}, "", true));
  IssuedPasswordReset out;
  AuditEvent e = ActorEvent(a.actor, kActionUserResetPassword);
  e.detail = {{"target", "user:" + Truncate(user_id, 64)}};
  HK_RETURN_IF_ERROR(CommitAudited(e, [&](Database& db, AuditEvent& ev) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->IssuePasswordResetIn(db, user_id, a.principal.user.id,
                                                             verified_by, method));
    // G-6.5-C14b: who verified the user's identity, and how.
    ev.detail.insert(ev.detail.end(), {{"reset_id", out.record.reset_id},
                                       {"verified_by", out.record.verified_by},
                                       {"method", out.record.method}});
    return OkStatus();
  }));
  return out;
}

Result<ClientCertBinding> ApiService::BindClientCert(const RequestContext& ctx,
                                                     const std::string& user_id,
                                                     const std::string& fingerprint) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionUserManage, {.target_user_id = user_id}, "", true));
  ClientCertBinding out;
  HK_RETURN_IF_ERROR(
      WriteAudited(a.actor, "user.bind_cert", "user:" + user_id, [&](Database& db) -> Status {
        HK_ASSIGN_OR_RETURN(out, identity_->BindClientCertIn(db, user_id, fingerprint));
        return OkStatus();
      }));
  return out;
}

Result<NewApiToken> ApiService::CreateApiToken(const RequestContext& ctx,
                                               const std::string& user_id,
                                               const std::vector<std::string>& scopes,
                                               TimePoint expires_at) {
  // Administrators issue tokens to system accounts; a system may also rotate its own.
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionTokenManage));
  const bool own = who.user.id == user_id;
  HK_ASSIGN_OR_RETURN(Allowed a,
                      AuthorizeAs(ctx, std::move(who), own ? kActionTokenManage : kActionUserManage,
                                  {.target_user_id = own ? "" : user_id}, "", true));
  NewApiToken out;
  HK_RETURN_IF_ERROR(
      WriteAudited(a.actor, "token.create", "user:" + user_id, [&](Database& db) -> Status {
        HK_ASSIGN_OR_RETURN(out, identity_->CreateApiTokenIn(db, user_id, scopes, expires_at));
        return OkStatus();
      }));
  return out;
}

Result<std::vector<ApiTokenInfo>> ApiService::ListApiTokens(const RequestContext& ctx,
                                                            const std::string& user_id) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionTokenManage));
  const bool own = who.user.id == user_id;
  HK_ASSIGN_OR_RETURN(
      Allowed a, AuthorizeAs(ctx, std::move(who), own ? kActionTokenManage : kActionUserRead,
                             {.target_user_id = own ? "" : user_id}, "", false, OnCopy::kAllow));
  std::vector<ApiTokenInfo> out;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->ListApiTokens(db, user_id));
    return OkStatus();
  }));
  AuditEvent e = ActorEvent(a.actor, "token.list");
  e.detail = {{"target", "user:" + user_id}};
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return out;
}

Status ApiService::RevokeApiToken(const RequestContext& ctx, const std::string& user_id,
                                  const std::string& token_id) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionTokenManage));
  const bool own = who.user.id == user_id;
  HK_ASSIGN_OR_RETURN(Allowed a,
                      AuthorizeAs(ctx, std::move(who), own ? kActionTokenManage : kActionUserManage,
                                  {.target_user_id = own ? "" : user_id}));
  return WriteAudited(a.actor, "token.revoke", "user:" + user_id + " " + token_id,
                      [&](Database& db) -> Status {
                        HK_ASSIGN_OR_RETURN(std::vector<ApiTokenInfo> tokens,
                                            identity_->ListApiTokens(db, user_id));
                        for (const auto& t : tokens) {
                          if (t.token_id == token_id) {
                            return identity_->RevokeApiTokenIn(db, token_id);
                          }
                        }
                        return NotFoundError("user " + user_id + " has no token " + token_id);
                      });
}

// --- confirmation (確定) ----------------------------------------------------------------------

Result<ConfirmationView> ApiService::ConfirmAs(const std::string& user_id, const VersionInfo& info,
                                               const ConfirmRequest& request, AuditEvent& e) {
  e.patient = info.patient_id;
  e.record = info.record_id;
  e.version = info.version;
  auto refuse = [&](Status st) -> Status {
    e.outcome = OutcomeFor(st.code());
    e.reason = st.message();
    AuditAlone(e);
    return st;
  };
  // Cheap refusals first: nothing is signed or timestamped for a request that cannot succeed.
  std::optional<Confirmation> existing;
  Status st = archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(existing, confirmations_->FindIn(db, info.record_id, info.version));
    return OkStatus();
  });
  if (!st.ok()) return refuse(st);
  if (existing) {
    return refuse(AlreadyExistsError("version " + info.record_id + "/" +
                                     std::to_string(info.version) + " is already confirmed"));
  }
  Result<RecordHistory> history = archive_.records().History(info.record_id);
  if (!history) return refuse(history.error());
  if (history->status != "active") {
    return refuse(FailedPreconditionError("record " + info.record_id + " is " + history->status +
                                          " and cannot be confirmed"));
  }
  if (request.signature.empty() && request.key_passphrase.empty()) {
    return refuse(InvalidArgumentError(
        "confirming needs a signature over the content, or the passphrase of your signing key"));
  }
  if (!signatures_->can_timestamp()) {
    return refuse(FailedPreconditionError(
        "no time-stamping authority is configured ([signature] tsa_urls or development_tsa)"));
  }
  Result<Bytes> content = archive_.records().ReadContent(info);
  if (!content) return refuse(content.error());
  const TimePoint now = Now();
  Confirmation c;
  c.record_id = info.record_id;
  c.version = info.version;
  c.confirmer = user_id;
  c.confirmed_at = FormatRfc3339(now);
  Result<Bytes> signature = request.signature;
  c.method = "client-signature";
  if (request.signature.empty()) {
    c.method = "server-key";
    signature = signatures_->SignWithUserKey(user_id, request.key_passphrase, *content, now);
  }
  if (!signature) return refuse(signature.error());
  Result<Bytes> stamped = signatures_->AddTimestamp(*signature, now);
  if (!stamped) {
    // A signature that is not CMS at all is the caller's mistake, not the TSA's.
    return refuse(stamped.error());
  }
  Result<SignatureReport> report =
      signatures_->Verify(*stamped, ByteView(*content), info.record_type, now);
  if (!report) return refuse(report.error());
  e.detail.emplace_back("signer_sha256", report->signer.sha256);
  e.detail.emplace_back("method", c.method);
  if (!report->valid) {
    const bool qualification = report->reason.find("qualification") != std::string::npos;
    const std::string why = "the signature cannot confirm this version: " + report->reason;
    return refuse(qualification ? PermissionDeniedError(why) : InvalidArgumentError(why));
  }
  // Only the confirmer's own key: the certificate must be bound to this user.
  std::optional<std::string> owner;
  st = archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(owner, identity_->SigningCertOwner(db, report->signer.sha256));
    return OkStatus();
  });
  if (!st.ok()) return refuse(st);
  if (!owner || *owner != user_id) {
    return refuse(PermissionDeniedError(
        "the signing certificate is not bound to you; an administrator binds it first"));
  }
  c.signature = std::move(*stamped);
  c.signer_sha256 = report->signer.sha256;
  c.signer_subject = report->signer.subject;
  c.level = report->level;
  if (report->timestamp) {
    c.timestamp_time = report->timestamp->gen_time;
    c.tsa_subject = report->timestamp->tsa_name;
  }
  e.detail.emplace_back("level", c.level);
  e.detail.emplace_back("timestamp", c.timestamp_time);
  HK_RETURN_IF_ERROR(
      CommitAudited(e, [&](Database& db, AuditEvent&) { return confirmations_->InsertIn(db, c); }));
  return ConfirmationView{std::move(c), report->valid, SignatureReportJson(*report)};
}

Result<ConfirmationView> ApiService::Confirm(const RequestContext& ctx,
                                             const ConfirmRequest& request) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordConfirm));
  Result<VersionInfo> info = archive_.records().GetVersionInfo(request.record_id, request.version);
  if (!info) {
    AuditLookupFailure(ctx, who, kActionRecordConfirm, request.record_id, info.error());
    return info.error();
  }
  const std::string user_id = who.user.id;
  HK_ASSIGN_OR_RETURN(Allowed a,
                      AuthorizeAs(ctx, std::move(who), kActionRecordConfirm,
                                  Resource{.patient_id = info->patient_id}, request.record_id));
  AuditEvent e = ActorEvent(a.actor, kActionRecordConfirm);
  return ConfirmAs(user_id, *info, request, e);
}

Result<ConfirmationView> ApiService::ConfirmLocal(const Actor& local, const std::string& user_id,
                                                  const ConfirmRequest& request) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, kActionRecordConfirm)));
  HK_ASSIGN_OR_RETURN(VersionInfo info,
                      archive_.records().GetVersionInfo(request.record_id, request.version));
  Result<User> user = InternalError("not read");
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    user = identity_->GetUser(db, user_id);
    return user.error();
  }));
  if (!user->ActiveAt(Now())) {
    return FailedPreconditionError("user " + user_id + " is disabled or expired");
  }
  AuditEvent e = ActorEvent(local, kActionRecordConfirm);
  e.detail.emplace_back("confirmer", user_id);
  return ConfirmAs(user_id, info, request, e);
}

Result<std::optional<ConfirmationView>> ApiService::GetConfirmation(const RequestContext& ctx,
                                                                    const std::string& record_id,
                                                                    std::int64_t version) {
  HK_ASSIGN_OR_RETURN(Principal who, Identify(ctx, kActionRecordHistory));
  Result<VersionInfo> info = archive_.records().GetVersionInfo(record_id, version);
  if (!info) {
    AuditLookupFailure(ctx, who, kActionRecordHistory, record_id, info.error());
    return info.error();
  }
  HK_ASSIGN_OR_RETURN(Allowed a, AuthorizeAs(ctx, std::move(who), kActionRecordHistory,
                                             Resource{.patient_id = info->patient_id}, record_id));
  std::optional<Confirmation> c;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(c, confirmations_->FindIn(db, record_id, info->version));
    return OkStatus();
  }));
  AuditEvent e = ActorEvent(a.actor, "record.confirmation");
  e.patient = info->patient_id;
  e.record = record_id;
  e.version = info->version;
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  if (!c) return std::optional<ConfirmationView>();
  std::optional<EvidenceRow> evidence;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(evidence, confirmations_->LatestEvidenceIn(db, record_id, info->version));
    return OkStatus();
  }));
  // Verified against the stored hash: the report holds without decrypting the content.
  const TimePoint now = Now();
  HK_ASSIGN_OR_RETURN(SignatureReport report,
                      VerifyCades(c->signature, std::nullopt,
                                  ConfirmationOptions(*signatures_, *info, evidence, now)));
  ConfirmationView view{std::move(*c), report.valid, SignatureReportJson(report), ""};
  if (evidence) {
    HK_ASSIGN_OR_RETURN(std::vector<Sha256Digest> group,
                        EvidenceGroup(*info, view.confirmation, evidence->validation_data));
    HK_ASSIGN_OR_RETURN(
        EvidenceVerification ev,
        VerifyEvidenceRecord(evidence->evidence_record, group, signatures_->TsaOptions(now)));
    view.evidence_json = EvidenceVerificationJson(ev);
  }
  return std::optional<ConfirmationView>(std::move(view));
}

Result<ClientCertBinding> ApiService::BindSigningCertAs(const Actor& actor,
                                                        const std::string& user_id,
                                                        const std::string& cert_pem) {
  HK_ASSIGN_OR_RETURN(HpkiProfile profile, ReadHpkiProfile(AsBytes(cert_pem)));
  if (!profile.signing_problem.empty()) {
    return InvalidArgumentError("this certificate cannot be a signing certificate: " +
                                profile.signing_problem);
  }
  HK_ASSIGN_OR_RETURN(std::string fingerprint, CertificateFingerprint(cert_pem));
  ClientCertBinding out;
  HK_RETURN_IF_ERROR(
      WriteAudited(actor, "user.bind_signing_cert", "user:" + user_id, [&](Database& db) -> Status {
        HK_ASSIGN_OR_RETURN(out,
                            identity_->BindCertIn(db, CertUsage::kSigning, user_id, fingerprint));
        return OkStatus();
      }));
  return out;
}

Result<ClientCertBinding> ApiService::BindSigningCert(const RequestContext& ctx,
                                                      const std::string& user_id,
                                                      const std::string& cert_pem) {
  HK_ASSIGN_OR_RETURN(Allowed a,
                      Authorize(ctx, kActionUserManage, {.target_user_id = user_id}, "", true));
  return BindSigningCertAs(a.actor, user_id, cert_pem);
}

Result<ClientCertBinding> ApiService::BindSigningCertLocal(const Actor& local,
                                                           const std::string& user_id,
                                                           const std::string& cert_pem) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "user.bind_signing_cert")));
  return BindSigningCertAs(local, user_id, cert_pem);
}

Result<ClientCertBinding> ApiService::InstallSigningKeyLocal(const Actor& local,
                                                             const std::string& user_id,
                                                             ByteView p12,
                                                             std::string_view passphrase) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "user.install_signing_key")));
  Result<User> user = InternalError("not read");
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    user = identity_->GetUser(db, user_id);
    return user.error();
  }));
  HK_ASSIGN_OR_RETURN(SigningIdentity id, ReadPkcs12(p12, passphrase));
  HK_ASSIGN_OR_RETURN(std::string fingerprint, CertificateFingerprint(id.cert_pem));
  std::optional<std::string> owner;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(owner, identity_->SigningCertOwner(db, fingerprint));
    return OkStatus();
  }));
  if (owner && *owner != user_id) {
    return AlreadyExistsError("the key's certificate is bound to another user");
  }
  const std::string dir = archive_.config().signature.signing_keys_dir;
  const std::string keys_dir = !dir.empty() && dir[0] == '/' ? dir : JoinPath(archive_.dir(), dir);
  if (!env_.fs.Stat(keys_dir).has_value()) HK_RETURN_IF_ERROR(env_.fs.CreateDir(keys_dir));
  HK_RETURN_IF_ERROR(WriteNewFileDurably(env_.fs, keys_dir, user_id + ".p12", p12));
  ClientCertBinding binding{fingerprint, user_id, Now()};
  if (!owner) {
    HK_ASSIGN_OR_RETURN(binding, BindSigningCertAs(local, user_id, id.cert_pem));
  }
  AuditEvent e = ActorEvent(local, "user.install_signing_key");
  e.detail.emplace_back("target", "user:" + user_id);
  e.detail.emplace_back("signer_sha256", fingerprint);
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return binding;
}

Result<std::vector<ClientCertBinding>> ApiService::ListSigningCerts(const RequestContext& ctx,
                                                                    const std::string& user_id) {
  HK_ASSIGN_OR_RETURN(Allowed a, Authorize(ctx, kActionUserRead, {.target_user_id = user_id}));
  std::vector<ClientCertBinding> out;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) -> Status {
    HK_ASSIGN_OR_RETURN(out, identity_->ListCerts(db, CertUsage::kSigning, user_id));
    return OkStatus();
  }));
  AuditEvent e = ActorEvent(a.actor, "user.signing_certs");
  e.detail.emplace_back("target", "user:" + user_id);
  HK_RETURN_IF_ERROR(archive_.audit().Append(e).error());
  return out;
}

Result<EvidenceRenewal> ApiService::RenewEvidence(
    const Actor& local, std::chrono::hours renew_within,
    const std::function<void(std::uint64_t done, std::uint64_t total)>& progress) {
  HK_RETURN_IF_ERROR(RefuseOnCopy(ActorEvent(local, "evidence.renew")));
  EvidenceRenewal out;
  struct Item {
    Confirmation confirmation;
    VersionInfo info;
    std::optional<EvidenceRow> evidence;  // The newest, when renewing.
    Bytes validation_data;
    std::vector<Sha256Digest> group;  // What the new archive timestamp covers.
  };
  std::vector<Confirmation> all;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) {
    return confirmations_->ForEachIn(db, [&](const Confirmation& c, bool intact) {
      if (!intact) {
        out.problems.push_back(c.record_id + "/" + std::to_string(c.version) +
                               ": the confirmation row fails its integrity check");
      } else {
        all.push_back(c);
      }
      return OkStatus();
    });
  }));
  const TimePoint now = Now();
  std::vector<Item> due;
  for (const Confirmation& c : all) {
    ++out.confirmations;
    if (progress) progress(out.confirmations, all.size());
    const std::string name = c.record_id + "/" + std::to_string(c.version);
    Item item{.confirmation = c};
    Result<VersionInfo> info = archive_.records().GetVersionInfo(c.record_id, c.version);
    if (!info) {
      out.problems.push_back(name + ": " + info.error().message());
      continue;
    }
    item.info = std::move(*info);
    Status st = archive_.db().Read([&](Database& db) -> Status {
      HK_ASSIGN_OR_RETURN(item.evidence,
                          confirmations_->LatestEvidenceIn(db, c.record_id, c.version));
      return OkStatus();
    });
    if (!st.ok()) {
      out.problems.push_back(name + ": " + st.message());
      continue;
    }
    if (item.evidence) {
      Result<TimePoint> expiry = ParseRfc3339(item.evidence->tsa_not_after);
      if (expiry && *expiry - now > renew_within) {
        ++out.not_due;
        continue;
      }
      Result<Sha256Digest> digest = RenewalDigest(item.evidence->evidence_record);
      if (!digest) {
        out.problems.push_back(name + ": " + digest.error().message());
        continue;
      }
      item.validation_data = item.evidence->validation_data;
      item.group = {*digest};
    } else {
      // Collected while the signature is valid: the paths and the CRLs that show it.
      Result<Bytes> vd = CollectValidationData(
          c.signature, ConfirmationOptions(*signatures_, item.info, std::nullopt, now));
      if (!vd) {
        out.problems.push_back(name + ": " + vd.error().message());
        continue;
      }
      item.validation_data = std::move(*vd);
      Result<std::vector<Sha256Digest>> group = EvidenceGroup(item.info, c, item.validation_data);
      if (!group) {
        out.problems.push_back(name + ": " + group.error().message());
        continue;
      }
      item.group = std::move(*group);
    }
    due.push_back(std::move(item));
  }
  if (due.empty()) return out;

  // One hash tree, one token for the whole batch.
  std::vector<std::vector<Sha256Digest>> groups;
  groups.reserve(due.size());
  for (const Item& i : due) groups.push_back(i.group);
  HK_ASSIGN_OR_RETURN(HashTreeBatch batch, BuildHashTree(groups));
  HK_ASSIGN_OR_RETURN(Bytes token, signatures_->TimestampDigest(batch.root, now));
  std::vector<EvidenceRow> rows;
  for (std::size_t k = 0; k < due.size(); ++k) {
    const Item& i = due[k];
    EvidenceRow row{.record_id = i.confirmation.record_id,
                    .version = i.confirmation.version,
                    .validation_data = i.validation_data,
                    .created_at = FormatRfc3339(now)};
    Result<Bytes> er = InternalError("not made");
    if (i.evidence) {
      row.renewal = i.evidence->renewal + 1;
      er = RenewEvidenceRecord(i.evidence->evidence_record, batch.reduced[k], token);
    } else {
      er = MakeEvidenceRecord(batch.reduced[k], token);
    }
    if (!er) return er.error();
    row.evidence_record = std::move(*er);
    // Checked before it is stored; its expiry says when the next renewal is due.
    HK_ASSIGN_OR_RETURN(std::vector<Sha256Digest> group,
                        EvidenceGroup(i.info, i.confirmation, i.validation_data));
    HK_ASSIGN_OR_RETURN(EvidenceVerification v, VerifyEvidenceRecord(row.evidence_record, group,
                                                                     signatures_->TsaOptions(now)));
    if (!v.valid) return InternalError("a new evidence record does not verify: " + v.reason);
    row.tsa_not_after = v.latest_tsa_not_after;
    out.timestamp_time = v.archive_timestamps.back().timestamp.gen_time;
    (i.evidence ? out.renewed : out.created) += 1;
    rows.push_back(std::move(row));
  }
  AuditEvent e = ActorEvent(local, "evidence.renew");
  e.detail = {{"created", std::to_string(out.created)},
              {"renewed", std::to_string(out.renewed)},
              {"timestamp", out.timestamp_time}};
  HK_RETURN_IF_ERROR(CommitAudited(e, [&](Database& db, AuditEvent&) -> Status {
    for (const EvidenceRow& row : rows)
      HK_RETURN_IF_ERROR(confirmations_->InsertEvidenceIn(db, row));
    return OkStatus();
  }));
  return out;
}

Result<ApiService::ConfirmationCheck> ApiService::VerifyConfirmations(VerifySink& sink) {
  ConfirmationCheck out;
  std::vector<std::pair<Confirmation, bool>> all;
  HK_RETURN_IF_ERROR(archive_.db().Read([&](Database& db) {
    return confirmations_->ForEachIn(db, [&](const Confirmation& c, bool intact) {
      all.emplace_back(c, intact);
      return OkStatus();
    });
  }));
  const TimePoint now = Now();
  for (const auto& entry : all) {
    const Confirmation& c = entry.first;
    const bool intact = entry.second;
    const std::string object = "confirmation " + c.record_id + "/" + std::to_string(c.version);
    ++out.checked;
    sink.Progress("confirmations", out.checked, all.size());
    auto report = [&](const std::string& message, bool damage) {
      sink.Report(Problem{object, message, damage});
      ++(damage ? out.damage : out.warnings);
    };
    if (!intact) {
      report("the row was changed outside hokan (its integrity check fails)", true);
      continue;
    }
    Result<VersionInfo> info = archive_.records().GetVersionInfo(c.record_id, c.version);
    if (!info) {
      report("its version cannot be read: " + info.error().message(), true);
      continue;
    }
    std::optional<EvidenceRow> evidence;
    Status st = archive_.db().Read([&](Database& db) -> Status {
      HK_ASSIGN_OR_RETURN(evidence, confirmations_->LatestEvidenceIn(db, c.record_id, c.version));
      return OkStatus();
    });
    if (!st.ok()) {
      report(st.message(), true);
      continue;
    }
    Result<SignatureReport> r = VerifyCades(
        c.signature, std::nullopt, ConfirmationOptions(*signatures_, *info, evidence, now));
    if (!r) {
      report("the stored signature cannot be read: " + r.error().message(), true);
    } else if (!r->signature_intact || !r->content_intact || !r->signing_certificate_match ||
               r->signer.sha256 != c.signer_sha256) {
      report("the signature does not match the version: " + r->reason, true);
    } else if (!r->valid) {
      report("the signature is intact but does not validate today: " + r->reason, false);
    }
    if (!evidence) continue;
    Result<std::vector<Sha256Digest>> group = EvidenceGroup(*info, c, evidence->validation_data);
    Result<EvidenceVerification> ev =
        group
            ? VerifyEvidenceRecord(evidence->evidence_record, *group, signatures_->TsaOptions(now))
            : Result<EvidenceVerification>(group.error());
    if (!ev) {
      report("its evidence record cannot be read: " + ev.error().message(), true);
    } else if (!ev->hashes_match) {
      report("its evidence record does not cover this content, signature and validation data",
             true);
    } else if (!ev->valid) {
      report("its evidence record does not validate today: " + ev->reason, false);
    }
  }
  return out;
}

}  // namespace hokan
