"""Not a program: what the analysis tools that test one checkpoint several times share
(cross_dataset.py over test sets, robustness.py over perturbations): one runner whose model
is loaded once, a test loop per run, a progress bar, and a JSON record per finished run
that a rerun with the same checkpoint and config skips."""
import argparse
import hashlib
import json
import math
import os
import os.path as osp
import sys
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import LOOPS
from mmengine.runner import Runner, TestLoop
from mmengine.utils import ProgressBar

from dadf_mm.engine import disc_from_checkpoint, set_calibrated_threshold, set_constant_disc
from dadf_mm.engine.atomic_files import write_text_atomically
from dadf_mm.evaluation import ForgeryMetric
from dadf_mm.evaluation.cross_dataset_table import COLUMNS
from dadf_mm.evaluation.metric_settings import set_on_forgery_metrics

from tool_setup import build_test_runner, decide_for_test


def config_hash(cfg: Config, dataset_cfg: dict, evaluator: Any) -> str:
    """What a test set's numbers depend on besides the checkpoint, hashed."""
    what = dict(model=cfg.get('model'), dataset=dataset_cfg, evaluator=evaluator,
                test_cfg=cfg.get('test_cfg'))
    text = json.dumps(what, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def checkpoint_identity(path: str) -> Dict[str, Any]:
    """The checkpoint a result came from: its path, size and modification time."""
    stat = os.stat(path)
    return dict(path=osp.abspath(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def done_before(path: str, checkpoint: Dict[str, Any], config: str) -> Optional[dict]:
    """The record in ``path`` when it holds results of this checkpoint and config."""
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
        same = {k: record['checkpoint'][k] for k in ('size', 'mtime_ns')} == \
            {k: checkpoint[k] for k in ('size', 'mtime_ns')}
        return record if same and record['config_hash'] == config and record['row'] else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def split_done(runs: Sequence[Tuple[Any, str, str, str]], checkpoint: Dict[str, Any]
               ) -> Tuple[Dict[Any, Optional[dict]], list]:
    """The runs a rerun skips and the rest: ``runs`` are ``(key, label, path,
    fingerprint)``; returns the record of each key (None where it must run, with a log
    line for each one done before) and ``(key, path, fingerprint)`` of those to run."""
    records: Dict[Any, Optional[dict]] = {}
    pending = []
    for key, label, path, fingerprint in runs:
        records[key] = done_before(path, checkpoint, fingerprint)
        if records[key] is not None:
            print_log(f'{label}: done earlier with this checkpoint and config ({path}); not '
                      'run again', logger='current')
        else:
            pending.append((key, path, fingerprint))
    return records, pending


def save_run(path: str, record: dict, label: str) -> None:
    """Write a finished run's record (whole or not at all) and log its row's figures."""
    write_text_atomically(json.dumps(record, indent=2, default=repr) + '\n', path)
    row = record['row']
    print_log(f'{label}: ' + ', '.join(
        f'{COLUMNS[k]} {row[k]:.2f}' for k in COLUMNS if row[k] is not None) +
        f' (written to {path})', logger='current')


class TestProgress(Hook):
    """A progress bar over each test set's images (main process)."""

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self.bar: Optional[ProgressBar] = None

    def before_test_epoch(self, runner) -> None:
        if is_main_process():
            self.bar = ProgressBar(len(runner.test_dataloader.dataset))

    def after_test_iter(self, runner, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.bar is not None:
            self.bar.update(len(outputs or ()) * get_world_size())
            if self.bar.completed >= self.bar.task_num:
                sys.stdout.write('\n')
                self.bar = None


def test_loop(runner: Runner, cfg: Config, dataset_cfg: dict, evaluator: Any):
    """The runner's test loop on one test set (built as mmengine's runner builds it)."""
    loop_cfg = dict(cfg.get('test_cfg') or {})
    dataloader = dict(cfg.test_dataloader, dataset=dataset_cfg)
    if 'type' in loop_cfg:
        return LOOPS.build(loop_cfg, default_args=dict(runner=runner, dataloader=dataloader,
                                                       evaluator=evaluator))
    return TestLoop(**loop_cfg, runner=runner, dataloader=dataloader, evaluator=evaluator)


def metric_prefix(loop) -> str:
    """The key prefix of the loop's ``ForgeryMetric`` (``''`` for none)."""
    for metric in loop.evaluator.metrics:
        if isinstance(metric, ForgeryMetric):
            return f'{metric.prefix}/' if metric.prefix else ''
    return ''


class CheckpointMeta(NamedTuple):
    """What the checkpoint gives every test set's metric: the constant disc of the
    baselines, the calibrated threshold of ``ACC@calibrated`` (None where absent) and the
    threshold the model decides at."""

    disc: Any
    calibrated_threshold: Optional[float]
    decision_threshold: float


def build_runner(cfg: Config, args: argparse.Namespace, checkpoint: str, tool: str):
    """The runner with CONFIG's model, built and checked as tools/test.py does (mmengine
    loads the checkpoint once, before the first test set), deciding at the threshold
    test.py would (the checkpoint's calibrated one, else 0.5), and the checkpoint's
    :class:`CheckpointMeta`."""
    runner, state = build_test_runner(cfg, args, checkpoint)
    decided, calibrated = decide_for_test(runner, state, None, tool)
    runner.register_hook(TestProgress())
    return runner, CheckpointMeta(disc_from_checkpoint(state), calibrated, decided)


def run_test_set(runner: Runner, cfg: Config, name: str, dataset_cfg: dict,
                 evaluator: Any, meta: CheckpointMeta) -> Tuple[Dict[str, float], str]:
    """The metrics of one test set and the key prefix of its ``ForgeryMetric``."""
    loop = test_loop(runner, cfg, dataset_cfg, evaluator)
    set_constant_disc(loop.evaluator.metrics, meta.disc)
    set_calibrated_threshold(loop.evaluator.metrics, meta.calibrated_threshold)
    # the disc where the model says fake, drawn where it decides
    set_on_forgery_metrics(loop.evaluator.metrics, decision_threshold=meta.decision_threshold)
    # the log line of a set without masks would repeat the previous set's PBCA and IINC
    scalars = runner.message_hub.log_scalars
    for key in [k for k in scalars if k.startswith('test/')]:
        del scalars[key]
    runner._test_loop = loop  # Runner.test() runs a built loop as it is
    metrics = runner.test()
    return metrics, metric_prefix(loop)


def finite(metrics: Dict[str, float]) -> Dict[str, Optional[float]]:
    """The metrics for JSON: NaN (an AUC of a one-class set) as None."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else float(v))
            for k, v in metrics.items()}
