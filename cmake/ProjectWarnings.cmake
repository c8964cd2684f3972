# Warnings for project targets only: third-party headers (torch, Qt) come in as
# SYSTEM include directories through their imported targets and stay quiet.
function(metaadamw_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Woverloaded-virtual)
  if(METAADAMW_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
