# Package.cmake - `cmake --install` and the Debian package (CPack's DEB generator), included
# from the top CMakeLists.txt.  What is installed (GNUInstallDirs, so /usr/... in the package):
#   bin/scrape                        the binary
#   share/man/man1/scrape.1.gz        scrape(1), generated from the binary's own help by
#                                     scripts/manpage.py (every command and every setting);
#                                     a cross build runs its binary under qemu-user for it
#   share/doc/scrape/                 README.md, docs/, copyright, changelog.gz
# The package: scrape_VERSION_ARCH.deb (DEB-DEFAULT), ARCH from the target (amd64, arm64,
# armhf), Depends from dpkg-shlibdeps (scripts/package.sh sets what a cross build needs).
include(GNUInstallDirs)
find_package(Python3 COMPONENTS Interpreter)
set(SCRAPE_DEB_MAINTAINER "scrape maintainers <scrape-maintainers@example.org>" CACHE STRING
    "the Maintainer field of the Debian package and its changelog")

# The Debian architecture of the target.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|amd64|AMD64)$")
  set(SCRAPE_DEB_ARCH amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(SCRAPE_DEB_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(SCRAPE_DEB_ARCH armhf)
else()
  set(SCRAPE_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

set(_gen ${CMAKE_CURRENT_BINARY_DIR}/generated/package)
if(Python3_FOUND)
  add_custom_command(
    OUTPUT ${_gen}/scrape.1.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_gen}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/manpage.py
            -o ${_gen}/scrape.1.gz -- ${CMAKE_CROSSCOMPILING_EMULATOR} $<TARGET_FILE:scrape>
    DEPENDS scrape ${CMAKE_CURRENT_SOURCE_DIR}/scripts/manpage.py
    COMMENT "scrape(1) from the binary's help" VERBATIM)
  add_custom_target(scrape_man ALL DEPENDS ${_gen}/scrape.1.gz)
  install(FILES ${_gen}/scrape.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# The changelog of a native package, compressed as Debian wants it (no name or time in the
# gzip header: the same bytes from the same tree).
string(TIMESTAMP _date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${_gen}/changelog
     "scrape (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Built from the scrape source tree with CPack (scripts/package.sh).\n\n"
     " -- ${SCRAPE_DEB_MAINTAINER}  ${_date}\n")
if(Python3_FOUND)
  add_custom_command(
    OUTPUT ${_gen}/changelog.gz
    COMMAND ${Python3_EXECUTABLE} -c
            "import gzip,sys;d=open(sys.argv[1],'rb').read();f=open(sys.argv[2],'wb');g=gzip.GzipFile(filename='',mode='wb',fileobj=f,compresslevel=9,mtime=0);g.write(d);g.close();f.close()"
            ${_gen}/changelog ${_gen}/changelog.gz
    DEPENDS ${_gen}/changelog
    COMMENT "changelog.gz" VERBATIM)
  add_custom_target(scrape_changelog ALL DEPENDS ${_gen}/changelog.gz)
  install(FILES ${_gen}/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

install(TARGETS scrape RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES README.md packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(PROGRAMS scripts/pg-setup.sh DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME scrape)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SCRAPE_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SCRAPE_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${SCRAPE_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed web-scraping work queue (MPI + PostgreSQL)")
# The extended description (the synopsis above is its first line in the control file); lines
# under 80 columns, as lintian wants.
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
       "scrape crawls web sites on a home-built or lab cluster (Raspberry Pis,\n"
       "Linux desktops, WSL machines) tied together with MPI.  Rank 0 keeps the\n"
       "frontier in PostgreSQL and enforces politeness for the whole cluster; the\n"
       "other ranks fetch with libcurl, parse with libxml2 and run extraction\n"
       "rules.  Install this package on every node, so that mpiexec finds\n"
       "/usr/bin/scrape at the same path everywhere.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Workers are started by mpiexec (Hydra): MPICH's runtime, not only its library.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "mpich")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql, postgresql-client")
set(CPACK_STRIP_FILES ON)
include(CPack)
