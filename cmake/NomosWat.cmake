# Test and benchmark modules written as wasm text, built with wabt's
# wat2wasm at build time.
find_program(WAT2WASM wat2wasm REQUIRED)

# nomos_wat2wasm(SOURCE OUTPUT [DEBUG_NAMES]): OUTPUT.wasm from SOURCE.wat,
# with a name section when DEBUG_NAMES is given.
function(nomos_wat2wasm source output)
  cmake_parse_arguments(ARG "DEBUG_NAMES" "" "" ${ARGN})
  set(flags)
  if(ARG_DEBUG_NAMES)
    set(flags --debug-names)
  endif()
  get_filename_component(dir ${output} DIRECTORY)
  add_custom_command(OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${WAT2WASM} ${flags} ${source} -o ${output}
    DEPENDS ${source})
endfunction()
