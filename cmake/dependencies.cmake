# Third-party code comes only from Debian packages, found here (one place).
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus 3.3 REQUIRED)
find_package(Threads REQUIRED)
# libsodium (Argon2id) ships a pkg-config file, not a CMake package.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Sodium REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
# xmlsec1 with its OpenSSL back end (XAdES verification in src/signature; its tests build
# fixtures with it too).
pkg_check_modules(XmlSec REQUIRED IMPORTED_TARGET GLOBAL xmlsec1-openssl>=1.2.33)
# Content disarm (src/sanitize): libmagic for types by content, qpdf for PDF, libzip for zip and
# OOXML, libgsf for OLE2 compound files, libpng/libjpeg/libtiff to re-encode images, libclamav
# for the optional malware scan.
pkg_check_modules(Magic REQUIRED IMPORTED_TARGET GLOBAL libmagic>=5.40)
pkg_check_modules(Qpdf REQUIRED IMPORTED_TARGET GLOBAL libqpdf>=11.0)
pkg_check_modules(Zip REQUIRED IMPORTED_TARGET GLOBAL libzip>=1.7)
# libxml2 parses OOXML parts (content types, relationships, the parts repaired).
pkg_check_modules(Xml2 REQUIRED IMPORTED_TARGET GLOBAL libxml-2.0>=2.9)
pkg_check_modules(Gsf REQUIRED IMPORTED_TARGET GLOBAL libgsf-1>=1.14.40)
pkg_check_modules(Png REQUIRED IMPORTED_TARGET GLOBAL libpng>=1.6)
pkg_check_modules(Jpeg REQUIRED IMPORTED_TARGET GLOBAL libjpeg>=2.0)
pkg_check_modules(Tiff REQUIRED IMPORTED_TARGET GLOBAL libtiff-4>=4.2)
pkg_check_modules(Clamav REQUIRED IMPORTED_TARGET GLOBAL libclamav>=1.0)
if(HK_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
# Boost.Beast and Boost.Asio are header-only in Debian's libboost-dev (1.74); only src/http
# includes them, and only in .cc files.
find_package(Boost 1.74 REQUIRED)
