// `hokan demo`: a store with fictional sample records, so a newcomer sees what hokan keeps.
#include <cstdio>
#include <tuple>
#include <vector>

#include "cli/cli.h"
#include "cli/serve.h"
#include "http/api_v1.h"
#include "http/server.h"
#include "service/api_service.h"
#include "service/archive.h"
#include "service/demo_setup.h"

namespace hokan::cli_internal {
namespace {

struct Sample {
  const char* patient;
  const char* type;
  const char* media_type;
  const char* text;
};

// Fictional patients and contents (no real person).
constexpr Sample kSamples[] = {
    {"P0001", "discharge-summary", "text/plain",
     "退院時サマリー (demo)\nPatient: DEMO P0001\nDiagnosis: community-acquired pneumonia\n"
     "Course: improved on antibiotics; discharged day 7.\n"},
    {"P0001", "prescription", "text/plain",
     "処方箋 (demo)\nAmoxicillin 500 mg, 3 times daily, 5 days\n"},
    {"P0002", "referral-letter", "text/plain",
     "診療情報提供書 (demo)\nTo: Dept. of Cardiology\nReason: exertional chest pain, ECG "
     "attached\n"},
    {"P0003", "progress-note", "text/plain",
     "経過記録 (demo)\nS: mild headache\nO: BP 128/82\nA/P: observe, follow up in 2 weeks\n"},
};

// A small valid PDF (one page, one line of text), built with correct xref offsets.
std::string DemoPdf(const std::string& line) {
  const std::string stream = "BT /F1 14 Tf 72 720 Td (" + line + ") Tj ET";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      std::string("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R ") +
          "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string pdf = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (const std::size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) +
         " /Root 1 0 R >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

struct DemoUser {
  const char* id;
  const char* name;
  const char* role;
  const char* department;
  const char* note;
};

constexpr DemoUser kUsers[] = {
    {"dr-sato", "Sato Hanako", "physician", "internal-medicine", "cares for P0001 (personally)"},
    {"ns-suzuki", "Suzuki Yui", "nurse", "internal-medicine", "her department cares for P0002"},
    {"clerk-tanaka", "Tanaka Ken", "clerk", "internal-medicine", "uploads, cannot read"},
    {"ro-ito", "Ito Mika", "records_officer", "", "care relationships, labels"},
    {"so-kato", "Kato Jun", "security_officer", "", "break-glass review, audit log, quarantine"},
    {"au-yamada", "Yamada Aoi", "auditor", "", "audit log and proofs only"},
    {"admin-kimura", "Kimura Sho", "admin", "", "users only, no clinical content"},
};

}  // namespace

int RunDemo(Env& env, std::span<const std::string_view> args) {
  Result<Args> a = Args::Parse(args, {"dir", "port", "listen"}, {"no-serve", "allow-root"});
  if (!a) return Fail(a.error());
  const bool serve = !a->Switch("no-serve");
  if (serve) {
    if (Status st = RefuseRoot(a->Switch("allow-root")); !st.ok()) return Fail(st);
  }
  Result<std::uint64_t> port = a->Number("port", 8443);
  if (!port) return Fail(port.error());
  const std::string dir = a->Get("dir", "hokan-demo");
  const Actor me{LocalActorId(), "cli"};
  bool fresh = false;
  if (!env.fs.Stat(JoinPath(dir, "hokan.toml"))) {
    ArchiveOptions options;
    // Demo only: signing in with a password alone, so curl is enough to try the API. A store
    // made by `hokan init` requires two-factor login (G-6.5-C13).
    options.configure = [](Config& c) {
      c.identity.require_two_factor = false;
      // E-signatures with a development PKI and the built-in (NOT accredited) TSA.
      ConfigureDemoSigning(c);
    };
    Result<InitResult> init = Archive::Init(env, dir, me, options);
    if (!init) return Fail(init.error().WithContext("demo"));
    std::printf("Created a new store in %s (store id %s)\n", dir.c_str(), init->store_id.c_str());
    fresh = true;
  } else {
    std::printf("Using the existing store in %s\n", dir.c_str());
  }
  std::shared_ptr<DemoHpki> pki;
  if (fresh) {
    Result<std::shared_ptr<DemoHpki>> made = WriteDemoHpki(env, dir);
    if (!made) return Fail(made.error().WithContext("demo PKI"));
    pki = *made;
  }
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, dir);
  if (!archive) return Fail(archive.error());
  Archive& ar = **archive;
  Result<std::unique_ptr<ApiService>> api_or = ApiService::Open(ar, env, ServiceOptions());
  if (!api_or) return Fail(api_or.error());
  ApiService& api = **api_or;

  std::vector<std::pair<const DemoUser*, std::string>> passwords;
  if (fresh) {
    for (const DemoUser& u : kUsers) {
      NewUser nu{.id = u.id, .display_name = u.name, .roles = {u.role}, .department = u.department};
      Result<ApiService::LocalUser> made = api.CreateLocalUser(me, nu);
      if (!made) return Fail(made.error().WithContext(std::string("demo user ") + u.id));
      passwords.emplace_back(&u, made->password);
    }
    const CareRelationship rels[] = {
        {.user_id = "dr-sato", .patient_id = "P0001", .valid_from = env.clock.Now()},
        {.department = "internal-medicine", .patient_id = "P0002", .valid_from = env.clock.Now()}};
    for (const CareRelationship& r : rels) {
      if (Result<StoredRelationship> c = api.AddCareLocal(me, r); !c) return Fail(c.error());
    }
    if (Status st = api.SetLabelLocal(me, "patient:P0003", "vip"); !st.ok()) return Fail(st);
  }
  std::string signing_passphrase;
  if (fresh) {
    Result<std::string> p = InstallDemoSigner(api, me, *pki, "dr-sato");
    if (!p) return Fail(p.error().WithContext("demo signing key"));
    signing_passphrase = *p;
  }

  std::vector<std::string> ids;
  for (const Sample& s : kSamples) {
    PutRequest req{.patient_id = s.patient,
                   .record_type = s.type,
                   .media_type = s.media_type,
                   .content = AsBytes(s.text)};
    Result<PutResult> r = ar.PutRecord(me, req);
    if (!r) return Fail(r.error());
    ids.push_back(r->version.record_id);
    std::printf("  stored %-18s for patient %s: record %s v%lld sha256 %.16s...\n", s.type,
                s.patient, r->version.record_id.c_str(), static_cast<long long>(r->version.version),
                r->version.sha256.c_str());
  }
  const std::string pdf = DemoPdf("Referral letter (demo) - P0001 - scanned at reception");
  const std::string lab =
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"HbA1c\"},"
      "\"subject\":{\"reference\":\"Patient/P0002\"},\"valueQuantity\":{\"value\":6.1,"
      "\"unit\":\"%\"}}\n";
  for (const auto& [patient, type, media, content] :
       {std::tuple{"P0001", "scanned-referral", "application/pdf", &pdf},
        std::tuple{"P0002", "lab-result", "application/fhir+json", &lab}}) {
    PutRequest req{.patient_id = patient,
                   .record_type = type,
                   .media_type = media,
                   .content = AsBytes(*content)};
    Result<PutResult> r = ar.PutRecord(me, req);
    if (!r) return Fail(r.error());
    std::printf("  stored %-18s for patient %s: record %s v1 (%s)\n", type, patient,
                r->version.record_id.c_str(), media);
  }
  // An amendment makes version 2; the original stays readable.
  // The content outlives the request that borrows it.
  const std::string amended =
      std::string(kSamples[0].text) + "Addendum: follow-up chest X-ray in 4 weeks.\n";
  PutRequest amend{.patient_id = "P0001",
                   .record_id = ids[0],
                   .media_type = "text/plain",
                   .content = AsBytes(amended)};
  Result<PutResult> v2 = ar.PutRecord(me, amend);
  if (!v2) return Fail(v2.error());
  std::printf("  amended record %s: now version %lld (version 1 is kept)\n", ids[0].c_str(),
              static_cast<long long>(v2->version.version));
  Result<RecordState> err =
      ar.MarkEnteredInError(me, ids[3], "entered for the wrong patient (demo)");
  if (!err) return Fail(err.error());
  std::printf("  marked record %s entered-in-error (it stays, with the reason)\n", ids[3].c_str());
  if (fresh) {
    // The sanitiser on the way in (docs/sanitize.md): a lab export whose cells a spreadsheet
    // would run is stored disarmed, and a program sent as a "PDF" is refused; both originals
    // wait in quarantine for the security officer (demo user so-kato).
    const std::string csv =
        "test,value,comment\nHbA1c,6.1,\nLDL,142,=HYPERLINK(\"http://example.invalid\")\n";
    PutRequest lab_csv{.patient_id = "P0002",
                       .record_type = "lab-export",
                       .media_type = "text/csv",
                       .content = AsBytes(csv)};
    Result<PutResult> disarmed =
        ar.PutRecord(me, lab_csv, {.channel = "cli", .declared_name = "labs.csv"});
    if (!disarmed) return Fail(disarmed.error().WithContext("demo lab export"));
    std::printf(
        "  stored lab-export for patient P0002 %s by the sanitiser (original kept in "
        "quarantine %s)\n",
        std::string(SanitizeVerdictName(disarmed->sanitize_verdict)).c_str(),
        disarmed->quarantine_id.c_str());
    std::string program(256, '\0');
    program[0] = 'M';
    program[1] = 'Z';
    program[0x3c] = static_cast<char>(0x80);
    program[0x80] = 'P';
    program[0x81] = 'E';
    PutRequest fake_pdf{.patient_id = "P0001",
                        .record_type = "referral-letter",
                        .media_type = "application/pdf",
                        .content = AsBytes(program)};
    Result<PutResult> refused =
        ar.PutRecord(me, fake_pdf, {.channel = "cli", .declared_name = "referral.pdf"});
    if (refused || !IsSanitizerRefusal(refused.error())) {
      return Fail(InternalError("the demo's disguised program was not refused"));
    }
    std::printf("  refused a program disguised as referral.pdf: %s\n",
                refused.error().message().c_str());
  }
  if (fresh) {
    // dr-sato confirms the prescription with her server-side key: CAdES-T, development TSA.
    ConfirmRequest confirm{.record_id = ids[1], .version = 1, .key_passphrase = signing_passphrase};
    Result<ConfirmationView> c = api.ConfirmLocal(me, "dr-sato", confirm);
    if (!c) return Fail(c.error().WithContext("demo confirmation"));
    std::printf("  dr-sato confirmed record %s v1 (%s, timestamp %s, development TSA)\n",
                ids[1].c_str(), c->confirmation.level.c_str(),
                c->confirmation.timestamp_time.c_str());
  }
  Result<ReadResult> read = ar.ReadRecord(me, ids[0], 1);
  if (!read) return Fail(read.error());
  std::printf("  read record %s version 1 back: audited as entry %llu\n", ids[0].c_str(),
              static_cast<unsigned long long>(read->audit_seq));
  Status cp = ar.CheckpointIfDue();
  if (!cp.ok()) return Fail(cp);

  if (!passwords.empty()) {
    std::printf("\nDemo users (one-time passwords, shown only now; fictional people):\n");
    for (const auto& [u, password] : passwords) {
      std::printf("  %-13s %-18s %-19s %s\n", u->id, password.c_str(), u->role, u->note);
    }
    std::printf(
        "  Two-factor login is off in this demo store only; `hokan init` stores require it.\n"
        "  P0003 is labelled vip and nobody cares for it: try break-glass as dr-sato.\n"
        "  dr-sato's signing-key passphrase (server-side signing, POST .../confirm with\n"
        "  {\"key_passphrase\": ...}): %s\n"
        "  The demo PKI and TSA are for trying hokan out: NOT accredited, not HPKI.\n",
        signing_passphrase.c_str());
  } else {
    std::printf("\nThe demo users were made the first time; their passwords were shown then.\n");
  }
  if (!serve) {
    std::printf(
        "\nNext, try:\n"
        "  hokan record history --dir %s --record %s\n"
        "  hokan record get --dir %s --record %s --version 1 --out -\n"
        "  hokan verify --dir %s\n"
        "  hokan audit tail --dir %s\n"
        "  hokan audit proof --dir %s --inclusion 1\n"
        "  hokan demo --dir %s   (serves it on https://localhost:8443)\n",
        dir.c_str(), ids[0].c_str(), dir.c_str(), ids[0].c_str(), dir.c_str(), dir.c_str(),
        dir.c_str(), dir.c_str());
    return 0;
  }
  Result<ServerOptions> options = ServerOptionsFor(env, ar, a->Get("listen", "127.0.0.1"), *port);
  if (!options) return Fail(options.error());
  const unsigned shown_port = static_cast<unsigned>(*port);
  std::printf(
      "\nTry it (self-signed certificate: %s/keys/tls.crt):\n"
      "  curl --cacert %s/keys/tls.crt -c jar -H 'Content-Type: application/json' \\\n"
      "       -d '{\"user_id\":\"dr-sato\",\"password\":\"<from above>\"}' "
      "https://localhost:%u/api/v1/session\n"
      "  curl --cacert %s/keys/tls.crt -b jar https://localhost:%u/api/v1/patients/P0001/records\n"
      "  curl --cacert %s/keys/tls.crt -b jar https://localhost:%u/api/v1/records/%s/content\n"
      "  The API: https://localhost:%u/api/v1/openapi.json (docs/api.md)\n\n",
      dir.c_str(), dir.c_str(), shown_port, dir.c_str(), shown_port, dir.c_str(), shown_port,
      ids[0].c_str(), shown_port);
  std::fflush(stdout);
  return ServeUntilSignal(ar, api, *options);
}

}  // namespace hokan::cli_internal
