#!/usr/bin/env bash
# Test on several processes with torchrun.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Several machines and the CPU-only gloo backend: as in tools/dist_train.sh.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-${MASTER_PORT:-29500}}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python)}"
EXTRA=()
if [ -n "${DADF_DIST_BACKEND:-}" ]; then
  EXTRA=(--cfg-options "env_cfg.dist_cfg.backend=$DADF_DIST_BACKEND")
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PY" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${EXTRA[@]}" "${@:4}"
