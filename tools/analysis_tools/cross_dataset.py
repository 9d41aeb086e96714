"""Test one checkpoint on every prepared cross-dataset test set and write one table.

    python tools/analysis_tools/cross_dataset.py CONFIG CHECKPOINT
    python tools/analysis_tools/cross_dataset.py CONFIG CHECKPOINT --datasets celebdf_v2 dfdc
    python tools/analysis_tools/cross_dataset.py CONFIG CHECKPOINT --data-root dfdc=/data/dfdc

The test sets are the ``<name>_test`` presets of
configs/_base_/datasets/cross_dataset_tests.py, in the order of its ``cross_datasets`` list
(else as the file defines them). Each runs with CONFIG's model, test pipeline (the model
sees its own input size) and evaluator, localisation measured where the set has masks. By
default every prepared set runs (its annotation list exists); the others are listed with
the command that makes them.

Each finished set's metrics go to ``<work dir>/<name>.json`` with the checkpoint (size and
modification time) and the config (a hash) they came from; a rerun skips the sets done
with the same checkpoint and config, so a crash loses only the set it was running. The
table (frame and video AUC and EER, ACC, PBCA / IINC where masks exist) is printed and
written as cross_dataset.md, .csv and .json in the work dir (default
work_dirs/<config name>/cross_dataset).
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/, for tool_setup
from mmengine.config import Config  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402
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
from dadf_mm.evaluation import ForgeryMetric  # noqa: E402
from dadf_mm.evaluation.cross_dataset_table import (  # noqa: E402
    markdown_table,
    table_row,
    write_tables,
)

from config_values import config_value_problems  # noqa: E402
from preflight_checks import (  # noqa: E402
    PreflightError,
    checkpoint_problems,
    data_problems,
    folder_problems,
)
from tool_setup import (  # noqa: E402
    ToolError,
    add_config_arguments,
    checkpoint_file,
    load_config,
    one_line,
    run_tool,
)

TOOL = 'cross_dataset.py'
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRESETS = osp.join(REPO, 'configs', '_base_', 'datasets', 'cross_dataset_tests.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a checkpoint on every prepared '
                                     'cross-dataset test set; one table of the results')
    parser.add_argument('config', help="the model's config (its test pipeline and "
                        'evaluator are used)')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('--datasets', nargs='+', action='extend', metavar='NAME',
                        help='the test sets to run, in this order (default: every prepared '
                        'one of --presets)')
    parser.add_argument('--data-root', nargs='+', action='extend', default=[],
                        metavar='NAME=PATH',
                        help="where a test set's converted data is, instead of its preset's "
                        'data_root')
    parser.add_argument('--presets', default=PRESETS, help='the file of <name>_test dataset '
                        'presets (default: configs/_base_/datasets/cross_dataset_tests.py)')
    parser.add_argument('--work-dir', help='where <name>.json per test set, the table and '
                        'the logs go (default: work_dirs/<config name>/cross_dataset)')
    add_config_arguments(parser, checkpoint=True)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def read_presets(path: str) -> Dict[str, dict]:
    """The test sets of a presets file, by name (``dfd`` for ``dfd_test``), in table
    order: its ``cross_datasets`` list, else the order of its ``<name>_test`` dicts."""
    if not osp.isfile(path):
        raise ToolError(f'presets file {path!r} not found; pass --presets FILE (e.g. '
                        'configs/_base_/datasets/cross_dataset_tests.py)')
    presets = Config.fromfile(path)
    tests = {key[:-len('_test')]: value.to_dict() for key, value in presets.items()
             if key.endswith('_test') and isinstance(value, dict) and 'type' in value}
    order = presets.get('cross_datasets')
    if order is None:
        return tests
    named = {}
    for entry in order:
        name = entry[:-len('_test')] if entry.endswith('_test') else entry
        if name not in tests:
            raise ToolError(f'{path}: cross_datasets names {entry!r} but the file has no '
                            f'{name}_test dataset dict; add it or take the name out')
        named[name] = tests[name]
    return named


def known_name(name: str, presets: Dict[str, dict], where: str, path: str) -> str:
    """``name`` as :func:`read_presets` keys it; a :class:`ToolError` listing the known
    names when there is no such test set."""
    key = name[:-len('_test')] if name.endswith('_test') else name
    if key not in presets:
        raise ToolError(f'{where}: unknown test set {name!r}; known: '
                        f'{", ".join(presets) or "none"} (the <name>_test presets of {path})')
    return key


def data_roots(items: Sequence[str], presets: Dict[str, dict], path: str) -> Dict[str, str]:
    """``--data-root NAME=PATH`` items by test set name."""
    roots = {}
    for item in items:
        name, sep, root = item.partition('=')
        if not sep or not root:
            raise ToolError(f'--data-root {item!r}: write NAME=PATH, e.g. dfdc=/data/dfdc')
        roots[known_name(name, presets, '--data-root', path)] = root
    return roots


def test_pipeline(cfg: Config, config: str) -> List[Any]:
    """CONFIG's test pipeline, which every test set runs through."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    pipeline = dataset.get('pipeline')
    if not pipeline:
        raise ToolError(f'{config}: test_dataloader.dataset has no pipeline; the test sets '
                        "run through the config's test pipeline (give the dataset one)")
    return copy.deepcopy(list(pipeline))


def dataset_config(preset: dict, pipeline: List[Any], data_root: Optional[str]) -> dict:
    """A test set's dataset config: its preset with CONFIG's test pipeline."""
    dataset = {k: copy.deepcopy(v) for k, v in preset.items() if k != '_delete_'}
    dataset['pipeline'] = copy.deepcopy(pipeline)
    if data_root is not None:
        dataset['data_root'] = data_root
    return dataset


def evaluator_config(evaluator: Any) -> Any:
    """CONFIG's evaluator, each ``ForgeryMetric`` measuring localisation only on the
    samples with masks (``localization=True`` would refuse a set without them)."""
    evaluator = copy.deepcopy(evaluator)
    for metric in evaluator if isinstance(evaluator, list) else [evaluator]:
        if metric.get('type') in ('ForgeryMetric', ForgeryMetric) and \
                metric.get('localization', 'auto') is True:
            metric['localization'] = 'auto'
    return evaluator


def read_test_set(dataset_cfg: dict, scope: str) -> Tuple[str, Any]:
    """``('ready', dataset)``, ``('missing', message)`` when its list is not there (the
    dataset's message says what makes it: ``MissingDataFileError``, a
    ``FileNotFoundError``) or ``('broken', message)``."""
    with DefaultScope.overwrite_default_scope(scope):
        try:
            dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
            dataset.full_init()
        except FileNotFoundError as err:  # MissingDataFileError is one
            return 'missing', one_line(err)
        except (ValueError, TypeError, KeyError, AssertionError, OSError) as err:
            return 'broken', one_line(err)
    return 'ready', dataset


def check_inputs(cfg: Config, args: argparse.Namespace, names: List[str],
                 configs: Dict[str, dict], checkpoint: str) -> Dict[str, Any]:
    """Every problem of the run in one :class:`PreflightError` before any work; the
    prepared test sets' datasets by name (the others are logged, or, named with
    --datasets, problems)."""
    scope = cfg.get('default_scope') or 'mmseg'
    ready, missing, problems = {}, [], []
    for name in names:
        state, found = read_test_set(configs[name], scope)
        if state == 'missing':
            missing.append(f'{name}: not prepared: {found}')
            continue
        # the preflight's reading: a broken list, or listed files that are not there
        found_problems = data_problems(Config({name: dict(dataset=configs[name]),
                                               'default_scope': scope}), [name],
                                       root_option=f'--data-root {name}=FOLDER')
        if state == 'broken' and not found_problems:  # a dataset that reads its own files
            found_problems = [f'{name}: {found}']
        problems += found_problems
        if state == 'ready':
            ready[name] = found
    if args.datasets:
        problems += missing
    elif not ready and not problems:
        problems.append(f'nothing to test: no test set of {args.presets} is prepared ('
                        + '; '.join(missing) + '); convert one, or pass --data-root '
                        'NAME=PATH where one is')
    problems = config_value_problems(cfg, loaders=['test_dataloader'], train=False,
                                     options=args.cfg_options,
                                     defaults=args.config_defaults) + \
        checkpoint_problems(checkpoint, 'checkpoint file') + problems + \
        folder_problems(cfg.work_dir, 'work dir', 'give another with --work-dir PATH')
    if problems:
        raise PreflightError(problems)
    for line in missing:
        print_log(f'{line}; left out', logger='current')
    return ready


def main() -> None:
    args = parse_args()
    presets = read_presets(args.presets)
    names = list(presets) if not args.datasets else list(dict.fromkeys(
        known_name(name, presets, '--datasets', args.presets) for name in args.datasets))
    roots = data_roots(args.data_root, presets, args.presets)
    checkpoint = checkpoint_file(args.checkpoint)
    if args.work_dir is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        args.work_dir = osp.join('work_dirs', stem, 'cross_dataset')
    cfg = load_config(args, TOOL)
    pipeline = test_pipeline(cfg, args.config)
    evaluator = evaluator_config(cfg.get('test_evaluator'))
    configs = {name: dataset_config(presets[name], pipeline, roots.get(name))
               for name in names}
    ready = check_inputs(cfg, args, names, configs, checkpoint)

    identity = checkpoint_identity(checkpoint)
    records, pending = split_done(
        [(name, name, osp.join(cfg.work_dir, f'{name}.json'),
          config_hash(cfg, configs[name], evaluator)) for name in ready], identity)
    if pending:
        cfg.test_dataloader.dataset = configs[pending[0][0]]
        cfg.test_evaluator = evaluator
        runner, meta = build_runner(cfg, args, checkpoint, 'cross_dataset.py')
        for i, (name, path, fingerprint) in enumerate(pending, start=1):
            dataset = ready[name]
            listed = getattr(dataset, 'ann_file', '')
            print_log(f'test set {i}/{len(pending)}: {name}, {len(dataset)} images'
                      + (f' listed in {listed}' if listed else ''), logger='current')
            metrics, prefix = run_test_set(runner, cfg, name, configs[name], evaluator, meta)
            if not is_main_process():
                continue
            unprefixed = {k[len(prefix):]: v for k, v in metrics.items()
                          if k.startswith(prefix)}
            row = table_row(name, len(dataset), unprefixed)
            records[name] = dict(dataset=name, row=row, metrics=finite(metrics),
                                 checkpoint=identity, config=osp.abspath(args.config),
                                 config_hash=fingerprint, data=configs[name].get('data_root'))
            save_run(path, records[name], name)
    if is_main_process():
        rows = [records[name]['row'] for name in ready]
        files = write_tables(rows, cfg.work_dir)
        print(markdown_table(rows), end='')
        print(f'table written to {", ".join(files)}')


if __name__ == '__main__':
    run_tool(main, TOOL)
