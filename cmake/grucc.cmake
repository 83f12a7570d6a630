# grucc.cmake: compile GRU models (.gru or .onnx) to C as part of a CMake build.
#
#   find_package(grucc REQUIRED)   # an installed grucc (Tools/install.sh), or grucc_DIR=<checkout>/cmake
#   grucc_add_model(kws MODEL kws.gru [OUTPUT_NAME name] [OPTIONS --activations libm ...])
#   target_link_libraries(app PRIVATE kws)
#
# gives a static library target `kws` built from kws.c, with kws.h on its public include path.
# grucc writes a depfile, so the C is regenerated when the model or any file it read (its weights,
# an ONNX model's external data) changes, and only then; a new grucc binary regenerates it too.
# The grucc used is GRUCC_EXECUTABLE: unless set, the one installed beside this file
# (PREFIX/bin/grucc for PREFIX/share/grucc/cmake/grucc.cmake), else grucc in PATH. Needs CMake 3.20 (DEPFILE with
# the Makefile generators, and depfile paths relative to the current binary directory).

cmake_minimum_required(VERSION 3.20)

if(NOT GRUCC_EXECUTABLE)
  find_program(GRUCC_EXECUTABLE grucc HINTS "${CMAKE_CURRENT_LIST_DIR}/../../../bin" DOC "the grucc compiler")
endif()

function(grucc_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "MODEL;OUTPUT_NAME" "OPTIONS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "grucc_add_model(${target}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "grucc_add_model(${target}): MODEL is required (a .gru or .onnx file)")
  endif()
  if(NOT GRUCC_EXECUTABLE)
    message(FATAL_ERROR "grucc_add_model(${target}): grucc was not found in PATH; "
      "install it (see grucc's README) or configure with -DGRUCC_EXECUTABLE=/path/to/grucc")
  endif()
  cmake_path(ABSOLUTE_PATH ARG_MODEL BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" OUTPUT_VARIABLE model)
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "grucc_add_model(${target}): model '${model}' does not exist")
  endif()
  set(name "${target}")
  if(ARG_OUTPUT_NAME)
    set(name "${ARG_OUTPUT_NAME}")
  endif()

  # Relative to the current binary directory, where the command runs: CMake reads the depfile's
  # relative paths from there (policy CMP0116), so the targets it names match these outputs.
  set(dir "grucc/${target}")
  set(outputs "${dir}/${name}.c" "${dir}/${name}.h")
  # --weights external writes the blob too: it must be a declared output, as the depfile names it.
  list(FIND ARG_OPTIONS "external" external)
  if(external GREATER 0)
    math(EXPR before "${external} - 1")
    list(GET ARG_OPTIONS ${before} option)
    if(option STREQUAL "--weights")
      list(APPEND outputs "${dir}/${name}.weights")
    endif()
  endif()
  cmake_path(GET model FILENAME model_file)

  file(MAKE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}/${dir}")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${GRUCC_EXECUTABLE}" "${model}" -o "${dir}/${name}.c" -MF "${dir}/${name}.c.d" ${ARG_OPTIONS}
    DEPENDS "${model}" "${GRUCC_EXECUTABLE}"
    DEPFILE "${dir}/${name}.c.d"
    WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
    COMMENT "grucc: compiling ${model_file} to ${name}.c"
    VERBATIM)

  add_library(${target} STATIC "${CMAKE_CURRENT_BINARY_DIR}/${dir}/${name}.c")
  target_include_directories(${target} PUBLIC "${CMAKE_CURRENT_BINARY_DIR}/${dir}")
  set_target_properties(${target} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON)
  # The generated C calls expf/tanhf; on most Unix systems they live in libm.
  if(UNIX AND NOT APPLE)
    target_link_libraries(${target} PUBLIC m)
  endif()
endfunction()
