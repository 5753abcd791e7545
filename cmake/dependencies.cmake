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
if(HK_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
# Boost.Beast and Boost.Asio are header-only in Debian's libboost-dev (1.74); only src/http
# includes them, and only in .cc files.
find_package(Boost 1.74 REQUIRED)
