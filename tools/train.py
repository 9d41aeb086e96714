"""Train a DADF model (or any mmseg model) with mmengine's runner.

    python tools/train.py configs/dadf/dadf_vit-h_ffpp-hq.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --amp
    python tools/train.py CONFIG --resume                 # latest checkpoint in work_dir
    python tools/train.py CONFIG --resume PATH.pth        # a given checkpoint
    bash tools/dist_train.sh CONFIG 8                     # 8 processes (torchrun)
"""
import argparse
import logging
from typing import List

import torch
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import dadf_mm  # noqa: F401  (registers DADF even for configs without custom_imports)
from dadf_mm.analysis import memory_fit_problem
from dadf_mm.engine import prepare_training_start

from tool_setup import add_runner_arguments, load_config, preflight, run_tool


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor (DADF)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT, or from the latest checkpoint in the work '
                        'dir when no path is given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--skip-memory-check', action='store_true',
                        help='start even if the estimated memory exceeds the GPU')
    parser.add_argument('--device-memory', type=float, metavar='GIB',
                        help='check the estimate against this much GPU memory (default: '
                        "the GPU's; without a GPU no check is made unless this is given)")
    add_runner_arguments(parser, checkpoint=True)
    return parser.parse_args()


def memory_problems(cfg, args: argparse.Namespace) -> List[str]:
    """The line saying that the estimated training step does not fit the GPU (one process
    uses one), naming the keys that make it fit; empty when it fits or is not checked."""
    if args.skip_memory_check:
        return []
    if args.device_memory is not None:
        device_bytes, name = int(args.device_memory * 1024**3), 'the given device memory'
    elif torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        device_bytes, name = props.total_memory, props.name
    else:
        return []
    problem = memory_fit_problem(cfg, device_bytes=device_bytes, device_name=name,
                                 distributed=args.launcher != 'none')
    return [f'{args.config}: {problem}'] if problem else []


def main() -> None:
    args = parse_args()
    cfg = load_config(args, 'train.py')
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config.', logger='current',
                      level=logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    # every problem of the run's inputs (and whether it fits the GPU), before any work
    preflight(cfg, args, train=True, estimates=[lambda: memory_problems(cfg, args)])
    # one run per work dir; --resume: last_checkpoint or the newest complete checkpoint;
    # a new run never overwrites an earlier one's checkpoints; what is loaded must fit
    prepare_training_start(cfg, resume=args.resume,
                           allow_partial=args.allow_partial_checkpoint)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    run_tool(main, 'train.py')
