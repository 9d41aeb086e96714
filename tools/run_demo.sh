#!/usr/bin/env bash
# The built-in demo: train the small SAM-architecture DADF on synthetic self-blended
# forgeries, test the best checkpoint on held-out images, and run inference on a few of them.
#   bash tools/run_demo.sh [WORK_DIR]        (default work_dirs/demo)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="${1:-$ROOT/work_dirs/demo}"
CONFIG="$ROOT/configs/dadf/dadf_sam-tiny_synthetic-demo.py"
cd "$ROOT"
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
CKPT="$(ls "$WORK"/best_*.pth | head -n 1)"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test" --out "$WORK/test"
SAMPLES="$("$PY" - <<'PYEOF'
import json, os.path as osp
from mmengine.config import Config
from mmseg.registry import DATASETS
from mmseg.utils import register_all_modules
import dadf_mm  # noqa: F401
register_all_modules()
cfg = Config.fromfile('configs/dadf/dadf_sam-tiny_synthetic-demo.py')
ds = DATASETS.build(cfg.test_dataloader.dataset)
print(osp.dirname(ds.get_data_info(0)['img_path']))
PYEOF
)"
mkdir -p "$WORK/infer_inputs"
ls "$SAMPLES" | head -n 8 | while read -r f; do cp "$SAMPLES/$f" "$WORK/infer_inputs/"; done
"$PY" tools/infer.py "$CONFIG" "$CKPT" "$WORK/infer_inputs" --out "$WORK/infer"
echo "demo done: metrics in $WORK/test/metrics.json, pictures in $WORK/infer/"
