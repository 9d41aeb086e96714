"""Values :class:`~.forgery_metric.ForgeryMetric` reports and logs: localisation over
a set of images, how video scores were grouped, and undefined metrics sent to the log."""
import logging
import warnings
from collections import Counter
from typing import Callable, Dict, Sequence

import numpy as np
from mmengine.logging import print_log

from .functional import MaskCounts, UndefinedMetricWarning, iinc, pbca, pixel_f1, pixel_iou

#: how a sample's video was named (its ``video_id_source``) -> how the log says it, for
#: a set named one way and for a part of a mixed set
VIDEO_GROUPING = {
    'video_id': ('grouped by video_id', 'grouped by video_id'),
    'folder': ('grouped by folder: the list gives no video_id',
               'without video_id grouped by folder'),
    'image': ('each image its own video: the list gives no video_id, so video scores equal '
              'frame scores; give video_id to group frames',
              'without video_id each its own video'),
}


def video_grouping(records: Sequence[dict]) -> str:
    """How the video scores were grouped, for the log.

    Args:
        records (Sequence[dict]): The evaluated samples, each with ``video_id_source``
            (``'video_id'``, ``'folder'`` or ``'image'``).

    Returns:
        str: e.g. ``'grouped by video_id'``; for mixed sources the number of images of
        each, e.g. ``'7 images grouped by video_id, 1 image without video_id each its own
        video'``.
    """
    counts = Counter(r['video_id_source'] for r in records)

    def phrases(source: str) -> tuple:
        return VIDEO_GROUPING.get(source, (f'video ids from {source}', ) * 2)

    if len(counts) == 1:
        return phrases(next(iter(counts)))[0]
    return ', '.join(f'{n} image{"s" if n > 1 else ""} {phrases(source)[1]}'
                     for source, n in counts.most_common())


def localisation_values(counts: MaskCounts) -> Dict[str, float]:
    """PBCA and IINC over all images; F1 and IoU over the images with forged pixels.

    Args:
        counts (MaskCounts): One entry per image.

    Returns:
        dict[str, float]: ``PBCA``, ``IINC`` and, when some image has a forged pixel,
        ``pixel_F1`` and ``pixel_IoU``; means over images, in %.
    """
    metrics = {
        'PBCA': 100.0 * float(np.mean(pbca(counts))),
        'IINC': 100.0 * float(np.mean(iinc(counts))),
    }
    forged = np.asarray(counts.gt) > 0
    if forged.any():
        forged_counts = MaskCounts(*(np.asarray(c)[forged] for c in counts))
        metrics['pixel_F1'] = 100.0 * float(np.mean(pixel_f1(forged_counts)))
        metrics['pixel_IoU'] = 100.0 * float(np.mean(pixel_iou(forged_counts)))
    return metrics


def logged_metric(fn: Callable[..., float], scores: np.ndarray, labels: np.ndarray,
            key: str) -> float:
    """``fn(scores, labels)`` with an undefined-metric warning sent to the log.

    Args:
        fn (Callable[..., float]): The metric, e.g. ``roc_auc``.
        scores (np.ndarray): Fake probabilities.
        labels (np.ndarray): 1 fake, 0 real.
        key (str): The metric's name in the log.

    Returns:
        float: ``fn``'s value.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always', UndefinedMetricWarning)
        value = fn(scores, labels)
    for warning in caught:
        if issubclass(warning.category, UndefinedMetricWarning):
            print_log(f'ForgeryMetric: {key}: {warning.message}', logger='current',
                      level=logging.WARNING)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return value
