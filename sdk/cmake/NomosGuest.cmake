# NomosGuest.cmake: build Nomos guest programs (C++ -> wasm32) with clang-19
# and wasm-ld-19, freestanding (no libc, no libc++) or with the C and C++
# standard libraries (STDLIB: wasi-libc and libc++ from Debian).
#
#   include(NomosGuest)   # or include(<path>/sdk/cmake/NomosGuest.cmake)
#   nomos_add_guest(counter SOURCES counter.cpp [more.cpp ...]
#                   [EXPORTS increment exec_other] [STDLIB])
#
# builds ${CMAKE_CURRENT_BINARY_DIR}/counter.wasm and a custom target
# `counter` that depends on it. The path is returned in ${counter_WASM} (in the
# caller's scope) and in the target property NOMOS_WASM, so other targets can
#   add_dependencies(my_test counter)
#   target_compile_definitions(my_test PRIVATE COUNTER_WASM="${counter_WASM}")
#
# Exports come from NOMOS_EXPORT(name) (export_name attributes) in the code.
# EXPORTS, if given, lists names the .wasm must export: after linking they are
# checked with wasm-objdump (when found) and the build fails if one is missing.
#
# Every freestanding guest is linked with sdk/src/guest_runtime.cpp (memcpy,
# memset, ...). A STDLIB guest is compiled for wasm32-wasi (-fno-exceptions:
# Debian's wasm libc++ has none) and linked by the clang driver with libc++,
# libc++abi, wasi-libc and compiler-rt, without a crt1 (-nostartfiles), so
# wasm-ld wraps every export in the global constructors and destructors (a
# call is a fresh instance: they run, and stdio is flushed, in every call).
# Its guests are linked with sdk/src/stdlib_runtime.cpp, whose abort() and
# assert() (replacing libc's) trap with a message. The WASI imports that pulls in are answered by the host (sdk/README.md).
# Objects depend on the sdk and abi headers (and, through compiler depfiles,
# on every header they include), so editing guest.h or abi.h rebuilds guests.
#
# Variables (cache, may be set before include()):
#   NOMOS_CLANG, NOMOS_WASM_LD   clang-19 / wasm-ld-19
#   NOMOS_SDK_INCLUDE_DIR        default: <this dir>/../include
#   NOMOS_ABI_INCLUDE_DIR        default: <this dir>/../../abi/include
#   NOMOS_GUEST_RUNTIME_SOURCE   default: <this dir>/../src/guest_runtime.cpp
#   NOMOS_GUEST_STDLIB_SOURCE    default: <this dir>/../src/stdlib_runtime.cpp
#   NOMOS_WASI_SYSROOT           sysroot for STDLIB guests; default empty:
#                                clang's own (Debian: /usr/lib/wasm32-wasi)
#   NOMOS_GUEST_EXTRA_FLAGS      extra compile flags (list), default empty

# --- Script mode: the post-link export check --------------------------------
# cmake -DNOMOS_CHECK_WASM=<file> -DNOMOS_CHECK_EXPORTS=<a;b> \
#       -DNOMOS_WASM_OBJDUMP=<tool> -P NomosGuest.cmake
if(CMAKE_SCRIPT_MODE_FILE AND DEFINED NOMOS_CHECK_WASM)
  execute_process(
    COMMAND "${NOMOS_WASM_OBJDUMP}" -x -j Export "${NOMOS_CHECK_WASM}"
    OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "nomos_add_guest: wasm-objdump failed on "
                        "${NOMOS_CHECK_WASM}: ${_err}")
  endif()
  string(REPLACE "," ";" NOMOS_CHECK_EXPORTS "${NOMOS_CHECK_EXPORTS}")
  foreach(_name IN LISTS NOMOS_CHECK_EXPORTS)
    string(FIND "${_out}" "-> \"${_name}\"" _pos)
    if(_pos EQUAL -1)
      file(REMOVE "${NOMOS_CHECK_WASM}")
      message(FATAL_ERROR
        "nomos_add_guest: ${NOMOS_CHECK_WASM} does not export \"${_name}\" "
        "(mark the function NOMOS_EXPORT(${_name}))")
    endif()
  endforeach()
  return()
endif()

# --- Configure mode ----------------------------------------------------------
# Everything nomos_add_guest() needs lives in the cache, so the function works
# in any directory once this file has been included anywhere.
include_guard(GLOBAL)

set(NOMOS_SDK_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include"
    CACHE PATH "Nomos guest SDK include directory (nomos/guest.h)")
set(NOMOS_ABI_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../../abi/include"
    CACHE PATH "Nomos ABI include directory (nomos/abi.h)")
set(NOMOS_GUEST_RUNTIME_SOURCE "${CMAKE_CURRENT_LIST_DIR}/../src/guest_runtime.cpp"
    CACHE FILEPATH "Source linked into every Nomos guest (memcpy, memset, ...)")
set(NOMOS_GUEST_STDLIB_SOURCE "${CMAKE_CURRENT_LIST_DIR}/../src/stdlib_runtime.cpp"
    CACHE FILEPATH "Source linked first into every STDLIB Nomos guest")
set(NOMOS_WASI_SYSROOT "" CACHE PATH
    "Sysroot with wasi-libc and libc++ for STDLIB guests (empty: clang's)")
set(NOMOS_GUEST_EXTRA_FLAGS "" CACHE STRING "Extra clang flags for Nomos guests")
get_filename_component(_nomos_sdk_inc "${NOMOS_SDK_INCLUDE_DIR}" ABSOLUTE)
get_filename_component(_nomos_abi_inc "${NOMOS_ABI_INCLUDE_DIR}" ABSOLUTE)
get_filename_component(_nomos_rt "${NOMOS_GUEST_RUNTIME_SOURCE}" ABSOLUTE)
get_filename_component(_nomos_stdlib_rt "${NOMOS_GUEST_STDLIB_SOURCE}" ABSOLUTE)
set(_NOMOS_GUEST_STDLIB_RUNTIME "${_nomos_stdlib_rt}" CACHE INTERNAL "")
set(_NOMOS_GUEST_SDK_INC "${_nomos_sdk_inc}" CACHE INTERNAL "")
set(_NOMOS_GUEST_ABI_INC "${_nomos_abi_inc}" CACHE INTERNAL "")
set(_NOMOS_GUEST_RUNTIME "${_nomos_rt}" CACHE INTERNAL "")
set(_NOMOS_GUEST_CMAKE_FILE "${CMAKE_CURRENT_LIST_FILE}" CACHE INTERNAL "")

find_program(NOMOS_CLANG NAMES clang-19)
if(NOT NOMOS_CLANG)
  message(FATAL_ERROR
    "NomosGuest: clang-19 not found; it is needed to build wasm32 guest "
    "programs (Debian: apt-get install clang-19), or set NOMOS_CLANG.")
endif()
find_program(NOMOS_WASM_LD NAMES wasm-ld-19)
if(NOT NOMOS_WASM_LD)
  message(FATAL_ERROR
    "NomosGuest: wasm-ld-19 not found; it is needed to link wasm32 guest "
    "programs (Debian: apt-get install lld-19), or set NOMOS_WASM_LD.")
endif()
# Optional: verifies EXPORTS after linking.
find_program(NOMOS_WASM_OBJDUMP NAMES wasm-objdump)

if(NOT EXISTS "${_NOMOS_GUEST_SDK_INC}/nomos/guest.h")
  message(FATAL_ERROR "NomosGuest: ${_NOMOS_GUEST_SDK_INC}/nomos/guest.h not "
                      "found (check NOMOS_SDK_INCLUDE_DIR)")
endif()
if(NOT EXISTS "${_NOMOS_GUEST_ABI_INC}/nomos/abi.h")
  message(FATAL_ERROR "NomosGuest: ${_NOMOS_GUEST_ABI_INC}/nomos/abi.h not "
                      "found (check NOMOS_ABI_INCLUDE_DIR)")
endif()
if(NOT EXISTS "${_NOMOS_GUEST_RUNTIME}")
  message(FATAL_ERROR "NomosGuest: ${_NOMOS_GUEST_RUNTIME} not found "
                      "(check NOMOS_GUEST_RUNTIME_SOURCE)")
endif()

set(NOMOS_GUEST_COMPILE_FLAGS
    --target=wasm32 -std=c++20 -nostdlib -ffreestanding -fno-exceptions
    -fno-rtti -O2
    CACHE INTERNAL "clang flags for Nomos guests")
set(NOMOS_GUEST_LINK_FLAGS --no-entry --strip-debug
    CACHE INTERNAL "wasm-ld flags for Nomos guests")
set(_nomos_sysroot)
if(NOMOS_WASI_SYSROOT)
  set(_nomos_sysroot "--sysroot=${NOMOS_WASI_SYSROOT}")
endif()
set(_NOMOS_WASI_SYSROOT_FLAG "${_nomos_sysroot}" CACHE INTERNAL "")
set(NOMOS_GUEST_STDLIB_COMPILE_FLAGS
    --target=wasm32-wasi ${_nomos_sysroot} -std=c++20 -fno-exceptions -O2
    CACHE INTERNAL "clang flags for STDLIB Nomos guests")
set(NOMOS_GUEST_STDLIB_LINK_FLAGS
    --driver-mode=g++ --target=wasm32-wasi ${_nomos_sysroot} -nostartfiles
    -Wl,--no-entry -Wl,--strip-debug
    CACHE INTERNAL "clang (linker driver) flags for STDLIB Nomos guests")

# The libraries a STDLIB guest links, checked when the first one is added
# (once per configure): a missing package is a configure error naming it,
# not a link error.
function(_nomos_check_stdlib)
  get_property(_checked GLOBAL PROPERTY _NOMOS_STDLIB_CHECKED)
  if(_checked)
    return()
  endif()
  foreach(_pair "libc.a;wasi-libc" "libc++.a;libc++-19-dev-wasm32"
                "libc++abi.a;libc++abi-19-dev-wasm32")
    list(GET _pair 0 _lib)
    list(GET _pair 1 _package)
    execute_process(
      COMMAND "${NOMOS_CLANG}" --target=wasm32-wasi ${_NOMOS_WASI_SYSROOT_FLAG}
              -print-file-name=${_lib}
      OUTPUT_VARIABLE _path OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT IS_ABSOLUTE "${_path}" OR NOT EXISTS "${_path}")
      message(FATAL_ERROR
        "NomosGuest: ${_lib} for wasm32-wasi not found; STDLIB guests need "
        "it (Debian: apt-get install ${_package}), or set NOMOS_WASI_SYSROOT.")
    endif()
  endforeach()
  execute_process(
    COMMAND "${NOMOS_CLANG}" --target=wasm32-wasi ${_NOMOS_WASI_SYSROOT_FLAG}
            -rtlib=compiler-rt -print-libgcc-file-name
    OUTPUT_VARIABLE _path OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR
      "NomosGuest: ${_path} not found; STDLIB guests need compiler-rt for "
      "wasm32 (Debian: apt-get install libclang-rt-19-dev-wasm32).")
  endif()
  set_property(GLOBAL PROPERTY _NOMOS_STDLIB_CHECKED TRUE)
endfunction()

function(nomos_add_guest NAME)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "STDLIB" "" "SOURCES;EXPORTS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nomos_add_guest(${NAME}): unexpected arguments: "
                        "${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "nomos_add_guest(${NAME}): no SOURCES given")
  endif()

  if(ARG_STDLIB)
    _nomos_check_stdlib()
    set(_runtime "${_NOMOS_GUEST_STDLIB_RUNTIME}")
    set(_cflags ${NOMOS_GUEST_STDLIB_COMPILE_FLAGS})
    set(_linker "${NOMOS_CLANG}" ${NOMOS_GUEST_STDLIB_LINK_FLAGS})
    set(_kind "wasm32-wasi, standard library")
  else()
    set(_runtime "${_NOMOS_GUEST_RUNTIME}")
    set(_cflags ${NOMOS_GUEST_COMPILE_FLAGS})
    set(_linker "${NOMOS_WASM_LD}" ${NOMOS_GUEST_LINK_FLAGS})
    set(_kind "wasm32")
  endif()

  set(_wasm "${CMAKE_CURRENT_BINARY_DIR}/${NAME}.wasm")
  set(_objdir "${CMAKE_CURRENT_BINARY_DIR}/nomos_guest/${NAME}")
  file(MAKE_DIRECTORY "${_objdir}")
  file(GLOB _headers CONFIGURE_DEPENDS
       "${_NOMOS_GUEST_SDK_INC}/nomos/*.h"
       "${_NOMOS_GUEST_ABI_INC}/nomos/abi.h")

  set(_objs)
  set(_i 0)
  foreach(_src IN LISTS ARG_SOURCES _runtime)
    get_filename_component(_src "${_src}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(_base "${_src}" NAME_WE)
    set(_obj "${_objdir}/${_i}_${_base}.o")
    math(EXPR _i "${_i} + 1")
    set(_deps "${_src}")
    if(NOT _src STREQUAL _runtime)
      list(APPEND _deps ${_headers})
    endif()
    add_custom_command(
      OUTPUT "${_obj}"
      COMMAND "${NOMOS_CLANG}" ${_cflags}
              ${NOMOS_GUEST_EXTRA_FLAGS}
              "-I${_NOMOS_GUEST_SDK_INC}" "-I${_NOMOS_GUEST_ABI_INC}"
              -MD -MF "${_obj}.d" -c "${_src}" -o "${_obj}"
      DEPENDS ${_deps}
      DEPFILE "${_obj}.d"
      COMMENT "Compiling Nomos guest ${NAME}: ${_base}.cpp (${_kind})"
      VERBATIM COMMAND_EXPAND_LISTS)
    list(APPEND _objs "${_obj}")
  endforeach()

  set(_check)
  if(ARG_EXPORTS AND NOMOS_WASM_OBJDUMP)
    string(REPLACE ";" "," _exports "${ARG_EXPORTS}")
    set(_check
        COMMAND "${CMAKE_COMMAND}" "-DNOMOS_CHECK_WASM=${_wasm}"
                "-DNOMOS_CHECK_EXPORTS=${_exports}"
                "-DNOMOS_WASM_OBJDUMP=${NOMOS_WASM_OBJDUMP}"
                -P "${_NOMOS_GUEST_CMAKE_FILE}")
  endif()
  add_custom_command(
    OUTPUT "${_wasm}"
    COMMAND ${_linker} -o "${_wasm}" ${_objs}
    ${_check}
    DEPENDS ${_objs}
    COMMENT "Linking Nomos guest ${NAME}.wasm"
    VERBATIM)

  add_custom_target(${NAME} DEPENDS "${_wasm}")
  set_target_properties(${NAME} PROPERTIES NOMOS_WASM "${_wasm}"
                                           NOMOS_EXPORTS "${ARG_EXPORTS}")
  set(${NAME}_WASM "${_wasm}" PARENT_SCOPE)
endfunction()
