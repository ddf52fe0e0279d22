#!/usr/bin/env bash
# Build CPython 3.13.5 and 3.13.5t with pyenv, offline.
#
# No CPython download site is reachable from CI, but Debian's archive is: trixie's python3.13 source
# package ships python3.13_3.13.5.orig.tar.xz, byte-identical to upstream Python-3.13.5.tar.xz. We fetch
# it with a private apt configuration (nothing in /etc/apt is changed), verify its sha256 against
# pyenv's own definition, and place it in pyenv's cache so `pyenv install` builds with no download.
# Installed versions are skipped, so a warm machine pays nothing.
set -euo pipefail

version=3.13.5
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
pyenv_bin=$(command -v pyenv || echo "$PYENV_ROOT/bin/pyenv")

need=()
for v in "$version" "${version}t"; do
    [ -x "$PYENV_ROOT/versions/$v/bin/python3" ] || need+=("$v")
done
if [ ${#need[@]} -eq 0 ]; then
    echo "provision: $version and ${version}t already installed"
    exit 0
fi

tarball="$PYENV_ROOT/cache/Python-$version.tar.xz"
definition="$PYENV_ROOT/plugins/python-build/share/python-build/$version"
expected=$(grep -o "Python-$version.tar.xz#[0-9a-f]*" "$definition" | cut -d'#' -f2)
[ -n "$expected" ] || { echo "ERROR: no sha256 for Python-$version.tar.xz in $definition"; exit 1; }

if ! echo "$expected  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
    # First stanza of the machine's deb822 sources, turned into a trixie deb-src entry.
    awk 'BEGIN{RS=""} NR==1{print; exit}' /etc/apt/sources.list.d/debian.sources \
        | sed -e 's/^Types:.*/Types: deb-src/' -e 's/^Suites:.*/Suites: trixie/' >"$work/trixie.sources"
    apt_opts=(-o "Dir::Etc::sourcelist=$work/trixie.sources" -o Dir::Etc::sourceparts=/dev/null
              -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
    apt-get -qq "${apt_opts[@]}" update
    (cd "$work/src" && apt-get -qq "${apt_opts[@]}" source --download-only --tar-only python3.13)
    orig=$(ls "$work"/src/python3.13_"$version".orig.tar.xz)
    echo "$expected  $orig" | sha256sum -c --quiet - || { echo "ERROR: $orig sha256 differs from pyenv's"; exit 1; }
    mkdir -p "$PYENV_ROOT/cache"
    cp "$orig" "$tarball"
fi

# Both builds at once: each alone keeps 2 cores about 60% busy (configure and the install steps run
# serially), so together they finish sooner than one after the other. Same sources, same options.
logs=${TMPDIR:-/tmp}
start=$SECONDS
declare -A pids=()
for v in "${need[@]}"; do
    echo "provision: building $v (a few minutes; log in $logs/pyenv-install-$v.log)"
    "$pyenv_bin" install -s "$v" >"$logs/pyenv-install-$v.log" 2>&1 &
    pids[$v]=$!
done
failed=0
for v in "${need[@]}"; do
    if wait "${pids[$v]}"; then
        echo "provision: $v built ($((SECONDS - start)) s since the builds started)"
    else
        tail -30 "$logs/pyenv-install-$v.log"
        failed=1
    fi
done
[ "$failed" -eq 0 ] || { echo "ERROR: a build failed (its log's end is above)"; exit 1; }
