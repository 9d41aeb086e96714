#!/usr/bin/env bash
# Download, on a machine with network, what tools/analysis_tools/run_gpu_benchmarks.sh
# installs on a GPU machine without network that has PyTorch but not the OpenMMLab stack:
# pure-Python wheels of mmengine, mmsegmentation, segment-anything and their small
# dependencies, and mmcv's source (its ops are compiled there, against that machine's torch).
#
#   bash tools/download_wheels.sh WHEEL_DIR
#
# Copy WHEEL_DIR to the GPU machine (as .whl in the repository, or name it with WHEEL_DIR=
# when running run_gpu_benchmarks.sh). PYTHON picks the interpreter (default python3).
set -euo pipefail
if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
  sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 2
fi
DIR="$1"
PY="${PYTHON:-python3}"
mkdir -p "$DIR"
PIP=("$PY" -m pip --disable-pip-version-check -q download --no-deps -d "$DIR")
"${PIP[@]}" --only-binary=:all: \
  mmengine==0.10.7 mmsegmentation==1.2.2 segment-anything==1.0 \
  addict yapf platformdirs termcolor prettytable wcwidth ftfy "setuptools<70"
"${PIP[@]}" --no-binary=:all: --no-build-isolation mmcv==2.1.0
ls -l "$DIR"
echo "downloaded into $DIR; copy it to the GPU machine (see tools/analysis_tools/run_gpu_benchmarks.sh)"
