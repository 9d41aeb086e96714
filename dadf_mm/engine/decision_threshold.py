"""The decision threshold a model is used at: the one the user gives, else the one
calibrated on the validation set and stored in the checkpoint's ``meta``
(:class:`~.decision_threshold_hook.DecisionThresholdHook`), else 0.5.

:func:`decision_threshold` is the one place that choice is made; ``tools/test.py``,
``tools/infer.py``, the inferencer and the web page all call it.
"""
import math
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional

#: the key of a checkpoint's ``meta`` holding ``dict(threshold=, rule=, iteration=)``
META_KEY = 'decision_threshold'
#: the threshold of a checkpoint that carries none
DEFAULT_THRESHOLD = 0.5
RULE_NAMES = {'eer': 'the EER point', 'accuracy': 'the best accuracy'}


@dataclass(frozen=True)
class DecisionThreshold:
    """A threshold and where it came from.

    Args:
        value (float): ``score > value`` decides fake.
        source (str): ``'given'``, ``'calibrated'`` or ``'default'``.
        description (str): one line saying which threshold and why.
    """

    value: float
    source: str
    description: str


def calibration_from_checkpoint(checkpoint: Any) -> Optional[dict]:
    """The calibration a checkpoint's ``meta`` carries.

    Args:
        checkpoint (Any): What a checkpoint file holds.

    Returns:
        dict | None: ``dict(threshold=, rule=, iteration=)``; None when the checkpoint
        carries none or an unusable one.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    values = meta.get(META_KEY) if isinstance(meta, dict) else None
    if not isinstance(values, dict):
        return None
    threshold = values.get('threshold')
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        return None
    return values


def decision_threshold(checkpoint: Any, given: Optional[float] = None) -> DecisionThreshold:
    """The threshold to decide at: ``given``, else the checkpoint's calibrated one, else
    :data:`DEFAULT_THRESHOLD`.

    Args:
        checkpoint (Any): What the checkpoint file holds (None without a checkpoint).
        given (float, optional): The user's threshold. Defaults to None.

    Returns:
        DecisionThreshold: The threshold, its source and a line describing it.
    """
    if given is not None:
        return DecisionThreshold(float(given), 'given',
                                 f'decision threshold {given:.4f} (given)')
    calibration = calibration_from_checkpoint(checkpoint)
    if calibration is None:
        return DecisionThreshold(DEFAULT_THRESHOLD, 'default', (
            f'decision threshold {DEFAULT_THRESHOLD} (the checkpoint carries no calibrated '
            'threshold; pass one to choose another)'))
    value = float(calibration['threshold'])
    rule = RULE_NAMES.get(calibration.get('rule'), str(calibration.get('rule')))
    when = calibration.get('iteration')
    at = f' of iteration {when}' if when is not None else ''
    return DecisionThreshold(value, 'calibrated', (
        f'decision threshold {value:.4f} (calibrated at {rule} on the validation '
        f'set{at}, stored in the checkpoint)'))


def decide_at_threshold(model: Any, checkpoint: Any,
                        given: Optional[float] = None) -> DecisionThreshold:
    """:func:`decision_threshold`, set as the model's ``test_cfg.score_threshold`` (where
    ``mask_from_fake_only`` gates its masks by the decision).

    Args:
        model (Any): The segmentor (not a wrapper).
        checkpoint (Any): What the checkpoint file holds (None without a checkpoint).
        given (float, optional): The user's threshold. Defaults to None.

    Returns:
        DecisionThreshold: The threshold, its source and a line describing it.
    """
    decision = decision_threshold(checkpoint, given)
    model.test_cfg = dict(getattr(model, 'test_cfg', None) or {},
                          score_threshold=decision.value)
    return decision


def set_calibrated_threshold(metrics: Iterable[Any], threshold: Optional[float]) -> int:
    """Give a calibrated threshold to every ForgeryMetric among ``metrics``, to report
    ``ACC@calibrated`` at.

    Args:
        metrics (Iterable[Any]): An evaluator's metrics (``Evaluator.metrics``).
        threshold (float, optional): The threshold; None reports none.

    Returns:
        int: How many metrics received it.
    """
    from ..evaluation.metric_settings import set_on_forgery_metrics
    return set_on_forgery_metrics(metrics, calibrated_threshold=threshold)


def calibration_problems(cfg: Any) -> List[str]:
    """Rules of calibration a config names that do not exist, found before a run starts
    (``val_evaluator.calibration``, ``DecisionThresholdHook``'s ``rule``).

    Args:
        cfg (Any): The config (after ``--cfg-options``).

    Returns:
        list[str]: One line per unknown rule, naming its key and the rules there are.
    """
    rules = tuple(RULE_NAMES)
    fix = ' or '.join(f"'{rule}' ({name})" for rule, name in RULE_NAMES.items())
    evaluators = cfg.get('val_evaluator') or []
    evaluators = evaluators if isinstance(evaluators, (list, tuple)) else [evaluators]
    found = [(f'val_evaluator{f".{i}" if len(evaluators) > 1 else ""}.calibration',
              e.get('calibration')) for i, e in enumerate(evaluators) if isinstance(e, dict)]
    found += [(f'custom_hooks.{i}.rule', h.get('rule', 'eer'))
              for i, h in enumerate(cfg.get('custom_hooks') or [])
              if isinstance(h, dict) and h.get('type') == 'DecisionThresholdHook']
    return [f'{key}: {value!r} is not a calibration rule; use {fix}'
            for key, value in found if value is not None and value not in rules]
