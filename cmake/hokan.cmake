# Build helpers shared by every module (STYLE.md rule 19).

# -Wno-missing-field-initializers: designated initialisers name only what differs (STYLE 11).
set(HK_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wswitch-enum -Werror
    -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  list(APPEND HK_WARNINGS -Wthread-safety)
endif()

# hk_library(NAME <module> SRCS <files...> DEPS <targets...> [PRIVATE_DEPS <targets...>])
# One static library per folder under src/, used as hokan::<module>.
function(hk_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(hk_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(hokan::${ARG_NAME} ALIAS hk_${ARG_NAME})
  target_include_directories(hk_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(hk_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_features(hk_${ARG_NAME} PUBLIC cxx_std_20)
  target_compile_options(hk_${ARG_NAME} PRIVATE ${HK_WARNINGS})
endfunction()

# hk_tests(NAME <module> DEPS <targets...>)
# Every *_test.cc in the folder goes into one test binary, so a test file cannot exist
# without running.
function(hk_tests)
  if(NOT HK_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME" "DEPS" ${ARGN})
  file(GLOB test_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc
       ${CMAKE_CURRENT_SOURCE_DIR}/internal/*_test.cc)
  if(NOT test_srcs)
    return()
  endif()
  add_executable(hk_${ARG_NAME}_test ${test_srcs})
  target_link_libraries(hk_${ARG_NAME}_test PRIVATE hokan::${ARG_NAME} hokan::testing
                        ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(hk_${ARG_NAME}_test PRIVATE ${HK_WARNINGS})
  gtest_discover_tests(hk_${ARG_NAME}_test TEST_PREFIX "${ARG_NAME}." DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "HK_TEST_TMPDIR=${CMAKE_BINARY_DIR}/test-tmp")
endfunction()
