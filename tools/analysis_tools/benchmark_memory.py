"""Peak memory and img/s of a DADF config's training step per arch x input size x batch.

    python tools/analysis_tools/benchmark_memory.py CONFIG \\
        --archs vit_b vit_h --sizes 512 1024 --batch-sizes 1 2 4 [--device cuda]

Trains the config's model (its fast keys as they are, random weights) for a few steps in
each setting and prints a Markdown table with the device's name: CUDA's
``max_memory_allocated``, or on a CPU the growth of the resident set over a step (a rough
figure). A setting that runs out of memory reads ``OOM``.
"""
import argparse
from typing import List, Optional

import torch
from mmengine.config import Config

import dadf_mm  # noqa: F401
from dadf_mm.analysis.benchmark_cases import (
    arch_label,
    benchmark_model_config,
    build_benchmark_model,
    describe_fast,
    make_batch,
    train_step,
)
from dadf_mm.analysis.step_timing import (
    GiB,
    device_name,
    fmt,
    free_device_memory,
    is_oom,
    measure,
)

from benchmark_setup import benchmark_parser, run_benchmark


def measure_setting(args: argparse.Namespace, model_cfg: dict, *, size: int, batch: int,
                    device: torch.device) -> dict:
    """:func:`measure`'s result for the training step of one setting (``oom`` if even the
    model does not fit)."""
    try:
        model = build_benchmark_model(model_cfg, device=device, seed=args.seed)
    except RuntimeError as err:
        if not is_oom(err):
            raise
        model = None
    res = dict(oom=True, peak=0.0, img_per_s=None, times=[])
    if model is not None:
        inputs, samples = make_batch(batch, size, device=device, seed=args.seed)
        log = print if args.verbose else (lambda msg: None)
        res = measure({'fast': (train_step(model, inputs, samples), batch)}, device=device,
                      warmup=max(args.warmup, 1), iters=args.iters, log=log)['fast']
    del model
    free_device_memory(device)
    return res


def memory_table(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    """Measure every arch x size x batch and print the table.

    Args:
        args (argparse.Namespace): The parsed arguments.
        cfg (Config): The config, ``--cfg-options`` merged.
        device (torch.device): Where the models run.

    Returns:
        dict: ``config``, ``device`` and ``rows`` (``arch``, ``size``, ``batch``, ``oom``,
        ``peak_gib``, ``img_per_s``).
    """
    fast = describe_fast(benchmark_model_config(cfg))  # refuses a config without DADF
    rows = []
    archs = args.archs or ['config']
    total = len(archs) * len(args.sizes) * len(args.batch_sizes)
    print(f'memory table on {device_name(device)} ({total} settings)', flush=True)
    for arch in archs:
        for size in args.sizes:
            for batch in args.batch_sizes:
                model_cfg = benchmark_model_config(
                    cfg, img_size=size, arch=None if arch == 'config' else arch)
                label = arch if arch != 'config' else arch_label(model_cfg)
                print(f'  {label} {size} px batch {batch} ...', flush=True)
                res = measure_setting(args, model_cfg, size=size, batch=batch, device=device)
                rows.append(dict(arch=label, size=size, batch=batch, oom=res['oom'],
                                 peak_gib=res['peak'] / GiB if res['times'] else None,
                                 img_per_s=res['img_per_s']))
    mem_label = 'peak memory (GiB)' if device.type == 'cuda' else 'RSS growth (GiB)'
    print()
    print(f'Training step of the fast path ({fast}) on {device_name(device)}, torch '
          f'{torch.__version__}:')
    print()
    print(f'| arch | input | batch | {mem_label} | img/s |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['arch']} | {r['size']} | {r['batch']} | "
              f"{fmt(r['peak_gib'], '.2f', oom=r['oom'])} | "
              f"{fmt(r['img_per_s'], '.2f', oom=r['oom'])} |")
    return dict(config=args.config, device=device_name(device), rows=rows)


def build_parser() -> argparse.ArgumentParser:
    """The benchmark tools' common arguments and this one's."""
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument('--archs', nargs='+', default=None,
                        help="vit_b vit_l vit_h, or 'config' (default: the config's)")
    parser.add_argument('--sizes', nargs='+', type=int, default=[512, 1024])
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 2, 4])
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per setting')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations per setting (at least 1)')
    return parser


def main(argv: Optional[List[str]] = None) -> dict:
    """Print the table; returns its summary (also written to ``--json``)."""
    return run_benchmark(build_parser(), memory_table, argv)


if __name__ == '__main__':
    main()
