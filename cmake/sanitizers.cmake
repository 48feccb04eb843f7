# Instrumented builds, for the project's own code (included after proto/, so the generated
# Temporal API library stays uninstrumented: it is protoc's output, and instrumenting it only
# slows the build):
#   -DTEMPORALITE_SANITIZE=address,undefined   ASan + UBSan (scripts/sanitize.sh, build-asan/)
#   -DTEMPORALITE_SANITIZE=thread              TSan (scripts/sanitize.sh tsan, build-tsan/)
#   -DTEMPORALITE_FUZZ=ON (clang)              libFuzzer coverage + ASan + UBSan (scripts/fuzz.sh)
set(TEMPORALITE_SANITIZE "" CACHE STRING "Sanitizers for the project's code, e.g. address,undefined or thread")
option(TEMPORALITE_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)
if(TEMPORALITE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TEMPORALITE_FUZZ needs clang (CXX=clang++)")
  endif()
  set(TEMPORALITE_SANITIZE "address,undefined")
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(TEMPORALITE_SANITIZE)
  add_compile_options(-fsanitize=${TEMPORALITE_SANITIZE} -fno-omit-frame-pointer)
  if(TEMPORALITE_SANITIZE STREQUAL "thread")
    # TSan's usual flags, and about a third less compile time than -O2 -g on the shared machine:
    # line tables are all a report's stacks need.
    add_compile_options(-O1 $<IF:$<CXX_COMPILER_ID:Clang>,-gline-tables-only,-g1>)
  endif()
  add_link_options(-fsanitize=${TEMPORALITE_SANITIZE})
  if(TEMPORALITE_SANITIZE MATCHES "undefined")
    # UB stops the program (a test failure or a fuzzer finding), not just a line on stderr.
    add_compile_options(-fno-sanitize-recover=undefined)
    # Protobuf and gRPC are not instrumented; vptr checks across them only give noise (clang and
    # g++ alike: scripts/sanitize.sh asan-sdk builds with g++).
    add_compile_options(-fno-sanitize=vptr)
  endif()
endif()
