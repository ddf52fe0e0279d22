#!/usr/bin/env bash
# Bench with the interpreters that .ci/offline-bundle.sh packed, on a machine with nothing installed.
#
#   .ci/offline-bench.sh BUNDLE_DIR OUT_DIR "RUN [RUN ...]" [labs bench options ...]
#
# RUN: a bundled interpreter's name (3.13.5, 3.13.5t); NAME+gil runs a free-threaded build with
# PYTHON_GIL=1 (its 3.13t-gil control). Runs go in the order given, and a name may repeat (two runs one
# after the other: an A/A pair). Every run's speed fingerprint is taken by the first run's interpreter, so
# fingerprints compare. Each run file comes back flat, as OUT_DIR/<machine>--<tag>--<stamp>.json (a
# results/<machine>/<tag>/<stamp>.json here), with every run's output in OUT_DIR/bench.log.
set -uo pipefail

if [ $# -lt 3 ]; then
    echo "ERROR: usage: $0 BUNDLE_DIR OUT_DIR \"RUN [RUN ...]\" [labs bench options ...]" >&2
    exit 2
fi
bundle=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 2
runs=$3
shift 3
place=$(mktemp -d)
for tarball in "$bundle"/python-*.tar.gz; do
    tar -C "$place" -xzf "$tarball" || { echo "ERROR: cannot unpack $tarball" >&2; exit 2; }
done
python_of() {
    find "$place/python-$1/bin" -maxdepth 1 -regex '.*/python3\.[0-9]+t?' | sort | head -n 1
}
fingerprint_python=""
for run in $runs; do
    name=${run%+gil}
    if [ -z "$(python_of "$name" 2>/dev/null)" ]; then
        echo "ERROR: no bundled interpreter $name; valid: $(cd "$place" && ls -d python-* | sed 's/^python-//' | tr '\n' ' ')" >&2
        exit 2
    fi
    fingerprint_python=${fingerprint_python:-$(python_of "$name")}
done
cd "$place" || exit 2  # far from any checkout: the bundled copy of the lab runs, with its stamped commit
worst=0
for run in $runs; do
    name=${run%+gil}
    gil=""
    [ "$run" != "$name" ] && gil="PYTHON_GIL=1"
    echo "== $run: $(python_of "$name") -m labs bench --results $place/results $*" | tee -a "$out/bench.log"
    env $gil LABS_FINGERPRINT_PYTHON="$fingerprint_python" PYTHONUNBUFFERED=1 \
        "$(python_of "$name")" -m labs bench --results "$place/results" "$@" 2>&1 | tee -a "$out/bench.log"
    code=${PIPESTATUS[0]}
    [ "$code" -gt "$worst" ] && worst=$code
    [ "$code" -gt 128 ] && break  # ended by a signal: stop here, keep what was saved
done
for file in "$place"/results/*/*/*.json; do
    [ -e "$file" ] || continue
    tag_dir=$(dirname "$file")
    cp "$file" "$out/$(basename "$(dirname "$tag_dir")")--$(basename "$tag_dir")--$(basename "$file")"
done
ls "$out"
exit "$worst"
