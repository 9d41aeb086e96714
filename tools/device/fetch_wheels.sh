#!/usr/bin/env bash
# Fetch, on a machine with network access, what benchmark_gpu.sh installs on a GPU machine
# that has PyTorch but no OpenMMLab stack and no network: pure-Python wheels of mmengine,
# mmsegmentation, segment-anything and their small dependencies, and mmcv's source (its
# ops are compiled there, against that machine's torch).
#
#   bash tools/device/fetch_wheels.sh [DIR]      # default DIR: .whl (git-ignored locally)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${1:-$ROOT/.whl}"
PY="${PYTHON:-python3}"
mkdir -p "$DIR"
if [ "$DIR" = "$ROOT/.whl" ] && ! grep -qx '/.whl/' "$ROOT/.git/info/exclude" 2>/dev/null; then
  echo '/.whl/' >> "$ROOT/.git/info/exclude"
fi
PIP=("$PY" -m pip --disable-pip-version-check -q download --no-deps -d "$DIR")
"${PIP[@]}" --only-binary=:all: \
  mmengine==0.10.7 mmsegmentation==1.2.2 segment-anything==1.0 \
  addict yapf platformdirs termcolor prettytable wcwidth ftfy "setuptools<70"
"${PIP[@]}" --no-binary=:all: --no-build-isolation mmcv==2.1.0
ls -l "$DIR"
echo "fetched into $DIR; copy it to the GPU machine as .whl in the repository (see tools/device/benchmark_gpu.sh)"
