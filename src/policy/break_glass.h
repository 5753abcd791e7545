// Declaring emergency access (break-glass, G-6.10-C4a/C4b): a clinician without a care
// relationship gets time-limited `care` access to one patient, with a reason on record.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "base/status.h"
#include "base/time.h"
#include "policy/policy.h"

namespace hokan {

inline constexpr std::size_t kMinBreakGlassReason = 10;    // Characters (code points) ...
inline constexpr std::size_t kMaxBreakGlassReason = 1000;  // ... after trimming white space.

// A grant for `subject` and `patient_id` from `now` for `duration`, with an empty id (the
// service assigns one when it stores the grant, and audits the declaration with the rule of
// the Decision for breakglass.declare). Errors:
//  - kPermissionDenied: Decide(subject, "breakglass.declare", patient) denies it (no clinical
//    role, restricted session, expired account, ...), or the request came with an API token;
//  - kInvalidArgument: empty patient id; a reason that is not valid UTF-8 text (no control
//    characters except newline and tab) of 10..1000 characters after trimming; a duration
//    that is not positive or is longer than 4 hours.
// The reason is kept verbatim (trimmed) and never appears in an error message.
Result<BreakGlassGrant> NewBreakGlassGrant(
    const Subject& subject, std::string_view patient_id, std::string_view reason, TimePoint now,
    std::chrono::seconds duration = kDefaultBreakGlassDuration);

}  // namespace hokan
