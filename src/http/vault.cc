#include "http/vault.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "http/client.h"
#include "http/router.h"

namespace hokan {
namespace {

constexpr std::string_view kPrefix = "/vault/v1/";

HttpResponse Json(int status, const nlohmann::json& j) {
  return HttpResponse{.status = status, .content_type = "application/json", .body = j.dump()};
}

HttpResponse Octets(Bytes b) {
  return HttpResponse{
      .status = 200, .content_type = "application/octet-stream", .body = std::string(AsChars(b))};
}

HttpResponse Handle(Vault& vault, HttpRequest& req) {
  Result<std::string> client = vault.ClientFor(req.client_cert_sha256);
  if (!client) return ErrorResponse(client.error(), req.request_id);
  const std::string& c = *client;
  auto fail = [&](const Status& st) { return ErrorResponse(st, req.request_id); };
  if (req.path.rfind(kPrefix, 0) != 0) return fail(NotFoundError("no such vault resource"));
  std::string rest = req.path.substr(kPrefix.size());
  const std::string& m = req.method;
  if (m == "DELETE") return fail(vault.Refuse(c, "DELETE " + req.path));

  if (rest == "flush" && m == "POST") {
    Status st = vault.Flush(c);
    return st.ok() ? Json(200, {{"flushed", true}}) : fail(st);
  }
  if (rest == "retention") {
    if (m != "GET") return fail(vault.Refuse(c, "a retention change"));
    const VaultRetention& r = vault.config().retention;
    return Json(200, {{"keep_last", r.keep_last},
                      {"keep_daily", r.keep_daily},
                      {"keep_weekly", r.keep_weekly},
                      {"keep_monthly", r.keep_monthly},
                      {"min_days", r.min_days}});
  }
  if (rest == "snapshots" && m == "GET") {
    Result<std::vector<std::string>> ids = vault.ListSnapshots(c);
    return ids ? Json(200, {{"snapshots", *ids}}) : fail(ids.error());
  }
  if (rest.rfind("snapshots/", 0) == 0) {
    const std::string id = rest.substr(10);
    if (!backup::IsSnapshotId(id)) return fail(InvalidArgumentError("not a snapshot id"));
    if (m == "GET") {
      Result<Bytes> b = vault.GetSnapshot(c, id);
      return b ? Octets(std::move(*b)) : fail(b.error());
    }
    if (m == "PUT") {
      Result<std::vector<std::string>> ids = vault.ListSnapshots(c);
      if (ids && std::find(ids->begin(), ids->end(), id) != ids->end()) {
        return fail(vault.Refuse(c, "replacing snapshot " + id));
      }
      Status st = vault.PutSnapshot(c, id, AsBytes(req.body));
      return st.ok() ? Json(201, {{"snapshot_id", id}}) : fail(st);
    }
    return fail(InvalidArgumentError("method not allowed"));
  }
  if (rest.rfind("objects/", 0) == 0) {
    std::string id = rest.substr(8);
    bool exists = false;
    if (id.size() > 7 && id.substr(id.size() - 7) == "/exists") {
      exists = true;
      id.resize(id.size() - 7);
    }
    if (!backup::IsObjectId(id)) return fail(InvalidArgumentError("not an object id"));
    if (exists && m == "GET") {
      Result<bool> has = vault.HasObject(c, id);
      return has ? Json(200, {{"exists", *has}}) : fail(has.error());
    }
    if (!exists && m == "GET") {
      Result<Bytes> b = vault.GetObject(c, id);
      return b ? Octets(std::move(*b)) : fail(b.error());
    }
    if (!exists && m == "PUT") {
      Status st = vault.PutObject(c, id, AsBytes(req.body));
      return st.ok() ? Json(201, {{"object", id}}) : fail(st);
    }
    return fail(InvalidArgumentError("method not allowed"));
  }
  return fail(NotFoundError("no such vault resource"));
}

// The client side. One kept-alive connection, re-made once when it drops.
class VaultTarget final : public backup::BackupTarget {
 public:
  VaultTarget(ClientOptions options, std::string url)
      : options_(std::move(options)), url_(std::move(url)) {}
  std::string Describe() const override { return "vault " + url_; }

  Result<bool> HasObject(const std::string& id) override {
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("GET", "objects/" + id + "/exists", ""));
    HK_RETURN_IF_ERROR(Check(r, "object " + id));
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("exists") || !j["exists"].is_boolean()) {
      return UnavailableError("the vault's answer is not understood");
    }
    return j["exists"].get<bool>();
  }
  Status PutObject(const std::string& id, ByteView sealed) override {
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("PUT", "objects/" + id, AsChars(sealed)));
    return Check(r, "object " + id);
  }
  Result<Bytes> GetObject(const std::string& id) override {
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("GET", "objects/" + id, ""));
    if (r.status == 404)
      return NotFoundError("backup object " + id + " is missing from " + Describe());
    HK_RETURN_IF_ERROR(Check(r, "object " + id));
    return Bytes(r.body.begin(), r.body.end());
  }
  Status Flush() override {
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("POST", "flush", ""));
    return Check(r, "flush");
  }
  Result<std::vector<std::string>> ListSnapshots() override {
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("GET", "snapshots", ""));
    HK_RETURN_IF_ERROR(Check(r, "snapshots"));
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    std::vector<std::string> ids;
    if (j.is_discarded() || !j.contains("snapshots") || !j["snapshots"].is_array()) {
      return UnavailableError("the vault's answer is not understood");
    }
    for (const auto& id : j["snapshots"]) {
      if (!id.is_string() || !backup::IsSnapshotId(id.get<std::string>())) {
        return UnavailableError("the vault listed something that is not a snapshot id");
      }
      ids.push_back(id.get<std::string>());
    }
    return ids;
  }
  Status PutSnapshot(const std::string& id, ByteView manifest) override {
    HK_RETURN_IF_ERROR(Flush());
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("PUT", "snapshots/" + id, AsChars(manifest)));
    return Check(r, "snapshot " + id);
  }
  Result<Bytes> GetSnapshot(const std::string& id) override {
    if (!backup::IsSnapshotId(id)) {
      return InvalidArgumentError("'" + id + "' is not a snapshot id (see `hokan backup list`)");
    }
    HK_ASSIGN_OR_RETURN(ClientResponse r, Call("GET", "snapshots/" + id, ""));
    if (r.status == 404) return NotFoundError("snapshot " + id + " is not in " + Describe());
    HK_RETURN_IF_ERROR(Check(r, "snapshot " + id));
    return Bytes(r.body.begin(), r.body.end());
  }

 private:
  Result<ClientResponse> Call(std::string_view method, const std::string& path,
                              std::string_view body) {
    const std::string target = std::string(kPrefix) + path;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (client_ == nullptr) {
        Result<std::unique_ptr<HttpsClient>> c = HttpsClient::Connect(options_);
        if (!c) return UnavailableError("cannot reach " + Describe() + ": " + c.error().message());
        client_ = std::move(*c);
      }
      HeaderList headers;
      if (!body.empty() || method == "PUT") {
        headers.emplace_back("Content-Type", "application/octet-stream");
      }
      Result<ClientResponse> r = client_->Send(method, target, headers, body);
      if (r) return r;
      client_.reset();  // The connection dropped (idle timeout): once more on a new one.
      if (attempt == 1) return UnavailableError(Describe() + ": " + r.error().message());
    }
    return UnavailableError(Describe() + " did not answer");
  }

  Status Check(const ClientResponse& r, const std::string& what) const {
    if (r.status >= 200 && r.status < 300) return OkStatus();
    std::string message = "HTTP " + std::to_string(r.status);
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_discarded() && j.contains("error") && j["error"].contains("message") &&
        j["error"]["message"].is_string()) {
      message = j["error"]["message"].get<std::string>();
    }
    message = Describe() + " refused " + what + ": " + message;
    switch (r.status) {
      case 400:
        return InvalidArgumentError(message);
      case 403:
        return PermissionDeniedError(message);
      case 404:
        return NotFoundError(message);
      case 409:
        return FailedPreconditionError(message);
      default:
        return UnavailableError(message);
    }
  }

  ClientOptions options_;
  std::string url_;
  std::unique_ptr<HttpsClient> client_;
};

}  // namespace

std::function<HttpResponse(HttpRequest&)> MakeVaultHandler(Vault& vault) {
  return [&vault](HttpRequest& req) { return Handle(vault, req); };
}

Result<std::unique_ptr<backup::BackupTarget>> OpenVaultTarget(const std::string& url,
                                                              const VaultCredentials& credentials) {
  // https://HOST:PORT[/]
  if (url.rfind("https://", 0) != 0) {
    return InvalidArgumentError("a vault URL is https://HOST:PORT (plain http is never used)");
  }
  std::string hostport = url.substr(8);
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  if (hostport.find('/') != std::string::npos || hostport.find('@') != std::string::npos) {
    return InvalidArgumentError("a vault URL is https://HOST:PORT, without a path");
  }
  std::string host = hostport;
  std::string port = "8730";
  if (!hostport.empty() && hostport[0] == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgumentError("malformed vault URL");
    host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':')
      port = hostport.substr(close + 2);
  } else if (const std::size_t colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  unsigned long p = 0;
  try {
    p = std::stoul(port);
  } catch (...) {
    p = 0;
  }
  if (host.empty() || p == 0 || p > 65535) return InvalidArgumentError("malformed vault URL");
  for (const std::string* f :
       {&credentials.ca_file, &credentials.cert_file, &credentials.key_file}) {
    if (f->empty()) {
      return InvalidArgumentError(
          "a vault target needs the vault's CA and this client's certificate and key (`hokan "
          "vault add-client`; [backup] in hokan.toml or --vault-credentials DIR)");
    }
  }
  ClientOptions o;
  o.host = host;
  o.port = static_cast<std::uint16_t>(p);
  o.server_name = host;
  o.ca_file = credentials.ca_file;
  o.cert_file = credentials.cert_file;
  o.key_file = credentials.key_file;
  o.min_version = "TLSv1.3";
  o.timeout = std::chrono::seconds(300);
  return std::unique_ptr<backup::BackupTarget>(new VaultTarget(o, url));
}

}  // namespace hokan
