#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds consumer.c against it
# with pkg-config, statically and dynamically: the headers, both libraries
# and ptkit.pc (with Libs.private) must be complete.
set -euo pipefail
build_dir=$1 src_dir=$2 cflags=${3:-}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name ptkit.pc)")
cc -std=c11 $cflags "$src_dir/consumer.c" $(pkg-config --cflags ptkit) \
   -Wl,-Bstatic $(pkg-config --libs --static ptkit | sed 's/-lptkit/-lptkit -Wl,-Bdynamic/') \
   -o "$prefix/consumer_static"
"$prefix/consumer_static"
cc -std=c11 $cflags "$src_dir/consumer.c" $(pkg-config --cflags --libs ptkit) -o "$prefix/consumer_shared"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir ptkit) "$prefix/consumer_shared"
