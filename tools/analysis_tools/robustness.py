"""Test one checkpoint on CONFIG's test split under JPEG compression, Gaussian blur,
Gaussian noise and downscaling, and write one table and one plot per metric.

    python tools/analysis_tools/robustness.py CONFIG CHECKPOINT
    python tools/analysis_tools/robustness.py CONFIG CHECKPOINT --perturbations jpeg blur
    python tools/analysis_tools/robustness.py CONFIG CHECKPOINT --levels jpeg=90,70 noise=8.1

Severity 0 is the unperturbed test split (tools/test.py's numbers); severities 1 to 5 are
the levels of published protocols (dadf_mm/datasets/transforms/perturbation.py):

- jpeg: quality 90, 80, 70, 60, 50 (IMDL-BenCo's robustness test);
- blur: Gaussian kernel 7, 9, 13, 17, 21 with sigma kernel / 6 (DeeperForensics-1.0);
- noise: Gaussian, sigma 8.1, 11.4, 18.0, 25.5, 57.0 grey levels (DeeperForensics-1.0's
  variances 0.001 to 0.05 on a 0-1 scale);
- downscale: by 2, 3, 4, 5, 6 and back up, bilinear (DeeperForensics-1.0).

The perturbation (``ImagePerturbation``) goes right after the test pipeline loads the
image, so it acts on the image at its own size, before the model's resizing; masks are not
touched, and the noise of an image is seeded by its path (a rerun sees the same noise).

The model is loaded once. Each finished run's metrics go to
``<work dir>/<perturbation>_<severity>.json`` with the checkpoint and the config they came
from; a rerun skips the runs done with the same checkpoint and config. The table is printed
and written as robustness.md, .csv and .json, and each metric's plot as
robustness_<metric>.png, in the work dir (default work_dirs/<config name>/robustness).
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/, for tool_setup
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from robustness_report import markdown_table, write_plots, write_tables  # noqa: E402
from test_set_runs import (  # noqa: E402
    build_runner,
    checkpoint_identity,
    config_hash,
    finite,
    run_test_set,
    save_run,
    split_done,
)

import dadf_mm  # noqa: F401,E402
from dadf_mm.datasets.transforms.perturbation import (  # noqa: E402
    LEVEL_NAMES,
    PERTURBATION_LEVELS,
    level_problem,
)
from dadf_mm.evaluation.cross_dataset_table import COLUMNS  # noqa: E402

from preflight_checks import folder_problems  # noqa: E402
from tool_setup import (  # noqa: E402
    ToolError,
    add_config_arguments,
    checkpoint_file,
    load_config,
    preflight,
    run_tool,
)

TOOL = 'robustness.py'
#: one test run: perturbation kind ('none' for the unperturbed split), severity, level
Run = Tuple[str, int, Optional[float]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint on the test split under '
                                     'JPEG, blur, noise and downscaling; one table and one '
                                     'plot per metric')
    parser.add_argument('config', help="the model's config (its test split, pipeline and "
                        'evaluator are used)')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('--perturbations', nargs='+', metavar='KIND',
                        help=f'the perturbations to run (default: all of '
                        f'{", ".join(PERTURBATION_LEVELS)})')
    parser.add_argument('--levels', nargs='+', action='extend', default=[],
                        metavar='KIND=L1,L2,...',
                        help="a perturbation's levels instead of the protocol's five, e.g. "
                        'jpeg=95,75 (severity 1, 2, ... in this order)')
    parser.add_argument('--work-dir', help='where one JSON per run, the table and the plots '
                        'go (default: work_dirs/<config name>/robustness)')
    add_config_arguments(parser, checkpoint=True)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value == int(value) else value


def planned_runs(kinds: Optional[List[str]], items: List[str]) -> List[Run]:
    """The runs in table order: the unperturbed split, then each kind's severities."""
    known = ', '.join(PERTURBATION_LEVELS)
    for kind in kinds or []:
        if kind not in PERTURBATION_LEVELS:
            raise ToolError(f'--perturbations: unknown perturbation {kind!r}; known: {known}')
    levels = {kind: list(values) for kind, values in PERTURBATION_LEVELS.items()}
    for item in items:
        kind, sep, text = item.partition('=')
        if not sep or kind not in PERTURBATION_LEVELS:
            raise ToolError(f'--levels {item!r}: write KIND=L1,L2,... with KIND one of '
                            f'{known}, e.g. jpeg=90,70')
        try:
            levels[kind] = [_number(part) for part in text.split(',')]
        except (ValueError, OverflowError):
            raise ToolError(f'--levels {item!r}: the levels must be numbers separated by '
                            'commas, e.g. jpeg=90,70') from None
        for level in levels[kind]:
            problem = level_problem(kind, level)
            if problem:
                raise ToolError(f'--levels {item!r}: {problem}')
    runs: List[Run] = [('none', 0, None)]
    for kind in dict.fromkeys(kinds or PERTURBATION_LEVELS):
        runs += [(kind, i, level) for i, level in enumerate(levels[kind], start=1)]
    return runs


def loading_index(pipeline: List[Any], config: str) -> int:
    """Where the perturbation goes: right after the pipeline's image loading."""
    for i, step in enumerate(pipeline):
        name = step.get('type') if isinstance(step, dict) else None
        name = name if isinstance(name, str) else getattr(name, '__name__', '')
        if name.split('.')[-1].startswith('Load') and 'Image' in name:
            return i + 1
    raise ToolError(f'{config}: test_dataloader.dataset.pipeline loads no image (no '
                    'LoadForgeryImage / LoadImageFromFile); the perturbation goes right '
                    'after the image is loaded')


def run_dataset(dataset: dict, index: int, run: Run) -> dict:
    """The test dataset config of one run: its pipeline with the run's perturbation."""
    dataset = copy.deepcopy(dataset)
    kind, _, level = run
    if kind != 'none':
        dataset['pipeline'].insert(index, dict(type='ImagePerturbation', kind=kind,
                                               level=level))
    return dataset


def level_text(run: Run) -> str:
    """The run's level in words, e.g. ``quality 90`` (``-`` unperturbed)."""
    kind, _, level = run
    if kind == 'none':
        return '-'
    text = f'{LEVEL_NAMES[kind]} {level:g}'
    return text + (f' (sigma {level / 6:.2f})' if kind == 'blur' else '')


def legend(runs: List[Run]) -> Dict[str, str]:
    """Per perturbation, its name and levels for the plots' legend."""
    labels = {}
    for kind in dict.fromkeys(run[0] for run in runs if run[0] != 'none'):
        levels = [f'{run[2]:g}' for run in runs if run[0] == kind]
        labels[kind] = f'{kind} ({LEVEL_NAMES[kind]} {", ".join(levels)})'
    return labels


def main() -> None:
    args = parse_args()
    runs = planned_runs(args.perturbations, args.levels)
    checkpoint = checkpoint_file(args.checkpoint)
    args.checkpoint = checkpoint
    if args.work_dir is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join('work_dirs', stem, 'robustness')
    cfg = load_config(args, TOOL)
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if not dataset.get('pipeline'):
        raise ToolError(f'{args.config}: test_dataloader.dataset has no pipeline')
    dataset = copy.deepcopy(dataset.to_dict() if hasattr(dataset, 'to_dict') else dataset)
    index = loading_index(dataset['pipeline'], args.config)
    preflight(cfg, args, train=False, problems=folder_problems(
        cfg.work_dir, 'work dir', 'give another with --work-dir PATH'))
    evaluator = cfg.get('test_evaluator')

    identity = checkpoint_identity(checkpoint)
    records, pending = split_done(
        [(run, f'{run[0]} severity {run[1]}', osp.join(cfg.work_dir, f'{run[0]}_{run[1]}.json'),
          config_hash(cfg, run_dataset(dataset, index, run), evaluator)) for run in runs],
        identity)
    if pending:
        cfg.test_dataloader.dataset = run_dataset(dataset, index, pending[0][0])
        runner, meta = build_runner(cfg, args, checkpoint, 'robustness.py')
        for i, (run, path, fingerprint) in enumerate(pending, start=1):
            kind, severity, _ = run
            name = 'unperturbed' if kind == 'none' else f'{kind} severity {severity}'
            print_log(f'run {i}/{len(pending)}: {name} ({level_text(run)})', logger='current')
            metrics, prefix = run_test_set(runner, cfg, name, run_dataset(dataset, index, run),
                                           evaluator, meta)
            if not is_main_process():
                continue
            size = len(runner.test_loop.dataloader.dataset)
            row = dict(perturbation=kind, severity=severity, level=level_text(run), images=size)
            row.update({key: finite(metrics).get(prefix + key) for key in COLUMNS})
            records[run] = dict(run=list(run), row=row, metrics=finite(metrics),
                                checkpoint=identity, config=osp.abspath(args.config),
                                config_hash=fingerprint)
            save_run(path, records[run], name)
    if is_main_process():
        rows = [records[run]['row'] for run in runs]
        files = write_tables(rows, cfg.work_dir) + write_plots(rows, cfg.work_dir, legend(runs))
        print(markdown_table(rows), end='')
        print(f'table and plots written to {", ".join(files)}')


if __name__ == '__main__':
    run_tool(main, TOOL)
