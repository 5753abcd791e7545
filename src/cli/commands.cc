// The subcommands. Each parses its options, calls the service, renders the result.
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/encoding.h"
#include "cli/cli.h"
#include "service/api_service.h"
#include "service/archive.h"

namespace hokan::cli_internal {
Actor Me() { return Actor{LocalActorId(), "cli"}; }

namespace {

using Json = nlohmann::ordered_json;

// The first administrator's one-time setup secret for a new store (audited).
Result<std::string> NewSetupSecret(Env& env, const std::string& dir) {
  HK_ASSIGN_OR_RETURN(std::unique_ptr<Archive> archive, Archive::Open(env, dir));
  HK_ASSIGN_OR_RETURN(std::unique_ptr<ApiService> api,
                      ApiService::Open(*archive, env, ServiceOptions()));
  HK_ASSIGN_OR_RETURN(std::string secret, api->NewSetupSecret(Me()));
  HK_RETURN_IF_ERROR(archive->CheckpointIfDue());
  return secret;
}

void PrintJson(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

}  // namespace

Result<std::string> ReadSecretLine(const char* what) {
  std::string line;
  for (int c; (c = std::fgetc(stdin)) != EOF && c != '\n';) {
    if (line.size() >= 4096) return InvalidArgumentError(std::string(what) + " is too long");
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return InvalidArgumentError(std::string("give ") + what + " on the first line of stdin");
  }
  return line;
}

void SecureZeroString(std::string& s) {
  // Through a volatile pointer, so the stores are not optimised away.
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

bool WantsHelp(std::span<const std::string_view> args) {
  for (std::string_view a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int Usage(const char* text) {
  std::printf("%s", text);
  return 0;
}

// For commands with verbs: the usage on --help (exit 0) or without a verb (exit 2).
std::optional<int> VerbUsage(std::span<const std::string_view> args, const char* usage) {
  if (args.empty()) {
    std::fprintf(stderr, "%s", usage);
    return 2;
  }
  if (WantsHelp(args)) return Usage(usage);
  return std::nullopt;
}

Result<std::unique_ptr<Archive>> OpenDir(Env& env, const Args& a) {
  HK_ASSIGN_OR_RETURN(std::string dir, a.Required("dir"));
  return Archive::Open(env, dir);
}

// After a command that wrote audit entries: sign a checkpoint when one is due, so the
// entries are covered by a signature before the command returns.
int Finish(Archive& archive, int code) {
  Status st = archive.CheckpointIfDue();
  if (!st.ok() && code == 0) return Fail(st.WithContext("audit checkpoint"));
  return code;
}

namespace {

Json VersionJson(const VersionInfo& v) {
  Json j;
  j["record_id"] = v.record_id;
  j["version"] = v.version;
  j["patient_id"] = v.patient_id;
  j["type"] = v.record_type;
  j["sha256"] = v.sha256;
  j["size"] = v.size;
  j["media_type"] = v.media_type;
  j["author"] = v.author;
  j["entered_at"] = v.entered_at;
  j["source"] = v.source;
  j["audit_seq"] = v.audit_seq;
  return j;
}

std::vector<std::string> HashesHex(const std::vector<merkle::Hash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const merkle::Hash& h : hashes) out.push_back(HexEncode(h));
  return out;
}

}  // namespace

CliSink::CliSink(Env& env) : env_(env), last_(env.clock.Now()) {}

void CliSink::Report(const Problem& p) {
  std::printf("%s %s: %s\n", p.damage ? "DAMAGED" : "WARNING", p.object.c_str(), p.message.c_str());
  std::fflush(stdout);
}

void CliSink::Progress(std::string_view phase, std::uint64_t done, std::uint64_t total) {
  const auto now = env_.clock.Now();
  if (now - last_ < std::chrono::seconds(1) && done != total) return;
  if (now - last_ < std::chrono::seconds(1) && total < 100000) return;
  last_ = now;
  std::fprintf(stderr, "verify: %.*s %llu/%llu\n", static_cast<int>(phase.size()), phase.data(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
}

int RunInit(Env& env, std::span<const std::string_view> args) {
  if (WantsHelp(args)) return Usage("usage: hokan init --dir D\n");
  Result<Args> a = Args::Parse(args, {"dir"});
  if (!a) return Fail(a.error());
  Result<std::string> dir = a->Required("dir");
  if (!dir) return Fail(dir.error());
  Result<InitResult> r = Archive::Init(env, *dir, Me());
  if (!r) return Fail(r.error().WithContext("init"));
  Result<std::string> secret = NewSetupSecret(env, *dir);
  if (!secret) return Fail(secret.error().WithContext("init"));
  Json j;
  j["dir"] = *dir;
  j["store_id"] = r->store_id;
  j["kek_id"] = r->kek_id;
  j["audit_public_key"] = r->audit_public_key_pem;
  j["setup_secret"] = *secret;
  PrintJson(j);
  std::fprintf(stderr,
               "hokan: created %s. Back up %s/keys/kek.key apart from the data: without it no "
               "record can be read.\n"
               "hokan: the setup secret above is shown once; use it to create the first "
               "administrator (POST /api/v1/setup, docs/api.md). There are no default "
               "passwords.\n",
               dir->c_str(), dir->c_str());
  return 0;
}

int RunRecord(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan record put --dir D --patient P --type T --file F [--media-type M] "
      "[--record R] [--name N]\n"
      "         Every file is sanitised first (docs/sanitize.md); N is its original name\n"
      "         (default: F's), compared with the content. A refused file exits 2 and stays\n"
      "         in quarantine (hokan quarantine).\n"
      "       hokan record get --dir D --record R [--version V] --out F   (F may be - for "
      "stdout)\n"
      "       hokan record history --dir D --record R\n"
      "       hokan record mark-error --dir D --record R --reason TEXT\n"
      "       hokan record confirm --dir D --record R [--version V] --user U\n"
      "                            (--signature S.p7s | --server-key)\n"
      "         Confirms (確定) a version in user U's name: S is U's detached CAdES signature\n"
      "         over the content; --server-key signs with U's key file, its passphrase read\n"
      "         from the first line of stdin. Timestamped by the configured TSA, verified,\n"
      "         and only with a signing certificate bound to U.\n";
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);

  if (verb == "put") {
    Result<Args> a =
        Args::Parse(rest, {"dir", "patient", "type", "file", "media-type", "record", "name"});
    if (!a) return Fail(a.error());
    Result<std::string> patient = a->Required("patient");
    if (!patient) return Fail(patient.error());
    Result<std::string> file = a->Required("file");
    if (!file) return Fail(file.error());
    if (!a->Has("record") && !a->Has("type")) {
      return Fail(InvalidArgumentError("--type is required for a new record"));
    }
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    // Refuse oversize files before reading them into memory.
    Result<FileInfo> info = env.fs.Stat(*file);
    if (!info) return Fail(info.error().WithContext("--file"));
    if (info->is_directory)
      return Fail(InvalidArgumentError("--file " + *file + " is a directory"));
    if (info->size > (*archive)->config().max_content_bytes) {
      return Fail(InvalidArgumentError(
          "--file is " + std::to_string(info->size) + " bytes; the limit is " +
          std::to_string((*archive)->config().max_content_bytes) + " (store.max_content_bytes)"));
    }
    Result<Bytes> content = env.fs.ReadFile(*file);
    if (!content) return Fail(content.error().WithContext("--file"));
    PutRequest req;
    req.patient_id = *patient;
    req.record_type = a->Get("type");
    req.record_id = a->Get("record");
    req.media_type = a->Get("media-type", "application/octet-stream");
    req.content = *content;
    IngestOptions ingest;
    ingest.channel = "cli";
    const std::size_t slash = file->find_last_of('/');
    ingest.declared_name = a->Has("name")
                               ? a->Get("name")
                               : (slash == std::string::npos ? *file : file->substr(slash + 1));
    Result<PutResult> r = (*archive)->PutRecord(Me(), req, ingest);
    if (!r) return Finish(**archive, Fail(r.error()));
    Json j = VersionJson(r->version);
    j["sanitize"] = std::string(SanitizeVerdictName(r->sanitize_verdict));
    if (!r->quarantine_id.empty()) j["quarantine_id"] = r->quarantine_id;
    PrintJson(j);
    return Finish(**archive, 0);
  }

  if (verb == "get") {
    Result<Args> a = Args::Parse(rest, {"dir", "record", "version", "out"});
    if (!a) return Fail(a.error());
    Result<std::string> record = a->Required("record");
    if (!record) return Fail(record.error());
    Result<std::string> out = a->Required("out");
    if (!out) return Fail(out.error());
    Result<std::uint64_t> version = a->Number("version", 0);
    if (!version) return Fail(version.error());
    if (a->Has("version") && *version == 0) {
      return Fail(InvalidArgumentError("--version must be 1 or more"));
    }
    if (*out != "-" && env.fs.Stat(*out)) {
      return Fail(AlreadyExistsError("--out " + *out + " exists; hokan does not overwrite files"));
    }
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<ReadResult> r =
        (*archive)->ReadRecord(Me(), *record, static_cast<std::int64_t>(*version));
    if (!r) return Finish(**archive, Fail(r.error()));
    // The read's audit entry is committed; now the content may leave.
    if (*out == "-") {
      if (std::fwrite(r->content.data(), 1, r->content.size(), stdout) != r->content.size() ||
          std::fflush(stdout) != 0) {
        return Finish(**archive, Fail(UnavailableError("writing to stdout failed")));
      }
    } else {
      Result<std::unique_ptr<WritableFile>> f = env.fs.NewWritableFile(*out);
      if (!f) return Finish(**archive, Fail(f.error().WithContext("--out")));
      Status st = (*f)->Append(r->content);
      if (st.ok()) st = (*f)->Sync();
      if (st.ok()) st = (*f)->Close();
      if (!st.ok()) return Finish(**archive, Fail(st.WithContext("--out")));
      Json j = VersionJson(r->version);
      j["read_audit_seq"] = r->audit_seq;
      j["out"] = *out;
      PrintJson(j);
    }
    return Finish(**archive, 0);
  }

  if (verb == "history") {
    Result<Args> a = Args::Parse(rest, {"dir", "record"});
    if (!a) return Fail(a.error());
    Result<std::string> record = a->Required("record");
    if (!record) return Fail(record.error());
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<RecordHistory> h = (*archive)->History(Me(), *record);
    if (!h) return Finish(**archive, Fail(h.error()));
    Json j;
    j["record_id"] = h->record_id;
    j["patient_id"] = h->patient_id;
    j["type"] = h->record_type;
    j["created_at"] = h->created_at;
    j["status"] = h->status;
    j["versions"] = Json::array();
    for (const VersionInfo& v : h->versions) j["versions"].push_back(VersionJson(v));
    j["states"] = Json::array();
    for (const RecordState& s : h->states) {
      j["states"].push_back({{"state", s.state_no},
                             {"status", s.status},
                             {"reason", s.reason},
                             {"actor", s.actor},
                             {"at", s.at},
                             {"audit_seq", s.audit_seq}});
    }
    PrintJson(j);
    return Finish(**archive, 0);
  }

  if (verb == "confirm") {
    Result<Args> a =
        Args::Parse(rest, {"dir", "record", "version", "user", "signature"}, {"server-key"});
    if (!a) return Fail(a.error());
    ConfirmRequest request;
    Result<std::string> record = a->Required("record");
    if (!record) return Fail(record.error());
    request.record_id = *record;
    Result<std::string> user = a->Required("user");
    if (!user) return Fail(user.error());
    Result<std::uint64_t> version = a->Number("version", 0);
    if (!version) return Fail(version.error());
    if (a->Has("version") && *version == 0) {
      return Fail(InvalidArgumentError("--version must be 1 or more"));
    }
    request.version = static_cast<std::int64_t>(*version);
    if (a->Has("signature") == a->Switch("server-key")) {
      return Fail(InvalidArgumentError("give either --signature or --server-key"));
    }
    if (a->Has("signature")) {
      Result<Bytes> sig = env.fs.ReadFile(a->Get("signature"));
      if (!sig) return Fail(NotFoundError("cannot read --signature " + a->Get("signature")));
      request.signature = std::move(*sig);
    } else {
      Result<std::string> pass = ReadSecretLine("the signing key's passphrase");
      if (!pass) return Fail(pass.error());
      request.key_passphrase = std::move(*pass);
    }
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env, ServiceOptions());
    if (!api) return Fail(api.error());
    Result<ConfirmationView> c = (*api)->ConfirmLocal(Me(), *user, request);
    SecureZeroString(request.key_passphrase);
    if (!c) return Finish(**archive, Fail(c.error()));
    Json j = {{"record_id", c->confirmation.record_id},
              {"version", c->confirmation.version},
              {"confirmer", c->confirmation.confirmer},
              {"confirmed_at", c->confirmation.confirmed_at},
              {"method", c->confirmation.method},
              {"level", c->confirmation.level},
              {"signer_sha256", c->confirmation.signer_sha256},
              {"timestamp_time", c->confirmation.timestamp_time},
              {"tsa_subject", c->confirmation.tsa_subject},
              {"report", Json::parse(c->report_json)}};
    PrintJson(j);
    return Finish(**archive, 0);
  }

  if (verb == "mark-error") {
    Result<Args> a = Args::Parse(rest, {"dir", "record", "reason"});
    if (!a) return Fail(a.error());
    Result<std::string> record = a->Required("record");
    if (!record) return Fail(record.error());
    Result<std::string> reason = a->Required("reason");
    if (!reason) return Fail(reason.error());
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<RecordState> s = (*archive)->MarkEnteredInError(Me(), *record, *reason);
    if (!s) return Fail(s.error());
    PrintJson({{"record_id", *record},
               {"status", s->status},
               {"state", s->state_no},
               {"audit_seq", s->audit_seq}});
    return Finish(**archive, 0);
  }

  std::fprintf(stderr, "hokan: unknown record command '%s'\n%s", std::string(verb).c_str(), kUsage);
  return 2;
}

int RunVerify(Env& env, std::span<const std::string_view> args) {
  if (WantsHelp(args)) {
    return Usage(
        "usage: hokan verify --dir D\n"
        "Checks every version (blob present, decrypts, SHA-256 matches), every row's\n"
        "MAC, that versions and audit entries agree, the audit log, and every confirmation's\n"
        "signature against its version. Exit 0 only if everything holds; 1 if anything is\n"
        "damaged (each object is named).\n");
  }
  Result<Args> a = Args::Parse(args, {"dir"});
  if (!a) return Fail(a.error());
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  CliSink sink(env);
  Result<VerifySummary> s = (*archive)->Verify(Me(), sink);
  if (!s) return Fail(s.error());
  // Confirmations: their rows, and their signatures against the versions' hashes.
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env, ServiceOptions());
  if (!api) return Fail(api.error());
  Result<ApiService::ConfirmationCheck> c = (*api)->VerifyConfirmations(sink);
  if (!c) return Fail(c.error());
  const bool ok = s->ok() && c->damage == 0;
  const unsigned long long damaged = static_cast<unsigned long long>(s->damage) + c->damage;
  const unsigned long long warnings = static_cast<unsigned long long>(s->warnings) + c->warnings;
  std::printf(
      "%s: %llu versions, %llu confirmations, %llu audit entries, %llu checkpoints; %llu "
      "damaged, %llu warnings\n",
      ok ? "OK" : "FAILED", static_cast<unsigned long long>(s->versions),
      static_cast<unsigned long long>(c->checked),
      static_cast<unsigned long long>(s->audit.entries),
      static_cast<unsigned long long>(s->audit.checkpoints), damaged, warnings);
  return Finish(**archive, ok ? 0 : 1);
}

int RunEvidence(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan evidence renew --dir D [--within-days N]\n"
      "Gives every confirmation without long-term evidence an RFC 4998 evidence record, and\n"
      "renews those whose newest archive timestamp's TSA certificate expires within N days\n"
      "(default 90): one TSA request for the whole batch. Run it daily (e.g. a systemd timer).\n";
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  if (args[0] != "renew") {
    std::fprintf(stderr, "hokan: unknown evidence command '%s'\n%s", std::string(args[0]).c_str(),
                 kUsage);
    return 2;
  }
  Result<Args> a = Args::Parse(args.subspan(1), {"dir", "within-days"});
  if (!a) return Fail(a.error());
  Result<std::uint64_t> days = a->Number("within-days", 90);
  if (!days) return Fail(days.error());
  if (*days > 3650) return Fail(InvalidArgumentError("--within-days must be at most 3650"));
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  Result<std::unique_ptr<ApiService>> api = ApiService::Open(**archive, env, ServiceOptions());
  if (!api) return Fail(api.error());
  auto last = env.clock.Now();
  Result<EvidenceRenewal> r = (*api)->RenewEvidence(
      Me(), std::chrono::hours(24) * static_cast<int>(*days),
      [&](std::uint64_t done, std::uint64_t total) {
        const auto now = env.clock.Now();
        if (now - last < std::chrono::seconds(1) && done != total) return;
        last = now;
        std::fprintf(stderr, "evidence: %llu/%llu confirmations examined\n",
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      });
  if (!r) return Finish(**archive, Fail(r.error()));
  PrintJson({{"confirmations", r->confirmations},
             {"created", r->created},
             {"renewed", r->renewed},
             {"not_due", r->not_due},
             {"timestamp_time", r->timestamp_time},
             {"problems", r->problems}});
  return Finish(**archive, r->problems.empty() ? 0 : 1);
}

Json QuarantineItemJson(const QuarantineItem& q, const std::vector<QuarantineDecision>& decisions,
                        bool with_report) {
  Json j;
  j["id"] = q.id;
  j["created_at"] = q.created_at;
  j["state"] = std::string(QuarantineStateName(QuarantineStore::StateOf(decisions)));
  j["verdict"] = q.verdict;
  j["reason"] = q.reason;
  j["sender"] = q.sender;
  j["channel"] = q.channel;
  j["patient_id"] = q.patient_id;
  j["record_id"] = q.record_id;
  j["record_type"] = q.record_type;
  j["declared_name"] = q.declared_name;
  j["detected_type"] = q.detected_type;
  j["sha256"] = q.sha256;
  j["size"] = q.size;
  j["version"] = q.version;
  Json ds = Json::array();
  for (const QuarantineDecision& d : decisions) {
    Json dj;
    dj["seq"] = d.seq;
    dj["kind"] = d.kind;
    dj["actor"] = d.actor;
    dj["at"] = d.at;
    dj["reason"] = d.reason;
    if (d.version != 0) dj["version"] = d.version;
    ds.push_back(std::move(dj));
  }
  j["decisions"] = std::move(ds);
  if (with_report) j["report"] = Json::parse(q.report_json, nullptr, false);
  return j;
}

// `hokan quarantine`: the originals the sanitiser changed, blocked or held, for the security
// officer at the server's console (the API has the same, for security_officer accounts).
int RunQuarantine(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan quarantine list --dir D [--limit N]\n"
      "       hokan quarantine show --dir D --id Q\n"
      "       hokan quarantine content --dir D --id Q --out F   (audited; F must not exist)\n"
      "       hokan quarantine request-release --dir D --id Q --reason TEXT\n"
      "       hokan quarantine approve --dir D --id Q\n"
      "       hokan quarantine reject --dir D --id Q --reason TEXT\n"
      "  A release needs a request and an approval by two different people, neither the\n"
      "  sender; the original then becomes a new version of its record, unsanitised.\n"
      "  Programs and scripts are never released.\n";
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);
  if (verb == "list") {
    Result<Args> a = Args::Parse(rest, {"dir", "limit"});
    if (!a) return Fail(a.error());
    Result<std::uint64_t> limit = a->Number("limit", 100);
    if (!limit) return Fail(limit.error());
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<std::vector<QuarantineItem>> items =
        (*archive)->ListQuarantine(std::clamp<std::uint64_t>(*limit, 1, 10000));
    if (!items) return Fail(items.error());
    Json all = Json::array();
    for (const QuarantineItem& q : *items) {
      std::vector<QuarantineDecision> decisions;
      Result<QuarantineItem> full = (*archive)->GetQuarantined(q.id, &decisions);
      if (!full) return Fail(full.error());
      all.push_back(QuarantineItemJson(*full, decisions, false));
    }
    Json j;
    j["items"] = std::move(all);
    PrintJson(j);
    return 0;
  }
  Result<Args> a = Args::Parse(rest, {"dir", "id", "reason", "out"});
  if (!a) return Fail(a.error());
  Result<std::string> id = a->Required("id");
  if (!id) return Fail(id.error());
  if (verb == "content") {
    Result<std::string> out = a->Required("out");
    if (!out) return Fail(out.error());
    if (env.fs.Stat(*out)) {
      return Fail(AlreadyExistsError("--out " + *out + " exists; hokan does not overwrite files"));
    }
  }
  if ((verb == "request-release" || verb == "reject") && !a->Has("reason")) {
    return Fail(InvalidArgumentError("--reason is required"));
  }
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  Archive& ar = **archive;
  if (verb == "show") {
    std::vector<QuarantineDecision> decisions;
    Result<QuarantineItem> q = ar.GetQuarantined(*id, &decisions);
    if (!q) return Fail(q.error());
    PrintJson(QuarantineItemJson(*q, decisions, true));
    return 0;
  }
  if (verb == "content") {
    Result<Bytes> original = ar.ReadQuarantined(Me(), *id);
    if (!original) return Finish(ar, Fail(original.error()));
    Result<std::unique_ptr<WritableFile>> f = env.fs.NewWritableFile(a->Get("out"));
    if (!f) return Finish(ar, Fail(f.error().WithContext("--out")));
    Status st = (*f)->Append(*original);
    if (st.ok()) st = (*f)->Sync();
    if (st.ok()) st = (*f)->Close();
    if (!st.ok()) return Finish(ar, Fail(st.WithContext("--out")));
    return Finish(ar, 0);
  }
  if (verb == "request-release") {
    Status st = ar.RequestRelease(Me(), *id, a->Get("reason"));
    if (!st.ok()) return Finish(ar, Fail(st));
    std::printf("release of %s requested; another person approves it\n", id->c_str());
    return Finish(ar, 0);
  }
  if (verb == "reject") {
    Status st = ar.RejectRelease(Me(), *id, a->Get("reason"));
    if (!st.ok()) return Finish(ar, Fail(st));
    std::printf("release of %s rejected\n", id->c_str());
    return Finish(ar, 0);
  }
  if (verb == "approve") {
    Result<PutResult> r = ar.ApproveRelease(Me(), *id);
    if (!r) return Finish(ar, Fail(r.error()));
    PrintJson(VersionJson(r->version));
    return Finish(ar, 0);
  }
  return Fail(InvalidArgumentError("unknown verb '" + std::string(verb) + "'\n" + kUsage));
}

// `hokan maintenance`: files sent during remote maintenance carry the sender's signed
// sanitisation attestation (G-6.8-C9). `attest` is the sender's side (no store); `receive`
// is the facility's, for files brought on media (the API has POST /api/v1/maintenance/transfers).
int RunMaintenance(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan maintenance attest --vendor V --ticket T --cert C.pem --key K.pem\n"
      "                                [--chain CA.pem]... --file F [--file F]...\n"
      "                                --manifest-out M.json --signature-out S.p7s\n"
      "         The sender's side: every F must come out of hokan's sanitiser clean (run\n"
      "         `hokan sanitize` first and attest its outputs); writes the manifest of\n"
      "         names and SHA-256 and its detached CMS signature with the vendor's key.\n"
      "       hokan maintenance receive --dir D --manifest M.json --signature S.p7s\n"
      "                                 --file F [--file F]...\n"
      "         The facility's side: checks the attestation against [maintenance], the files\n"
      "         against the manifest, and every file with hokan's own sanitiser; accepted\n"
      "         files are kept for the security officer (hokan quarantine).\n";
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);
  auto read_files = [&](const Args& a) -> Result<std::vector<MaintenanceFile>> {
    std::vector<MaintenanceFile> files;
    if (a.All("file").empty()) return InvalidArgumentError("--file is required");
    for (const std::string& path : a.All("file")) {
      Result<Bytes> content = env.fs.ReadFile(path);
      if (!content) return content.error().WithContext("--file " + path);
      const std::size_t slash = path.find_last_of('/');
      files.push_back(
          {slash == std::string::npos ? path : path.substr(slash + 1), std::move(*content)});
    }
    return files;
  };
  if (verb == "attest") {
    Result<Args> a =
        Args::Parse(rest, {"vendor", "ticket", "cert", "key", "manifest-out", "signature-out"}, {},
                    {}, {"chain", "file"});
    if (!a) return Fail(a.error());
    AttestOptions o;
    for (auto [flag, out] : {std::pair{"vendor", &o.vendor}, std::pair{"ticket", &o.ticket}}) {
      Result<std::string> v = a->Required(flag);
      if (!v) return Fail(v.error());
      *out = *v;
    }
    for (const char* flag : {"cert", "key", "manifest-out", "signature-out"}) {
      if (!a->Has(flag))
        return Fail(InvalidArgumentError(std::string("--") + flag + " is required"));
    }
    Result<Bytes> cert = env.fs.ReadFile(a->Get("cert"));
    if (!cert) return Fail(cert.error().WithContext("--cert"));
    Result<Bytes> key = env.fs.ReadFile(a->Get("key"));
    if (!key) return Fail(key.error().WithContext("--key"));
    o.cert_pem = ToString(*cert);
    o.key_pem = ToString(*key);
    SecureZero(*key);
    for (const std::string& path : a->All("chain")) {
      Result<Bytes> pem = env.fs.ReadFile(path);
      if (!pem) return Fail(pem.error().WithContext("--chain"));
      o.chain_pem.push_back(ToString(*pem));
    }
    o.now = env.clock.Now();
    Result<std::vector<MaintenanceFile>> files = read_files(*a);
    if (!files) return Fail(files.error());
    Result<MaintenanceAttestation> att = AttestMaintenanceFiles(*files, o);
    SecureZeroString(o.key_pem);
    if (!att) return Fail(att.error());
    for (auto [flag, bytes] :
         {std::pair{"manifest-out", &att->manifest}, std::pair{"signature-out", &att->signature}}) {
      if (env.fs.Stat(a->Get(flag))) {
        return Fail(AlreadyExistsError("--" + std::string(flag) + " " + a->Get(flag) +
                                       " exists; hokan does not overwrite files"));
      }
      Result<std::unique_ptr<WritableFile>> f = env.fs.NewWritableFile(a->Get(flag));
      if (!f) return Fail(f.error().WithContext(std::string("--") + flag));
      Status st = (*f)->Append(*bytes);
      if (st.ok()) st = (*f)->Sync();
      if (st.ok()) st = (*f)->Close();
      if (!st.ok()) return Fail(st.WithContext(std::string("--") + flag));
    }
    std::printf("attested %zu files for %s\n", files->size(), o.ticket.c_str());
    return 0;
  }
  if (verb == "receive") {
    Result<Args> a = Args::Parse(rest, {"dir", "manifest", "signature"}, {}, {}, {"file"});
    if (!a) return Fail(a.error());
    MaintenanceTransferRequest request;
    for (auto [flag, out] :
         {std::pair{"manifest", &request.manifest}, std::pair{"signature", &request.signature}}) {
      Result<std::string> path = a->Required(flag);
      if (!path) return Fail(path.error());
      Result<Bytes> bytes = env.fs.ReadFile(*path);
      if (!bytes) return Fail(bytes.error().WithContext(std::string("--") + flag));
      *out = std::move(*bytes);
    }
    Result<std::vector<MaintenanceFile>> files = read_files(*a);
    if (!files) return Fail(files.error());
    request.files = std::move(*files);
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<MaintenanceReceipt> r = ReceiveMaintenanceTransfer(**archive, Me(), request);
    if (!r) return Finish(**archive, Fail(r.error()));
    Json j;
    j["transfer_id"] = r->transfer_id;
    j["vendor"] = r->vendor;
    j["ticket"] = r->ticket;
    j["signer"] = r->signer;
    Json files_json = Json::array();
    for (const auto& f : r->files) {
      Json fj;
      fj["name"] = f.name;
      fj["sha256"] = f.sha256;
      fj["size"] = f.size;
      fj["quarantine_id"] = f.quarantine_id;
      files_json.push_back(std::move(fj));
    }
    j["files"] = std::move(files_json);
    PrintJson(j);
    return Finish(**archive, 0);
  }
  return Fail(InvalidArgumentError("unknown verb '" + std::string(verb) + "'\n" + kUsage));
}

int RunSweep(Env& env, std::span<const std::string_view> args) {
  if (WantsHelp(args)) {
    return Usage(
        "usage: hokan sweep --dir D [--min-age-seconds N]\n"
        "Removes orphan blobs (no version refers to them) older than N seconds\n"
        "(default 3600, so writes in flight are never touched).\n");
  }
  Result<Args> a = Args::Parse(args, {"dir", "min-age-seconds"});
  if (!a) return Fail(a.error());
  Result<std::uint64_t> age = a->Number("min-age-seconds", 3600);
  if (!age) return Fail(age.error());
  Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
  if (!archive) return Fail(archive.error());
  Result<std::vector<std::string>> removed = (*archive)->Sweep(Me(), std::chrono::seconds(*age));
  if (!removed) return Fail(removed.error());
  PrintJson({{"removed_orphans", *removed}});
  return Finish(**archive, 0);
}

int RunAudit(Env& env, std::span<const std::string_view> args) {
  static const char* kUsage =
      "usage: hokan audit verify --dir D\n"
      "       hokan audit proof --dir D --inclusion N\n"
      "       hokan audit proof --dir D --consistency A B\n"
      "       hokan audit tail --dir D [--lines N]\n"
      "       hokan audit export --dir D --format jsonl [--from N] [--limit N]\n"
      "       hokan audit checkpoint --dir D\n";
  if (std::optional<int> code = VerbUsage(args, kUsage)) return *code;
  const std::string_view verb = args[0];
  const auto rest = args.subspan(1);

  if (verb == "verify") {
    Result<Args> a = Args::Parse(rest, {"dir"});
    if (!a) return Fail(a.error());
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    CliSink sink(env);
    Result<VerifySummary> s = (*archive)->VerifyAudit(Me(), sink);
    if (!s) return Fail(s.error());
    std::printf(
        "%s: %llu entries, %llu checkpoints, %llu covered by the latest valid "
        "checkpoint; %llu damaged\n",
        s->ok() ? "OK" : "FAILED", static_cast<unsigned long long>(s->audit.entries),
        static_cast<unsigned long long>(s->audit.checkpoints),
        static_cast<unsigned long long>(s->audit.covered),
        static_cast<unsigned long long>(s->damage));
    return Finish(**archive, s->ok() ? 0 : 1);
  }

  if (verb == "proof") {
    Result<Args> a = Args::Parse(rest, {"dir", "inclusion"}, {}, {"consistency"});
    if (!a) return Fail(a.error());
    const bool inclusion = a->Has("inclusion");
    const bool consistency = !a->Pair("consistency").empty();
    if (inclusion == consistency) {
      return Fail(InvalidArgumentError("give exactly one of --inclusion N or --consistency A B"));
    }
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    if (inclusion) {
      Result<std::uint64_t> n = a->Number("inclusion", 0);
      if (!n) return Fail(n.error());
      Result<InclusionProofResult> p = (*archive)->ProveInclusion(Me(), *n);
      if (!p) return Fail(p.error());
      Json j;
      j["type"] = "inclusion";
      j["index"] = p->index;
      j["tree_size"] = p->tree_size;
      j["leaf_hash"] = HexEncode(p->leaf_hash);
      j["root"] = HexEncode(p->root);
      j["proof"] = HashesHex(p->proof);
      j["entry"] = p->entry;
      j["checkpoint"] = p->checkpoint;
      PrintJson(j);
    } else {
      Args sizes;
      std::uint64_t ab[2];
      for (int i = 0; i < 2; ++i) {
        const std::string& s = a->Pair("consistency")[static_cast<std::size_t>(i)];
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ab[i]);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
          return Fail(InvalidArgumentError("--consistency takes two whole numbers A B"));
        }
      }
      Result<ConsistencyProofResult> p = (*archive)->ProveConsistency(Me(), ab[0], ab[1]);
      if (!p) return Fail(p.error());
      Json j;
      j["type"] = "consistency";
      j["old_size"] = p->old_size;
      j["new_size"] = p->new_size;
      j["old_root"] = HexEncode(p->old_root);
      j["new_root"] = HexEncode(p->new_root);
      j["proof"] = HashesHex(p->proof);
      if (!p->old_checkpoint.empty()) j["old_checkpoint"] = p->old_checkpoint;
      if (!p->new_checkpoint.empty()) j["new_checkpoint"] = p->new_checkpoint;
      PrintJson(j);
    }
    return Finish(**archive, 0);
  }

  if (verb == "tail" || verb == "export") {
    const bool tail = verb == "tail";
    Result<Args> a = tail ? Args::Parse(rest, {"dir", "lines"})
                          : Args::Parse(rest, {"dir", "format", "from", "limit"});
    if (!a) return Fail(a.error());
    if (!tail && a->Get("format", "jsonl") != "jsonl") {
      return Fail(InvalidArgumentError("--format: only jsonl is supported"));
    }
    Result<std::uint64_t> lines = a->Number("lines", 20);
    Result<std::uint64_t> from = a->Number("from", 0);
    Result<std::uint64_t> limit = a->Number("limit", UINT64_MAX);
    for (const Status& st : {lines.error(), from.error(), limit.error()}) {
      if (!st.ok()) return Fail(st);
    }
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    std::uint64_t start = *from;
    std::uint64_t count = *limit;
    if (tail) {
      Result<std::uint64_t> size = (*archive)->AuditSize();
      if (!size) return Fail(size.error());
      start = *size > *lines ? *size - *lines : 0;
      count = *lines;
    }
    Status st = (*archive)->ReadAudit(Me(), tail ? "tail" : "export", start, count,
                                      [](std::uint64_t, std::string_view entry) -> Status {
                                        std::fwrite(entry.data(), 1, entry.size(), stdout);
                                        std::fputc('\n', stdout);
                                        return OkStatus();
                                      });
    if (!st.ok()) return Fail(st);
    if (std::fflush(stdout) != 0) return Fail(UnavailableError("writing to stdout failed"));
    return Finish(**archive, 0);
  }

  if (verb == "checkpoint") {
    Result<Args> a = Args::Parse(rest, {"dir"});
    if (!a) return Fail(a.error());
    Result<std::unique_ptr<Archive>> archive = OpenDir(env, *a);
    if (!archive) return Fail(archive.error());
    Result<Checkpoint> c = (*archive)->WriteCheckpoint(Me());
    if (!c) return Fail(c.error());
    std::printf("%s", c->note.c_str());
    return 0;
  }

  std::fprintf(stderr, "hokan: unknown audit command '%s'\n%s", std::string(verb).c_str(), kUsage);
  return 2;
}

}  // namespace hokan::cli_internal
