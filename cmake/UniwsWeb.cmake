# UniwsWeb.cmake — how a WebAssembly program links against uniws with
# Emscripten (tested with Debian 12's 3.1.6): the browser WebSocket library,
# one self-contained .js (Node.js 20 cannot fetch() a .wasm next to it),
# memory growth, optionally Asyncify, and the NODE_PATH emcc's JavaScript
# optimizer needs to find Debian's acorn when `node` is not Debian's own.
#
#   include(UniwsWeb)
#   uniws_web_link(my_app [ASYNCIFY] [EXIT_RUNTIME] [INITIAL_MEMORY bytes])
#
# ASYNCIFY lets uniws_loop_run()/uniws_loop_run_once() wait exactly as they
# do natively (docs/web.md); without it uniws_loop_run() hands the loop to
# the browser and returns at once. EXIT_RUNTIME makes main()'s return end a
# Node.js process with its exit status.

# Debian installs acorn as /usr/share/nodejs/acorn, which only Debian's node
# searches; emcc runs it (-O1 and up, Asyncify) with whatever `node` it finds.
set(_uniws_node_path "$ENV{NODE_PATH}")
if(EXISTS /usr/share/nodejs/acorn)
  if(_uniws_node_path)
    set(_uniws_node_path "${_uniws_node_path}:/usr/share/nodejs")
  else()
    set(_uniws_node_path "/usr/share/nodejs")
  endif()
endif()
set(UNIWS_WEB_NODE_PATH "${_uniws_node_path}" CACHE INTERNAL "NODE_PATH for emcc")

function(uniws_web_link target)
  if(NOT EMSCRIPTEN)
    return()
  endif()
  cmake_parse_arguments(A "ASYNCIFY;EXIT_RUNTIME" "INITIAL_MEMORY" "" ${ARGN})
  target_link_options(${target} PRIVATE
    "-lwebsocket.js" "-sSINGLE_FILE=1" "-sALLOW_MEMORY_GROWTH=1")
  if(A_ASYNCIFY)
    # The conformance cases wait ~10 calls deep (case, helper, loop, poller).
    target_link_options(${target} PRIVATE "-sASYNCIFY=1" "-sASYNCIFY_STACK_SIZE=65536")
  endif()
  if(A_INITIAL_MEMORY)
    target_link_options(${target} PRIVATE "-sINITIAL_MEMORY=${A_INITIAL_MEMORY}")
  endif()
  if(A_EXIT_RUNTIME)
    target_link_options(${target} PRIVATE "-sEXIT_RUNTIME=1")
  endif()
  if(UNIWS_WEB_NODE_PATH)
    set_target_properties(${target} PROPERTIES
      C_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;NODE_PATH=${UNIWS_WEB_NODE_PATH}")
  endif()
endfunction()
