# Idn.cmake - libidn2, which common/url.c calls to turn international host names into punycode.
#
# libcurl is built with IDN here, but its CURLU_PUNYCODE goes through idn2_lookup_ul(), which
# reads the process locale: under the "C" locale every non-ASCII host fails ("out of memory"),
# and setlocale() is process-wide and not thread-safe.  url.c therefore calls the
# locale-independent idn2_lookup_u8() itself and must link libidn2 directly (linking through
# libcurl's own dependency does not work with --as-needed / --no-copy-dt-needed-entries).
#
# Use from the top-level CMakeLists.txt, after add_library(scrapecore ...):
#   include(Idn)
# It links libidn2 into scrapecore, so every test and the binary get it.
pkg_check_modules(LIBIDN2 REQUIRED IMPORTED_TARGET libidn2)
if(NOT TARGET scrapecore)
  message(FATAL_ERROR "include(Idn) after add_library(scrapecore ...)")
endif()
target_link_libraries(scrapecore PUBLIC PkgConfig::LIBIDN2)
