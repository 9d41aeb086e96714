#!/usr/bin/env bash
# Test on several processes with torchrun:  bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Several machines: as tools/dist_train.sh; without GPUs the processes use the CPU.
exec bash "$(dirname "$0")/dist_run.sh" test.py "$3" "$1" "$2" "${@:4}"
