# What find_package(grucc) loads: grucc_add_model (grucc.cmake, beside this file). Tools/install.sh
# puts both in PREFIX/share/grucc/cmake, where find_package looks for a PREFIX in
# CMAKE_PREFIX_PATH or whose bin/ is in PATH.
include("${CMAKE_CURRENT_LIST_DIR}/grucc.cmake")
