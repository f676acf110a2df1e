# The C API (include/wattprint/wattprint.h, src/capi/), the Fortran module
# over it (src/capi/fortran/), and the installed package: libwattprint.so
# (SONAME libwattprint.so.MAJOR) and libwattprint.a, the C header, the
# Fortran module, a CMake package (find_package(wattprint): the targets
# wattprint::wattprint, wattprint::wattprint_static, wattprint::fortran)
# and pkg-config files (wattprint, wattprint-static, wattprint-fortran).
# The C++ headers are not installed: docs/C_API.md says why.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The header's version macros are the project's: a release that forgets one
# of them fails here.
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include/wattprint/wattprint.h WATTPRINT_H_VERSION
     REGEX "^#define WP_VERSION_(MAJOR|MINOR|PATCH) ")
string(REGEX REPLACE "[^0-9;]*([0-9]+)[^;]*" "\\1" WATTPRINT_H_VERSION "${WATTPRINT_H_VERSION}")
string(REPLACE ";" "." WATTPRINT_H_VERSION "${WATTPRINT_H_VERSION}")
if(NOT WATTPRINT_H_VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/wattprint/wattprint.h says version ${WATTPRINT_H_VERSION}, "
                      "the project ${PROJECT_VERSION}: update WP_VERSION_* in the header")
endif()

add_library(wattprint_capi_objects OBJECT src/capi/capi.cpp src/capi/engine.cpp)
target_include_directories(wattprint_capi_objects PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(wattprint_capi_objects PRIVATE wattprint)
target_compile_definitions(wattprint_capi_objects PRIVATE WATTPRINT_VERSION="${PROJECT_VERSION}")
set_target_properties(wattprint_capi_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)

# Only the wp_* functions are exported; the library's C++ (and the
# libstdc++ template instances it holds) stays local, so it can neither
# clash with a program's own C++ nor become part of the ABI.
set(WATTPRINT_CAPI_MAP ${CMAKE_CURRENT_BINARY_DIR}/wattprint_capi.map)
file(WRITE ${WATTPRINT_CAPI_MAP} "{\n  global:\n    wp_*;\n  local:\n    *;\n};\n")

add_library(wattprint_shared SHARED $<TARGET_OBJECTS:wattprint_capi_objects>)
target_link_libraries(wattprint_shared PRIVATE wattprint)
target_link_options(wattprint_shared PRIVATE -Wl,--version-script=${WATTPRINT_CAPI_MAP} -Wl,--no-undefined)
set_property(TARGET wattprint_shared APPEND PROPERTY LINK_DEPENDS ${WATTPRINT_CAPI_MAP})
target_include_directories(wattprint_shared PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(wattprint_shared PROPERTIES
  OUTPUT_NAME wattprint EXPORT_NAME wattprint
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/capi
  PUBLIC_HEADER ${CMAKE_CURRENT_SOURCE_DIR}/include/wattprint/wattprint.h)

# The static library: the C API and the whole core in one archive (the
# internal libwattprint.a holds the core alone). Its own dependencies are
# the C++ runtime, threads and libdl: fmt, toml++ and nlohmann-json are used
# header-only, and libcurl is dlopen'ed.
add_library(wattprint_static STATIC $<TARGET_OBJECTS:wattprint_capi_objects> $<TARGET_OBJECTS:wattprint>)
target_include_directories(wattprint_static PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(wattprint_static INTERFACE Threads::Threads ${CMAKE_DL_LIBS} stdc++ m)
set_target_properties(wattprint_static PROPERTIES
  OUTPUT_NAME wattprint EXPORT_NAME wattprint_static
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/capi)

set(WATTPRINT_CAPI_TARGETS wattprint_shared wattprint_static)
set(WATTPRINT_FORTRAN OFF)
include(CheckLanguage)
check_language(Fortran)
if(CMAKE_Fortran_COMPILER)
  enable_language(Fortran)
  set(WATTPRINT_FORTRAN ON)
  add_library(wattprint_fortran STATIC src/capi/fortran/wattprint.f90)
  set_target_properties(wattprint_fortran PROPERTIES
    EXPORT_NAME fortran POSITION_INDEPENDENT_CODE ON
    Fortran_MODULE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fortran-modules
    ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/capi)
  target_include_directories(wattprint_fortran PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_BINARY_DIR}/fortran-modules>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/wattprint/fortran>)
  target_link_libraries(wattprint_fortran PUBLIC wattprint_shared)
  list(APPEND WATTPRINT_CAPI_TARGETS wattprint_fortran)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fortran-modules/wattprint.mod
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wattprint/fortran COMPONENT capi)
else()
  message(STATUS "wattprint_fortran: no Fortran compiler found (install gfortran); the Fortran module is not built")
endif()
# Everything that `cmake --install` needs built (scripts/setup.sh builds it).
add_custom_target(wattprint_libraries DEPENDS ${WATTPRINT_CAPI_TARGETS})

# Component `capi` (scripts/setup.sh installs it beside the CLI's).
install(TARGETS ${WATTPRINT_CAPI_TARGETS} EXPORT wattprintTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT capi NAMELINK_COMPONENT capi
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT capi
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wattprint COMPONENT capi)
install(EXPORT wattprintTargets NAMESPACE wattprint:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/wattprint
  COMPONENT capi)
configure_package_config_file(cmake/wattprintConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/wattprintConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/wattprint)
# Same major version: the ABI promise of wattprint.h.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/wattprintConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wattprintConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/wattprintConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/wattprint COMPONENT capi)
foreach(pc wattprint wattprint-static wattprint-fortran)
  if(pc STREQUAL "wattprint-fortran" AND NOT WATTPRINT_FORTRAN)
    continue()
  endif()
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT capi)
endforeach()
