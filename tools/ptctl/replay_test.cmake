# Runs `ptctl replay` on examples/demo.trace and compares its output with
# examples/demo.expected using `cmake -E compare_files`.
#   -DPTCTL=path/to/ptctl   required
#   -DOUTPUT=file           where the output goes (default: the current dir)
#   -DUPDATE=1              rewrite the expectation instead of comparing
#
# The design fixes which mappings, nodes and errors a trace produces, but
# not which frames pt_frame_alloc hands out or how many frames the arena
# keeps for itself.  So before comparing, both files have the physical
# address of tracked mappings and the free-frame count masked; the
# expectation itself stays the literal output.
set(dir ${CMAKE_CURRENT_LIST_DIR}/examples)
set(trace ${dir}/demo.trace)
set(expected ${dir}/demo.expected)
if(NOT PTCTL)
  message(FATAL_ERROR "replay_test.cmake: pass -DPTCTL=path/to/ptctl")
endif()
if(NOT OUTPUT)
  set(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/demo.out)
endif()

# Read from stdin ("-") so nothing in the output depends on paths.
execute_process(COMMAND ${PTCTL} replay -
  INPUT_FILE ${trace}
  OUTPUT_FILE ${OUTPUT}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ptctl replay exited with ${rc}; output in ${OUTPUT}")
endif()

if(UPDATE)
  configure_file(${OUTPUT} ${expected} COPYONLY)
  message(STATUS "wrote ${expected}")
  return()
endif()

function(ptctl_mask in out)
  file(READ ${in} text)
  string(REPLACE "\r\n" "\n" text "${text}")
  # A listing line: VA range, size, pa, flags, cache, "tracked", count.
  string(REGEX REPLACE "  0x[0-9a-f]+(  [-r][-w][-x] [-u] [-g] [-a] [-d]  [A-Z?][A-Z?]  tracked)"
    "  0xPA\\1" text "${text}")
  string(REGEX REPLACE "free frames [0-9]+" "free frames N" text "${text}")
  file(WRITE ${out} "${text}")
endfunction()

ptctl_mask(${OUTPUT} ${OUTPUT}.masked)
ptctl_mask(${expected} ${OUTPUT}.expected.masked)
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
  ${OUTPUT}.masked ${OUTPUT}.expected.masked RESULT_VARIABLE differ)
if(NOT differ EQUAL 0)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND ${DIFF} -u ${OUTPUT}.expected.masked ${OUTPUT}.masked)
  endif()
  message(FATAL_ERROR "ptctl replay output ${OUTPUT} differs from ${expected}")
endif()
