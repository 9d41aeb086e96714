"""Evaluate a trained DADF checkpoint with mmengine's runner.

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out results/   # metrics.json + predictions.jsonl
    python tools/test.py CONFIG CHECKPOINT --out results/ --overwrite-out  # replace them
    python tools/test.py CONFIG CHECKPOINT --show-dir vis/  # pictures: vis/vis_data/vis_image
    bash tools/dist_test.sh CONFIG CHECKPOINT 8

Each localisation figure is printed beside its baselines (the empty mask, the constant disc
of the training masks on every image and where the model says fake; docs/evaluation.md):
the disc comes from the checkpoint, or is fitted on the config's training set.

The model decides (and, with ``mask_from_fake_only``, gates its masks) at ``--threshold``,
else at the threshold calibrated on the validation set and stored in the checkpoint, else
at 0.5; ``ACC`` is reported at 0.5 (``test_evaluator.score_threshold``, or ``--threshold``)
and, when the checkpoint carries a calibrated threshold, ``ACC@calibrated`` at that one.
"""
import argparse
import json
import math
import os.path as osp
import sys
from typing import Any, Dict, List, Optional

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmseg.registry import DATASETS

import dadf_mm  # noqa: F401
from dadf_mm.engine import (
    disc_from_checkpoint,
    set_calibrated_threshold,
    set_constant_disc,
)
from dadf_mm.engine.constant_disc_hook import fit_or_explain
from dadf_mm.evaluation import (
    ConstantDisc,
    ForgeryMetric,
    ForgeryPredictionWriter,
    format_baseline_table,
)
from dadf_mm.evaluation.constant_disc import dataset_name
from dadf_mm.evaluation.metric_settings import set_on_forgery_metrics
from dadf_mm.evaluation.result_files import write_result_file

from preflight_checks import folder_problems, output_folder_problems
from tool_setup import (
    ToolError,
    add_runner_arguments,
    build_test_runner,
    checkpoint_file,
    decide_for_test,
    load_config,
    preflight,
    probability,
    run_tool,
)

#: the files --out receives
RESULTS = ('metrics.json', 'predictions.jsonl')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a segmentor (DADF)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('--out', help='directory for metrics.json and predictions.jsonl '
                        '(one line per image: score, decision, forged area)')
    parser.add_argument('--overwrite-out', action='store_true',
                        help="replace an earlier run's metrics.json and predictions.jsonl "
                        'in --out (refused without it)')
    parser.add_argument('--show', action='store_true', help='show results in a window')
    parser.add_argument('--show-dir', help='directory for a picture of every test image '
                        '(vis_data/vis_image/test_<name>_0.png): truth and prediction side '
                        'by side, with the fake score, the decision and RIGHT / WRONG')
    parser.add_argument('--wait-time', type=float, default=2, help='--show interval (s)')
    parser.add_argument('--threshold', type=probability, default=None,
                        help='fake-probability threshold of the decision, 0 to 1 (default: '
                        "the one calibrated on the validation set in the checkpoint's meta, "
                        'else 0.5)')
    add_runner_arguments(parser, checkpoint=True)
    return parser.parse_args()


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        sys.exit('test.py: --show/--show-dir need default_hooks.visualization in the config')
    hook['draw'] = True
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def output_problems(args: argparse.Namespace) -> List[str]:
    """What is wrong with --out and --show-dir, found before the test runs."""
    problems = []
    if args.out:
        problems += output_folder_problems(args.out, '--out', RESULTS, args.overwrite_out,
                                           '--overwrite-out')
    if args.show_dir:
        problems += folder_problems(args.show_dir, '--show-dir')
    return problems


def save_metrics(metrics: Dict[str, float], out: str, writers: List) -> None:
    """metrics.json in ``out``; where it or the predictions could not be written, the
    metrics are printed and the tool ends with a line naming the files written instead."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else float(v))
             for k, v in metrics.items()}
    text = json.dumps(clean, indent=2)
    path = osp.join(out, 'metrics.json')
    written = write_result_file(text, path)
    lost = [(w.out_file, w.written_to) for w in writers if w.written_to not in (None, w.out_file)]
    if written != path:
        lost.insert(0, (path, written))
    if lost:
        print(text)
        raise ToolError('could not write to --out ' + '; '.join(
            f'{wanted}: written to {instead}' for wanted, instead in lost) +
            ' instead (the metrics are printed above); check the folder and its disk')
    print(f'metrics and predictions written to {out}')


def constant_disc(cfg: Config, checkpoint: Any) -> Optional[ConstantDisc]:
    """The constant disc of the baselines: the checkpoint's, else one fitted on the config's
    training set; None (and one line why) where neither is there."""
    disc = disc_from_checkpoint(checkpoint)
    if disc is not None:
        print_log(f'constant disc: from the checkpoint (fitted on {disc.num_masks} training '
                  'masks)', logger='current')
        return disc
    without = 'only the empty-mask baseline is shown: the checkpoint carries no constant disc'
    train_set = (cfg.get('train_dataloader') or {}).get('dataset')
    if not train_set:
        print_log(f'test.py: {without} and the config has no train_dataloader.dataset to fit '
                  'one on', logger='current')
        return None
    try:
        dataset = DATASETS.build(train_set)
    except Exception as err:  # noqa: B902  the training data may be absent where one tests
        print_log(f'test.py: {without} and the config\'s training set cannot be read to fit '
                  f'one ({" ".join(str(err).split())[:200]})', logger='current')
        return None
    print_log(f'constant disc: the checkpoint carries none; fitting it on the config\'s '
              f'training set {dataset_name(dataset)}', logger='current')
    return fit_or_explain(dataset)


def print_baselines(metrics: Dict[str, float], evaluator_metrics: List) -> None:
    """Each ForgeryMetric's localisation figures beside their baselines."""
    for metric in evaluator_metrics:
        if isinstance(metric, ForgeryMetric):
            prefix = f'{metric.prefix}/' if metric.prefix else ''
            table = format_baseline_table(metrics, num_images=metric.localised_images,
                                          num_forged=metric.forged_images, prefix=prefix)
            if table:
                print(table)


def apply_decision_threshold(runner: Any, checkpoint: Any,
                             args: argparse.Namespace) -> Optional[float]:
    """The model decides at --threshold, else at model.test_cfg.score_threshold of
    --cfg-options, else at the checkpoint's calibrated threshold, else at 0.5 (one log line
    says which); ForgeryMetric reports ACC@calibrated at the checkpoint's threshold, and
    ACC at --threshold where given. Returns the calibrated threshold (None: none)."""
    given = args.threshold
    if given is None and 'model.test_cfg.score_threshold' in args.cfg_options:
        given = float(args.cfg_options['model.test_cfg.score_threshold'])
    decided, calibrated = decide_for_test(runner, checkpoint, given, 'test.py')
    set_calibrated_threshold(runner.test_evaluator.metrics, calibrated)
    # the disc where the model says fake, drawn where it decides
    set_on_forgery_metrics(runner.test_evaluator.metrics, decision_threshold=decided)
    for metric in runner.test_evaluator.metrics:
        if args.threshold is not None and hasattr(metric, 'score_threshold'):
            metric.score_threshold = args.threshold
        if isinstance(metric, ForgeryPredictionWriter):
            metric.threshold = decided
    return calibrated


def print_accuracies(metrics: Dict[str, float], evaluator_metrics: List) -> None:
    """ACC at the metric's threshold beside ACC@calibrated, frame and video."""
    for metric in evaluator_metrics:
        if not isinstance(metric, ForgeryMetric) or metric.calibrated_threshold is None:
            continue
        prefix = f'{metric.prefix}/' if metric.prefix else ''
        parts = [f'{level}ACC {metrics.get(f"{prefix}{level}ACC", math.nan):.2f} at '
                 f'{metric.score_threshold:g}, '
                 f'{metrics.get(f"{prefix}{level}ACC@calibrated", math.nan):.2f} at the '
                 f'calibrated {metric.calibrated_threshold:.4f}' for level in ('', 'video_')]
        print('; '.join(parts))


def main() -> None:
    args = parse_args()
    if osp.isdir(args.checkpoint):  # a work dir: its best checkpoint (else the latest)
        args.checkpoint = checkpoint_file(args.checkpoint)
    cfg = load_config(args, 'test.py')
    cfg.load_from = args.checkpoint
    # every problem of the inputs and outputs together, before the runner prints anything
    preflight(cfg, args, train=False, problems=output_problems(args))
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) \
            else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(
            type='ForgeryPredictionWriter', out_file=osp.join(args.out, 'predictions.jsonl'))]
    # the checkpoint checked to hold the model's weights; its meta's constant disc
    runner, checkpoint = build_test_runner(cfg, args, args.checkpoint)
    set_constant_disc(runner.test_evaluator.metrics, constant_disc(cfg, checkpoint))
    apply_decision_threshold(runner, checkpoint, args)
    del checkpoint
    metrics = runner.test()
    if is_main_process():
        print_baselines(metrics, runner.test_evaluator.metrics)
        print_accuracies(metrics, runner.test_evaluator.metrics)
    if args.out and is_main_process():
        writers = [m for m in runner.test_evaluator.metrics
                   if isinstance(m, ForgeryPredictionWriter)]
        save_metrics(metrics, args.out, writers)
    if args.show_dir and is_main_process():
        print(f'pictures written to {osp.join(args.show_dir, "vis_data", "vis_image")}')


if __name__ == '__main__':
    run_tool(main, 'test.py')
