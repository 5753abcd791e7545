// `hokan demo`: a store with fictional sample records, so a newcomer sees what hokan keeps.
#include <cstdio>

#include "cli/cli.h"
#include "service/archive.h"

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

}  // namespace

int RunDemo(Env& env, std::span<const std::string_view> args) {
  Result<Args> a = Args::Parse(args, {"dir"});
  if (!a) return Fail(a.error());
  const std::string dir = a->Get("dir", "hokan-demo");
  const Actor me{LocalActorId(), "cli"};
  if (!env.fs.Stat(JoinPath(dir, "hokan.toml"))) {
    Result<InitResult> init = Archive::Init(env, dir, me);
    if (!init) return Fail(init.error().WithContext("demo"));
    std::printf("Created a new store in %s (store id %s)\n", dir.c_str(), init->store_id.c_str());
  } else {
    std::printf("Using the existing store in %s\n", dir.c_str());
  }
  Result<std::unique_ptr<Archive>> archive = Archive::Open(env, dir);
  if (!archive) return Fail(archive.error());
  Archive& ar = **archive;

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
  Result<ReadResult> read = ar.ReadRecord(me, ids[0], 1);
  if (!read) return Fail(read.error());
  std::printf("  read record %s version 1 back: audited as entry %llu\n", ids[0].c_str(),
              static_cast<unsigned long long>(read->audit_seq));
  Status cp = ar.CheckpointIfDue();
  if (!cp.ok()) return Fail(cp);

  std::printf(
      "\nNext, try:\n"
      "  hokan record history --dir %s --record %s\n"
      "  hokan record get --dir %s --record %s --version 1 --out -\n"
      "  hokan verify --dir %s\n"
      "  hokan audit tail --dir %s\n"
      "  hokan audit proof --dir %s --inclusion 1\n",
      dir.c_str(), ids[0].c_str(), dir.c_str(), ids[0].c_str(), dir.c_str(), dir.c_str(),
      dir.c_str());
  return 0;
}

}  // namespace hokan::cli_internal
