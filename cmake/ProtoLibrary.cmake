# The project's one protoc rule.
#
#   tl_proto_library(<name> ROOT <dir> GEN_DIR <dir> PROTOS <file>... [GRPC_PROTOS <file>...]
#                    [IMPORTS <dir>...] [FIX_KEYWORDS])
#
# Generates C++ for PROTOS (paths relative to ROOT, which is also the first import path; IMPORTS
# are further import paths) and gRPC stubs for GRPC_PROTOS into GEN_DIR, and builds them into the
# static library <name>, which exports GEN_DIR as a system include directory. Generated code is
# compiled without warnings. FIX_KEYWORDS runs proto/fix_keywords.sh over GEN_DIR: protoc 3.21 does
# not escape C++ keywords used as package names (temporal.api.namespace.v1), which anything
# generated from or against the Temporal API needs.
function(tl_proto_library name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "FIX_KEYWORDS" "ROOT;GEN_DIR" "PROTOS;GRPC_PROTOS;IMPORTS")
  set(_srcs)
  set(_outs)
  set(_deps)
  foreach(_p IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" _base "${_p}")
    list(APPEND _srcs "${ARG_GEN_DIR}/${_base}.pb.cc")
    list(APPEND _outs "${ARG_GEN_DIR}/${_base}.pb.cc" "${ARG_GEN_DIR}/${_base}.pb.h")
    list(APPEND _deps "${ARG_ROOT}/${_p}")
  endforeach()
  set(_imports -I "${ARG_ROOT}")
  foreach(_d IN LISTS ARG_IMPORTS)
    list(APPEND _imports -I "${_d}")
  endforeach()
  set(_grpc_command)
  if(ARG_GRPC_PROTOS)
    foreach(_p IN LISTS ARG_GRPC_PROTOS)
      string(REGEX REPLACE "\\.proto$" "" _base "${_p}")
      list(APPEND _srcs "${ARG_GEN_DIR}/${_base}.grpc.pb.cc")
      list(APPEND _outs "${ARG_GEN_DIR}/${_base}.grpc.pb.cc" "${ARG_GEN_DIR}/${_base}.grpc.pb.h")
    endforeach()
    set(_grpc_command COMMAND "${PROTOC}" ${_imports} --grpc_out "${ARG_GEN_DIR}"
                      "--plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN}" ${ARG_GRPC_PROTOS})
  endif()
  set(_fix_command)
  if(ARG_FIX_KEYWORDS)
    set(_fix_command COMMAND sh "${PROJECT_SOURCE_DIR}/proto/fix_keywords.sh" "${ARG_GEN_DIR}")
    list(APPEND _deps "${PROJECT_SOURCE_DIR}/proto/fix_keywords.sh")
  endif()
  add_custom_command(
    OUTPUT ${_outs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${ARG_GEN_DIR}"
    COMMAND "${PROTOC}" ${_imports} --cpp_out "${ARG_GEN_DIR}" ${ARG_PROTOS}
    ${_grpc_command}
    ${_fix_command}
    DEPENDS ${_deps}
    WORKING_DIRECTORY "${ARG_ROOT}"
    COMMENT "Generating C++ for ${name}"
    VERBATIM)
  add_library(${name} STATIC ${_srcs})
  target_include_directories(${name} SYSTEM PUBLIC "$<BUILD_INTERFACE:${ARG_GEN_DIR}>")
  target_compile_options(${name} PRIVATE -w)
endfunction()
