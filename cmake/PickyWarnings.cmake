# A strict warning list, each flag probed so older compilers simply skip what they lack
# (after curl's PickyWarnings.cmake).
include(CheckCCompilerFlag)
set(_scrape_warn_candidates
    -Wall -Wextra -Wshadow -Wpointer-arith -Wwrite-strings -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wdouble-promotion
    -Wimplicit-fallthrough -Wno-unused-parameter)
set(SCRAPE_WARN_FLAGS "")
foreach(_f ${_scrape_warn_candidates})
  string(MAKE_C_IDENTIFIER "HAVE_WARN${_f}" _var)
  check_c_compiler_flag(${_f} ${_var})
  if(${_var})
    list(APPEND SCRAPE_WARN_FLAGS ${_f})
  endif()
endforeach()
if(SCRAPE_WERROR)
  list(APPEND SCRAPE_WARN_FLAGS -Werror)
endif()

function(scrape_picky_warnings target)
  target_compile_options(${target} PRIVATE ${SCRAPE_WARN_FLAGS})
endfunction()
