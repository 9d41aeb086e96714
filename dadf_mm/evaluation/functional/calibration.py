"""A decision threshold chosen from labelled scores (a validation set).

The decision is ``score > threshold`` (as :func:`.detection.binary_accuracy`). Every way
to split the distinct scores is a candidate: the ROC points of
:func:`.detection.roc_curve`, in order of decreasing threshold. A rule picks one point:

- ``'eer'``: the point of :func:`.detection.equal_error_rate` (|FNR - FPR| smallest,
  the first minimum);
- ``'accuracy'``: the point of the highest accuracy; of equally accurate points the first
  (the highest threshold: the fewest faces called fake).

The threshold of a point between the distinct scores ``a > b`` (``a`` and above called
fake) is their midpoint ``(a + b) / 2``; the point calling nothing fake gets the highest
score, the one calling everything fake the number just below the lowest score.
"""
from typing import Sequence

import numpy as np

from .detection import _scores_and_labels, roc_curve

#: the rules :func:`calibrated_threshold` knows
CALIBRATION_RULES = ('eer', 'accuracy')


def calibrated_threshold(scores: Sequence[float], labels: Sequence[int], *,
                         rule: str = 'eer') -> float:
    """The threshold of the ROC point that ``rule`` picks (see the module docstring).

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample; both classes
            must be present.
        rule (str): ``'eer'`` or ``'accuracy'``. Defaults to 'eer'.

    Returns:
        float: The threshold; ``score > threshold`` decides fake.

    Raises:
        ValueError: an unknown rule, or a set without both classes.
    """
    if rule not in CALIBRATION_RULES:
        raise ValueError(f'calibration rule must be one of {CALIBRATION_RULES}, got {rule!r}')
    scores, labels = _scores_and_labels(scores, labels)
    fpr, tpr, thresholds = roc_curve(scores, labels)
    if rule == 'eer':
        index = int(np.argmin(np.abs((1.0 - tpr) - fpr)))
    else:
        num_fake = int(labels.sum())
        correct = tpr * num_fake + (1.0 - fpr) * (labels.size - num_fake)
        index = int(np.argmax(correct))  # the first maximum
    distinct = thresholds[1:]  # decreasing distinct scores
    if index == 0:
        return float(distinct[0])
    if index == distinct.size:
        return float(np.nextafter(distinct[-1], -np.inf))
    return float((distinct[index - 1] + distinct[index]) / 2.0)
