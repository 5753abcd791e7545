# Third-party code comes only from Debian packages, found here (one place).
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus 3.3 REQUIRED)
find_package(Threads REQUIRED)
if(HK_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
