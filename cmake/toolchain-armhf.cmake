# toolchain-armhf.cmake - 32-bit Raspberry Pi OS / Debian armhf, built on amd64 Debian 12.
# Use through scripts/cross-build.sh armhf (it installs and prepares the sysroot).
set(SCRAPE_CROSS_TRIPLET arm-linux-gnueabihf)
set(SCRAPE_CROSS_PROCESSOR arm)
set(SCRAPE_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/CrossToolchain.cmake)
