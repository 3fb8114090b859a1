# Writes generated/common/version.h from common/version.h.in with the current build id
# (git describe of the source tree, "-dirty" when it has local changes).  Run at build time.
set(SCRAPE_BUILD_ID "unknown")
if(GIT AND EXISTS ${SRC}/.git)
  execute_process(COMMAND ${GIT} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${SRC}
                  OUTPUT_VARIABLE SCRAPE_BUILD_ID OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT SCRAPE_BUILD_ID)
    set(SCRAPE_BUILD_ID "unknown")
  endif()
endif()
set(PROJECT_VERSION ${VERSION})
configure_file(${SRC}/common/version.h.in ${OUT}.tmp @ONLY)
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
