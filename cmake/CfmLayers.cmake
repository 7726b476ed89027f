# CfmLayers.cmake — one library per floor of ARCHITECTURE.md, each with its own include root, so
# that the build itself refuses an include across a forbidden edge.
#
# No target has the repository root (or compiler/) on its include path. Instead each library
# gets a tree in the build folder, build/layers/<name>/, holding symbolic links to its own
# headers at the paths the sources spell them with ("runtime/value.h", "interp/interp.h"), and
# links to its sources beside them. The tree is the library's PUBLIC include directory: a
# library sees its own headers and those of the libraries it links, nothing else. Sources are
# compiled through their links too, so that the folder of the file being compiled (searched
# first by `#include "..."`) holds only the library's own files: runtime/value.cpp cannot reach
# runtime/model/ as "model/model.h", nor compiler/interp/x.cpp the JIT as "../jit/jit.h".
# `-ffile-prefix-map` turns the links back into the real paths in debug information and
# __FILE__ when the compiler is given absolute paths (ccache's base_dir makes them relative, and
# the relative link paths still open the real files); compiler messages name the link.
#
#   cfm_add_layer(<name> [EXECUTABLE]
#                 [ROOT <folder>]          the folder include spellings start from, relative to
#                                          the repository root (default: the root; compiler/
#                                          for "ast/ast.h")
#                 FOLDERS <folder>...      the library's folders (relative to the repository
#                                          root); their *.h, *.hpp and *.def are its headers
#                 SOURCES <file>...        relative to the calling CMakeLists.txt, inside FOLDERS
#                 [PUBLIC <dep>...]        libraries its headers include (dependants see them)
#                 [PRIVATE <dep>...])      libraries only its sources use
#
# A new header or folder is picked up at the next configure (the globs are CONFIGURE_DEPENDS).
#
#   cfm_layer_probe(<test> LAYER <name> SOURCE <file> [MISSING <header>])
#
# A ctest `layers.<test>` that compiles <file> as if it were one of <name>'s sources (in its
# tree, with its exact include directories, options and definitions); the object is
# EXCLUDE_FROM_ALL. With MISSING the test passes only when the compiler stops because <header>
# is not found; without, the file must compile.

set(CFM_LAYERS_DIR ${CMAKE_BINARY_DIR}/layers)

function(cfm_add_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "EXECUTABLE" "ROOT" "FOLDERS;SOURCES;PUBLIC;PRIVATE")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cfm_add_layer(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_FOLDERS OR NOT ARG_SOURCES)
    message(FATAL_ERROR "cfm_add_layer(${name}): FOLDERS and SOURCES are required")
  endif()
  set(root ${CMAKE_SOURCE_DIR})
  if(ARG_ROOT)
    set(root ${CMAKE_SOURCE_DIR}/${ARG_ROOT})
  endif()
  set(tree ${CFM_LAYERS_DIR}/${name})
  file(REMOVE_RECURSE ${tree}) # links to headers that no longer exist go too

  set(folders "")
  foreach(folder IN LISTS ARG_FOLDERS)
    list(APPEND folders ${CMAKE_SOURCE_DIR}/${folder})
    file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${folder}/*.h
         ${CMAKE_SOURCE_DIR}/${folder}/*.hpp ${CMAKE_SOURCE_DIR}/${folder}/*.def)
    foreach(header IN LISTS headers)
      _cfm_layer_link(${header} ${root} ${tree} link)
    endforeach()
  endforeach()

  set(sources "")
  foreach(source IN LISTS ARG_SOURCES)
    get_filename_component(source ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    get_filename_component(dir ${source} DIRECTORY)
    if(NOT dir IN_LIST folders)
      message(FATAL_ERROR "cfm_add_layer(${name}): ${source} is not in its FOLDERS")
    endif()
    _cfm_layer_link(${source} ${root} ${tree} link)
    list(APPEND sources ${link})
  endforeach()

  if(ARG_EXECUTABLE)
    add_executable(${name} ${sources})
    set(scope PRIVATE)
  else()
    add_library(${name} STATIC ${sources})
    set(scope PUBLIC)
  endif()
  target_include_directories(${name} ${scope} ${tree})
  target_compile_options(${name} ${scope} -ffile-prefix-map=${tree}/=${root}/)
  target_link_libraries(${name} PRIVATE cfm_warnings ${ARG_PRIVATE})
  if(ARG_PUBLIC)
    target_link_libraries(${name} PUBLIC ${ARG_PUBLIC})
  endif()
  # Where its first source's link lives: cfm_layer_probe compiles probes there.
  list(GET sources 0 first)
  get_filename_component(first_dir ${first} DIRECTORY)
  set_target_properties(${name} PROPERTIES CFM_LAYER_SOURCE_DIR ${first_dir})
endfunction()

# Links `file` (absolute) into `tree` at its path relative to `root`; sets `out` to the link.
function(_cfm_layer_link file root tree out)
  file(RELATIVE_PATH rel ${root} ${file})
  if(rel MATCHES "^\\.\\./")
    message(FATAL_ERROR "cfm_add_layer: ${file} is not below its ROOT ${root}")
  endif()
  get_filename_component(dir ${tree}/${rel} DIRECTORY)
  file(MAKE_DIRECTORY ${dir})
  file(CREATE_LINK ${file} ${tree}/${rel} SYMBOLIC)
  set(${out} ${tree}/${rel} PARENT_SCOPE)
endfunction()

function(cfm_layer_probe test)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "LAYER;SOURCE;MISSING" "")
  get_target_property(dir ${ARG_LAYER} CFM_LAYER_SOURCE_DIR)
  if(NOT dir)
    message(FATAL_ERROR "cfm_layer_probe(${test}): ${ARG_LAYER} was not made by cfm_add_layer")
  endif()
  get_filename_component(source ${ARG_SOURCE} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  set(link ${dir}/layer_probe_${test}.cpp)
  file(CREATE_LINK ${source} ${link} SYMBOLIC)
  set(target layer_probe_${test})
  add_library(${target} OBJECT EXCLUDE_FROM_ALL ${link})
  # The layer's own settings, its private dependencies' included, without a build-order
  # dependency on it: the probe builds alone, in a second.
  target_include_directories(${target} PRIVATE $<TARGET_PROPERTY:${ARG_LAYER},INCLUDE_DIRECTORIES>)
  target_compile_options(${target} PRIVATE $<TARGET_PROPERTY:${ARG_LAYER},COMPILE_OPTIONS>)
  target_compile_definitions(${target} PRIVATE $<TARGET_PROPERTY:${ARG_LAYER},COMPILE_DEFINITIONS>)
  add_test(NAME layers.${test} COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${target})
  # Probes share the build folder's make files: one at a time.
  set_tests_properties(layers.${test} PROPERTIES RESOURCE_LOCK cfm-layer-probes)
  if(ARG_MISSING)
    string(REGEX REPLACE "([][.*+?^$()|\\\\])" "\\\\\\1" header "${ARG_MISSING}")
    # GCC: "x.h: No such file or directory"; clang: "'x.h' file not found".
    set_tests_properties(layers.${test} PROPERTIES
                         PASS_REGULAR_EXPRESSION "${header}: No such file or directory|'${header}' file not found")
  endif()
endfunction()
