#!/bin/sh
# Tools/install.sh: puts grucc where a shell and CMake find it, and takes it away again.
#
#   Tools/install.sh [--prefix DIR] [--static]     install (default prefix: ~/.local)
#   Tools/install.sh [--prefix DIR] --uninstall    remove what an install there put
#
# It installs PREFIX/bin/grucc, and PREFIX/share/grucc/cmake/{grucc.cmake,gruccConfig.cmake} for
# find_package(grucc) and grucc_add_model; PREFIX/share/grucc/install-manifest.txt lists them for
# --uninstall. The binary is the release build (`swift build -c release --product grucc`, built
# here unless it is already up to date), or the one GRUCC names. It uses the Swift runtime of the
# toolchain that built it; --static links that runtime in (--static-swift-stdlib, built in
# .build-static/ so that the ordinary release build stays as it is), for a copy that runs on a
# machine without Swift.
set -eu
usage() { sed -n '3,5p' "$0" | sed 's/^# *//'; }
die() { echo "install.sh: $*" >&2; exit 1; }

prefix=${HOME:?}/.local
static=no
uninstall=no
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "'--prefix' needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --static) static=yes; shift ;;
    --uninstall) uninstall=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
[ -n "$prefix" ] || die "'--prefix' needs a directory"
# Relative paths are the caller's, before this script moves to the repository.
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
case ${GRUCC:-} in '' | /*) ;; *) GRUCC=$(pwd)/$GRUCC ;; esac
cd "$(dirname "$0")/.."

manifest=share/grucc/install-manifest.txt
if [ $uninstall = yes ]; then
  [ -f "$prefix/$manifest" ] || die "nothing to uninstall: no $prefix/$manifest"
  while IFS= read -r file; do rm -f "$prefix/$file"; done <"$prefix/$manifest"
  rm -f "$prefix/$manifest"
  rmdir "$prefix/share/grucc/cmake" "$prefix/share/grucc" 2>/dev/null || true
  echo "removed grucc from $prefix"
  exit 0
fi

if [ -n "${GRUCC:-}" ]; then
  binary=$GRUCC
elif [ $static = yes ]; then
  swift build -c release --product grucc --static-swift-stdlib --scratch-path .build-static
  binary=.build-static/release/grucc
else
  swift build -c release --product grucc
  binary=$(swift build -c release --product grucc --show-bin-path)/grucc
fi
[ -x "$binary" ] || die "no grucc binary at '$binary'"
"$binary" --version >/dev/null || die "'$binary --version' failed"

mkdir -p "$prefix/bin" "$prefix/share/grucc/cmake"
# Each file is copied beside its place and renamed over it, so a running grucc is never
# overwritten in place and an interrupted install leaves the old file whole.
put() {
  cp "$1" "$prefix/$2.installing"
  chmod "$3" "$prefix/$2.installing"
  mv -f "$prefix/$2.installing" "$prefix/$2"
  echo "$2" >>"$prefix/$manifest.installing"
}
: >"$prefix/$manifest.installing"
put "$binary" bin/grucc 755
put cmake/grucc.cmake share/grucc/cmake/grucc.cmake 644
put cmake/gruccConfig.cmake share/grucc/cmake/gruccConfig.cmake 644
mv -f "$prefix/$manifest.installing" "$prefix/$manifest"

echo "installed $("$prefix/bin/grucc" --version) in $prefix (bin/grucc, share/grucc/cmake)"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not in PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
