"""Estimate the device memory of a DADF config's training or inference step, without a GPU.

    python tools/analysis_tools/memory_estimate.py CONFIG [--batch-size N] [--img-size S]
        [--mode train|infer|both] [--target cuda|cpu] [--cfg-options KEY=VALUE ...]
        [--json FILE]

The model is built on the meta device (no memory, no SAM file) and one step runs there
with every tensor followed from creation to death: parameters, buffers, gradients,
optimizer state, activations saved for backward, the peak of live memory (steady state,
what ``torch.cuda.max_memory_allocated`` reports), the largest single allocation, and for
CUDA the allocator's segment rounding, the CUDA context, kernel workspaces (and with
``--distributed`` DDP's gradient buckets) on top, then the margin for what is not modelled:
``required`` is what the GPU must have. Fused attention and
autocast are those of the target (``dadf_mm.analysis``). ViT-H at 1024 px takes seconds.
"""
import argparse
import json
import time
from typing import Dict, List, Optional

from mmengine.config import Config, DictAction
from mmseg.utils import register_all_modules

import dadf_mm  # noqa: F401
from dadf_mm.analysis import MemoryEstimate, estimate_config_memory


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a DADF config')
    parser.add_argument('--batch-size', type=int, default=None,
                        help="images per step (default: the config's train_dataloader)")
    parser.add_argument('--img-size', type=int, default=None,
                        help="input size (default: the config's backbone.img_size)")
    parser.add_argument('--mode', choices=['train', 'infer', 'both'], default='train')
    parser.add_argument('--target', choices=['cuda', 'cpu'], default='cuda',
                        help='whose attention kernels and allocator to model')
    parser.add_argument('--distributed', action='store_true',
                        help="one process of a multi-GPU (DDP) run: count DDP's gradient "
                        'buckets')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--json', default=None, help='also write the estimates to this file')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, MemoryEstimate]:
    args = parse_args(argv)
    start = time.perf_counter()
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    modes = ['train', 'infer'] if args.mode == 'both' else [args.mode]
    results: Dict[str, MemoryEstimate] = {}
    for mode in modes:
        results[mode] = estimate_config_memory(
            cfg, batch_size=args.batch_size, img_size=args.img_size, mode=mode,
            target=args.target, distributed=args.distributed,
            progress=lambda line: print(line + ' ...', flush=True))
        print(results[mode].format_table())
        print()
    print(f'estimated in {time.perf_counter() - start:.1f} s')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({m: r.to_dict() for m, r in results.items()}, f, indent=1, default=str)
    return results


if __name__ == '__main__':
    main()
