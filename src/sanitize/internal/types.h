// The table of type names hokan knows (docs/sanitize.md lists the same): name, media type,
// whether it is a program or script (always blocked).
#pragma once

#include <string_view>

#include "sanitize/sanitize.h"

namespace hokan::sanitize_internal {

// The DetectedType for a known name, with `description` empty; an unknown name gives
// {name, "application/octet-stream"}.
DetectedType MakeType(std::string_view name);

// True for OOXML type names (docx, docm, dotx, dotm, xlsx, xlsm, xltx, xltm, xlam, pptx, pptm,
// potx, potm, ppsx, ppsm, ppam).
bool IsOoxmlType(std::string_view name);

}  // namespace hokan::sanitize_internal
