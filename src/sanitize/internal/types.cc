#include "sanitize/internal/types.h"

#include <array>
#include <string>

namespace hokan::sanitize_internal {
namespace {

struct TypeRow {
  std::string_view name;
  std::string_view media_type;
  bool executable;
};

constexpr std::string_view kOpenXml = "application/vnd.openxmlformats-officedocument.";

constexpr std::array kTypes = {
    // Documents hokan disarms.
    TypeRow{"pdf", "application/pdf", false},
    TypeRow{"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            false},
    TypeRow{"docm", "application/vnd.ms-word.document.macroEnabled.12", false},
    TypeRow{"dotx", "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
            false},
    TypeRow{"dotm", "application/vnd.ms-word.template.macroEnabled.12", false},
    TypeRow{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false},
    TypeRow{"xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", false},
    TypeRow{"xltx", "application/vnd.openxmlformats-officedocument.spreadsheetml.template", false},
    TypeRow{"xltm", "application/vnd.ms-excel.template.macroEnabled.12", false},
    TypeRow{"xlam", "application/vnd.ms-excel.addin.macroEnabled.12", false},
    TypeRow{"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            false},
    TypeRow{"pptm", "application/vnd.ms-powerpoint.presentation.macroEnabled.12", false},
    TypeRow{"potx", "application/vnd.openxmlformats-officedocument.presentationml.template", false},
    TypeRow{"potm", "application/vnd.ms-powerpoint.template.macroEnabled.12", false},
    TypeRow{"ppsx", "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
            false},
    TypeRow{"ppsm", "application/vnd.ms-powerpoint.slideshow.macroEnabled.12", false},
    TypeRow{"ppam", "application/vnd.ms-powerpoint.addin.macroEnabled.12", false},
    TypeRow{"doc", "application/msword", false},
    TypeRow{"xls", "application/vnd.ms-excel", false},
    TypeRow{"ppt", "application/vnd.ms-powerpoint", false},
    TypeRow{"ole2", "application/x-ole-storage", false},
    TypeRow{"rtf", "application/rtf", false},
    TypeRow{"png", "image/png", false},
    TypeRow{"jpeg", "image/jpeg", false},
    TypeRow{"tiff", "image/tiff", false},
    TypeRow{"text", "text/plain", false},
    TypeRow{"csv", "text/csv", false},
    TypeRow{"tsv", "text/tab-separated-values", false},
    TypeRow{"xml", "application/xml", false},
    TypeRow{"json", "application/json", false},
    TypeRow{"hl7v2", "x-application/hl7-v2+er7", false},
    TypeRow{"dicom", "application/dicom", false},
    TypeRow{"zip", "application/zip", false},
    // Recognised, but not let in: hokan has no disarmer for them (scripts in HTML and SVG).
    TypeRow{"html", "text/html", false},
    TypeRow{"svg", "image/svg+xml", false},
    TypeRow{"ooxml", "application/vnd.openxmlformats-package", false},  // e.g. xlsb
    TypeRow{"odf", "application/vnd.oasis.opendocument", false},        // Basic macros as XML
    // Programs and scripts: always blocked.
    TypeRow{"pe", "application/vnd.microsoft.portable-executable", true},
    TypeRow{"elf", "application/x-executable", true},
    TypeRow{"mach-o", "application/x-mach-binary", true},
    TypeRow{"msi", "application/x-msi", true},
    TypeRow{"lnk", "application/x-ms-shortcut", true},
    TypeRow{"jar", "application/java-archive", true},
    TypeRow{"java-class", "application/java-vm", true},
    TypeRow{"hta", "application/hta", true},
    TypeRow{"script-javascript", "text/javascript", true},
    TypeRow{"script-vbscript", "text/vbscript", true},
    TypeRow{"script-powershell", "text/x-powershell", true},
    TypeRow{"script-batch", "application/x-bat", true},
    TypeRow{"script-shell", "text/x-shellscript", true},
    TypeRow{"script-wsf", "text/xml", true},
    TypeRow{"disk-image", "application/x-raw-disk-image", true},
    TypeRow{"com-eicar", "application/x-msdos-program", true},
    // Anything else is blocked by Sanitize() as unknown, but is not called a program.
    TypeRow{"unknown", "application/octet-stream", false},
};

}  // namespace

DetectedType MakeType(std::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (row.name == name) {
      return DetectedType{std::string(row.name), std::string(row.media_type), "", row.executable};
    }
  }
  return DetectedType{std::string(name), "application/octet-stream", "", false};
}

bool IsOoxmlType(std::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (row.name == name) {
      return row.media_type.starts_with(kOpenXml) ||
             row.media_type.find("macroEnabled.12") != std::string_view::npos;
    }
  }
  return false;
}

}  // namespace hokan::sanitize_internal
