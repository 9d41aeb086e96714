"""Setting what a run knows only once its checkpoint is read (the constant disc, the
calibrated and the decision threshold) on the ForgeryMetrics of a built evaluator."""
from typing import Any, Iterable

from .forgery_metric import ForgeryMetric


def set_on_forgery_metrics(metrics: Iterable[Any], **values: Any) -> int:
    """Set ``values`` as attributes of every :class:`ForgeryMetric` among ``metrics``.

    Args:
        metrics (Iterable[Any]): An evaluator's metrics (``Evaluator.metrics``).
        **values (Any): Attribute name -> value, e.g. ``decision_threshold=0.7``.

    Returns:
        int: How many metrics received them.
    """
    count = 0
    for metric in metrics:
        if isinstance(metric, ForgeryMetric):
            for name, value in values.items():
                setattr(metric, name, value)
            count += 1
    return count
