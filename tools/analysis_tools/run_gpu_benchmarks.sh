#!/usr/bin/env bash
# DADF on one GPU: the fast config against the reference path (ViT-H, 1024 px, batch 4), the
# same fast config compiled, and the memory table (arch x input size x batch -> peak memory,
# img/s). Logs and JSON results go to OUT_DIR.
#
#   bash tools/analysis_tools/run_gpu_benchmarks.sh OUT_DIR [STAGE ...]
#       stages: setup shipped compare compile table (default: all, in that order)
#
# shipped: the config as shipped (float32, folded attention, per-block checkpointing), its
# measured training peak next to tools/analysis_tools/memory_estimate.py's estimate.
# Weights are random (speed does not depend on them); set
# SAM_CHECKPOINT=path/to/sam_vit_h_4b8939.pth to measure the RGA correlation on SAM's own.
# Other settings: CONFIG (default configs/dadf/dadf_vit-h_ffpp-hq.py), PYTHON.
#
# On a GPU machine without network that has PyTorch but not the OpenMMLab stack, first run
# tools/download_wheels.sh WHEEL_DIR on a machine with network and copy WHEEL_DIR over: the
# setup stage installs those wheels (WHEEL_DIR, default .whl in the repository) into
# SITE_DIR (default $TMPDIR/dadf_site) and compiles mmcv's ops (CPU kernels, ~2 min on 16
# cores; DADF uses no mmcv CUDA op). Each stage is bounded by a timeout, so a slow stage
# costs its own result only.
set -uo pipefail
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
  sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
shift
cd "$ROOT"
PY="${PYTHON:-python3}"
CONFIG="${CONFIG:-configs/dadf/dadf_vit-h_ffpp-hq.py}"
WHEEL_DIR="${WHEEL_DIR:-$ROOT/.whl}"
SITE_DIR="${SITE_DIR:-${TMPDIR:-/tmp}/dadf_site}"
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(setup shipped compare compile table)
export PYTHONUNBUFFERED=1 PYTHONPATH="$SITE_DIR:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
log() { printf '[run_gpu_benchmarks %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$OUT_DIR/stages.log"; }

# The fast config: forward-mode RGA (one traversal for F and S), float16 encoder (same
# tensor-core rate as bfloat16, 8x finer rounding: corr(S) 0.9987 where bfloat16 gives
# 0.98, docs/performance.md), bias folded into flash attention, noise drawn on the GPU.
# compare and compile measure it without checkpointing (speed), table with (memory).
FAST=(model.noise.mode=jvp model.noise.generator=device
      model.backbone.attn_impl=sdpa_folded model.backbone.compute_dtype=float16
      model.backbone.grad_checkpointing=False)
SAM=()
[ -n "${SAM_CHECKPOINT:-}" ] && SAM=(--sam-checkpoint "$SAM_CHECKPOINT")
SPEED=("$PY" tools/analysis_tools/benchmark_speed.py "$CONFIG" --device cuda --img-size 1024)

setup() {
  if "$PY" -c 'import mmseg, mmcv.ops, segment_anything' 2>/dev/null; then
    log "OpenMMLab stack present"; return 0
  fi
  [ -d "$WHEEL_DIR" ] || { log "no mmseg here and no $WHEEL_DIR: run tools/download_wheels.sh on a machine with network and copy its folder here"; return 1; }
  log "installing the wheels of $WHEEL_DIR into $SITE_DIR"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE_DIR" "$WHEEL_DIR"/*.whl || return 1
  log "building mmcv 2.1.0 ops (CPU kernels) against $("$PY" -c 'import torch; print(torch.__version__)')"
  local build; build="$(mktemp -d)"
  tar -xzf "$WHEEL_DIR/mmcv-2.1.0.tar.gz" -C "$build"
  sed -i 's/-std=c++17/-std=c++20/g; s/std=c++14/std=c++20/g' "$build/mmcv-2.1.0/setup.py"
  (cd "$build/mmcv-2.1.0" && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 FORCE_CUDA=0 \
    MAX_JOBS="$(nproc)" "$PY" -m pip install -q --no-deps --no-build-isolation \
    --no-cache-dir --target "$SITE_DIR" . > "$OUT_DIR/mmcv_build.log" 2>&1) \
    || { tail -n 30 "$OUT_DIR/mmcv_build.log"; return 1; }
  "$PY" -c 'import mmseg, mmcv.ops, segment_anything, dadf_mm; print("stack ready")'
}

shipped() {  # the shipped config: measured training peak and the estimate, side by side
  timeout 300 "${SPEED[@]}" --batch-size 4 --iters 3 --warmup 1 --skip-reference \
    --json "$OUT_DIR/shipped_vit-h_1024_b4.json" 2>&1 | tee "$OUT_DIR/shipped_vit-h_1024_b4.log"
  timeout 120 "$PY" tools/analysis_tools/memory_estimate.py "$CONFIG" --mode both \
    --json "$OUT_DIR/shipped_estimate.json" 2>&1 | tee "$OUT_DIR/shipped_estimate.log"
}

compare() {  # fast vs reference, same run; the reference retries at smaller batches on OOM
  timeout 420 "${SPEED[@]}" --batch-size 4 --iters 5 --warmup 2 "${SAM[@]}" \
    --json "$OUT_DIR/compare_vit-h_1024_b4.json" --cfg-options "${FAST[@]}" \
    2>&1 | tee "$OUT_DIR/compare_vit-h_1024_b4.log"
}

compile() {  # the same fast config with every block compiled (compilation is in warm-up)
  timeout 480 "${SPEED[@]}" --batch-size 4 --iters 5 --warmup 2 --skip-reference "${SAM[@]}" \
    --json "$OUT_DIR/compile_vit-h_1024_b4.json" \
    --cfg-options "${FAST[@]}" model.backbone.compile=True \
    2>&1 | tee "$OUT_DIR/compile_vit-h_1024_b4.log"
}

table() {  # memory table of the fast config's training step, with per-block checkpointing
  timeout 420 "$PY" tools/analysis_tools/benchmark_memory.py "$CONFIG" --device cuda \
    --archs vit_b vit_l vit_h --sizes 512 1024 --batch-sizes 1 4 --iters 3 --warmup 1 \
    --json "$OUT_DIR/memory_table.json" \
    --cfg-options "${FAST[@]}" model.backbone.grad_checkpointing=True \
    2>&1 | tee "$OUT_DIR/memory_table.log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT_DIR/gpu.txt"
for stage in "${STAGES[@]}"; do
  log "stage $stage"
  "$stage" || log "stage $stage failed (exit $?)"
done
log "done; results in $OUT_DIR"
