#!/usr/bin/env bash
# Train on several processes with torchrun.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args]
# Several machines: run on each with NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT set, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CONFIG 8   # machine 0
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh CONFIG 8   # machine 1
# CPU only (gloo backend): DADF_DIST_BACKEND=gloo bash tools/dist_train.sh CONFIG 2
set -euo pipefail
CONFIG=$1
GPUS=$2
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
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${EXTRA[@]}" "${@:3}"
