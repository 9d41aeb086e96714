#!/usr/bin/env bash
# torchrun for the tools: bash tools/dist_run.sh SCRIPT NPROC [SCRIPT args]
# (tools/dist_train.sh and tools/dist_test.sh call it). Environment:
#   NNODES, NODE_RANK, MASTER_ADDR, PORT / MASTER_PORT   several machines
# Without GPUs the processes run on the CPU with the gloo backend.
set -euo pipefail
SCRIPT=$1
NPROC=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python)}"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PY" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-${MASTER_PORT:-29500}}" \
  --nproc_per_node="$NPROC" "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
