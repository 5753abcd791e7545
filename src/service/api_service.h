// The use cases behind the HTTPS API: authenticate -> authorise -> act -> audit. The HTTP
// layer only translates; every path through here writes one audit entry per request,
// including the unauthenticated and denied ones, naming the policy rule that decided
// (G-6.5-C7, docs/access-control.md). A read's entry is durable before content is returned.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "identity/identity.h"
#include "policy/policy.h"
#include "service/archive.h"
#include "service/care_store.h"
#include "service/confirmation_store.h"
#include "service/maintenance.h"
#include "store/verify_report.h"

namespace hokan {

class IdentityStore;
class SignatureService;
class TimestampTransport;

// What the transport knows about a request.
struct RequestContext {
  std::string client_address;
  std::string request_id;
  std::string method;
  std::string path;
  std::string session_token;  // From the session cookie.
  std::string bearer_token;   // Authorization: Bearer ... (API token).
  std::string client_cert_sha256;
};

// The authenticated caller.
struct Principal {
  User user;
  std::string credential_id;  // Session id (s-...) or API token id.
  bool via_token = false;
  bool via_client_cert = false;
  std::vector<std::string> scopes;
  std::optional<Session> session;
};

struct LoginResult {
  LoginOutcome outcome;
  std::string cookie;  // Set-Cookie value when a session was made.
};

struct WhoAmI {
  User user;
  std::optional<Session> session;
  bool via_token = false;
  std::vector<std::string> scopes;
};

struct RecordSummaryList {
  std::vector<RecordHistory> records;
};

struct AuditQuery {
  std::uint64_t from = 0;
  std::uint64_t limit = 100;
  std::string actor;  // Filters: exact match when set.
  std::string patient;
  std::string action;
  bool break_glass_only = false;
};

struct NewUserRequest {
  NewUser user;  // initial_password must be empty: users choose their own.
  // Who checked the person's identity before the account was made, and how (G-6.5-C14b).
  std::string verified_by;
  std::string verification_method;
};

struct CreatedUser {
  User user;
  IssuedPasswordReset enrolment;  // One-time code the user sets a password with.
};

// The TLS files [server] names, resolved against the data directory, after checking that
// the key is readable by its owner only.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string client_ca;  // Empty: no client certificates asked for.
};
Result<TlsFiles> ServerTlsFiles(Env& env, const Archive& archive);

struct ApiServiceOptions {
  // Argon2id cost; tests lower it, production keeps the default.
  PasswordHashParams password_hash;
  // Reaches the TSAs of [signature] tsa_urls (HTTP); null when none are configured. Must
  // outlive the service.
  TimestampTransport* tsa_transport = nullptr;
  // G-6.10: a restored copy served for emergency (非常時) viewing (`hokan serve --read-only`).
  // Every request that would change clinical or administrative data is refused with
  // kFailedPrecondition and audited as denied with rule "read_only"; sign-in, sessions,
  // reads, searches and the audit log keep working (reads are still audited, so audit entries
  // and session rows are written). `[server] read_only = true` in hokan.toml has the same
  // effect. The decision for each action is in docs/api.md ("Read-only emergency copy").
  bool read_only = false;
};

// Confirming (確定) a version with an e-signature and a timestamp (issue 4).
struct ConfirmRequest {
  std::string record_id;
  std::int64_t version = 0;
  // (a) A detached CMS/CAdES signature over the version's content, made on the user's
  // terminal (e.g. with an HPKI card); or, when empty,
  Bytes signature;
  // (b) server-side signing with the user's encrypted key file, opened with this passphrase.
  std::string key_passphrase;
};

struct ConfirmationView {
  Confirmation confirmation;
  // The signature verified at the time of the request (docs/formats/verification-report.md).
  bool valid = false;
  std::string report_json;
  // The newest evidence record verified now ("" when the confirmation has none yet).
  std::string evidence_json;
};

// `hokan evidence renew`: what one run did (docs/signatures.md, long-term validity).
struct EvidenceRenewal {
  std::uint64_t confirmations = 0;  // Looked at.
  std::uint64_t created = 0;        // First evidence records.
  std::uint64_t renewed = 0;        // Archive timestamps added before a TSA certificate expires.
  std::uint64_t not_due = 0;
  std::vector<std::string> problems;  // "<record>/<version>: why" (nothing stored for them).
  std::string timestamp_time;         // genTime of the batch's one token ("" if none was due).
};

class ApiService {
 public:
  // Opens identity and care storage in `archive`'s database (creating missing tables). The
  // archive and env must outlive the service.
  static Result<std::unique_ptr<ApiService>> Open(Archive& archive, Env& env,
                                                  const ApiServiceOptions& options = {});
  ~ApiService();
  ApiService(const ApiService&) = delete;
  ApiService& operator=(const ApiService&) = delete;

  // --- no credentials needed -----------------------------------------------------------------
  Status Health(const RequestContext& ctx);
  // Other public reads (the OpenAPI document): audited with `action`.
  Status AuditPublic(const RequestContext& ctx, std::string_view action);
  // G-6.5-D4: unknown user and wrong password give the same outcome; every outcome audited.
  Result<LoginResult> Login(const RequestContext& ctx, const LoginRequest& request);
  // The first administrator, with the one-time secret `hokan init` printed.
  Result<User> Setup(const RequestContext& ctx, std::string_view setup_secret,
                     const NewUser& admin);
  // A user sets their password with the one-time code an administrator issued.
  Status SetPasswordWithCode(const RequestContext& ctx, std::string_view user_id,
                             std::string_view code, std::string_view new_password);
  // A request to a protected route that carries no credentials at all: audited and refused
  // before its input is even looked at. OK when there are credentials (checked later).
  Status RefuseAnonymous(const RequestContext& ctx, std::string_view action);
  // A request to a route whose input was malformed: audited as `action` with outcome
  // "invalid", under the caller when its credentials are valid, else "anonymous".
  void AuditInvalid(const RequestContext& ctx, std::string_view action);
  // Requests the transport answered itself or that matched no route: audited as such.
  void AuditUnrouted(const RequestContext& ctx, int http_status);

  // A fresh setup secret, for `hokan init` and `hokan user setup-secret` (local, audited).
  Result<std::string> NewSetupSecret(const Actor& local);

  // --- the caller's own account (`self`) -------------------------------------------------------
  Status Logout(const RequestContext& ctx);
  Result<WhoAmI> Who(const RequestContext& ctx);
  Status Reauthenticate(const RequestContext& ctx, const LoginRequest& proof);
  Status ChangePassword(const RequestContext& ctx, std::string_view current,
                        std::string_view new_password);
  Result<TotpEnrolment> BeginTotp(const RequestContext& ctx);
  Result<TotpConfirmation> ConfirmTotp(const RequestContext& ctx, std::string_view code);

  // --- records ---------------------------------------------------------------------------------
  // Every file is sanitised on the way in (Archive::PutRecord, IngestOptions).
  Result<PutResult> PutRecord(const RequestContext& ctx, PutRequest request,
                              const IngestOptions& ingest = {});
  Result<ReadResult> ReadRecord(const RequestContext& ctx, const std::string& record_id,
                                std::int64_t version);
  Result<RecordHistory> History(const RequestContext& ctx, const std::string& record_id);
  Result<RecordState> MarkEnteredInError(const RequestContext& ctx, const std::string& record_id,
                                         const std::string& reason);
  Result<std::vector<RecordHistory>> PatientRecords(const RequestContext& ctx,
                                                    const std::string& patient_id);
  // target: "patient:<id>" or "record:<id>".
  Status SetLabel(const RequestContext& ctx, const std::string& target, const std::string& label,
                  bool set);

  // --- confirmation (確定): e-signature + timestamp, only with the caller's own key ------------
  // kAlreadyExists when the version is confirmed; kInvalidArgument when the signature is not
  // a valid CAdES signature over the content; kPermissionDenied when the signing certificate
  // is not bound to the caller or lacks the qualification the document type requires;
  // kUnavailable when no TSA answered.
  Result<ConfirmationView> Confirm(const RequestContext& ctx, const ConfirmRequest& request);
  // The version's confirmation with its signature verified now; nullopt when unconfirmed.
  Result<std::optional<ConfirmationView>> GetConfirmation(const RequestContext& ctx,
                                                          const std::string& record_id,
                                                          std::int64_t version);
  // An administrator binds a signing certificate (PEM) to a user (user.manage).
  Result<ClientCertBinding> BindSigningCert(const RequestContext& ctx, const std::string& user_id,
                                            const std::string& cert_pem);
  Result<std::vector<ClientCertBinding>> ListSigningCerts(const RequestContext& ctx,
                                                          const std::string& user_id);

  // --- care relationships and break-glass ------------------------------------------------------
  Result<StoredRelationship> AddCare(const RequestContext& ctx, const CareRelationship& r);
  Result<std::vector<StoredRelationship>> ListCare(const RequestContext& ctx,
                                                   const std::string& patient_id);
  Status EndCare(const RequestContext& ctx, const std::string& patient_id, const std::string& id);
  // G-6.10: emergency access to a patient outside any care relationship; flagged for review.
  Result<BreakGlassGrant> DeclareBreakGlass(const RequestContext& ctx,
                                            const std::string& patient_id,
                                            const std::string& reason);
  // --- remote maintenance (G-6.8-C9): files with the sender's signed sanitisation attestation
  Result<MaintenanceReceipt> ReceiveMaintenanceTransfer(const RequestContext& ctx,
                                                        const MaintenanceTransferRequest& request);

  // --- quarantine (issue 5): what the sanitiser disarmed, blocked or held ---
  struct QuarantineView {
    QuarantineItem item;
    std::vector<QuarantineDecision> decisions;
    QuarantineState state = QuarantineState::kQuarantined;
  };
  Result<std::vector<QuarantineView>> ListQuarantine(const RequestContext& ctx, std::size_t limit);

  // The last backup run per target and the last drill (docs/backup.md), as JSON.
  Result<std::string> BackupStatus(const RequestContext& ctx);
  Result<QuarantineView> GetQuarantined(const RequestContext& ctx, const std::string& id);
  // The original's bytes (audited before they are returned).
  Result<Bytes> ReadQuarantined(const RequestContext& ctx, const std::string& id);
  Status RequestRelease(const RequestContext& ctx, const std::string& id,
                        const std::string& reason);
  // By a second person: the original becomes a new version of its record, unsanitised.
  Result<PutResult> ApproveRelease(const RequestContext& ctx, const std::string& id);
  Status RejectRelease(const RequestContext& ctx, const std::string& id, const std::string& reason);

  Result<std::vector<StoredGrant>> ListBreakGlass(const RequestContext& ctx, bool unreviewed_only);
  Status ReviewBreakGlass(const RequestContext& ctx, const std::string& id,
                          const std::string& note);

  // --- audit (auditors, security officers) -----------------------------------------------------
  // Matching entries (their stored JSON text) among [q.from, q.from + scanned).
  struct AuditPage {
    std::vector<std::string> entries;
    std::uint64_t next = 0;  // Where the next page starts.
    std::uint64_t size = 0;  // Entries in the log.
  };
  Result<AuditPage> SearchAudit(const RequestContext& ctx, const AuditQuery& q);
  Result<Checkpoint> AuditCheckpoint(const RequestContext& ctx);
  Result<InclusionProofResult> AuditInclusion(const RequestContext& ctx, std::uint64_t index);
  Result<ConsistencyProofResult> AuditConsistency(const RequestContext& ctx, std::uint64_t a,
                                                  std::uint64_t b);

  // --- users and tokens (administrators) -------------------------------------------------------
  Result<std::vector<User>> ListUsers(const RequestContext& ctx);
  Result<User> GetUser(const RequestContext& ctx, const std::string& user_id);
  Result<CreatedUser> CreateUser(const RequestContext& ctx, const NewUserRequest& request);
  // G-6.0-S14-4: the audit entry records who requested the change and who approved it.
  Result<User> SetRoles(const RequestContext& ctx, const std::string& user_id,
                        const std::vector<std::string>& roles, const std::string& requested_by,
                        const std::string& approved_by);
  Result<User> SetDisabled(const RequestContext& ctx, const std::string& user_id, bool disabled);
  Result<IssuedPasswordReset> ResetPassword(const RequestContext& ctx, const std::string& user_id,
                                            const std::string& verified_by,
                                            const std::string& method);
  Result<ClientCertBinding> BindClientCert(const RequestContext& ctx, const std::string& user_id,
                                           const std::string& fingerprint);
  Result<NewApiToken> CreateApiToken(const RequestContext& ctx, const std::string& user_id,
                                     const std::vector<std::string>& scopes, TimePoint expires_at);
  Result<std::vector<ApiTokenInfo>> ListApiTokens(const RequestContext& ctx,
                                                  const std::string& user_id);
  Status RevokeApiToken(const RequestContext& ctx, const std::string& user_id,
                        const std::string& token_id);

  // --- local bootstrap (the command line on the server; audited with the OS user) -------------
  // A user with a random one-time password that passes the rules (returned once), for the
  // demo. Real accounts are made over the API with an enrolment code.
  struct LocalUser {
    User user;
    std::string password;
  };
  Result<LocalUser> CreateLocalUser(const Actor& local, NewUser user);
  Result<StoredRelationship> AddCareLocal(const Actor& local, const CareRelationship& r);
  Status SetLabelLocal(const Actor& local, const std::string& target, const std::string& label);
  // `hokan record confirm` and the demo: confirms in the name of `user_id` (who must exist and
  // own the signing certificate), audited with the OS user as the actor.
  Result<ConfirmationView> ConfirmLocal(const Actor& local, const std::string& user_id,
                                        const ConfirmRequest& request);
  Result<ClientCertBinding> BindSigningCertLocal(const Actor& local, const std::string& user_id,
                                                 const std::string& cert_pem);
  // `hokan user signing-key`: checks the PKCS#12 file opens with `passphrase` and holds a
  // signing certificate (bound to the user now if it is not yet), then keeps it as the user's
  // server-side key (<signing_keys_dir>/<user>.p12, mode 0600). The passphrase is not stored.
  Result<ClientCertBinding> InstallSigningKeyLocal(const Actor& local, const std::string& user_id,
                                                   ByteView p12, std::string_view passphrase);
  // Long-term evidence (RFC 4998) for every confirmation that has none, and a renewal for every
  // one whose newest archive timestamp's TSA certificate expires within `renew_within`: all
  // in one batch, one TSA request, one transaction with one audit entry. `progress` is called
  // as confirmations are examined.
  Result<EvidenceRenewal> RenewEvidence(
      const Actor& local, std::chrono::hours renew_within,
      const std::function<void(std::uint64_t done, std::uint64_t total)>& progress = {});
  // `hokan verify`: every confirmation's row MAC, its version, and its signature against the
  // version's SHA-256 with today's trust configuration. A broken signature or a changed row is
  // damage; a signature that is intact but does not validate today (e.g. no CRL configured)
  // is a warning with the reason.
  struct ConfirmationCheck {
    std::uint64_t checked = 0;
    std::uint64_t damage = 0;
    std::uint64_t warnings = 0;
  };
  Result<ConfirmationCheck> VerifyConfirmations(VerifySink& sink);

  // True when every change is refused (ApiServiceOptions::read_only or [server] read_only).
  bool read_only() const { return read_only_; }

  IdentityStore& identity() { return *identity_; }
  CareStore& care() { return *care_; }
  SignatureService& signatures() { return *signatures_; }
  ConfirmationStore& confirmations() { return *confirmations_; }
  Archive& archive() { return archive_; }

 private:
  struct Allowed;
  ApiService(Archive& archive, Env& env);

  // What a read-only copy does with a call of an action that both reads and changes
  // (`self`, `care.manage`, `token.manage`, `breakglass.review`): the call says. For every
  // other action the table in api_service.cc decides and this is ignored.
  enum class OnCopy { kRefuse, kAllow };

  // Authenticates the caller and asks the policy. On refusal, audits it (outcome
  // unauthenticated / denied, with the rule) and returns kUnauthenticated /
  // kPermissionDenied. `resource.patient_id` set: relationships, grants and labels are
  // looked up. `record_id` adds the record's labels. On a read-only copy a change the policy
  // allows is refused here (kFailedPrecondition, audited with rule "read_only").
  Result<Allowed> Authorize(const RequestContext& ctx, std::string_view action, Resource resource,
                            const std::string& record_id = "", bool sensitive = false,
                            OnCopy on_copy = OnCopy::kRefuse);
  Result<Principal> Authenticate(const RequestContext& ctx);
  // Authenticate, auditing a failure as the `action` refused.
  Result<Principal> Identify(const RequestContext& ctx, std::string_view action);
  // Authorize for an already identified caller.
  Result<Allowed> AuthorizeAs(const RequestContext& ctx, Principal who, std::string_view action,
                              Resource resource, const std::string& record_id = "",
                              bool sensitive = false, OnCopy on_copy = OnCopy::kRefuse);
  // On a read-only copy: audits `refused` as denied by rule "read_only" and returns the
  // refusal. OK otherwise. For the changes that do not pass through AuthorizeAs (first
  // setup, passwords set with a code, the local commands).
  Status RefuseOnCopy(AuditEvent refused);
  // The entry of a request whose record could not be looked up (or was inconsistent).
  void AuditLookupFailure(const RequestContext& ctx, const Principal& who, std::string_view action,
                          const std::string& record_id, const Status& st);
  // One audit entry of its own (a refusal, a public request).
  void AuditAlone(const AuditEvent& e);
  // Sets a password (Argon2id, in a hashing slot) with `e` committed alongside, or `e`
  // written alone with the failure.
  Status SetPasswordAudited(std::string_view user_id, std::string_view new_password,
                            const PasswordProof& proof, AuditEvent& e);
  // `change` and the entry `e` (which it may complete) in one transaction; if either fails,
  // `e` is written alone with the failure.
  Status CommitAudited(AuditEvent& e, const std::function<Status(Database&, AuditEvent&)>& change);
  // An identity change and its audit entry in one transaction.
  Status WriteAudited(const Actor& actor, std::string_view action, const std::string& target,
                      const std::function<Status(Database&)>& change);
  TimePoint Now() const;
  // The confirmation itself, once the caller is authorised: `user_id` confirms `info` with
  // the entry `e` committed alongside.
  Result<ConfirmationView> ConfirmAs(const std::string& user_id, const VersionInfo& info,
                                     const ConfirmRequest& request, AuditEvent& e);
  Result<ClientCertBinding> BindSigningCertAs(const Actor& actor, const std::string& user_id,
                                              const std::string& cert_pem);

  Archive& archive_;
  Env& env_;
  bool read_only_ = false;
  std::unique_ptr<IdentityStore> identity_;
  std::unique_ptr<CareStore> care_;
  std::unique_ptr<ConfirmationStore> confirmations_;
  std::unique_ptr<SignatureService> signatures_;
  // Argon2id takes 64 MiB per check: at most this many run at once, however many requests
  // arrive (a sign-in flood queues instead of exhausting memory).
  class HashSlot;
  std::counting_semaphore<> hash_slots_{4};
};

}  // namespace hokan
