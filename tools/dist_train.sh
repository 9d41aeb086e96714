#!/usr/bin/env bash
# Train on several processes with torchrun:  bash tools/dist_train.sh CONFIG GPUS [train.py args]
# Several machines, on each:  NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<machine 0> bash tools/dist_train.sh CONFIG 8
# Without GPUs the processes use the CPU (gloo backend).
exec bash "$(dirname "$0")/dist_run.sh" train.py "$2" "$1" "${@:3}"
