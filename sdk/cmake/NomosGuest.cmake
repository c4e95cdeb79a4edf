# NomosGuest.cmake: build Nomos guest programs (C++ -> wasm32) with clang-19
# and wasm-ld-19, freestanding (no libc, no libc++).
#
#   include(NomosGuest)   # or include(<path>/sdk/cmake/NomosGuest.cmake)
#   nomos_add_guest(counter SOURCES counter.cpp [more.cpp ...]
#                   [EXPORTS increment exec_other])
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
# Every guest is linked with sdk/src/guest_runtime.cpp (memcpy, memset, ...).
# Objects depend on the sdk and abi headers (and, through compiler depfiles,
# on every header they include), so editing guest.h or abi.h rebuilds guests.
#
# Variables (cache, may be set before include()):
#   NOMOS_CLANG, NOMOS_WASM_LD   clang-19 / wasm-ld-19
#   NOMOS_SDK_INCLUDE_DIR        default: <this dir>/../include
#   NOMOS_ABI_INCLUDE_DIR        default: <this dir>/../../abi/include
#   NOMOS_GUEST_RUNTIME_SOURCE   default: <this dir>/../src/guest_runtime.cpp
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
set(NOMOS_GUEST_EXTRA_FLAGS "" CACHE STRING "Extra clang flags for Nomos guests")
get_filename_component(_nomos_sdk_inc "${NOMOS_SDK_INCLUDE_DIR}" ABSOLUTE)
get_filename_component(_nomos_abi_inc "${NOMOS_ABI_INCLUDE_DIR}" ABSOLUTE)
get_filename_component(_nomos_rt "${NOMOS_GUEST_RUNTIME_SOURCE}" ABSOLUTE)
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

function(nomos_add_guest NAME)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;EXPORTS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nomos_add_guest(${NAME}): unexpected arguments: "
                        "${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "nomos_add_guest(${NAME}): no SOURCES given")
  endif()

  set(_wasm "${CMAKE_CURRENT_BINARY_DIR}/${NAME}.wasm")
  set(_objdir "${CMAKE_CURRENT_BINARY_DIR}/nomos_guest/${NAME}")
  file(MAKE_DIRECTORY "${_objdir}")
  file(GLOB _headers CONFIGURE_DEPENDS
       "${_NOMOS_GUEST_SDK_INC}/nomos/*.h"
       "${_NOMOS_GUEST_ABI_INC}/nomos/abi.h")

  set(_objs)
  set(_i 0)
  foreach(_src IN LISTS ARG_SOURCES _NOMOS_GUEST_RUNTIME)
    get_filename_component(_src "${_src}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(_base "${_src}" NAME_WE)
    set(_obj "${_objdir}/${_i}_${_base}.o")
    math(EXPR _i "${_i} + 1")
    set(_deps "${_src}")
    if(NOT _src STREQUAL _NOMOS_GUEST_RUNTIME)
      list(APPEND _deps ${_headers})
    endif()
    add_custom_command(
      OUTPUT "${_obj}"
      COMMAND "${NOMOS_CLANG}" ${NOMOS_GUEST_COMPILE_FLAGS}
              ${NOMOS_GUEST_EXTRA_FLAGS}
              "-I${_NOMOS_GUEST_SDK_INC}" "-I${_NOMOS_GUEST_ABI_INC}"
              -MD -MF "${_obj}.d" -c "${_src}" -o "${_obj}"
      DEPENDS ${_deps}
      DEPFILE "${_obj}.d"
      COMMENT "Compiling Nomos guest ${NAME}: ${_base}.cpp (wasm32)"
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
    COMMAND "${NOMOS_WASM_LD}" ${NOMOS_GUEST_LINK_FLAGS} -o "${_wasm}" ${_objs}
    ${_check}
    DEPENDS ${_objs}
    COMMENT "Linking Nomos guest ${NAME}.wasm"
    VERBATIM)

  add_custom_target(${NAME} DEPENDS "${_wasm}")
  set_target_properties(${NAME} PROPERTIES NOMOS_WASM "${_wasm}"
                                           NOMOS_EXPORTS "${ARG_EXPORTS}")
  set(${NAME}_WASM "${_wasm}" PARENT_SCOPE)
endfunction()
