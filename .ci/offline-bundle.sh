#!/usr/bin/env bash
# Pack interpreters, the lab and its dependencies into relocatable tarballs, for a machine that has no
# network and none of them (a bigger box lent for an hour, say). On that machine, .ci/offline-bench.sh
# unpacks them anywhere and benches.
#
#   .ci/offline-bundle.sh OUT_DIR PYTHON [PYTHON ...]     e.g. .ci/offline-bundle.sh .carry 3.13.5 3.13.5t
#
# PYTHON: a pyenv version name (under $PYENV_ROOT/versions) or an interpreter's install prefix.
# Each becomes OUT_DIR/python-<name>.tar.gz: the interpreter minus its test suite and static library,
# debug symbols stripped, libpython found next to the binary ($ORIGIN rpath), the lab installed in it
# (stamped with its commit: labs.store.source) with its runtime dependencies. Needs patchelf and
# package-index access here; the target needs glibc no older than this machine's.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "ERROR: usage: $0 OUT_DIR PYTHON [PYTHON ...] (a pyenv version name or an install prefix)" >&2
    exit 2
fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
command -v patchelf >/dev/null || { echo "ERROR: patchelf is needed (apt-get install patchelf)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for want in "$@"; do
    prefix=$want
    [ -d "$prefix" ] || prefix="${PYENV_ROOT:-$HOME/.pyenv}/versions/$want"
    binary=$(find "$prefix/bin" -maxdepth 1 -regex '.*/python3\.[0-9]+t?' | sort | head -n 1)
    if [ -z "$binary" ]; then
        echo "ERROR: no interpreter under $prefix; valid: a pyenv version name or an install prefix" >&2
        exit 2
    fi
    name=$(basename "$want")
    copy="$work/python-$name"
    stdlib=$(basename "$(ls -d "$prefix"/lib/python3.*/ | head -n 1)")
    # The interpreter without what a bench never loads: the test suite, the static library and build
    # files, IDLE and Tk, and compiled caches (rebuilt on first import there).
    tar -C "$prefix" -cf - \
        --exclude="lib/$stdlib/test" --exclude="lib/$stdlib/config-*" --exclude="lib/$stdlib/idlelib" \
        --exclude="lib/$stdlib/tkinter" --exclude="lib/$stdlib/turtledemo" --exclude="lib/$stdlib/site-packages" \
        --exclude="__pycache__" --exclude="*.a" --exclude="include" --exclude="share" . |
        (mkdir -p "$copy" && tar -C "$copy" -xf -)
    mkdir -p "$copy/lib/$stdlib/site-packages"
    python="$copy/bin/$(basename "$binary")"
    patchelf --force-rpath --set-rpath '$ORIGIN/../lib' "$python"
    find "$copy" \( -name '*.so' -o -name '*.so.*' \) -type f -exec strip --strip-debug {} +
    strip --strip-debug "$python"
    "$python" -m ensurepip --default-pip >/dev/null
    "$python" -m pip install -q --disable-pip-version-check --no-compile "$root"
    # -I: the installed copy is what gets stamped, not the checkout that the working directory holds
    (cd "$root" && "$python" -I -m labs.store.source --stamp >/dev/null)
    "$python" -m pip uninstall -q -y pip
    tar -C "$work" -czf "$out/python-$name.tar.gz" "python-$name"
    echo "$out/python-$name.tar.gz: $("$python" -c 'import sys; print(sys.version.split()[0])'), $(du -h "$out/python-$name.tar.gz" | cut -f1)"
done
