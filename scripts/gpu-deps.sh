#!/usr/bin/env bash
# Copies what scripts/gpu-check.sh needs from this Debian machine into .gpu-deps/ (git
# ignores it): nlohmann-json (headers + CMake config) and the GoogleTest sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/packaging/install-deps.sh"
d="$root/.gpu-deps"
rm -rf "$d" && mkdir -p "$d/include" "$d/share/cmake"
cp -r /usr/include/nlohmann "$d/include/"
cp -r /usr/share/cmake/nlohmann_json "$d/share/cmake/"
cp -r /usr/src/googletest "$d/googletest"
# HDF5 (serial, C and C++) with the non-system libraries it loads, for hosts without one:
# under the plain names FindHDF5 looks for, and under their sonames for the loader.
h="$d/hdf5"
mkdir -p "$h/include" "$h/lib"
cp -r /usr/include/hdf5/serial/. "$h/include/"
for lib in libhdf5_serial libhdf5_serial_cpp; do
  src="$(readlink -f "/usr/lib/x86_64-linux-gnu/$lib.so")"
  soname="$(objdump -p "$src" | awk '/SONAME/ {print $2}')"
  cp "$src" "$h/lib/$soname"
  cp "$src" "$h/lib/${lib/_serial/}.so"
  for dep in $(ldd "$src" | awk '/=>/ {print $3}'); do
    case "$(basename "$dep")" in
      libc.so* | libm.so* | libstdc++* | libgcc_s* | ld-linux* | libresolv* | libhdf5*) ;;
      *) cp -Ln "$dep" "$h/lib/" ;;
    esac
  done
done
# Google Benchmark (headers, library, CMake package), in Debian's layout.
b="$d/benchmark"
a="$b/lib/x86_64-linux-gnu"
mkdir -p "$b/include" "$a/cmake"
cp -r /usr/include/benchmark "$b/include/"
cp -L /usr/lib/x86_64-linux-gnu/libbenchmark.so.1.* /usr/lib/x86_64-linux-gnu/libbenchmark_main.a "$a/"
cp -r /usr/lib/x86_64-linux-gnu/cmake/benchmark "$a/cmake/"
du -sh "$d"/*
