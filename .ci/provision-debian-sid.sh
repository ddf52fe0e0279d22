#!/usr/bin/env bash
# Provide CPython 3.14 and 3.15 (Debian sid) and 3.13 (Debian trixie) from Debian's binary packages.
#
# No CPython source or build download is reachable from CI, but Debian's archive is. For each suite a
# private apt configuration with an *empty* dpkg status makes apt resolve the whole dependency closure
# (that suite's libc6 included), downloads it, and every deb is unpacked with `dpkg-deb -x` into one
# prefix per suite. patchelf then points each python binary at the prefix's own dynamic loader and
# libraries, so it runs directly (and re-spawning sys.executable works) without touching the host's
# libc. Debian's ensurepip reads its wheels from the absolute /usr/share/python-wheels; it is pointed
# at the prefix's copy, so `python3.X -m venv` installs the pip that the prefix ships.
#
# Prefix: $LABS_DEBIAN_ROOT/debian-<suite> (default $HOME/.cache/gil-lab/debian-<suite>): per user like
# ~/.pyenv and uv's installs, writable without root, a cache that can be deleted and rebuilt, and a
# place CI caches. Discovery (labs/plan/discovery.py) looks there, so no PATH edit is needed. Nothing
# is written outside the prefixes except `apt-get install patchelf`. Re-running is a no-op once every
# interpreter and its venv work; downloaded debs stay in <prefix>/.apt, so a rebuild does not download.
set -euo pipefail

root=${LABS_DEBIAN_ROOT:-$HOME/.cache/gil-lab}

# suite -> the interpreters taken from it (each with its venv module).
declare -A versions=([sid]="3.14 3.15" [trixie]="3.13")

works() {  # The interpreter runs from the prefix and makes a venv with a working pip.
    local python=$1 check=$2/.check
    rm -rf "$check"
    "$python" -m venv "$check/venv" >/dev/null 2>&1 && "$check/venv/bin/python" -m pip --version >/dev/null 2>&1
    local rc=$?
    rm -rf "$check"
    return $rc
}

provision_suite() {
    local suite=$1 prefix=$root/debian-$1 packages=() need=() v
    for v in ${versions[$suite]}; do
        [ -f "$prefix/.ok-$v" ] && "$prefix/usr/bin/python$v" -c '' 2>/dev/null || need+=("$v")
        packages+=("python$v" "python$v-venv")
    done
    if [ ${#need[@]} -eq 0 ]; then
        echo "provision: debian $suite already provides ${versions[$suite]} in $prefix"
        return 0
    fi
    command -v patchelf >/dev/null || { apt-get -qq update && apt-get -qq install -y patchelf >/dev/null; }
    local host_sources=/etc/apt/sources.list.d/debian.sources
    [ -f "$host_sources" ] || { echo "ERROR: $host_sources not found: this recipe needs a Debian host's archive and keyring"; exit 1; }
    local start=$SECONDS apt=$prefix/.apt
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/preferences.d"
    : >"$apt/status"  # empty: apt must fetch the whole closure, not rely on the host's packages
    awk 'BEGIN{RS=""} NR==1{print; exit}' "$host_sources" \
        | sed -e "s/^Suites:.*/Suites: $suite/" -e 's/^Components:.*/Components: main/' >"$apt/$suite.sources"
    local apt_opts=(-o "Dir::Etc::sourcelist=$apt/$suite.sources" -o Dir::Etc::sourceparts=/dev/null
        -o "Dir::Etc::preferencesparts=$apt/etc/preferences.d" -o "Dir::Etc::preferences=/dev/null"
        -o "Dir::State::status=$apt/status" -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o APT::Sandbox::User=root -o APT::Architecture=amd64 -o APT::Architectures::=amd64
        -o APT::Install-Recommends=false)
    apt-get -qq "${apt_opts[@]}" update
    apt-get -qq -y "${apt_opts[@]}" install --download-only "${packages[@]}" libstdc++6 >/dev/null
    local deb
    for deb in "$apt"/cache/archives/*.deb; do
        dpkg-deb -x "$deb" "$prefix"
    done
    local lib=$prefix/usr/lib/x86_64-linux-gnu
    for v in "${need[@]}"; do
        patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
            "$prefix/usr/bin/python$v"
        # Debian's ensurepip takes its wheels from WHEEL_PKG_DIR, the absolute /usr/share/python-wheels
        # (the host's, with an older pip, if any): read them from the prefix the interpreter runs from.
        local ensurepip=$prefix/usr/lib/python$v/ensurepip/__init__.py
        local wheels="os.path.join(sys.base_prefix, 'share', 'python-wheels')"
        sed -i "s|sysconfig.get_config_var('WHEEL_PKG_DIR')|$wheels|" "$ensurepip"
        grep -qF "$wheels" "$ensurepip" \
            || { echo "ERROR: could not point $ensurepip at the prefix's python-wheels"; exit 1; }
        works "$prefix/usr/bin/python$v" "$prefix" || { echo "ERROR: python$v from debian $suite does not run or make a venv"; exit 1; }
        touch "$prefix/.ok-$v"
        echo "provision: python$v $("$prefix/usr/bin/python$v" -c 'import platform; print(platform.python_version())')" \
            "from debian $suite in $prefix"
    done
    echo "provision: debian $suite took $((SECONDS - start)) s; $(du -sh --exclude=.apt "$prefix" | cut -f1) unpacked," \
        "$(du -sh "$apt/cache/archives" | cut -f1) of debs in $apt"
}

for suite in sid trixie; do
    provision_suite "$suite"
done
