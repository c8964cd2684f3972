#!/usr/bin/env bash
# Installs what MetaAdamW Studio needs to build, test and run on Debian 12 and 13.
# Idempotent, and quiet when everything is present. Needs root (or sudo) for apt.
#
#   packaging/install-deps.sh            build + test dependencies (engine, CLI, tests)
#   packaging/install-deps.sh --bench    + Python's torch (comparisons with torch.optim)
#   packaging/install-deps.sh --data     + the apt datasets, and npm when none is on the PATH
#                                          (then: metaadamw data fetch all)
#   packaging/install-deps.sh --fuzz     + clang (scripts/fuzz-reader.sh, libFuzzer)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev nlohmann-json3-dev zlib1g-dev libhdf5-dev
  # LibTorch's c10d headers (ProcessGroupGloo.hpp) include Gloo's: data-parallel training.
  libgloo-dev
  # Debian's LibTorch calls the system BLAS; without this only the netlib reference BLAS
  # is there, and every matmul runs 10-20x slower. The OpenMP build shares LibTorch's
  # thread pool instead of starting its own threads.
  libopenblas0-openmp
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # The studio (ui/, metaadamw-studio): Qt 6 Widgets and QCustomPlot's Qt 6 build.
  qt6-base-dev qt6-svg-dev libqcustomplot-dev
  # Screenshots of the studio under a virtual display (docs/screenshots.sh); xdotool reads
  # the window's size there (tests/ui/window_fit.sh).
  xvfb xauth xdotool
  # The interop test reads our HDF5 logs with h5py (a user's other tool).
  python3-h5py
  # `cpack -G DEB` finds the package's dependencies with dpkg-shlibdeps, which needs file.
  file
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch) ;;
    --fuzz) packages+=(clang) ;;
    --data)
      packages+=(dataset-fashion-mnist sword-text-kjv sword-text-sparv)
      command -v npm >/dev/null || packages+=(npm) ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
