"""How RGA's signal S fares under each way of computing it: corr(S, S_fp32) per strategy.

    python tools/analysis_tools/rga_precision_study.py CONFIG [--batch-size 2]
        [--adapter-std 0] [--strategies bfloat16 'jvp, float32'] [--device cuda]

Each strategy (two views in one batch or forward mode, in float32, bfloat16 or float16, at
the config's sigma or a multiple) computes ``S = |F_gau - F|`` on one batch; it is compared
with the float32 ``S`` of two separate views at the same sigma, with the same weights
(random unless ``--checkpoint`` or ``--sam-checkpoint``), input and noise, and printed as a
Markdown table (docs/performance.md, "RGA's signal under reduced precision").
"""
import argparse
import copy
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

import dadf_mm  # noqa: F401
from dadf_mm.analysis.benchmark_cases import (
    arch_label,
    benchmark_model_config,
    build_benchmark_model,
    make_batch,
    reference_config,
)
from dadf_mm.analysis.step_timing import device_name
from dadf_mm.models.utils.rga_fidelity import rga_signal_fidelity

from benchmark_setup import (
    add_model_arguments,
    benchmark_parser,
    run_benchmark,
)

#: Ways to obtain S, against the float32 S of two separate views at the same sigma:
#: (label, model keys, backbone keys, sigma multiple).
PRECISION_STRATEGIES = (
    ('two views in one batch, float32', dict(mode='batched'), {}, 1),
    ('two views in one batch, bfloat16', dict(mode='batched'),
     dict(compute_dtype='bfloat16'), 1),
    ('two views in one batch, float16', dict(mode='batched'),
     dict(compute_dtype='float16'), 1),
    ('two views, bfloat16, sigma x10', dict(mode='batched'),
     dict(compute_dtype='bfloat16'), 10),
    ('two views, bfloat16, sigma x30', dict(mode='batched'),
     dict(compute_dtype='bfloat16'), 30),
    ('two views, float16, sigma x10', dict(mode='batched'),
     dict(compute_dtype='float16'), 10),
    ('jvp, float32', dict(mode='jvp'), {}, 1),
    ('jvp, bfloat16', dict(mode='jvp'), dict(compute_dtype='bfloat16'), 1),
    ('jvp, float16', dict(mode='jvp'), dict(compute_dtype='float16'), 1),
)


def precision_study(args: argparse.Namespace, cfg: Config, device: torch.device) -> dict:
    """corr(S, S_fp32) of every strategy in :data:`PRECISION_STRATEGIES` on one batch.

    Args:
        args (argparse.Namespace): The parsed arguments.
        cfg (Config): The config, ``--cfg-options`` merged.
        device (torch.device): Where the models run.

    Returns:
        dict: ``config``, ``device``, ``img_size``, ``adapter_std`` and ``rows``
        (``strategy``, ``sigma`` and :func:`rga_signal_fidelity`'s values).
    """
    base = benchmark_model_config(cfg, img_size=args.img_size,
                                  sam_checkpoint=args.sam_checkpoint)
    img_size = base['backbone'].get('img_size', 1024)
    sigma = (base.get('noise') or {}).get('std', 1e-3)
    inputs, samples = make_batch(args.batch_size, img_size, device=device, seed=args.seed)
    metas = [s.metainfo for s in samples]
    print(f'RGA precision study of {args.config} on {device_name(device)}: arch '
          f"{arch_label(base)}, {img_size} px, batch {args.batch_size}, "
          f'adapter output std {args.adapter_std:g}', flush=True)
    build = dict(device=device, seed=args.seed, checkpoint=args.checkpoint,
                 adapter_std=args.adapter_std)
    references: Dict[int, torch.nn.Module] = {}
    rows = []
    strategies = [st for st in PRECISION_STRATEGIES
                  if not args.strategies or any(word in st[0] for word in args.strategies)]
    for label, keys, backbone_keys, multiple in strategies:
        if multiple not in references:
            ref_cfg = reference_config(base)
            ref_cfg['noise']['std'] = sigma * multiple
            references[multiple] = build_benchmark_model(ref_cfg, **build)
        ref = references[multiple]
        model_cfg = copy.deepcopy(base)
        model_cfg['noise'] = dict(model_cfg.get('noise') or {}, **keys, std=sigma * multiple)
        model_cfg['backbone'].update(dict(compute_dtype='float32', compile=False),
                                     **backbone_keys)
        dtype = model_cfg['backbone'].pop('compute_dtype')
        model = build_benchmark_model(model_cfg, **build)
        # DADF refuses two low-precision views when it is built; the study sets the
        # precision afterwards to measure what that refusal prevents
        model.backbone.compute_dtype = dtype
        model.load_state_dict(ref.state_dict())
        res = rga_signal_fidelity(model, ref, inputs, metas)
        rows.append(dict(strategy=label, sigma=sigma * multiple, **res))
        print(f'  {label}: corr {res["s_corr"]:.5f}', flush=True)
        del model
    print()
    print('| how S is computed | sigma | corr(S, S_fp32) | rel. error of S |')
    print('|---|---|---|---|')
    for r in rows:
        print(f"| {r['strategy']} | {r['sigma']:g} | {r['s_corr']:.4f} | {r['s_rel_err']:.4f} |")
    return dict(config=args.config, device=device_name(device), img_size=img_size,
                adapter_std=args.adapter_std, rows=rows)


def build_parser() -> argparse.ArgumentParser:
    """The benchmark tools' common arguments and this one's."""
    parser = benchmark_parser(__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument('--strategies', nargs='+', default=None,
                        help='only strategies whose label contains one of these words '
                        "(e.g. bfloat16 'jvp, float32')")
    return parser


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the study; returns its summary (also written to ``--json``)."""
    return run_benchmark(build_parser(), precision_study, argv)


if __name__ == '__main__':
    main()
