# What `cmake --install` puts in place (README, "Installing and embedding"):
#   lib/libnomos.so*                       the library (C++ and C API)
#   include/nomos.h, include/nomos/*.h     the C API, the C++ API, the ABI
#   bin/nomos                              the CLI
#   share/nomos/sdk/{cmake,include,src,examples}
#                                          the guest SDK, laid out as in sdk/
#                                          so NomosGuest.cmake finds its files
#   lib/cmake/nomos/                       find_package(nomos): nomos::nomos
#   lib/pkgconfig/nomos.pc                 pkg-config
include(CMakePackageConfigHelpers)

set(NOMOS_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/nomos)
set(NOMOS_INSTALL_SDKDIR ${CMAKE_INSTALL_DATADIR}/nomos/sdk)

# The CLI finds libnomos next to it, wherever the prefix is.
set_target_properties(nomos_cli PROPERTIES
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS nomos EXPORT nomosTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS nomos_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public headers: the C API, the C++ API (runtime/include/nomos), the guest
# ABI and Error (abi/include/nomos), the gas schedule (the one API header of
# metering/) and the generated version.
install(FILES runtime/include/nomos.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY runtime/include/nomos abi/include/nomos
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES metering/include/nomos/metering/gas.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nomos/metering)
install(FILES ${NOMOS_GENERATED_INCLUDE_DIR}/nomos/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nomos)

# The guest SDK. Its ABI header is the installed include/nomos/abi.h, which
# nomosConfig.cmake points NOMOS_ABI_INCLUDE_DIR at.
install(DIRECTORY sdk/cmake sdk/include sdk/src sdk/examples
  DESTINATION ${NOMOS_INSTALL_SDKDIR})

# find_package(nomos)
install(EXPORT nomosTargets NAMESPACE nomos::
  DESTINATION ${NOMOS_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/nomosConfig.cmake.in
  ${PROJECT_BINARY_DIR}/nomosConfig.cmake
  INSTALL_DESTINATION ${NOMOS_INSTALL_CMAKEDIR}
  PATH_VARS NOMOS_INSTALL_SDKDIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nomosConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nomosConfig.cmake
  ${PROJECT_BINARY_DIR}/nomosConfigVersion.cmake
  DESTINATION ${NOMOS_INSTALL_CMAKEDIR})

# pkg-config, relocatable: the prefix is found from the .pc file's place.
file(RELATIVE_PATH NOMOS_PC_TO_PREFIX
  ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/nomos.pc.in ${PROJECT_BINARY_DIR}/nomos.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nomos.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
