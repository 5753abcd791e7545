// The permission matrix block of docs/access-control.md, embedded at build time by
// tools/embed_matrix.py (the generated matrix_markdown.cc lives in the build directory).
#pragma once

#include <string_view>

namespace hokan::policy_internal {

// From the `<!-- matrix:begin -->` line to the `<!-- matrix:end -->` line, both included.
extern const std::string_view kMatrixMarkdown;
// The document line number of the begin marker, so parse errors name lines of the document.
extern const int kMatrixFirstLine;

}  // namespace hokan::policy_internal
