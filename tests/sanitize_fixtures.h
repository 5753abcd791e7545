// Files the sanitiser must refuse or disarm, shared by the end-to-end tests.
#pragma once

#include <string>

namespace hokan::testing {

// A minimal Windows program: the DOS header's e_lfanew points at "PE\0\0".
inline std::string MinimalPe() {
  std::string pe(256, '\0');
  pe[0] = 'M';
  pe[1] = 'Z';
  pe[0x3c] = static_cast<char>(0x80);
  pe[0x80] = 'P';
  pe[0x81] = 'E';
  return pe;
}

// A DICOM file whose 128-byte preamble holds a Windows program header (CVE-2019-11687).
inline std::string DicomPolyglot() {
  std::string dicom = MinimalPe().substr(0, 128) + "DICM";
  for (int i = 0; i < 64; ++i) dicom.push_back(static_cast<char>(i));
  return dicom;
}

}  // namespace hokan::testing
