#!/usr/bin/env bash
# A Debian 13 (trixie) environment beside a Debian 12 host: a debootstrap chroot with this
# checkout bind-mounted at the same path. It brings what Debian 12 lacks: PyTorch 2.6
# (python3-torch; its fused CPU AdamW is the benchmark's peer) and LibTorch 2.6
# (libtorch-dev; our at::_fused_adamw_ path compiles only there). Needs root.
#
#   scripts/debian13-env.sh setup                 make it (once) with python3-torch (~1.6 GB)
#   scripts/debian13-env.sh setup --build-deps    … with the project's build dependencies
#                                                 instead (packaging/install-deps.sh, ~2 GB)
#   scripts/debian13-env.sh has-torch             exit 0 when it exists with python3-torch
#   scripts/debian13-env.sh run CMD [ARGS...]     run CMD inside, in this checkout
#   scripts/debian13-env.sh unmount               undo the mounts
#
# Where: $METAADAMW_DEBIAN13_ROOT (default /srv/trixie). On a Debian 13 host none of this
# is needed: scripts/bench.sh uses the host's python3 when its torch is 2.4 or newer.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${METAADAMW_DEBIAN13_ROOT:-/srv/trixie}"

die() {
  echo "debian13-env.sh: $*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
}

mount_all() {
  need_root
  for d in proc sys dev; do  # /proc: PyTorch reads the CPU's features there (else "NO AVX")
    mountpoint -q "$root/$d" || mount --bind "/$d" "$root/$d"
  done
  mkdir -p "$root$repo"
  mountpoint -q "$root$repo" || mount --bind "$repo" "$root$repo"
  # The host's network settings and trusted certificates (an HTTPS proxy's CA, say):
  # without them npm cannot reach its registry from inside.
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # The local CAs go where update-ca-certificates (run by apt inside) finds them too.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$root/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  fi
}

case "${1:-}" in
  setup)
    need_root
    shift
    if [ ! -x "$root/usr/bin/apt-get" ]; then
      command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
      echo "debian13-env.sh: debootstrap trixie into $root (a few minutes)" >&2
      debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian >/dev/null
    fi
    mount_all
    if [ "${1:-}" = "--build-deps" ]; then
      chroot "$root" bash -c "cd '$repo' && DEBIAN_FRONTEND=noninteractive packaging/install-deps.sh"
    else
      chroot "$root" bash -c 'dpkg-query -W -f="\${Status}" python3-torch 2>/dev/null |
        grep -q "install ok installed" || { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          python3-torch >/dev/null; }'
    fi
    ;;
  has-torch)
    [ -f "$root/usr/lib/python3/dist-packages/torch/__init__.py" ]
    ;;
  run)
    shift
    [ -x "$root/usr/bin/apt-get" ] || die "no environment at $root (run: $0 setup)"
    mount_all
    quoted=$(printf ' %q' "$@")
    chroot "$root" bash -c "cd '$repo' &&$quoted"
    ;;
  unmount)
    need_root
    for d in "$repo" /dev /sys /proc; do
      ! mountpoint -q "$root$d" || umount "$root$d"
    done
    ;;
  *)
    sed -n '2,15p' "$0"
    exit 2
    ;;
esac
