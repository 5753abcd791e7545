#include "signature/evidence.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "signature/internal/cms.h"
#include "signature/internal/der.h"
#include "signature/internal/report_json.h"

namespace hokan {
namespace {

using signature_internal::Children;
using signature_internal::Concat;
using signature_internal::Element;
using signature_internal::IsContext;
using signature_internal::IsUniversal;
using signature_internal::OidText;
using signature_internal::OnlyElement;
using signature_internal::Tlv;

constexpr char kSha256Oid[] = "2.16.840.1.101.3.4.2.1";
constexpr int kSequence = 16;
constexpr int kInteger = 2;
constexpr int kOctetString = 4;
constexpr int kObject = 6;
// Bounds for hostile input: a reduced tree over 2^64 leaves has 64 levels.
constexpr std::size_t kMaxLevels = 80;
constexpr std::size_t kMaxListHashes = 1024;
constexpr std::size_t kMaxArchiveTimestamps = 256;

Sha256Digest HashSorted(std::vector<Sha256Digest> list) {
  std::sort(list.begin(), list.end());
  Sha256Hasher h;
  for (const Sha256Digest& d : list) h.Update(d);
  return h.Finish();
}

Bytes Sha256AlgorithmContent() {
  // AlgorithmIdentifier's content: the OID, parameters absent (RFC 5754).
  return *signature_internal::OidDer(kSha256Oid);
}

Bytes EncodeTree(const ReducedHashtree& tree) {
  std::vector<Bytes> lists;
  lists.reserve(tree.size());
  for (const auto& list : tree) {
    std::vector<Bytes> hashes;
    hashes.reserve(list.size());
    for (const Sha256Digest& d : list) hashes.push_back(Tlv(0x04, d));
    lists.push_back(Tlv(0x30, Concat(hashes)));
  }
  return Concat(lists);
}

// ArchiveTimeStamp ::= SEQUENCE { digestAlgorithm [0] IMPLICIT AlgorithmIdentifier,
//   reducedHashtree [2] IMPLICIT SEQUENCE OF PartialHashtree OPTIONAL, timeStamp ContentInfo }
Bytes EncodeArchiveTimestamp(const ReducedHashtree& tree, ByteView token) {
  std::vector<Bytes> parts = {Tlv(0xa0, Sha256AlgorithmContent())};
  if (!tree.empty()) parts.push_back(Tlv(0xa2, EncodeTree(tree)));
  parts.emplace_back(token.begin(), token.end());
  return Tlv(0x30, Concat(parts));
}

Bytes EncodeRecord(const std::vector<std::vector<Bytes>>& chains) {
  std::vector<Bytes> encoded_chains;
  encoded_chains.reserve(chains.size());
  for (const auto& chain : chains) encoded_chains.push_back(Tlv(0x30, Concat(chain)));
  const Bytes version = Tlv(0x02, Bytes{0x01});
  const Bytes algorithms = Tlv(0x30, Tlv(0x30, Sha256AlgorithmContent()));
  return Tlv(0x30, Concat({version, algorithms, Tlv(0x30, Concat(encoded_chains))}));
}

struct ParsedAts {
  Bytes whole;           // DER of the ArchiveTimeStamp.
  Bytes timestamp;       // DER of its timeStamp (ContentInfo).
  ReducedHashtree tree;  // Empty when absent.
};

struct ParsedRecord {
  std::vector<std::vector<ParsedAts>> chains;
};

Status Bad(const std::string& what) {
  return InvalidArgumentError("not an RFC 4998 evidence record: " + what);
}

Status CheckSha256Algorithm(const Element& alg_content_holder) {
  // Both the universal SEQUENCE and the [0] IMPLICIT form hold: OID [parameters].
  std::vector<Element> parts;
  if (!Children(alg_content_holder, parts) || parts.empty() || !IsUniversal(parts[0], kObject)) {
    return Bad("malformed algorithm identifier");
  }
  if (OidText(parts[0]) != kSha256Oid) {
    return InvalidArgumentError("the evidence record uses a digest algorithm other than SHA-256");
  }
  return OkStatus();
}

Result<ReducedHashtree> ParseTree(const Element& e) {
  std::vector<Element> lists;
  if (!Children(e, lists) || lists.size() > kMaxLevels) return Bad("malformed reduced hash tree");
  ReducedHashtree tree;
  for (const Element& list : lists) {
    std::vector<Element> hashes;
    if (!IsUniversal(list, kSequence) || !Children(list, hashes) || hashes.empty() ||
        hashes.size() > kMaxListHashes) {
      return Bad("malformed partial hash tree");
    }
    std::vector<Sha256Digest> out;
    for (const Element& h : hashes) {
      if (!IsUniversal(h, kOctetString) || h.length != 32) return Bad("a hash is not SHA-256");
      Sha256Digest d;
      std::copy(h.content, h.content + 32, d.begin());
      out.push_back(d);
    }
    tree.push_back(std::move(out));
  }
  return tree;
}

Result<ParsedRecord> Parse(ByteView der) {
  if (der.size() > (64U << 20)) return Bad("too large");
  Element record;
  std::vector<Element> fields;
  if (!OnlyElement(der, record) || !IsUniversal(record, kSequence) || !Children(record, fields) ||
      fields.size() < 3) {
    return Bad("not a SEQUENCE of version, algorithms and timestamps");
  }
  if (!IsUniversal(fields[0], kInteger) || fields[0].length != 1 || fields[0].content[0] != 1) {
    return Bad("version is not 1");
  }
  std::vector<Element> algorithms;
  if (!IsUniversal(fields[1], kSequence) || !Children(fields[1], algorithms) ||
      algorithms.empty()) {
    return Bad("no digest algorithms");
  }
  for (const Element& a : algorithms) {
    if (!IsUniversal(a, kSequence)) return Bad("malformed algorithm identifier");
    HK_RETURN_IF_ERROR(CheckSha256Algorithm(a));
  }
  const Element& sequence = fields.back();
  for (std::size_t i = 2; i + 1 < fields.size(); ++i) {
    if (IsContext(fields[i], 1)) {
      return InvalidArgumentError("encrypted evidence records are not supported");
    }
    if (!IsContext(fields[i], 0)) return Bad("unexpected field");  // [0] cryptoInfos: hints.
  }
  std::vector<Element> chains;
  if (!IsUniversal(sequence, kSequence) || !Children(sequence, chains) || chains.empty()) {
    return Bad("no archive timestamp chain");
  }
  ParsedRecord out;
  std::size_t total = 0;
  for (const Element& chain : chains) {
    std::vector<Element> stamps;
    if (!IsUniversal(chain, kSequence) || !Children(chain, stamps) || stamps.empty()) {
      return Bad("an empty archive timestamp chain");
    }
    std::vector<ParsedAts> parsed;
    for (const Element& ats : stamps) {
      if (++total > kMaxArchiveTimestamps) return Bad("too many archive timestamps");
      std::vector<Element> parts;
      if (!IsUniversal(ats, kSequence) || !Children(ats, parts) || parts.empty()) {
        return Bad("malformed archive timestamp");
      }
      ParsedAts a;
      a.whole.assign(ats.whole().begin(), ats.whole().end());
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (IsContext(parts[i], 0)) {
          HK_RETURN_IF_ERROR(CheckSha256Algorithm(parts[i]));
        } else if (IsContext(parts[i], 2)) {
          HK_ASSIGN_OR_RETURN(a.tree, ParseTree(parts[i]));
        } else if (!IsContext(parts[i], 1)) {  // [1] attributes: not used by hokan.
          return Bad("unexpected field in an archive timestamp");
        }
      }
      const Element& ts = parts.back();
      if (!IsUniversal(ts, kSequence)) return Bad("the timeStamp is not a ContentInfo");
      a.timestamp.assign(ts.whole().begin(), ts.whole().end());
      parsed.push_back(std::move(a));
    }
    out.chains.push_back(std::move(parsed));
  }
  return out;
}

Result<TimePoint> NotAfterOf(const TimestampVerification& v) {
  if (v.tsa_chain.empty()) return InvalidArgumentError("no TSA certificate");
  return ParseRfc3339(v.tsa_chain.front().certificate.not_after);
}

}  // namespace

Result<Bytes> CollectValidationData(ByteView cms_der, const SignatureVerifyOptions& options) {
  HK_ASSIGN_OR_RETURN(SignatureReport report, VerifyCades(cms_der, std::nullopt, options));
  if (!report.valid) {
    return FailedPreconditionError("the signature does not validate: " + report.reason);
  }
  // Every certificate and CRL the verification could have used, then those on the paths.
  std::vector<Bytes> pool = options.trust_anchors;
  pool.insert(pool.end(), options.intermediates.begin(), options.intermediates.end());
  pool.insert(pool.end(), options.timestamp.trust_anchors.begin(),
              options.timestamp.trust_anchors.end());
  pool.insert(pool.end(), options.timestamp.intermediates.begin(),
              options.timestamp.intermediates.end());
  HK_ASSIGN_OR_RETURN(std::vector<Bytes> embedded,
                      signature_internal::EmbeddedCertificates(cms_der));
  pool.insert(pool.end(), embedded.begin(), embedded.end());
  std::vector<std::string> wanted;
  for (const CertificateStatus& c : report.chain) wanted.push_back(c.certificate.sha256);
  if (report.timestamp) {
    for (const CertificateStatus& c : report.timestamp->tsa_chain) {
      wanted.push_back(c.certificate.sha256);
    }
  }
  std::vector<Bytes> crl_pool = options.crls;
  crl_pool.insert(crl_pool.end(), options.timestamp.crls.begin(), options.timestamp.crls.end());
  HK_ASSIGN_OR_RETURN(ValidationData data,
                      signature_internal::SelectValidationData(pool, wanted, crl_pool));
  std::vector<Bytes> certs;
  for (const Bytes& c : data.certificates) certs.push_back(c);
  std::vector<Bytes> crls;
  for (const Bytes& c : data.crls) crls.push_back(c);
  return Tlv(0x30, Concat({Tlv(0xa0, Concat(certs)), Tlv(0xa1, Concat(crls))}));
}

Result<ValidationData> ReadValidationData(ByteView der) {
  Element all;
  std::vector<Element> parts;
  if (!OnlyElement(der, all) || !IsUniversal(all, kSequence) || !Children(all, parts) ||
      parts.size() != 2 || !IsContext(parts[0], 0) || !IsContext(parts[1], 1)) {
    return InvalidArgumentError("malformed validation data");
  }
  ValidationData out;
  std::vector<Element> certs;
  std::vector<Element> crls;
  if (!Children(parts[0], certs) || !Children(parts[1], crls)) {
    return InvalidArgumentError("malformed validation data");
  }
  for (const Element& c : certs) out.certificates.emplace_back(c.whole().begin(), c.whole().end());
  for (const Element& c : crls) out.crls.emplace_back(c.whole().begin(), c.whole().end());
  return out;
}

Result<HashTreeBatch> BuildHashTree(const std::vector<std::vector<Sha256Digest>>& groups) {
  if (groups.empty()) return InvalidArgumentError("a hash tree needs at least one group");
  HashTreeBatch out;
  out.reduced.resize(groups.size());
  // Each level: the node hashes, and for each node the groups below it.
  std::vector<Sha256Digest> level;
  std::vector<std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].empty()) return InvalidArgumentError("a data object group has no hash");
    std::vector<Sha256Digest> sorted = groups[i];
    std::sort(sorted.begin(), sorted.end());
    out.reduced[i].push_back(sorted);
    level.push_back(HashSorted(sorted));
    members.push_back({i});
  }
  while (level.size() > 1) {
    std::vector<Sha256Digest> next;
    std::vector<std::vector<std::size_t>> next_members;
    for (std::size_t i = 0; i < level.size(); i += 2) {
      if (i + 1 == level.size()) {  // Unpaired: moves up unchanged, no list at this level.
        next.push_back(level[i]);
        next_members.push_back(members[i]);
        continue;
      }
      for (std::size_t g : members[i]) out.reduced[g].push_back({level[i + 1]});
      for (std::size_t g : members[i + 1]) out.reduced[g].push_back({level[i]});
      next.push_back(HashSorted({level[i], level[i + 1]}));
      std::vector<std::size_t> both = members[i];
      both.insert(both.end(), members[i + 1].begin(), members[i + 1].end());
      next_members.push_back(std::move(both));
    }
    level = std::move(next);
    members = std::move(next_members);
  }
  out.root = level.front();
  return out;
}

Result<Sha256Digest> HashtreeRoot(const ReducedHashtree& tree,
                                  const std::vector<Sha256Digest>& group) {
  if (tree.empty()) return InvalidArgumentError("the reduced hash tree is empty");
  for (const Sha256Digest& d : group) {
    if (std::find(tree[0].begin(), tree[0].end(), d) == tree[0].end()) {
      return InvalidArgumentError("a hash of the data is not in the evidence's hash tree");
    }
  }
  Sha256Digest h = HashSorted(tree[0]);
  for (std::size_t i = 1; i < tree.size(); ++i) {
    std::vector<Sha256Digest> list = tree[i];
    list.push_back(h);
    h = HashSorted(std::move(list));
  }
  return h;
}

Result<Bytes> MakeEvidenceRecord(const ReducedHashtree& tree, ByteView timestamp_token) {
  if (tree.empty()) return InvalidArgumentError("an evidence record needs a hash tree");
  return EncodeRecord({{EncodeArchiveTimestamp(tree, timestamp_token)}});
}

Result<Sha256Digest> RenewalDigest(ByteView evidence_record) {
  HK_ASSIGN_OR_RETURN(ParsedRecord r, Parse(evidence_record));
  return Sha256(r.chains.back().back().timestamp);
}

Result<Bytes> RenewEvidenceRecord(ByteView evidence_record, const ReducedHashtree& tree,
                                  ByteView token) {
  HK_ASSIGN_OR_RETURN(ParsedRecord r, Parse(evidence_record));
  std::vector<std::vector<Bytes>> chains;
  for (const auto& chain : r.chains) {
    std::vector<Bytes> encoded;
    encoded.reserve(chain.size());
    for (const ParsedAts& a : chain) encoded.push_back(a.whole);
    chains.push_back(std::move(encoded));
  }
  chains.back().push_back(EncodeArchiveTimestamp(tree, token));
  return EncodeRecord(chains);
}

Result<EvidenceVerification> VerifyEvidenceRecord(ByteView evidence_record,
                                                  const std::vector<Sha256Digest>& group,
                                                  const TimestampVerifyOptions& options) {
  HK_ASSIGN_OR_RETURN(ParsedRecord r, Parse(evidence_record));
  EvidenceVerification v;
  v.chains = static_cast<int>(r.chains.size());
  if (r.chains.size() > 1) {
    v.reason = "hash-tree renewal (more than one archive timestamp chain) is not supported yet";
    return v;
  }
  const std::vector<ParsedAts>& chain = r.chains.front();
  const ParsedAts* previous = nullptr;
  v.hashes_match = true;
  for (const ParsedAts& a : chain) {
    ArchiveTimestampReport report;
    // What this archive timestamp covers: the group (first) or the previous timestamp.
    const std::vector<Sha256Digest> covered =
        previous == nullptr ? group : std::vector<Sha256Digest>{Sha256(previous->timestamp)};
    Result<Sha256Digest> root =
        a.tree.empty()
            ? (covered.size() == 1
                   ? Result<Sha256Digest>(covered[0])
                   : Result<Sha256Digest>(InvalidArgumentError("a group needs a hash tree")))
            : HashtreeRoot(a.tree, covered);
    auto ts = root.has_value() ? VerifyTimestampDigest(a.timestamp, *root, options)
                               : Result<TimestampVerification>(root.error());
    if (ts.has_value()) {
      report.timestamp = std::move(*ts);
    } else {
      report.timestamp.reason = ts.error().message();
    }
    v.hashes_match &= root.has_value() && report.timestamp.hash_algorithm == "sha256" &&
                      report.timestamp.message_imprint == HexEncode(*root);
    const std::size_t n = v.archive_timestamps.size();
    if (v.reason.empty()) {
      const std::string which = "archive timestamp " + std::to_string(n + 1);
      if (!root.has_value()) {
        v.reason = which + ": " + root.error().message();
      } else if (!report.timestamp.valid) {
        v.reason = which + " is not valid: " + report.timestamp.reason;
      } else if (n > 0) {
        // A renewal counts only if it was made while the previous TSA certificate was valid.
        Result<TimePoint> expiry = NotAfterOf(v.archive_timestamps.back().timestamp);
        if (!expiry.has_value() || report.timestamp.gen_time_point > *expiry) {
          v.reason = which + " was made after the previous TSA certificate had expired";
        }
      }
    }
    v.archive_timestamps.push_back(std::move(report));
    previous = &a;
  }
  v.first_time = v.archive_timestamps.front().timestamp.gen_time;
  const TimestampVerification& last = v.archive_timestamps.back().timestamp;
  if (!last.tsa_chain.empty())
    v.latest_tsa_not_after = last.tsa_chain.front().certificate.not_after;
  v.valid = v.reason.empty();
  return v;
}

std::string EvidenceVerificationJson(const EvidenceVerification& v) {
  nlohmann::ordered_json stamps = nlohmann::ordered_json::array();
  for (const ArchiveTimestampReport& a : v.archive_timestamps) {
    nlohmann::ordered_json t =
        nlohmann::ordered_json::parse(TimestampVerificationJson(a.timestamp));
    stamps.push_back(std::move(t));
  }
  nlohmann::ordered_json j = {{"kind", "evidence-record"},
                              {"valid", v.valid},
                              {"reason", v.reason},
                              {"hashes_match", v.hashes_match},
                              {"chains", v.chains},
                              {"first_time", v.first_time},
                              {"latest_tsa_not_after", v.latest_tsa_not_after},
                              {"archive_timestamps", std::move(stamps)}};
  return signature_internal::Dump(j);
}

}  // namespace hokan
