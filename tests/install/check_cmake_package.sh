#!/usr/bin/env bash
# Builds tests/install/consumer, a CMake project outside the tree, against
# ptkit the CMake way and runs it, once linking ptkit::ptkit (static) and once
# ptkit::ptkit_shared:
#   package:      cmake --install into a prefix under the build tree, then
#                 find_package(ptkit CONFIG REQUIRED) with CMAKE_PREFIX_PATH;
#   subdirectory: add_subdirectory(<ptkit source>) without tests and tools,
#                 at -O0 (Debug) to compile quickly.
set -euo pipefail
mode=$1 build_dir=$2 ptkit_src=$3 work=$4 cflags=${5:-}
consumer_src=$ptkit_src/tests/install/consumer
rm -rf "$work"
mkdir -p "$work"

case $mode in
package)
  prefix=$work/prefix
  cmake --install "$build_dir" --prefix "$prefix" >/dev/null
  config=$(find "$prefix" -name ptkitConfig.cmake)
  test -n "$config" || { echo "ptkitConfig.cmake not installed"; exit 1; }
  # The exported targets point into the prefix, never back at the tree.
  if grep -rl -e "$ptkit_src" -e "$build_dir" "$(dirname "$config")"; then
    echo "installed CMake package refers to the source or build tree"; exit 1
  fi
  mode_args=(-DPTKIT_CONSUMER_MODE=package -DCMAKE_PREFIX_PATH="$prefix")
  ;;
subdirectory)
  mode_args=(-DPTKIT_CONSUMER_MODE=subdirectory -DPTKIT_SOURCE_DIR="$ptkit_src"
             -DPTKIT_BUILD_TESTS=OFF -DPTKIT_BUILD_TOOLS=OFF -DCMAKE_BUILD_TYPE=Debug)
  ;;
*) echo "mode: package or subdirectory"; exit 2 ;;
esac

for target in ptkit::ptkit ptkit::ptkit_shared; do
  bin=$work/${target#ptkit::}
  cmake -S "$consumer_src" -B "$bin" "${mode_args[@]}" \
        -DPTKIT_CONSUMER_TARGET="$target" \
        -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags" >"$bin.log" 2>&1 ||
    { cat "$bin.log"; exit 1; }
  if [ "$mode" = package ] && ! grep -q "ptkit_DIR:PATH=$prefix/" "$bin/CMakeCache.txt"; then
    echo "find_package(ptkit) did not find the package in $prefix"; exit 1
  fi
  cmake --build "$bin" --target consumer -j1 >>"$bin.log" 2>&1 || { cat "$bin.log"; exit 1; }
  # Linked the library asked for: libptkit.so only for ptkit_shared.
  needed=$(readelf -d "$bin/consumer" | grep -c 'NEEDED.*libptkit\.so' || true)
  if [ "$target" = ptkit::ptkit_shared ]; then want=1; else want=0; fi
  [ "$needed" = "$want" ] || { echo "$target: consumer needs libptkit.so $needed times, not $want"; exit 1; }
  # The shared build finds libptkit.so through the RPATH CMake sets.
  echo -n "$mode $target: "
  "$bin/consumer"
done
rm -rf "$work"
