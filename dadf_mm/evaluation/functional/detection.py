"""Image- and video-level forgery detection metrics.

Scores are probabilities that a face is fake; labels are 1 for fake (the positive
class) and 0 for real. Values are fractions in [0, 1]; scaling to % is the caller's.
A metric that needs both classes (AUC, EER) returns NaN with an
``UndefinedMetricWarning`` when only one class is present, never 0.
"""
import warnings
from typing import Hashable, List, Sequence, Tuple

import numpy as np


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined on the given set (e.g. AUC with a single class)."""


def _scores_and_labels(scores: Sequence[float],
                       labels: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels).reshape(-1)
    if scores.shape != labels.shape:
        raise ValueError(f'{scores.size} scores but {labels.size} labels')
    if scores.size == 0:
        raise ValueError('no scores given')
    if not np.all(np.isfinite(scores)):
        raise ValueError('scores contain NaN or infinity')
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError(f'labels must be 0 (real) or 1 (fake), got {np.unique(labels)}')
    return scores, labels.astype(np.int64)


def _has_both_classes(labels: np.ndarray, metric: str) -> bool:
    num_fake = int(labels.sum())
    if 0 < num_fake < labels.size:
        return True
    only = 'fake' if num_fake else 'real'
    warnings.warn(f'{metric} is undefined: all {labels.size} samples are {only}; '
                  'reporting NaN', UndefinedMetricWarning, stacklevel=3)
    return False


def binary_accuracy(scores: Sequence[float],
                    labels: Sequence[int],
                    *,
                    threshold: float = 0.5) -> float:
    """Fraction of samples whose decision ``score > threshold`` equals the label.

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample.
        threshold (float): Fake above this score. Defaults to 0.5.

    Returns:
        float: The accuracy in [0, 1].
    """
    scores, labels = _scores_and_labels(scores, labels)
    return float(np.mean((scores > threshold) == (labels == 1)))


def roc_curve(scores: Sequence[float],
              labels: Sequence[int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC points at every distinct score, deciding fake where ``score >= threshold``.

    Returns ``(fpr, tpr, thresholds)`` ordered by decreasing threshold, starting at
    (0, 0) for the threshold +inf. No point is dropped (unlike scikit-learn's default
    ``drop_intermediate=True``), so the EER sees every operating point.
    Both classes must be present.

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``fpr``, ``tpr`` and ``thresholds``,
        each (K + 1,) float64 for K distinct scores.
    """
    scores, labels = _scores_and_labels(scores, labels)
    num_fake = int(labels.sum())
    num_real = labels.size - num_fake
    if num_fake == 0 or num_real == 0:
        raise ValueError('the ROC needs both real and fake samples')
    order = np.argsort(-scores, kind='mergesort')
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # last index of each run of equal scores: a threshold admits a whole tie at once
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), scores.size - 1]
    true_pos = np.cumsum(sorted_labels)[last_of_tie]
    false_pos = last_of_tie + 1 - true_pos
    tpr = np.r_[0.0, true_pos / num_fake]
    fpr = np.r_[0.0, false_pos / num_real]
    thresholds = np.r_[np.inf, sorted_scores[last_of_tie]]
    return fpr, tpr, thresholds


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC (trapezoidal, so a tie counts one half).

    Equals P(score_fake > score_real) + 0.5 P(score_fake == score_real).
    NaN with a warning when only one class is present.

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample.

    Returns:
        float: The AUC in [0, 1], or NaN.
    """
    scores, labels = _scores_and_labels(scores, labels)
    if not _has_both_classes(labels, 'AUC'):
        return float('nan')
    fpr, tpr, _ = roc_curve(scores, labels)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def average_precision(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Average precision of the fake class, step-wise as scikit-learn's
    ``average_precision_score``: sum over the distinct scores t, in decreasing order, of
    (R(t) - R(t_prev)) P(t), where P and R are the precision and recall of deciding fake
    where ``score >= t``. A tie enters at once, so tied samples share one precision; no
    interpolation.

    Equals the mean, over the fake samples, of the precision at each one's score. NaN with
    a warning when no sample is fake (1.0 when every sample is, as scikit-learn).

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample.

    Returns:
        float: The AP in [0, 1], or NaN.
    """
    scores, labels = _scores_and_labels(scores, labels)
    num_fake = int(labels.sum())
    if num_fake == 0:
        warnings.warn(f'AP is undefined: all {labels.size} samples are real; reporting '
                      'NaN', UndefinedMetricWarning, stacklevel=2)
        return float('nan')
    order = np.argsort(-scores, kind='mergesort')
    sorted_scores = scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), scores.size - 1]
    true_pos = np.cumsum(labels[order])[last_of_tie]
    precision = true_pos / (last_of_tie + 1.0)
    recall_gain = np.diff(np.r_[0, true_pos]) / num_fake
    return float(np.sum(recall_gain * precision))


def equal_error_rate(scores: Sequence[float], labels: Sequence[int]) -> float:
    """FPR at the ROC point where |FNR - FPR| is smallest.

    Points are taken in order of decreasing threshold and the first minimum wins.
    NaN with a warning when only one class is present.

    Args:
        scores (Sequence[float]): Fake probabilities, one per sample.
        labels (Sequence[int]): Labels, 1 fake and 0 real, one per sample.

    Returns:
        float: The EER in [0, 1], or NaN.
    """
    scores, labels = _scores_and_labels(scores, labels)
    if not _has_both_classes(labels, 'EER'):
        return float('nan')
    fpr, tpr, _ = roc_curve(scores, labels)
    index = int(np.argmin(np.abs((1.0 - tpr) - fpr)))
    return float(fpr[index])


def aggregate_videos(
    scores: Sequence[float],
    labels: Sequence[int],
    video_keys: Sequence[Hashable],
) -> Tuple[List[Hashable], np.ndarray, np.ndarray]:
    """Video scores as the mean score of their frames.

    Args:
        scores (Sequence[float]): one score per frame.
        labels (Sequence[int]): one label per frame; all frames of a video must agree.
        video_keys (Sequence[Hashable]): one identity per frame. Frames with equal keys
            form a video, so a key must hold everything that tells videos apart (FF++
            reuses a video id under every method: use e.g. ``(method, video_id)``).

    Returns:
        tuple[list[Hashable], np.ndarray, np.ndarray]: ``(keys, video_scores,
        video_labels)`` with keys in order of first appearance; the scores float64 and the
        labels int64, one per video.
    """
    scores, labels = _scores_and_labels(scores, labels)
    if len(video_keys) != scores.size:
        raise ValueError(f'{scores.size} scores but {len(video_keys)} video keys')
    index_of = {}
    frame_video = np.empty(scores.size, dtype=np.int64)
    for frame, key in enumerate(video_keys):
        frame_video[frame] = index_of.setdefault(key, len(index_of))
    keys = list(index_of)
    num_frames = np.bincount(frame_video, minlength=len(keys))
    video_scores = np.bincount(frame_video, weights=scores, minlength=len(keys)) / num_frames
    num_fake = np.bincount(frame_video, weights=labels, minlength=len(keys))
    mixed = np.flatnonzero((num_fake > 0) & (num_fake < num_frames))
    if mixed.size:
        video = keys[mixed[0]]
        name = '/'.join(map(str, video)) if isinstance(video, tuple) else str(video)
        raise ValueError(
            f'video {name!r} has {int(num_fake[mixed[0]])} fake and '
            f'{int(num_frames[mixed[0]] - num_fake[mixed[0]])} real frames; a video '
            f'needs one label ({mixed.size} video(s) disagree). Check the dataset\'s '
            'gt_label and video_id of these frames.')
    video_labels = (num_fake > 0).astype(np.int64)
    return keys, video_scores, video_labels
