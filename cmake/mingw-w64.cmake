# Toolchain file: cross-compile uniws (and its dependencies) for 64-bit Windows with
# Debian's mingw-w64 (x86_64-w64-mingw32). Use: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
# Programs built with it run here under wine (scripts/test-windows.sh).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(UNIWS_MINGW_TRIPLE x86_64-w64-mingw32)
# The posix thread model variant of gcc is installed as ...-gcc-posix; the plain name picks
# Debian's default (win32 thread model), which is all uniws needs (it uses the Win32 API).
set(CMAKE_C_COMPILER ${UNIWS_MINGW_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${UNIWS_MINGW_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${UNIWS_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${UNIWS_MINGW_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${UNIWS_MINGW_TRIPLE}-ranlib CACHE FILEPATH "")

# Libraries and headers come from the mingw sysroot (and from any prefix a dependency
# build adds to CMAKE_FIND_ROOT_PATH / CMAKE_PREFIX_PATH); programs from the host.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${UNIWS_MINGW_TRIPLE} ${CMAKE_PREFIX_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must see the Windows libraries only, never the host's .pc files
# (else the host's libcurl or libwebsockets would be picked): the mingw sysroot
# plus lib/pkgconfig of every CMAKE_PREFIX_PATH entry (e.g. the cross-built
# dependencies of scripts/windows-deps.sh).
set(_uniws_pc /usr/${UNIWS_MINGW_TRIPLE}/lib/pkgconfig)
foreach(_p ${CMAKE_PREFIX_PATH})
  list(PREPEND _uniws_pc ${_p}/lib/pkgconfig)
endforeach()
string(REPLACE ";" ":" _uniws_pc "${_uniws_pc}")
set(ENV{PKG_CONFIG_LIBDIR} "${_uniws_pc}")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Test programs built for Windows run through wine when ctest or CMake needs
# to run them, by way of scripts/wine-run.sh (output through a file: see there).
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  get_filename_component(_uniws_root ${CMAKE_CURRENT_LIST_DIR} DIRECTORY)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_uniws_root}/scripts/wine-run.sh)
endif()
