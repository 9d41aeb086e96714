"""Not a program: the command-line arguments and set-up that the benchmark tools share
(``benchmark_speed.py``, ``benchmark_memory.py``, ``rga_precision_study.py`` in this
folder, which Python puts first on a script's import path). What they measure is in the
library (``dadf_mm.analysis``)."""
import argparse
import json
from typing import Callable, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmseg.utils import register_all_modules

from dadf_mm.analysis.benchmark_cases import NotADADFConfig
from dadf_mm.apis.inferencer import default_device


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the arguments every benchmark tool takes: ``config``, ``--device``,
    ``--seed``, ``--threads``, ``--json``, ``--verbose``, ``--cfg-options``.

    Args:
        description (str): The tool's one-line description.

    Returns:
        argparse.ArgumentParser: The parser, for the tool to add its own arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help='a DADF config')
    parser.add_argument('--device', default=None, help='cuda or cpu (default: cuda if any)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of torch (on a shared machine 1 gives stable timings)')
    parser.add_argument('--json', default=None, help='also write the results to this file')
    parser.add_argument('--verbose', action='store_true', help='log every iteration')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--batch-size``, ``--img-size`` and the weights: ``--checkpoint``,
    ``--sam-checkpoint``, ``--adapter-std`` (``benchmark_speed.py``,
    ``rga_precision_study.py``)."""
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--img-size', type=int, default=None,
                        help="input size (default: the config's backbone.img_size)")
    parser.add_argument('--checkpoint', default=None, help='a trained DADF checkpoint')
    parser.add_argument('--sam-checkpoint', default=None, help='an official SAM checkpoint')
    parser.add_argument('--adapter-std', type=float, default=0.02,
                        help='std of the random adapter outputs (random weights only; 0 '
                        'keeps the adapters the identity, as at the start of training)')


def load_benchmark(args: argparse.Namespace) -> Tuple[Config, torch.device]:
    """The config with ``--cfg-options`` merged, and the device, with mmseg's modules
    registered and ``--threads`` applied."""
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    device = torch.device(args.device or default_device())
    if args.threads:
        torch.set_num_threads(args.threads)
    return cfg, device


def run_benchmark(parser: argparse.ArgumentParser,
                  job: Callable[[argparse.Namespace, Config, torch.device], dict],
                  argv: Optional[List[str]] = None) -> dict:
    """Parse ``argv``, run ``job(args, cfg, device)`` and write its summary to ``--json``.

    A config whose model is not a DADF ends the program with one line naming the tool.

    Args:
        parser (argparse.ArgumentParser): From :func:`benchmark_parser`.
        job (Callable): The tool's measurement; returns a JSON-serialisable summary.
        argv (list[str], optional): Arguments. Defaults to ``sys.argv[1:]``.

    Returns:
        dict: The summary.
    """
    args = parser.parse_args(argv)
    cfg, device = load_benchmark(args)
    try:
        summary = job(args, cfg, device)
    except NotADADFConfig as err:
        raise SystemExit(f'{parser.prog}: {err}') from err
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(summary, f, indent=1, default=str)
    return summary
