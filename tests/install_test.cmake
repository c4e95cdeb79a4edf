# cmake -DBUILD_DIR=<build> -DSOURCE_DIR=<src> -DWORK_DIR=<dir>
#       -DGENERATOR=<generator> -P install_test.cmake
# Installs the build into WORK_DIR/prefix, builds examples/embed-cpp and
# examples/embed-c against it with find_package(nomos) and the C example
# again with pkg-config (nomos.pc), and runs each: every one must print the
# seed example's "count is 12" then "count is 24". Also checks the installed
# `nomos --version`.
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# The program's output must be the seed example's.
function(expect_seed label)
  run(${ARGN})
  message(STATUS "${label}: ${run_output}")
  if(NOT run_output MATCHES "count is 12\n(.*\n)?count is 24\n$")
    message(FATAL_ERROR "${label}: unexpected output:\n${run_output}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The installed CLI runs from its prefix and knows its version.
file(STRINGS ${SOURCE_DIR}/CMakeLists.txt project_line
  REGEX "^project\\(nomos VERSION [0-9.]+")
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" version "${project_line}")
run(${prefix}/bin/nomos --version)
if(NOT run_output STREQUAL "nomos ${version}\n")
  message(FATAL_ERROR "nomos --version printed '${run_output}', not 'nomos ${version}'")
endif()
expect_seed("installed nomos demo" ${prefix}/bin/nomos demo)

# find_package(nomos): a C++ and a C embedder.
foreach(example embed-cpp embed-c)
  set(build ${WORK_DIR}/${example})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/${example} -B ${build}
    -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${build})
  string(REPLACE "-" "_" program ${example})
  expect_seed(${example} ${build}/${program})
endforeach()

# pkg-config: the C embedder with a plain compiler command line, running the
# guests the CMake build above made.
find_program(PKG_CONFIG pkg-config REQUIRED)
find_program(CC NAMES cc gcc clang REQUIRED)
set(ENV{PKG_CONFIG_PATH} "")
file(GLOB pc_dir LIST_DIRECTORIES true ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run(${PKG_CONFIG} --cflags --libs nomos)
set(pc_flags "${run_output}")
message(STATUS "pkg-config --cflags --libs nomos: ${pc_flags}")
separate_arguments(flags UNIX_COMMAND "${pc_flags}")
run(${CC} -std=c11 -Wall -Werror ${SOURCE_DIR}/examples/embed-c/main.c ${flags}
  -o ${WORK_DIR}/embed_c_pkgconfig)
run(${PKG_CONFIG} --variable=libdir nomos)
string(STRIP "${run_output}" libdir)
set(ENV{LD_LIBRARY_PATH} "${libdir}")
expect_seed(pkg-config ${WORK_DIR}/embed_c_pkgconfig
  ${WORK_DIR}/embed-c/counter.wasm ${WORK_DIR}/embed-c/doubler.wasm)

file(REMOVE_RECURSE ${WORK_DIR})
