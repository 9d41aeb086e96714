#!/usr/bin/env bash
# The built-in demo: train the small SAM-architecture DADF on synthetic self-blended
# forgeries, test the best checkpoint on held-out images, show it on real and fake ones
# with their truth, and run tools/infer.py on the same images.
#   bash tools/run_demo.sh [WORK_DIR]        (default work_dirs/demo)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="${1:-$ROOT/work_dirs/demo}"
CONFIG="$ROOT/configs/dadf/dadf_sam-tiny_synthetic-demo.py"
cd "$ROOT"
# --resume: a second run continues (or re-tests) the first one instead of overwriting it
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK" --resume
CKPT="$(ls "$WORK"/best_*.pth | head -n 1)"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test" --out "$WORK/test" --overwrite-out
# the first 4 real and the first 4 fake test images: truth and prediction side by side,
# RIGHT (green) or WRONG (red), so the model's errors show
"$PY" tools/demo_showcase.py "$CONFIG" "$CKPT" --out "$WORK/showcase"
# the user's tool on the same images (named real_* / fake_*; it knows no truth)
"$PY" tools/infer.py "$CONFIG" "$CKPT" "$WORK/showcase/inputs" --out "$WORK/infer"
echo "demo done: metrics in $WORK/test/metrics.json, validation pictures in" \
     "$WORK/<timestamp>/vis_data/vis_image (and TensorBoard: tensorboard --logdir $WORK)," \
     "real and fake test images with truth and prediction in $WORK/showcase/showcase.png," \
     "tools/infer.py outputs in $WORK/infer/"
