#!/usr/bin/env bash
# Test on several processes with torchrun:  bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Several machines and CPU-only runs: as tools/dist_train.sh.
exec bash "$(dirname "$0")/dist_run.sh" test.py "$3" "$1" "$2" "${@:4}"
