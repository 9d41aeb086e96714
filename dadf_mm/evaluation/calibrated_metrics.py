"""ForgeryMetric's figures at a calibrated decision threshold: the threshold chosen on the
evaluated set itself (a validation) or given (the one a checkpoint carries)."""
import logging
from typing import Dict, Optional

import numpy as np
from mmengine.logging import print_log

from .functional import CALIBRATION_RULES, binary_accuracy, calibrated_threshold

#: the key of the threshold among the metrics (a probability, not a %)
THRESHOLD_KEY = 'calibrated_threshold'
__all__ = ['CALIBRATION_RULES', 'THRESHOLD_KEY', 'choose_threshold', 'calibrated_values']


def choose_threshold(scores: np.ndarray, labels: np.ndarray, rule: str) -> Optional[float]:
    """:func:`~.functional.calibrated_threshold` of frame scores, or None (logged) when the
    set holds one class only.

    Args:
        scores (np.ndarray): Fake probabilities, one per sample.
        labels (np.ndarray): Labels, 1 fake and 0 real.
        rule (str): ``'eer'`` or ``'accuracy'``.

    Returns:
        float | None: The threshold, or None.
    """
    if labels.min() == labels.max():
        print_log(f'ForgeryMetric: no decision threshold calibrated ({rule}): all '
                  f'{labels.size} samples are {"fake" if labels[0] else "real"}',
                  logger='current', level=logging.WARNING)
        return None
    threshold = calibrated_threshold(scores, labels, rule=rule)
    print_log(f'ForgeryMetric: decision threshold calibrated on these {labels.size} '
              f'samples at the {"EER point" if rule == "eer" else "best accuracy"}: '
              f'{threshold:.4f}', logger='current')
    return threshold


def calibrated_values(threshold: float, scores: np.ndarray, labels: np.ndarray,
                      video_scores: np.ndarray, video_labels: np.ndarray
                      ) -> Dict[str, float]:
    """The threshold and the accuracies at it.

    Args:
        threshold (float): The calibrated threshold.
        scores (np.ndarray): Frame scores.
        labels (np.ndarray): Frame labels.
        video_scores (np.ndarray): Video scores.
        video_labels (np.ndarray): Video labels.

    Returns:
        dict: ``calibrated_threshold``, ``ACC@calibrated`` and ``video_ACC@calibrated``
        (in %).
    """
    return {
        THRESHOLD_KEY: float(threshold),
        'ACC@calibrated': 100.0 * binary_accuracy(scores, labels, threshold=threshold),
        'video_ACC@calibrated': 100.0 * binary_accuracy(video_scores, video_labels,
                                                        threshold=threshold),
    }
