// The actions the service asks policy about: the rows of the matrix in docs/access-control.md.
// The service names actions with these constants, so a typo is a compile error; the matrix
// must have exactly these rows (ParseMatrix checks it). An action not listed here is denied.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace hokan {

inline constexpr std::string_view kActionPatientRead = "patient.read";
inline constexpr std::string_view kActionPatientCreate = "patient.create";
inline constexpr std::string_view kActionRecordCreate = "record.create";
inline constexpr std::string_view kActionRecordRead = "record.read";
inline constexpr std::string_view kActionRecordHistory = "record.history";
inline constexpr std::string_view kActionRecordMarkError = "record.mark_error";
inline constexpr std::string_view kActionRecordLabel = "record.label";
inline constexpr std::string_view kActionRecordConfirm = "record.confirm";
inline constexpr std::string_view kActionQuarantineRead = "quarantine.read";
inline constexpr std::string_view kActionQuarantineRelease = "quarantine.release";
inline constexpr std::string_view kActionCareManage = "care.manage";
inline constexpr std::string_view kActionBreakGlassDeclare = "breakglass.declare";
inline constexpr std::string_view kActionBreakGlassReview = "breakglass.review";
inline constexpr std::string_view kActionAuditRead = "audit.read";
inline constexpr std::string_view kActionAuditProof = "audit.proof";
inline constexpr std::string_view kActionAuditCheckpoint = "audit.checkpoint";
inline constexpr std::string_view kActionUserRead = "user.read";
inline constexpr std::string_view kActionUserManage = "user.manage";
inline constexpr std::string_view kActionUserResetPassword = "user.reset_password";
inline constexpr std::string_view kActionTokenManage = "token.manage";
inline constexpr std::string_view kActionStoreVerify = "store.verify";
inline constexpr std::string_view kActionMaintenanceTransfer = "maintenance.transfer";
inline constexpr std::string_view kActionBackupStatus = "backup.status";
inline constexpr std::string_view kActionSelf = "self";

inline constexpr std::array<std::string_view, 24> kAllActions = {
    kActionPatientRead,         kActionPatientCreate, kActionRecordCreate,
    kActionRecordRead,          kActionRecordHistory, kActionRecordMarkError,
    kActionRecordLabel,         kActionRecordConfirm, kActionQuarantineRead,
    kActionQuarantineRelease,   kActionCareManage,    kActionBreakGlassDeclare,
    kActionBreakGlassReview,    kActionAuditRead,     kActionAuditProof,
    kActionAuditCheckpoint,     kActionUserRead,      kActionUserManage,
    kActionUserResetPassword,   kActionTokenManage,   kActionStoreVerify,
    kActionMaintenanceTransfer, kActionBackupStatus,  kActionSelf,
};

// The names of kAllActions, in the same order (the document's row order).
const std::vector<std::string>& AllActions();

bool IsKnownAction(std::string_view action);

}  // namespace hokan
