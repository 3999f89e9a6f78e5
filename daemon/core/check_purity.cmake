# Checks that the pure core (rapport_core) can reach no I/O, threading or system header and
# reads no clock. Run by the CTest test core_purity (tests/unit/core/CMakeLists.txt):
#
#   cmake -DCXX=<compiler> -DSOURCES=<a.cpp|b.cpp|...> -DINCLUDES=<dir|dir|...>
#         -DHEADER_GLOBS=<glob|glob|...> [-DIMPLICIT_INCLUDES=<dir|...>] -DSOURCE_DIR=<top source dir> -DBINARY_DIR=<top build dir>
#         -P check_purity.cmake
#
# SOURCES is rapport_core's own source list (the file(GLOB) in daemon/core/CMakeLists.txt) and
# INCLUDES its include path, so the check sees exactly what the compiler sees. Every source, and
# every core header on its own (HEADER_GLOBS), is preprocessed with -H, which prints the tree of
# headers the compiler opens. Then:
#
# 1. Every project file in that tree (under SOURCE_DIR, or BINARY_DIR/generated) has its
#    #include lines read: a forbidden name there fails. Reading the lines, not only the tree,
#    matters: the compiler does not reopen a guarded header, so a project file's own
#    #include <filesystem> is invisible in the tree when nlohmann (which may) pulled it first.
# 2. A standard header (<vector>, <cstdio>, <stdlib.h>...) or nlohmann/json is checked by name
#    only: what the standard library and nlohmann include internally is theirs (nlohmann brings
#    <filesystem> and <istream>; glibc's <stdlib.h> brings <sys/types.h>). Any other header a
#    project file names (another library) is followed down: everything it reaches is checked.
# 3. The core sources, the project headers they reach and every core header are searched for
#    clock, environment and stdio reads (comments are ignored).
cmake_minimum_required(VERSION 3.25)

foreach(var CXX SOURCES INCLUDES SOURCE_DIR BINARY_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_purity.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" sources "${SOURCES}")
string(REPLACE "|" ";" includes "${INCLUDES}")
string(REPLACE "|" ";" header_globs "${HEADER_GLOBS}")

# Headers the core must not reach: file and network I/O, threads, nondeterminism, the OS, and
# the libraries the adapters wrap. Each is a regex on "/<name as written>" or on a full path.
set(forbidden_headers
  "/fstream$" "/filesystem$" "/iostream$" "/thread$" "/mutex$" "/shared_mutex$"
  "/condition_variable$" "/future$" "/random$" "/csignal$"
  "/sys/[^/]+\\.h$" "/unistd\\.h$" "/fcntl\\.h$" "/pthread\\.h$" "/signal\\.h$" "/poll\\.h$"
  "/dirent\\.h$" "/dlfcn\\.h$" "/netdb\\.h$" "/netinet/" "/arpa/"
  "/boost/" "/sqlite3\\.h$" "/openssl/" "/curl/" "/libical/ical" "/vmime/" "/unicode/")
# Calls that read the clock, the environment or a file/terminal without an I/O header.
# Pairs of what to call it in the message and the regex, matched on each line minus its comment.
set(forbidden_calls
  "system_clock::now" "system_clock::now"
  "steady_clock::now" "steady_clock::now"
  "high_resolution_clock::now" "high_resolution_clock::now"
  "time()" "(^|[^A-Za-z0-9_.>])time\\("
  "gettimeofday" "gettimeofday"
  "clock_gettime" "clock_gettime"
  "getenv" "getenv"
  "stdio file or terminal I/O" "(^|[^A-Za-z0-9_.>])(fopen|freopen|popen|tmpfile|printf|fprintf|puts|fputs|fwrite|fread|fgets)\\(")
# The C library's own headers, trusted like their <cxxx> twins (C++ headers have no '.').
set(c_standard_headers
  assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h
  math.h setjmp.h stdalign.h stdarg.h stdbool.h stddef.h stdint.h stdio.h stdlib.h string.h
  tgmath.h time.h uchar.h wchar.h wctype.h)

set(advice_header "move the code that needs it to an adapter under daemon/ (app, store, imap, mime, calendar, api) and hand the core plain values")
set(advice_call "the core takes the time, settings and file contents as parameters: read them in an adapter under daemon/ (app, store, ...) and pass the value in")

cmake_path(NORMAL_PATH SOURCE_DIR OUTPUT_VARIABLE source_dir)
cmake_path(NORMAL_PATH BINARY_DIR OUTPUT_VARIABLE binary_dir)
string(REGEX REPLACE "/$" "" source_dir "${source_dir}")
string(REGEX REPLACE "/$" "" binary_dir "${binary_dir}")

function(is_project_file path out)
  set(r FALSE)
  string(FIND "${path}" "${source_dir}/" in_source)
  string(FIND "${path}" "${binary_dir}/" in_binary)
  string(FIND "${path}" "${binary_dir}/generated/" in_generated)
  if(in_generated EQUAL 0 OR (in_source EQUAL 0 AND NOT in_binary EQUAL 0))
    set(r TRUE)
  endif()
  set(${out} ${r} PARENT_SCOPE)
endfunction()

function(display path out)
  string(FIND "${path}" "${source_dir}/" at)
  if(at EQUAL 0)
    string(LENGTH "${source_dir}/" n)
    string(SUBSTRING "${path}" ${n} -1 path)
  endif()
  set(${out} "${path}" PARENT_SCOPE)
endfunction()

function(first_forbidden text out)
  set(hit "")
  foreach(re IN LISTS forbidden_headers)
    if("${text}" MATCHES "${re}")
      set(hit "${re}")
      break()
    endif()
  endforeach()
  set(${out} "${hit}" PARENT_SCOPE)
endfunction()

# The compiler's own directories stay where the compiler puts them (as in the real build: CMake
# leaves them out too), or #include_next in the C++ library breaks.
string(REPLACE "|" ";" implicit_includes "${IMPLICIT_INCLUDES}")
list(REMOVE_DUPLICATES includes)
set(include_flags "")
foreach(dir IN LISTS includes)
  if(NOT dir IN_LIST implicit_includes)
    list(APPEND include_flags "-I${dir}")
  endif()
endforeach()

set(failures "")
set(reported "")
set(failure_count 0)
macro(fail what)
  math(EXPR failure_count "${failure_count} + 1")
  string(APPEND failures "\n${what}\n")
endmacro()

# The chain of node i of the current tree, as "a.cpp -> b.hpp -> c".
function(chain_of i out)
  set(parts "")
  while(NOT i STREQUAL "")
    display("${node_${i}_path}" p)
    list(PREPEND parts "${p}")
    set(i "${node_${i}_parent}")
  endwhile()
  list(JOIN parts " -> " s)
  set(${out} "${s}" PARENT_SCOPE)
endfunction()

set(units ${sources})
set(core_headers "")
foreach(g IN LISTS header_globs)
  file(GLOB found ${g})
  list(APPEND core_headers ${found})
endforeach()
list(SORT core_headers)
list(APPEND units ${core_headers})
list(REMOVE_DUPLICATES units)
set(scanned_for_calls ${units})

foreach(unit IN LISTS units)
  if(unit MATCHES "\\.(hpp|h|hh|hxx)$")
    set(lang -x c++)
  else()
    set(lang "")
  endif()
  execute_process(
    COMMAND "${CXX}" -std=c++17 ${lang} ${include_flags} -E -H -o /dev/null "${unit}"
    WORKING_DIRECTORY "${binary_dir}"
    RESULT_VARIABLE rc ERROR_VARIABLE tree OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    display("${unit}" u)
    fail("${u}: cannot be preprocessed (exit ${rc}):\n${tree}")
    continue()
  endif()

  # Node 0 is the unit; node i has node_i_path, node_i_depth and node_i_parent.
  set(node_0_path "${unit}")
  set(node_0_depth 0)
  set(node_0_parent "")
  set(count 1)
  set(stack 0)
  foreach(t IN LISTS tails)
    unset("${t}")
  endforeach()
  set(tails "")
  string(REPLACE ";" "\\;" tree "${tree}")
  string(REPLACE "\n" ";" lines "${tree}")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^(\\.+) (.+)$")
      continue()
    endif()
    string(LENGTH "${CMAKE_MATCH_1}" depth)
    set(path "${CMAKE_MATCH_2}")
    if(NOT IS_ABSOLUTE "${path}")
      set(path "${binary_dir}/${path}")
    endif()
    cmake_path(NORMAL_PATH path)
    list(SUBLIST stack 0 ${depth} stack)
    list(GET stack -1 parent)
    set(node_${count}_path "${path}")
    set(node_${count}_depth ${depth})
    set(node_${count}_parent ${parent})
    list(APPEND stack ${count})
    # tail_<b/c.h> = the first node opened as .../b/c.h, to find a header by its written name.
    set(rest "${path}")
    while(TRUE)
      string(FIND "${rest}" "/" slash)
      if(slash EQUAL -1)
        break()
      endif()
      math(EXPR slash "${slash} + 1")
      string(SUBSTRING "${rest}" ${slash} -1 rest)
      if(NOT DEFINED "tail_${rest}")
        set("tail_${rest}" ${count})
        list(APPEND tails "tail_${rest}")
      endif()
    endwhile()
    math(EXPR count "${count} + 1")
  endforeach()
  math(EXPR last "${count} - 1")

  foreach(i RANGE 0 ${last})
    is_project_file("${node_${i}_path}" project)
    if(NOT project)
      continue()
    endif()
    set(p "${node_${i}_path}")
    list(APPEND scanned_for_calls "${p}")
    file(STRINGS "${p}" directives REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(d IN LISTS directives)
      if(NOT d MATCHES "include[ \t]*[<\"]([^>\"]+)[>\"]")
        continue()
      endif()
      set(name "${CMAKE_MATCH_1}")
      # The first node opened under that name, anywhere in the tree (a guarded header is only
      # opened once, maybe from somewhere else).
      set(target "")
      if(DEFINED "tail_${name}")
        set(target "${tail_${name}}")
      endif()
      if(NOT target STREQUAL "")
        is_project_file("${node_${target}_path}" target_is_project)
        if(target_is_project)
          continue()  # checked as a node of its own
        endif()
      endif()
      first_forbidden("/${name}" hit)
      if(hit)
        display("${p}" pd)
        if(NOT "${pd}|${name}" IN_LIST reported)
          list(APPEND reported "${pd}|${name}")
          chain_of(${i} chain)
          fail("${pd}: includes <${name}>, an I/O or system header the pure core must not reach.\n  chain: ${chain} -> <${name}>\n  fix: ${advice_header}.")
        endif()
        continue()
      endif()
      if(NOT name MATCHES "[./]" OR name IN_LIST c_standard_headers OR name MATCHES "^nlohmann/")
        continue()  # standard library or nlohmann: its own includes are its business
      endif()
      if(target STREQUAL "")
        continue()
      endif()
      # Another library: everything below it counts.
      set(top_depth ${node_${target}_depth})
      math(EXPR k "${target} + 1")
      while(k LESS count)
        if(NOT ${node_${k}_depth} GREATER top_depth)
          break()
        endif()
        first_forbidden("${node_${k}_path}" hit)
        if(hit)
          display("${p}" pd)
          if(NOT "${pd}|${node_${k}_path}" IN_LIST reported)
            list(APPEND reported "${pd}|${node_${k}_path}")
            chain_of(${k} chain)
            fail("${pd}: reaches ${node_${k}_path} through <${name}>, an I/O or system header the pure core must not reach.\n  chain: ${chain}\n  fix: ${advice_header}.")
          endif()
        endif()
        math(EXPR k "${k} + 1")
      endwhile()
    endforeach()
  endforeach()
endforeach()

set(call_labels "")
set(call_regexes "")
foreach(item IN LISTS forbidden_calls)
  list(LENGTH call_labels nl)
  list(LENGTH call_regexes nr)
  if(nl EQUAL nr)
    list(APPEND call_labels "${item}")
  else()
    list(APPEND call_regexes "${item}")
  endif()
endforeach()
list(REMOVE_DUPLICATES scanned_for_calls)
foreach(f IN LISTS scanned_for_calls)
  file(STRINGS "${f}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    string(REGEX REPLACE "//.*$" "" code "${line}")
    foreach(label re IN ZIP_LISTS call_labels call_regexes)
      if(code MATCHES "${re}")
        display("${f}" fd)
        string(STRIP "${line}" shown)
        fail("${fd}:${n}: calls ${label}, which reads the clock, the environment or a file: the pure core must not.\n  line: ${shown}\n  fix: ${advice_call}.")
        break()
      endif()
    endforeach()
  endforeach()
endforeach()

list(LENGTH units unit_count)
list(LENGTH scanned_for_calls file_count)
if(failure_count GREATER 0)
  message(NOTICE "core_purity: the pure core (rapport_core) must not do I/O, read the clock or use threads:${failures}")
  message(FATAL_ERROR "core_purity: ${failure_count} problem(s), listed above")
endif()
message(STATUS "core_purity: ${unit_count} core sources and headers preprocessed, ${file_count} files searched: no I/O or system header reachable, no clock read")
