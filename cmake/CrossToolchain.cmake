# CrossToolchain.cmake - the common part of cmake/toolchain-arm64.cmake and
# cmake/toolchain-armhf.cmake, which set SCRAPE_CROSS_TRIPLET, SCRAPE_CROSS_PROCESSOR and
# SCRAPE_CROSS_QEMU and include this file.  scripts/cross-build.sh prepares what it points at:
#   SCRAPE_SYSROOT          the foreign -dev packages extracted (headers, libNAME.so links into
#                           /usr/lib/TRIPLET, where multiarch installed the runtime libraries)
#   SCRAPE_SYSROOT/../pkgconfig   copies of their .pc files, pointing into SCRAPE_SYSROOT
# The compiler is Debian's cross gcc; its own libc headers and libraries come first.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SCRAPE_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${SCRAPE_CROSS_TRIPLET}-gcc)

# try_compile projects read this file again: pass the sysroot on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SCRAPE_SYSROOT)
if(NOT SCRAPE_SYSROOT)
  message(FATAL_ERROR "SCRAPE_SYSROOT is not set: build with scripts/cross-build.sh ARCH")
endif()
set(_multiarch_lib /usr/lib/${SCRAPE_CROSS_TRIPLET})

# Foreign library headers after the compiler's own (-idirafter), as system headers.
set(CMAKE_C_FLAGS_INIT
    "-idirafter ${SCRAPE_SYSROOT}/usr/include/${SCRAPE_CROSS_TRIPLET} -idirafter ${SCRAPE_SYSROOT}/usr/include")
set(_link "-L${SCRAPE_SYSROOT}${_multiarch_lib} -Wl,-rpath-link,${_multiarch_lib} -Wl,-rpath-link,/lib/${SCRAPE_CROSS_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_link}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_link}")

# Libraries, headers and packages from the sysroot only; programs (git, python3) from this machine.
set(CMAKE_FIND_ROOT_PATH ${SCRAPE_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the sysroot's .pc copies (cmake re-reads this file when it re-configures).
get_filename_component(_pcdir ${SCRAPE_SYSROOT}/../pkgconfig ABSOLUTE)
set(ENV{PKG_CONFIG_LIBDIR} ${_pcdir})
set(ENV{PKG_CONFIG_PATH} "")
unset(ENV{PKG_CONFIG_SYSROOT_DIR})

# FindMPI: the sysroot's MPICH, not this machine's mpicc (which would give amd64 flags).
set(MPI_SKIP_COMPILER_WRAPPER ON CACHE BOOL "cross build: no mpicc" FORCE)
set(MPI_C_LIB_NAMES mpich CACHE STRING "")
set(MPI_mpich_LIBRARY ${SCRAPE_SYSROOT}${_multiarch_lib}/libmpich.so CACHE FILEPATH "")
set(MPI_C_HEADER_DIR ${SCRAPE_SYSROOT}/usr/include/${SCRAPE_CROSS_TRIPLET}/mpich CACHE PATH "")

# CTest runs every add_test(... COMMAND <target>) through qemu-user, with the foreign libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${SCRAPE_CROSS_QEMU} -E LD_LIBRARY_PATH=${_multiarch_lib}:/lib/${SCRAPE_CROSS_TRIPLET})
