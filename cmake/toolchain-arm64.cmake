# toolchain-arm64.cmake - 64-bit Raspberry Pi OS / Debian arm64, built on amd64 Debian 12.
# Use through scripts/cross-build.sh arm64 (it installs and prepares the sysroot).
set(SCRAPE_CROSS_TRIPLET aarch64-linux-gnu)
set(SCRAPE_CROSS_PROCESSOR aarch64)
set(SCRAPE_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/CrossToolchain.cmake)
