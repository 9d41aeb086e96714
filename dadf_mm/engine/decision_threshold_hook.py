"""The decision threshold travels with the model: chosen on the validation set at every
validation and written into every checkpoint's ``meta`` (the best one included), where
``tools/test.py``, ``tools/infer.py``, the inferencer and the web page find it
(:func:`~.decision_threshold.decision_threshold`)."""
import logging
import math
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ..evaluation.calibrated_metrics import CALIBRATION_RULES, THRESHOLD_KEY
from ..evaluation.forgery_metric import ForgeryMetric
from .decision_threshold import META_KEY, calibration_from_checkpoint


@HOOKS.register_module()
class DecisionThresholdHook(Hook):
    """Has the validation's ForgeryMetric choose a decision threshold and stores it in
    every checkpoint saved after that validation (``meta['decision_threshold']``:
    ``threshold``, ``rule`` and the ``iteration`` of the validation).

    A checkpoint saved before the first validation carries none (or, resumed, the one of
    the checkpoint resumed). The rule is the metric's ``calibration`` where the config
    sets one (``val_evaluator.calibration='accuracy'``), else the hook's.

    Args:
        rule (str): ``'eer'`` (the EER point) or ``'accuracy'`` (the best accuracy), see
            :func:`~dadf_mm.evaluation.functional.calibrated_threshold`. Defaults to 'eer'.
    """

    priority = 'NORMAL'  # before the checkpoint hook's after_val_epoch (the best file)

    def __init__(self, *, rule: str = 'eer') -> None:
        if rule not in CALIBRATION_RULES:
            raise ValueError(f'DecisionThresholdHook: rule must be one of '
                             f'{CALIBRATION_RULES}, got {rule!r}')
        self.rule = rule
        self.calibration: Optional[dict] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):
            self.calibration = calibration_from_checkpoint(checkpoint)

    def before_val(self, runner) -> None:
        for metric in runner.val_evaluator.metrics:
            if isinstance(metric, ForgeryMetric) and metric.calibration is None:
                metric.calibration = self.rule

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        rules = [m.calibration for m in runner.val_evaluator.metrics
                 if isinstance(m, ForgeryMetric)]
        keys = [k for k in (metrics or {}) if k.split('/')[-1] == THRESHOLD_KEY]
        if not rules or len(keys) != 1:
            print_log('DecisionThresholdHook: no calibrated threshold from this validation '
                      f'({"no ForgeryMetric" if not rules else f"{len(keys)} thresholds"}); '
                      'checkpoints keep the previous one', logger='current',
                      level=logging.WARNING)
            return
        threshold = float(metrics[keys[0]])
        if math.isfinite(threshold):
            self.calibration = dict(threshold=threshold, rule=rules[0],
                                    iteration=runner.iter)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.calibration is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = dict(self.calibration)
