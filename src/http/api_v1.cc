#include "http/api_v1.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/time.h"

namespace hokan {
namespace {

using nlohmann::json;

constexpr std::string_view kCookie = "hokan_session";

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    const std::string part = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const std::size_t eq = part.find('=');
    if (eq != std::string::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
  }
  return "";
}

std::string Hex(const merkle::Hash& h) { return HexEncode(ByteView(h.data(), h.size())); }

json HashesJson(const std::vector<merkle::Hash>& hashes) {
  json a = json::array();
  for (const auto& h : hashes) a.push_back(Hex(h));
  return a;
}

std::string TimeText(TimePoint t) { return FormatRfc3339(t); }

json UserJson(const User& u) {
  json j = {{"id", u.id},
            {"display_name", u.display_name},
            {"kind", std::string(UserKindName(u.kind))},
            {"roles", u.roles},
            {"department", u.department},
            {"disabled", u.disabled},
            {"has_password", u.has_password},
            {"totp_enrolled", u.totp_enrolled},
            {"created_at", TimeText(u.created_at)}};
  j["expires_at"] = u.expires_at ? json(TimeText(*u.expires_at)) : json(nullptr);
  return j;
}

json SessionJson(const Session& s) {
  json factors = json::array();
  for (const Factor f : s.factors) factors.push_back(std::string(FactorName(f)));
  return {{"id", s.id},
          {"created_at", TimeText(s.created_at)},
          {"authenticated_at", TimeText(s.authenticated_at)},
          {"restricted", s.restricted},
          {"factors", factors}};
}

json VersionJson(const VersionInfo& v) {
  return {{"record_id", v.record_id},   {"version", v.version},    {"patient_id", v.patient_id},
          {"type", v.record_type},      {"sha256", v.sha256},      {"size", v.size},
          {"media_type", v.media_type}, {"author", v.author},      {"entered_at", v.entered_at},
          {"source", v.source},         {"audit_seq", v.audit_seq}};
}

json QuarantineJson(const ApiService::QuarantineView& v, bool with_report) {
  const QuarantineItem& q = v.item;
  json j = {{"id", q.id},
            {"created_at", q.created_at},
            {"state", QuarantineStateName(v.state)},
            {"verdict", q.verdict},
            {"reason", q.reason},
            {"sender", q.sender},
            {"channel", q.channel},
            {"patient_id", q.patient_id},
            {"record_id", q.record_id},
            {"record_type", q.record_type},
            {"declared_name", q.declared_name},
            {"media_type", q.media_type},
            {"detected_type", q.detected_type},
            {"sha256", q.sha256},
            {"size", q.size},
            {"version", q.version},
            {"executable", q.executable}};
  json decisions = json::array();
  for (const QuarantineDecision& d : v.decisions) {
    decisions.push_back({{"seq", d.seq},
                         {"kind", d.kind},
                         {"actor", d.actor},
                         {"at", d.at},
                         {"reason", d.reason},
                         {"version", d.version}});
  }
  j["decisions"] = std::move(decisions);
  if (with_report) {
    json report = json::parse(q.report_json, nullptr, false);
    j["report"] = report.is_discarded() ? json(nullptr) : report;
  }
  return j;
}

json StateJson(const RecordState& s) {
  return {{"state_no", s.state_no}, {"status", s.status}, {"reason", s.reason},
          {"actor", s.actor},       {"at", s.at},         {"audit_seq", s.audit_seq}};
}

json ConfirmationJson(const ConfirmationView& v) {
  const Confirmation& c = v.confirmation;
  json report = json::parse(v.report_json, nullptr, false);
  return json{{"record_id", c.record_id},
              {"version", c.version},
              {"confirmer", c.confirmer},
              {"confirmed_at", c.confirmed_at},
              {"method", c.method},
              {"level", c.level},
              {"signer_sha256", c.signer_sha256},
              {"signer_subject", c.signer_subject},
              {"timestamp_time", c.timestamp_time},
              {"tsa_subject", c.tsa_subject},
              {"signature_base64", Base64Encode(c.signature)},
              {"valid", v.valid},
              {"report", report},
              {"evidence", v.evidence_json.empty() ? json(nullptr)
                                                   : json::parse(v.evidence_json, nullptr, false)}};
}

json HistoryJson(const RecordHistory& h) {
  json versions = json::array();
  for (const auto& v : h.versions) versions.push_back(VersionJson(v));
  json states = json::array();
  for (const auto& s : h.states) states.push_back(StateJson(s));
  return {{"record_id", h.record_id}, {"patient_id", h.patient_id},
          {"type", h.record_type},    {"created_at", h.created_at},
          {"status", h.status},       {"versions", versions},
          {"states", states}};
}

json RelationshipJson(const StoredRelationship& s) {
  const CareRelationship& r = s.relationship;
  json j = {{"id", s.id},
            {"patient_id", r.patient_id},
            {"user_id", r.user_id},
            {"department", r.department},
            {"valid_from", TimeText(r.valid_from)},
            {"created_by", s.created_by},
            {"created_at", s.created_at}};
  j["valid_until"] = r.valid_until ? json(TimeText(*r.valid_until)) : json(nullptr);
  return j;
}

json GrantJson(const BreakGlassGrant& g) {
  return {{"id", g.id},
          {"user_id", g.user_id},
          {"patient_id", g.patient_id},
          {"granted_at", TimeText(g.granted_at)},
          {"expires_at", TimeText(g.expires_at)},
          {"reason", g.reason}};
}

json TokenJson(const ApiTokenInfo& t) {
  json j = {{"token_id", t.token_id},
            {"user_id", t.user_id},
            {"scopes", t.scopes},
            {"created_at", TimeText(t.created_at)},
            {"expires_at", TimeText(t.expires_at)}};
  j["revoked_at"] = t.revoked_at ? json(TimeText(*t.revoked_at)) : json(nullptr);
  j["last_used_at"] = t.last_used_at ? json(TimeText(*t.last_used_at)) : json(nullptr);
  return j;
}

// The pieces every handler needs: the request, its context, and how to answer errors.
class Call {
 public:
  Call(ApiService& api, HttpRequest& req, const PathParams& params, std::string_view action)
      : api_(api), req_(req), params_(params), action_(action), ctx_(ContextOf(req)) {}

  const RequestContext& ctx() const { return ctx_; }
  HttpRequest& req() { return req_; }
  std::string Param(std::string_view name) const {
    auto it = params_.find(name);
    return it == params_.end() ? "" : it->second;
  }
  std::string Query(std::string_view name) const {
    return std::string(req_.Query(name).value_or(""));
  }

  // The body as a JSON object; false (and `error` set, and the request audited) otherwise.
  bool Body(json& out, HttpResponse& error) {
    out = json::parse(req_.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = BadRequest("the request body must be a JSON object");
      return false;
    }
    return true;
  }
  // A string member; "" when absent. Wrong type: error.
  bool Str(const json& j, const char* key, std::string& out, HttpResponse& error) {
    if (!j.contains(key) || j[key].is_null()) {
      out.clear();
      return true;
    }
    if (!j[key].is_string()) {
      error = BadRequest(std::string("\"") + key + "\" must be a string");
      return false;
    }
    out = j[key].get<std::string>();
    return true;
  }
  bool Time(const json& j, const char* key, std::optional<TimePoint>& out, HttpResponse& error) {
    std::string text;
    if (!Str(j, key, text, error)) return false;
    if (text.empty()) {
      out.reset();
      return true;
    }
    Result<TimePoint> t = ParseRfc3339(text);
    if (!t) {
      error = BadRequest(std::string("\"") + key + "\" must be an RFC 3339 time");
      return false;
    }
    out = *t;
    return true;
  }
  bool Strings(const json& j, const char* key, std::vector<std::string>& out, HttpResponse& error) {
    out.clear();
    if (!j.contains(key)) return true;
    if (!j[key].is_array()) {
      error = BadRequest(std::string("\"") + key + "\" must be an array of strings");
      return false;
    }
    for (const auto& v : j[key]) {
      if (!v.is_string()) {
        error = BadRequest(std::string("\"") + key + "\" must be an array of strings");
        return false;
      }
      out.push_back(v.get<std::string>());
    }
    return true;
  }
  bool Count(std::string_view name, std::uint64_t fallback, std::uint64_t& out,
             HttpResponse& error) {
    const auto v = req_.Query(name);
    if (!v || v->empty()) {
      out = fallback;
      return true;
    }
    std::uint64_t n = 0;
    for (const char c : *v) {
      if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
        error = BadRequest("query parameter \"" + std::string(name) + "\" must be a number");
        return false;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = n;
    return true;
  }

  // A path parameter that must be a whole number from 1 (a version).
  bool PathNumber(std::string_view name, std::int64_t& out, HttpResponse& error) {
    const std::string text = Param(name);
    std::int64_t n = 0;
    for (const char c : text) {
      if (c < '0' || c > '9' || n > (INT64_MAX - 9) / 10) {
        n = 0;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (n < 1) {
      error = BadRequest("\"" + std::string(name) + "\" must be a whole number from 1");
      return false;
    }
    out = n;
    return true;
  }

  HttpResponse BadRequest(const std::string& message) {
    api_.AuditInvalid(ctx_, action_.empty() ? "http.request" : action_);
    return ErrorResponse(InvalidArgumentError(message), req_.request_id);
  }
  HttpResponse Error(const Status& st) { return ErrorResponse(st, req_.request_id); }

 private:
  ApiService& api_;
  HttpRequest& req_;
  const PathParams& params_;
  const std::string_view action_;  // The route's; the Route outlives the call.
  RequestContext ctx_;
};

template <class T>
HttpResponse OrError(Call& c, const Result<T>& r, int status,
                     const std::function<json(const T&)>& f) {
  if (!r) return c.Error(r.error());
  return Json(status, f(*r));
}

HttpResponse StatusOnly(Call& c, const Status& st, int status = 200) {
  if (!st.ok()) return c.Error(st);
  return Json(status, json{{"ok", true}});
}

void AddRoutes(Router& router, ApiService& api) {
  auto add = [&](Route route, std::function<HttpResponse(Call&)> fn) {
    route.handler = [&api, fn = std::move(fn), action = route.action](HttpRequest& req,
                                                                      const PathParams& params) {
      Call c(api, req, params, action);
      return fn(c);
    };
    if (route.response_media_type.empty()) route.response_media_type = "application/json";
    router.Add(std::move(route));
  };
  const std::string json_type = "application/json";

  // --- public --------------------------------------------------------------------------------
  add({.method = "GET", .pattern = "/healthz", .summary = "Health check", .public_route = true},
      [&api](Call& c) {
        if (Status st = api.Health(c.ctx()); !st.ok()) return c.Error(st);
        // A restored copy served for emergency viewing says so, for the clients' banner.
        return Json(200, json{{"ok", true}, {"read_only", api.read_only()}});
      });
  add({.method = "GET",
       .pattern = "/api/v1/openapi.json",
       .summary = "This API's OpenAPI 3.0 document",
       .public_route = true},
      [&api, &router](Call& c) {
        if (Status st = api.AuditPublic(c.ctx(), "api.openapi"); !st.ok()) return c.Error(st);
        HttpResponse r;
        r.body = router.OpenApiJson("hokan REST API", "1");
        return r;
      });
  add({.method = "POST",
       .pattern = "/api/v1/setup",
       .summary = "Create the first administrator with the setup secret `hokan init` printed",
       .public_route = true,
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string secret;
        NewUser u;
        std::string password;
        if (!c.Body(b, err) || !c.Str(b, "setup_secret", secret, err) ||
            !c.Str(b, "user_id", u.id, err) || !c.Str(b, "display_name", u.display_name, err) ||
            !c.Str(b, "password", password, err)) {
          return err;
        }
        u.initial_password = password;
        return OrError<User>(c, api.Setup(c.ctx(), secret, u), 201, [](const User& user) {
          return json{{"user", UserJson(user)}};
        });
      });
  add({.method = "POST",
       .pattern = "/api/v1/session",
       .summary = "Sign in (password, then TOTP or recovery code); sets the session cookie",
       .public_route = true,
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        LoginRequest req;
        if (!c.Body(b, err) || !c.Str(b, "user_id", req.login_id, err) ||
            !c.Str(b, "password", req.password, err) ||
            !c.Str(b, "second_factor", req.second_factor, err)) {
          return err;
        }
        Result<LoginResult> r = api.Login(c.ctx(), req);
        if (!r) return c.Error(r.error());
        const LoginOutcome& o = r->outcome;
        switch (o.kind) {
          case LoginOutcome::Kind::kOk: {
            HttpResponse res =
                Json(200, json{{"user_id", o.user_id}, {"session", SessionJson(o.session)}});
            res.headers.emplace_back("Set-Cookie", r->cookie);
            return res;
          }
          case LoginOutcome::Kind::kSecondFactorRequired:
            return JsonError(401, "second_factor_required",
                             "enter the code from your authenticator app or a recovery code",
                             c.req().request_id);
          case LoginOutcome::Kind::kLockedOut: {
            HttpResponse res =
                JsonError(429, "locked_out", "too many failed sign-ins; wait and try again",
                          c.req().request_id);
            res.headers.emplace_back("Retry-After", std::to_string(o.retry_after.count()));
            return res;
          }
          case LoginOutcome::Kind::kFailed:
            break;
        }
        // Identical for an unknown user and a wrong password (G-6.5-D4).
        return JsonError(401, "unauthenticated", "the user id or password is wrong",
                         c.req().request_id);
      });
  add({.method = "POST",
       .pattern = "/api/v1/password/with-code",
       .summary = "Set one's password with the one-time code an administrator issued",
       .public_route = true,
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string user, code, password;
        if (!c.Body(b, err) || !c.Str(b, "user_id", user, err) || !c.Str(b, "code", code, err) ||
            !c.Str(b, "new_password", password, err)) {
          return err;
        }
        return StatusOnly(c, api.SetPasswordWithCode(c.ctx(), user, code, password));
      });

  // --- self ----------------------------------------------------------------------------------
  add({.method = "DELETE", .pattern = "/api/v1/session", .summary = "Sign out", .action = "self"},
      [&api](Call& c) {
        HttpResponse r = StatusOnly(c, api.Logout(c.ctx()));
        r.headers.emplace_back("Set-Cookie", std::string(kCookie) +
                                                 "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
                                                 "Max-Age=0");
        return r;
      });
  add({.method = "POST",
       .pattern = "/api/v1/session/reauthenticate",
       .summary = "Confirm the password (and second factor) before a sensitive action",
       .action = "self",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        LoginRequest req;
        if (!c.Body(b, err) || !c.Str(b, "password", req.password, err) ||
            !c.Str(b, "second_factor", req.second_factor, err)) {
          return err;
        }
        return StatusOnly(c, api.Reauthenticate(c.ctx(), req));
      });
  add({.method = "GET", .pattern = "/api/v1/whoami", .summary = "The caller", .action = "self"},
      [&api](Call& c) {
        return OrError<WhoAmI>(c, api.Who(c.ctx()), 200, [&api](const WhoAmI& w) {
          json j = {{"user", UserJson(w.user)}, {"via_token", w.via_token}, {"scopes", w.scopes}};
          j["session"] = w.session ? SessionJson(*w.session) : json(nullptr);
          j["read_only"] = api.read_only();
          return j;
        });
      });
  add({.method = "POST",
       .pattern = "/api/v1/password",
       .summary = "Change one's own password",
       .action = "self",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string current, next;
        if (!c.Body(b, err) || !c.Str(b, "current_password", current, err) ||
            !c.Str(b, "new_password", next, err)) {
          return err;
        }
        return StatusOnly(c, api.ChangePassword(c.ctx(), current, next));
      });
  add({.method = "POST",
       .pattern = "/api/v1/totp",
       .summary = "Begin TOTP enrolment: returns the secret and an otpauth URI",
       .action = "self"},
      [&api](Call& c) {
        return OrError<TotpEnrolment>(c, api.BeginTotp(c.ctx()), 200, [](const TotpEnrolment& t) {
          return json{{"secret", t.secret_base32}, {"otpauth_uri", t.otpauth_uri}};
        });
      });
  add({.method = "POST",
       .pattern = "/api/v1/totp/confirm",
       .summary = "Confirm TOTP enrolment with a code: returns one-time recovery codes",
       .action = "self",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string code;
        if (!c.Body(b, err) || !c.Str(b, "code", code, err)) return err;
        return OrError<TotpConfirmation>(c, api.ConfirmTotp(c.ctx(), code), 200,
                                         [](const TotpConfirmation& t) {
                                           return json{{"recovery_codes", t.recovery_codes}};
                                         });
      });

  // --- records -------------------------------------------------------------------------------
  const std::vector<ParamDoc> put_params = {
      {"patient", "query", "patient id (new records; or header X-Hokan-Patient)", false},
      {"type", "query", "record type code (new records; or header X-Hokan-Type)", false},
      {"filename", "query",
       "the file's name as the sender knows it (or header X-Hokan-File-Name); only compared "
       "with the content by the sanitiser",
       false}};
  auto put = [&api](Call& c, std::string record_id) {
    PutRequest p;
    p.record_id = std::move(record_id);
    p.patient_id = c.Query("patient");
    if (p.patient_id.empty())
      p.patient_id = std::string(c.req().Header("x-hokan-patient").value_or(""));
    p.record_type = c.Query("type");
    if (p.record_type.empty())
      p.record_type = std::string(c.req().Header("x-hokan-type").value_or(""));
    p.media_type = std::string(c.req().Header("content-type").value_or("application/octet-stream"));
    const std::size_t semi = p.media_type.find(';');
    if (semi != std::string::npos) p.media_type = Trim(p.media_type.substr(0, semi));
    p.content = AsBytes(c.req().body);
    IngestOptions ingest;
    ingest.channel = "api";
    ingest.declared_name = c.Query("filename");
    if (ingest.declared_name.empty()) {
      ingest.declared_name = std::string(c.req().Header("x-hokan-file-name").value_or(""));
    }
    return OrError<PutResult>(c, api.PutRecord(c.ctx(), p, ingest), 201, [](const PutResult& r) {
      json j = VersionJson(r.version);
      json report = json::parse(r.sanitize_report_json, nullptr, false);
      j["sanitize"] = {{"verdict", SanitizeVerdictName(r.sanitize_verdict)},
                       {"quarantine_id", r.quarantine_id},
                       {"report", report.is_discarded() ? json(nullptr) : report}};
      return j;
    });
  };
  add({.method = "POST",
       .pattern = "/api/v1/records",
       .summary = "Add a record: the body is the content, its Content-Type the media type",
       .action = "record.create",
       .params = put_params,
       .request_media_type = "*/*"},
      [put](Call& c) { return put(c, ""); });
  add({.method = "POST",
       .pattern = "/api/v1/records/{record_id}/versions",
       .summary = "Add a version to a record (body = content)",
       .action = "record.create",
       .request_media_type = "*/*"},
      [put](Call& c) { return put(c, c.Param("record_id")); });
  add({.method = "GET",
       .pattern = "/api/v1/records/{record_id}",
       .summary = "A record's metadata, versions and states",
       .action = "record.history"},
      [&api](Call& c) {
        return OrError<RecordHistory>(c, api.History(c.ctx(), c.Param("record_id")), 200,
                                      [](const RecordHistory& h) { return HistoryJson(h); });
      });
  add({.method = "GET",
       .pattern = "/api/v1/records/{record_id}/content",
       .summary = "Download a version's content (latest unless ?version=N)",
       .action = "record.read",
       .params = {{"version", "query", "version number; latest when absent", false}},
       .response_media_type = "*/*"},
      [&api](Call& c) {
        std::uint64_t version = 0;
        HttpResponse err;
        if (!c.Count("version", 0, version, err)) return err;
        Result<ReadResult> r =
            api.ReadRecord(c.ctx(), c.Param("record_id"), static_cast<std::int64_t>(version));
        if (!r) return c.Error(r.error());
        HttpResponse res;
        res.content_type = r->version.media_type;
        res.body.assign(reinterpret_cast<const char*>(r->content.data()), r->content.size());
        res.headers = {{"X-Hokan-Record", r->version.record_id},
                       {"X-Hokan-Version", std::to_string(r->version.version)},
                       {"X-Hokan-Sha256", r->version.sha256},
                       {"X-Hokan-Audit-Seq", std::to_string(r->audit_seq)},
                       {"Content-Disposition", "attachment"}};
        return res;
      });
  add({.method = "GET",
       .pattern = "/api/v1/records/{record_id}/history",
       .summary = "A record's versions and states (metadata only)",
       .action = "record.history"},
      [&api](Call& c) {
        return OrError<RecordHistory>(c, api.History(c.ctx(), c.Param("record_id")), 200,
                                      [](const RecordHistory& h) { return HistoryJson(h); });
      });
  add({.method = "POST",
       .pattern = "/api/v1/records/{record_id}/entered-in-error",
       .summary = "Mark a record entered-in-error (nothing is deleted)",
       .action = "record.mark_error",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string reason;
        if (!c.Body(b, err) || !c.Str(b, "reason", reason, err)) return err;
        return OrError<RecordState>(c,
                                    api.MarkEnteredInError(c.ctx(), c.Param("record_id"), reason),
                                    200, [](const RecordState& s) { return StateJson(s); });
      });
  add({.method = "POST",
       .pattern = "/api/v1/records/{record_id}/versions/{version}/confirm",
       .summary = "Confirm (確定) a version: the body is a detached CMS/CAdES signature over its "
                  "content (application/pkcs7-signature), or JSON {\"key_passphrase\": ...} to "
                  "sign with your server-side key; timestamped, verified, bound to you",
       .action = "record.confirm",
       .request_media_type = "*/*"},
      [&api](Call& c) {
        ConfirmRequest r;
        r.record_id = c.Param("record_id");
        HttpResponse err;
        if (!c.PathNumber("version", r.version, err)) return err;
        const std::string type(c.req().Header("content-type").value_or(""));
        if (type.rfind("application/json", 0) == 0) {
          json b;
          if (!c.Body(b, err) || !c.Str(b, "key_passphrase", r.key_passphrase, err)) return err;
          if (r.key_passphrase.empty()) {
            return c.BadRequest("\"key_passphrase\" is required in a JSON body");
          }
        } else {
          r.signature.assign(c.req().body.begin(), c.req().body.end());
          if (r.signature.empty()) return c.BadRequest("the request body must be the signature");
        }
        return OrError<ConfirmationView>(c, api.Confirm(c.ctx(), r), 201, ConfirmationJson);
      });
  add({.method = "GET",
       .pattern = "/api/v1/records/{record_id}/versions/{version}/confirmation",
       .summary = "A version's confirmation with its signature verified now (404 when "
                  "unconfirmed)",
       .action = "record.history"},
      [&api](Call& c) {
        std::int64_t version = 0;
        HttpResponse err;
        if (!c.PathNumber("version", version, err)) return err;
        Result<std::optional<ConfirmationView>> r =
            api.GetConfirmation(c.ctx(), c.Param("record_id"), version);
        if (!r) return c.Error(r.error());
        if (!*r) return c.Error(NotFoundError("this version is not confirmed"));
        return Json(200, ConfirmationJson(**r));
      });
  add({.method = "GET",
       .pattern = "/api/v1/patients/{patient_id}/records",
       .summary = "A patient's records (metadata only)",
       .action = "record.history"},
      [&api](Call& c) {
        return OrError<std::vector<RecordHistory>>(
            c, api.PatientRecords(c.ctx(), c.Param("patient_id")), 200,
            [](const std::vector<RecordHistory>& all) {
              json a = json::array();
              for (const auto& h : all) a.push_back(HistoryJson(h));
              return json{{"records", a}};
            });
      });
  auto label = [&api](Call& c, bool set) {
    const std::string target = c.Query("target");
    const std::string name = c.Query("label");
    return StatusOnly(c, api.SetLabel(c.ctx(), target, name, set));
  };
  const std::vector<ParamDoc> label_params = {
      {"target", "query", "patient:<id> or record:<id>", true},
      {"label", "query", "restricted | vip", true}};
  add({.method = "PUT",
       .pattern = "/api/v1/labels",
       .summary = "Set a sensitivity label",
       .action = "record.label",
       .params = label_params},
      [label](Call& c) { return label(c, true); });
  add({.method = "DELETE",
       .pattern = "/api/v1/labels",
       .summary = "Remove a sensitivity label",
       .action = "record.label",
       .params = label_params},
      [label](Call& c) { return label(c, false); });

  // --- care relationships and break-glass ----------------------------------------------------
  add({.method = "GET",
       .pattern = "/api/v1/patients/{patient_id}/care",
       .summary = "A patient's care relationships",
       .action = "care.manage"},
      [&api](Call& c) {
        return OrError<std::vector<StoredRelationship>>(
            c, api.ListCare(c.ctx(), c.Param("patient_id")), 200,
            [](const std::vector<StoredRelationship>& all) {
              json a = json::array();
              for (const auto& r : all) a.push_back(RelationshipJson(r));
              return json{{"relationships", a}};
            });
      });
  add({.method = "POST",
       .pattern = "/api/v1/patients/{patient_id}/care",
       .summary = "Add a care relationship (user_id or department; valid_from/valid_until)",
       .action = "care.manage",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        CareRelationship r;
        std::optional<TimePoint> from;
        r.patient_id = c.Param("patient_id");
        if (!c.Body(b, err) || !c.Str(b, "user_id", r.user_id, err) ||
            !c.Str(b, "department", r.department, err) || !c.Time(b, "valid_from", from, err) ||
            !c.Time(b, "valid_until", r.valid_until, err)) {
          return err;
        }
        r.valid_from = from.value_or(TimePoint{});
        return OrError<StoredRelationship>(
            c, api.AddCare(c.ctx(), r), 201,
            [](const StoredRelationship& s) { return RelationshipJson(s); });
      });
  add({.method = "DELETE",
       .pattern = "/api/v1/patients/{patient_id}/care/{care_id}",
       .summary = "End a care relationship now (kept for the record)",
       .action = "care.manage"},
      [&api](Call& c) {
        return StatusOnly(c, api.EndCare(c.ctx(), c.Param("patient_id"), c.Param("care_id")));
      });
  add({.method = "POST",
       .pattern = "/api/v1/patients/{patient_id}/break-glass",
       .summary = "Declare emergency access to a patient, with a reason (audited, reviewed)",
       .action = "breakglass.declare",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string reason;
        if (!c.Body(b, err) || !c.Str(b, "reason", reason, err)) return err;
        return OrError<BreakGlassGrant>(
            c, api.DeclareBreakGlass(c.ctx(), c.Param("patient_id"), reason), 201,
            [](const BreakGlassGrant& g) { return GrantJson(g); });
      });
  add({.method = "GET",
       .pattern = "/api/v1/break-glass",
       .summary = "Break-glass declarations for review",
       .action = "breakglass.review",
       .params = {{"unreviewed", "query", "true: only those not yet reviewed", false}}},
      [&api](Call& c) {
        return OrError<std::vector<StoredGrant>>(
            c, api.ListBreakGlass(c.ctx(), c.Query("unreviewed") == "true"), 200,
            [](const std::vector<StoredGrant>& all) {
              json a = json::array();
              for (const auto& g : all) {
                json j = GrantJson(g.grant);
                j["reviewed_by"] = g.reviewed_by;
                j["reviewed_at"] = g.reviewed_at;
                j["review_note"] = g.review_note;
                a.push_back(std::move(j));
              }
              return json{{"grants", a}};
            });
      });
  add({.method = "POST",
       .pattern = "/api/v1/break-glass/{grant_id}/review",
       .summary = "Record the review of a break-glass use",
       .action = "breakglass.review",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string note;
        if (!c.Body(b, err) || !c.Str(b, "note", note, err)) return err;
        return StatusOnly(c, api.ReviewBreakGlass(c.ctx(), c.Param("grant_id"), note));
      });

  // --- remote maintenance (G-6.8-C9) ------------------------------------------------------------
  add({.method = "POST",
       .pattern = "/api/v1/maintenance/transfers",
       .summary = "Send files during remote maintenance, with the signed sanitisation attestation",
       .action = "maintenance.transfer",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        if (!c.Body(b, err)) return err;
        MaintenanceTransferRequest request;
        auto field = [&](const json& obj, const char* key, Bytes& out) {
          const auto it = obj.find(key);
          if (it == obj.end() || !it->is_string()) return false;
          Result<Bytes> decoded = Base64Decode(it->get<std::string>());
          if (!decoded) return false;
          out = std::move(*decoded);
          return true;
        };
        const auto files = b.find("files");
        bool ok = field(b, "manifest", request.manifest) &&
                  field(b, "signature", request.signature) && files != b.end() && files->is_array();
        if (ok) {
          for (const json& f : *files) {
            MaintenanceFile file;
            const auto name = f.find("name");
            if (!f.is_object() || name == f.end() || !name->is_string() ||
                !field(f, "content", file.content)) {
              ok = false;
              break;
            }
            file.name = name->get<std::string>();
            request.files.push_back(std::move(file));
          }
        }
        if (!ok) {
          return c.Error(InvalidArgumentError(
              "the body needs \"manifest\" and \"signature\" (base64) and \"files\": "
              "[{\"name\", \"content\" (base64)}]"));
        }
        return OrError<MaintenanceReceipt>(
            c, api.ReceiveMaintenanceTransfer(c.ctx(), request), 201,
            [](const MaintenanceReceipt& r) {
              json accepted = json::array();
              for (const auto& f : r.files) {
                accepted.push_back({{"name", f.name},
                                    {"sha256", f.sha256},
                                    {"size", f.size},
                                    {"quarantine_id", f.quarantine_id}});
              }
              return json{{"transfer_id", r.transfer_id},
                          {"vendor", r.vendor},
                          {"ticket", r.ticket},
                          {"signer", r.signer},
                          {"files", accepted}};
            });
      });

  // --- backups (issue 6) -----------------------------------------------------------------------
  add({.method = "GET",
       .pattern = "/api/v1/backup/status",
       .summary = "The last backup run per target and the last restore drill",
       .action = "backup.status",
       .response_media_type = "application/json"},
      [&api](Call& c) {
        return OrError<std::string>(c, api.BackupStatus(c.ctx()), 200,
                                    [](const std::string& s) { return json::parse(s); });
      });

  // --- quarantine (issue 5) --------------------------------------------------------------------
  add({.method = "GET",
       .pattern = "/api/v1/quarantine",
       .summary = "Files the sanitiser disarmed, blocked or held, newest first",
       .action = "quarantine.read",
       .params = {{"limit", "query", "items to return (1-1000, default 100)", false}}},
      [&api](Call& c) {
        std::uint64_t limit = 100;
        HttpResponse err;
        if (!c.Count("limit", 100, limit, err)) return err;
        return OrError<std::vector<ApiService::QuarantineView>>(
            c, api.ListQuarantine(c.ctx(), static_cast<std::size_t>(limit)), 200,
            [](const std::vector<ApiService::QuarantineView>& all) {
              json a = json::array();
              for (const auto& v : all) a.push_back(QuarantineJson(v, false));
              return json{{"items", a}};
            });
      });
  add({.method = "GET",
       .pattern = "/api/v1/quarantine/{quarantine_id}",
       .summary = "One quarantined file: its sanitisation report and release decisions",
       .action = "quarantine.read"},
      [&api](Call& c) {
        return OrError<ApiService::QuarantineView>(
            c, api.GetQuarantined(c.ctx(), c.Param("quarantine_id")), 200,
            [](const ApiService::QuarantineView& v) { return QuarantineJson(v, true); });
      });
  add({.method = "GET",
       .pattern = "/api/v1/quarantine/{quarantine_id}/content",
       .summary = "Download a quarantined original (audited; handle with care)",
       .action = "quarantine.read",
       .response_media_type = "application/octet-stream"},
      [&api](Call& c) {
        Result<Bytes> r = api.ReadQuarantined(c.ctx(), c.Param("quarantine_id"));
        if (!r) return c.Error(r.error());
        HttpResponse res;
        // Never rendered by a browser: it may be active content.
        res.content_type = "application/octet-stream";
        res.body.assign(reinterpret_cast<const char*>(r->data()), r->size());
        res.headers = {{"Content-Disposition", "attachment"}};
        return res;
      });
  add({.method = "POST",
       .pattern = "/api/v1/quarantine/{quarantine_id}/release-request",
       .summary = "Ask for a quarantined original to be released (another person approves)",
       .action = "quarantine.release",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string reason;
        if (!c.Body(b, err) || !c.Str(b, "reason", reason, err)) return err;
        return StatusOnly(c, api.RequestRelease(c.ctx(), c.Param("quarantine_id"), reason));
      });
  add({.method = "POST",
       .pattern = "/api/v1/quarantine/{quarantine_id}/approve",
       .summary = "Approve a requested release: the original becomes a new version, unsanitised",
       .action = "quarantine.release"},
      [&api](Call& c) {
        return OrError<PutResult>(c, api.ApproveRelease(c.ctx(), c.Param("quarantine_id")), 201,
                                  [](const PutResult& r) { return VersionJson(r.version); });
      });
  add({.method = "POST",
       .pattern = "/api/v1/quarantine/{quarantine_id}/reject",
       .summary = "Reject the release of a quarantined original (it stays in quarantine)",
       .action = "quarantine.release",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string reason;
        if (!c.Body(b, err) || !c.Str(b, "reason", reason, err)) return err;
        return StatusOnly(c, api.RejectRelease(c.ctx(), c.Param("quarantine_id"), reason));
      });

  // --- audit ---------------------------------------------------------------------------------
  add({.method = "GET",
       .pattern = "/api/v1/audit",
       .summary = "Search the audit log (entries verbatim)",
       .action = "audit.read",
       .params = {{"from", "query", "first sequence number (default 0)", false},
                  {"limit", "query", "entries to return (1-1000, default 100)", false},
                  {"actor", "query", "e.g. user:alice", false},
                  {"patient", "query", "patient id", false},
                  {"action", "query", "e.g. record.read", false},
                  {"break_glass", "query", "true: only break-glass accesses", false}}},
      [&api](Call& c) {
        AuditQuery q;
        HttpResponse err;
        if (!c.Count("from", 0, q.from, err) || !c.Count("limit", 100, q.limit, err)) return err;
        q.actor = c.Query("actor");
        q.patient = c.Query("patient");
        q.action = c.Query("action");
        q.break_glass_only = c.Query("break_glass") == "true";
        Result<ApiService::AuditPage> page = api.SearchAudit(c.ctx(), q);
        if (!page) return c.Error(page.error());
        // Entries are sent verbatim (their bytes are the Merkle leaves).
        std::string body = "{\"size\":" + std::to_string(page->size) +
                           ",\"next\":" + std::to_string(page->next) + ",\"entries\":[";
        for (std::size_t i = 0; i < page->entries.size(); ++i) {
          if (i) body += ',';
          body += page->entries[i];
        }
        body += "]}";
        HttpResponse r;
        r.body = std::move(body);
        return r;
      });
  add({.method = "POST",
       .pattern = "/api/v1/audit/checkpoints",
       .summary = "Sign a checkpoint of the audit log now",
       .action = "audit.checkpoint"},
      [&api](Call& c) {
        return OrError<Checkpoint>(c, api.AuditCheckpoint(c.ctx()), 201, [](const Checkpoint& k) {
          return json{{"origin", k.origin},
                      {"tree_size", k.tree_size},
                      {"root", Hex(k.root)},
                      {"time", k.time},
                      {"note", k.note}};
        });
      });
  add({.method = "GET",
       .pattern = "/api/v1/audit/proofs/inclusion",
       .summary = "Inclusion proof of one entry in the latest checkpoint",
       .action = "audit.proof",
       .params = {{"index", "query", "entry sequence number", true}}},
      [&api](Call& c) {
        std::uint64_t index = 0;
        HttpResponse err;
        if (!c.Count("index", 0, index, err)) return err;
        return OrError<InclusionProofResult>(
            c, api.AuditInclusion(c.ctx(), index), 200, [](const InclusionProofResult& p) {
              return json{{"index", p.index},          {"tree_size", p.tree_size},
                          {"entry", p.entry},          {"leaf_hash", Hex(p.leaf_hash)},
                          {"root", Hex(p.root)},       {"proof", HashesJson(p.proof)},
                          {"checkpoint", p.checkpoint}};
            });
      });
  add({.method = "GET",
       .pattern = "/api/v1/audit/proofs/consistency",
       .summary = "Consistency proof between two tree sizes",
       .action = "audit.proof",
       .params = {{"from", "query", "older tree size", true},
                  {"to", "query", "newer tree size", true}}},
      [&api](Call& c) {
        std::uint64_t a = 0, b = 0;
        HttpResponse err;
        if (!c.Count("from", 0, a, err) || !c.Count("to", 0, b, err)) return err;
        return OrError<ConsistencyProofResult>(c, api.AuditConsistency(c.ctx(), a, b), 200,
                                               [](const ConsistencyProofResult& p) {
                                                 return json{{"old_size", p.old_size},
                                                             {"new_size", p.new_size},
                                                             {"old_root", Hex(p.old_root)},
                                                             {"new_root", Hex(p.new_root)},
                                                             {"proof", HashesJson(p.proof)},
                                                             {"old_checkpoint", p.old_checkpoint},
                                                             {"new_checkpoint", p.new_checkpoint}};
                                               });
      });

  // --- users and tokens ----------------------------------------------------------------------
  add({.method = "GET", .pattern = "/api/v1/users", .summary = "All users", .action = "user.read"},
      [&api](Call& c) {
        return OrError<std::vector<User>>(c, api.ListUsers(c.ctx()), 200,
                                          [](const std::vector<User>& all) {
                                            json a = json::array();
                                            for (const auto& u : all) a.push_back(UserJson(u));
                                            return json{{"users", a}};
                                          });
      });
  add({.method = "POST",
       .pattern = "/api/v1/users",
       .summary = "Create a user; returns a one-time enrolment code for the user's password",
       .action = "user.manage",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        NewUserRequest r;
        std::string kind;
        if (!c.Body(b, err) || !c.Str(b, "id", r.user.id, err) ||
            !c.Str(b, "display_name", r.user.display_name, err) || !c.Str(b, "kind", kind, err) ||
            !c.Strings(b, "roles", r.user.roles, err) ||
            !c.Str(b, "department", r.user.department, err) ||
            !c.Time(b, "expires_at", r.user.expires_at, err) ||
            !c.Str(b, "verified_by", r.verified_by, err) ||
            !c.Str(b, "verification_method", r.verification_method, err)) {
          return err;
        }
        if (!kind.empty()) {
          Result<UserKind> k = ParseUserKind(kind);
          if (!k) return c.BadRequest("\"kind\" must be person, system or maintenance");
          r.user.kind = *k;
        }
        return OrError<CreatedUser>(c, api.CreateUser(c.ctx(), r), 201, [](const CreatedUser& u) {
          return json{{"user", UserJson(u.user)},
                      {"enrolment_code", u.enrolment.code},
                      {"enrolment_expires_at", TimeText(u.enrolment.record.expires_at)}};
        });
      });
  add({.method = "GET",
       .pattern = "/api/v1/users/{user_id}",
       .summary = "One user",
       .action = "user.read"},
      [&api](Call& c) {
        return OrError<User>(c, api.GetUser(c.ctx(), c.Param("user_id")), 200,
                             [](const User& u) { return UserJson(u); });
      });
  add({.method = "PUT",
       .pattern = "/api/v1/users/{user_id}/roles",
       .summary = "Replace a user's roles (requested_by and approved_by are recorded)",
       .action = "user.manage",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::vector<std::string> roles;
        std::string requested_by, approved_by;
        if (!c.Body(b, err) || !c.Strings(b, "roles", roles, err) ||
            !c.Str(b, "requested_by", requested_by, err) ||
            !c.Str(b, "approved_by", approved_by, err)) {
          return err;
        }
        return OrError<User>(
            c, api.SetRoles(c.ctx(), c.Param("user_id"), roles, requested_by, approved_by), 200,
            [](const User& u) { return UserJson(u); });
      });
  for (const bool disable : {true, false}) {
    add({.method = "POST",
         .pattern = disable ? "/api/v1/users/{user_id}/disable" : "/api/v1/users/{user_id}/enable",
         .summary = disable ? "Disable a user (ends their sessions)" : "Enable a user again",
         .action = "user.manage"},
        [&api, disable](Call& c) {
          return OrError<User>(c, api.SetDisabled(c.ctx(), c.Param("user_id"), disable), 200,
                               [](const User& u) { return UserJson(u); });
        });
  }
  add({.method = "POST",
       .pattern = "/api/v1/users/{user_id}/password-reset",
       .summary = "Reset a password after verifying the user's identity (verified_by, method)",
       .action = "user.reset_password",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string by, method;
        if (!c.Body(b, err) || !c.Str(b, "verified_by", by, err) ||
            !c.Str(b, "method", method, err)) {
          return err;
        }
        return OrError<IssuedPasswordReset>(
            c, api.ResetPassword(c.ctx(), c.Param("user_id"), by, method), 200,
            [](const IssuedPasswordReset& r) {
              return json{{"reset_id", r.record.reset_id},
                          {"code", r.code},
                          {"expires_at", TimeText(r.record.expires_at)}};
            });
      });
  add({.method = "POST",
       .pattern = "/api/v1/users/{user_id}/client-certificates",
       .summary = "Bind a TLS client certificate (SHA-256 fingerprint) to a user",
       .action = "user.manage",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::string fp;
        if (!c.Body(b, err) || !c.Str(b, "fingerprint", fp, err)) return err;
        return OrError<ClientCertBinding>(c, api.BindClientCert(c.ctx(), c.Param("user_id"), fp),
                                          201, [](const ClientCertBinding& k) {
                                            return json{{"fingerprint", k.fingerprint},
                                                        {"user_id", k.user_id},
                                                        {"bound_at", TimeText(k.bound_at)}};
                                          });
      });
  auto binding_json = [](const ClientCertBinding& k) {
    return json{
        {"fingerprint", k.fingerprint}, {"user_id", k.user_id}, {"bound_at", TimeText(k.bound_at)}};
  };
  add({.method = "POST",
       .pattern = "/api/v1/users/{user_id}/signing-certificates",
       .summary = "Bind a signing certificate (PEM body) to a user: only signatures made with "
                  "it confirm versions in that user's name",
       .action = "user.manage",
       .request_media_type = "*/*"},
      [&api, binding_json](Call& c) {
        return OrError<ClientCertBinding>(
            c, api.BindSigningCert(c.ctx(), c.Param("user_id"), c.req().body), 201, binding_json);
      });
  add({.method = "GET",
       .pattern = "/api/v1/users/{user_id}/signing-certificates",
       .summary = "A user's signing certificates (fingerprints)",
       .action = "user.read"},
      [&api, binding_json](Call& c) {
        return OrError<std::vector<ClientCertBinding>>(
            c, api.ListSigningCerts(c.ctx(), c.Param("user_id")), 200,
            [binding_json](const std::vector<ClientCertBinding>& all) {
              json a = json::array();
              for (const auto& k : all) a.push_back(binding_json(k));
              return json{{"signing_certificates", a}};
            });
      });
  add({.method = "GET",
       .pattern = "/api/v1/users/{user_id}/tokens",
       .summary = "A user's API tokens (never their secrets)",
       .action = "token.manage"},
      [&api](Call& c) {
        return OrError<std::vector<ApiTokenInfo>>(c, api.ListApiTokens(c.ctx(), c.Param("user_id")),
                                                  200, [](const std::vector<ApiTokenInfo>& all) {
                                                    json a = json::array();
                                                    for (const auto& t : all)
                                                      a.push_back(TokenJson(t));
                                                    return json{{"tokens", a}};
                                                  });
      });
  add({.method = "POST",
       .pattern = "/api/v1/users/{user_id}/tokens",
       .summary = "Create an API token for a system account (scopes, expires_at)",
       .action = "token.manage",
       .request_media_type = json_type},
      [&api](Call& c) {
        json b;
        HttpResponse err;
        std::vector<std::string> scopes;
        std::optional<TimePoint> expires;
        if (!c.Body(b, err) || !c.Strings(b, "scopes", scopes, err) ||
            !c.Time(b, "expires_at", expires, err)) {
          return err;
        }
        if (!expires) return c.BadRequest("\"expires_at\" is required");
        return OrError<NewApiToken>(
            c, api.CreateApiToken(c.ctx(), c.Param("user_id"), scopes, *expires), 201,
            [](const NewApiToken& t) {
              json j = TokenJson(t.info);
              j["token"] = t.token;
              return j;
            });
      });
  add({.method = "DELETE",
       .pattern = "/api/v1/users/{user_id}/tokens/{token_id}",
       .summary = "Revoke an API token",
       .action = "token.manage"},
      [&api](Call& c) {
        return StatusOnly(c, api.RevokeApiToken(c.ctx(), c.Param("user_id"), c.Param("token_id")));
      });
}

}  // namespace

Result<ServerOptions> ServerOptionsFor(Env& env, const Archive& archive, const std::string& listen,
                                       std::uint64_t port) {
  const ServerConfig& c = archive.config().server;
  HK_ASSIGN_OR_RETURN(TlsFiles files, ServerTlsFiles(env, archive));
  if (port > 65535) return InvalidArgumentError("--port must be 0 to 65535");
  ServerOptions o;
  o.address = listen.empty() ? c.listen_address : listen;
  o.port = static_cast<std::uint16_t>(port);
  o.io_threads = static_cast<unsigned>(c.io_threads);
  o.worker_threads = static_cast<unsigned>(c.worker_threads);
  o.tls = TlsOptions{.cert_file = files.cert,
                     .key_file = files.key,
                     .allow_tls12 = c.allow_tls12,
                     .client_ca_file = files.client_ca,
                     .require_client_cert = c.require_client_cert};
  o.limits.max_header_bytes = c.max_header_bytes;
  // The largest content plus room for the multipart-free envelope (headers are separate).
  o.limits.max_body_bytes = archive.config().max_content_bytes + (64ull << 10);
  o.limits.max_connections = c.max_connections;
  o.limits.handshake_timeout = std::chrono::seconds(c.handshake_timeout_seconds);
  o.limits.header_timeout = std::chrono::seconds(c.header_timeout_seconds);
  o.limits.body_timeout = std::chrono::seconds(c.body_timeout_seconds);
  o.limits.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  o.shutdown_grace = std::chrono::seconds(c.shutdown_grace_seconds);
  return o;
}

RequestContext ContextOf(const HttpRequest& request) {
  RequestContext ctx;
  ctx.client_address = request.client_address;
  ctx.request_id = request.request_id;
  ctx.method = request.method;
  ctx.path = request.path;
  ctx.client_cert_sha256 = request.client_cert_sha256;
  if (auto cookie = request.Header("cookie")) ctx.session_token = CookieValue(*cookie, kCookie);
  if (auto auth = request.Header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() && auth->substr(0, kBearer.size()) == kBearer) {
      ctx.bearer_token = Trim(auth->substr(kBearer.size()));
    }
  }
  return ctx;
}

std::unique_ptr<Router> MakeApiRouter(ApiService& api) {
  auto router = std::make_unique<Router>();
  AddRoutes(*router, api);
  return router;
}

HttpHandler MakeApiHandler(ApiService& api, const Router& router) {
  return [&api, &router](HttpRequest& req) -> HttpResponse {
    PathParams params;
    bool path_known = false;
    const Route* route = router.Match(req.method, req.path, params, path_known);
    if (route == nullptr) {
      const int status = path_known ? 405 : 404;
      api.AuditUnrouted(ContextOf(req), status);
      return JsonError(status, path_known ? "method_not_allowed" : "not_found",
                       path_known ? "this path does not take that method" : "no such resource",
                       req.request_id);
    }
    if (!route->public_route) {
      Status st = api.RefuseAnonymous(ContextOf(req), route->action);
      if (!st.ok()) return ErrorResponse(st, req.request_id);
    }
    return route->handler(req, params);
  };
}

std::function<void(const HttpRequest&, const HttpResponse&)> MakeRejectionAuditor(ApiService& api) {
  return [&api](const HttpRequest& req, const HttpResponse& res) {
    api.AuditUnrouted(ContextOf(req), res.status);
  };
}

}  // namespace hokan
