"""Pixel-level forgery localisation metrics (Kong et al., TIFS 2022).

Every metric is computed per image from four pixel counts, so a metric can keep
counts instead of masks and average over images at the end. Masks are binarised
with a strict ``> threshold`` (0.5 on 0/1 masks) and pixels whose ground truth is
``ignore_index`` are left out of every count.

All functions accept scalars or arrays of counts (one entry per image) and return
per-image values in [0, 1]; averaging over images and scaling to % is the caller's.
"""
from typing import NamedTuple, Union

import numpy as np

ArrayLike = Union[int, float, np.ndarray]


class MaskCounts(NamedTuple):
    """Pixel counts of one image (or arrays of them, one entry per image).

    Attributes:
        valid (ArrayLike): N, pixels whose ground truth is not ``ignore_index``.
        pred (ArrayLike): |P|, valid pixels predicted forged.
        gt (ArrayLike): |G|, valid pixels forged in the ground truth.
        inter (ArrayLike): |I| = |P and G|.
    """

    valid: ArrayLike
    pred: ArrayLike
    gt: ArrayLike
    inter: ArrayLike

    @property
    def union(self) -> ArrayLike:
        """ArrayLike: |U| = |P or G|."""
        return np.asarray(self.pred) + np.asarray(self.gt) - np.asarray(self.inter)

    @property
    def true_positive(self) -> ArrayLike:
        """ArrayLike: TP = |I|."""
        return np.asarray(self.inter)

    @property
    def true_negative(self) -> ArrayLike:
        """ArrayLike: TN = N - |U|."""
        return np.asarray(self.valid) - self.union

    @classmethod
    def stack(cls, counts: 'list[MaskCounts]') -> 'MaskCounts':
        """One ``MaskCounts`` of int64 arrays from a list of per-image counts.

        Args:
            counts (list[MaskCounts]): The counts of each image.

        Returns:
            MaskCounts: Four int64 arrays, one entry per image.
        """
        table = np.asarray(counts, dtype=np.int64).reshape(-1, 4)
        return cls(*table.T)


def mask_counts(pred: np.ndarray,
                gt: np.ndarray,
                *,
                threshold: float = 0.5,
                ignore_index: int = 255) -> MaskCounts:
    """Counts of one image from its prediction and ground-truth masks.

    Args:
        pred (np.ndarray): predicted mask, any shape, 0/1 labels or probabilities.
        gt (np.ndarray): ground-truth mask of the same shape, 0 pristine, 1 forged,
            ``ignore_index`` ignored.
        threshold (float): a pixel is forged where its value is strictly above this.
            Defaults to 0.5.
        ignore_index (int): ground-truth value of pixels left out. Defaults to 255.

    Returns:
        MaskCounts: The four counts, as ints.
    """
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground-truth '
                         f'shape {gt.shape}')
    valid = gt != ignore_index
    p = (pred > threshold) & valid
    g = (gt > threshold) & valid
    return MaskCounts(int(valid.sum()), int(p.sum()), int(g.sum()), int((p & g).sum()))


def _as_float(counts: MaskCounts) -> MaskCounts:
    return MaskCounts(*(np.asarray(c, dtype=np.float64) for c in counts))


def _check_valid(counts: MaskCounts) -> None:
    if np.any(np.asarray(counts.valid) <= 0):
        raise ValueError('an image has no valid pixel (every ground-truth pixel is '
                         'ignore_index); PBCA and IINC are undefined for it')


def pbca(counts: MaskCounts) -> np.ndarray:
    """Pixel-level binary classification accuracy, (TP + TN) / N. Higher is better.

    Args:
        counts (MaskCounts): Counts of one image, or arrays of them.

    Returns:
        np.ndarray: The PBCA of each image, float64 in [0, 1].
    """
    _check_valid(counts)
    c = _as_float(counts)
    return (c.true_positive + c.true_negative) / c.valid


def iinc(counts: MaskCounts) -> np.ndarray:
    """Inverse intersection non-containment, in [0, 1]. Lower is better.

    IINC = 1 / (3 - |U|/N) * { 0 if P and G are both empty;
                               1 if exactly one of them is empty;
                               2 - |I|/|P| - |I|/|G| otherwise }.

    Args:
        counts (MaskCounts): Counts of one image, or arrays of them.

    Returns:
        np.ndarray: The IINC of each image, float64 in [0, 1].
    """
    _check_valid(counts)
    c = _as_float(counts)
    p_empty = c.pred == 0
    g_empty = c.gt == 0
    # Where a set is empty its ratio is never used; 1 keeps the division finite.
    containment = 2.0 - c.inter / np.where(p_empty, 1.0, c.pred) \
        - c.inter / np.where(g_empty, 1.0, c.gt)
    case = np.where(p_empty & g_empty, 0.0,
                    np.where(p_empty | g_empty, 1.0, containment))
    return case / (3.0 - c.union / c.valid)


def pixel_f1(counts: MaskCounts) -> np.ndarray:
    """F1 of the forged class, 2|I| / (|P| + |G|); NaN where P and G are both empty.

    Args:
        counts (MaskCounts): Counts of one image, or arrays of them.

    Returns:
        np.ndarray: The F1 of each image, float64 in [0, 1] or NaN.
    """
    c = _as_float(counts)
    denominator = c.pred + c.gt
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(denominator > 0, 2.0 * c.inter / denominator, np.nan)


def pixel_iou(counts: MaskCounts) -> np.ndarray:
    """IoU of the forged class, |I| / |U|; NaN where P and G are both empty.

    Args:
        counts (MaskCounts): Counts of one image, or arrays of them.

    Returns:
        np.ndarray: The IoU of each image, float64 in [0, 1] or NaN.
    """
    c = _as_float(counts)
    union = c.union
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(union > 0, c.inter / union, np.nan)
